// Softmax and log-softmax over the last axis, forward and backward, for f32 and f64.
// Every row is independent, so rows are split over the cores and the result does not depend on
// the thread count. Sums run in double for both scalar types: a float running sum over a
// 30 000-word vocabulary would lose digits that the f32-vs-f64 comparison would notice.
#include <cmath>
#include <limits>

#include "engine/cpu/cpu_common.hpp"
#include "engine/threads.hpp"

namespace electra::kernels {
namespace {

// x [rows, C] (+ mask [mask_rows, C]) → y [rows, C].
template <typename T>
void softmax_rows(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row, Tensor& y) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  const T* input = x.data<T>();
  const T* mask_data = mask.defined() ? mask.data<T>() : nullptr;
  const std::int64_t mask_rows = mask.defined() ? mask.shape().rows() : 1;
  T* output = y.data<T>();
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const T* in = input + row * columns;
      const T* row_mask =
          mask_data ? mask_data + ((row / rows_per_mask_row) % mask_rows) * columns : nullptr;
      T* out = output + row * columns;
      // Shifted by the row maximum so exp never overflows.
      T maximum = -std::numeric_limits<T>::infinity();
      for (std::int64_t c = 0; c < columns; ++c) {
        out[c] = row_mask ? in[c] + row_mask[c] : in[c];
        maximum = std::max(maximum, out[c]);
      }
      if (maximum == -std::numeric_limits<T>::infinity()) {
        // Every entry masked with −inf: no key to attend to, so attend to all equally.
        for (std::int64_t c = 0; c < columns; ++c) out[c] = T(1) / T(columns);
        continue;
      }
      double total = 0;
      for (std::int64_t c = 0; c < columns; ++c) {
        out[c] = std::exp(out[c] - maximum);
        total += out[c];
      }
      const T inverse = static_cast<T>(1.0 / total);
      for (std::int64_t c = 0; c < columns; ++c) out[c] *= inverse;
    }
  });
}

// dx += y ⊙ (dy − Σ_c dy·y), all [rows, C].
template <typename T>
void softmax_backward_rows(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const std::int64_t rows = y.shape().rows(), columns = y.shape().cols();
  const T* probs = y.data<T>();
  const T* grad_out = dy.data<T>();
  T* grad_in = dx.data<T>();
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t offset = row * columns;
      double weighted = 0;
      for (std::int64_t c = 0; c < columns; ++c)
        weighted += static_cast<double>(grad_out[offset + c]) * probs[offset + c];
      const T dot = static_cast<T>(weighted);
      for (std::int64_t c = 0; c < columns; ++c)
        grad_in[offset + c] += probs[offset + c] * (grad_out[offset + c] - dot);
    }
  });
}

// y = x − max − log Σ exp(x − max), [rows, C].
template <typename T>
void log_softmax_rows(const Tensor& x, Tensor& y) {
  const std::int64_t rows = x.shape().rows(), columns = x.shape().cols();
  const T* input = x.data<T>();
  T* output = y.data<T>();
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const T* in = input + row * columns;
      T* out = output + row * columns;
      T maximum = in[0];
      for (std::int64_t c = 1; c < columns; ++c) maximum = std::max(maximum, in[c]);
      double total = 0;
      for (std::int64_t c = 0; c < columns; ++c) total += std::exp(in[c] - maximum);
      // (x − max) − log Σ rather than x − (max + log Σ): at |x| ~ 1000 an f32 holds the sum
      // max + log Σ only to ~1e-4, while x − max is exact.
      const T log_total = static_cast<T>(std::log(total));
      for (std::int64_t c = 0; c < columns; ++c) out[c] = (in[c] - maximum) - log_total;
    }
  });
}

// dx += dy − exp(y) · Σ_c dy, [rows, C].
template <typename T>
void log_softmax_backward_rows(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const std::int64_t rows = y.shape().rows(), columns = y.shape().cols();
  const T* log_probs = y.data<T>();
  const T* grad_out = dy.data<T>();
  T* grad_in = dx.data<T>();
  parallel_for(0, rows, cpu::row_grain(columns), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t offset = row * columns;
      double total = 0;
      for (std::int64_t c = 0; c < columns; ++c) total += grad_out[offset + c];
      const T grad_sum = static_cast<T>(total);
      for (std::int64_t c = 0; c < columns; ++c)
        grad_in[offset + c] += grad_out[offset + c] - std::exp(log_probs[offset + c]) * grad_sum;
    }
  });
}

}  // namespace

void cpu::softmax_forward(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row,
                          Tensor& y) {
  const char* kernel = "softmax_forward";
  cpu::dispatch_float(kernel, x, [&](auto scalar) {
    softmax_rows<decltype(scalar)>(x, mask, rows_per_mask_row, y);
  });
}

void cpu::softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "softmax_backward_accumulate";
  cpu::dispatch_float(kernel, y,
                      [&](auto scalar) { softmax_backward_rows<decltype(scalar)>(y, dy, dx); });
}

void cpu::log_softmax_forward(const Tensor& x, Tensor& y) {
  const char* kernel = "log_softmax_forward";
  cpu::dispatch_float(kernel, x, [&](auto scalar) { log_softmax_rows<decltype(scalar)>(x, y); });
}

void cpu::log_softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const char* kernel = "log_softmax_backward_accumulate";
  cpu::dispatch_float(kernel, y,
                      [&](auto scalar) { log_softmax_backward_rows<decltype(scalar)>(y, dy, dx); });
}

}  // namespace electra::kernels
