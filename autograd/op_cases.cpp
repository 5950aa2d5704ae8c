#include "autograd/op_cases.hpp"

#include <random>

namespace electra {

Tensor random_f64(const Shape& shape, std::uint64_t seed, double low, double high) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  Tensor tensor = Tensor::empty(shape, DType::f64);
  for (std::int64_t i = 0; i < tensor.numel(); ++i)
    tensor.data<double>()[i] = distribution(generator);
  return tensor;
}

Tensor constant_like(const Tensor& constant, const Var& reference) {
  const Tensor& like = reference.value();
  Tensor moved = constant;
  if (constant.dtype() != DType::i32 && constant.dtype() != like.dtype())
    moved = moved.to(like.dtype());
  if (moved.device() != like.device()) moved = moved.to(like.device());
  return moved;
}

Tensor scalar(double value) { return Tensor::full(Shape{1}, value, DType::f64); }

std::vector<OpCase> all_op_cases() {
  std::vector<OpCase> cases;
  append_matmul_cases(cases);
  append_elementwise_cases(cases);
  append_reduce_cases(cases);
  append_shape_cases(cases);
  append_softmax_cases(cases);
  append_layer_norm_cases(cases);
  append_embedding_cases(cases);
  append_dropout_cases(cases);
  append_loss_cases(cases);
  append_focal_cases(cases);
  append_attention_cases(cases);
  append_copy_mixture_cases(cases);
  return cases;
}

std::vector<KernelCase> all_kernel_cases() {
  std::vector<KernelCase> cases;
  append_kernel_cases(cases);
  return cases;
}

}  // namespace electra
