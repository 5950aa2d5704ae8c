#include "autograd/var.hpp"

namespace electra {

Var::Var(Tensor value, bool requires_grad, std::string name) : impl_(std::make_shared<Impl>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

Tensor& Var::grad_buffer() {
  if (!impl_->grad.defined())
    impl_->grad = Tensor::zeros(impl_->value.shape(), impl_->value.dtype(), impl_->value.device());
  return impl_->grad;
}

void Var::zero_grad() {
  if (impl_->grad.defined()) impl_->grad.zero_();
}

void Var::drop_grad() { impl_->grad = Tensor(); }

}  // namespace electra
