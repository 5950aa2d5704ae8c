// electra-kernels: the kernel workbench's driver (tools/kernels/workbench.hpp). For every case of
// every chosen family: run each variant once on zeroed outputs, compare with variant 0 (the max
// absolute and relative error are printed), then time the variants alternately (median of --repeat
// calls each, at most --max-seconds per variant) unless --validate-only. Exit status 1 when a
// variant is outside its case's tolerance, 2 on a usage error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "engine/error.hpp"
#include "engine/threads.hpp"
#include "tools/kernels/workbench.hpp"

namespace electra::workbench {

Tensor random_tensor(const Shape& shape, std::uint64_t seed, double scale) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(scale));
  Tensor tensor = Tensor::empty(shape);
  for (std::int64_t i = 0; i < tensor.numel(); ++i) tensor.data<float>()[i] = normal(generator);
  return tensor;
}

namespace {

struct Errors {
  double max_abs = 0, max_rel = 0;  // max_rel: |v − r| / (|r| + rms(r)), the tolerance's measure
};

Errors compare(const std::vector<Tensor>& values, const std::vector<Tensor>& references) {
  Errors errors;
  for (std::size_t t = 0; t < references.size(); ++t) {
    const std::vector<double> value = values[t].to_vector(), reference = references[t].to_vector();
    double squares = 0;
    for (double r : reference) squares += r * r;
    const double rms = std::sqrt(squares / double(std::max<std::size_t>(reference.size(), 1)));
    for (std::size_t i = 0; i < reference.size(); ++i) {
      const double error = std::abs(value[i] - reference[i]);  // NaN compares false below: caught
      errors.max_abs = std::max(errors.max_abs, error);
      const double relative = error / (std::abs(reference[i]) + rms);
      errors.max_rel = std::isnan(relative) ? INFINITY : std::max(errors.max_rel, relative);
    }
  }
  return errors;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double process_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

struct Timing {
  double wall = 0, cpu = 0;  // median seconds per call: elapsed, and CPU time of all threads
  int calls = 0;
};

// Times the variants alternately, one call each per round (A B C A B C ...), so a shared,
// loaded machine slows all of them alike; a variant drops out after `max_seconds` of calls (it
// keeps at least one). The CPU time is what the process's threads ran: on a loaded machine a
// long call is preempted and its wall time grows, its CPU time much less (at --threads 1 it is
// the kernel's own time).
std::vector<Timing> time_variants(std::vector<Variant>& variants, int repeat, double max_seconds) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<double>> wall(variants.size()), cpu(variants.size());
  std::vector<double> spent(variants.size(), 0.0);
  for (int round = 0; round < repeat; ++round)
    for (std::size_t v = 0; v < variants.size(); ++v) {
      if (round > 0 && spent[v] >= max_seconds) continue;
      const auto begin = Clock::now();
      const double cpu_begin = process_cpu_seconds();
      variants[v].run();
      cpu[v].push_back(process_cpu_seconds() - cpu_begin);
      wall[v].push_back(std::chrono::duration<double>(Clock::now() - begin).count());
      spent[v] += wall[v].back();
    }
  std::vector<Timing> timings;
  for (std::size_t v = 0; v < variants.size(); ++v)
    timings.push_back({median(wall[v]), median(cpu[v]), int(wall[v].size())});
  return timings;
}

struct Options {
  std::vector<std::string> families;
  std::string size = "bench";
  bool validate_only = false, list = false;
  int repeat = 20, threads = 0, corrupt = -1;
  double max_seconds = 3.0;
};

// Runs one case; returns the number of variants outside the tolerance. Every variant is checked
// before any is timed: timing calls accumulate into the outputs of the `_accumulate` kernels.
int run_case(Case& c, const Options& options) {
  std::printf("\n%s  %s  (f32; tolerance %.0e relative to |ref| + rms(ref))\n", c.family.c_str(),
              c.shape.c_str(), c.tolerance);
  std::printf("  %-50s %11s %11s", "variant", "max abs err", "max rel err");
  if (!options.validate_only)
    std::printf(" %10s %9s %10s %5s", "median ms", c.unit.c_str(), "cpu ms", "calls");
  std::printf("\n");
  std::vector<Errors> errors;
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    c.variants[v].run();
    if (int(v) == options.corrupt) c.variants[v].outputs[0].data<float>()[0] += 1.0f;
    errors.push_back(compare(c.variants[v].outputs, c.variants[0].outputs));
  }
  std::vector<Timing> timings;
  if (!options.validate_only)
    timings = time_variants(c.variants, options.repeat, options.max_seconds);
  int failures = 0;
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const bool ok = errors[v].max_rel <= c.tolerance;
    failures += ok ? 0 : 1;
    std::printf("  %zu %-48s %11.2e %11.2e", v, c.variants[v].name.c_str(), errors[v].max_abs,
                errors[v].max_rel);
    if (!options.validate_only) {
      const Timing& t = timings[v];
      std::printf(" %10.3f %9.2f %10.3f %5d", t.wall * 1e3, c.work / t.wall * 1e-9, t.cpu * 1e3,
                  t.calls);
    }
    std::printf("%s\n", ok ? "" : "  MISMATCH");
    std::fflush(stdout);
  }
  return failures;
}

int run(const Options& options) {
  std::vector<Family> all{linear_gelu_family(), bias_grad_family(), layer_norm_family()};
  if (options.list) {
    for (const Family& family : all)
      std::printf("%-12s %s\n", family.name.c_str(), family.summary.c_str());
    return 0;
  }
  for (const std::string& name : options.families)
    check(std::any_of(all.begin(), all.end(), [&](const Family& f) { return f.name == name; }),
          "electra-kernels: unknown --family '", name, "' (--list names them)");
  set_num_threads(options.threads);
  std::printf("kernel workbench: %s sizes, %d threads%s\n", options.size.c_str(), num_threads(),
              options.validate_only ? ", validation only" : "");
  int failures = 0, variants = 0;
  for (const Family& family : all) {
    if (!options.families.empty() && std::find(options.families.begin(), options.families.end(),
                                               family.name) == options.families.end())
      continue;
    for (Case& c : family.make(options.size == "tiny" ? Size::tiny : Size::bench)) {
      failures += run_case(c, options);
      variants += int(c.variants.size());
    }
  }
  if (failures > 0) {
    std::printf("\nkernel workbench: %d of %d variants outside the tolerance\n", failures,
                variants);
    return 1;
  }
  std::printf("\nkernel workbench: all %d variants match their reference\n", variants);
  return 0;
}

}  // namespace
}  // namespace electra::workbench

int main(int argc, char** argv) {
  electra::workbench::Options options;
  CLI::App app{
      "electra-kernels: numbered variants of hot kernels, validated against a reference "
      "and timed (docs/performance.md)"};
  app.add_option("--family", options.families, "only these families (repeatable; --list)");
  app.add_option("--size", options.size, "bench (ELECTRA-Small shapes) or tiny (the smoke test)")
      ->check(CLI::IsMember({"bench", "tiny"}));
  app.add_flag("--validate-only", options.validate_only, "check every variant, time nothing");
  app.add_option("--repeat", options.repeat, "timed calls per variant (median)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-seconds", options.max_seconds, "stop timing a variant after this long")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.threads, "worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--corrupt", options.corrupt,
                 "add 1 to the first output of variant N after its run (proves a mismatch fails)");
  app.add_flag("--list", options.list, "list the families");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  try {
    return electra::workbench::run(options);
  } catch (const electra::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 2;
  }
}
