// bias_grad: a linear layer's bias gradient, the column sums of its output gradient,
// kernels::sum_rows_accumulate (autograd/ops/matmul.cpp). The speed work replaced column
// blocks walking down every row (d633db4) and then one-row chunks for the 30 522-wide MLM bias
// (fa3a992) with fixed 512 × 4096 tiles.
// dy [rows, C] → out [C] += Σ_rows dy.
#include <Eigen/Core>

#include "engine/kernels.hpp"
#include "tools/kernels/workbench.hpp"

namespace electra::workbench {
namespace {

// 0 reference: one column at a time, double accumulation.
void bias_grad_0_reference(const Tensor& dy, Tensor& out) {
  const std::int64_t rows = dy.shape().rows(), columns = dy.shape().cols();
  for (std::int64_t c = 0; c < columns; ++c) {
    double sum = 0;
    for (std::int64_t r = 0; r < rows; ++r) sum += dy.data<float>()[r * columns + c];
    out.data<float>()[c] += static_cast<float>(sum);
  }
}

// 1 the reference in float, one thread: each step down a column touches a new cache line (and,
// for C ≥ 1 024, a new page), the access pattern of the kernel before d633db4.
void bias_grad_1_column_walk(const Tensor& dy, Tensor& out) {
  const std::int64_t rows = dy.shape().rows(), columns = dy.shape().cols();
  for (std::int64_t c = 0; c < columns; ++c) {
    float sum = 0;
    for (std::int64_t r = 0; r < rows; ++r) sum += dy.data<float>()[r * columns + c];
    out.data<float>()[c] += sum;
  }
}

// 2 row by row into a float accumulator, one thread: memory is read in order and the inner loop
// vectorises; the accumulator (C floats) stays in cache up to C ≈ 64 K.
void bias_grad_2_row_stream(const Tensor& dy, Tensor& out) {
  const std::int64_t rows = dy.shape().rows(), columns = dy.shape().cols();
  Eigen::Map<Eigen::ArrayXf> totals(out.data<float>(), columns);
  for (std::int64_t r = 0; r < rows; ++r)
    totals += Eigen::Map<const Eigen::ArrayXf>(dy.data<float>() + r * columns, columns);
}

// 3 production: fixed 512 × 4 096 tiles over the cores, double totals summed in a fixed order
// (the result does not depend on the thread count).
void bias_grad_3_production(const Tensor& dy, Tensor& out) {
  kernels::sum_rows_accumulate(dy, out);
}

// 4 as a product, ones [1, rows] · dy [rows, C] with beta = 1 (how cuBLAS code often does it):
// one gemm call, but OpenBLAS packs dy for a one-row product.
void bias_grad_4_gemm(const Tensor& ones, const Tensor& dy, Tensor& out) {
  Tensor out_row = out.reshape({1, out.numel()});
  kernels::gemm(ones, false, dy, false, out_row, 1.0, 1.0);
}

using BiasGrad = void (*)(const Tensor&, Tensor&);

Case make_case(const std::string& what, std::int64_t rows, std::int64_t columns) {
  const Tensor dy = random_tensor({rows, columns}, 11);
  Case c{"bias_grad",
         "dy [" + std::to_string(rows) + ", " + std::to_string(columns) + "] → [" +
             std::to_string(columns) + "] (" + what + ")",
         4.0 * double(rows) * double(columns),
         "GB/s",
         1e-4,
         {}};
  const auto add = [&](const std::string& name, BiasGrad function) {
    Tensor out = Tensor::zeros({columns});
    c.variants.push_back({name, [=]() mutable { function(dy, out); }, {out}});
  };
  add("reference: columns, double accumulation", bias_grad_0_reference);
  add("columns walked down in float, 1 thread", bias_grad_1_column_walk);
  add("rows streamed into a float row, 1 thread", bias_grad_2_row_stream);
  add("production: 512 x 4096 tiles, double totals", bias_grad_3_production);
  Tensor out = Tensor::zeros({columns});
  const Tensor ones = Tensor::full({1, rows}, 1.0);
  c.variants.push_back({"ones · dy as a gemm (beta = 1)",
                        [=]() mutable { bias_grad_4_gemm(ones, dy, out); },
                        {out}});
  return c;
}

}  // namespace

Family bias_grad_family() {
  return {
      "bias_grad", "out [C] += column sums of dy [rows, C]: every linear layer's bias gradient",
      [](Size size) {
        // tiny crosses the production tiles' edges in both directions (512 rows, 4 096 columns).
        if (size == Size::tiny)
          return std::vector<Case>{make_case("tiles' edges", 515, 4099), make_case("small", 7, 5)};
        return std::vector<Case>{make_case("feed-forward bias", 4096, 1024),
                                 make_case("MLM output bias, 608 masked positions", 608, 30522)};
      }};
}

}  // namespace electra::workbench
