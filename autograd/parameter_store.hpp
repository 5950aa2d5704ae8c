#pragma once
// ParameterStore: the model's long-lived leaf Vars, registered by name (HF ELECTRA state-dict
// names, DESIGN §4). The optimizer, checkpoints and export all walk it in registration order.
#include <map>
#include <string>
#include <vector>

#include "autograd/var.hpp"

namespace electra {

struct Parameter {
  std::string name;
  Var var;
  bool weight_decay = true;  // false for LayerNorm weights and biases
};

class ParameterStore {
 public:
  // Registers a new trainable leaf; a duplicate name is an error.
  Var add(const std::string& name, Tensor value, bool weight_decay);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  Var get(const std::string& name) const;  // throws naming the missing parameter
  const std::vector<Parameter>& parameters() const { return parameters_; }
  std::size_t size() const { return parameters_.size(); }
  std::int64_t total_numel() const;
  void zero_grad();

 private:
  std::vector<Parameter> parameters_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace electra
