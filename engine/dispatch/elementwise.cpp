// The elementwise kernels (engine/cpu/elementwise.cpp, engine/cuda/elementwise.cu): arguments
// checked once here, then the device's kernel runs.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
// A binary kernel's operands: non-empty, float, same shape and dtype.
void check_binary(const char* kernel, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_nonempty_input(kernel, a);
  check_nonempty_input(kernel, b);
  check_float(kernel, a);
  check_same(kernel, a, b);
  check_same(kernel, a, out);
}

// A row vector [C] for rows [rows, C]: `expected` and `rows_name` word the message.
void check_row_vector(const char* kernel, const Tensor& vector, const char* expected,
                      const Tensor& rows, const char* rows_name) {
  check(vector.rank() == 1 && vector.numel() == rows.shape().cols(), kernel, ": ", expected, " [",
        rows.shape().cols(), "] for ", rows_name, " ", rows.shape(), ", got ", vector.shape());
}
}  // namespace

void copy(const Tensor& source, Tensor& destination) {
  const Device device = device_of("copy", source, destination);
  check_nonempty_input("copy", source);
  check_same("copy", source, destination);
  ELECTRA_DISPATCH(copy, device, (source, destination));
}

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  const Device device = device_of("add", a, b, out);
  check_binary("add", a, b, out);
  ELECTRA_DISPATCH(add, device, (a, b, out));
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  const Device device = device_of("mul", a, b, out);
  check_binary("mul", a, b, out);
  ELECTRA_DISPATCH(mul, device, (a, b, out));
}

void mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out) {
  const Device device = device_of("mul_accumulate", a, b, out);
  check_binary("mul_accumulate", a, b, out);
  ELECTRA_DISPATCH(mul_accumulate, device, (a, b, out));
}

void scale(const Tensor& a, double alpha, Tensor& out) {
  const Device device = device_of("scale", a, out);
  check_float_input("scale", a);
  check_same("scale", a, out);
  ELECTRA_DISPATCH(scale, device, (a, alpha, out));
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  const Device device = device_of("axpy", x, y);
  check_float_input("axpy", x);
  check_same_numel("axpy", x, y);
  ELECTRA_DISPATCH(axpy, device, (alpha, x, y));
}

void add_bias(Tensor& x, const Tensor& bias) {
  const Device device = device_of("add_bias", x, bias);
  check_float_input("add_bias", x);
  check_row_vector("add_bias", bias, "bias expected shape", x, "x");
  check(bias.dtype() == x.dtype(), "add_bias: dtype mismatch ", x, " vs ", bias);
  ELECTRA_DISPATCH(add_bias, device, (x, bias));
}

void broadcast_rows(const Tensor& bias, Tensor& out) {
  const Device device = device_of("broadcast_rows", bias, out);
  check_float_input("broadcast_rows", out);
  check_row_vector("broadcast_rows", bias, "bias expected", out, "out");
  check(bias.dtype() == out.dtype(), "broadcast_rows: dtype mismatch ", bias, " vs ", out);
  ELECTRA_DISPATCH(broadcast_rows, device, (bias, out));
}

void sum_rows_accumulate(const Tensor& x, Tensor& out) {
  const Device device = device_of("sum_rows_accumulate", x, out);
  check_float_input("sum_rows_accumulate", x);
  check_row_vector("sum_rows_accumulate", out, "out expected", x, "x");
  check(out.dtype() == x.dtype(), "sum_rows_accumulate: dtype mismatch ", x, " vs ", out);
  ELECTRA_DISPATCH(sum_rows_accumulate, device, (x, out));
}

void gelu_forward(const Tensor& x, Tensor& y) {
  const Device device = device_of("gelu_forward", x, y);
  check_float_input("gelu_forward", x);
  check_same("gelu_forward", x, y);
  ELECTRA_DISPATCH(gelu_forward, device, (x, y));
}

void gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* kernel = "gelu_backward_accumulate";
  const Device device = device_of(kernel, x, dy, dx);
  check_float_input(kernel, x);
  check_same(kernel, x, dy);
  check_same(kernel, x, dx);
  ELECTRA_DISPATCH(gelu_backward_accumulate, device, (x, dy, dx));
}

}  // namespace electra::kernels
