#include "models/objectives/main_network.hpp"

#include "autograd/ops.hpp"
#include "models/objectives/steps.hpp"

namespace electra {

MainNetwork::MainNetwork(ParameterFactory& factory, const ModelConfig& config,
                         const SharedEmbeddings& embeddings, bool copy_head)
    : body_(factory, config, embeddings, Discriminator::Head::none),
      tied_word_embeddings_(embeddings.word_embeddings()) {
  const std::int64_t H = config.hidden_size, E = config.embedding_size;
  prediction_dense_ = Linear::create(factory, "discriminator.generator_predictions.dense", H, E);
  prediction_norm_ = LayerNorm::create(factory, "discriminator.generator_predictions.LayerNorm", E,
                                       config.layer_norm_eps);
  output_bias_ = factory.zeros("discriminator.generator_lm_head.bias", {config.vocab_size});
  if (copy_head) copy_prediction_ = Linear::create(factory, "discriminator.copy_prediction", H, 1);
}

Var MainNetwork::encode(const ObjectiveNetworks& networks, Tape& tape, const Tensor& input_ids,
                        const MaskedBatch& batch, const ObjectiveDraw& draw) const {
  const streams::DropoutContext dropout{networks.seed, draw.step, draw.training,
                                        streams::discriminator_sites};
  return body_.encode(tape, networks.embeddings, input_ids, batch.original.token_type_ids,
                      batch.original.attention_mask, dropout);
}

Var MainNetwork::mlm_logits(Tape& tape, const Var& hidden_rows) const {
  const Var transformed = prediction_norm_.forward(
      tape, ops::gelu(tape, prediction_dense_.forward(tape, hidden_rows)));    // [K, E]
  return ops::linear(tape, transformed, tied_word_embeddings_, output_bias_);  // [K, V]
}

Var MainNetwork::copy_logits(Tape& tape, const Var& hidden_rows) const {
  check(copy_prediction_.has_value(), "MainNetwork: built without the copy head");
  const Var logits = copy_prediction_->forward(tape, hidden_rows);  // [K, 1]
  return ops::reshape(tape, logits, {hidden_rows.value().dim(0)});
}

std::unique_ptr<ObjectiveHeads> build_main_network(ParameterFactory& factory,
                                                   const ModelConfig& config,
                                                   const SharedEmbeddings& embeddings) {
  return std::make_unique<MainNetwork>(factory, config, embeddings, /*copy_head=*/false);
}

std::unique_ptr<ObjectiveHeads> build_main_network_with_copy_head(
    ParameterFactory& factory, const ModelConfig& config, const SharedEmbeddings& embeddings) {
  return std::make_unique<MainNetwork>(factory, config, embeddings, /*copy_head=*/true);
}

const MainNetwork& main_network(const ObjectiveNetworks& networks) {
  const auto* main = dynamic_cast<const MainNetwork*>(networks.heads);
  check(main != nullptr, "ElectraModel: objective '", networks.config.objective,
        "' needs the main masked-LM network (build_main_network)");
  return *main;
}

Var encode_replaced_inputs(const ObjectiveNetworks& networks, Tape& tape, const MaskedBatch& batch,
                           const MaskedBatch& host_batch, const ObjectiveDraw& draw,
                           StepOutput& out) {
  const GeneratorPass generated = run_generator(networks, tape, batch, host_batch, draw);
  out.mlm_loss = generated.loss;
  out.mlm_logits = generated.logits.value();
  out.sampled_ids = samples_for(networks, out.mlm_logits, host_batch, draw);
  out.corrupted_ids =
      corrupt(host_batch, out.sampled_ids, networks.dtype).corrupted_ids.to(networks.device);
  return main_network(networks).encode(networks, tape, out.corrupted_ids, batch, draw);
}

std::vector<GradientBoundary> main_network_boundaries() {
  return {{"main_mlm", "generator.", true},
          {"main_mlm", "electra.embeddings.", false},
          {"main_mlm", "discriminator.", false},
          {"mlm", "discriminator.", true}};
}

}  // namespace electra
