// Elementwise kernels: Eigen array maps over raw buffers, split across cores in chunks by oneTBB.
// Each element is computed independently, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <unsupported/Eigen/SpecialFunctions>
#include <vector>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

void in_chunks(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& body) {
  parallel_for(0, count, cpu::elementwise_grain, body);
}

}  // namespace

void cpu::copy(const Tensor& source, Tensor& destination) {
  parallel_memcpy(destination.raw(), source.raw(), source.nbytes());
}

void cpu::add(const Tensor& a, const Tensor& b, Tensor& out) {
  cpu::dispatch_float("add", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          cpu::const_array_map<T>(a, begin, end) + cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void cpu::mul(const Tensor& a, const Tensor& b, Tensor& out) {
  cpu::dispatch_float("mul", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          cpu::const_array_map<T>(a, begin, end) * cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void cpu::mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out) {
  cpu::dispatch_float("mul_accumulate", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) +=
          cpu::const_array_map<T>(a, begin, end) * cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void cpu::scale(const Tensor& a, double alpha, Tensor& out) {
  cpu::dispatch_float("scale", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          static_cast<T>(alpha) * cpu::const_array_map<T>(a, begin, end);
    });
  });
}

void cpu::axpy(double alpha, const Tensor& x, Tensor& y) {
  cpu::dispatch_float("axpy", x, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(x.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(y, begin, end) +=
          static_cast<T>(alpha) * cpu::const_array_map<T>(x, begin, end);
    });
  });
}

void cpu::add_bias(Tensor& x, const Tensor& bias) {
  cpu::dispatch_float("add_bias", x, [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t columns = x.shape().cols();
    const cpu::ConstArrayMap<T> b(bias.data<T>(), columns);
    parallel_for(0, x.shape().rows(), cpu::row_grain(columns),
                 [&](std::int64_t first, std::int64_t last) {
                   for (std::int64_t r = first; r < last; ++r)
                     cpu::ArrayMap<T>(x.data<T>() + r * columns, columns) += b;
                 });
  });
}

void cpu::broadcast_rows(const Tensor& bias, Tensor& out) {
  const std::size_t row_bytes = bias.nbytes();
  const std::int64_t columns = out.shape().cols();
  parallel_for(
      0, out.shape().rows(), cpu::row_grain(columns), [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t r = first; r < last; ++r)
          std::memcpy(static_cast<char*>(out.raw()) + r * row_bytes, bias.raw(), row_bytes);
      });
}

// out [C] += Σ_rows x [rows, C] (a bias gradient). The matrix is cut into fixed tiles of up to
// 512 rows × 4096 columns, independent of the thread count; each tile streams its row segments
// contiguously into double accumulators, and a column block's tile totals are added in row
// order, so the result is the same on any number of threads. (Walking narrow column blocks down
// all rows touched a new page every row; one-row chunks of a 30k-wide logits gradient cost a
// fresh 240 KB accumulator per row.)
void cpu::sum_rows_accumulate(const Tensor& x, Tensor& out) {
  cpu::dispatch_float("sum_rows_accumulate", x, [&](auto zero) {
    using T = decltype(zero);
    using Totals = Eigen::Array<double, Eigen::Dynamic, 1>;
    constexpr std::int64_t tile_rows = 512, tile_columns = 4096;
    const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
    const std::int64_t row_tiles = (rows + tile_rows - 1) / tile_rows;
    const std::int64_t column_tiles = (columns + tile_columns - 1) / tile_columns;
    std::vector<Totals> tile_totals(row_tiles * column_tiles);  // [column tile][row tile]
    parallel_for(0, row_tiles * column_tiles, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t tile = first; tile < last; ++tile) {
        const std::int64_t column_begin = tile / row_tiles * tile_columns;
        const std::int64_t width = std::min(tile_columns, columns - column_begin);
        const std::int64_t row_begin = tile % row_tiles * tile_rows;
        const std::int64_t row_end = std::min(rows, row_begin + tile_rows);
        Totals totals = Totals::Zero(width);
        for (std::int64_t r = row_begin; r < row_end; ++r)
          totals += cpu::ConstArrayMap<T>(x.data<T>() + r * columns + column_begin, width)
                        .template cast<double>();
        tile_totals[tile] = std::move(totals);
      }
    });
    for (std::int64_t column_tile = 0; column_tile < column_tiles; ++column_tile) {
      Totals total = tile_totals[column_tile * row_tiles];
      for (std::int64_t row_tile = 1; row_tile < row_tiles; ++row_tile)
        total += tile_totals[column_tile * row_tiles + row_tile];
      cpu::ArrayMap<T>(out.data<T>() + column_tile * tile_columns, total.size()) +=
          total.template cast<T>();
    }
  });
}

// ---------------------------------------------------------------- GELU
// Exact (erf) GELU, as BERT/ELECTRA use it: y = x·Φ(x), Φ the standard normal CDF.
// The loops are Eigen array expressions so that erf and exp run on SIMD packets: for f32, Eigen's
// erf is a rational approximation within a few ulp of std::erf (the scalar libm call was the
// step's largest non-GEMM cost); for f64 Eigen calls std::erf, so gradcheck sees libm accuracy.
// x [any] → y [same]
void cpu::gelu_forward(const Tensor& x, Tensor& y) {
  cpu::dispatch_float("gelu_forward", x, [&](auto zero) {
    using T = decltype(zero);
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    parallel_for(0, x.numel(), cpu::elementwise_grain / 4,
                 [&](std::int64_t begin, std::int64_t end) {
                   const auto in = cpu::const_array_map<T>(x, begin, end);
                   auto out = cpu::array_map<T>(y, begin, end);
                   out = static_cast<T>(0.5) * in * (static_cast<T>(1) + (in * inv_sqrt2).erf());
                 });
  });
}

// dx += dy · (Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π).
void cpu::gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* kernel = "gelu_backward_accumulate";
  cpu::dispatch_float(kernel, x, [&](auto zero) {
    using T = decltype(zero);
    const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
    const T inv_sqrt_2pi = static_cast<T>(1.0 / std::sqrt(2.0 * std::numbers::pi));
    parallel_for(
        0, x.numel(), cpu::elementwise_grain / 4, [&](std::int64_t begin, std::int64_t end) {
          const auto in = cpu::const_array_map<T>(x, begin, end);
          const auto grad_out = cpu::const_array_map<T>(dy, begin, end);
          auto grad_in = cpu::array_map<T>(dx, begin, end);
          const auto cdf = static_cast<T>(0.5) * (static_cast<T>(1) + (in * inv_sqrt2).erf());
          const auto pdf = inv_sqrt_2pi * (static_cast<T>(-0.5) * in.square()).exp();
          grad_in += grad_out * (cdf + in * pdf);
        });
  });
}

}  // namespace electra::kernels
