#pragma once
// Stopping a training run from outside: request_stop() (async-signal-safe; SIGINT and SIGTERM
// call it once install_stop_signal_handlers() ran) asks the loop to finish the current update,
// save a checkpoint and return. The loop only looks at the request between updates, so an update
// that never ends (a stuck kernel, a hung device, a deadlock) would ignore it: the StopWatchdog a
// run keeps alive ends the process when the run has not returned within a grace period after the
// request. A second signal still ends the process at once.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace electra {

// Makes the next update the last one (async-signal-safe). clear_stop_request() resets it.
void request_stop();
void clear_stop_request();
bool stop_requested();
// SIGINT/SIGTERM → request_stop(); a second signal ends the process at once (exit 128 + signal).
void install_stop_signal_handlers();

// A thread that, once a stop is requested, waits grace_seconds() (asked at that moment, so it
// can depend on how long updates have taken) and then calls on_expiry(waited_seconds) on its own
// thread, unless the watchdog is destroyed first (the run returned). The default expiry of the
// trainer prints one line and ends the process; tests pass their own.
class StopWatchdog {
 public:
  StopWatchdog(std::function<double()> grace_seconds, std::function<void(double)> on_expiry);
  ~StopWatchdog();
  StopWatchdog(const StopWatchdog&) = delete;
  StopWatchdog& operator=(const StopWatchdog&) = delete;

 private:
  void watch();

  std::function<double()> grace_seconds_;
  std::function<void(double)> on_expiry_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace electra
