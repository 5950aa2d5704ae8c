// `electra inspect`: one sentence through a pre-trained ELECTRA, token by token — which tokens
// were masked, what the generator put there, and how sure the discriminator is that each token
// was replaced. Coloured on a terminal (ANSI), plain text otherwise. With --data instead of
// --text: the discriminator's AUCs pooled over many corpus batches (one logged batch is too few
// within-id pairs to compare checkpoints), optionally with the generator sampling at another
// temperature than in training.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/batch_iterator.hpp"
#include "data/masking.hpp"
#include "data/sha256.hpp"
#include "data/shards.hpp"
#include "data/tokenizer.hpp"
#include "engine/error.hpp"
#include "models/training/context_metrics.hpp"
#include "models/training/metrics.hpp"
#include "models/training/pretrained_model.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {
namespace fs = std::filesystem;

struct InspectFlags {
  std::string checkpoint, vocab, text, data;
  std::uint64_t seed = 1;
  std::string color = "auto";
  std::int64_t batches = 32;
  double temperature = 0;  // 0: the checkpoint's own schedule
};

// Every token of `batches` corpus batches (the run's batch size, drawn in an order keyed by
// --seed), masked, sampled and judged as in training but without dropout, then one AUC over all
// of them: plain, within token id, and without [CLS]/[SEP].
int run_inspect_corpus(const InspectFlags& flags) {
  check(flags.batches >= 1, "inspect: --batches ", flags.batches, ": must be at least 1");
  check(flags.temperature >= 0, "inspect: --temperature ", flags.temperature,
        ": must be positive (0: the checkpoint's own)");
  nlohmann::json overrides = nullptr;
  if (flags.temperature > 0)
    overrides = {{"temperature", flags.temperature}, {"temperature_ramp_updates", 0}};
  const PretrainedModel loaded = load_pretrained_model(flags.checkpoint, overrides);
  const ModelConfig& config = loaded.config;
  BatchIterator batches(flags.data, flags.seed);
  check(batches.seq_len() == config.seq_len, "inspect: ", flags.data, " holds sequences of ",
        batches.seq_len(), " tokens but the model was trained on ", config.seq_len);
  const SpecialTokens special = read_shard_special_tokens(flags.data);
  std::vector<double> scores, labels, ordinary_scores, ordinary_labels;
  std::vector<std::int32_t> ids;
  for (std::int64_t b = 0; b < flags.batches; ++b) {
    const MaskedBatch batch = mask_batch(batches.next(config.batch_size), special,
                                         config.masking_settings(flags.seed), b);
    const InspectOutput out = loaded.model->inspect(batch, flags.seed + b);
    const std::int32_t* corrupted = out.corrupted_ids.data<std::int32_t>();
    const std::int32_t* attended = batch.original.attention_mask.data<std::int32_t>();
    const float* replaced = out.disc_labels.data<float>();
    const float* probability = out.replaced_probability.data<float>();
    for (std::int64_t t = 0; t < out.corrupted_ids.numel(); ++t) {
      if (attended[t] == 0) continue;
      scores.push_back(probability[t]);
      labels.push_back(replaced[t]);
      ids.push_back(corrupted[t]);
      if (corrupted[t] != special.cls && corrupted[t] != special.sep) {
        ordinary_scores.push_back(probability[t]);
        ordinary_labels.push_back(replaced[t]);
      }
    }
  }
  const double replaced_count = std::count(labels.begin(), labels.end(), 1.0);
  // How many replaced tokens the within-id AUC rests on: with a hot generator few replacements
  // share an id with an original, and the AUC is noisy.
  std::unordered_map<std::int32_t, std::pair<double, double>> counts_of_id;
  for (std::size_t i = 0; i < ids.size(); ++i)
    (labels[i] > 0.5 ? counts_of_id[ids[i]].first : counts_of_id[ids[i]].second) += 1;
  double paired_replacements = 0;  // replaced tokens whose id also occurs as an original
  for (const auto& [id, counts] : counts_of_id)
    if (counts.second > 0) paired_replacements += counts.first;
  std::printf("electra inspect %s (update %lld) on %lld batches of %s (seed %llu)\n",
              loaded.checkpoint_dir.string().c_str(), static_cast<long long>(loaded.state.step),
              static_cast<long long>(flags.batches), flags.data.c_str(),
              static_cast<unsigned long long>(flags.seed));
  std::printf("sampling temperature %g%s; %zu tokens, %.0f replaced (%.4f)\n", config.temperature,
              flags.temperature > 0 ? " (--temperature)" : " (as trained)", scores.size(),
              replaced_count, replaced_count / static_cast<double>(scores.size()));
  std::printf(
      "disc AUC %.4f, within token id %.4f (%.0f replaced tokens share an id with an original), "
      "without [CLS]/[SEP] %.4f\n",
      roc_auc(scores, labels), context_auc(scores, labels, ids), paired_replacements,
      roc_auc(ordinary_scores, ordinary_labels));
  return 0;
}

// --vocab, or the vocabulary recorded by `electra pretrain` (checked against the shards' SHA-256).
std::string resolve_vocab(const InspectFlags& flags, const PretrainedModel& loaded) {
  if (!flags.vocab.empty()) return flags.vocab;
  const nlohmann::json& position = loaded.state.data_position;
  const std::string recorded =
      position.is_object() ? position.value("vocab_path", std::string()) : "";
  check(!recorded.empty(), "inspect: --vocab is required (", loaded.checkpoint_dir.string(),
        " records no vocabulary)");
  check(fs::is_regular_file(recorded), "inspect: the recorded vocabulary ", recorded,
        " is gone; pass --vocab");
  const nlohmann::json& data = loaded.state.config.value("data", nlohmann::json::object());
  if (data.contains("vocab_sha256"))
    check(sha256_file(recorded) == data["vocab_sha256"].get<std::string>(), "inspect: ", recorded,
          " has changed since training (sha256 differs); pass --vocab");
  return recorded;
}

std::string pad_right(const std::string& text, std::size_t width) {
  // Width in code points, so accented tokens line up.
  std::size_t shown = 0;
  for (unsigned char c : text) shown += (c & 0xC0) != 0x80;
  return text + std::string(width > shown ? width - shown : 0, ' ');
}

std::string bar_of(double probability, int width) {
  const int filled = static_cast<int>(probability * width + 0.5);
  std::string bar;
  for (int i = 0; i < width; ++i) bar += i < filled ? "#" : ".";
  return bar;
}

// One sentence has too few within-id pairs for an AUC; the checkpoint's last logged batch says
// whether the discriminator judges context or only spots rare ids.
void print_logged_auc(const nlohmann::json& checkpoint_metrics) {
  const nlohmann::json logged = checkpoint_metrics.value("last_logged", nlohmann::json::object());
  auto number = [&](const char* key) {
    return logged.contains(key) && logged[key].is_number() ? logged[key].get<double>()
                                                           : std::nan("");
  };
  if (!logged.contains("step") || !logged["step"].is_number_integer() ||
      std::isnan(number("disc_auc")))
    return;
  std::printf(
      "at the checkpoint's last logged update (%lld): disc AUC %.3f, within token id %.3f "
      "(0.5: not judging context yet; n/a in logs older than this metric)\n\n",
      static_cast<long long>(logged["step"].get<std::int64_t>()), number("disc_auc"),
      number("disc_auc_context"));
}

int run_inspect(const InspectFlags& flags) {
  const PretrainedModel loaded = load_pretrained_model(flags.checkpoint);
  const ModelConfig& config = loaded.config;
  const std::string vocab_path = resolve_vocab(flags, loaded);
  const Tokenizer tokenizer = Tokenizer::from_file(vocab_path);
  check(tokenizer.vocab().size() == config.vocab_size, "inspect: ", vocab_path, " has ",
        tokenizer.vocab().size(), " tokens but the model was trained with ", config.vocab_size);
  check(!flags.text.empty(), "inspect: --text is empty");

  const Encoding encoding = tokenizer.encode_pair(flags.text, std::nullopt,
                                                  static_cast<std::size_t>(config.seq_len), true);
  const std::int64_t length = config.seq_len;
  PackedBatch packed;
  packed.input_ids = Tensor::from_vector(encoding.input_ids, {1, length});
  packed.token_type_ids = Tensor::from_vector(encoding.token_type_ids, {1, length});
  packed.attention_mask = Tensor::from_vector(encoding.attention_mask, {1, length});
  const MaskedBatch batch =
      mask_batch(packed, tokenizer.special_tokens(), config.masking_settings(flags.seed), 0);
  const InspectOutput out = loaded.model->inspect(batch, flags.seed);

  const bool color = flags.color == "always" || (flags.color == "auto" && isatty(fileno(stdout)));
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  const char* yellow = color ? "\033[33m" : "";
  const char* red = color ? "\033[1;31m" : "";
  const char* green = color ? "\033[32m" : "";

  const Vocab& vocab = tokenizer.vocab();
  const std::int32_t* original = batch.original.input_ids.data<std::int32_t>();
  const std::int32_t* masked_input = batch.masked_input_ids.data<std::int32_t>();
  const std::int32_t* corrupted = out.corrupted_ids.data<std::int32_t>();
  const float* replaced = out.disc_labels.data<float>();
  const float* probability = out.replaced_probability.data<float>();
  const std::int64_t tokens =
      std::count(encoding.attention_mask.begin(), encoding.attention_mask.end(), 1);
  // Which positions were chosen for prediction (masked or kept), from the masked batch.
  std::vector<bool> chosen(length, false);
  for (std::int64_t p = 0; p < batch.masked_positions.dim(1); ++p)
    if (batch.masked_weights.data<float>()[p] > 0)
      chosen[batch.masked_positions.data<std::int32_t>()[p]] = true;

  std::size_t token_width = 12;  // "generator in" fits
  for (std::int64_t t = 0; t < tokens; ++t)
    token_width =
        std::max({token_width, vocab.token(original[t]).size(), vocab.token(corrupted[t]).size()});
  token_width = std::min<std::size_t>(token_width + 2, 24);  // longer tokens push their row only

  std::int64_t masked_count = 0, replaced_count = 0, right = 0;
  for (std::int64_t t = 0; t < tokens; ++t) {
    masked_count += chosen[t];
    replaced_count += replaced[t] > 0.5f;
    right += (probability[t] > 0.5f) == (replaced[t] > 0.5f);
  }
  std::printf("%selectra inspect%s %s (update %lld), masking seed %llu\n", bold, reset,
              loaded.checkpoint_dir.string().c_str(), static_cast<long long>(loaded.state.step),
              static_cast<unsigned long long>(flags.seed));
  std::printf(
      "%lld tokens, %lld chosen for prediction, %lld replaced by the generator; the "
      "discriminator is right (P > 0.5 = replaced) on %lld of %lld\n\n",
      static_cast<long long>(tokens), static_cast<long long>(masked_count),
      static_cast<long long>(replaced_count), static_cast<long long>(right),
      static_cast<long long>(tokens));
  print_logged_auc(loaded.state.metrics);
  std::printf("%s  pos  %s%s%s%s  P(replaced)%s\n", bold,
              pad_right("original", token_width).c_str(),
              pad_right("generator in", token_width).c_str(),
              pad_right("generator out", token_width).c_str(),
              pad_right("disc. sees", token_width).c_str(), reset);
  for (std::int64_t t = 0; t < tokens; ++t) {
    const bool was_replaced = replaced[t] > 0.5f;
    const std::string generator_in = chosen[t] ? vocab.token(masked_input[t]) : "";
    const std::string generator_out = chosen[t] ? vocab.token(corrupted[t]) : "";
    const char* row_color = was_replaced ? red : chosen[t] ? yellow : "";
    const bool disc_right = (probability[t] > 0.5f) == was_replaced;
    std::printf("%s%5lld  %s%s%s%s%s", row_color, static_cast<long long>(t),
                pad_right(vocab.token(original[t]), token_width).c_str(),
                pad_right(generator_in, token_width).c_str(),
                pad_right(generator_out, token_width).c_str(),
                pad_right(vocab.token(corrupted[t]), token_width).c_str(), reset);
    std::printf("  %5.3f %s%s%s %s\n", probability[t], disc_right ? green : red,
                bar_of(probability[t], 20).c_str(), reset,
                was_replaced ? (disc_right ? "replaced, caught" : "replaced, MISSED")
                             : (disc_right ? "" : "original, false alarm"));
  }
  std::printf(
      "\n%sgenerator in%s: [MASK] or the kept token at the positions chosen for prediction; "
      "%sgenerator out%s: its sample there; P(replaced): the discriminator's sigmoid.\n",
      bold, reset, bold, reset);
  return 0;
}

const CommandRegistration inspect_command{Command{
    "inspect",
    "show masking, generator samples and discriminator P(replaced) for a sentence (--text), or "
    "the discriminator's AUCs over corpus batches (--data)",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<InspectFlags>();
      app.add_option("--checkpoint", flags->checkpoint,
                     "checkpoint directory (or a run directory: its latest)")
          ->required();
      app.add_option("--vocab", flags->vocab,
                     "vocab.txt (default: the one recorded at training time)");
      auto* text = app.add_option("--text", flags->text, "the sentence to inspect");
      auto* data = app.add_option("--data", flags->data,
                                  "shard directory: pool the AUCs over --batches of its batches");
      text->excludes(data);
      app.add_option("--batches", flags->batches, "batches pooled with --data")
          ->capture_default_str();
      app.add_option("--temperature", flags->temperature,
                     "with --data: the generator samples at this temperature (0: as trained)")
          ->capture_default_str();
      app.add_option("--seed", flags->seed, "seed of the masking and the generator's sampling")
          ->capture_default_str();
      app.add_option("--color", flags->color, "auto, always or never")
          ->check(CLI::IsMember({"auto", "always", "never"}))
          ->capture_default_str();
      return [flags] {
        check(!flags->text.empty() || !flags->data.empty(),
              "inspect: give --text (one sentence) or --data (corpus batches)");
        return flags->data.empty() ? run_inspect(*flags) : run_inspect_corpus(*flags);
      };
    }}};

}  // namespace
}  // namespace electra::cli
