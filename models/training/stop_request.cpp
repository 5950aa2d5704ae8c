// Stop requests and the watchdog that enforces them: see stop_request.hpp.
#include "models/training/stop_request.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>

namespace electra {
namespace {

// Set by request_stop() (also from a signal handler): lock-free atomics are async-signal-safe.
std::atomic<int> stop_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_stop_signal(int signal_number) {
  if (stop_signals.fetch_add(1) > 0) std::_Exit(128 + signal_number);  // second signal: now
}

// A signal handler may not touch a mutex or a condition variable, so the watchdog polls the flag;
// ten times a second costs nothing and bounds the delay before the grace period starts.
constexpr auto poll_interval = std::chrono::milliseconds(100);

}  // namespace

void request_stop() { stop_signals.fetch_add(1); }
void clear_stop_request() { stop_signals.store(0); }
bool stop_requested() { return stop_signals.load() > 0; }

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

StopWatchdog::StopWatchdog(std::function<double()> grace_seconds,
                           std::function<void(double)> on_expiry)
    : grace_seconds_(std::move(grace_seconds)), on_expiry_(std::move(on_expiry)) {
  thread_ = std::thread([this] { watch(); });
}

StopWatchdog::~StopWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StopWatchdog::watch() {
  using clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_requested()) {
    if (wake_.wait_for(lock, poll_interval, [this] { return finished_; })) return;
  }
  const double grace = grace_seconds_();
  const auto requested = clock::now();
  const auto deadline =
      requested + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(grace));
  if (wake_.wait_until(lock, deadline, [this] { return finished_; })) return;
  lock.unlock();
  on_expiry_(std::chrono::duration<double>(clock::now() - requested).count());
}

}  // namespace electra
