#pragma once
// GradientBuckets: sums every parameter's gradient over the ranks of a data-parallel run while
// backward is still running (issue 14, item 2), as PyTorch DDP's gradient buckets do.
//
// The parameters are grouped in REVERSE registration order (backward finishes the last layers
// first) into buckets of about `bucket_bytes`, each of one dtype and device. During the last
// backward of an update the tape's gradient-ready hook copies each final gradient into its
// bucket's flat buffer; a full bucket starts its non-blocking rank-ordered sum
// (Communicator::start_sum) while backward goes on with the layers below. finish() starts what
// is left, waits for every bucket and copies the totals back into each parameter's grad.
//
// Buckets start in bucket order, never in completion order: MPI needs every rank to start its
// collectives in the same order, and a bucket whose gradients are complete waits for the
// buckets before it (with parameters in reverse registration order they fill in about that
// order anyway).
//
// Each bucket also carries one flag per parameter (1 when this rank produced a gradient for
// it): after the sum, a parameter gets a grad when any rank produced one, as one process
// accumulating the ranks' micro-batches would have, and keeps none when no rank did (the
// optimizer skips those), so every rank takes the same optimizer step.
//
// With one rank it does nothing at all: no hook, no copies, no buffers.
//
// Why models/ and not autograd/: it joins a ParameterStore, a Tape and a Communicator for the
// trainer's update; autograd stays free of anything distributed.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "autograd/parameter_store.hpp"
#include "autograd/tape.hpp"
#include "engine/communicator.hpp"

namespace electra {

class GradientBuckets {
 public:
  static constexpr std::size_t kDefaultBucketBytes = std::size_t{25} << 20;  // DDP's 25 MB

  // `store` and `communicator` must outlive this object; the store's parameters must not change
  // after construction. A parameter larger than bucket_bytes gets a bucket of its own.
  GradientBuckets(const ParameterStore& store, Communicator& communicator,
                  std::size_t bucket_bytes = kDefaultBucketBytes);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Call after the forward and right before the backward that makes the gradients final (the
  // last micro-batch of an update; earlier micro-batches just accumulate): installs the tape's
  // gradient-ready hook, and copies at once the parameters the recorded graph never reads.
  // One rank: does nothing.
  void arm(Tape& tape);
  // After that backward: removes the hook, starts the buckets not yet started, waits for all
  // and writes the sums into the parameters' grads. Every rank must call it once per update,
  // armed or not. One rank: does nothing.
  void finish();

  std::size_t bucket_count() const { return buckets_.size(); }
  // How many buckets were started by arm() and the hook during the last backward (the rest by
  // finish(): those wait for the end of backward, with no overlap).
  std::size_t started_during_backward() const { return started_during_backward_; }

 private:
  struct Slot {
    Var parameter;
    std::int64_t offset = 0;  // in elements, in the bucket's buffer
    std::size_t flag = 0;     // index of its flag, after the gradients
    bool ready = false;
  };
  struct Bucket {
    std::vector<Slot> slots;
    std::int64_t gradient_numel = 0;
    Tensor buffer;  // [gradient_numel + slots] of the parameters' dtype and device
    std::size_t ready = 0;
    std::unique_ptr<PendingSum> pending;
  };

  void on_gradient_ready(const Var& parameter);
  void copy_in(Bucket& bucket, Slot& slot);
  void start_ready_buckets();
  void start(Bucket& bucket);

  Communicator& communicator_;
  std::vector<Bucket> buckets_;
  // Identity of a parameter (its value tensor's address, stable for the Var's life) → where.
  std::unordered_map<const void*, std::pair<std::size_t, std::size_t>> where_;
  Tape* tape_ = nullptr;
  std::size_t next_to_start_ = 0;
  std::size_t started_during_backward_ = 0;
};

}  // namespace electra
