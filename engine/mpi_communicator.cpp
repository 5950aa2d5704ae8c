// The MPI communicator (compiled only when the build found MPI: ELECTRA_HAVE_MPI). Open MPI's C
// API on MPI_COMM_WORLD; only the main thread calls MPI (MPI_THREAD_FUNNELED).
//
// A sum is a reduce-scatter then an all-gather, both non-blocking, so each rank sends and
// receives about 2·(N−1)/N of the buffer whatever N is:
//   1. the buffer is cut into N chunks; MPI_Ialltoallv hands rank r every rank's chunk r;
//   2. rank r adds them in rank order, (((x₀ + x₁) + x₂) …), in the buffer's own type, so the
//      result never depends on which message arrived first and every rank ends with the same
//      bits (for N = 2 it is x₀ + x₁ elementwise, exactly what one rank accumulating two
//      micro-batches computes);
//   3. MPI_Iallgatherv puts every rank's summed chunk back into every rank's buffer.
// MPI requires every rank to start its collectives in the same order. Exchanges (1) run on one
// duplicate of MPI_COMM_WORLD and all-gathers (3) on another, each started in the order the sums
// were started (step 2 of a later sum waits for the earlier ones), so the order is the same on
// every rank however the polls interleave; blocking collectives (gather_strings) use a third.
//
// CUDA buffers are staged through host memory: a device→host copy when the sum starts and a
// host→device copy when it ends, each a synchronous cudaMemcpy of the whole buffer (about
// 2 × bytes / PCIe bandwidth: ~10 ms per 100 MB at 20 GB/s), plus a host buffer of the same size
// while the sum is in flight. Debian's Open MPI is not CUDA-aware, and the staging keeps one code
// path for every MPI library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "engine/communicator.hpp"
#include "engine/error.hpp"
#ifdef ELECTRA_HAS_CUDA
#include "engine/cuda/cuda_runtime.hpp"
#endif

namespace electra {
namespace {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, message, &length);
  throw_error("MPI: ", call, " failed: ", std::string(message, static_cast<std::size_t>(length)));
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class MpiCommunicator;

class MpiSum final : public PendingSum {
 public:
  MpiSum(MpiCommunicator& owner, Tensor& buffer);
  ~MpiSum() override;
  void wait() override;
  bool poll() override;

 private:
  friend class MpiCommunicator;
  enum class Phase { exchanging, gathering, done };
  // Steps 2 and 3 once this sum's exchange has completed.
  void reduce_and_start_gather();
  void finish();  // after the all-gather: the total back into a device buffer

  MpiCommunicator& owner_;
  Tensor target_;  // the caller's buffer (a handle sharing its storage)
  Tensor host_;    // target_ itself on cpu, else its host copy
  MPI_Datatype type_;
  std::int64_t element_size_;
  std::vector<int> chunk_counts_, chunk_starts_;  // chunk r: [start, start + count)
  std::vector<int> received_counts_, received_starts_;
  std::vector<unsigned char> received_;  // every rank's copy of this rank's chunk, rank-major
  MPI_Request request_ = MPI_REQUEST_NULL;
  Phase phase_ = Phase::exchanging;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    check(!initialized && !finalized,
          "MPI: make_communicator was called twice in one "
          "process (MPI can be initialised only once)");
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes and become electra::Error naming the call, not a bare abort.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &exchange_comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &gather_comm_), "MPI_Comm_dup");
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    library_ = std::string(version, static_cast<std::size_t>(length));
    // "Open MPI v4.1.4, package: Debian OpenMPI, ..." → "Open MPI 4.1.4".
    library_ = library_.substr(0, library_.find_first_of(",\n"));
    const std::size_t v = library_.find(" v");
    if (v != std::string::npos && v + 2 < library_.size() && std::isdigit(library_[v + 2]))
      library_.erase(v + 1, 1);
  }
  ~MpiCommunicator() override {
    // Every sum must be destroyed before its communicator (its destructor waits for it).
    MPI_Comm_free(&exchange_comm_);
    MPI_Comm_free(&gather_comm_);
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::unique_ptr<PendingSum> start_sum(Tensor& buffer) override {
    return std::make_unique<MpiSum>(*this, buffer);
  }

  std::vector<std::string> gather_strings(const std::string& text) override {
    const Clock::time_point start = Clock::now();
    check(text.size() < static_cast<std::size_t>(INT_MAX), "MPI: gather_strings: ", text.size(),
          " bytes is more than one message can carry");
    const int length = static_cast<int>(text.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_));
    check_mpi(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
              "MPI_Allgather");
    std::vector<int> starts(lengths.size());
    std::int64_t total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      check(total + lengths[r] < INT_MAX, "MPI: gather_strings: more than 2 GB in all");
      starts[r] = static_cast<int>(total);
      total += lengths[r];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    check_mpi(MPI_Allgatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(),
                             starts.data(), MPI_CHAR, MPI_COMM_WORLD),
              "MPI_Allgatherv");
    std::vector<std::string> texts;
    for (std::size_t r = 0; r < lengths.size(); ++r)
      texts.push_back(
          all.substr(static_cast<std::size_t>(starts[r]), static_cast<std::size_t>(lengths[r])));
    waited_ += seconds_since(start);
    return texts;
  }

  [[noreturn]] void abort_all(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
  }
  double wait_seconds() const override { return waited_; }
  std::string describe() const override {
    return std::to_string(size_) + (size_ == 1 ? " process (" : " processes (") + library_ + ")";
  }

 private:
  friend class MpiSum;
  // Completes, in start order, the exchanges of every sum up to and including `sum` (blocking).
  void finish_exchanges_through(MpiSum& sum) {
    while (sum.phase_ == MpiSum::Phase::exchanging) {
      MpiSum& first = *exchanging_.front();
      check_mpi(MPI_Wait(&first.request_, MPI_STATUS_IGNORE), "MPI_Wait");
      exchanging_.pop_front();
      first.reduce_and_start_gather();
    }
  }
  // Completes, without blocking, the exchanges that have arrived, in start order.
  void progress() {
    while (!exchanging_.empty()) {
      MpiSum& first = *exchanging_.front();
      int arrived = 0;
      check_mpi(MPI_Test(&first.request_, &arrived, MPI_STATUS_IGNORE), "MPI_Test");
      if (!arrived) return;
      exchanging_.pop_front();
      first.reduce_and_start_gather();
    }
  }

  int rank_ = 0, size_ = 1;
  MPI_Comm exchange_comm_ = MPI_COMM_NULL, gather_comm_ = MPI_COMM_NULL;
  std::string library_;
  std::deque<MpiSum*> exchanging_;  // sums whose step 1 is in flight, in start order
  double waited_ = 0.0;
};

MpiSum::MpiSum(MpiCommunicator& owner, Tensor& buffer) : owner_(owner), target_(buffer) {
  check(buffer.defined(), "Communicator::start_sum: undefined buffer");
  check(buffer.dtype() == DType::f32 || buffer.dtype() == DType::f64,
        "Communicator::start_sum: f32 or f64 buffers only, got ", buffer);
  check(buffer.numel() < INT_MAX, "Communicator::start_sum: ", buffer,
        " has more elements than one MPI message can count (2^31 − 1)");
  type_ = buffer.dtype() == DType::f32 ? MPI_FLOAT : MPI_DOUBLE;
  element_size_ = static_cast<std::int64_t>(dtype_size(buffer.dtype()));
  host_ = buffer.device() == Device::cpu ? buffer : buffer.to(Device::cpu);

  const int ranks = owner.size_;
  const std::int64_t numel = buffer.numel();
  chunk_counts_.resize(static_cast<std::size_t>(ranks));
  chunk_starts_.resize(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    const std::int64_t begin = numel * r / ranks, end = numel * (r + 1) / ranks;
    chunk_starts_[static_cast<std::size_t>(r)] = static_cast<int>(begin);
    chunk_counts_[static_cast<std::size_t>(r)] = static_cast<int>(end - begin);
  }
  const int mine = chunk_counts_[static_cast<std::size_t>(owner.rank_)];
  received_counts_.assign(static_cast<std::size_t>(ranks), mine);
  received_starts_.resize(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) received_starts_[static_cast<std::size_t>(r)] = r * mine;
  received_.resize(static_cast<std::size_t>(std::int64_t{mine} * ranks * element_size_));
  check_mpi(MPI_Ialltoallv(host_.raw(), chunk_counts_.data(), chunk_starts_.data(), type_,
                           received_.data(), received_counts_.data(), received_starts_.data(),
                           type_, owner.exchange_comm_, &request_),
            "MPI_Ialltoallv");
  owner.exchanging_.push_back(this);
}

MpiSum::~MpiSum() {
  // A sum dropped before wait() still has MPI writing into its buffers: finish it first (and
  // keep the collective order every other rank expects).
  try {
    wait();
  } catch (...) {  // the error was MPI's; at least leave no dangling pointer behind
    auto& queue = owner_.exchanging_;
    queue.erase(std::remove(queue.begin(), queue.end(), this), queue.end());
  }
}

template <typename T>
void add_in_rank_order(const void* received, std::int64_t count, int ranks, void* out) {
  const T* chunks = static_cast<const T*>(received);
  T* total = static_cast<T*>(out);
  for (std::int64_t i = 0; i < count; ++i) total[i] = chunks[i];
  for (int r = 1; r < ranks; ++r) {
    const T* chunk = chunks + r * count;
    for (std::int64_t i = 0; i < count; ++i) total[i] = total[i] + chunk[i];
  }
}

void MpiSum::reduce_and_start_gather() {
  const std::size_t me = static_cast<std::size_t>(owner_.rank_);
  void* mine = static_cast<unsigned char*>(host_.raw()) + chunk_starts_[me] * element_size_;
  if (type_ == MPI_FLOAT)
    add_in_rank_order<float>(received_.data(), chunk_counts_[me], owner_.size_, mine);
  else
    add_in_rank_order<double>(received_.data(), chunk_counts_[me], owner_.size_, mine);
  received_ = {};
  check_mpi(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, host_.raw(), chunk_counts_.data(),
                            chunk_starts_.data(), type_, owner_.gather_comm_, &request_),
            "MPI_Iallgatherv");
  phase_ = Phase::gathering;
}

void MpiSum::finish() {
  if (target_.device() != Device::cpu) {
#ifdef ELECTRA_HAS_CUDA
    cuda::copy_bytes(target_.raw(), target_.device(), host_.raw(), Device::cpu, host_.nbytes());
#endif
  }
  host_ = Tensor();
  target_ = Tensor();
  phase_ = Phase::done;
}

void MpiSum::wait() {
  if (phase_ == Phase::done) return;
  const Clock::time_point start = Clock::now();
  owner_.finish_exchanges_through(*this);
  check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
  finish();
  owner_.waited_ += seconds_since(start);
}

bool MpiSum::poll() {
  if (phase_ == Phase::done) return true;
  owner_.progress();
  if (phase_ == Phase::gathering) {
    int arrived = 0;
    check_mpi(MPI_Test(&request_, &arrived, MPI_STATUS_IGNORE), "MPI_Test");
    if (arrived) finish();
  }
  return phase_ == Phase::done;
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

}  // namespace electra
