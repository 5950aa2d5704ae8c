// `electra export`: a pre-training checkpoint as two Hugging Face model directories
// (models/formats/hf_format.hpp): OUT/discriminator (ElectraForPreTraining) and OUT/generator
// (ElectraForMaskedLM), each with model.safetensors, config.json and vocab.txt; replace_mlm and
// all_tokens_mlm write OUT/main (ElectraForMaskedLM) instead of OUT/discriminator.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/error.hpp"
#include "models/formats/hf_format.hpp"
#include "models/training/pretrained_model.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {
namespace fs = std::filesystem;

struct ExportFlags {
  std::string checkpoint, out, vocab;
};

int run_export(const ExportFlags& flags) {
  const PretrainedModel loaded = load_pretrained_model(flags.checkpoint);
  std::string vocab = flags.vocab;
  if (vocab.empty() && loaded.state.data_position.is_object())
    vocab = loaded.state.data_position.value("vocab_path", std::string());
  check(!vocab.empty(), "export: ", loaded.checkpoint_dir.string(),
        " records no vocabulary; pass --vocab");
  check(fs::is_regular_file(vocab), "export: vocabulary ", vocab, ": no such file; pass --vocab");
  const HfExport exported =
      export_pretraining_to_hf(*loaded.parameters, loaded.config, flags.out, vocab);
  std::printf("electra export: %s (step %lld, objective %s)\n",
              loaded.checkpoint_dir.string().c_str(), static_cast<long long>(loaded.state.step),
              loaded.config.objective.c_str());
  if (!exported.discriminator.empty())
    std::printf("  discriminator  %s (ElectraForPreTraining)\n",
                exported.discriminator.string().c_str());
  if (!exported.main.empty())
    std::printf("  main           %s (ElectraForMaskedLM: the network to fine-tune)\n",
                exported.main.string().c_str());
  std::printf("  generator      %s (ElectraForMaskedLM)\n", exported.generator.string().c_str());
  if (!exported.note.empty()) std::printf("  %s\n", exported.note.c_str());
  if (!exported.main.empty())
    std::printf("load in Python:\n  transformers.ElectraForMaskedLM.from_pretrained(\"%s\")\n",
                exported.main.string().c_str());
  else
    std::printf("load in Python:\n  transformers.ElectraForPreTraining.from_pretrained(\"%s\")\n",
                (exported.discriminator.empty() ? exported.generator : exported.discriminator)
                    .string()
                    .c_str());
  return 0;
}

const CommandRegistration export_command{Command{
    "export", "write a checkpoint as Hugging Face discriminator and generator directories",
    [](CLI::App& app) -> std::function<int()> {
      auto flags = std::make_shared<ExportFlags>();
      app.add_option("--checkpoint", flags->checkpoint,
                     "checkpoint directory or run directory (latest)")
          ->required();
      app.add_option("--out", flags->out, "output directory (discriminator/ and generator/ inside)")
          ->required();
      app.add_option("--vocab", flags->vocab,
                     "vocab.txt (default: the one the checkpoint records)");
      return [flags] { return run_export(*flags); };
    }}};

}  // namespace
}  // namespace electra::cli
