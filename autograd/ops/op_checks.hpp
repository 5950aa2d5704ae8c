#pragma once
// Input checks shared by the differentiable ops: messages name the op and the shapes at fault,
// before any kernel runs (a kernel's own message would name the kernel, not the op the user
// called).
#include "autograd/var.hpp"
#include "engine/error.hpp"

namespace electra::ops {

inline void require_defined(const char* op, const char* what, const Var& var) {
  check(var.defined() && var.value().defined(), op, ": ", what, " is undefined");
}

// Defined, non-empty, f32 or f64.
inline void require_float_input(const char* op, const char* what, const Var& var) {
  require_defined(op, what, var);
  const Tensor& value = var.value();
  check(value.numel() > 0, op, ": ", what, " is empty ", value.shape().str());
  check(value.dtype() == DType::f32 || value.dtype() == DType::f64, op, ": ", what,
        " must be f32 or f64, got ", value.describe());
}

inline void require_same_dtype(const char* op, const Var& a, const Var& b) {
  check(a.value().dtype() == b.value().dtype(), op, ": dtype mismatch ", a.value().describe(),
        " vs ", b.value().describe());
}

inline void require_same_shape(const char* op, const Var& a, const Var& b) {
  check(a.shape() == b.shape(), op, ": shape mismatch ", a.shape().str(), " vs ", b.shape().str());
  require_same_dtype(op, a, b);
}

}  // namespace electra::ops
