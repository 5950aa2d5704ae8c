// The fine-tuning classifier: see classifier.hpp.
#include "models/finetuning/classifier.hpp"

#include <cmath>

#include "engine/error.hpp"

namespace electra {
namespace {

// The head's two dropout sites sit after every encoder site of the discriminator's range
// (1 + 3·layer for at most a thousand layers), so they never share a Philox stream with them.
constexpr std::uint32_t head_input_dropout_site = 4000;
constexpr std::uint32_t head_hidden_dropout_site = 4001;

}  // namespace

SequenceClassifier::SequenceClassifier(const ModelConfig& config, std::int64_t num_outputs,
                                       ParameterStore& store, std::uint64_t seed, DType dtype)
    : config_(config), num_outputs_(num_outputs), seed_(seed) {
  config_.validate();
  check(num_outputs >= 1, "classifier: num_outputs must be ≥ 1, got ", num_outputs);
  ParameterFactory factory(store, seed, dtype, config_.initializer_range);
  const EncoderDims dims = config_.discriminator_dims();
  // Registration follows HF's state-dict order: embeddings, projection, encoder, head.
  embeddings_ = std::make_unique<SharedEmbeddings>(factory, config_);
  if (config_.embedding_size != dims.hidden_size)
    embeddings_project_ = Linear::create(factory, "electra.embeddings_project",
                                         config_.embedding_size, dims.hidden_size);
  encoder_ = std::make_unique<Encoder>(factory, "electra.encoder", dims, config_);
  head_dense_ = Linear::create(factory, "classifier.dense", dims.hidden_size, dims.hidden_size);
  head_projection_ = Linear::create(factory, "classifier.out_proj", dims.hidden_size, num_outputs);
}

SequenceClassifier::~SequenceClassifier() = default;

Var SequenceClassifier::forward(Tape& tape, const Tensor& input_ids, const Tensor& token_type_ids,
                                const Tensor& attention_mask, std::uint64_t step,
                                bool training) const {
  check(input_ids.rank() == 2, "classifier: input_ids must be [batch, seq_len], got ",
        input_ids.shape().str());
  const std::int64_t B = input_ids.dim(0), L = input_ids.dim(1);
  const std::int64_t H = config_.hidden_size;
  const streams::DropoutContext dropout{seed_, step, training, streams::discriminator_sites};
  const double p = config_.hidden_dropout;

  Var hidden = embeddings_->forward(tape, input_ids, token_type_ids, p, dropout);  // [B, L, E]
  if (embeddings_project_) hidden = embeddings_project_->forward(tape, hidden);    // [B, L, H]
  hidden = encoder_->forward(tape, hidden, attention_mask, dropout);               // [B, L, H]

  // The [CLS] rows: flat row b·L of [B·L, H].
  std::vector<std::int32_t> cls_rows(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b)
    cls_rows[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(b * L);
  const Var flat = ops::reshape(tape, hidden, {B * L, H});
  Var cls = ops::gather_rows(tape, flat, Tensor::from_vector(cls_rows, {B}));  // [B, H]

  cls = ops::dropout(tape, cls, p, dropout.key(head_input_dropout_site), training);
  Var transformed = ops::gelu(tape, head_dense_.forward(tape, cls));  // [B, H]
  transformed = ops::dropout(tape, transformed, p, dropout.key(head_hidden_dropout_site), training);
  return head_projection_.forward(tape, transformed);  // [B, C]
}

Var classification_loss(Tape& tape, const Var& logits, const Tensor& labels) {
  check(logits.shape().rank() == 2 && labels.rank() == 1 && labels.dim(0) == logits.shape()[0],
        "classification_loss: logits ", logits.shape().str(), " and labels ", labels.shape().str(),
        " must be [B, C] and [B]");
  const Tensor weights = Tensor::full({labels.dim(0)}, 1.0, logits.value().dtype());
  return ops::cross_entropy(tape, logits, labels, weights);
}

Var regression_loss(Tape& tape, const Var& predictions, const Tensor& targets) {
  const std::int64_t B = targets.numel();
  check(predictions.value().numel() == B, "regression_loss: ", predictions.shape().str(),
        " predictions for ", B, " targets");
  check(targets.dtype() == predictions.value().dtype(), "regression_loss: targets are ",
        dtype_name(targets.dtype()), ", predictions ", dtype_name(predictions.value().dtype()));
  const Var flat = ops::reshape(tape, predictions, {B});
  const Var negated_targets(targets.reshape({B}).clone(), false);
  const Var difference = ops::add(tape, flat, ops::scale(tape, negated_targets, -1.0));
  return ops::mean(tape, ops::mul(tape, difference, difference));
}

std::int64_t parameter_depth(const std::string& name, std::int64_t num_layers) {
  auto starts_with = [&](const std::string& prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts_with("electra.embeddings.") || starts_with("electra.embeddings_project.")) return 0;
  if (starts_with("classifier.")) return num_layers + 2;
  const std::string layer_prefix = "electra.encoder.layer.";
  if (starts_with(layer_prefix)) {
    const std::size_t dot = name.find('.', layer_prefix.size());
    try {
      const std::int64_t layer =
          std::stoll(name.substr(layer_prefix.size(), dot - layer_prefix.size()));
      if (layer >= 0 && layer < num_layers) return layer + 1;
    } catch (const std::exception&) {
      // falls through to the error below
    }
  }
  throw_error("layer-wise decay: parameter '", name,
              "' is neither embeddings, an encoder layer (of ", num_layers,
              ") nor the classifier head");
}

std::vector<double> layerwise_learning_rate_scales(const ParameterStore& store,
                                                   std::int64_t num_layers, double decay) {
  check(decay > 0 && decay <= 1, "layer-wise decay must be in (0, 1], got ", decay);
  std::vector<double> scales;
  for (const Parameter& parameter : store.parameters())
    scales.push_back(std::pow(
        decay, static_cast<double>(num_layers + 2 - parameter_depth(parameter.name, num_layers))));
  return scales;
}

}  // namespace electra
