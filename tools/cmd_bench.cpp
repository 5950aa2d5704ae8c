// `electra bench`: performance measurements. `--ops` times single kernels and ops
// (tools/bench_ops.cpp); each further mode lives in its own file and is dispatched here.
#include <memory>

#include "engine/error.hpp"
#include "tools/bench_ops.hpp"
#include "tools/command.hpp"

namespace electra::cli {
namespace {

struct BenchOptions {
  bool ops = false;
};

const CommandRegistration bench_command{Command{
    "bench", "measure kernel and op throughput (--ops)",
    [](CLI::App& app) -> std::function<int()> {
      auto options = std::make_shared<BenchOptions>();
      app.add_flag("--ops", options->ops,
                   "time GEMM peak, ops::linear vs bare sgemm, and elementwise GB/s vs memcpy");
      return [options]() -> int {
        if (options->ops) return run_ops_bench();
        throw_error("bench: choose what to measure, e.g. `electra bench --ops`");
      };
    }}};

}  // namespace
}  // namespace electra::cli
