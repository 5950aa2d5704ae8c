#pragma once
// AdamW over a ParameterStore, as ELECTRA's AdamWeightDecayOptimizer (DESIGN §2.10):
//   1. global gradient norm ‖g‖ = √(Σ_params ‖g_p‖²), summed in registration order (deterministic);
//   2. clipping as tf.clip_by_global_norm: every gradient is scaled by max_norm / max(‖g‖,
//   max_norm);
//   3. per parameter: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
//      p −= lr·s · (m/(√v + ε) + wd·p), wd = 0 for LayerNorm weights and biases
//      (Parameter::weight_decay), no bias correction unless asked for; s is the parameter's
//      learning-rate scale, 1 unless given (fine-tuning's layer-wise decay fills the scales:
//      layerwise_learning_rate_scales in models/finetuning/classifier.hpp).
// The clipping is folded into the kernel (AdamWSettings::gradient_scale) so gradients are not
// rewritten. Moments are tensors keyed by parameter name and saved/loaded as safetensors.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "models/formats/safetensors.hpp"
#include "models/networks/config.hpp"

namespace electra {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-6;
  double weight_decay = 0.01;    // for parameters with Parameter::weight_decay set
  double max_grad_norm = 1.0;    // ≤ 0 disables clipping
  bool bias_correction = false;  // the official ELECTRA optimizer does not correct
};

// The optimizer settings a model config carries (adam_beta1, …, max_grad_norm).
AdamWConfig adamw_config(const ModelConfig& config);

struct OptimizerStepReport {
  double grad_norm = 0;       // before clipping
  double gradient_scale = 1;  // the clipping factor applied (1 when no clipping happened)
  double learning_rate = 0;
};

class AdamW {
 public:
  // Allocates zero moments for every parameter now, with the parameter's shape, dtype and device.
  // learning_rate_scales: one finite scale ≥ 0 per parameter, in registration order; empty means
  // 1 for every parameter.
  AdamW(ParameterStore& parameters, AdamWConfig config = {},
        std::vector<double> learning_rate_scales = {});

  // One update with the given rate from the gradients now held by the parameters. A parameter
  // without a gradient buffer is skipped (no moment update, no decay), as TF skips None grads.
  // A non-finite gradient norm throws electra::Error before any parameter is touched.
  OptimizerStepReport step(double learning_rate);
  // √(Σ ‖g_p‖²) over the parameters that have gradients.
  double global_grad_norm() const;

  std::int64_t updates_applied() const { return updates_applied_; }
  const AdamWConfig& config() const { return config_; }
  const std::vector<double>& learning_rate_scales() const { return learning_rate_scales_; }
  const Tensor& first_moment(const std::string& parameter_name) const;
  const Tensor& second_moment(const std::string& parameter_name) const;

  // Moments as "<parameter>/adam_m" and "<parameter>/adam_v" (the official TF slot names), with
  // updates_applied in the metadata.
  std::vector<NamedTensor> state_tensors() const;
  std::map<std::string, std::string> state_metadata() const;
  // Restores moments and the update count; every parameter's moments must be present with the
  // parameter's shape and dtype (a mismatch names the tensor and both shapes). `source` names the
  // file in messages.
  void load_state(const SafetensorsContents& contents, const std::string& source);

 private:
  struct Moments {
    Tensor first;   // m, like the parameter
    Tensor second;  // v, like the parameter
  };
  const Moments& moments_of(const std::string& parameter_name) const;

  ParameterStore& parameters_;
  AdamWConfig config_;
  std::vector<double> learning_rate_scales_;  // one per parameter, registration order
  std::map<std::string, Moments> moments_;
  std::int64_t updates_applied_ = 0;
};

}  // namespace electra
