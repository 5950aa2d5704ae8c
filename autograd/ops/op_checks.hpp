#pragma once
// The checks the differentiable ops make themselves, in the engine's one vocabulary
// (check(condition, parts...), engine/error.hpp: parts taken by reference, formatted only on
// failure). An op checks its Vars before it touches them (defined, non-empty, float, dtypes that
// must agree to build the node), so the message names the op and the argument the user passed;
// every other property of the arguments is checked once, by the kernels the op calls
// (engine/dispatch/), whose messages name the kernel.
#include "autograd/var.hpp"
#include "engine/error.hpp"

namespace electra::ops {

inline void check_defined(const char* op, const char* what, const Var& var) {
  check(var.defined() && var.value().defined(), op, ": ", what, " is undefined");
}

// Defined, non-empty, f32 or f64.
inline void check_float_input(const char* op, const char* what, const Var& var) {
  check_defined(op, what, var);
  const Tensor& value = var.value();
  check(value.numel() > 0, op, ": ", what, " is empty ", value.shape());
  check(value.dtype() == DType::f32 || value.dtype() == DType::f64, op, ": ", what,
        " must be f32 or f64, got ", value);
}

inline void check_same_dtype(const char* op, const Var& a, const Var& b) {
  check(a.value().dtype() == b.value().dtype(), op, ": dtype mismatch ", a.value(), " vs ",
        b.value());
}

}  // namespace electra::ops
