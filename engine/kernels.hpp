#pragma once
// The kernel table: every numeric routine the autograd ops call, declared once. engine/cpu/
// implements it (f32 and f64, templated on the scalar type); engine/cuda/ implements the same
// signatures for f32. Kernels never allocate except through Tensor (the caching allocator).
//
// Conventions
// - Shapes are in the comment above each kernel; "rows" means numel / last dimension.
// - All floating tensors of one call share a dtype (f32 or f64); ids and labels are i32.
// - A kernel whose name ends in `_accumulate` adds into its output (backward accumulates into
//   input gradients, DyNet's rule); every other kernel overwrites its output.
// - Outputs are preallocated by the caller with the documented shape; kernels check shapes and
//   throw electra::Error naming the kernel and both shapes.
#include <cstdint>

#include "engine/tensor.hpp"

namespace electra::kernels {

// ---------------------------------------------------------------- matrix products (cblas/cuBLAS)
// c = alpha · op(a) · op(b) + beta · c, where op transposes when asked.
// a viewed as a matrix [rows, cols] (leading dims flattened), likewise b and c.
// a [M,K] (or [K,M] with transpose_a), b [K,N] (or [N,K]), c [M,N].
void gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
          double alpha = 1.0, double beta = 0.0);
// The same for a batch of independent products stored back to back:
// a [batch,M,K] ([batch,K,M]), b [batch,K,N] ([batch,N,K]), c [batch,M,N]. Rank-4 tensors
// [B,H,·,·] are treated as batch = B·H.
void gemm_batched(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
                  double alpha = 1.0, double beta = 0.0);

// ---------------------------------------------------------------- strided batched products
// (and the row-block moves of the fused QKV projection)
// Products of matrices that live inside bigger tensors, like each attention head's [L, D] block
// of a [B, L, H·D] activation (or of a fused [B, L, 3·H·D] QKV projection): the heads are read
// and written in place, with no copy into a head-first [B, H, L, D] layout.
// A StridedMatrices describes outer × inner matrices of one tensor: matrix (i, j) starts at
// element offset + i·outer_stride + j·inner_stride and has `rows` rows of `cols` elements, each
// row `leading` elements after the previous one (leading ≥ cols).
struct StridedMatrices {
  std::int64_t offset = 0;
  std::int64_t rows = 0, cols = 0, leading = 0;
  std::int64_t outer_stride = 0, inner_stride = 0;
};
// For each (i, j) in [outer] × [inner]: c_ij = alpha · op(a_ij) · op(b_ij) + beta · c_ij, with
// the shapes of gemm (a_ij [M,K] or [K,M], b_ij [K,N] or [N,K], c_ij [M,N]). Every matrix must lie
// inside its tensor; the matrices of c must not overlap one another (not checked).
void gemm_strided_batched(std::int64_t outer, std::int64_t inner, const Tensor& a,
                          const StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
                          const StridedMatrices& b_layout, bool transpose_b, Tensor& c,
                          const StridedMatrices& c_layout, double alpha = 1.0, double beta = 0.0);
// Row blocks of the first axis (a "row" is numel / dim(0) elements): concat_rows stacks the
// query/key/value weights into the fused QKV projection's [3H, H] weight and splits its gradient.
// destination rows [first_row, first_row + source rows) = source (equal row sizes).
void copy_rows_into(const Tensor& source, Tensor& destination, std::int64_t first_row);
// destination += source rows [first_row, first_row + destination rows) (equal row sizes).
void rows_of_accumulate(const Tensor& source, std::int64_t first_row, Tensor& destination);
// ---------------------------------------------------------------- (end strided batched products)

// ---------------------------------------------------------------- elementwise
void copy(const Tensor& source, Tensor& destination);          // same shape
void add(const Tensor& a, const Tensor& b, Tensor& out);       // out = a + b
void mul(const Tensor& a, const Tensor& b, Tensor& out);       // out = a ⊙ b
void mul_accumulate(const Tensor& a, const Tensor& b, Tensor& out);  // out += a ⊙ b
void scale(const Tensor& a, double alpha, Tensor& out);        // out = alpha · a
void axpy(double alpha, const Tensor& x, Tensor& y);           // y += alpha · x (any shapes of equal numel)
// x [rows, C] += bias [C] broadcast over rows (in place).
void add_bias(Tensor& x, const Tensor& bias);
// out [rows, C] = bias [C] in every row: a linear layer prefills its output with the bias and
// runs gemm with beta = 1, which saves the separate add_bias pass over the output.
void broadcast_rows(const Tensor& bias, Tensor& out);
// out [C] += Σ_rows x [rows, C]  (bias gradients).
void sum_rows_accumulate(const Tensor& x, Tensor& out);

// Exact GELU: y = x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
void gelu_forward(const Tensor& x, Tensor& y);
// dx += dy · (Φ(x) + x · φ(x)).
void gelu_backward_accumulate(const Tensor& x, const Tensor& dy, Tensor& dx);

// ---------------------------------------------------------------- reductions (deterministic)
double sum(const Tensor& x);
double dot(const Tensor& a, const Tensor& b);
double squared_norm(const Tensor& x);
struct TensorStats {
  double min = 0, max = 0, mean = 0, abs_max = 0;
  std::int64_t nan_count = 0, inf_count = 0;
};
TensorStats stats(const Tensor& x);
bool all_finite(const Tensor& x);

// ---------------------------------------------------------------- softmax family, rows of x
// y [rows, C] = softmax(x + mask) along the last axis. mask is optional (undefined Tensor) or
// [mask_rows, C] additive (0 keeps, a large negative value drops); row r of x uses mask row
// (r / rows_per_mask_row) % mask_rows. For attention scores [B,H,Lq,Lk] with a key-padding mask
// [B,Lk], rows_per_mask_row = H·Lq. A row whose entries are all masked gives a uniform row.
void softmax_forward(const Tensor& x, const Tensor& mask, std::int64_t rows_per_mask_row,
                     Tensor& y);
// dx += y ⊙ (dy − Σ_c dy·y)   (mask has no gradient).
void softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx);
// y [rows, C] = x − logsumexp(x) per row.
void log_softmax_forward(const Tensor& x, Tensor& y);
// dx += dy − exp(y) · Σ_c dy.
void log_softmax_backward_accumulate(const Tensor& y, const Tensor& dy, Tensor& dx);

// ---------------------------------------------------------------- layer norm over the last axis
// x [rows, C], gamma/beta [C] → y [rows, C]; saves mean [rows] and rstd [rows] = 1/√(var + eps)
// (biased variance, as BERT).
void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor& y, Tensor& mean, Tensor& rstd);
// Accumulates dx [rows, C], dgamma [C], dbeta [C]; any of them may be undefined (skipped).
void layer_norm_backward_accumulate(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                    const Tensor& rstd, const Tensor& dy, Tensor& dx,
                                    Tensor& dgamma, Tensor& dbeta);

// ---------------------------------------------------------------- lookups and row moves
// out [N, E] = table [V, E] rows at ids (i32, any shape with N elements). Ids out of [0, V)
// throw naming the id and V.
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
// dtable [V, E] += scatter of dout [N, E] by ids. Deterministic: rows are summed in order of
// position for each id, so the result does not depend on the thread count.
void embedding_backward_accumulate(const Tensor& ids, const Tensor& dout, Tensor& dtable);
// out [K, C] = x [R, C] rows at index (i32 [K]); the backward is embedding_backward_accumulate.
// (gather_rows is embedding_forward with x as the table; kept as a name for readability.)
void gather_rows(const Tensor& x, const Tensor& index, Tensor& out);

// [A, B, C, D] → [A, C, B, D]: moves attention heads to and from the sequence axis.
// x [batch, seq, heads, head_dim] ↔ [batch, heads, seq, head_dim].
void permute_0213(const Tensor& x, Tensor& out);
void permute_0213_accumulate(const Tensor& x, Tensor& out);  // out += permute(x)

// ---------------------------------------------------------------- randomness (Philox4x32-10)
// Draws are a pure function of (seed, stream, counter + element index): CPU and CUDA agree,
// and a resumed run draws what an uninterrupted one would.
struct RandomKey {
  std::uint64_t seed = 0;
  std::uint32_t stream = 0;   // one per purpose: dropout site, masking, sampling, init...
  std::uint64_t counter = 0;  // advanced per step/use; element i uses counter + i
};
// y = x ⊙ keep, or y += x ⊙ keep with accumulate, where keep = (u ≥ p) / (1 − p) with u uniform
// in [0,1) drawn from the key. The mask is never stored: backward applies the same key to the
// output gradient (dx += dy ⊙ keep), which redraws exactly the forward's mask.
void dropout(const Tensor& x, double drop_probability, const RandomKey& key, Tensor& y,
             bool accumulate = false);
// uniform [0,1) (f32/f64) per element.
void uniform(const RandomKey& key, Tensor& out);
// Truncated normal (±2σ, resampled) with standard deviation std, for initialisation.
void truncated_normal(const RandomKey& key, double std, Tensor& out);
// Argmax per row of x [R, C] → i32 [R].
void argmax_rows(const Tensor& x, Tensor& out);

// ---------------------------------------------------------------- sampling (engine/cpu/sampling.cpp)
// For each row of logits [R, C]: a class drawn from softmax(logits / temperature) by inverse CDF
// (the first class whose running sum of exp(s − max) exceeds u · total), u uniform [0,1) of
// element index key.counter + r. Out i32 [R]. +inf scores: the first one wins; NaN and −inf
// scores are never drawn; a row without a finite score gives class 0.
void sample_categorical(const Tensor& logits, double temperature, const RandomKey& key,
                        Tensor& out);

// ---------------------------------------------------------------- losses
// Weighted cross-entropy over rows (official ELECTRA normalisation):
//   loss = Σ_r w_r · (logsumexp(logits_r) − logits_r[target_r]) / (Σ_r w_r + 1e-6)
// logits [R, C], targets i32 [R] in [0, C), weights [R]. Saves probs [R, C] (softmax) for
// backward. Returns the loss.
double cross_entropy_forward(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                             Tensor& probs);
// dlogits += dloss · w_r · (probs − onehot(target)) / (Σw + 1e-6).
void cross_entropy_backward_accumulate(const Tensor& probs, const Tensor& targets,
                                       const Tensor& weights, double dloss, Tensor& dlogits);
// Weighted sigmoid binary cross-entropy with logits, numerically stable at ±large logits:
//   loss = Σ_i w_i · (max(z,0) − z·y + log(1 + e^−|z|)) / (Σ w + 1e-6)
// logits [N], labels [N] (same float dtype, 0 or 1), weights [N].
double bce_with_logits_forward(const Tensor& logits, const Tensor& labels, const Tensor& weights);
// dlogits += dloss · w_i · (σ(z_i) − y_i) / (Σw + 1e-6).
void bce_with_logits_backward_accumulate(const Tensor& logits, const Tensor& labels,
                                         const Tensor& weights, double dloss, Tensor& dlogits);

// ---------------------------------------------------------------- optimizer
struct AdamWSettings {
  double learning_rate = 5e-4;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6;
  double weight_decay = 0.0;       // decoupled, applied to this tensor (0 for LayerNorm / biases)
  bool bias_correction = false;    // the official ELECTRA optimizer does not correct
  std::int64_t step = 1;           // 1-based, used only with bias_correction
  double gradient_scale = 1.0;     // multiplies grad first (global-norm clipping factor)
};
// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; update = m̂/(√v̂ + ε) + wd·p; p −= lr·update.
void adamw_update(Tensor& parameter, const Tensor& gradient, Tensor& first_moment,
                  Tensor& second_moment, const AdamWSettings& settings);

}  // namespace electra::kernels
