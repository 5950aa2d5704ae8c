#pragma once
// The CUDA implementation of the kernel table: the same functions with the same signatures as
// electra::kernels (engine/kernels.hpp, whose comments give the shapes and semantics), for f32
// tensors on Device::cuda. An f64 or cpu tensor throws electra::Error naming the kernel.
// The CPU kernels dispatch here when their tensors are on cuda (see docs/cuda.md).
//
// Determinism: no kernel uses floating-point atomics. Reductions use a fixed grid and a fixed
// tree per block; column sums (bias, LayerNorm and embedding gradients) add row partials in row
// order. Same input on the same GPU model → bit-identical output.
// Randomness: the Philox mapping of engine/philox.hpp, mirrored in engine/cuda/philox_device.hpp;
// uniform words, dropout masks and sampling's uniforms equal the CPU's bit for bit.
// Only in a build with ELECTRA_HAS_CUDA; the header itself needs no CUDA headers.
#include <cstdint>

#include "engine/kernels.hpp"

namespace electra::cuda_kernels {

using kernels::AdamWSettings;
using kernels::RandomKey;
using kernels::TensorStats;

// TF32 tensor-core products (10-bit mantissa inputs) for gemm/gemm_batched: off by default, so
// CUDA matches the CPU to f32 rounding; switching it on is a speed/precision choice of the run.
void set_allow_tf32(bool allow);
bool allow_tf32();

// ---------------------------------------------------------------- matrix products (cuBLAS)
void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha = 1.0, double beta = 0.0);
void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha = 1.0, double beta = 0.0);

// ---------------------------------------------------------------- strided batched products
using kernels::StridedMatrices;
void gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                          const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                          const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                          const StridedMatrices& c_layout, double alpha = 1.0, double beta = 0.0);
void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row);
void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination);
// ---------------------------------------------------------------- (end strided batched products)

// ---------------------------------------------------------------- elementwise
void copy(const Tensor& source, Tensor& destination);
void add(const Tensor& a, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out);
void scale(const Tensor& a, double alpha, Tensor& out);
void axpy(double alpha, const Tensor& x, Tensor& y);
void add_bias(Tensor& x, const Tensor& bias);
void broadcast_rows(const Tensor& bias, Tensor& out);  // out [rows, C] = bias [C] per row
void sum_rows_accumulate(const Tensor& x, Tensor& out);
void gelu_forward(const Tensor& x, Tensor& y);
void gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx);

// ---------------------------------------------------------------- reductions (deterministic)
double sum(const Tensor& x);
double dot(const Tensor& a, const Tensor& b);
double squared_norm(const Tensor& x);
TensorStats stats(const Tensor& x);
bool all_finite(const Tensor& x);

// ---------------------------------------------------------------- softmax family
void softmax_forward(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row,
                     Tensor& y);
void softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx);
void log_softmax_forward(const Tensor& x, Tensor& y);
void log_softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx);

// ---------------------------------------------------------------- layer norm
void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor& y, Tensor& mean, Tensor& rstd);
void layer_norm_backward_accumulate(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                    const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                    Tensor& dgamma, Tensor& dbeta);

// ---------------------------------------------------------------- lookups and row moves
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
void embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable);
void gather_rows(const Tensor& x, const Tensor& index, Tensor& out);
void permute_0213(const Tensor& x, Tensor& out);
void permute_0213_accumulate(const Tensor& x, Tensor& out);

// ---------------------------------------------------------------- randomness (Philox4x32-10)
void dropout(const Tensor& x, double drop_probability, const RandomKey& key, Tensor& y,
             bool accumulate);
void uniform(const RandomKey& key, Tensor& out);
void truncated_normal(const RandomKey& key, double std, Tensor& out);
void argmax_rows(const Tensor& x, Tensor& out);

// ---------------------------------------------------------------- sampling (cuda/sampling.cu)
void sample_categorical(const Tensor& logits, double temperature, const RandomKey& key,
                        Tensor& out);

// ---------------------------------------------------------------- losses
double cross_entropy_forward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                             Tensor& probs);
void cross_entropy_backward_accumulate(const Tensor& probs, const Tensor& targets,
                                       const Tensor& weights, double dloss, Tensor& dlogits);
double bce_with_logits_forward(const Tensor& logits, const Tensor& labels, const Tensor& weights);
void bce_with_logits_backward_accumulate(const Tensor& logits, const Tensor& labels,
                                         const Tensor& weights, double dloss, Tensor& dlogits);

// ---------------------------------------------------------------- optimizer
void adamw_update(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                  Tensor& second_moment, const AdamWSettings& settings);

}  // namespace electra::cuda_kernels
