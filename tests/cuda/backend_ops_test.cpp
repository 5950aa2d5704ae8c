// CUDA against CPU for the dense kernels: products, elementwise, GELU, reductions, softmax
// family and layer norm (helpers and rules in backend_ops.hpp). Shapes are deliberately odd so
// every output has allocation slack for the sentinel bytes.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "engine/cuda/cuda_runtime.hpp"
#include "engine/cuda/kernels_cuda.hpp"
#include "engine/kernels.hpp"
#include "tests/cuda/backend_ops.hpp"

using namespace electra;
using namespace electra::backend_ops_test;
namespace cpu_k = electra::kernels;
namespace gpu_k = electra::cuda_kernels;

TEST_CASE("backend ops: gemm in all four transpose modes, with alpha and beta") {
  const std::int64_t m = 37, n = 29, k = 53;
  for (int mode = 0; mode < 4; ++mode) {
    const bool transpose_a = mode & 1, transpose_b = mode & 2;
    CAPTURE(transpose_a);
    CAPTURE(transpose_b);
    const Tensor a = random_tensor(transpose_a ? Shape{k, m} : Shape{m, k}, 1 + mode);
    const Tensor b = random_tensor(transpose_b ? Shape{n, k} : Shape{k, n}, 11 + mode);
    const Tensor c_initial = random_tensor(Shape{m, n}, 21 + mode);
    Tensor c_cpu = c_initial.clone();
    Tensor c_gpu = guarded(c_initial);
    cpu_k::gemm(a, transpose_a, b, transpose_b, c_cpu, 0.75, 0.5);
    gpu_k::gemm(a.to(Device::cuda), transpose_a, b.to(Device::cuda), transpose_b, c_gpu, 0.75, 0.5);
    expect_match("gemm", c_cpu, c_gpu);
  }
}

TEST_CASE("backend ops: gemm_batched on rank-3 and rank-4 operands") {
  // Attention-like: scores [B,H,Lq,Lk] = q [B,H,Lq,D] · kᵀ, then context = probs · v.
  const Tensor q = random_tensor(Shape{2, 3, 17, 11}, 31);
  const Tensor key = random_tensor(Shape{2, 3, 19, 11}, 32);
  Tensor scores_cpu = Tensor::empty(Shape{2, 3, 17, 19});
  Tensor scores_gpu = guarded_nan(Shape{2, 3, 17, 19});
  cpu_k::gemm_batched(q, false, key, true, scores_cpu, 0.3);
  gpu_k::gemm_batched(q.to(Device::cuda), false, key.to(Device::cuda), true, scores_gpu, 0.3);
  expect_match("gemm_batched q·kᵀ", scores_cpu, scores_gpu);

  const Tensor a = random_tensor(Shape{5, 13, 7}, 33);
  const Tensor b = random_tensor(Shape{5, 13, 9}, 34);
  const Tensor c_initial = random_tensor(Shape{5, 7, 9}, 35);
  Tensor c_cpu = c_initial.clone();
  Tensor c_gpu = guarded(c_initial);
  cpu_k::gemm_batched(a, true, b, false, c_cpu, 1.0, 1.0);
  gpu_k::gemm_batched(a.to(Device::cuda), true, b.to(Device::cuda), false, c_gpu, 1.0, 1.0);
  expect_match("gemm_batched aᵀ·b accumulate", c_cpu, c_gpu);
}

// ---- gemm_strided_batched and the row-block moves (attention heads read in place, fused QKV)
TEST_CASE("backend ops: gemm_strided_batched on heads of a fused qkv, and row blocks") {
  // B sequences, L tokens, H heads of D: q and k read from qkv [B, L, 3·H·D], context heads
  // accumulated (beta = 1) into [B, L, H·D]. B = 5 > H = 3 and B = 2 < H = 3 take the two
  // orientations of the CUDA loop (one strided-batched call per head or per sequence).
  for (const std::int64_t batch : {5, 2}) {
    CAPTURE(batch);
    const std::int64_t length = 7, heads = 3, head_dim = 4, width = heads * head_dim;
    const auto head = [&](std::int64_t offset, std::int64_t leading) {
      return kernels::StridedMatrices{offset, length, head_dim, leading, length * leading,
                                      head_dim};
    };
    const kernels::StridedMatrices scores_matrix{0,      length, length, length,
                                                 heads * length * length, length * length};
    const Tensor qkv = random_tensor(Shape{batch, length, 3 * width}, 36);
    const Tensor qkv_gpu = qkv.to(Device::cuda);
    Tensor scores_cpu = Tensor::empty(Shape{batch, heads, length, length});
    Tensor scores_gpu = guarded_nan(Shape{batch, heads, length, length});
    cpu_k::gemm_strided_batched(batch, heads, qkv, head(0, 3 * width), false, qkv,
                                head(width, 3 * width), true, scores_cpu, scores_matrix, 0.3);
    gpu_k::gemm_strided_batched(batch, heads, qkv_gpu, head(0, 3 * width), false, qkv_gpu,
                                head(width, 3 * width), true, scores_gpu, scores_matrix, 0.3);
    expect_match("gemm_strided_batched q·kᵀ", scores_cpu, scores_gpu);
    const Tensor context_initial = random_tensor(Shape{batch, length, width}, 37);
    Tensor context_cpu = context_initial.clone();
    Tensor context_gpu = guarded(context_initial);
    cpu_k::gemm_strided_batched(batch, heads, scores_cpu, scores_matrix, true, qkv,
                                head(2 * width, 3 * width), false, context_cpu, head(0, width),
                                1.0, 1.0);
    gpu_k::gemm_strided_batched(batch, heads, scores_cpu.to(Device::cuda), scores_matrix, true,
                                qkv_gpu, head(2 * width, 3 * width), false, context_gpu,
                                head(0, width), 1.0, 1.0);
    expect_match("gemm_strided_batched scoresᵀ·v accumulate", context_cpu, context_gpu);
  }

  const Tensor part = random_tensor(Shape{5, 3}, 38);
  const Tensor stacked_initial = random_tensor(Shape{13, 3}, 39);
  Tensor stacked_cpu = stacked_initial.clone();
  Tensor stacked_gpu = guarded(stacked_initial);
  cpu_k::copy_rows_into(part, stacked_cpu, 6);
  gpu_k::copy_rows_into(part.to(Device::cuda), stacked_gpu, 6);
  expect_match("copy_rows_into", stacked_cpu, stacked_gpu);
  Tensor gradient_cpu = part.clone();
  Tensor gradient_gpu = guarded(part);
  cpu_k::rows_of_accumulate(stacked_initial, 4, gradient_cpu);
  gpu_k::rows_of_accumulate(stacked_initial.to(Device::cuda), 4, gradient_gpu);
  expect_match("rows_of_accumulate", gradient_cpu, gradient_gpu);
}
// ---- (end gemm_strided_batched and row blocks)

TEST_CASE("backend ops: elementwise, bias and bias gradient") {
  const Shape shape{23, 41};
  const Tensor a = random_tensor(shape, 41), b = random_tensor(shape, 42);
  const Tensor start = random_tensor(shape, 43);
  const Tensor a_gpu = a.to(Device::cuda), b_gpu = b.to(Device::cuda);
  auto overwrite = [&](const char* what, auto cpu_call, auto gpu_call) {
    Tensor out_cpu = Tensor::empty(shape);
    Tensor out_gpu = guarded_nan(shape);
    cpu_call(out_cpu);
    gpu_call(out_gpu);
    expect_match(what, out_cpu, out_gpu);
  };
  auto accumulate = [&](const char* what, auto cpu_call, auto gpu_call) {
    Tensor out_cpu = start.clone();
    Tensor out_gpu = guarded(start);
    cpu_call(out_cpu);
    gpu_call(out_gpu);
    expect_match(what, out_cpu, out_gpu);
  };
  overwrite("copy", [&](Tensor& o) { cpu_k::copy(a, o); }, [&](Tensor& o) { gpu_k::copy(a_gpu, o); });
  overwrite("add", [&](Tensor& o) { cpu_k::add(a, b, o); },
            [&](Tensor& o) { gpu_k::add(a_gpu, b_gpu, o); });
  overwrite("mul", [&](Tensor& o) { cpu_k::mul(a, b, o); },
            [&](Tensor& o) { gpu_k::mul(a_gpu, b_gpu, o); });
  overwrite("scale", [&](Tensor& o) { cpu_k::scale(a, -1.7, o); },
            [&](Tensor& o) { gpu_k::scale(a_gpu, -1.7, o); });
  overwrite("gelu_forward", [&](Tensor& o) { cpu_k::gelu_forward(a, o); },
            [&](Tensor& o) { gpu_k::gelu_forward(a_gpu, o); });
  accumulate("mul_accumulate", [&](Tensor& o) { cpu_k::mul_accumulate(a, b, o); },
             [&](Tensor& o) { gpu_k::mul_accumulate(a_gpu, b_gpu, o); });
  accumulate("axpy", [&](Tensor& o) { cpu_k::axpy(0.37, a, o); },
             [&](Tensor& o) { gpu_k::axpy(0.37, a_gpu, o); });
  const Tensor bias = random_tensor(Shape{41}, 44);
  accumulate("add_bias", [&](Tensor& o) { cpu_k::add_bias(o, bias); },
             [&](Tensor& o) { gpu_k::add_bias(o, bias.to(Device::cuda)); });
  accumulate("gelu_backward_accumulate",
             [&](Tensor& o) { cpu_k::gelu_backward_accumulate(a, b, o); },
             [&](Tensor& o) { gpu_k::gelu_backward_accumulate(a_gpu, b_gpu, o); });

  // Bias gradient over many rows (several row chunks on the GPU).
  const Tensor tall = random_tensor(Shape{3001, 7}, 45);
  const Tensor bias_start = random_tensor(Shape{7}, 46);
  Tensor grad_cpu = bias_start.clone();
  Tensor grad_gpu = guarded(bias_start);
  cpu_k::sum_rows_accumulate(tall, grad_cpu);
  gpu_k::sum_rows_accumulate(tall.to(Device::cuda), grad_gpu);
  expect_match("sum_rows_accumulate", grad_cpu, grad_gpu);
}

TEST_CASE("backend ops: deterministic reductions and stats") {
  // More elements than one block's grid-stride share, so both passes reduce many partials.
  const Tensor x = random_tensor(Shape{1000, 301}, 51, -2.0, 3.0);
  const Tensor y = random_tensor(Shape{1000, 301}, 52);
  const Tensor x_gpu = x.to(Device::cuda), y_gpu = y.to(Device::cuda);
  expect_scalar_match("sum", cpu_k::sum(x), gpu_k::sum(x_gpu));
  expect_scalar_match("dot", cpu_k::dot(x, y), gpu_k::dot(x_gpu, y_gpu));
  expect_scalar_match("squared_norm", cpu_k::squared_norm(x), gpu_k::squared_norm(x_gpu));
  // Run to run the GPU result is bit-identical (fixed grid, fixed tree, no atomics).
  CHECK(gpu_k::sum(x_gpu) == gpu_k::sum(x_gpu));
  CHECK(gpu_k::dot(x_gpu, y_gpu) == gpu_k::dot(x_gpu, y_gpu));

  Tensor with_bad = x.clone();
  with_bad.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  with_bad.data<float>()[77] = std::numeric_limits<float>::infinity();
  with_bad.data<float>()[999] = -std::numeric_limits<float>::infinity();
  const Tensor* inputs[] = {&x, &with_bad};
  for (const Tensor* input : inputs) {
    const kernels::TensorStats expected = cpu_k::stats(*input);
    const kernels::TensorStats actual = gpu_k::stats(input->to(Device::cuda));
    CHECK(actual.nan_count == expected.nan_count);
    CHECK(actual.inf_count == expected.inf_count);
    CHECK(actual.min == expected.min);
    CHECK(actual.max == expected.max);
    CHECK(actual.abs_max == expected.abs_max);
    expect_scalar_match("stats mean", expected.mean, actual.mean);
    CHECK(gpu_k::all_finite(input->to(Device::cuda)) == cpu_k::all_finite(*input));
  }
  CHECK_FALSE(gpu_k::all_finite(with_bad.to(Device::cuda)));
}

TEST_CASE("backend ops: softmax with an attention mask, log-softmax, and their backward") {
  // scores [B=2, H=3, Lq=5, Lk=37] with a key-padding mask [B, Lk]; batch 1 masks every key
  // with −inf (the uniform-row rule) and batch 0 masks the last keys with −10000.
  const Shape shape{2, 3, 5, 37};
  const Tensor x = random_tensor(shape, 61, -4.0, 4.0);
  Tensor mask = Tensor::zeros(Shape{2, 37});
  for (int c = 30; c < 37; ++c) mask.data<float>()[c] = -10000.0f;
  for (int c = 0; c < 37; ++c) mask.data<float>()[37 + c] = -std::numeric_limits<float>::infinity();
  Tensor y_cpu = Tensor::empty(shape);
  Tensor y_gpu = guarded_nan(shape);
  cpu_k::softmax_forward(x, mask, 3 * 5, y_cpu);
  gpu_k::softmax_forward(x.to(Device::cuda), mask.to(Device::cuda), 3 * 5, y_gpu);
  expect_match("softmax_forward masked", y_cpu, y_gpu);

  // Unmasked, a long row (vocabulary-like) and a short one.
  for (const Shape& rows : {Shape{7, 3001}, Shape{19, 3}}) {
    const Tensor logits = random_tensor(rows, 62, -8.0, 8.0);
    Tensor probs_cpu = Tensor::empty(rows), probs_gpu = guarded_nan(rows);
    cpu_k::softmax_forward(logits, Tensor(), 1, probs_cpu);
    gpu_k::softmax_forward(logits.to(Device::cuda), Tensor(), 1, probs_gpu);
    expect_match("softmax_forward", probs_cpu, probs_gpu);

    const Tensor dy = random_tensor(rows, 63), dx_start = random_tensor(rows, 64);
    Tensor dx_cpu = dx_start.clone(), dx_gpu = guarded(dx_start);
    cpu_k::softmax_backward_accumulate(probs_cpu, dy, dx_cpu);
    gpu_k::softmax_backward_accumulate(probs_cpu.to(Device::cuda), dy.to(Device::cuda), dx_gpu);
    expect_match("softmax_backward_accumulate", dx_cpu, dx_gpu);

    Tensor log_cpu = Tensor::empty(rows), log_gpu = guarded_nan(rows);
    cpu_k::log_softmax_forward(logits, log_cpu);
    gpu_k::log_softmax_forward(logits.to(Device::cuda), log_gpu);
    expect_match("log_softmax_forward", log_cpu, log_gpu);

    Tensor dlog_cpu = dx_start.clone(), dlog_gpu = guarded(dx_start);
    cpu_k::log_softmax_backward_accumulate(log_cpu, dy, dlog_cpu);
    gpu_k::log_softmax_backward_accumulate(log_cpu.to(Device::cuda), dy.to(Device::cuda),
                                           dlog_gpu);
    expect_match("log_softmax_backward_accumulate", dlog_cpu, dlog_gpu);
  }
}

TEST_CASE("backend ops: layer norm forward and backward") {
  const Shape shape{3, 331, 67};  // 993 rows: several row chunks for dgamma/dbeta
  const Tensor x = random_tensor(shape, 71, -3.0, 5.0);
  const Tensor gamma = random_tensor(Shape{67}, 72, 0.5, 1.5);
  const Tensor beta = random_tensor(Shape{67}, 73);
  Tensor y_cpu = Tensor::empty(shape), mean_cpu = Tensor::empty(Shape{993}),
         rstd_cpu = Tensor::empty(Shape{993});
  Tensor y_gpu = guarded_nan(shape), mean_gpu = guarded_nan(Shape{993}),
         rstd_gpu = guarded_nan(Shape{993});
  cpu_k::layer_norm_forward(x, gamma, beta, 1e-12, y_cpu, mean_cpu, rstd_cpu);
  const Tensor x_gpu = x.to(Device::cuda), gamma_gpu = gamma.to(Device::cuda);
  gpu_k::layer_norm_forward(x_gpu, gamma_gpu, beta.to(Device::cuda), 1e-12, y_gpu, mean_gpu,
                            rstd_gpu);
  expect_match("layer_norm_forward y", y_cpu, y_gpu);
  expect_match("layer_norm_forward mean", mean_cpu, mean_gpu);
  expect_match("layer_norm_forward rstd", rstd_cpu, rstd_gpu);

  const Tensor dy = random_tensor(shape, 74);
  const Tensor dx_start = random_tensor(shape, 75), dparam_start = random_tensor(Shape{67}, 76);
  Tensor dx_cpu = dx_start.clone(), dgamma_cpu = dparam_start.clone(),
         dbeta_cpu = dparam_start.clone();
  Tensor dx_gpu = guarded(dx_start), dgamma_gpu = guarded(dparam_start),
         dbeta_gpu = guarded(dparam_start);
  cpu_k::layer_norm_backward_accumulate(x, gamma, mean_cpu, rstd_cpu, dy, dx_cpu, dgamma_cpu,
                                        dbeta_cpu);
  gpu_k::layer_norm_backward_accumulate(x_gpu, gamma_gpu, mean_gpu, rstd_gpu, dy.to(Device::cuda),
                                        dx_gpu, dgamma_gpu, dbeta_gpu);
  expect_match("layer_norm_backward dx", dx_cpu, dx_gpu);
  expect_match("layer_norm_backward dgamma", dgamma_cpu, dgamma_gpu);
  expect_match("layer_norm_backward dbeta", dbeta_cpu, dbeta_gpu);

  // Only dgamma wanted (dx and dbeta undefined), twice: bit-identical (no atomics).
  Tensor none_dx, none_dbeta;
  Tensor first = guarded(dparam_start), second = guarded(dparam_start);
  gpu_k::layer_norm_backward_accumulate(x_gpu, gamma_gpu, mean_gpu, rstd_gpu, dy.to(Device::cuda),
                                        none_dx, first, none_dbeta);
  gpu_k::layer_norm_backward_accumulate(x_gpu, gamma_gpu, mean_gpu, rstd_gpu, dy.to(Device::cuda),
                                        none_dx, second, none_dbeta);
  expect_identical("layer_norm dgamma run to run", first.to(Device::cpu), second);
}

TEST_CASE("backend ops: CUDA kernels refuse f64 and cpu tensors with a message") {
  const Tensor f64_gpu = Tensor::zeros(Shape{4, 5}, DType::f64, Device::cuda);
  Tensor out = Tensor::zeros(Shape{4, 5}, DType::f64, Device::cuda);
  CHECK_THROWS_WITH_AS(gpu_k::gelu_forward(f64_gpu, out),
                       doctest::Contains("f32 only"), Error);
  Tensor cpu_out = Tensor::zeros(Shape{4, 5});
  CHECK_THROWS_WITH_AS(gpu_k::scale(Tensor::zeros(Shape{4, 5}, DType::f32, Device::cuda), 2.0,
                                    cpu_out),
                       doctest::Contains("not on cuda"), Error);
}
