#pragma once
// SequenceClassifier: the pre-trained discriminator's body with HF's ElectraClassificationHead on
// top (ElectraForSequenceClassification), as ELECTRA is fine-tuned on GLUE:
//   ids [B, L] → embeddings [B, L, E] → embeddings_project (E → H, when E ≠ H) → encoder [B, L, H]
//   → the [CLS] row [B, H] → Dropout → dense (H → H) → GELU → Dropout → out_proj (H → C)
//   → logits [B, C] (C = number of classes; 1 for a regression task such as STS-B).
// Parameter names are HF's ElectraForSequenceClassification state dict, so a fine-tuned model
// exports as it is (models/formats/hf_format.hpp):
//   electra.embeddings.*, electra.embeddings_project.*, electra.encoder.layer.{i}.*,
//   classifier.dense.{weight,bias}, classifier.out_proj.{weight,bias}
// The encoder sizes are the config's discriminator sizes (config.hidden_size, num_layers, …); a
// BERT-style `mlm` checkpoint has an encoder of the same sizes and fine-tunes the same way.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/networks/config.hpp"
#include "models/networks/embeddings.hpp"
#include "models/networks/encoder.hpp"

namespace electra {

class SequenceClassifier {
 public:
  // Registers every parameter in `store` (initialised from `seed`: the head is what fine-tuning
  // starts from scratch; the body is normally overwritten by pre-trained weights afterwards).
  SequenceClassifier(const ModelConfig& config, std::int64_t num_outputs, ParameterStore& store,
                     std::uint64_t seed, DType dtype = DType::f32);
  ~SequenceClassifier();
  SequenceClassifier(const SequenceClassifier&) = delete;
  SequenceClassifier& operator=(const SequenceClassifier&) = delete;

  // input_ids, token_type_ids, attention_mask i32 [B, L] → logits [B, num_outputs]. `step`
  // selects the dropout masks (training only).
  Var forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
              const Tensor& attention_mask, std::uint64_t step, bool training) const;

  const ModelConfig& config() const { return config_; }
  std::int64_t num_outputs() const { return num_outputs_; }
  std::uint64_t seed() const { return seed_; }

 private:
  ModelConfig config_;
  std::int64_t num_outputs_;
  std::uint64_t seed_;
  std::unique_ptr<SharedEmbeddings> embeddings_;
  std::optional<Linear> embeddings_project_;
  std::unique_ptr<Encoder> encoder_;
  Linear head_dense_;       // classifier.dense: H → H
  Linear head_projection_;  // classifier.out_proj: H → C
};

// Mean cross-entropy over the batch: logits [B, C], labels i32 [B] → [1].
Var classification_loss(Tape& tape, const Var& logits, const Tensor& labels);
// Mean squared error: predictions [B, 1] (or [B]), targets [B] in the logits' dtype → [1].
Var regression_loss(Tape& tape, const Var& predictions, const Tensor& targets);

// Layer-wise learning-rate decay (ELECTRA's fine-tuning recipe): with N encoder layers a
// parameter at depth d gets rate × decay^(N + 2 − d), where the embeddings (and
// embeddings_project) are depth 0, encoder layer i is depth i + 1 and the task head is depth
// N + 2 (it trains at the full rate; the top encoder layer at rate·decay, the embeddings at
// rate·decay^(N+2)). A name matching none of these is an error naming it.
std::int64_t parameter_depth(const std::string& name, std::int64_t num_layers);
// One scale per parameter of `store`, in registration order.
std::vector<double> layerwise_learning_rate_scales(const ParameterStore& store,
                                                   std::int64_t num_layers, double decay);

}  // namespace electra
