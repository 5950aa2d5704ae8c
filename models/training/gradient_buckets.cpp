#include "models/training/gradient_buckets.hpp"

#include "engine/error.hpp"
#include "engine/kernels.hpp"

namespace electra {
namespace {

// A tensor as a column [numel, 1], so the row-block kernels address single elements.
Tensor column(const Tensor& tensor) { return tensor.reshape(Shape{tensor.numel(), 1}); }

}  // namespace

GradientBuckets::GradientBuckets(const ParameterStore& store, Communicator& communicator,
                                 std::size_t bucket_bytes)
    : communicator_(communicator) {
  if (communicator.size() == 1) return;  // nothing to sum: no buckets, no buffers
  const std::vector<Parameter>& parameters = store.parameters();
  std::size_t bytes = 0;
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    const Tensor& value = it->var.value();
    const std::size_t parameter_bytes = value.nbytes();
    const bool fits = !buckets_.empty() && bytes + parameter_bytes <= bucket_bytes &&
                      buckets_.back().slots.front().parameter.value().dtype() == value.dtype() &&
                      buckets_.back().slots.front().parameter.value().device() == value.device();
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& bucket = buckets_.back();
    Slot slot;
    slot.parameter = it->var;
    slot.offset = bucket.gradient_numel;
    bucket.gradient_numel += value.numel();
    bytes += parameter_bytes;
    where_[&it->var.value()] = {buckets_.size() - 1, bucket.slots.size()};
    bucket.slots.push_back(std::move(slot));
  }
  for (Bucket& bucket : buckets_) {
    std::size_t flag = static_cast<std::size_t>(bucket.gradient_numel);
    for (Slot& slot : bucket.slots) slot.flag = flag++;
    const Tensor& first = bucket.slots.front().parameter.value();
    bucket.buffer =
        Tensor::zeros(Shape{static_cast<std::int64_t>(flag), 1}, first.dtype(), first.device());
  }
}

GradientBuckets::~GradientBuckets() {
  if (tape_ != nullptr) tape_->set_gradient_ready_hook(nullptr);
  // A pending sum waits for itself when destroyed (the communicator keeps the ranks in step).
}

void GradientBuckets::arm(Tape& tape) {
  if (communicator_.size() == 1) return;
  check(tape_ == nullptr, "GradientBuckets::arm: armed twice without finish()");
  for (Bucket& bucket : buckets_) {
    check(bucket.pending == nullptr, "GradientBuckets::arm: a sum is still in flight");
    bucket.ready = 0;
    for (Slot& slot : bucket.slots) slot.ready = false;
  }
  next_to_start_ = 0;
  started_during_backward_ = 0;
  tape_ = &tape;
  tape.set_gradient_ready_hook([this](const Var& leaf) { on_gradient_ready(leaf); });
  // A parameter this backward never reaches is final already (earlier micro-batches' sum, or
  // none): copy it now, or its bucket, and every bucket after it, would wait for finish().
  std::vector<std::vector<bool>> in_graph(buckets_.size());
  for (std::size_t b = 0; b < buckets_.size(); ++b)
    in_graph[b].assign(buckets_[b].slots.size(), false);
  for (const Node& node : tape.nodes())
    for (const Var& input : node.inputs) {
      if (input.node() >= 0 || !input.requires_grad()) continue;
      const auto found = where_.find(&input.value());
      if (found != where_.end()) in_graph[found->second.first][found->second.second] = true;
    }
  for (std::size_t b = 0; b < buckets_.size(); ++b)
    for (std::size_t s = 0; s < buckets_[b].slots.size(); ++s)
      if (!in_graph[b][s]) copy_in(buckets_[b], buckets_[b].slots[s]);
  start_ready_buckets();
  started_during_backward_ = next_to_start_;
}

void GradientBuckets::on_gradient_ready(const Var& parameter) {
  const auto found = where_.find(&parameter.value());
  if (found == where_.end()) return;  // a leaf that is not one of the store's parameters
  Bucket& bucket = buckets_[found->second.first];
  Slot& slot = bucket.slots[found->second.second];
  if (slot.ready) return;
  copy_in(bucket, slot);
  const std::size_t before = next_to_start_;
  start_ready_buckets();
  started_during_backward_ += next_to_start_ - before;
  // MPI moves a non-blocking collective along only inside MPI calls: give the sums in flight
  // a chance while backward computes the next layer.
  for (std::size_t b = 0; b < before; ++b)
    if (buckets_[b].pending) buckets_[b].pending->poll();
}

void GradientBuckets::copy_in(Bucket& bucket, Slot& slot) {
  const Tensor& value = slot.parameter.value();
  if (slot.parameter.has_grad()) {
    kernels::copy_rows_into(column(slot.parameter.grad()), bucket.buffer, slot.offset);
  } else {  // this rank has no gradient for it: it adds zeros (and a zero flag)
    kernels::copy_rows_into(Tensor::zeros(Shape{value.numel(), 1}, value.dtype(), value.device()),
                            bucket.buffer, slot.offset);
  }
  slot.ready = true;
  ++bucket.ready;
}

void GradientBuckets::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() &&
         buckets_[next_to_start_].ready == buckets_[next_to_start_].slots.size())
    start(buckets_[next_to_start_++]);
}

void GradientBuckets::start(Bucket& bucket) {
  const Tensor& first = bucket.slots.front().parameter.value();
  std::vector<double> flags;
  for (const Slot& slot : bucket.slots) flags.push_back(slot.parameter.has_grad() ? 1.0 : 0.0);
  Tensor host_flags = Tensor::from_vector(flags, Shape{static_cast<std::int64_t>(flags.size()), 1})
                          .to(first.dtype())
                          .to(first.device());
  kernels::copy_rows_into(host_flags, bucket.buffer, bucket.gradient_numel);
  bucket.pending = communicator_.start_sum(bucket.buffer);
}

void GradientBuckets::finish() {
  if (communicator_.size() == 1) return;
  if (tape_ != nullptr) tape_->set_gradient_ready_hook(nullptr);
  tape_ = nullptr;
  // What backward did not report (not armed, or parameters outside this backward's graph).
  for (Bucket& bucket : buckets_)
    for (Slot& slot : bucket.slots)
      if (!slot.ready) copy_in(bucket, slot);
  start_ready_buckets();
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
    const Tensor& first = bucket.slots.front().parameter.value();
    Tensor flags = Tensor::zeros(Shape{static_cast<std::int64_t>(bucket.slots.size()), 1},
                                 first.dtype(), first.device());
    kernels::rows_of_accumulate(bucket.buffer, bucket.gradient_numel, flags);
    const std::vector<double> any_rank_has_grad = flags.to_vector();
    for (std::size_t s = 0; s < bucket.slots.size(); ++s) {
      Slot& slot = bucket.slots[s];
      slot.ready = false;
      // No rank produced one (so neither did this one): keep none, as one process would.
      if (any_rank_has_grad[s] == 0.0) continue;
      // 0 + total: the row kernels copy out of a buffer only by accumulating.
      Tensor& grad = slot.parameter.grad_buffer();
      grad.zero_();
      Tensor grad_column = column(grad);
      kernels::rows_of_accumulate(bucket.buffer, slot.offset, grad_column);
    }
    bucket.ready = 0;
  }
  next_to_start_ = 0;
}

}  // namespace electra
