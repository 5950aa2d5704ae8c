// layer_norm: LayerNorm over the last axis (autograd/ops/layer_norm.cpp), after every
// attention and feed-forward block. Forward: x [rows, C], gamma, beta [C] → y [rows, C],
// mean, rstd [rows]. Backward: dy [rows, C] → dx [rows, C], dgamma, dbeta [C] (accumulated).
#include <Eigen/Core>
#include <cmath>

#include "engine/kernels.hpp"
#include "engine/threads.hpp"
#include "tools/kernels/workbench.hpp"

namespace electra::workbench {
namespace {

constexpr double eps = 1e-12;  // models/networks/config.cpp's layer_norm_eps (BERT's)

// Forward 0 reference: two passes per row in double (mean, then the biased variance).
void layer_norm_forward_0_reference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    Tensor& y, Tensor& mean, Tensor& rstd) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x.data<float>() + r * columns;
    double total = 0, squares = 0;
    for (std::int64_t c = 0; c < columns; ++c) total += in[c];
    const double mu = total / double(columns);
    for (std::int64_t c = 0; c < columns; ++c) squares += (in[c] - mu) * (in[c] - mu);
    const double inverse_std = 1.0 / std::sqrt(squares / double(columns) + eps);
    for (std::int64_t c = 0; c < columns; ++c)
      y.data<float>()[r * columns + c] = static_cast<float>(
          (in[c] - mu) * inverse_std * gamma.data<float>()[c] + beta.data<float>()[c]);
    mean.data<float>()[r] = static_cast<float>(mu);
    rstd.data<float>()[r] = static_cast<float>(inverse_std);
  }
}

// Forward 1 production: rows over the cores, scalar loops with double sums.
void layer_norm_forward_1_production(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                     Tensor& y, Tensor& mean, Tensor& rstd) {
  kernels::layer_norm_forward(x, gamma, beta, eps, y, mean, rstd);
}

// Forward 2 float sums as Eigen array reductions (SIMD lanes, so a tree of partial sums rather
// than one running double): would it pay to leave double on the CPU?
void layer_norm_forward_2_float_simd(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                     Tensor& y, Tensor& mean, Tensor& rstd) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  using Row = Eigen::Map<const Eigen::ArrayXf>;
  const Row scale(gamma.data<float>(), columns), shift(beta.data<float>(), columns);
  parallel_for(0, rows, 16, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t r = first; r < last; ++r) {
      const Row in(x.data<float>() + r * columns, columns);
      const float mu = in.sum() / float(columns);
      const float inverse_std =
          1.0f / std::sqrt((in - mu).square().sum() / float(columns) + float(eps));
      Eigen::Map<Eigen::ArrayXf>(y.data<float>() + r * columns, columns) =
          (in - mu) * inverse_std * scale + shift;
      mean.data<float>()[r] = mu;
      rstd.data<float>()[r] = inverse_std;
    }
  });
}

// Backward 0 reference: per row, dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)) with g = dy · γ;
// dgamma += Σ dy · x̂, dbeta += Σ dy, all in double, one thread.
void layer_norm_backward_0_reference(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                     Tensor& dgamma, Tensor& dbeta) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  std::vector<double> gamma_sums(columns), beta_sums(columns);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float *in = x.data<float>() + r * columns, *d_out = dy.data<float>() + r * columns;
    const double mu = mean.data<float>()[r], inverse_std = rstd.data<float>()[r];
    double mean_g = 0, mean_g_xhat = 0;
    for (std::int64_t c = 0; c < columns; ++c) {
      const double xhat = (in[c] - mu) * inverse_std, g = double(d_out[c]) * gamma.data<float>()[c];
      mean_g += g / double(columns);
      mean_g_xhat += g * xhat / double(columns);
      gamma_sums[c] += d_out[c] * xhat;
      beta_sums[c] += d_out[c];
    }
    for (std::int64_t c = 0; c < columns; ++c) {
      const double xhat = (in[c] - mu) * inverse_std, g = double(d_out[c]) * gamma.data<float>()[c];
      dx.data<float>()[r * columns + c] +=
          static_cast<float>(inverse_std * (g - mean_g - xhat * mean_g_xhat));
    }
  }
  for (std::int64_t c = 0; c < columns; ++c) {
    dgamma.data<float>()[c] += static_cast<float>(gamma_sums[c]);
    dbeta.data<float>()[c] += static_cast<float>(beta_sums[c]);
  }
}

// Backward 1 production: blocks of 32 rows over the cores, each with its own double partial
// dgamma/dbeta, summed in block order (deterministic for any thread count).
void layer_norm_backward_1_production(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                      const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                      Tensor& dgamma, Tensor& dbeta) {
  kernels::layer_norm_backward_accumulate(x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
}

std::vector<Case> make_cases(std::int64_t rows, std::int64_t columns) {
  const Tensor x = random_tensor({rows, columns}, 21, 2.0);
  const Tensor gamma = random_tensor({columns}, 22), beta = random_tensor({columns}, 23);
  const Tensor dy = random_tensor({rows, columns}, 24);
  const std::string shape = "x [" + std::to_string(rows) + ", " + std::to_string(columns) + "]";
  const double bytes = 4.0 * double(rows) * double(columns);
  // Forward reads x and writes y; backward reads x and dy and reads + writes dx.
  Case forward{"layer_norm", shape + " forward", 2 * bytes, "GB/s", 1e-4, {}};
  using Forward = void (*)(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&);
  for (const auto& [name, function] :
       {std::pair<const char*, Forward>{"reference: two passes in double",
                                        layer_norm_forward_0_reference},
        {"production: kernels::layer_norm_forward", layer_norm_forward_1_production},
        {"float sums as Eigen SIMD reductions", layer_norm_forward_2_float_simd}}) {
    Tensor y = Tensor::zeros({rows, columns}), mean = Tensor::zeros({rows}),
           rstd = Tensor::zeros({rows});
    forward.variants.push_back(
        {name, [=]() mutable { function(x, gamma, beta, y, mean, rstd); }, {y, mean, rstd}});
  }
  // The backward's saved statistics come from the reference forward.
  Tensor y = Tensor::zeros({rows, columns}), mean = Tensor::zeros({rows}),
         rstd = Tensor::zeros({rows});
  layer_norm_forward_0_reference(x, gamma, beta, y, mean, rstd);
  Case backward{"layer_norm", shape + " backward", 4 * bytes, "GB/s", 1e-4, {}};
  using Backward = void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                            const Tensor&, Tensor&, Tensor&, Tensor&);
  for (const auto& [name, function] :
       {std::pair<const char*, Backward>{"reference: loops in double",
                                         layer_norm_backward_0_reference},
        {"production: 32-row blocks, double partials", layer_norm_backward_1_production}}) {
    Tensor dx = Tensor::zeros({rows, columns}), dgamma = Tensor::zeros({columns}),
           dbeta = Tensor::zeros({columns});
    backward.variants.push_back(
        {name,
         [=]() mutable { function(x, gamma, mean, rstd, dy, dx, dgamma, dbeta); },
         {dx, dgamma, dbeta}});
  }
  return {forward, backward};
}

}  // namespace

Family layer_norm_family() {
  return {"layer_norm", "LayerNorm over the last axis, forward and backward", [](Size size) {
            // tiny: 70 rows cross the backward's 32-row blocks; bench: ELECTRA-Small's hidden 256.
            return size == Size::tiny ? make_cases(70, 40) : make_cases(4096, 256);
          }};
}

}  // namespace electra::workbench
