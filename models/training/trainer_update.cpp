// One update of the pre-training loop, and what the ranks of a data-parallel run agree on:
// see trainer.hpp (the numbering of the micro-batches and the order of the gradient additions).
#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/ops.hpp"
#include "data/masking.hpp"
#include "engine/error.hpp"
#include "engine/kernels.hpp"
#include "models/training/gradient_buckets.hpp"
#include "models/training/lr_schedule.hpp"
#include "models/training/trainer.hpp"

namespace electra {
namespace {

// The mean of the finite values (NaN means "undefined this micro-batch"); NaN if there are none.
struct FiniteMean {
  double sum = 0;
  int count = 0;
  void add(double value) {
    if (std::isfinite(value)) sum += value, ++count;
  }
  double mean() const { return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN(); }
};

// Fields of StepMetrics that are averaged over the micro-batches of one update.
constexpr double StepMetrics::*averaged_fields[] = {&StepMetrics::total_loss,
                                                    &StepMetrics::mlm_loss,
                                                    &StepMetrics::disc_loss,
                                                    &StepMetrics::gen_acc,
                                                    &StepMetrics::gen_sampled_acc,
                                                    &StepMetrics::disc_acc,
                                                    &StepMetrics::disc_precision,
                                                    &StepMetrics::disc_recall,
                                                    &StepMetrics::disc_auc,
                                                    &StepMetrics::disc_auc_context,
                                                    &StepMetrics::disc_auc_no_special,
                                                    &StepMetrics::disc_best_threshold,
                                                    &StepMetrics::disc_precision_best,
                                                    &StepMetrics::disc_recall_best,
                                                    &StepMetrics::replaced_frac};

std::int64_t count_tokens(const Tensor& attention_mask) {
  const std::int32_t* mask = attention_mask.data<std::int32_t>();
  std::int64_t tokens = 0;
  for (std::int64_t i = 0; i < attention_mask.numel(); ++i) tokens += mask[i] != 0;
  return tokens;
}

// "nan", "inf" or the number, for messages about losses.
std::string describe_loss(const Var& loss) {
  const double value = loss.value().item();
  if (std::isnan(value)) return "nan";  // not "-nan": the sign of a NaN means nothing here
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

std::vector<std::string> Trainer::agree(const std::string& failure, const std::string& result) {
  if (communicator_->size() == 1) {
    if (!failure.empty()) throw Error(failure);  // one rank: the message as it always was
    return {result};
  }
  // One string per rank: "!" + its failure, or "=" + its result.
  const std::vector<std::string> answers =
      communicator_->gather_strings(failure.empty() ? "=" + result : "!" + failure);
  std::string failures;
  std::vector<std::string> results;
  for (std::size_t rank = 0; rank < answers.size(); ++rank) {
    if (answers[rank].rfind('!', 0) == 0)
      failures += (failures.empty() ? "" : "; ") + std::string("rank ") + std::to_string(rank) +
                  ": " + answers[rank].substr(1);
    results.push_back(answers[rank].substr(1));
  }
  if (!failures.empty()) throw CollectiveError(failures);
  return results;
}

std::pair<bool, bool> Trainer::any_rank(bool first, bool second) {
  if (communicator_->size() == 1) return {first, second};
  Tensor counts = Tensor::from_vector(std::vector<double>{double(first), double(second)}, {2});
  communicator_->sum(counts);
  return {counts.data<double>()[0] > 0, counts.data<double>()[1] > 0};
}

Trainer::~Trainer() = default;

void Trainer::accumulate_micro_batch_gradients(bool first) {
  const std::vector<Parameter>& parameters = parameters_.parameters();
  accumulated_gradients_.resize(parameters.size());
  for (std::size_t p = 0; p < parameters.size(); ++p) {
    Var var = parameters[p].var;
    Tensor& grad = var.grad_buffer();
    Tensor& accumulated = accumulated_gradients_[p];
    if (first || !accumulated.defined()) {
      std::swap(accumulated, grad);  // acc = G_0 without a copy; grad gets the spare buffer
      if (!grad.defined())
        grad = Tensor::zeros(accumulated.shape(), accumulated.dtype(), accumulated.device());
      else
        grad.zero_();
    } else {
      kernels::axpy(1.0, grad, accumulated);  // acc += G_i (1·x is exact: a plain f32 addition)
      grad.zero_();
    }
  }
}

void Trainer::train_one_update(bool compute_metrics, StepMetrics& metrics, std::int64_t& tokens) {
  const std::int64_t step = optimizer_->updates_applied();
  const std::int64_t local_micro_batches = options_.grad_accumulation;
  const std::int64_t micro_batches = micro_batches_per_update();  // M = N·A
  const std::int64_t rank = communicator_->rank(), ranks = communicator_->size();
  const std::int64_t batch_size = options_.config.batch_size;
  // Per-rank sums, then summed over the ranks in rank order; divided once at the end.
  FiniteMean averages[std::size(averaged_fields)];
  std::vector<std::pair<std::string, FiniteMean>> objective_averages;
  std::int64_t local_tokens = 0;
  try {
    // This rank's block of the update's M global micro-batches: g = step·M + rank·A + a.
    batches_->skip(rank * local_micro_batches * batch_size);
    for (std::int64_t micro = 0; micro < local_micro_batches; ++micro) {
      const std::int64_t global_micro = rank * local_micro_batches + micro;
      const auto draw = static_cast<std::uint64_t>(step * micro_batches + global_micro);
      const PackedBatch packed = batches_->next(batch_size);
      const MaskedBatch batch = mask_batch(packed, special_, masking_, draw);
      const StepOutput output =
          model_->forward(tape_, batch, {draw, step, /*training=*/true, Tensor()});
      // Checked before backward, the metrics and the optimizer: a NaN loss poisons everything
      // after it, and the error must name the update (one read of a scalar per micro-batch).
      if (!std::isfinite(output.total_loss.value().item())) {
        std::string parts;
        for (const NamedLoss& term : output.losses)
          parts += (parts.empty() ? "" : ", ") + term.name + "_loss=" + describe_loss(term.loss);
        throw_error(
            "the loss is ", describe_loss(output.total_loss), " (", parts,
            micro_batches > 1 ? ", micro-batch " + std::to_string(global_micro + 1) : std::string(),
            "); lower --lr, or find the op with --detect-anomaly");
      }
      // Averaging the micro-batch losses makes the accumulated gradient that of the mean.
      const Var loss = micro_batches == 1
                           ? output.total_loss
                           : ops::scale(tape_, output.total_loss, 1.0 / micro_batches);
      // With A = 1 this backward makes the gradients final: the buckets' sums start while it
      // runs (overlap). With A > 1 the rank's total is known only after the last addition.
      if (ranks > 1 && local_micro_batches == 1) gradient_buckets_->arm(tape_);
      tape_.backward(loss);
      if (local_micro_batches > 1) accumulate_micro_batch_gradients(micro == 0);
      local_tokens += count_tokens(packed.attention_mask);
      if (compute_metrics) {
        const StepMetrics micro_metrics = compute_step_metrics(output, batch, special_);
        for (std::size_t i = 0; i < std::size(averaged_fields); ++i)
          averages[i].add(micro_metrics.*averaged_fields[i]);
        objective_averages.resize(micro_metrics.objective_losses.size());
        for (std::size_t i = 0; i < objective_averages.size(); ++i) {
          objective_averages[i].first = micro_metrics.objective_losses[i].first;
          objective_averages[i].second.add(micro_metrics.objective_losses[i].second);
        }
      }
      tape_.clear();
    }
    batches_->skip((ranks - 1 - rank) * local_micro_batches * batch_size);
    if (local_micro_batches > 1) {  // grad = acc_r
      const std::vector<Parameter>& parameters = parameters_.parameters();
      for (std::size_t p = 0; p < parameters.size(); ++p)
        std::swap(Var(parameters[p].var).grad_buffer(), accumulated_gradients_[p]);
    }
    // The rank-ordered sum of every parameter's grad (started during backward when armed).
    if (ranks > 1) gradient_buckets_->finish();
    // Tokens every update (the global tokens/s); the metrics' sums and counts on logged updates.
    if (ranks > 1) {
      std::vector<double> totals{static_cast<double>(local_tokens)};
      if (compute_metrics) {
        for (const FiniteMean& mean : averages)
          totals.insert(totals.end(), {mean.sum, double(mean.count)});
        for (const auto& [name, mean] : objective_averages)
          totals.insert(totals.end(), {mean.sum, double(mean.count)});
      }
      Tensor buffer = Tensor::from_vector(totals, {static_cast<std::int64_t>(totals.size())});
      communicator_->sum(buffer);
      const double* summed = buffer.data<double>();
      local_tokens = static_cast<std::int64_t>(summed[0]);
      std::size_t next = 1;
      const auto take = [&](FiniteMean& mean) {
        mean.sum = summed[next], mean.count = static_cast<int>(summed[next + 1]), next += 2;
      };
      if (compute_metrics) {
        for (FiniteMean& mean : averages) take(mean);
        for (auto& [name, mean] : objective_averages) take(mean);
      }
    }
    tokens += local_tokens;
    const LearningRateSchedule schedule{options_.config.learning_rate, options_.config.warmup_steps,
                                        options_.config.num_train_steps};
    const OptimizerStepReport report = optimizer_->step(schedule.at(step));
    parameters_.zero_grad();
    if (compute_metrics) {
      for (std::size_t i = 0; i < std::size(averaged_fields); ++i)
        metrics.*averaged_fields[i] = averages[i].mean();
      metrics.objective_losses.clear();
      for (const auto& [name, mean] : objective_averages)
        metrics.objective_losses.emplace_back(name, mean.mean());
      metrics.step = step + 1;
      metrics.grad_norm = report.grad_norm;
      metrics.lr = report.learning_rate;
    }
  } catch (const Error& error) {
    tape_.clear();
    throw_error("pretrain: update ", step + 1, ": ", error.what());
  }
}

}  // namespace electra
