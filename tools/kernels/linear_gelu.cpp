// linear_gelu: the feed-forward block's first half, y = GELU(x · Wᵀ + b), i.e. ops::linear
// followed by ops::gelu (models/networks/encoder.cpp). The speed work fused the bias into the GEMM
// (d002256: prefill with the bias, gemm with beta = 1) and vectorised GELU (Eigen's erf).
// x [rows, in], W [out, in], b [out] → h [rows, out] (the pre-activation, kept for backward),
// y [rows, out].
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unsupported/Eigen/SpecialFunctions>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"
#include "tools/kernels/workbench.hpp"

namespace electra::workbench {
namespace {

using FloatArray = Eigen::Map<Eigen::ArrayXf>;
using ConstFloatArray = Eigen::Map<const Eigen::ArrayXf>;

// y = 0.5 · h · (1 + erf(h / √2)) on n contiguous floats, Eigen's SIMD erf (as
// engine/cpu/elementwise.cpp).
void gelu_span(const float* h, float* y, std::int64_t n) {
  const ConstFloatArray in(h, n);
  FloatArray(y, n) =
      0.5f * in * (1.0f + (in * static_cast<float>(1.0 / std::numbers::sqrt2)).erf());
}

// 0 reference: plain loops, double accumulation, std::erf.
void linear_gelu_0_reference(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& h,
                             Tensor& y) {
  const std::int64_t rows = x.shape().rows(), in = x.shape().cols(), out = w.shape().rows();
  const float *xs = x.data<float>(), *ws = w.data<float>(), *bs = b.data<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = bs[o];
      for (std::int64_t k = 0; k < in; ++k) sum += double(xs[r * in + k]) * ws[o * in + k];
      h.data<float>()[r * out + o] = static_cast<float>(sum);
      y.data<float>()[r * out + o] =
          static_cast<float>(0.5 * sum * (1.0 + std::erf(sum / std::numbers::sqrt2)));
    }
}

// 1 gemm, then add_bias, then gelu_forward: three passes over the output (the linear layer
// before d002256 added the bias in a pass of its own).
void linear_gelu_1_three_passes(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& h,
                                Tensor& y) {
  kernels::gemm(x, false, w, true, h);
  kernels::add_bias(h, b);
  kernels::gelu_forward(h, y);
}

// 2 production (ops::linear + ops::gelu): broadcast_rows prefills h with the bias and gemm adds
// into it (beta = 1), so the bias costs a write instead of a read-modify-write pass.
void linear_gelu_2_production(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& h,
                              Tensor& y) {
  kernels::broadcast_rows(b, h);
  kernels::gemm(x, false, w, true, h, 1.0, 1.0);
  kernels::gelu_forward(h, y);
}

// 3 gemm, then bias and GELU in one pass per row (reads h once instead of twice): the epilogue
// fused, the product left as it is.
void linear_gelu_3_fused_epilogue(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& h,
                                  Tensor& y) {
  kernels::gemm(x, false, w, true, h);
  const std::int64_t out = h.shape().cols();
  parallel_for(0, h.shape().rows(), 16, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t r = first; r < last; ++r) {
      float* row = h.data<float>() + r * out;
      FloatArray(row, out) += ConstFloatArray(b.data<float>(), out);
      gelu_span(row, y.data<float>() + r * out, out);
    }
  });
}

// 4 per band of 128 rows: bias prefill, one sgemm (beta = 1), GELU while the band (512 KB at
// out = 1 024) is still in L2, as a GPU epilogue would; costs one packing of W per band.
void linear_gelu_4_banded(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& h, Tensor& y) {
  constexpr std::int64_t band_rows = 128;
  const std::int64_t rows = x.shape().rows(), in = x.shape().cols(), out = w.shape().rows();
  const std::int64_t bands = (rows + band_rows - 1) / band_rows;
  parallel_for(0, bands, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t band = first; band < last; ++band) {
      const std::int64_t row = band * band_rows, n = std::min(band_rows, rows - row);
      float* hs = h.data<float>() + row * out;
      for (std::int64_t r = 0; r < n; ++r)
        FloatArray(hs + r * out, out) = ConstFloatArray(b.data<float>(), out);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(out), int(in), 1.0f,
                  x.data<float>() + row * in, int(in), w.data<float>(), int(in), 1.0f, hs,
                  int(out));
      gelu_span(hs, y.data<float>() + row * out, n * out);
    }
  });
}

using LinearGelu = void (*)(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&);

Case make_case(std::int64_t rows, std::int64_t in, std::int64_t out) {
  // Weights at BERT's initialisation scale (0.02) times √in keep h around unit size, where
  // GELU's curvature is (a tiny h would make the check a check of the identity).
  const Tensor x = random_tensor({rows, in}, 1);
  const Tensor w = random_tensor({out, in}, 2, 1.0 / std::sqrt(double(in)));
  const Tensor b = random_tensor({out}, 3, 0.5);
  Case c{"linear_gelu",
         "x [" + std::to_string(rows) + ", " + std::to_string(in) + "] · Wᵀ [" +
             std::to_string(out) + ", " + std::to_string(in) + "] + b, GELU",
         2.0 * double(rows) * double(in) * double(out),
         "GFLOP/s",
         1e-4,
         {}};
  const auto add = [&](const std::string& name, LinearGelu function) {
    Tensor h = Tensor::zeros({rows, out}), y = Tensor::zeros({rows, out});
    c.variants.push_back({name, [=]() mutable { function(x, w, b, h, y); }, {h, y}});
  };
  add("reference: loops, double accumulation", linear_gelu_0_reference);
  add("gemm, add_bias, gelu_forward (three passes)", linear_gelu_1_three_passes);
  add("production: broadcast_rows, gemm beta=1, gelu", linear_gelu_2_production);
  add("gemm, then bias + GELU in one pass", linear_gelu_3_fused_epilogue);
  add("128-row bands: bias, sgemm, GELU in cache", linear_gelu_4_banded);
  return c;
}

}  // namespace

Family linear_gelu_family() {
  return {"linear_gelu", "y = GELU(x·Wᵀ + b): the feed-forward block's first linear and GELU",
          [](Size size) {
            // tiny: 300 rows cross the 128-row bands and gemm's row split; bench: ELECTRA-Small.
            if (size == Size::tiny) return std::vector<Case>{make_case(300, 48, 80)};
            return std::vector<Case>{make_case(4096, 256, 1024)};
          }};
}

}  // namespace electra::workbench
