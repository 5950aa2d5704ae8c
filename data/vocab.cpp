// vocab.txt loading and allocation-free token lookup (open addressing over ids).
#include "data/vocab.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.hpp"

namespace electra {
namespace {

constexpr std::string_view kContinuationPrefix = "##";

// A fast 64-bit hash of short strings: 8 bytes at a time, multiply and fold.
std::uint64_t hash_bytes(std::string_view text) {
  constexpr std::uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;
  std::uint64_t hash = 0x2545F4914F6CDD1Dull ^ (text.size() * kMultiplier);
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, text.data() + i, 8);
    hash = (hash ^ chunk) * kMultiplier;
    hash ^= hash >> 29;
  }
  if (i < text.size()) {
    std::uint64_t chunk = 0;
    std::memcpy(&chunk, text.data() + i, text.size() - i);
    hash = (hash ^ chunk) * kMultiplier;
    hash ^= hash >> 29;
  }
  hash *= kMultiplier;
  return hash ^ (hash >> 32);
}

bool is_continuation(std::string_view token) { return token.starts_with(kContinuationPrefix); }

// "[PAD]", "[unused7]": bracketed names the basic tokenizer can never produce (it splits '[' off
// as punctuation), so a vocabulary of nothing else would turn every word into [UNK].
bool is_bracketed_name(std::string_view token) {
  return token.size() > 2 && token.front() == '[' && token.back() == ']';
}

}  // namespace

Vocab Vocab::from_file(const std::string& path) {
  std::error_code error;
  check(std::filesystem::is_regular_file(path, error), "vocab: '", path,
        "' does not exist or is not a regular file");
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "vocab: cannot open '", path, "'");
  std::ostringstream content;
  content << in.rdbuf();
  check(!in.bad(), "vocab: cannot read '", path, "'");
  const std::string text = content.str();
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    tokens.emplace_back(line);
    start = end + 1;
  }
  return from_tokens(std::move(tokens), path);
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens, const std::string& source) {
  check(!tokens.empty(), "vocab: '", source, "' has no tokens");
  check(tokens.size() < (1u << 30), "vocab: '", source, "' has too many tokens (", tokens.size(),
        ")");
  Vocab vocab;
  vocab.tokens_ = std::move(tokens);
  vocab.build(source);
  return vocab;
}

void Vocab::build(const std::string& source) {
  std::size_t capacity = 16;
  while (capacity < 2 * tokens_.size()) capacity *= 2;
  whole_.slots.assign(capacity, Slot{});
  whole_.mask = capacity - 1;
  continuation_.slots.assign(capacity, Slot{});
  continuation_.mask = capacity - 1;
  std::size_t ordinary_tokens = 0;
  for (std::int32_t id = 0; id < size(); ++id) {
    // A repeated token would shift ids silently (a dict keeps the last line), so it is refused.
    const std::int32_t earlier = insert(whole_, id, false);
    check(earlier < 0, "vocab: '", source, "' lists token '", tokens_[id], "' twice, on lines ",
          earlier + 1, " and ", id + 1, " (ids would shift; remove one)");
    const std::string& token = tokens_[id];
    if (is_continuation(token)) {
      insert(continuation_, id, true);
      longest_piece_bytes_ = std::max(longest_piece_bytes_, token.size() - 2);
    } else {
      longest_piece_bytes_ = std::max(longest_piece_bytes_, token.size());
    }
    ordinary_tokens += is_bracketed_name(token) ? 0 : 1;
  }
  check(ordinary_tokens > 0, "vocab: '", source, "' has only special tokens ([PAD], [UNK], ...) ",
        "and no ordinary token: every word would become [UNK]");
  const auto special = [&](const char* name) {
    const auto id = find(name);
    check(id.has_value(), "vocab: '", source, "' has no special token ", name);
    return *id;
  };
  special_.pad = special("[PAD]");
  special_.unk = special("[UNK]");
  special_.cls = special("[CLS]");
  special_.sep = special("[SEP]");
  special_.mask = special("[MASK]");
}

std::string_view Vocab::key_of(std::int32_t id, bool continuation) const {
  std::string_view token = tokens_[static_cast<std::size_t>(id)];
  if (continuation) token.remove_prefix(kContinuationPrefix.size());
  return token;
}

std::int32_t Vocab::insert(Table& table, std::int32_t id, bool continuation) {
  const std::string_view key = key_of(id, continuation);
  const std::uint64_t hash = hash_bytes(key);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::uint64_t slot = hash & table.mask;; slot = (slot + 1) & table.mask) {
    Slot& occupant = table.slots[slot];
    if (occupant.id < 0 || (occupant.tag == tag && key_of(occupant.id, continuation) == key)) {
      const std::int32_t earlier = occupant.id;
      occupant = {id, tag};
      return earlier;
    }
  }
}

std::int32_t Vocab::lookup(const Table& table, std::string_view key, bool continuation) const {
  const std::uint64_t hash = hash_bytes(key);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::uint64_t slot = hash & table.mask;; slot = (slot + 1) & table.mask) {
    const Slot occupant = table.slots[slot];
    if (occupant.id < 0) return -1;
    if (occupant.tag == tag && key_of(occupant.id, continuation) == key) return occupant.id;
  }
}

const std::string& Vocab::token(std::int32_t id) const {
  check(id >= 0 && id < size(), "vocab: id ", id, " is outside [0, ", size(), ")");
  return tokens_[static_cast<std::size_t>(id)];
}

std::optional<std::int32_t> Vocab::find(std::string_view token) const {
  const std::int32_t id = lookup(whole_, token, false);
  if (id < 0) return std::nullopt;
  return id;
}

std::int32_t Vocab::find_piece(std::string_view text, bool continuation) const {
  return continuation ? lookup(continuation_, text, true) : lookup(whole_, text, false);
}

void Vocab::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  check(static_cast<bool>(out), "vocab: cannot write '", path, "'");
  for (const std::string& token : tokens_) {
    check(token.find('\n') == std::string::npos, "vocab: token with a newline cannot be saved to '",
          path, "'");
    out << token << '\n';
  }
  out.flush();
  check(static_cast<bool>(out), "vocab: writing '", path, "' failed");
}

}  // namespace electra
