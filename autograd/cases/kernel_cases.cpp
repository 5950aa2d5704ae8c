// Kernel cases (autograd/op_cases.hpp): the kernels no op calls (optimizer, sampling, statistics)
// and the sizes and special values the gradcheck shapes are too small for: odd sizes with
// alpha/beta in every product, long rows (3001, 30522 classes), many row chunks (3001 rows for the
// bias gradient, 993 for layer norm's dgamma/dbeta), fully masked rows, NaN and ±inf entries.
#include <cmath>
#include <limits>

#include "autograd/op_cases.hpp"
#include "engine/kernels.hpp"

namespace electra {
namespace {

using Outputs = std::vector<Tensor>;

Tensor ids_of(const Shape& shape, std::int32_t limit, std::uint64_t seed) {
  const Tensor draws = random_f64(shape, seed, 0.0, static_cast<double>(limit));
  Tensor ids = Tensor::empty(shape, DType::i32);
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    ids.data<std::int32_t>()[i] = static_cast<std::int32_t>(draws.data<double>()[i]);
  return ids;
}

void append_product_cases(std::vector<KernelCase>& cases) {
  const std::int64_t m = 37, n = 29, k = 53;
  for (int mode = 0; mode < 4; ++mode) {
    const bool transpose_a = mode & 1, transpose_b = mode & 2;
    cases.push_back({"gemm",
                     std::string("[37, 53]") + (transpose_a ? "ᵀ" : "") + " · [53, 29]" +
                         (transpose_b ? "ᵀ" : "") + ", alpha 0.75, beta 0.5",
                     [transpose_a, transpose_b](KernelRun& run) {
                       Tensor c = run.output_from(run.inputs[2]);
                       kernels::gemm(run.inputs[0], transpose_a, run.inputs[1], transpose_b, c,
                                     0.75, 0.5);
                       return Outputs{c};
                     },
                     {random_f64(transpose_a ? Shape{k, m} : Shape{m, k}, 1 + mode),
                      random_f64(transpose_b ? Shape{n, k} : Shape{k, n}, 11 + mode),
                      random_f64(Shape{m, n}, 21 + mode)},
                     {}});
  }
  // Attention-like: scores [B,H,Lq,Lk] = q [B,H,Lq,D] · kᵀ; then a rank-3 aᵀ·b accumulating.
  cases.push_back({"gemm_batched",
                   "[2, 3, 17, 11] · [2, 3, 19, 11]ᵀ, alpha 0.3; [5, 13, 7]ᵀ · [5, 13, 9] + c",
                   [](KernelRun& run) {
                     Tensor scores = run.output_like(Shape{2, 3, 17, 19});
                     kernels::gemm_batched(run.inputs[0], false, run.inputs[1], true, scores, 0.3);
                     Tensor c = run.output_from(run.inputs[4]);
                     kernels::gemm_batched(run.inputs[2], true, run.inputs[3], false, c, 1.0, 1.0);
                     return Outputs{scores, c};
                   },
                   {random_f64(Shape{2, 3, 17, 11}, 31), random_f64(Shape{2, 3, 19, 11}, 32),
                    random_f64(Shape{5, 13, 7}, 33), random_f64(Shape{5, 13, 9}, 34),
                    random_f64(Shape{5, 7, 9}, 35)},
                   {}});
  // Heads of a fused qkv [B, L, 3·H·D] read in place; B = 5 > H = 3 and B = 2 < H = 3 take the
  // two orientations of the CUDA loop (one strided-batched call per head or per sequence).
  for (const std::int64_t batch : {5, 2}) {
    const std::int64_t length = 7, heads = 3, head_dim = 4, width = heads * head_dim;
    cases.push_back({"gemm_strided_batched",
                     "q·kᵀ and scoresᵀ·v (accumulating) on heads of qkv [" + std::to_string(batch) +
                         ", 7, 36], 3 heads",
                     [=](KernelRun& run) {
                       const auto head = [&](std::int64_t offset, std::int64_t leading) {
                         return kernels::StridedMatrices{offset,  length,           head_dim,
                                                         leading, length * leading, head_dim};
                       };
                       const kernels::StridedMatrices scores_matrix{
                           0, length, length, length, heads * length * length, length * length};
                       const Tensor& qkv = run.inputs[0];
                       Tensor scores = run.output_like(Shape{batch, heads, length, length});
                       kernels::gemm_strided_batched(batch, heads, qkv, head(0, 3 * width), false,
                                                     qkv, head(width, 3 * width), true, scores,
                                                     scores_matrix, 0.3);
                       Tensor context = run.output_from(run.inputs[1]);
                       kernels::gemm_strided_batched(batch, heads, scores, scores_matrix, true, qkv,
                                                     head(2 * width, 3 * width), false, context,
                                                     head(0, width), 1.0, 1.0);
                       return Outputs{scores, context};
                     },
                     {random_f64(Shape{batch, length, 3 * width}, 36),
                      random_f64(Shape{batch, length, width}, 37)},
                     {}});
  }
}

void append_elementwise_and_reduction_cases(std::vector<KernelCase>& cases) {
  cases.push_back({"copy",
                   "[23, 41]; add_bias on [23, 41]",
                   [](KernelRun& run) {
                     Tensor copied = run.output_like(run.inputs[0].shape());
                     kernels::copy(run.inputs[0], copied);
                     Tensor biased = run.output_from(run.inputs[0]);
                     kernels::add_bias(biased, run.inputs[1]);
                     return Outputs{copied, biased};
                   },
                   {random_f64(Shape{23, 41}, 41), random_f64(Shape{41}, 44)},
                   {}});
  cases.push_back({"sum_rows_accumulate",
                   "x [3001, 7] (several row chunks on the GPU)",
                   [](KernelRun& run) {
                     Tensor gradient = run.output_from(run.inputs[1]);
                     kernels::sum_rows_accumulate(run.inputs[0], gradient);
                     return Outputs{gradient};
                   },
                   {random_f64(Shape{3001, 7}, 45), random_f64(Shape{7}, 46)},
                   {}});
  // More elements than one block's grid-stride share, so both passes reduce many partials.
  cases.push_back({"squared_norm",
                   "sum, dot and squared_norm of [1000, 301]",
                   [](KernelRun& run) {
                     const Tensor &x = run.inputs[0], &y = run.inputs[1];
                     return Outputs{scalar(kernels::sum(x)), scalar(kernels::dot(x, y)),
                                    scalar(kernels::squared_norm(x))};
                   },
                   {random_f64(Shape{1000, 301}, 51, -2.0, 3.0), random_f64(Shape{1000, 301}, 52)},
                   {}});
  Tensor with_bad = random_f64(Shape{1000, 301}, 51, -2.0, 3.0);
  with_bad.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
  with_bad.data<double>()[77] = std::numeric_limits<double>::infinity();
  with_bad.data<double>()[999] = -std::numeric_limits<double>::infinity();
  for (const bool bad : {false, true}) {
    cases.push_back({"stats",
                     bad ? "stats and all_finite of [1000, 301] with a NaN, +inf and −inf"
                         : "stats and all_finite of [1000, 301]",
                     [](KernelRun& run) {
                       const kernels::TensorStats stats = kernels::stats(run.inputs[0]);
                       const Tensor exact = Tensor::from_vector<double>(
                           {stats.min, stats.max, stats.abs_max,
                            static_cast<double>(stats.nan_count),
                            static_cast<double>(stats.inf_count),
                            kernels::all_finite(run.inputs[0]) ? 1.0 : 0.0},
                           Shape{6});
                       return Outputs{exact, scalar(stats.mean)};
                     },
                     {bad ? with_bad : random_f64(Shape{1000, 301}, 51, -2.0, 3.0)},
                     {0.0}});
  }
}

void append_softmax_and_layer_norm_cases(std::vector<KernelCase>& cases) {
  // scores [B=2, H=3, Lq=5, Lk=37], key-padding mask [B, Lk]: batch 0 masks its last keys with
  // −10000, batch 1 masks every key with −inf (the uniform-row rule).
  Tensor mask = Tensor::zeros(Shape{2, 37}, DType::f64);
  for (int c = 30; c < 37; ++c) mask.data<double>()[c] = -10000.0;
  for (int c = 0; c < 37; ++c)
    mask.data<double>()[37 + c] = -std::numeric_limits<double>::infinity();
  cases.push_back({"softmax_forward",
                   "scores [2, 3, 5, 37], mask [2, 37] with a row of −inf",
                   [](KernelRun& run) {
                     Tensor y = run.output_like(run.inputs[0].shape());
                     kernels::softmax_forward(run.inputs[0], run.inputs[1], 3 * 5, y);
                     return Outputs{y};
                   },
                   {random_f64(Shape{2, 3, 5, 37}, 61, -4.0, 4.0), mask},
                   {}});
  // A long row (vocabulary-like) and short ones, forward and backward of both softmaxes.
  for (const Shape& rows : {Shape{7, 3001}, Shape{19, 3}}) {
    cases.push_back({"log_softmax_forward",
                     "softmax and log_softmax, forward and backward, rows " + rows.str(),
                     [](KernelRun& run) {
                       const Tensor &logits = run.inputs[0], &dy = run.inputs[1];
                       Tensor probs = run.output_like(logits.shape());
                       kernels::softmax_forward(logits, Tensor(), 1, probs);
                       Tensor dx = run.output_from(run.inputs[2]);
                       kernels::softmax_backward_accumulate(probs, dy, dx);
                       Tensor log_probs = run.output_like(logits.shape());
                       kernels::log_softmax_forward(logits, log_probs);
                       Tensor dlog = run.output_from(run.inputs[2]);
                       kernels::log_softmax_backward_accumulate(log_probs, dy, dlog);
                       return Outputs{probs, dx, log_probs, dlog};
                     },
                     {random_f64(rows, 62, -8.0, 8.0), random_f64(rows, 63), random_f64(rows, 64)},
                     {}});
  }
  // 993 rows: several row chunks for dgamma/dbeta; then dgamma alone (dx, dbeta undefined).
  const Shape shape{3, 331, 67};
  cases.push_back({"layer_norm_backward_accumulate",
                   "x [3, 331, 67], forward and backward, then dgamma alone",
                   [](KernelRun& run) {
                     const Tensor &x = run.inputs[0], &gamma = run.inputs[1], &dy = run.inputs[3];
                     Tensor y = run.output_like(x.shape());
                     Tensor mean = run.output_like(Shape{993}), rstd = run.output_like(Shape{993});
                     kernels::layer_norm_forward(x, gamma, run.inputs[2], 1e-12, y, mean, rstd);
                     Tensor dx = run.output_from(run.inputs[4]);
                     Tensor dgamma = run.output_from(run.inputs[5]);
                     Tensor dbeta = run.output_from(run.inputs[5]);
                     kernels::layer_norm_backward_accumulate(x, gamma, mean, rstd, dy, dx, dgamma,
                                                             dbeta);
                     Tensor none_dx, none_dbeta, dgamma_alone = run.output_from(run.inputs[5]);
                     kernels::layer_norm_backward_accumulate(x, gamma, mean, rstd, dy, none_dx,
                                                             dgamma_alone, none_dbeta);
                     return Outputs{y, mean, rstd, dx, dgamma, dbeta, dgamma_alone};
                   },
                   {random_f64(shape, 71, -3.0, 5.0), random_f64(Shape{67}, 72, 0.5, 1.5),
                    random_f64(Shape{67}, 73), random_f64(shape, 74), random_f64(shape, 75),
                    random_f64(Shape{67}, 76)},
                   {}});
}

void append_lookup_and_loss_cases(std::vector<KernelCase>& cases) {
  cases.push_back({"embedding_backward_accumulate",
                   "table [50, 13], ids [7, 9] (63 ids, many repeated)",
                   [](KernelRun& run) {
                     const Tensor &table = run.inputs[0], &ids = run.inputs[1];
                     Tensor out = run.output_like(Shape{7, 9, 13});
                     kernels::embedding_forward(table, ids, out);
                     Tensor dtable = run.output_from(run.inputs[3]);
                     kernels::embedding_backward_accumulate(ids, run.inputs[2], dtable);
                     return Outputs{out, dtable};
                   },
                   {random_f64(Shape{50, 13}, 91), ids_of(Shape{7, 9}, 50, 92),
                    random_f64(Shape{7, 9, 13}, 93), random_f64(Shape{50, 13}, 94)},
                   {}});
  Tensor weights = random_f64(Shape{43}, 113, 0.0, 1.0);
  weights.data<double>()[7] = 0.0;  // a padded row
  cases.push_back(
      {"cross_entropy_forward",
       "logits [43, 301] in ±30, one zero weight, dloss 1.3",
       [](KernelRun& run) {
         const Tensor &logits = run.inputs[0], &targets = run.inputs[1], &weights = run.inputs[2];
         Tensor probs = run.output_like(logits.shape());
         const double loss = kernels::cross_entropy_forward(logits, targets, weights, probs);
         Tensor dlogits = run.output_from(run.inputs[3]);
         kernels::cross_entropy_backward_accumulate(probs, targets, weights, 1.3, dlogits);
         return Outputs{scalar(loss), probs, dlogits};
       },
       {random_f64(Shape{43, 301}, 111, -30.0, 30.0), ids_of(Shape{43}, 301, 112), weights,
        random_f64(Shape{43, 301}, 114)},
       {}});
  cases.push_back(
      {"bce_with_logits_forward",
       "logits [997] in ±40, dloss 0.9",
       [](KernelRun& run) {
         const Tensor &z = run.inputs[0], &labels = run.inputs[1], &weights = run.inputs[2];
         const double loss = kernels::bce_with_logits_forward(z, labels, weights);
         Tensor dz = run.output_from(run.inputs[3]);
         kernels::bce_with_logits_backward_accumulate(z, labels, weights, 0.9, dz);
         return Outputs{scalar(loss), dz};
       },
       {random_f64(Shape{997}, 115, -40.0, 40.0), ids_of(Shape{997}, 2, 116).to(DType::f64),
        random_f64(Shape{997}, 117, 0.0, 1.0), random_f64(Shape{997}, 118)},
       {}});
}

void append_random_cases(std::vector<KernelCase>& cases) {
  const kernels::RandomKey key{0xC0FFEEull, 3, 1001};  // odd counter: blocks straddle elements
  const Shape shape{31, 37};
  cases.push_back(
      {"dropout",
       "keep mask of ones, x, and x accumulated, [31, 37], odd counter",
       [key](KernelRun& run) {
         Tensor keep = run.output_like(run.inputs[0].shape());
         kernels::dropout(run.inputs[0], 0.1, key, keep, false);
         Tensor y = run.output_like(run.inputs[1].shape());
         kernels::dropout(run.inputs[1], 0.1, key, y, false);
         Tensor sum = run.output_from(run.inputs[2]);
         kernels::dropout(run.inputs[1], 0.1, key, sum, true);
         return Outputs{keep, y, sum};
       },
       {Tensor::full(shape, 1.0, DType::f64), random_f64(shape, 101), random_f64(shape, 102)},
       {0.0}});
  // The GPU's double log/cos may differ from glibc's in the last ulp: normals by error (1e-12).
  cases.push_back({"uniform",
                   "uniform and truncated_normal (std 0.02) [31, 37]",
                   [key, shape](KernelRun& run) {
                     Tensor uniform = run.output_like(shape), normal = run.output_like(shape);
                     kernels::uniform(key, uniform);
                     kernels::truncated_normal(key, 0.02, normal);
                     return Outputs{uniform, normal};
                   },
                   {},
                   {0.0, 1e-12}});
  // Same Philox uniform per row; the exp-sums differ in order, so a class could differ only if
  // u · total fell within rounding of a class boundary (not for these seeds). Wide rows: many
  // classes per thread; row 0 has two +inf (the first wins), row 1 is all NaN (class 0).
  Tensor wide = random_f64(Shape{64, 30522}, 103, -3.0, 3.0);
  wide.data<double>()[5] = wide.data<double>()[9] = std::numeric_limits<double>::infinity();
  for (std::int64_t c = 0; c < 30522; ++c)
    wide.data<double>()[30522 + c] = std::numeric_limits<double>::quiet_NaN();
  // argmax: row 0 has a tie (the first wins), row 1 a NaN (never wins).
  Tensor with_ties = random_f64(Shape{41, 29}, 102, -2.0, 2.0);
  with_ties.data<double>()[3] = with_ties.data<double>()[17] = 9.0;
  with_ties.data<double>()[29] = std::numeric_limits<double>::quiet_NaN();
  cases.push_back({"sample_categorical",
                   "[41, 29] at temperature 0.7; [64, 30522] with +inf and NaN rows; argmax_rows "
                   "with a tie and a NaN",
                   [key](KernelRun& run) {
                     Tensor chosen = run.output(Shape{41}, DType::i32, Tensor());
                     kernels::sample_categorical(run.inputs[0], 0.7, key, chosen);
                     Tensor wide_chosen = run.output(Shape{64}, DType::i32, Tensor());
                     kernels::sample_categorical(run.inputs[1], 1.0, key, wide_chosen);
                     Tensor argmax = run.output(Shape{41}, DType::i32, Tensor());
                     kernels::argmax_rows(run.inputs[2], argmax);
                     return Outputs{chosen, wide_chosen, argmax};
                   },
                   {random_f64(Shape{41, 29}, 102, -2.0, 2.0), wide, with_ties},
                   {0.0, 0.0, 0.0}});
}

void append_adamw_cases(std::vector<KernelCase>& cases) {
  for (const bool correction : {false, true}) {
    cases.push_back({"adamw_update",
                     correction ? "[37, 29], 3 steps, bias correction, no weight decay"
                                : "[37, 29], 3 steps, weight decay 0.01, no bias correction",
                     [correction](KernelRun& run) {
                       kernels::AdamWSettings settings;
                       settings.learning_rate = 1e-3;
                       settings.weight_decay = correction ? 0.0 : 0.01;
                       settings.bias_correction = correction;
                       settings.gradient_scale = 0.8;
                       Tensor parameter = run.output_from(run.inputs[0]);
                       Tensor first = run.output_from(run.inputs[1]);
                       Tensor second = run.output_from(run.inputs[2]);
                       for (std::int64_t step = 1; step <= 3; ++step) {
                         settings.step = step;
                         kernels::adamw_update(parameter, run.inputs[2 + step], first, second,
                                               settings);
                       }
                       return Outputs{parameter, first, second};
                     },
                     {random_f64(Shape{37, 29}, 121), random_f64(Shape{37, 29}, 122, -0.1, 0.1),
                      random_f64(Shape{37, 29}, 123, 0.0, 0.01), random_f64(Shape{37, 29}, 131),
                      random_f64(Shape{37, 29}, 132), random_f64(Shape{37, 29}, 133)},
                     {}});
  }
}

}  // namespace

void append_kernel_cases(std::vector<KernelCase>& cases) {
  append_product_cases(cases);
  append_elementwise_and_reduction_cases(cases);
  append_softmax_and_layer_norm_cases(cases);
  append_lookup_and_loss_cases(cases);
  append_random_cases(cases);
  append_adamw_cases(cases);
}

}  // namespace electra
