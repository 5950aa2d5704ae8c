// [A, B, C, D] → [A, C, B, D] (engine/cpu/permute.cpp, engine/cuda/permute.cu): arguments
// checked once here, then the device's kernel runs.
#include "engine/dispatch/dispatch.hpp"

namespace electra::kernels {
using namespace dispatch;

namespace {
void check_permute(const char* kernel, const Tensor& x, const Tensor& out) {
  check_float_input(kernel, x);
  check(x.rank() == 4, kernel, ": x must be [A, B, C, D], got ", x.shape());
  const Shape expected{x.dim(0), x.dim(2), x.dim(1), x.dim(3)};
  check(out.shape() == expected, kernel, ": out expected ", expected, " for x ", x.shape(),
        ", got ", out.shape());
  check(out.dtype() == x.dtype(), kernel, ": dtype mismatch ", x, " vs ", out);
}
}  // namespace

void permute_0213(const Tensor& x, Tensor& out) {
  const Device device = device_of("permute_0213", x, out);
  check_permute("permute_0213", x, out);
  ELECTRA_DISPATCH(permute_0213, device, (x, out));
}

void permute_0213_accumulate(const Tensor& x, Tensor& out) {
  const Device device = device_of("permute_0213_accumulate", x, out);
  check_permute("permute_0213_accumulate", x, out);
  ELECTRA_DISPATCH(permute_0213_accumulate, device, (x, out));
}

}  // namespace electra::kernels
