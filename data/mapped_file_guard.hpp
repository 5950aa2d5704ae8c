#pragma once
// A memory-mapped file that shrinks under its reader (another process truncates or rewrites it
// in place) makes the next read of a vanished page raise SIGBUS, which kills the process without
// a word. Every mapped range is registered here with its file name; a SIGBUS handler
// (SA_SIGINFO) finds the range holding the faulting address, writes one line with write(2)
//   electra: shard FILE was truncated or replaced while training (SIGBUS reading byte N); ...
// and _exits with status 1. A SIGBUS elsewhere goes to the handler installed before ours (or
// the default action). Registration is thread-safe; the handler only reads lock-free slots.
#include <cstddef>
#include <string>

namespace electra {

// Exit status of a process stopped by a SIGBUS in a registered mapping.
constexpr int mapped_file_sigbus_exit_code = 1;

// Registers [begin, begin + bytes) as a mapping of `path` and installs the handler (once).
// Returns a slot to pass to unregister_mapped_file, or -1 when all slots are taken (a SIGBUS in
// that mapping then prints only the generic bus-error line before the default action).
int register_mapped_file(const void* begin, std::size_t bytes, const std::string& path);
void unregister_mapped_file(int slot);

}  // namespace electra
