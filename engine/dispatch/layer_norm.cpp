// Layer norm (engine/cpu/layer_norm.cpp, engine/cuda/layer_norm.cu): arguments checked once
// here, then the device's kernel runs.
#include <cmath>

#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// gamma, beta and their gradients: [C] for x [rows, C], of x's dtype.
void check_parameter(const char* kernel, const char* what, const Tensor& parameter,
                     const Tensor& x) {
  check(parameter.dtype() == x.dtype(), kernel, ": ", what, " ", parameter,
        " must have the dtype of x ", x);
  check_shape(kernel, what, parameter, Shape{x.shape().cols()});
}

// mean and rstd: [rows] for x [rows, C], of x's dtype.
void check_statistics(const char* kernel, const Tensor& x, const Tensor& mean, const Tensor& rstd) {
  check(mean.dtype() == x.dtype() && rstd.dtype() == x.dtype(), kernel, ": mean ", mean,
        " and rstd ", rstd, " must have the dtype of x ", x);
  check_shape(kernel, "mean", mean, Shape{x.shape().rows()});
  check_shape(kernel, "rstd", rstd, Shape{x.shape().rows()});
}
}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor& y, Tensor& mean, Tensor& rstd) {
  const char* kernel = "layer_norm_forward";
  const Device device = device_of(kernel, x, gamma, beta, y, mean, rstd);
  check_float_input(kernel, x);
  check(x.rank() >= 1, kernel, ": expected x of rank ≥ 1, got ", x);
  check_nonempty_input(kernel, gamma);
  check_nonempty_input(kernel, beta);
  check(eps >= 0 && std::isfinite(eps), kernel, ": eps must be finite and ≥ 0, got ", eps);
  check_parameter(kernel, "gamma", gamma, x);
  check_parameter(kernel, "beta", beta, x);
  check_same(kernel, x, y);
  check_statistics(kernel, x, mean, rstd);
  ELECTRA_DISPATCH(layer_norm_forward, device, (x, gamma, beta, eps, y, mean, rstd));
}

void layer_norm_backward_accumulate(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                    const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                    Tensor& dgamma, Tensor& dbeta) {
  const char* kernel = "layer_norm_backward_accumulate";
  const Device device = device_of(kernel, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
  check_float_input(kernel, x);
  check_nonempty_input(kernel, gamma);
  check_parameter(kernel, "gamma", gamma, x);
  check_statistics(kernel, x, mean, rstd);
  check_same(kernel, x, dy);
  if (dx.defined()) check_same(kernel, x, dx);
  if (dgamma.defined()) check_parameter(kernel, "dgamma", dgamma, x);
  if (dbeta.defined()) check_parameter(kernel, "dbeta", dbeta, x);
  ELECTRA_DISPATCH(layer_norm_backward_accumulate, device,
                   (x, gamma, mean, rstd, dy, dx, dgamma, dbeta));
}

}  // namespace electra::kernels
