// `electra bench`: performance measurements. `--ops` times single kernels and ops
// (tools/bench_ops.cpp); each further mode lives in its own file and is dispatched here.
#include <memory>

#include "engine/error.hpp"
#include "tools/bench_model.hpp"
#include "tools/bench_ops.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

struct BenchOptions {
  bool ops = false;
  ModelBenchOptions model;  // used when --preset is given
};

const CommandRegistration bench_command{Command{
    "bench", "measure kernel and op throughput (--ops) or whole training steps (--preset)",
    [](CLI::App& app) -> std::function<int()> {
      auto options = std::make_shared<BenchOptions>();
      app.add_flag("--ops", options->ops,
                   "time GEMM peak, ops::linear vs bare sgemm, and elementwise GB/s vs memcpy");
      CLI::Option* preset =
          app.add_option("--preset", options->model.preset,
                         "time training steps of this preset on synthetic ids "
                         "(tools/bench_model.cpp); under mpirun every rank steps on "
                         "its own batch with the gradients summed, and rank 0 prints "
                         "the global tokens/s and the communication wait "
                         "(docs/distributed.md)");
      app.add_option("--batch", options->model.batch, "sequences per step (with --preset)")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--seq-len", options->model.seq_len, "sequence length (with --preset)")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--steps", options->model.steps, "timed steps (with --preset)")
          ->check(positive_integer())
          ->capture_default_str();
      app.add_option("--warmup-steps", options->model.warmup_steps,
                     "untimed first steps (with --preset)")
          ->check(non_negative_integer())
          ->capture_default_str();
      app.add_option("--device", options->model.device, "where to run the steps: cpu or cuda")
          ->check(CLI::IsMember({"cpu", "cuda"}))
          ->capture_default_str();
      app.add_flag("--tf32", options->model.tf32,
                   "TF32 tensor-core matrix products (with --device cuda)");
      return [options, preset]() -> int {
        if (options->ops) return run_ops_bench();
        if (preset->count() > 0) return run_model_bench(options->model);
        throw_error(
            "bench: choose what to measure, e.g. `electra bench --ops` or "
            "`electra bench --preset small --batch 32 --seq-len 128`");
      };
    }}};

}  // namespace
}  // namespace electra::cli
