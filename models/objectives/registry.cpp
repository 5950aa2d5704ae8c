#include "models/objectives/registry.hpp"

namespace electra {

const std::vector<ObjectiveSpec>& objective_table() {
  static const std::vector<ObjectiveSpec> table{
      electra_objective(),        electra15_objective(),  replace_mlm_objective(),
      all_tokens_mlm_objective(), electra_hp_objective(), mlm_objective(),
  };
  return table;
}

const ObjectiveSpec* lookup_objective(const std::string& name) {
  for (const ObjectiveSpec& spec : objective_table())
    if (spec.name == name) return &spec;
  return nullptr;
}

const ObjectiveSpec& find_objective(const std::string& name) {
  if (const ObjectiveSpec* spec = lookup_objective(name)) return *spec;
  throw_error("objective = '", name, "': unknown (registered: ", objective_names(), ")");
}

const Tensor& HeldValues::hold(const std::string& name, const Tensor& value) {
  for (const auto& [held_name, held_value] : values_)
    if (held_name == name) return held_value;
  return values_.emplace_back(name, value).second;
}

std::string objective_names() {
  std::string names;
  for (const ObjectiveSpec& spec : objective_table())
    names += (names.empty() ? "" : ", ") + spec.name;
  return names;
}

}  // namespace electra
