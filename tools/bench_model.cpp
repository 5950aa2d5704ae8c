// Whole-step benchmark of a preset on synthetic data: see bench_model.hpp.
#include "tools/bench_model.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

#include "autograd/tape.hpp"
#include "data/masking.hpp"
#include "engine/communicator.hpp"
#include "engine/device.hpp"
#include "engine/philox.hpp"
#include "engine/threads.hpp"
#include "models/networks/electra_model.hpp"
#include "models/training/gradient_buckets.hpp"
#include "models/training/optimizer.hpp"
#include "tools/bench_ops.hpp"

namespace electra::cli {
namespace {

// Resident set size now (not the peak), from /proc/self/statm; 0 where it cannot be read.
double current_rss_mb() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  long pages_total = 0, pages_resident = 0;
  const int read = std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         1048576.0;
}

// Analytic FLOPs of one training step, counting only the matrix products (LayerNorm, GELU,
// softmax and the optimizer are memory-bound and left out). A product of [m, k] by [k, n] is
// 2·m·k·n FLOPs; the backward computes two products of the same size per forward product (the
// input's and the weight's gradient), so forward + backward = 3 × forward. With T = B·L tokens,
// M = B·P masked positions, per network of hidden H, FFN I and N layers:
//   encoder layer      2·T·(4·H² + 2·H·I)     (Q, K, V, output projections; FFN in and out)
//   attention          2·2·B·L²·H             (Q·Kᵀ and probabilities·V over all heads)
//   embeddings_project 2·T·E·H                 (only when E ≠ H)
// plus the heads:
//   generator          2·M·H_g·E + 2·M·E·V     (dense at the masked positions; tied logits)
//   discriminator      2·T·H² + 2·T·H          (dense, then the 1-wide prediction)
// step FLOPs = 3 · (generator + discriminator forward FLOPs).
double training_step_flops(const ModelConfig& config, std::int64_t batch) {
  const double tokens = static_cast<double>(batch * config.seq_len);
  const double length = static_cast<double>(config.seq_len);
  const double embedding = static_cast<double>(config.embedding_size);
  auto encoder_flops = [&](const EncoderDims& dims) {
    const double hidden = static_cast<double>(dims.hidden_size);
    const double ffn = static_cast<double>(dims.intermediate_size);
    double flops = static_cast<double>(dims.num_layers) *
                   (2 * tokens * (4 * hidden * hidden + 2 * hidden * ffn) +
                    2 * 2 * static_cast<double>(batch) * length * length * hidden);
    if (dims.hidden_size != config.embedding_size) flops += 2 * tokens * embedding * hidden;
    return flops;
  };
  const EncoderDims generator = config.generator_dims();
  const double masked = static_cast<double>(batch * config.predictions_per_sequence());
  double forward = encoder_flops(generator) +
                   2 * masked * static_cast<double>(generator.hidden_size) * embedding +
                   2 * masked * embedding * static_cast<double>(config.vocab_size);
  if (config.has_discriminator()) {
    const double hidden = static_cast<double>(config.hidden_size);
    forward += encoder_flops(config.discriminator_dims()) + 2 * tokens * hidden * hidden +
               2 * tokens * hidden;
  }
  return 3 * forward;
}

// [CLS] random tokens [SEP] random tokens [SEP], no padding, segment B from the middle. Random
// ids avoid the special tokens' range of the BERT vocabulary (ids below 1000).
PackedBatch synthetic_batch(const ModelConfig& config, std::int64_t batch, std::uint64_t seed) {
  const std::int64_t length = config.seq_len;
  const SpecialTokens special;
  std::vector<std::int32_t> ids(batch * length), types(batch * length), mask(batch * length, 1);
  const std::uint32_t low = config.vocab_size > 2000 ? 1000 : 5;
  for (std::int64_t i = 0; i < batch * length; ++i) {
    const std::int64_t t = i % length;
    const std::uint32_t word =
        philox::uniform_word(seed, 0x42454e43u /* "BENC" */, static_cast<std::uint64_t>(i));
    ids[i] = t == 0 ? special.cls
             : (t == length / 2 || t == length - 1)
                 ? special.sep
                 : static_cast<std::int32_t>(
                       low + word % (static_cast<std::uint32_t>(config.vocab_size) - low));
    types[i] = t > length / 2 ? 1 : 0;
  }
  return {Tensor::from_vector(ids, {batch, length}), Tensor::from_vector(types, {batch, length}),
          Tensor::from_vector(mask, {batch, length})};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The bench proper. Under `mpirun -np N` every rank runs the same steps on its own synthetic
// batch (global position step·N + rank, as the trainer numbers micro-batches) and the gradients
// are summed through GradientBuckets as the trainer sums them (armed before backward, so the
// sums overlap it; finish() before the optimizer). Rank 0 alone prints. `setup_done` is set
// once the first collective may have run: before it, a failure (bad flags) is the same on every
// rank; after it, a rank that fails alone must end the others.
int bench_steps(const ModelBenchOptions& options, Communicator& communicator, bool& setup_done) {
  check(options.batch > 0 && options.seq_len > 0 && options.steps > 0 && options.warmup_steps >= 0,
        "bench: --batch, --seq-len and --steps must be positive, --warmup-steps ≥ 0");
  ModelConfig config = model_preset(options.preset);
  config.seq_len = options.seq_len;
  config.batch_size = options.batch;
  if (config.max_position_embeddings < config.seq_len)
    config.max_position_embeddings = config.seq_len;
  config.validate();
  const Device device = parse_device(options.device, "bench: --device");
  require_device(device, "bench: --device");
  check(!options.tf32 || device == Device::cuda, "bench: --tf32 needs --device cuda");
  set_allow_tf32(options.tf32);

  ParameterStore parameters;
  ElectraModel model(config, parameters, /*seed=*/1, DType::f32, device);
  AdamWConfig adam;
  adam.weight_decay = config.weight_decay;
  AdamW optimizer(parameters, adam);
  Tape tape;
  MaskingSettings masking{config.mask_probability, config.predictions_per_sequence(),
                          config.mask_token_share, 1};
  const int ranks = communicator.size();
  const bool root = communicator.is_root();
  // Nothing at all with one rank (no hook, no copies): the single-process numbers are unchanged.
  GradientBuckets buckets(parameters, communicator);

  if (root) {
    std::printf(
        "electra bench: preset %s, batch %lld, seq_len %lld, vocab %lld, %lld parameters, "
        "threads %d (oneTBB; OpenBLAS single-threaded in each)\n",
        options.preset.c_str(), static_cast<long long>(options.batch),
        static_cast<long long>(options.seq_len), static_cast<long long>(config.vocab_size),
        static_cast<long long>(parameters.total_numel()), num_threads());
    std::printf("  device %s%s\n", device_description(device).c_str(),
                options.tf32 ? ", TF32 matrix products" : "");
    if (ranks > 1)
      std::printf("  data-parallel: %s, batch %lld and threads %d on each, %zu gradient bucket%s\n",
                  communicator.describe().c_str(), static_cast<long long>(options.batch),
                  num_threads(), buckets.bucket_count(), buckets.bucket_count() == 1 ? "" : "s");
    std::fflush(stdout);
  }
  setup_done = true;

  std::vector<double> forward_s, backward_s, sum_s, optimizer_s, step_s, wait_s;
  std::vector<double> overlapped;  // share of the buckets started during backward
  // RSS after each timed step: a run whose memory grows with the step count shows it here.
  std::vector<double> rss_mb;
  for (std::int64_t step = 0; step < options.warmup_steps + options.steps; ++step) {
    // This rank's batch: a different one on each rank, as in a data-parallel run.
    const auto position = static_cast<std::uint64_t>(step * ranks + communicator.rank());
    // Batch preparation and masking are the data pipeline's cost, not the step's: outside the
    // clock.
    const MaskedBatch batch = mask_batch(synthetic_batch(config, options.batch, position),
                                         SpecialTokens{}, masking, position);
    // Kernel launches return before the GPU has run them: every clock reading waits for the
    // device first (a no-op on the CPU).
    synchronize(device);
    const double waited_before = communicator.wait_seconds();
    const auto start = std::chrono::steady_clock::now();
    const StepOutput output = model.forward(tape, batch, position, true);
    synchronize(device);
    const double forward = seconds_since(start);
    buckets.arm(tape);
    tape.backward(output.total_loss);
    tape.clear();
    synchronize(device);
    const double backward = seconds_since(start) - forward;
    buckets.finish();  // the rest of the sums, and the wait for all of them
    synchronize(device);
    const double summed = seconds_since(start) - forward - backward;
    optimizer.step(1e-4);
    parameters.zero_grad();
    synchronize(device);
    const double total = seconds_since(start);
    if (step < options.warmup_steps) continue;
    forward_s.push_back(forward);
    backward_s.push_back(backward);
    sum_s.push_back(summed);
    optimizer_s.push_back(total - forward - backward - summed);
    step_s.push_back(total);
    wait_s.push_back(communicator.wait_seconds() - waited_before);
    if (buckets.bucket_count() > 0)
      overlapped.push_back(static_cast<double>(buckets.started_during_backward()) /
                           static_cast<double>(buckets.bucket_count()));
    rss_mb.push_back(current_rss_mb());
  }
  if (!root) return 0;

  const double step_time = median(step_s);
  // Every rank processes its own batch in the same step (finish() waits for all of them).
  const double tokens = static_cast<double>(ranks * options.batch * options.seq_len);
  const double flops = training_step_flops(config, options.batch);
  const double achieved = flops / step_time * 1e-9;
  std::printf("\nmedian of %lld steps (after %lld warm-up)%s:\n",
              static_cast<long long>(options.steps), static_cast<long long>(options.warmup_steps),
              ranks > 1 ? ", times of rank 0" : "");
  std::printf("  step        %9.1f ms   %10.0f tokens/s%s\n", step_time * 1e3, tokens / step_time,
              ranks > 1 ? " (all ranks together)" : "");
  std::printf("  forward     %9.1f ms   (%4.1f%%)\n", median(forward_s) * 1e3,
              100 * median(forward_s) / step_time);
  std::printf("  backward    %9.1f ms   (%4.1f%%)   incl. tape.clear()%s\n",
              median(backward_s) * 1e3, 100 * median(backward_s) / step_time,
              ranks > 1 ? " and the sums started during it" : "");
  if (ranks > 1)
    std::printf("  sum finish  %9.1f ms   (%4.1f%%)   GradientBuckets::finish()\n",
                median(sum_s) * 1e3, 100 * median(sum_s) / step_time);
  std::printf("  optimizer   %9.1f ms   (%4.1f%%)   AdamW + zero_grad\n", median(optimizer_s) * 1e3,
              100 * median(optimizer_s) / step_time);
  if (ranks > 1)
    std::printf(
        "  communication %7.1f ms   (%4.1f%%)   blocked waiting on the gradient sums; %.0f%% of "
        "the buckets started during backward\n",
        median(wait_s) * 1e3, 100 * median(wait_s) / step_time, 100 * median(overlapped));
  else
    std::printf("  communication: none (1 process)\n");
  std::printf("  analytic    %9.2f GFLOP/step (GEMMs, forward + backward)%s\n", flops * 1e-9,
              ranks > 1 ? " per rank" : "");

  if (device == Device::cuda) {
    const DeviceMemory memory = device_memory(Device::cuda);
    std::printf("  achieved    %9.2f TFLOP/s%s\n", achieved * 1e-3, ranks > 1 ? " per rank" : "");
    std::printf("  peak GPU    %9.1f MB in use (caching allocator; %.1f MB cached now)\n",
                static_cast<double>(memory.peak_bytes_in_use) / 1e6,
                static_cast<double>(memory.bytes_cached) / 1e6);
    return 0;
  }
  const double peak = measure_sgemm_peak_gflops();
  std::printf(
      "  achieved    %9.1f GFLOP/s = %.0f%% of the sgemm peak %.1f GFLOP/s measured now%s\n",
      achieved, 100 * achieved / peak, peak, ranks > 1 ? " (rank 0)" : "");
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("  peak RSS    %9.1f MB%s\n", static_cast<double>(usage.ru_maxrss) / 1024.0,
              ranks > 1 ? " (rank 0)" : "");
  if (!rss_mb.empty())
    std::printf("  RSS         %9.1f MB after the first timed step, %.1f MB after the last\n",
                rss_mb.front(), rss_mb.back());
  const DeviceMemory memory = device_memory(Device::cpu);
  std::printf("  allocator   %9.1f MB peak in use (tensors), %.1f MB cached idle now\n",
              static_cast<double>(memory.peak_bytes_in_use) / 1048576.0,
              static_cast<double>(memory.bytes_cached) / 1048576.0);
  return 0;
}

}  // namespace

int run_model_bench(const ModelBenchOptions& options) {
  const std::unique_ptr<Communicator> communicator = make_communicator();
  bool setup_done = false;
  if (communicator->size() == 1) return bench_steps(options, *communicator, setup_done);
  try {
    return bench_steps(options, *communicator, setup_done);
  } catch (const std::exception& error) {
    // Before any collective every rank has the same flags, so the same failure: rank 0 prints
    // it once and every rank exits. Later, a rank failing alone leaves the others waiting in a
    // sum: it ends them all.
    if (!setup_done) {
      if (communicator->is_root()) std::fprintf(stderr, "electra: error: %s\n", error.what());
      return 1;
    }
    std::fprintf(stderr, "electra: error: rank %d: %s\n", communicator->rank(), error.what());
    std::fflush(stderr);
    communicator->abort_all(1);
  }
  return 1;  // not reached: abort_all does not return
}

}  // namespace electra::cli
