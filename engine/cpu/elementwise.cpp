// Elementwise kernels: Eigen array maps over raw buffers, split across cores in chunks by oneTBB.
// Each element is computed independently, so results do not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/cpu/cpu_common.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// Checks a binary elementwise kernel's operands: all on cpu, non-empty, float, same shape/dtype.
void check_binary(const char* kernel, const Tensor& a, const Tensor& b, const Tensor& out) {
  cpu::require_nonempty(kernel, a);
  cpu::require_nonempty(kernel, b);
  cpu::require_float(kernel, a);
  cpu::require_same(kernel, a, b);
  cpu::require_same(kernel, a, out);
}

void in_chunks(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& body) {
  parallel_for(0, count, cpu::elementwise_grain, body);
}

}  // namespace

void copy(const Tensor& source, Tensor& destination) {
  ELECTRA_CUDA_DISPATCH(copy, (source, destination), source, destination);
  cpu::require_nonempty("copy", source);
  cpu::require_same("copy", source, destination);
  const auto* from = static_cast<const char*>(source.raw());
  auto* to = static_cast<char*>(destination.raw());
  const std::int64_t bytes = static_cast<std::int64_t>(source.nbytes());
  parallel_for(0, bytes, cpu::elementwise_grain * 8, [&](std::int64_t begin, std::int64_t end) {
    std::memcpy(to + begin, from + begin, end - begin);
  });
}

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(add, (a, b, out), a, b, out);
  check_binary("add", a, b, out);
  cpu::dispatch_float("add", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          cpu::const_array_map<T>(a, begin, end) + cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(mul, (a, b, out), a, b, out);
  check_binary("mul", a, b, out);
  cpu::dispatch_float("mul", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          cpu::const_array_map<T>(a, begin, end) * cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(mul_accumulate, (a, b, out), a, b, out);
  check_binary("mul_accumulate", a, b, out);
  cpu::dispatch_float("mul_accumulate", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) +=
          cpu::const_array_map<T>(a, begin, end) * cpu::const_array_map<T>(b, begin, end);
    });
  });
}

void scale(const Tensor& a, double alpha, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(scale, (a, alpha, out), a, out);
  cpu::require_nonempty("scale", a);
  cpu::require_float("scale", a);
  cpu::require_same("scale", a, out);
  cpu::dispatch_float("scale", a, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(a.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(out, begin, end) =
          static_cast<T>(alpha) * cpu::const_array_map<T>(a, begin, end);
    });
  });
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  ELECTRA_CUDA_DISPATCH(axpy, (alpha, x, y), x, y);
  cpu::require_nonempty("axpy", x);
  cpu::require_float("axpy", x);
  cpu::require_same_numel("axpy", x, y);
  cpu::dispatch_float("axpy", x, [&](auto zero) {
    using T = decltype(zero);
    in_chunks(x.numel(), [&](std::int64_t begin, std::int64_t end) {
      cpu::array_map<T>(y, begin, end) +=
          static_cast<T>(alpha) * cpu::const_array_map<T>(x, begin, end);
    });
  });
}

void add_bias(Tensor& x, const Tensor& bias) {
  ELECTRA_CUDA_DISPATCH(add_bias, (x, bias), x, bias);
  cpu::require_nonempty("add_bias", x);
  cpu::require_float("add_bias", x);
  ELECTRA_CHECK(bias.rank() == 1 && bias.numel() == x.shape().cols(), "add_bias: bias expected shape [",
        x.shape().cols(), "] for x ", x.shape().str(), ", got ", bias.shape().str());
  ELECTRA_CHECK(bias.dtype() == x.dtype(), "add_bias: dtype mismatch ", x.describe(), " vs ",
        bias.describe());
  cpu::dispatch_float("add_bias", x, [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t columns = x.shape().cols();
    const cpu::ConstArrayMap<T> b(bias.data<T>(), columns);
    const std::int64_t row_grain = std::max<std::int64_t>(1, cpu::elementwise_grain / columns);
    parallel_for(0, x.shape().rows(), row_grain, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first; r < last; ++r)
        cpu::ArrayMap<T>(x.data<T>() + r * columns, columns) += b;
    });
  });
}

void broadcast_rows(const Tensor& bias, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(broadcast_rows, (bias, out), bias, out);
  cpu::require_nonempty("broadcast_rows", out);
  cpu::require_float("broadcast_rows", out);
  ELECTRA_CHECK(bias.rank() == 1 && bias.numel() == out.shape().cols(), "broadcast_rows: bias expected [",
        out.shape().cols(), "] for out ", out.shape().str(), ", got ", bias.shape().str());
  ELECTRA_CHECK(bias.dtype() == out.dtype(), "broadcast_rows: dtype mismatch ", bias.describe(), " vs ",
        out.describe());
  const std::size_t row_bytes = bias.nbytes();
  const std::int64_t columns = out.shape().cols();
  const std::int64_t row_grain = std::max<std::int64_t>(1, cpu::elementwise_grain / columns);
  parallel_for(0, out.shape().rows(), row_grain, [&](std::int64_t first, std::int64_t last) {
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
void sum_rows_accumulate(const Tensor& x, Tensor& out) {
  ELECTRA_CUDA_DISPATCH(sum_rows_accumulate, (x, out), x, out);
  cpu::require_nonempty("sum_rows_accumulate", x);
  cpu::require_float("sum_rows_accumulate", x);
  ELECTRA_CHECK(out.rank() == 1 && out.numel() == x.shape().cols(), "sum_rows_accumulate: out expected [",
        x.shape().cols(), "] for x ", x.shape().str(), ", got ", out.shape().str());
  ELECTRA_CHECK(out.dtype() == x.dtype(), "sum_rows_accumulate: dtype mismatch ", x.describe(), " vs ",
        out.describe());
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

}  // namespace electra::kernels
