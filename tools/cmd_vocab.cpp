// `electra vocab --corpus FILE... --size N [--scoring frequency|likelihood] --out vocab.txt`:
// learn a WordPiece vocabulary.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "data/vocab.hpp"
#include "data/vocab_trainer.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

struct VocabOptions {
  std::vector<std::string> corpus;
  std::size_t size = 30522;
  std::string scoring = "frequency";
  std::string out;
};

int run_vocab(const VocabOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  VocabTrainerSettings settings;
  settings.vocab_size = options.size;
  settings.scoring = parse_vocab_scoring(options.scoring);
  VocabTrainer trainer(settings);
  for (const std::string& path : options.corpus) trainer.add_file(path);
  VocabTrainerReport report;
  // Loading the result back checks that the tokenizer accepts it before we report success.
  const Vocab vocab = Vocab::from_tokens(trainer.train(&report), options.out);
  vocab.save(options.out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "electra vocab: %lld words (%lld distinct), %lld characters, %lld %s merges -> "
      "%d tokens in %s (%.1f s)\n",
      static_cast<long long>(report.words), static_cast<long long>(report.distinct_words),
      static_cast<long long>(report.characters), static_cast<long long>(report.merges),
      vocab_scoring_name(settings.scoring), vocab.size(), options.out.c_str(), seconds);
  if (report.invalid_utf8 > 0)
    std::printf("electra vocab: dropped %lld malformed UTF-8 sequences\n",
                static_cast<long long>(report.invalid_utf8));
  return 0;
}

const CommandRegistration vocab_command{Command{
    "vocab", "learn a WordPiece vocabulary (BERT vocab.txt) from text files",
    [](CLI::App& app) -> std::function<int()> {
      auto options = std::make_shared<VocabOptions>();
      app.add_option("--corpus", options->corpus, "UTF-8 text files")->required()->expected(1, -1);
      app.add_option("--size", options->size, "tokens in the vocabulary, specials included")
          ->check(positive_integer());
      app.add_option("--scoring", options->scoring,
                     "merge the most frequent pair (frequency: common words stay whole) or the "
                     "best count(ab)/(count(a)count(b)) (likelihood: Google's WordPiece)")
          ->check(CLI::IsMember({"frequency", "likelihood"}));
      app.add_option("--out", options->out, "where to write vocab.txt")->required();
      return [options] { return run_vocab(*options); };
    }}};

}  // namespace
}  // namespace electra::cli
