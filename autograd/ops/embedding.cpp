// Row lookups: token/position/type embeddings and gathering the masked positions.
#include "autograd/ops.hpp"
#include "autograd/ops/op_checks.hpp"

namespace electra::ops {
namespace {

void require_ids(const char* op, const char* what, const Tensor& ids) {
  check(ids.defined() && ids.numel() > 0, op, ": ", what, " is empty");
  check(ids.dtype() == DType::i32, op, ": ", what, " must be i32, got ", ids);
}

}  // namespace

// table [V, E], ids i32 [...] → out [..., E]
Var embedding(Tape& tape, const Var& table, const Tensor& ids) {
  check_float_input("embedding", "table", table);
  check(table.shape().rank() == 2, "embedding: table must be [V, E], got ", table.shape());
  require_ids("embedding", "ids", ids);
  check(ids.rank() <= 3, "embedding: ids ", ids.shape(),
        " has rank > 3 (the output would exceed rank 4)");
  std::vector<std::int64_t> out_dims = ids.shape().dims();
  out_dims.push_back(table.shape()[1]);
  Tensor out = Tensor::empty(Shape(out_dims), table.value().dtype(), table.value().device());
  kernels::embedding_forward(table.value(), ids, out);
  return tape.record("embedding", {table}, out, [table = table, ids](const Var& output) mutable {
    // dtable [V, E] += scatter of dout by ids (deterministic)
    if (table.requires_grad())
      kernels::embedding_backward_accumulate(ids, output.grad(), table.grad_buffer());
  });
}

// x [..., C] viewed as [R, C], index i32 [K] → out [K, C]
Var gather_rows(Tape& tape, const Var& x, const Tensor& index) {
  check_float_input("gather_rows", "x", x);
  check(x.shape().rank() >= 2, "gather_rows: x must have rank ≥ 2, got ", x.shape());
  require_ids("gather_rows", "index", index);
  check(index.rank() == 1, "gather_rows: index must be [K], got ", index.shape());
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  Tensor out = Tensor::empty(Shape{index.numel(), columns}, x.value().dtype(), x.value().device());
  kernels::gather_rows(x.value().reshape(Shape{rows, columns}), index, out);
  return tape.record("gather_rows", {x}, out,
                     [x = x, index, rows, columns](const Var& output) mutable {
                       if (!x.requires_grad()) return;
                       // dx [R, C] += scatter of dout [K, C] by index
                       Tensor dx = x.grad_buffer().reshape(Shape{rows, columns});
                       kernels::embedding_backward_accumulate(index, output.grad(), dx);
                     });
}

}  // namespace electra::ops
