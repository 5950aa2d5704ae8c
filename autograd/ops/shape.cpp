// Shape ops: reshape (a view), the head split/merge of multi-head attention and the row concat
// that stacks the query/key/value weights into one fused projection.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {

// x [any] → the same elements viewed as `shape` (no copy); the gradient flows back unchanged.
Var reshape(Tape& tape, const Var& x, const Shape& shape) {
  check_defined("reshape", "x", x);
  check(shape.numel() == x.value().numel(), "reshape: cannot view x ", x.shape(), " (",
        x.value().numel(), " elements) as ", shape);
  return tape.record("reshape", {x}, x.value().reshape(shape), [x = x](const Var& output) mutable {
    if (x.requires_grad()) kernels::axpy(1.0, output.grad(), x.grad_buffer());
  });
}

// x [B, L, H·D] → [B, H, L, D]
Var split_heads(Tape& tape, const Var& x, std::int64_t heads) {
  check_float_input("split_heads", "x", x);
  const Shape& shape = x.shape();
  check(shape.rank() == 3, "split_heads: x must be [B, L, H·D], got ", shape);
  check(heads > 0 && shape[2] % heads == 0, "split_heads: hidden size ", shape[2], " of x ", shape,
        " is not divisible by ", heads, " heads");
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
  check_float_input("merge_heads", "x", x);
  const Shape& shape = x.shape();
  check(shape.rank() == 4, "merge_heads: x must be [B, H, L, D], got ", shape);
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

// parts [R_i, C...] (same trailing dims) → [Σ R_i, C...], stacked along the first axis; the
// gradient is split back into the parts' row blocks.
Var concat_rows(Tape& tape, const std::vector<Var>& parts) {
  const char* op = "concat_rows";
  check(!parts.empty(), op, ": no parts to concatenate");
  check_float_input(op, "part 0", parts[0]);
  const Shape& first = parts[0].shape();
  check(first.rank() >= 1, op, ": part 0 must have a first axis, got ", first);
  std::vector<std::int64_t> trailing_of_first = first.dims();
  trailing_of_first[0] = 0;  // every dimension but the first must match
  std::vector<std::int64_t> dims = trailing_of_first;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string what = "part " + std::to_string(i);
    check_float_input(op, what.c_str(), parts[i]);
    check_same_dtype(op, parts[0], parts[i]);
    check(parts[i].value().device() == parts[0].value().device(), op, ": ", what, " is on ",
          device_name(parts[i].value().device()), ", part 0 on ",
          device_name(parts[0].value().device()));
    std::vector<std::int64_t> trailing = parts[i].shape().dims();
    const std::int64_t rows = trailing[0];
    trailing[0] = 0;
    check(trailing == trailing_of_first, op, ": ", what, " ", parts[i].shape(),
          " does not stack under part 0 ", first);
    dims[0] += rows;
  }
  Tensor y = Tensor::empty(Shape(dims), parts[0].value().dtype(), parts[0].value().device());
  std::int64_t row = 0;
  for (const Var& part : parts) {
    kernels::copy_rows_into(part.value(), y, row);
    row += part.shape()[0];
  }
  return tape.record(op, parts, y, [parts = parts](const Var& output) mutable {
    std::int64_t first_row = 0;
    for (Var& part : parts) {
      if (part.requires_grad())
        kernels::rows_of_accumulate(output.grad(), first_row, part.grad_buffer());
      first_row += part.shape()[0];
    }
  });
}

}  // namespace electra::ops
