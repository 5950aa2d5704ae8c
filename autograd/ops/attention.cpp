// Fused multi-head self-attention with a hand-written backward.
//
//   forward                                          saved for backward
//   qh, kh, vh = heads(q, k, v)      [B, H, L, D]    qh, kh, vh
//   scores     = qh · khᵀ / √D       [B, H, L, L]
//   probs      = softmax(scores + key mask)          probs
//   attended   = probs ⊙ keep        (dropout)       keep (undefined without dropout)
//   context_h  = attended · vh       [B, H, L, D]
//   context    = merge(context_h)    [B, L, H·D]
//
// One node replaces seven (split ×3, matmul, scale, softmax, dropout, matmul, merge): fewer saved
// tensors, and the 1/√D scale rides in the GEMM's alpha instead of costing a pass of its own.
#include <cmath>

#include "autograd/ops.hpp"

namespace electra::ops {
namespace {

struct AttentionShape {
  std::int64_t batch, length, heads, head_dim;
  Shape heads_last() const { return Shape{batch, length, heads, head_dim}; }   // [B, L, H, D]
  Shape heads_first() const { return Shape{batch, heads, length, head_dim}; }  // [B, H, L, D]
  Shape scores() const { return Shape{batch, heads, length, length}; }         // [B, H, L, L]
};

AttentionShape check_attention(const Var& q, const Var& k, const Var& v,
                               const Tensor& attention_mask, std::int64_t heads,
                               double dropout_probability) {
  const char* op = "self_attention";
  ELECTRA_CHECK(q.defined() && k.defined() && v.defined(), op, ": q, k and v must all be defined");
  const Tensor& query = q.value();
  ELECTRA_CHECK(query.rank() == 3 && query.numel() > 0, op, ": q must be [B, L, H·D], got ",
        query.describe());
  check_same_shape(op, query, k.value());
  check_same_shape(op, query, v.value());
  ELECTRA_CHECK(heads >= 1 && query.dim(2) % heads == 0, op, ": hidden size ", query.dim(2),
        " is not divisible by heads = ", heads);
  ELECTRA_CHECK(attention_mask.defined() && attention_mask.dtype() == DType::i32, op,
        ": attention_mask must be i32 [B, L], got ", attention_mask.describe());
  check_shape(op, "attention_mask", attention_mask, Shape{query.dim(0), query.dim(1)});
  ELECTRA_CHECK(dropout_probability >= 0 && dropout_probability < 1, op,
        ": dropout probability must be in [0, 1), got ", dropout_probability);
  return {query.dim(0), query.dim(1), heads, query.dim(2) / heads};
}

// [B, L, H·D] → [B, H, L, D] (a new tensor).
Tensor to_heads(const Tensor& x, const AttentionShape& shape) {
  Tensor out = Tensor::empty(shape.heads_first(), x.dtype(), x.device());
  kernels::permute_0213(x.reshape(shape.heads_last()), out);
  return out;
}

// gradient [B, L, H·D] += heads_gradient [B, H, L, D] moved back to the sequence axis.
void accumulate_from_heads(const Tensor& heads_gradient, Var& input, const AttentionShape& shape) {
  Tensor gradient_view = input.grad_buffer().reshape(shape.heads_last());
  kernels::permute_0213_accumulate(heads_gradient, gradient_view);
}

}  // namespace

Tensor additive_key_mask(const Tensor& attention_mask, DType dtype) {
  ELECTRA_CHECK(attention_mask.defined() && attention_mask.dtype() == DType::i32 &&
            attention_mask.rank() == 2,
        "additive_key_mask: attention_mask must be i32 [B, L], got ", attention_mask.describe());
  ELECTRA_CHECK(dtype == DType::f32 || dtype == DType::f64,
        "additive_key_mask: dtype must be f32 or f64, got ", dtype_name(dtype));
  const std::vector<double> keep = attention_mask.to_vector();
  Tensor additive = Tensor::empty(attention_mask.shape(), DType::f64);
  for (std::size_t i = 0; i < keep.size(); ++i) {
    ELECTRA_CHECK(keep[i] == 0 || keep[i] == 1,
          "additive_key_mask: attention_mask values must be 0 or 1, "
          "got ",
          keep[i], " at element ", i);
    // BERT's −10000 rather than −inf: a row with every key padded stays finite (uniform).
    additive.data<double>()[i] = keep[i] == 1 ? 0.0 : -10000.0;
  }
  return additive.to(dtype).to(attention_mask.device());
}

// q, k, v [B, L, H·D]; attention_mask i32 [B, L] → context [B, L, H·D].
Var self_attention(Tape& tape, const Var& q, const Var& k, const Var& v,
                   const Tensor& attention_mask, std::int64_t heads, double dropout_probability,
                   const kernels::RandomKey& key, bool training) {
  const AttentionShape shape = check_attention(q, k, v, attention_mask, heads, dropout_probability);
  const DType dtype = q.value().dtype();
  const Device device = q.value().device();
  const double scale = 1.0 / std::sqrt(static_cast<double>(shape.head_dim));

  const Tensor qh = to_heads(q.value(), shape), kh = to_heads(k.value(), shape),
               vh = to_heads(v.value(), shape);
  Tensor scores = Tensor::empty(shape.scores(), dtype, device);
  kernels::gemm_batched(qh, false, kh, true, scores, scale);
  // Scores rows are (b, h, query); mask row b serves H·L consecutive rows.
  Tensor probs = Tensor::empty(shape.scores(), dtype, device);
  kernels::softmax_forward(scores, additive_key_mask(attention_mask, dtype),
                           shape.heads * shape.length, probs);
  Tensor keep, attended = probs;
  if (training && dropout_probability > 0) {
    keep = Tensor::empty(shape.scores(), dtype, device);
    attended = Tensor::empty(shape.scores(), dtype, device);
    kernels::dropout_forward(probs, dropout_probability, key, attended, keep);
  }
  Tensor context_heads = Tensor::empty(shape.heads_first(), dtype, device);
  kernels::gemm_batched(attended, false, vh, false, context_heads);
  Tensor context = Tensor::empty(shape.heads_last(), dtype, device);
  kernels::permute_0213(context_heads, context);

  return tape.record(
      "self_attention", {q, k, v}, context.reshape(q.shape()),
      [q = q, k = k, v = v, qh, kh, vh, probs, keep, shape, scale](const Var& output) mutable {
        const DType dtype = probs.dtype();
        const Device device = probs.device();
        Tensor dcontext_heads = Tensor::empty(shape.heads_first(), dtype, device);
        kernels::permute_0213(output.grad().reshape(shape.heads_last()), dcontext_heads);
        if (v.requires_grad()) {
          // dvh = attendedᵀ · dcontext_h, attended rebuilt from probs and the keep mask.
          Tensor attended = probs;
          if (keep.defined()) {
            attended = Tensor::empty(shape.scores(), dtype, device);
            kernels::mul(probs, keep, attended);
          }
          Tensor dvh = Tensor::empty(shape.heads_first(), dtype, device);
          kernels::gemm_batched(attended, true, dcontext_heads, false, dvh);
          accumulate_from_heads(dvh, v, shape);
        }
        if (!q.requires_grad() && !k.requires_grad()) return;
        // dprobs = (dcontext_h · vhᵀ) ⊙ keep; dscores = softmax backward of dprobs.
        Tensor dattended = Tensor::empty(shape.scores(), dtype, device);
        kernels::gemm_batched(dcontext_heads, false, vh, true, dattended);
        Tensor dprobs = dattended;
        if (keep.defined()) {
          dprobs = Tensor::empty(shape.scores(), dtype, device);
          kernels::mul(dattended, keep, dprobs);
        }
        Tensor dscores = Tensor::zeros(shape.scores(), dtype, device);
        kernels::softmax_backward_accumulate(probs, dprobs, dscores);
        // scores = qh·khᵀ·scale: dqh = dscores·kh·scale, dkh = dscoresᵀ·qh·scale.
        if (q.requires_grad()) {
          Tensor dqh = Tensor::empty(shape.heads_first(), dtype, device);
          kernels::gemm_batched(dscores, false, kh, false, dqh, scale);
          accumulate_from_heads(dqh, q, shape);
        }
        if (k.requires_grad()) {
          Tensor dkh = Tensor::empty(shape.heads_first(), dtype, device);
          kernels::gemm_batched(dscores, true, qh, false, dkh, scale);
          accumulate_from_heads(dkh, k, shape);
        }
      });
}

}  // namespace electra::ops
