// `electra finetune`: fine-tunes a pre-trained discriminator (checkpoint, run directory or HF
// directory) on a GLUE-style TSV task with ELECTRA's recipe (models/finetuning/finetune.hpp); dev
// metrics each epoch, the best epoch's model kept in --out as an HF
// ElectraForSequenceClassification.
#include <cstdio>
#include <memory>

#include "engine/error.hpp"
#include "models/finetuning/finetune.hpp"
#include "tools/command.hpp"
#include "tools/progress.hpp"

namespace electra::cli {
namespace {

struct FinetuneFlags {
  FinetuneOptions options;
  std::string task = "single", labels, text_column, text_b_column, label_column;
  bool no_header = false;
};

std::string metrics_line(const nlohmann::ordered_json& metrics) {
  std::string line;
  for (const auto& [key, value] : metrics.items()) {
    if (key == "examples") continue;
    char text[64];
    if (value.is_number())
      std::snprintf(text, sizeof text, "%s %.4f", key.c_str(), value.get<double>());
    else
      std::snprintf(text, sizeof text, "%s n/a", key.c_str());
    line += (line.empty() ? "" : "  ") + std::string(text);
  }
  return line;
}

int run_finetune_command(FinetuneFlags& flags) {
  FinetuneOptions& options = flags.options;
  options.task.input = flags.task;
  options.task.columns = TsvColumns::defaults_for(flags.task, !flags.no_header);
  if (!flags.text_column.empty()) options.task.columns.text_a = flags.text_column;
  if (!flags.text_b_column.empty()) options.task.columns.text_b = flags.text_b_column;
  if (!flags.label_column.empty()) options.task.columns.label = flags.label_column;
  if (!flags.labels.empty()) {
    check(!options.task.regression, "finetune: --labels and --regression exclude each other");
    options.task.labels = split_label_list(flags.labels, "--labels");
    check(options.task.labels.size() >= 2, "finetune: --labels needs at least two labels");
  }
  std::printf("electra finetune: %s task (%s), init %s\n", options.task.input.c_str(),
              options.task.regression ? "regression" : "classification", options.init.c_str());
  std::fflush(stdout);
  std::unique_ptr<ProgressBar> bar;
  const FinetuneResult result = run_finetune(
      options,
      [&](const FinetuneProgress& progress) {
        if (!bar) bar = std::make_unique<ProgressBar>("finetune", progress.total_steps, 10.0);
        char status[96];
        std::snprintf(status, sizeof status, "epoch %lld | loss %.4f",
                      static_cast<long long>(progress.epoch), progress.loss);
        bar->update(progress.step, status);
      },
      [&](const EpochReport& report) {
        if (bar) bar->finish();
        bar.reset();
        std::printf("  epoch %lld  train loss %.4f  dev %s%s  (%s)\n",
                    static_cast<long long>(report.epoch), report.train_loss,
                    metrics_line(report.dev).c_str(), report.improved ? "  *best" : "",
                    format_duration(report.seconds).c_str());
        std::fflush(stdout);
      });
  std::printf("electra finetune: %lld train / %lld dev examples, %lld parameters, encoder %s\n",
              static_cast<long long>(result.train_examples),
              static_cast<long long>(result.dev_examples),
              static_cast<long long>(result.parameters), result.encoder_description.c_str());
  std::printf("  best epoch %lld by dev %s%s: %s\n", static_cast<long long>(result.best_epoch),
              result.metric.c_str(), result.stopped_early ? " (stopped early)" : "",
              metrics_line(result.best_dev).c_str());
  std::printf("  model        %s (HF ElectraForSequenceClassification)\n", options.out_dir.c_str());
  std::printf("  metrics      %s/metrics.jsonl\n  predictions  %s/dev_predictions.tsv\n",
              options.out_dir.c_str(), options.out_dir.c_str());
  std::printf("next:\n  electra evaluate --model %s --data %s\n", options.out_dir.c_str(),
              options.dev_path.c_str());
  return 0;
}

const CommandRegistration finetune_command{Command{
    "finetune", "fine-tune a pre-trained discriminator on a labelled TSV task",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<FinetuneFlags>();
      FinetuneOptions& o = flags->options;
      app.footer(
          "TSV columns: with a header, --task single reads 'sentence' and 'label', --task pair "
          "reads "
          "'sentence1', 'sentence2' and 'label'; without one (--no-header) columns 0,1 or 0,1,2. "
          "--text-column/--text-b-column/--label-column take a header name or a 0-based index. "
          "Labels: the train file's distinct labels, sorted, unless --labels gives the order (F1 "
          "is "
          "that of the second label). The learning rate warms up over --warmup-fraction of the "
          "updates, "
          "then decays linearly to 0; layer i of N trains at lr x decay^(N+1-i), the embeddings at "
          "lr x decay^(N+2), the head at lr.");
      app.add_option("--init", o.init,
                     "pre-training checkpoint or run directory, or HF model directory")
          ->required();
      app.add_option("--train", o.train_path, "training TSV")->required();
      app.add_option("--dev", o.dev_path, "dev TSV (metrics each epoch; picks the best epoch)")
          ->required();
      app.add_option("--out", o.out_dir,
                     "output directory: best model, metrics.jsonl, dev_predictions.tsv")
          ->required();
      app.add_flag("--overwrite", o.overwrite,
                   "replace the model, metrics and predictions of an earlier run in --out");
      app.add_option("--task", flags->task, "single sentence or sentence pair")
          ->check(CLI::IsMember({"single", "pair"}))
          ->capture_default_str();
      app.add_option("--labels", flags->labels, "class labels in id order, comma-separated");
      app.add_flag("--regression", o.task.regression, "real-valued target, MSE loss (STS-B style)");
      app.add_flag("--no-header", flags->no_header, "the TSV files have no header line");
      app.add_option("--text-column", flags->text_column, "column of the (first) sentence");
      app.add_option("--text-b-column", flags->text_b_column,
                     "column of the second sentence (pair task)");
      app.add_option("--label-column", flags->label_column, "column of the label");
      app.add_option("--vocab", o.vocab_path, "vocab.txt (default: the one the model records)");
      app.add_option("--epochs", o.epochs, "passes over the training set")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--batch", o.batch_size, "examples per update")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--lr", o.learning_rate, "peak learning rate (of the head)")
          ->check(positive_number())
          ->capture_default_str();
      app.add_option("--layer-decay", o.layer_decay, "layer-wise learning-rate decay")
          ->check(number_in(0.0, 1.0))
          ->capture_default_str();
      app.add_option("--warmup-fraction", o.warmup_fraction, "share of updates spent warming up")
          ->check(number_in(0.0, 1.0))
          ->capture_default_str();
      app.add_option("--weight-decay", o.weight_decay, "decoupled weight decay")
          ->check(non_negative_number())
          ->capture_default_str();
      app.add_option("--max-seq-length", o.task.max_seq_length,
                     "tokens per example incl. [CLS]/[SEP]: 3 (5 for pairs) up to the model's "
                     "max_position_embeddings")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--patience", o.patience,
                     "stop after N epochs without dev improvement (0: never)")
          ->check(non_negative_integer())
          ->capture_default_str();
      app.add_option("--metric", o.metric,
                     "dev metric picking the best epoch (default accuracy, or pearson)")
          ->check(CLI::IsMember({"accuracy", "f1", "mcc", "mse", "pearson", "spearman"}));
      app.add_option("--seed", o.seed, "head init, data order, dropout")->capture_default_str();
      app.add_option("--max-train-examples", o.max_train_examples,
                     "use a fixed random subset of N training examples (0: all)")
          ->check(non_negative_integer());
      app.add_option("--eval-batch", o.eval_batch_size, "examples per evaluation batch")
          ->check(positive_integer());
      return [flags] { return run_finetune_command(*flags); };
    }}};

}  // namespace
}  // namespace electra::cli
