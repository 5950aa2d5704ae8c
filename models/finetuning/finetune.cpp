// Fine-tuning: see finetune.hpp.
#include "models/finetuning/finetune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/finetuning/classification_metrics.hpp"
#include "models/formats/hf_format.hpp"
#include "models/training/lr_schedule.hpp"

namespace electra {
namespace fs = std::filesystem;
namespace {

// What run_finetune writes into --out (and so would replace).
constexpr const char* finetune_output_files[] = {"model.safetensors", "config.json", "vocab.txt",
                                                 "metrics.jsonl", "dev_predictions.tsv"};

std::string default_metric(const FinetuneTask& task) {
  return task.regression ? "pearson" : "accuracy";
}

// NaN (undefined) is worst; MSE is the one metric where lower is better.
bool better(const std::string& metric, double candidate, double best) {
  if (!std::isfinite(candidate)) return false;
  if (!std::isfinite(best)) return true;
  return metric == "mse" ? candidate < best : candidate > best;
}

// The shortest --max-seq-length that leaves room for text: [CLS] a [SEP], or [CLS] a [SEP] b [SEP]
// with at least one token each (the tokenizer would otherwise truncate a segment to nothing).
std::int64_t min_seq_length(const FinetuneTask& task) { return task.input == "pair" ? 5 : 3; }

std::string label_list(const std::vector<std::string>& labels) {
  std::string list;
  for (std::size_t i = 0; i < labels.size() && i < 10; ++i) list += (i ? ", " : "") + labels[i];
  return labels.size() > 10 ? list + ", … " + std::to_string(labels.size()) + " in all" : list;
}

double metric_value(const nlohmann::ordered_json& metrics, const std::string& name) {
  const auto found = metrics.find(name);
  return found == metrics.end() || !found->is_number() ? std::nan("") : found->get<double>();
}

}  // namespace

nlohmann::ordered_json to_json(const FinetuneTask& task) {
  nlohmann::ordered_json json;
  json["input"] = task.input;
  json["regression"] = task.regression;
  json["labels"] = task.labels;
  json["max_seq_length"] = task.max_seq_length;
  json["columns"] = {{"has_header", task.columns.has_header},
                     {"text_a", task.columns.text_a},
                     {"text_b", task.columns.text_b},
                     {"label", task.columns.label}};
  return json;
}

FinetuneTask finetune_task_from_json(const nlohmann::json& json, const std::string& source) {
  FinetuneTask task;
  try {
    task.input = json.at("input").get<std::string>();
    task.regression = json.at("regression").get<bool>();
    task.labels = json.at("labels").get<std::vector<std::string>>();
    task.max_seq_length = json.at("max_seq_length").get<std::int64_t>();
    const nlohmann::json& columns = json.at("columns");
    task.columns.has_header = columns.at("has_header").get<bool>();
    task.columns.text_a = columns.at("text_a").get<std::string>();
    task.columns.text_b = columns.at("text_b").get<std::string>();
    task.columns.label = columns.at("label").get<std::string>();
  } catch (const nlohmann::json::exception& error) {
    throw_error(source, ": bad \"", finetune_task_key, "\" section (", error.what(), ")");
  }
  check(task.input == "single" || task.input == "pair", source, ": input \"", task.input,
        "\" is neither \"single\" nor \"pair\"");
  check(task.regression || task.labels.size() >= 2, source,
        ": a classification task needs ≥ 2 labels");
  check(task.max_seq_length >= min_seq_length(task), source, ": max_seq_length ",
        task.max_seq_length, " is below ", min_seq_length(task));
  return task;
}

EncodedExamples encode_examples(const std::vector<LabelledExample>& examples,
                                const Tokenizer& tokenizer, const FinetuneTask& task,
                                const std::string& source, bool require_labels,
                                const std::string& command) {
  EncodedExamples data;
  data.count = static_cast<std::int64_t>(examples.size());
  std::vector<Encoding> encodings;
  for (const LabelledExample& example : examples) {
    Encoding encoding = tokenizer.encode_pair(example.text_a, example.text_b,
                                              static_cast<std::size_t>(task.max_seq_length));
    data.seq_len =
        std::max<std::int64_t>(data.seq_len, static_cast<std::int64_t>(encoding.input_ids.size()));
    encodings.push_back(std::move(encoding));
  }
  const std::int32_t pad = tokenizer.special_tokens().pad;
  for (const Encoding& encoding : encodings) {
    const std::size_t padding = static_cast<std::size_t>(data.seq_len) - encoding.input_ids.size();
    data.input_ids.insert(data.input_ids.end(), encoding.input_ids.begin(),
                          encoding.input_ids.end());
    data.input_ids.insert(data.input_ids.end(), padding, pad);
    data.token_type_ids.insert(data.token_type_ids.end(), encoding.token_type_ids.begin(),
                               encoding.token_type_ids.end());
    data.token_type_ids.insert(data.token_type_ids.end(), padding, 0);
    data.attention_mask.insert(data.attention_mask.end(), encoding.attention_mask.begin(),
                               encoding.attention_mask.end());
    data.attention_mask.insert(data.attention_mask.end(), padding, 0);
  }
  if (!require_labels) return data;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const std::string& label = examples[i].label;
    check(!label.empty(), command, ": ", source, ": example ", i + 1, " has no label");
    if (task.regression) {
      char* end = nullptr;
      const double value = std::strtod(label.c_str(), &end);
      check(end == label.c_str() + label.size() && std::isfinite(value), command, ": ", source,
            ": example ", i + 1, ": regression target '", label, "' is not a number");
      data.targets.push_back(value);
    } else {
      const auto found = std::find(task.labels.begin(), task.labels.end(), label);
      check(found != task.labels.end(), command, ": ", source, ": example ", i + 1, ": label '",
            label, "' is not one of the ", command == "finetune" ? "task's" : "model's",
            " labels (", label_list(task.labels), ")",
            command == "finetune" ? ", which come from --labels or else the train file" : "");
      data.label_ids.push_back(static_cast<std::int32_t>(found - task.labels.begin()));
    }
  }
  return data;
}

namespace {

// The classifier as an HF ElectraForSequenceClassification directory: written beside `out`
// first, then each file renamed into place, so a crash never leaves half a model file.
void save_finetuned_model(const fs::path& out, const ParameterStore& store,
                          const ModelConfig& config, const FinetuneTask& task,
                          const std::string& vocab_path, const nlohmann::ordered_json& run) {
  nlohmann::ordered_json json = hf_config_json(config, hf_classification_architecture);
  nlohmann::ordered_json id2label = nlohmann::ordered_json::object(),
                         label2id = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < task.labels.size(); ++i) {
    id2label[std::to_string(i)] = task.labels[i];
    label2id[task.labels[i]] = i;
  }
  if (task.regression) id2label["0"] = "LABEL_0", label2id["LABEL_0"] = 0;
  json["id2label"] = id2label;
  json["label2id"] = label2id;
  json["problem_type"] = task.regression ? "regression" : "single_label_classification";
  json[finetune_task_key] = to_json(task);
  json["electra_finetune_run"] = run;
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const Parameter& parameter : store.parameters())
    tensors.push_back({parameter.name, parameter.var.value()});
  const fs::path staging = out / ".saving";
  fs::remove_all(staging);
  save_hf_model(staging, tensors, json, vocab_path);
  for (const char* name : {"model.safetensors", "config.json", "vocab.txt"})
    fs::rename(staging / name, out / name);
  fs::remove_all(staging);
}

}  // namespace

FinetuneResult run_finetune(const FinetuneOptions& options,
                            const std::function<void(const FinetuneProgress&)>& on_step,
                            const std::function<void(const EpochReport&)>& on_epoch) {
  check(options.epochs >= 1 && options.batch_size >= 1,
        "finetune: epochs and batch size must be ≥ 1");
  check(options.warmup_fraction >= 0 && options.warmup_fraction <= 1,
        "finetune: --warmup-fraction ", options.warmup_fraction, " is not in [0, 1]");
  check(options.task.max_seq_length >= min_seq_length(options.task), "finetune: --max-seq-length ",
        options.task.max_seq_length, " leaves no room for text: ",
        options.task.input == "pair" ? "a pair needs [CLS], a token, [SEP], a token and [SEP] (5)"
                                     : "a sentence needs [CLS], a token and [SEP] (3)");
  // Like `pretrain`, never replace an earlier run's results unless asked to (checked before the
  // minutes of training, not at the first save).
  std::vector<fs::path> earlier_outputs;
  for (const char* name : finetune_output_files)
    if (fs::exists(fs::path(options.out_dir) / name))
      earlier_outputs.push_back(fs::path(options.out_dir) / name);
  check(earlier_outputs.empty() || options.overwrite, "finetune: --out ", options.out_dir,
        " already holds ",
        earlier_outputs.empty() ? "" : earlier_outputs.front().filename().string(),
        ", which this run would replace; pass --overwrite to replace it, or choose another --out");
  FinetuneResult result;
  const PretrainedEncoder encoder = load_pretrained_encoder(options.init);
  result.encoder_description = encoder.description;
  const std::string vocab_path =
      options.vocab_path.empty() ? encoder.vocab_path : options.vocab_path;
  check(!vocab_path.empty(), "finetune: ", encoder.description,
        " records no vocabulary; pass --vocab");
  check(fs::is_regular_file(vocab_path), "finetune: vocabulary ", vocab_path,
        ": no such file; pass --vocab");
  const Tokenizer tokenizer = Tokenizer::from_file(vocab_path);
  check(tokenizer.vocab().size() == encoder.config.vocab_size, "finetune: ", vocab_path, " has ",
        tokenizer.vocab().size(), " tokens but the model's vocabulary has ",
        encoder.config.vocab_size);

  FinetuneTask task = options.task;
  check(task.max_seq_length <= encoder.config.max_position_embeddings,
        "finetune: --max-seq-length ", task.max_seq_length, " exceeds the model's ",
        encoder.config.max_position_embeddings, " positions (max_position_embeddings of ",
        encoder.description, ")");
  std::vector<LabelledExample> train = read_labelled_tsv(options.train_path, task.columns);
  if (options.max_train_examples > 0 &&
      static_cast<std::int64_t>(train.size()) > options.max_train_examples) {
    // A random subset (files are often sorted by label), the same for every fine-tuning seed so
    // runs that differ only in --seed see the same examples; kept in file order.
    std::vector<std::size_t> chosen(train.size());
    std::iota(chosen.begin(), chosen.end(), 0);
    std::mt19937_64 subset_engine(0x5AB5E7ULL);
    std::shuffle(chosen.begin(), chosen.end(), subset_engine);
    chosen.resize(static_cast<std::size_t>(options.max_train_examples));
    std::sort(chosen.begin(), chosen.end());
    std::vector<LabelledExample> subset;
    for (std::size_t index : chosen) subset.push_back(std::move(train[index]));
    train = std::move(subset);
  }
  if (!task.regression && task.labels.empty()) task.labels = distinct_labels(train);
  check(task.regression || task.labels.size() >= 2, "finetune: ", options.train_path, " has only ",
        task.labels.size(),
        " distinct label(s); a classification task needs two (or pass --regression)");
  const EncodedExamples train_data = encode_examples(train, tokenizer, task, options.train_path);
  const EncodedExamples dev_data = encode_examples(
      read_labelled_tsv(options.dev_path, task.columns), tokenizer, task, options.dev_path);
  result.train_examples = train_data.count;
  result.dev_examples = dev_data.count;
  result.metric = options.metric.empty() ? default_metric(task) : options.metric;
  const bool regression_metric =
      result.metric == "mse" || result.metric == "pearson" || result.metric == "spearman";
  check(regression_metric == task.regression, "finetune: --metric ", result.metric,
        " is not reported for a ", task.regression ? "regression" : "classification", " task");

  ModelConfig config = encoder.config;
  config.seq_len = task.max_seq_length;
  ParameterStore store;
  SequenceClassifier classifier(config, task.num_outputs(), store, options.seed);
  load_encoder_weights(encoder, store);
  result.parameters = store.total_numel();
  AdamWConfig adam;
  adam.weight_decay = options.weight_decay;
  AdamW optimizer(store, adam,
                  layerwise_learning_rate_scales(store, config.num_layers, options.layer_decay));
  const std::int64_t steps_per_epoch =
      (train_data.count + options.batch_size - 1) / options.batch_size;
  LearningRateSchedule schedule;
  schedule.peak_learning_rate = options.learning_rate;
  schedule.total_steps = steps_per_epoch * options.epochs;
  schedule.warmup_steps = static_cast<std::int64_t>(
      std::llround(options.warmup_fraction * static_cast<double>(schedule.total_steps)));
  schedule.validate();

  fs::create_directories(options.out_dir);
  // --overwrite: the earlier model goes now, so a run stopped before its first save does not leave
  // it beside this run's metrics (vocab.txt stays: it may be the one this run reads).
  for (const fs::path& earlier : earlier_outputs)
    if (earlier.filename() != "vocab.txt") fs::remove(earlier);
  std::ofstream metrics_log(fs::path(options.out_dir) / "metrics.jsonl", std::ios::trunc);
  check(metrics_log.good(), "finetune: cannot write ", options.out_dir, "/metrics.jsonl");
  const nlohmann::ordered_json run = {{"init", encoder.description},
                                      {"train", options.train_path},
                                      {"dev", options.dev_path},
                                      {"epochs", options.epochs},
                                      {"batch_size", options.batch_size},
                                      {"learning_rate", options.learning_rate},
                                      {"layer_decay", options.layer_decay},
                                      {"warmup_fraction", options.warmup_fraction},
                                      {"weight_decay", options.weight_decay},
                                      {"seed", options.seed}};

  std::vector<std::int64_t> order(static_cast<std::size_t>(train_data.count));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffle_engine(options.seed ^ 0x5EEDF17EULL);
  Tape tape;
  const auto start = std::chrono::steady_clock::now();
  double best = std::nan("");
  std::int64_t epochs_without_improvement = 0;
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), shuffle_engine);
    double loss_sum = 0;
    double last_rate = 0;
    for (std::int64_t b = 0; b < steps_per_epoch; ++b) {
      const std::size_t begin = static_cast<std::size_t>(b * options.batch_size);
      const std::size_t end =
          std::min(order.size(), begin + static_cast<std::size_t>(options.batch_size));
      const FinetuneBatch batch = make_finetune_batch(train_data, order, begin, end, true);
      const std::int64_t step = optimizer.updates_applied();
      const Var logits =
          classifier.forward(tape, batch.input_ids, batch.token_type_ids, batch.attention_mask,
                             static_cast<std::uint64_t>(step), true);
      const Var loss = task.regression ? regression_loss(tape, logits, batch.targets)
                                       : classification_loss(tape, logits, batch.labels);
      tape.backward(loss);
      last_rate = schedule.at(step);
      optimizer.step(last_rate);
      store.zero_grad();
      const double loss_value = loss.value().item(0);
      tape.clear();
      loss_sum += loss_value;
      if (on_step) on_step({step + 1, schedule.total_steps, epoch, loss_value});
    }
    EpochReport report;
    report.epoch = epoch;
    report.step = optimizer.updates_applied();
    report.train_loss = loss_sum / static_cast<double>(steps_per_epoch);
    report.learning_rate = last_rate;
    const Evaluation evaluation = evaluate_classifier(
        classifier, task, dev_data, options.eval_batch_size, true,
        "finetune: epoch " + std::to_string(epoch) + ", --dev " + options.dev_path);
    report.dev = evaluation.metrics;
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double value = metric_value(report.dev, result.metric);
    report.improved = better(result.metric, value, best);
    if (report.improved) {
      best = value;
      result.best_epoch = epoch;
      result.best_dev = report.dev;
      epochs_without_improvement = 0;
      save_finetuned_model(options.out_dir, store, config, task, vocab_path, run);
      write_predictions((fs::path(options.out_dir) / "dev_predictions.tsv").string(), task,
                        dev_data, evaluation);
    } else {
      ++epochs_without_improvement;
    }
    nlohmann::ordered_json line = {{"epoch", epoch},
                                   {"step", report.step},
                                   {"train_loss", report.train_loss},
                                   {"lr", report.learning_rate},
                                   {"dev", report.dev},
                                   {"best", report.improved},
                                   {"elapsed_s", report.seconds}};
    metrics_log << line.dump() << '\n' << std::flush;
    result.epochs.push_back(report);
    if (on_epoch) on_epoch(report);
    if (options.patience > 0 && epochs_without_improvement >= options.patience &&
        epoch < options.epochs) {
      result.stopped_early = true;
      break;
    }
  }
  if (result.best_epoch == 0) {
    // No epoch had a defined metric (e.g. constant predictions on a regression task): keep the
    // last.
    save_finetuned_model(options.out_dir, store, config, task, vocab_path, run);
    result.best_epoch = static_cast<std::int64_t>(result.epochs.size());
    result.best_dev = result.epochs.back().dev;
  }
  return result;
}

}  // namespace electra
