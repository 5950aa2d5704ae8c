// `electra evaluate`: runs a fine-tuned model (`electra finetune --out`) over a TSV file, prints
// accuracy / F1 / MCC (or MSE / Pearson / Spearman) and writes per-example predictions.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/error.hpp"
#include "models/finetuning/finetune.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

struct EvaluateFlags {
  std::string model, data, predictions;
  std::int64_t batch = 64;
  bool unlabelled = false;
};

int run_evaluate(const EvaluateFlags& flags) {
  const FinetunedModel model = load_finetuned_model(flags.model);
  TsvColumns columns = model.task.columns;
  if (flags.unlabelled) columns.label.clear();
  const std::vector<LabelledExample> examples = read_labelled_tsv(flags.data, columns);
  const bool has_labels = !flags.unlabelled;
  const EncodedExamples data =
      encode_examples(examples, *model.tokenizer, model.task, flags.data, has_labels, "evaluate");
  const Evaluation evaluation =
      evaluate_classifier(*model.classifier, model.task, data, flags.batch, has_labels,
                          "evaluate: " + flags.model + " on " + flags.data);
  const std::string predictions =
      flags.predictions.empty()
          ? (std::filesystem::path(flags.model) /
             (std::filesystem::path(flags.data).stem().string() + ".predictions.tsv"))
                .string()
          : flags.predictions;
  write_predictions(predictions, model.task, data, evaluation, has_labels, "evaluate");
  std::printf("electra evaluate: %s on %s (%lld examples)\n", flags.model.c_str(),
              flags.data.c_str(), static_cast<long long>(data.count));
  if (has_labels)
    for (const auto& [key, value] : evaluation.metrics.items()) {
      if (value.is_number_float())
        std::printf("  %-9s %.4f\n", key.c_str(), value.get<double>());
      else
        std::printf("  %-9s %s\n", key.c_str(), value.dump().c_str());
    }
  std::printf("  predictions %s\n", predictions.c_str());
  return 0;
}

const CommandRegistration evaluate_command{Command{
    "evaluate", "evaluate a fine-tuned model on a TSV file; writes per-example predictions",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<EvaluateFlags>();
      app.footer(
          "The TSV is read with the columns the model was fine-tuned with (stored in its "
          "config.json).");
      app.add_option("--model", flags->model, "directory written by `electra finetune --out`")
          ->required();
      app.add_option("--data", flags->data, "TSV file to evaluate")->required();
      app.add_option("--predictions", flags->predictions,
                     "output TSV (default: MODEL/<data name>.predictions.tsv)");
      app.add_option("--batch", flags->batch, "examples per batch")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_flag("--unlabelled", flags->unlabelled,
                   "the file has no label column: predictions only");
      return [flags] { return run_evaluate(*flags); };
    }}};

}  // namespace
}  // namespace electra::cli
