// `electra tokenize --vocab vocab.txt [--tokens]`: stdin → one line of ids (or word pieces) per
// input line. Lines end at '\n' only; a '\r' stays in the line, where BERT treats it as a space.
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "data/tokenizer.hpp"
#include "engine/error.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;

void write_all(const std::string& text) {
  check(std::fwrite(text.data(), 1, text.size(), stdout) == text.size(),
        "tokenize: writing to stdout failed");
}

void append_line(const Tokenizer& tokenizer, std::string_view line, bool as_tokens,
                 std::vector<std::int32_t>& ids, TokenizeStats& stats, std::string& out) {
  ids.clear();
  tokenizer.encode_append(line, ids, &stats);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(' ');
    if (as_tokens) {
      out.append(tokenizer.vocab().token(ids[i]));
    } else {
      char digits[16];
      const auto result = std::to_chars(digits, digits + sizeof digits, ids[i]);
      out.append(digits, result.ptr);
    }
  }
  out.push_back('\n');
}

int run_tokenize(const std::string& vocab_path, bool as_tokens) {
  const Tokenizer tokenizer = Tokenizer::from_file(vocab_path);
  std::vector<std::int32_t> ids;
  TokenizeStats stats;
  std::string pending;  // input not yet ended by '\n'
  std::string out;
  std::vector<char> chunk(kChunkBytes);
  for (;;) {
    const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), stdin);
    if (got == 0) break;
    pending.append(chunk.data(), got);
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1)
      append_line(tokenizer, std::string_view(pending).substr(start, end - start), as_tokens, ids,
                  stats, out);
    pending.erase(0, start);
    if (out.size() >= kChunkBytes) {
      write_all(out);
      out.clear();
    }
  }
  check(!std::ferror(stdin), "tokenize: reading stdin failed");
  if (!pending.empty()) append_line(tokenizer, pending, as_tokens, ids, stats, out);
  write_all(out);
  check(std::fflush(stdout) == 0, "tokenize: writing to stdout failed");
  if (stats.invalid_utf8 > 0)
    std::fprintf(stderr, "electra tokenize: dropped %lld malformed UTF-8 sequences\n",
                 static_cast<long long>(stats.invalid_utf8));
  return 0;
}

const CommandRegistration tokenize_command{
    Command{"tokenize", "print the WordPiece ids (or pieces) of each stdin line",
            [](CLI::App& app) -> std::function<int()> {
              auto vocab = std::make_shared<std::string>();
              auto as_tokens = std::make_shared<bool>(false);
              app.add_option("--vocab", *vocab, "BERT vocab.txt")->required();
              app.add_flag("--tokens", *as_tokens, "print word pieces instead of ids");
              return [vocab, as_tokens] { return run_tokenize(*vocab, *as_tokens); };
            }}};

}  // namespace
}  // namespace electra::cli
