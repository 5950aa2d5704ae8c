#pragma once
// Var: a value tensor, its (lazily allocated) gradient and the index of the tape node that made
// it. A Var is a cheap handle; copies refer to the same variable.
#include <memory>
#include <string>

#include "engine/tensor.hpp"

namespace electra {

class Var {
 public:
  Var() = default;
  // A leaf: a parameter (requires_grad) or a constant input (does not).
  explicit Var(Tensor value, bool requires_grad = false, std::string name = {});

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const { return impl_->value; }
  Tensor& value() { return impl_->value; }
  const Shape& shape() const { return impl_->value.shape(); }
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  const std::string& name() const { return impl_->name; }
  int node() const { return impl_->node; }  // −1 for leaves

  bool has_grad() const { return impl_->grad.defined(); }
  const Tensor& grad() const { return impl_->grad; }
  // The gradient buffer, allocated as zeros on first use (backward accumulates into it).
  Tensor& grad_buffer();
  void zero_grad();  // keeps the buffer, fills it with zeros
  void drop_grad();  // releases the buffer

  bool is_same(const Var& other) const { return impl_ == other.impl_; }

 private:
  friend class Tape;
  struct Impl {
    Tensor value;
    Tensor grad;
    bool requires_grad = false;
    int node = -1;
    std::string name;
  };
  std::shared_ptr<Impl> impl_;
};

}  // namespace electra
