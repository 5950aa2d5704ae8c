#include "autograd/parameter_store.hpp"

namespace electra {

Var ParameterStore::add(const std::string& name, Tensor value, bool weight_decay) {
  check(!contains(name), "ParameterStore: parameter '", name, "' registered twice");
  Var var(std::move(value), /*requires_grad=*/true, name);
  index_[name] = parameters_.size();
  parameters_.push_back(Parameter{name, var, weight_decay});
  return var;
}

Var ParameterStore::get(const std::string& name) const {
  auto found = index_.find(name);
  check(found != index_.end(), "ParameterStore: no parameter named '", name, "'");
  return parameters_[found->second].var;
}

std::int64_t ParameterStore::total_numel() const {
  std::int64_t total = 0;
  for (const Parameter& parameter : parameters_) total += parameter.var.value().numel();
  return total;
}

void ParameterStore::zero_grad() {
  for (Parameter& parameter : parameters_) parameter.var.zero_grad();
}

}  // namespace electra
