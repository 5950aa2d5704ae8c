// SIGBUS in a memory-mapped shard → one line naming the file, then _exit. Everything the handler
// touches is a fixed array of slots with atomic states: no locks, no allocation, only write(2).
#include "data/mapped_file_guard.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace electra {
namespace {

enum SlotState : int { slot_free = 0, slot_filling = 1, slot_live = 2 };

struct MappedRange {
  std::atomic<int> state{slot_free};
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  char path[512] = {};
};

// A run maps one file per shard; 1024 shards of 65 536 sequences is far beyond any corpus here.
constexpr int slot_count = 1024;
MappedRange slots[slot_count];
static_assert(std::atomic<int>::is_always_lock_free, "the SIGBUS handler needs lock-free atomics");

struct sigaction previous_action {};
std::mutex install_mutex;

// Async-signal-safe output: a fixed buffer filled by hand, then one write(2).
struct Line {
  char text[1400];
  std::size_t size = 0;
  void add(const char* part) {
    for (; *part != '\0' && size < sizeof(text) - 1; ++part) text[size++] = *part;
  }
  void add_number(std::uint64_t value, int base = 10) {
    char digits[24];
    int count = 0;
    do {
      const auto digit = static_cast<int>(value % static_cast<std::uint64_t>(base));
      digits[count++] = static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10);
      value /= static_cast<std::uint64_t>(base);
    } while (value != 0);
    while (count > 0 && size < sizeof(text) - 1) text[size++] = digits[--count];
  }
  void write_to_stderr() {
    text[size++] = '\n';
    std::size_t done = 0;
    while (done < size) {
      const ssize_t wrote = ::write(STDERR_FILENO, text + done, size - done);
      if (wrote <= 0) break;
      done += static_cast<std::size_t>(wrote);
    }
  }
};

void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (MappedRange& range : slots) {
    if (range.state.load(std::memory_order_acquire) != slot_live) continue;
    if (address < range.begin || address >= range.end) continue;
    Line line;
    line.add("electra: shard ");
    line.add(range.path);
    line.add(" was truncated or replaced while training (SIGBUS reading byte ");
    line.add_number(address - range.begin);
    line.add("); re-run `electra prepare` (or restore the file), then continue with --resume");
    line.write_to_stderr();
    ::_exit(mapped_file_sigbus_exit_code);
  }
  // Not ours: whoever handled SIGBUS before (a sanitizer, a debugger) gets it, else the default.
  if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
    previous_action.sa_sigaction(signal_number, info, context);
    return;
  }
  if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN &&
      previous_action.sa_handler != nullptr) {
    previous_action.sa_handler(signal_number);
    return;
  }
  Line line;
  line.add("electra: bus error (SIGBUS) at address 0x");
  line.add_number(address, 16);
  line.add(", outside every mapped shard");
  line.write_to_stderr();
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigemptyset(&default_action.sa_mask);
  ::sigaction(SIGBUS, &default_action, nullptr);
  ::raise(SIGBUS);  // delivered on return (a fault also re-executes and dies by the default)
}

// Installs the handler unless it is the one in place. Checked on every registration because
// whoever installed theirs after ours (a test framework restoring its saved handlers) removed it.
void ensure_handler_installed() {
  const std::lock_guard<std::mutex> lock(install_mutex);
  struct sigaction current {};
  ::sigaction(SIGBUS, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_sigbus) return;
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, &previous_action);
}

}  // namespace

int register_mapped_file(const void* begin, std::size_t bytes, const std::string& path) {
  ensure_handler_installed();
  for (int slot = 0; slot < slot_count; ++slot) {
    int expected = slot_free;
    if (!slots[slot].state.compare_exchange_strong(expected, slot_filling,
                                                   std::memory_order_acquire)) {
      continue;
    }
    MappedRange& range = slots[slot];
    range.begin = reinterpret_cast<std::uintptr_t>(begin);
    range.end = range.begin + bytes;
    const std::size_t length = std::min(path.size(), sizeof(range.path) - 1);
    std::memcpy(range.path, path.data(), length);
    range.path[length] = '\0';
    range.state.store(slot_live, std::memory_order_release);
    return slot;
  }
  return -1;
}

void unregister_mapped_file(int slot) {
  if (slot >= 0 && slot < slot_count) slots[slot].state.store(slot_free, std::memory_order_release);
}

}  // namespace electra
