// AdamW with global-norm clipping: see optimizer.hpp.
#include "models/training/optimizer.hpp"

#include <cmath>
#include <utility>

#include "engine/error.hpp"
#include "engine/kernels.hpp"

namespace electra {

AdamWConfig adamw_config(const ModelConfig& config) {
  AdamWConfig adam;
  adam.beta1 = config.adam_beta1;
  adam.beta2 = config.adam_beta2;
  adam.epsilon = config.adam_epsilon;
  adam.weight_decay = config.weight_decay;
  adam.max_grad_norm = config.max_grad_norm;
  adam.bias_correction = config.adam_bias_correction;
  return adam;
}

AdamW::AdamW(ParameterStore& parameters, AdamWConfig config,
             std::vector<double> learning_rate_scales)
    : parameters_(parameters),
      config_(config),
      learning_rate_scales_(std::move(learning_rate_scales)) {
  check(config_.beta1 >= 0 && config_.beta1 < 1, "AdamW: beta1 must be in [0, 1), got ",
        config_.beta1);
  check(config_.beta2 >= 0 && config_.beta2 < 1, "AdamW: beta2 must be in [0, 1), got ",
        config_.beta2);
  check(config_.epsilon > 0, "AdamW: epsilon must be > 0, got ", config_.epsilon);
  check(config_.weight_decay >= 0, "AdamW: weight_decay must be ≥ 0, got ", config_.weight_decay);
  if (learning_rate_scales_.empty()) learning_rate_scales_.assign(parameters_.size(), 1.0);
  check(learning_rate_scales_.size() == parameters_.size(), "AdamW: ", learning_rate_scales_.size(),
        " learning-rate scales for ", parameters_.size(), " parameters");
  for (std::size_t i = 0; i < learning_rate_scales_.size(); ++i) {
    check(std::isfinite(learning_rate_scales_[i]) && learning_rate_scales_[i] >= 0,
          "AdamW: the learning-rate scale of parameter '", parameters_.parameters()[i].name,
          "' must be finite and ≥ 0, got ", learning_rate_scales_[i]);
  }
  for (const Parameter& parameter : parameters_.parameters()) {
    const Tensor& value = parameter.var.value();
    moments_[parameter.name] = {Tensor::zeros(value.shape(), value.dtype(), value.device()),
                                Tensor::zeros(value.shape(), value.dtype(), value.device())};
  }
}

const AdamW::Moments& AdamW::moments_of(const std::string& parameter_name) const {
  auto found = moments_.find(parameter_name);
  check(found != moments_.end(), "AdamW: no moments for parameter '", parameter_name,
        "' (registered after the optimizer was made?)");
  return found->second;
}

const Tensor& AdamW::first_moment(const std::string& parameter_name) const {
  return moments_of(parameter_name).first;
}
const Tensor& AdamW::second_moment(const std::string& parameter_name) const {
  return moments_of(parameter_name).second;
}

double AdamW::global_grad_norm() const {
  double sum_of_squares = 0;
  for (const Parameter& parameter : parameters_.parameters()) {
    if (parameter.var.has_grad()) sum_of_squares += kernels::squared_norm(parameter.var.grad());
  }
  return std::sqrt(sum_of_squares);
}

OptimizerStepReport AdamW::step(double learning_rate) {
  check(std::isfinite(learning_rate) && learning_rate >= 0,
        "AdamW: learning rate must be finite and ≥ 0, got ", learning_rate);
  OptimizerStepReport report;
  report.learning_rate = learning_rate;
  report.grad_norm = global_grad_norm();
  check(std::isfinite(report.grad_norm), "AdamW: gradient norm is ", report.grad_norm,
        " at update ", updates_applied_ + 1, "; parameters left unchanged");
  if (config_.max_grad_norm > 0 && report.grad_norm > config_.max_grad_norm) {
    report.gradient_scale = config_.max_grad_norm / report.grad_norm;
  }

  kernels::AdamWSettings settings;
  settings.beta1 = config_.beta1;
  settings.beta2 = config_.beta2;
  settings.epsilon = config_.epsilon;
  settings.bias_correction = config_.bias_correction;
  settings.step = updates_applied_ + 1;
  settings.gradient_scale = report.gradient_scale;
  const std::vector<Parameter>& parameters = parameters_.parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const Parameter& parameter = parameters[i];
    if (!parameter.var.has_grad()) continue;
    auto found = moments_.find(parameter.name);
    check(found != moments_.end() && i < learning_rate_scales_.size(),
          "AdamW: no moments for parameter '", parameter.name,
          "' (registered after the optimizer was made?)");
    // lr · 1 is lr exactly, so unscaled parameters update bit-identically to a plain AdamW.
    settings.learning_rate = learning_rate * learning_rate_scales_[i];
    settings.weight_decay = parameter.weight_decay ? config_.weight_decay : 0.0;
    Var var = parameter.var;
    kernels::adamw_update(var.value(), var.grad(), found->second.first, found->second.second,
                          settings);
  }
  ++updates_applied_;
  return report;
}

std::vector<NamedTensor> AdamW::state_tensors() const {
  std::vector<NamedTensor> tensors;
  for (const Parameter& parameter : parameters_.parameters()) {
    const Moments& moments = moments_of(parameter.name);
    tensors.push_back({parameter.name + "/adam_m", moments.first});
    tensors.push_back({parameter.name + "/adam_v", moments.second});
  }
  return tensors;
}

std::map<std::string, std::string> AdamW::state_metadata() const {
  return {{"format", "electra.cpp adamw v1"},
          {"updates_applied", std::to_string(updates_applied_)}};
}

void AdamW::load_state(const SafetensorsContents& contents, const std::string& source) {
  auto metadata = contents.metadata.find("updates_applied");
  check(metadata != contents.metadata.end(), "AdamW: ", source,
        ": missing metadata 'updates_applied'");
  std::int64_t updates = 0;
  try {
    std::size_t used = 0;
    updates = std::stoll(metadata->second, &used);
    if (used != metadata->second.size() || updates < 0)
      throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw_error("AdamW: ", source, ": updates_applied '", metadata->second,
                "' is not a non-negative integer");
  }
  // Validate everything first so a bad file leaves the optimizer as it was.
  std::map<std::string, Moments> loaded;
  for (const Parameter& parameter : parameters_.parameters()) {
    const Tensor& value = parameter.var.value();
    auto take = [&](const std::string& name) {
      const Tensor* stored = contents.find(name);
      check(stored != nullptr, "AdamW: ", source, ": missing tensor '", name, "'");
      check(stored->shape() == value.shape() && stored->dtype() == value.dtype(), "AdamW: ", source,
            ": tensor '", name, "' is ", dtype_name(stored->dtype()), stored->shape().str(),
            " but the parameter is ", dtype_name(value.dtype()), value.shape().str());
      // A private copy on the parameter's device: the optimizer updates moments in place.
      return stored->device() == value.device() ? stored->clone() : stored->to(value.device());
    };
    loaded[parameter.name] = {take(parameter.name + "/adam_m"), take(parameter.name + "/adam_v")};
  }
  check(contents.tensors.size() == 2 * parameters_.size(), "AdamW: ", source, ": holds ",
        contents.tensors.size(), " tensors, expected ", 2 * parameters_.size(),
        " (two moments per parameter)");
  moments_ = std::move(loaded);
  updates_applied_ = updates;
}

}  // namespace electra
