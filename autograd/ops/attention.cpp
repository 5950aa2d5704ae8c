// Fused multi-head self-attention with a hand-written backward.
//
//   forward                                          saved for backward
//   q_h, k_h, v_h = head h of qkv's  [L, D] each     qkv (the input itself)
//                   three blocks
//   scores     = q_h · k_hᵀ / √D       [B, H, L, L]
//   probs      = softmax(scores + key mask)          probs
//   attended   = probs ⊙ keep        (dropout)       the key (backward redraws keep)
//   context_h  = attended · v_h      → head h of context [B, L, H·D]
//
// One node replaces seven (split ×3, matmul, scale, softmax, dropout, matmul, merge): fewer saved
// tensors, and the 1/√D scale rides in the GEMM's alpha instead of costing a pass of its own.
// qkv is the output of one fused projection [B, L, 3·H·D] = [q | k | v]
// (models/networks/encoder.cpp). Head h of q, k or v is read in place as a strided matrix (rows
// 3·H·D apart, kernels::gemm_strided_batched), and so are the heads of the context [B, L, H·D]: no
// copies into a head-first layout, and backward accumulates dq, dk, dv straight into qkv's gradient
// with beta = 1.
#include <cmath>

#include "autograd/ops.hpp"

namespace electra::ops {
namespace {

struct AttentionShape {
  std::int64_t batch, length, heads, head_dim;
  Shape scores() const { return Shape{batch, heads, length, length}; }  // [B, H, L, L]
  // Head h of sequence b of a [B, L, ·] tensor whose rows are `leading` apart, starting at column
  // `offset`: an [L, D] matrix at offset + b·L·leading + h·D.
  kernels::StridedMatrices head(std::int64_t offset, std::int64_t leading) const {
    return {offset, length, head_dim, leading, length * leading, head_dim};
  }
  // Matrix (b, h) of scores-shaped [B, H, L, L] tensors.
  kernels::StridedMatrices scores_matrix() const {
    return {0, length, length, length, heads * length * length, length * length};
  }
};

AttentionShape check_attention(const Var& qkv, const Tensor& key_mask, std::int64_t heads,
                               double dropout_probability) {
  const char* op = "self_attention";
  check(qkv.defined(), op, ": qkv must be defined");
  const Tensor& fused = qkv.value();
  check(fused.rank() == 3 && fused.numel() > 0 && fused.dim(2) % 3 == 0, op,
        ": qkv must be [B, L, 3·H·D], got ", fused);
  const std::int64_t width = fused.dim(2) / 3;
  check(heads >= 1 && width % heads == 0, op, ": hidden size ", width,
        " is not divisible by heads = ", heads);
  check(key_mask.defined() && key_mask.dtype() == fused.dtype(), op,
        ": key_mask must be the additive [B, L] mask in qkv's dtype (ops::additive_key_mask), got ",
        key_mask);
  check_shape(op, "key_mask", key_mask, Shape{fused.dim(0), fused.dim(1)});
  check(dropout_probability >= 0 && dropout_probability < 1, op,
        ": dropout probability must be in [0, 1), got ", dropout_probability);
  return {fused.dim(0), fused.dim(1), heads, width / heads};
}

// c_bh = alpha · op(a_bh) · op(b_bh) + beta · c_bh for every sequence b and head h.
void per_head(const AttentionShape& shape, const Tensor& a,
              const kernels::StridedMatrices& a_layout, bool transpose_a, const Tensor& b,
              const kernels::StridedMatrices& b_layout, bool transpose_b, Tensor& c,
              const kernels::StridedMatrices& c_layout, double alpha = 1.0, double beta = 0.0) {
  kernels::gemm_strided_batched(shape.batch, shape.heads, a, a_layout, transpose_a, b, b_layout,
                                transpose_b, c, c_layout, alpha, beta);
}

}  // namespace

Tensor additive_key_mask(const Tensor& attention_mask, DType dtype) {
  check(attention_mask.defined() && attention_mask.dtype() == DType::i32 &&
            attention_mask.rank() == 2,
        "additive_key_mask: attention_mask must be i32 [B, L], got ", attention_mask);
  check(dtype == DType::f32 || dtype == DType::f64,
        "additive_key_mask: dtype must be f32 or f64, got ", dtype_name(dtype));
  const std::vector<double> keep = attention_mask.to_vector();
  Tensor additive = Tensor::empty(attention_mask.shape(), DType::f64);
  for (std::size_t i = 0; i < keep.size(); ++i) {
    check(keep[i] == 0 || keep[i] == 1,
          "additive_key_mask: attention_mask values must be 0 or 1, "
          "got ",
          keep[i], " at element ", i);
    // BERT's −10000 rather than −inf: a row with every key padded stays finite (uniform).
    additive.data<double>()[i] = keep[i] == 1 ? 0.0 : -10000.0;
  }
  return additive.to(dtype).to(attention_mask.device());
}

// qkv [B, L, 3·H·D]; key_mask [B, L] additive → context [B, L, H·D].
Var self_attention(Tape& tape, const Var& qkv, const Tensor& key_mask, std::int64_t heads,
                   double dropout_probability, const kernels::RandomKey& key, bool training) {
  const AttentionShape shape = check_attention(qkv, key_mask, heads, dropout_probability);
  const DType dtype = qkv.value().dtype();
  const Device device = qkv.value().device();
  const double scale = 1.0 / std::sqrt(static_cast<double>(shape.head_dim));

  const std::int64_t width = shape.heads * shape.head_dim;
  const kernels::StridedMatrices q = shape.head(0, 3 * width), k = shape.head(width, 3 * width),
                                 v = shape.head(2 * width, 3 * width),
                                 context_head = shape.head(0, width),
                                 scores_matrix = shape.scores_matrix();
  const Tensor& fused = qkv.value();
  Tensor scores = Tensor::empty(shape.scores(), dtype, device);
  per_head(shape, fused, q, false, fused, k, true, scores, scores_matrix, scale);
  // Scores rows are (b, h, query); mask row b serves H·L consecutive rows.
  Tensor probs = Tensor::empty(shape.scores(), dtype, device);
  kernels::softmax_forward(scores, key_mask, shape.heads * shape.length, probs);
  // The dropout mask is a function of the key: backward redraws it rather than keeping it.
  const bool dropout = training && dropout_probability > 0;
  Tensor attended = probs;
  if (dropout) {
    attended = Tensor::empty(shape.scores(), dtype, device);
    kernels::dropout(probs, dropout_probability, key, attended);
  }
  Tensor context = Tensor::empty(Shape{shape.batch, shape.length, width}, dtype, device);
  per_head(shape, attended, scores_matrix, false, fused, v, false, context, context_head);

  return tape.record(
      "self_attention", {qkv}, context,
      [qkv = qkv, probs, dropout, dropout_probability, key, shape, scale, q, k, v, context_head,
       scores_matrix](const Var& output) mutable {
        if (!qkv.requires_grad()) return;
        const DType dtype = probs.dtype();
        const Device device = probs.device();
        const Tensor& fused = qkv.value();
        Tensor& dqkv = qkv.grad_buffer();        // dq, dk, dv land in their column blocks
        const Tensor& dcontext = output.grad();  // [B, L, H·D], read per head in place
        // dv_h += attendedᵀ · dcontext_h, attended rebuilt from probs and the key's mask.
        Tensor attended = probs;
        if (dropout) {
          attended = Tensor::empty(shape.scores(), dtype, device);
          kernels::dropout(probs, dropout_probability, key, attended);
        }
        per_head(shape, attended, scores_matrix, true, dcontext, context_head, false, dqkv, v, 1.0,
                 1.0);
        // dprobs = (dcontext_h · v_hᵀ) ⊙ keep; dscores = softmax backward of dprobs.
        Tensor dattended = Tensor::empty(shape.scores(), dtype, device);
        per_head(shape, dcontext, context_head, false, fused, v, true, dattended, scores_matrix);
        Tensor dprobs = dattended;
        if (dropout) {
          dprobs = Tensor::empty(shape.scores(), dtype, device);
          kernels::dropout(dattended, dropout_probability, key, dprobs);
        }
        Tensor dscores = Tensor::zeros(shape.scores(), dtype, device);
        kernels::softmax_backward_accumulate(probs, dprobs, dscores);
        // scores = q_h·k_hᵀ·scale: dq_h += dscores·k_h·scale, dk_h += dscoresᵀ·q_h·scale.
        per_head(shape, dscores, scores_matrix, false, fused, k, false, dqkv, q, scale, 1.0);
        per_head(shape, dscores, scores_matrix, true, fused, q, false, dqkv, k, scale, 1.0);
      });
}

}  // namespace electra::ops
