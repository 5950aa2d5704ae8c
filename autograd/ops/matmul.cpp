// Matrix products: linear layers and the batched products of attention.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [..., in], weight [out, in], bias [out] (optional) → y [..., out] = x · weightᵀ + bias.
Var linear(Tape& tape, const Var& x, const Var& weight, const Var& bias) {
  check_float_input("linear", "x", x);
  check_float_input("linear", "weight", weight);
  check_same_dtype("linear", x, weight);
  const Shape& x_shape = x.shape();
  check(weight.value().rank() == 2 && x_shape.rank() >= 1 && weight.shape()[1] == x_shape[-1],
        "linear: x ", x_shape, " does not fit weight ", weight.shape(), " (expected weight [out, ",
        x_shape.rank() >= 1 ? x_shape[-1] : 0, "])");
  const std::int64_t out_features = weight.shape()[0];
  const bool has_bias = bias.defined();
  if (has_bias) {
    check_float_input("linear", "bias", bias);
    check_same_dtype("linear", x, bias);
    check(bias.shape() == Shape{out_features}, "linear: bias expected [", out_features,
          "] for weight ", weight.shape(), ", got ", bias.shape());
  }
  std::vector<std::int64_t> y_dims = x_shape.dims();
  y_dims.back() = out_features;
  Tensor y = Tensor::empty(Shape(y_dims), x.value().dtype(), x.value().device());
  // With a bias, y starts as the bias in every row and gemm adds x·Wᵀ (beta = 1): one pass over
  // y instead of gemm's own zeroing pass plus a separate bias pass.
  if (has_bias) kernels::broadcast_rows(bias.value(), y);
  kernels::gemm(x.value(), false, weight.value(), true, y, 1.0, has_bias ? 1.0 : 0.0);

  std::vector<Var> inputs{x, weight};
  if (has_bias) inputs.push_back(bias);
  return tape.record("linear", std::move(inputs), y,
                     [x = x, weight = weight, bias = bias, has_bias](const Var& output) mutable {
                       const Tensor& dy = output.grad();  // [..., out]
                       // dx [..., in] += dy · weight
                       if (x.requires_grad())
                         kernels::gemm(dy, false, weight.value(), false, x.grad_buffer(), 1, 1);
                       // dweight [out, in] += dyᵀ · x
                       if (weight.requires_grad())
                         kernels::gemm(dy, true, x.value(), false, weight.grad_buffer(), 1, 1);
                       // dbias [out] += Σ_rows dy
                       if (has_bias && bias.requires_grad())
                         kernels::sum_rows_accumulate(dy, bias.grad_buffer());
                     });
}

// a [B, M, K] (or [B, K, M] transposed), b [B, K, N] (or [B, N, K]) → c [B, M, N];
// rank-4 [B, H, ·, ·] batch over B·H.
Var batched_matmul(Tape& tape, const Var& a, bool transpose_a, const Var& b, bool transpose_b) {
  check_float_input("batched_matmul", "a", a);
  check_float_input("batched_matmul", "b", b);
  check_same_dtype("batched_matmul", a, b);
  const Shape& a_shape = a.shape();
  const Shape& b_shape = b.shape();
  check((a_shape.rank() == 3 || a_shape.rank() == 4) && a_shape.rank() == b_shape.rank(),
        "batched_matmul: a and b must both be rank 3 or both rank 4, got ", a_shape, " and ",
        b_shape);
  const int rank = a_shape.rank();
  for (int axis = 0; axis < rank - 2; ++axis)
    check(a_shape[axis] == b_shape[axis], "batched_matmul: batch dimensions differ: a ", a_shape,
          " vs b ", b_shape);
  const std::int64_t m = transpose_a ? a_shape[-1] : a_shape[-2];
  const std::int64_t k = transpose_a ? a_shape[-2] : a_shape[-1];
  const std::int64_t k_b = transpose_b ? b_shape[-1] : b_shape[-2];
  const std::int64_t n = transpose_b ? b_shape[-2] : b_shape[-1];
  check(k == k_b, "batched_matmul: inner dimensions differ: a ", a_shape, transpose_a ? "ᵀ" : "",
        " vs b ", b_shape, transpose_b ? "ᵀ" : "");
  std::vector<std::int64_t> c_dims = a_shape.dims();
  c_dims[rank - 2] = m;
  c_dims[rank - 1] = n;
  Tensor c = Tensor::empty(Shape(c_dims), a.value().dtype(), a.value().device());
  kernels::gemm_batched(a.value(), transpose_a, b.value(), transpose_b, c);

  return tape.record(
      "batched_matmul", {a, b}, c,
      [a = a, b = b, transpose_a, transpose_b](const Var& output) mutable {
        const Tensor& dc = output.grad();  // [B, M, N]
        // With A = op(a), B = op(b): dA = dC · Bᵀ and dB = Aᵀ · dC; a transposed input receives
        // the transpose, which is again one product with the flags swapped around.
        if (a.requires_grad()) {
          if (!transpose_a)
            kernels::gemm_batched(dc, false, b.value(), !transpose_b, a.grad_buffer(), 1, 1);
          else
            kernels::gemm_batched(b.value(), transpose_b, dc, true, a.grad_buffer(), 1, 1);
        }
        if (b.requires_grad()) {
          if (!transpose_b)
            kernels::gemm_batched(a.value(), !transpose_a, dc, false, b.grad_buffer(), 1, 1);
          else
            kernels::gemm_batched(dc, true, a.value(), transpose_a, b.grad_buffer(), 1, 1);
        }
      });
}

}  // namespace electra::ops
