#pragma once
// `electra bench --preset small --batch 32 --seq-len 128`: whole training steps of a preset on
// synthetic random ids (no data needed), split into forward / backward / optimizer, with achieved
// GFLOP/s from an analytic count against the sgemm peak measured in the same run, and peak RSS.
// With --device cuda: the same steps on the GPU, TFLOP/s and the device allocator's peak bytes.
// Under `mpirun -np N`: every rank steps on its own batch, the gradients are summed through
// GradientBuckets as in the trainer, and rank 0 alone prints the tokens/s of all ranks and the
// time blocked waiting on the sums (docs/distributed.md); one process prints
// "communication: none (1 process)".
#include <cstdint>
#include <string>

namespace electra::cli {

struct ModelBenchOptions {
  std::string preset = "small";
  std::int64_t batch = 32;
  std::int64_t seq_len = 128;
  std::int64_t steps = 10;        // timed steps
  std::int64_t warmup_steps = 2;  // untimed first steps (allocator cache, OpenBLAS buffers)
  std::string device = "cpu";     // cpu or cuda
  bool tf32 = false;              // TF32 tensor-core GEMMs (cuda only)
};

// Prints the table to stdout; returns the process exit code.
int run_model_bench(const ModelBenchOptions& options);

}  // namespace electra::cli
