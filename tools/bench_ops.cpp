// The op micro-benchmark. Every number is the best of several timed repetitions after a warm-up,
// so it estimates what the hardware can do rather than the noise of a shared machine.
#include "tools/bench_ops.hpp"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>

#include "autograd/ops.hpp"
#include "engine/kernels.hpp"
#include "engine/threads.hpp"

extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's own extension

namespace electra::cli {
namespace {

// Best wall time in seconds of `repetitions` runs of body, after one untimed warm-up run.
double best_seconds(int repetitions, const std::function<void()>& body) {
  body();
  double best = 1e30;
  for (int i = 0; i < repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    body();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

Tensor filled(const Shape& shape, double value) { return Tensor::full(shape, value, DType::f32); }

void bench_sgemm_peak() {
  std::printf("%-44s %10.1f GFLOP/s\n", "sgemm 2048³ (peak)", measure_sgemm_peak_gflops());
}

// ops::linear (gemm + bias, output allocation, no tape node) vs the bare cblas_sgemm it wraps.
void bench_linear() {
  const int rows = 4096, in = 256, out = 1024;
  Tape tape;
  NoGradScope no_recording(tape);
  const Var x(filled({rows, in}, 0.5)), weight(filled({out, in}, 0.01)), bias(filled({out}, 0.1));
  Tensor c = Tensor::zeros({rows, out});
  const double flops = 2.0 * rows * in * out;
  const int repetitions = 20;
  openblas_set_num_threads(num_threads());  // the bare call threaded by OpenBLAS itself
  const double bare = best_seconds(repetitions, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f,
                x.value().data<float>(), in, weight.value().data<float>(), in, 0.0f,
                c.data<float>(), out);
  });
  openblas_set_num_threads(1);  // electra's setting (engine/threads.hpp)
  const double op = best_seconds(repetitions, [&] { ops::linear(tape, x, weight, bias); });
  std::printf("%-49s %10.1f GFLOP/s  (%.3f ms)\n", "sgemm [4096×256]·[256×1024]ᵀ, OpenBLAS threads",
              flops / bare * 1e-9, bare * 1e3);
  std::printf("%-44s %10.1f GFLOP/s  (%.3f ms, %+.1f%% time vs that sgemm)\n",
              "ops::linear, same shape + bias", flops / op * 1e-9, op * 1e3,
              (op / bare - 1.0) * 100.0);
}

// Attention's score product Q·Kᵀ: batch·heads small products, split across cores.
void bench_attention_gemm() {
  const int batch = 512, length = 128, head_dim = 64;  // 128 sequences × 4 heads (ELECTRA-Small)
  const Tensor q = filled({batch, length, head_dim}, 0.5),
               k = filled({batch, length, head_dim}, 0.5);
  Tensor scores = Tensor::zeros({batch, length, length});
  const double seconds = best_seconds(5, [&] { kernels::gemm_batched(q, false, k, true, scores); });
  std::printf("%-44s %10.1f GFLOP/s  (%.2f ms)\n", "gemm_batched 512 × [128×64]·[64×128]",
              2.0 * batch * length * length * head_dim / seconds * 1e-9, seconds * 1e3);
}

// GB/s of memory-bound kernels on 8M floats (32 MB per array: well beyond the caches),
// counting every array read or written once.
void bench_elementwise() {
  const std::int64_t count = std::int64_t{8} << 20;
  const Tensor a = filled({count}, 0.5), b = filled({count}, 0.25);
  Tensor out = Tensor::zeros({count});
  const double array_bytes = static_cast<double>(count) * sizeof(float);
  const int repetitions = 10;
  auto report = [&](const char* name, int arrays, double seconds) {
    std::printf("%-44s %10.1f GB/s     (%.2f ms)\n", name, arrays * array_bytes / seconds * 1e-9,
                seconds * 1e3);
  };
  report("memcpy (1 thread, reference)", 2,
         best_seconds(repetitions, [&] { std::memcpy(out.raw(), a.raw(), a.nbytes()); }));
  report("copy (memcpy split across threads)", 2,
         best_seconds(repetitions, [&] { kernels::copy(a, out); }));
  report("add  out = a + b", 3, best_seconds(repetitions, [&] { kernels::add(a, b, out); }));
  report("axpy y += α·x", 3, best_seconds(repetitions, [&] { kernels::axpy(1e-3, a, out); }));
  report("scale out = α·a", 2, best_seconds(repetitions, [&] { kernels::scale(a, 0.5, out); }));
  report("mul_accumulate out += a ⊙ b", 4,
         best_seconds(repetitions, [&] { kernels::mul_accumulate(a, b, out); }));
  report("gelu_forward (erf)", 2,
         best_seconds(repetitions, [&] { kernels::gelu_forward(a, out); }));
  report("dropout p=0.1 (Philox)", 2, best_seconds(repetitions, [&] {
           kernels::dropout(a, 0.1, {1, 2, 0}, out);
         }));
  report("sum (deterministic chunks)", 1,
         best_seconds(repetitions, [&] { (void)kernels::sum(a); }));
  // The generator's sampling in an ELECTRA-Small step: 608 masked positions × 30 522 classes.
  const Tensor logits = filled({608, 30522}, 0.0);
  Tensor sampled = Tensor::zeros({608}, DType::i32);
  const double sampling = best_seconds(5, [&] {
    kernels::sample_categorical(logits, 1.0, {1, 3, 0}, sampled);
  });
  std::printf("%-44s %10.1f M classes/s (%.2f ms)\n", "sample_categorical [608×30522] (inv. CDF)",
              608.0 * 30522 / sampling * 1e-6, sampling * 1e3);
}

}  // namespace

// The better of OpenBLAS threading one 2048³ sgemm itself and electra's kernels::gemm (OpenBLAS
// single-threaded, row bands on the TBB workers): the peak is the machine's, not our split's.
double measure_sgemm_peak_gflops() {
  const int n = 2048;
  const Tensor a = filled({n, n}, 0.5), b = filled({n, n}, 0.25);
  Tensor c = Tensor::zeros({n, n});
  openblas_set_num_threads(num_threads());
  const double openblas_threaded = best_seconds(3, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                b.data<float>(), n, 0.0f, c.data<float>(), n);
  });
  openblas_set_num_threads(1);  // electra's setting (engine/threads.hpp)
  const double banded = best_seconds(3, [&] { kernels::gemm(a, false, b, false, c); });
  return 2.0 * n * n * n / std::min(openblas_threaded, banded) * 1e-9;
}

int run_ops_bench() {
  std::printf(
      "electra bench --ops (threads: %d oneTBB workers, OpenBLAS single-threaded inside them; best "
      "of several runs)\n\n",
      num_threads());
  bench_sgemm_peak();
  bench_linear();
  bench_attention_gemm();
  std::printf("\n");
  bench_elementwise();
  return 0;
}

}  // namespace electra::cli
