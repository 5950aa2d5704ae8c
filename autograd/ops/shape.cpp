// Shape ops: reshape (a view) and the head split/merge of multi-head attention.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [any] → the same elements viewed as `shape` (no copy); the gradient flows back unchanged.
Var reshape(Tape& tape, const Var& x, const Shape& shape) {
  require_defined("reshape", "x", x);
  ELECTRA_CHECK(shape.numel() == x.value().numel(), "reshape: cannot view x ", x.shape().str(), " (",
        x.value().numel(), " elements) as ", shape.str());
  return tape.record("reshape", {x}, x.value().reshape(shape), [x = x](const Var& output) mutable {
    if (x.requires_grad()) kernels::axpy(1.0, output.grad(), x.grad_buffer());
  });
}

// x [B, L, H·D] → [B, H, L, D]
Var split_heads(Tape& tape, const Var& x, std::int64_t heads) {
  require_float_input("split_heads", "x", x);
  const Shape& shape = x.shape();
  ELECTRA_CHECK(shape.rank() == 3, "split_heads: x must be [B, L, H·D], got ", shape.str());
  ELECTRA_CHECK(heads > 0 && shape[2] % heads == 0, "split_heads: hidden size ", shape[2], " of x ",
        shape.str(), " is not divisible by ", heads, " heads");
  const std::int64_t batch = shape[0], length = shape[1], head_dim = shape[2] / heads;
  Tensor y =
      Tensor::empty(Shape{batch, heads, length, head_dim}, x.value().dtype(), x.value().device());
  kernels::permute_0213(x.value().reshape(Shape{batch, length, heads, head_dim}), y);
  return tape.record("split_heads", {x}, y,
                     [x = x, batch, length, heads, head_dim](const Var& output) mutable {
                       if (!x.requires_grad()) return;
                       // dx [B, L, H, D] += permute(dy [B, H, L, D])
                       Tensor dx = x.grad_buffer().reshape(Shape{batch, length, heads, head_dim});
                       kernels::permute_0213_accumulate(output.grad(), dx);
                     });
}

// x [B, H, L, D] → [B, L, H·D]
Var merge_heads(Tape& tape, const Var& x) {
  require_float_input("merge_heads", "x", x);
  const Shape& shape = x.shape();
  ELECTRA_CHECK(shape.rank() == 4, "merge_heads: x must be [B, H, L, D], got ", shape.str());
  const std::int64_t batch = shape[0], heads = shape[1], length = shape[2], head_dim = shape[3];
  Tensor y =
      Tensor::empty(Shape{batch, length, heads * head_dim}, x.value().dtype(), x.value().device());
  Tensor y_heads = y.reshape(Shape{batch, length, heads, head_dim});
  kernels::permute_0213(x.value(), y_heads);
  return tape.record(
      "merge_heads", {x}, y, [x = x, batch, length, heads, head_dim](const Var& output) mutable {
        // dx [B, H, L, D] += permute(dy [B, L, H, D])
        if (x.requires_grad())
          kernels::permute_0213_accumulate(
              output.grad().reshape(Shape{batch, length, heads, head_dim}), x.grad_buffer());
      });
}

}  // namespace electra::ops
