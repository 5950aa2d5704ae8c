#pragma once
// Fine-tuning a pre-trained ELECTRA discriminator on a labelled TSV task (ELECTRA's recipe):
//   pre-trained body (checkpoint, run directory or HF directory) + a fresh classification head
//   → for each epoch: shuffled mini-batches (dynamic padding) → cross-entropy (or MSE for a
//     regression task) → AdamW with layer-wise learning-rate decay
//     (models/finetuning/classifier.hpp), linear warm-up over warmup_fraction of the updates then
//     linear decay to 0
//   → after each epoch: dev metrics (accuracy/F1/MCC, or MSE/Pearson/Spearman) logged to
//     <out>/metrics.jsonl; when the chosen dev metric improves, <out> receives the model as an
//     HF ElectraForSequenceClassification directory (model.safetensors, config.json with the
//     labels and the task under "electra_finetune", vocab.txt) and dev_predictions.tsv;
//     after `patience` epochs without improvement training stops early.
// Everything random (head init, data order, dropout) is a pure function of the seed.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "data/tokenizer.hpp"
#include "data/tsv.hpp"
#include "models/finetuning/classifier.hpp"
#include "models/training/optimizer.hpp"

namespace electra {

// What the examples are and how to read and encode them; stored in the model's config.json.
struct FinetuneTask {
  std::string input = "single";  // "single" sentence or sentence "pair"
  bool regression = false;       // true: one real-valued output, MSE (STS-B)
  TsvColumns columns = TsvColumns::defaults_for("single");
  std::vector<std::string> labels;  // class names in id order (classification)
  std::int64_t max_seq_length = 128;

  std::int64_t num_outputs() const {
    return regression ? 1 : static_cast<std::int64_t>(labels.size());
  }
};
nlohmann::ordered_json to_json(const FinetuneTask& task);
FinetuneTask finetune_task_from_json(const nlohmann::json& json, const std::string& source);

// Examples tokenised and padded to the longest one: row i of [count, seq_len].
struct EncodedExamples {
  std::int64_t count = 0, seq_len = 0;
  std::vector<std::int32_t> input_ids, token_type_ids, attention_mask;
  std::vector<std::int32_t> label_ids;  // classification
  std::vector<double> targets;          // regression
};
// Unknown labels (or non-numeric regression targets) are errors naming `command` ("finetune" or
// "evaluate"), `source` and the example.
EncodedExamples encode_examples(const std::vector<LabelledExample>& examples,
                                const Tokenizer& tokenizer, const FinetuneTask& task,
                                const std::string& source, bool require_labels = true,
                                const std::string& command = "finetune");

// Rows order[begin, end) as model inputs, padded only to their own longest sequence (trailing
// padding changes nothing with absolute positions, and short texts then cost little):
// i32 [B, L'] ids, token types and mask; labels i32 [B] or targets f32 [B] when asked for.
struct FinetuneBatch {
  Tensor input_ids, token_type_ids, attention_mask, labels, targets;
};
FinetuneBatch make_finetune_batch(const EncodedExamples& data,
                                  const std::vector<std::int64_t>& order, std::size_t begin,
                                  std::size_t end, bool with_labels);

// The config.json key holding the FinetuneTask of a fine-tuned model.
inline constexpr const char* finetune_task_key = "electra_finetune";

// The encoder a fine-tuning run starts from: config, `electra.*` tensors by HF name, vocabulary.
struct PretrainedEncoder {
  ModelConfig config;  // the encoder's sizes as the discriminator sizes
  std::map<std::string, Tensor> tensors;
  std::string vocab_path;  // empty when the source records none
  std::string description;
};
// `path`: a pre-training checkpoint or run directory (the discriminator, or an `mlm` run's
// masked-LM encoder), an HF directory, or an `electra export` directory (its discriminator/).
// Errors (as `finetune: --init …`) say which of these `path` looks like and what it lacks;
// non-finite weights are refused naming the tensor.
PretrainedEncoder load_pretrained_encoder(const std::filesystem::path& path);
// Copies every `electra.*` parameter of `store` from `encoder` (shapes checked first).
void load_encoder_weights(const PretrainedEncoder& encoder, ParameterStore& store);

struct FinetuneOptions {
  std::string init;  // see load_pretrained_encoder
  std::string train_path, dev_path, out_dir;
  std::string vocab_path;  // overrides the vocabulary the source records
  FinetuneTask task;       // labels empty: the train file's distinct labels, sorted
  std::int64_t epochs = 3, batch_size = 32, eval_batch_size = 64;
  double learning_rate = 1e-4, layer_decay = 0.8, warmup_fraction = 0.1, weight_decay = 0.01;
  std::int64_t patience = 0;  // epochs without dev improvement before stopping; 0: never stop early
  std::string metric;         // dev metric that picks the best epoch; empty: accuracy / pearson
  std::uint64_t seed = 42;
  std::int64_t max_train_examples = 0;  // 0: all; else a fixed random subset of that size
  bool overwrite = false;  // false: refuse an out_dir holding any file this run would write
};

struct EpochReport {
  std::int64_t epoch = 0, step = 0;
  double train_loss = 0, learning_rate = 0, seconds = 0;
  nlohmann::ordered_json dev;  // metrics
  bool improved = false;
};
struct FinetuneProgress {
  std::int64_t step = 0, total_steps = 0, epoch = 0;
  double loss = 0;
};
struct FinetuneResult {
  std::vector<EpochReport> epochs;
  std::int64_t best_epoch = 0;
  nlohmann::ordered_json best_dev;
  bool stopped_early = false;
  std::string metric;
  std::int64_t train_examples = 0, dev_examples = 0, parameters = 0;
  std::string encoder_description;
};

// task.max_seq_length must lie between 3 (5 for pairs) and the model's max_position_embeddings.
// A non-finite dev logit stops the run with an error naming the epoch (see evaluate_classifier).
FinetuneResult run_finetune(const FinetuneOptions& options,
                            const std::function<void(const FinetuneProgress&)>& on_step = {},
                            const std::function<void(const EpochReport&)>& on_epoch = {});

// A fine-tuned model directory (run_finetune's output) ready for evaluation. Errors start with
// "evaluate:"; NaN or infinite weights are refused naming the tensor.
struct FinetunedModel {
  FinetuneTask task;
  std::unique_ptr<ParameterStore> parameters;
  std::unique_ptr<SequenceClassifier> classifier;
  std::unique_ptr<Tokenizer> tokenizer;
};
FinetunedModel load_finetuned_model(const std::filesystem::path& directory);

struct Evaluation {
  nlohmann::ordered_json metrics;                  // empty when the data has no labels
  std::vector<double> predictions;                 // class id, or the predicted value
  std::vector<std::vector<double>> probabilities;  // softmax per class (classification)
};
// A non-finite logit (NaN weights, an overflow) is an error starting with `context` (e.g.
// "evaluate: runs/spam on dev.tsv") and naming the example, never a metric computed from it.
Evaluation evaluate_classifier(const SequenceClassifier& classifier, const FinetuneTask& task,
                               const EncodedExamples& data, std::int64_t batch_size,
                               bool has_labels = true, const std::string& context = "evaluate");
// index, prediction, gold (when known), then one probability column per class.
void write_predictions(const std::string& path, const FinetuneTask& task,
                       const EncodedExamples& data, const Evaluation& evaluation,
                       bool has_labels = true, const std::string& command = "finetune");

}  // namespace electra
