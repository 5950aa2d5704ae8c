#pragma once
// Differentiable ops. Each records a node on the tape whose backward accumulates into its inputs'
// gradients. One file per family under autograd/ops/, forward and backward side by side.
// Floating inputs of one op share a dtype (f32 or f64: f64 is what gradcheck runs on).
#include "autograd/tape.hpp"
#include "engine/kernels.hpp"

namespace electra::ops {

// ---- matmul.cpp
// y [..., out] = x [..., in] · weightᵀ [in, out] + bias [out]; bias may be an undefined Var.
Var linear(Tape& tape, const Var& x, const Var& weight, const Var& bias);
// c [B, M, N] = op(a) · op(b) for a [B, M, K] (or [B, K, M]), b [B, K, N] (or [B, N, K]);
// rank-4 [B, H, ·, ·] inputs batch over B·H.
Var batched_matmul(Tape& tape, const Var& a, bool transpose_a, const Var& b, bool transpose_b);

// ---- elementwise.cpp (same shapes; no broadcasting)
Var add(Tape& tape, const Var& a, const Var& b);
Var mul(Tape& tape, const Var& a, const Var& b);
Var scale(Tape& tape, const Var& a, double alpha);
// Exact erf GELU.
Var gelu(Tape& tape, const Var& x);

// ---- reduce.cpp (→ a single-element tensor of shape [1])
Var sum(Tape& tape, const Var& x);
Var mean(Tape& tape, const Var& x);

// ---- shape.cpp
Var reshape(Tape& tape, const Var& x, const Shape& shape);
// [B, L, H·D] → [B, H, L, D] and back.
Var split_heads(Tape& tape, const Var& x, std::int64_t heads);
Var merge_heads(Tape& tape, const Var& x);
// parts [R_i, C...] with equal trailing dims → [Σ R_i, C...] stacked along the first axis
// (the fused QKV projection's weight); backward hands each part its row block of the gradient.
Var concat_rows(Tape& tape, const std::vector<Var>& parts);

// ---- softmax.cpp, rows over the last axis
// softmax(x + mask), mask additive [mask_rows, C] (no gradient) or undefined; see
// kernels::softmax_forward for rows_per_mask_row.
Var softmax(Tape& tape, const Var& x, const Tensor& additive_mask = {},
            std::int64_t rows_per_mask_row = 1);
Var log_softmax(Tape& tape, const Var& x);

// ---- layer_norm.cpp
Var layer_norm(Tape& tape, const Var& x, const Var& gamma, const Var& beta, double eps);

// ---- embedding.cpp
// out [..., E] = table [V, E] rows at ids (i32 of any shape ...).
Var embedding(Tape& tape, const Var& table, const Tensor& ids);
// out [K, C] = x [R, C] (leading dims flattened) rows at index (i32 [K]): masked positions.
Var gather_rows(Tape& tape, const Var& x, const Tensor& index);

// ---- dropout.cpp
// Inverted dropout with a Philox mask; identity (no node) when probability is 0 or !training.
Var dropout(Tape& tape, const Var& x, double probability, const kernels::RandomKey& key,
            bool training);

// ---- stop_gradient.cpp
// x's value (shared, not copied) as a constant leaf: forward is the identity, backward sends
// nothing into x through it (records no node, hence no tape argument). No gradcheck case: its
// analytic gradient differs from finite differences by design; tests/models/objectives_gdes_test.
Var stop_gradient(const Var& x);

// ---- losses.cpp (→ shape [1])
// Σ w·CE(logits_r, target_r) / (Σw + 1e-6): logits [R, C], targets i32 [R], weights [R].
Var cross_entropy(Tape& tape, const Var& logits, const Tensor& targets, const Tensor& weights);
// Σ w·BCE(σ(z), y) / (Σw + 1e-6): logits [N] (or [B, L]), labels and weights of the same shape.
Var bce_with_logits(Tape& tape, const Var& logits, const Tensor& labels, const Tensor& weights);

// ---- focal_cross_entropy.cpp (→ shape [1]; Hao et al. 2021's generator loss)
// Σ w·(−(1 − p)^γ·log p) / (Σw + 1e-6), p = softmax(logits_r)[target_r]: logits [R, C], targets
// i32 [R], weights [R], γ ≥ 0 (γ = 0 is cross_entropy's value up to rounding).
Var focal_cross_entropy(Tape& tape, const Var& logits, const Tensor& targets, const Tensor& weights,
                        double gamma);

// ---- copy_mixture_loss.cpp (→ shape [1]): All-Tokens MLM's copy mechanism
// Σ w·(−log p(target)) / (Σw + 1e-6) with p(y) = D·[y = input] + (1 − D)·softmax(logits)_y,
// D = σ(copy_logits): logits [R, V], copy_logits (R elements), input_ids, targets i32 (R),
// weights [R]. Computed in log space; gradients to logits and copy_logits.
Var copy_mixture_loss(Tape& tape, const Var& logits, const Var& copy_logits,
                      const Tensor& input_ids, const Tensor& targets, const Tensor& weights);

// ---- attention.cpp
// Fused multi-head self-attention with a hand-written backward:
//   context = merge_heads(Dropout(softmax(Q·Kᵀ/√d + mask)) · V)
// qkv [B, L, 3·H·D] = [Q | K | V] along the last axis, the output of one fused projection
// (models/networks/encoder.cpp) → context [B, L, H·D]; key_mask [B, L] is the additive mask of
// qkv's dtype and device from additive_key_mask (built once per encoder forward, not once per
// layer: on CUDA its 0/1 check is a host round trip). Dropout on the probabilities with `key` when
// training.
Var self_attention(Tape& tape, const Var& qkv, const Tensor& key_mask, std::int64_t heads,
                   double dropout_probability, const kernels::RandomKey& key, bool training);
// The additive key mask [B, L] (0 for tokens, −10000 for padding, as BERT) from a 0/1 i32 mask
// (1 = token, 0 = padding, masked out as keys), in the given float dtype, on the mask's device.
// Shared by the fused op and its composed reference.
Tensor additive_key_mask(const Tensor& attention_mask, DType dtype);

}  // namespace electra::ops
