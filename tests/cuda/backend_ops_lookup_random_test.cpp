// CUDA against CPU for lookups, permutes, randomness, losses and AdamW (helpers and rules in
// backend_ops.hpp). The host-side pieces (Philox mirror, device probe) are checked without a GPU
// in tests/engine/cuda_host_test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "engine/allocator.hpp"
#include "engine/cuda/cuda_runtime.hpp"
#include "engine/cuda/kernels_cuda.hpp"
#include "engine/kernels.hpp"
#include "tests/cuda/backend_ops.hpp"

using namespace electra;
using namespace electra::backend_ops_test;
namespace cpu_k = electra::kernels;
namespace gpu_k = electra::cuda_kernels;

TEST_CASE("cuda runtime: copies round-trip and the allocator reuses blocks") {
  const Tensor host = random_tensor(Shape{33, 17}, 81);
  const Tensor back = host.to(Device::cuda).clone().to(Device::cpu);
  CHECK(back.to_vector() == host.to_vector());
  CachingAllocator& allocator = cuda::device_allocator();
  { Tensor warm = Tensor::empty(Shape{1000, 37}, DType::f32, Device::cuda); }
  const std::size_t before = allocator.stats().system_allocations;
  for (int i = 0; i < 10; ++i) Tensor again = Tensor::empty(Shape{1000, 37}, DType::f32, Device::cuda);
  CHECK(allocator.stats().system_allocations == before);
  cuda::synchronize();
}

TEST_CASE("backend ops: embedding forward/backward, gather_rows and permute_0213") {
  const Tensor table = random_tensor(Shape{50, 13}, 91);
  const Tensor ids = random_ids(Shape{7, 9}, 50, 92);  // 63 ids, many repeated
  const Tensor ids_gpu = ids.to(Device::cuda);
  Tensor out_cpu = Tensor::empty(Shape{7, 9, 13}), out_gpu = guarded_nan(Shape{7, 9, 13});
  cpu_k::embedding_forward(table, ids, out_cpu);
  gpu_k::embedding_forward(table.to(Device::cuda), ids_gpu, out_gpu);
  expect_match("embedding_forward", out_cpu, out_gpu);

  const Tensor dout = random_tensor(Shape{7, 9, 13}, 93), dtable_start = random_tensor(Shape{50, 13}, 94);
  Tensor dtable_cpu = dtable_start.clone(), dtable_gpu = guarded(dtable_start);
  cpu_k::embedding_backward_accumulate(ids, dout, dtable_cpu);
  gpu_k::embedding_backward_accumulate(ids_gpu, dout.to(Device::cuda), dtable_gpu);
  expect_match("embedding_backward_accumulate", dtable_cpu, dtable_gpu);
  Tensor again = guarded(dtable_start);
  gpu_k::embedding_backward_accumulate(ids_gpu, dout.to(Device::cuda), again);
  expect_identical("embedding_backward run to run", dtable_gpu.to(Device::cpu), again);

  Tensor bad_ids = ids.clone();
  bad_ids.data<std::int32_t>()[4] = 50;
  Tensor bad_out = Tensor::empty(Shape{7, 9, 13}, DType::f32, Device::cuda);
  CHECK_THROWS_WITH_AS(gpu_k::embedding_forward(table.to(Device::cuda), bad_ids.to(Device::cuda),
                                                bad_out),
                       doctest::Contains("id 50 at position 4"), Error);

  const Tensor index = random_ids(Shape{11}, 50, 95);
  Tensor rows_cpu = Tensor::empty(Shape{11, 13}), rows_gpu = guarded_nan(Shape{11, 13});
  cpu_k::gather_rows(table, index, rows_cpu);
  gpu_k::gather_rows(table.to(Device::cuda), index.to(Device::cuda), rows_gpu);
  expect_match("gather_rows", rows_cpu, rows_gpu);

  const Tensor x = random_tensor(Shape{2, 5, 3, 7}, 96);
  Tensor permuted_cpu = Tensor::empty(Shape{2, 3, 5, 7}), permuted_gpu = guarded_nan(Shape{2, 3, 5, 7});
  cpu_k::permute_0213(x, permuted_cpu);
  gpu_k::permute_0213(x.to(Device::cuda), permuted_gpu);
  expect_match("permute_0213", permuted_cpu, permuted_gpu);
  const Tensor start = random_tensor(Shape{2, 3, 5, 7}, 97);
  Tensor sum_cpu = start.clone(), sum_gpu = guarded(start);
  cpu_k::permute_0213_accumulate(x, sum_cpu);
  gpu_k::permute_0213_accumulate(x.to(Device::cuda), sum_gpu);
  expect_match("permute_0213_accumulate", sum_cpu, sum_gpu);
}

TEST_CASE("backend ops: Philox draws equal the CPU's (dropout, uniform, normal, sampling)") {
  const kernels::RandomKey key{0xC0FFEEull, 3, 1001};  // odd counter: blocks straddle elements
  const Shape shape{31, 37};
  const Tensor x = random_tensor(shape, 101);
  const Tensor ones = Tensor::full(shape, 1.0);
  Tensor keep_cpu = Tensor::empty(shape), keep_gpu = guarded_nan(shape);
  cpu_k::dropout(ones, 0.1, key, keep_cpu, false);
  gpu_k::dropout(ones.to(Device::cuda), 0.1, key, keep_gpu, false);
  expect_identical("dropout keep mask", keep_cpu, keep_gpu);
  Tensor y_cpu = Tensor::empty(shape), y_gpu = guarded_nan(shape);
  cpu_k::dropout(x, 0.1, key, y_cpu, false);
  gpu_k::dropout(x.to(Device::cuda), 0.1, key, y_gpu, false);
  expect_match("dropout output", y_cpu, y_gpu);
  // Backward's form: y += x ⊙ keep.
  Tensor sum_cpu = random_tensor(shape, 102), sum_gpu = sum_cpu.to(Device::cuda);
  cpu_k::dropout(x, 0.1, key, sum_cpu, true);
  gpu_k::dropout(x.to(Device::cuda), 0.1, key, sum_gpu, true);
  expect_match("dropout accumulate", sum_cpu, sum_gpu);

  Tensor uniform_cpu = Tensor::empty(shape), uniform_gpu = guarded_nan(shape);
  cpu_k::uniform(key, uniform_cpu);
  gpu_k::uniform(key, uniform_gpu);
  expect_identical("uniform", uniform_cpu, uniform_gpu);

  // The GPU's double log/cos may differ from glibc's in the last ulp, so compare by error.
  Tensor normal_cpu = Tensor::empty(shape), normal_gpu = guarded_nan(shape);
  cpu_k::truncated_normal(key, 0.02, normal_cpu);
  gpu_k::truncated_normal(key, 0.02, normal_gpu);
  expect_match("truncated_normal", normal_cpu, normal_gpu, 1e-12);

  const Tensor logits = random_tensor(Shape{41, 29}, 102, -2.0, 2.0);
  Tensor chosen_cpu = Tensor::empty(Shape{41}, DType::i32);
  Tensor chosen_gpu = guarded(Tensor::full(Shape{41}, -1, DType::i32));
  // Same Philox uniform per row; the exp-sums differ in order, so a class could differ only if
  // u · total fell within rounding of a class boundary (not for this seed).
  cpu_k::sample_categorical(logits, 0.7, key, chosen_cpu);
  gpu_k::sample_categorical(logits.to(Device::cuda), 0.7, key, chosen_gpu);
  expect_identical("sample_categorical", chosen_cpu, chosen_gpu);
  // Many classes per thread (the block's chunk scan) and the special rows: +inf wins, no finite
  // score → 0, NaN / −inf never drawn.
  Tensor wide = random_tensor(Shape{64, 30522}, 103, -3.0, 3.0);
  wide.data<float>()[5] = wide.data<float>()[9] = INFINITY;                 // row 0 → 5
  for (std::int64_t c = 0; c < 30522; ++c) wide.data<float>()[30522 + c] = std::nanf("");  // row 1 → 0
  Tensor wide_cpu = Tensor::empty(Shape{64}, DType::i32);
  Tensor wide_gpu = guarded(Tensor::full(Shape{64}, -1, DType::i32));
  cpu_k::sample_categorical(wide, 1.0, key, wide_cpu);
  gpu_k::sample_categorical(wide.to(Device::cuda), 1.0, key, wide_gpu);
  expect_identical("sample_categorical, 30522 classes", wide_cpu, wide_gpu);
  CHECK(wide_cpu.item(0) == 5);
  CHECK(wide_cpu.item(1) == 0);

  Tensor with_ties = logits.clone();
  with_ties.data<float>()[3] = with_ties.data<float>()[17] = 9.0f;  // row 0: first of a tie wins
  with_ties.data<float>()[29] = std::nanf("");                      // row 1: NaN never wins
  Tensor argmax_cpu = Tensor::empty(Shape{41}, DType::i32);
  Tensor argmax_gpu = guarded(Tensor::full(Shape{41}, -1, DType::i32));
  cpu_k::argmax_rows(with_ties, argmax_cpu);
  gpu_k::argmax_rows(with_ties.to(Device::cuda), argmax_gpu);
  expect_identical("argmax_rows", argmax_cpu, argmax_gpu);
  CHECK(argmax_gpu.item(0) == 3);
}

TEST_CASE("backend ops: cross-entropy and BCE with logits, forward and backward") {
  const Shape shape{43, 301};
  const Tensor logits = random_tensor(shape, 111, -30.0, 30.0);
  const Tensor targets = random_ids(Shape{43}, 301, 112);
  Tensor weights = random_tensor(Shape{43}, 113, 0.0, 1.0);
  weights.data<float>()[7] = 0.0f;  // a padded row
  const Tensor logits_gpu = logits.to(Device::cuda), targets_gpu = targets.to(Device::cuda),
               weights_gpu = weights.to(Device::cuda);
  Tensor probs_cpu = Tensor::empty(shape), probs_gpu = guarded_nan(shape);
  const double loss_cpu = cpu_k::cross_entropy_forward(logits, targets, weights, probs_cpu);
  const double loss_gpu = gpu_k::cross_entropy_forward(logits_gpu, targets_gpu, weights_gpu, probs_gpu);
  expect_scalar_match("cross_entropy_forward loss", loss_cpu, loss_gpu);
  expect_match("cross_entropy_forward probs", probs_cpu, probs_gpu);
  const Tensor start = random_tensor(shape, 114);
  Tensor dlogits_cpu = start.clone(), dlogits_gpu = guarded(start);
  cpu_k::cross_entropy_backward_accumulate(probs_cpu, targets, weights, 1.3, dlogits_cpu);
  gpu_k::cross_entropy_backward_accumulate(probs_cpu.to(Device::cuda), targets_gpu, weights_gpu,
                                           1.3, dlogits_gpu);
  expect_match("cross_entropy_backward_accumulate", dlogits_cpu, dlogits_gpu);

  const Tensor z = random_tensor(Shape{997}, 115, -40.0, 40.0);
  Tensor labels = random_ids(Shape{997}, 2, 116).to(DType::f32);
  const Tensor bce_weights = random_tensor(Shape{997}, 117, 0.0, 1.0);
  const double bce_cpu = cpu_k::bce_with_logits_forward(z, labels, bce_weights);
  const double bce_gpu = gpu_k::bce_with_logits_forward(z.to(Device::cuda), labels.to(Device::cuda),
                                                        bce_weights.to(Device::cuda));
  expect_scalar_match("bce_with_logits_forward", bce_cpu, bce_gpu);
  const Tensor bce_start = random_tensor(Shape{997}, 118);
  Tensor dz_cpu = bce_start.clone(), dz_gpu = guarded(bce_start);
  cpu_k::bce_with_logits_backward_accumulate(z, labels, bce_weights, 0.9, dz_cpu);
  gpu_k::bce_with_logits_backward_accumulate(z.to(Device::cuda), labels.to(Device::cuda),
                                             bce_weights.to(Device::cuda), 0.9, dz_gpu);
  expect_match("bce_with_logits_backward_accumulate", dz_cpu, dz_gpu);

  Tensor bad_targets = targets.clone();
  bad_targets.data<std::int32_t>()[2] = 301;
  CHECK_THROWS_WITH_AS(gpu_k::cross_entropy_forward(logits_gpu, bad_targets.to(Device::cuda),
                                                    weights_gpu, probs_gpu),
                       doctest::Contains("target 301 at position 2"), Error);
}

TEST_CASE("backend ops: AdamW, with and without bias correction and weight decay") {
  const Shape shape{37, 29};
  for (bool correction : {false, true}) {
    CAPTURE(correction);
    kernels::AdamWSettings settings;
    settings.learning_rate = 1e-3;
    settings.weight_decay = correction ? 0.0 : 0.01;
    settings.bias_correction = correction;
    settings.gradient_scale = 0.8;
    Tensor p_cpu = random_tensor(shape, 121), m_cpu = random_tensor(shape, 122, -0.1, 0.1),
           v_cpu = random_tensor(shape, 123, 0.0, 0.01);
    Tensor p_gpu = guarded(p_cpu), m_gpu = guarded(m_cpu), v_gpu = guarded(v_cpu);
    for (std::int64_t step = 1; step <= 3; ++step) {
      settings.step = step;
      const Tensor gradient = random_tensor(shape, 130 + step);
      cpu_k::adamw_update(p_cpu, gradient, m_cpu, v_cpu, settings);
      gpu_k::adamw_update(p_gpu, gradient.to(Device::cuda), m_gpu, v_gpu, settings);
    }
    expect_match("adamw parameter", p_cpu, p_gpu);
    expect_match("adamw first moment", m_cpu, m_gpu);
    expect_match("adamw second moment", v_cpu, v_gpu);
  }
}
