// Batching, evaluation, predictions and reloading of fine-tuned models: see finetune.hpp.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/finetuning/classification_metrics.hpp"
#include "models/finetuning/finetune.hpp"
#include "models/formats/hf_format.hpp"

namespace electra {
namespace fs = std::filesystem;

FinetuneBatch make_finetune_batch(const EncodedExamples& data,
                                  const std::vector<std::int64_t>& order, std::size_t begin,
                                  std::size_t end, bool with_labels) {
  const std::int64_t B = static_cast<std::int64_t>(end - begin), L = data.seq_len;
  std::int64_t longest = 1;
  for (std::size_t i = begin; i < end; ++i) {
    const std::int32_t* mask = data.attention_mask.data() + order[i] * L;
    longest = std::max<std::int64_t>(longest, std::accumulate(mask, mask + L, std::int64_t{0}));
  }
  std::vector<std::int32_t> ids, types, mask, labels;
  std::vector<float> targets;
  for (std::size_t i = begin; i < end; ++i) {
    const std::int64_t row = order[i] * L;
    ids.insert(ids.end(), data.input_ids.begin() + row, data.input_ids.begin() + row + longest);
    types.insert(types.end(), data.token_type_ids.begin() + row,
                 data.token_type_ids.begin() + row + longest);
    mask.insert(mask.end(), data.attention_mask.begin() + row,
                data.attention_mask.begin() + row + longest);
    if (with_labels && !data.label_ids.empty())
      labels.push_back(data.label_ids[static_cast<std::size_t>(order[i])]);
    if (with_labels && !data.targets.empty())
      targets.push_back(static_cast<float>(data.targets[static_cast<std::size_t>(order[i])]));
  }
  FinetuneBatch batch;
  batch.input_ids = Tensor::from_vector(ids, {B, longest});
  batch.token_type_ids = Tensor::from_vector(types, {B, longest});
  batch.attention_mask = Tensor::from_vector(mask, {B, longest});
  if (!labels.empty()) batch.labels = Tensor::from_vector(labels, {B});
  if (!targets.empty()) batch.targets = Tensor::from_vector(targets, {B});
  return batch;
}

Evaluation evaluate_classifier(const SequenceClassifier& classifier, const FinetuneTask& task,
                               const EncodedExamples& data, std::int64_t batch_size,
                               bool has_labels, const std::string& context) {
  check(batch_size >= 1, context, ": batch size must be ≥ 1, got ", batch_size);
  Evaluation evaluation;
  Tape tape;
  NoGradScope no_grad(tape);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.count));
  std::iota(order.begin(), order.end(), 0);
  const std::int64_t C = classifier.num_outputs();
  for (std::size_t begin = 0; begin < order.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(order.size(), begin + static_cast<std::size_t>(batch_size));
    const FinetuneBatch batch = make_finetune_batch(data, order, begin, end, false);
    const Var logits = classifier.forward(tape, batch.input_ids, batch.token_type_ids,
                                          batch.attention_mask, 0, false);
    const std::vector<double> values = logits.value().to_vector();  // [B·C]
    for (std::size_t row = 0; row < end - begin; ++row) {
      const double* z = values.data() + row * static_cast<std::size_t>(C);
      // argmax over NaN picks class 0 for every example: a metric (0.5 on balanced data) that
      // looks like a weak model rather than a broken one.
      for (std::int64_t c = 0; c < C; ++c)
        check(std::isfinite(z[c]), context, ": example ", begin + row + 1, " gives the logit ",
              z[c], " (the model's weights or activations are not finite)");
      if (task.regression) {
        evaluation.predictions.push_back(z[0]);
        continue;
      }
      const double top = *std::max_element(z, z + C);
      std::vector<double> probabilities(static_cast<std::size_t>(C));
      double total = 0;
      for (std::int64_t c = 0; c < C; ++c)
        total += probabilities[static_cast<std::size_t>(c)] = std::exp(z[c] - top);
      for (double& p : probabilities) p /= total;
      evaluation.predictions.push_back(static_cast<double>(std::max_element(z, z + C) - z));
      evaluation.probabilities.push_back(std::move(probabilities));
    }
    tape.clear();
  }
  if (!has_labels) return evaluation;
  if (task.regression) {
    evaluation.metrics = to_json(regression_metrics(evaluation.predictions, data.targets));
  } else {
    std::vector<std::int64_t> predicted(evaluation.predictions.begin(),
                                        evaluation.predictions.end());
    std::vector<std::int64_t> gold(data.label_ids.begin(), data.label_ids.end());
    evaluation.metrics = to_json(classification_metrics(predicted, gold, C));
  }
  return evaluation;
}

void write_predictions(const std::string& path, const FinetuneTask& task,
                       const EncodedExamples& data, const Evaluation& evaluation, bool has_labels,
                       const std::string& command) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  check(file.good(), command, ": cannot write ", path);
  file << "index\tprediction";
  if (has_labels) file << "\tgold";
  if (!task.regression)
    for (const std::string& label : task.labels) file << "\tp_" << label;
  file << '\n';
  for (std::size_t i = 0; i < evaluation.predictions.size(); ++i) {
    file << i << '\t';
    if (task.regression) {
      file << evaluation.predictions[i];
      if (has_labels) file << '\t' << data.targets[i];
    } else {
      file << task.labels[static_cast<std::size_t>(evaluation.predictions[i])];
      if (has_labels) file << '\t' << task.labels[static_cast<std::size_t>(data.label_ids[i])];
      for (double p : evaluation.probabilities[i]) file << '\t' << p;
    }
    file << '\n';
  }
  check(file.good(), command, ": error writing ", path);
}

FinetunedModel load_finetuned_model(const fs::path& directory) {
  const HfModel hf = load_hf_model(directory);
  check(hf.architecture == hf_classification_architecture, "evaluate: ", directory.string(),
        " holds ", hf.architecture, ", not a fine-tuned ", hf_classification_architecture);
  check(hf.config_json.contains(finetune_task_key), "evaluate: ", directory.string(),
        "/config.json has no \"", finetune_task_key,
        "\" section (not written by `electra finetune`)");
  FinetunedModel model;
  const std::string config_path = (directory / "config.json").string();
  try {
    model.task = finetune_task_from_json(hf.config_json[finetune_task_key], config_path);
  } catch (const Error& error) {
    throw_error("evaluate: ", error.what());
  }
  check(model.task.max_seq_length <= hf.config.max_position_embeddings, "evaluate: ", config_path,
        ": max_seq_length ", model.task.max_seq_length, " exceeds max_position_embeddings ",
        hf.config.max_position_embeddings);
  check(model.task.num_outputs() == hf.num_labels, "evaluate: ", directory.string(), ": ",
        hf.num_labels, " outputs in config.json but the task has ", model.task.num_outputs());
  check(!hf.vocab_path.empty(), "evaluate: ", directory.string(), ": no vocab.txt");
  model.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_file(hf.vocab_path.string()));
  model.parameters = std::make_unique<ParameterStore>();
  model.classifier =
      std::make_unique<SequenceClassifier>(hf.config, hf.num_labels, *model.parameters, 0);
  for (const Parameter& parameter : model.parameters->parameters()) {
    const Tensor& stored = hf.at(parameter.name);
    // A diverged run's NaN weights would otherwise evaluate to one class for every example.
    check(kernels::all_finite(stored), "evaluate: ", (directory / "model.safetensors").string(),
          ": tensor '", parameter.name, "' holds NaN or infinite values; the model is unusable");
    Tensor& value = Var(parameter.var).value();
    kernels::copy(stored, value);
  }
  return model;
}

}  // namespace electra
