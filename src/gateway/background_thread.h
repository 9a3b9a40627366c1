// The loop the gateway's background workers share (the timestamper, the ledger
// shipper, the archiver): a thread of its own at a lower priority (nice +10), so that
// their batch work never takes CPU from exchanges in flight, which runs a round, waits
// as long as the round asks (or until Kick), and again, until Stop.
//
// Thread-safety: Start and Stop from one thread; Kick and Stopping from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace troad::gateway {

class BackgroundThread {
 public:
  // One round of work, on the thread; returns how long to wait before the next.
  using Round = std::function<std::chrono::milliseconds()>;

  // `name` is how the log names the worker.
  explicit BackgroundThread(std::string name) : name_(std::move(name)) {}
  ~BackgroundThread() { Stop(); }
  BackgroundThread(const BackgroundThread&) = delete;
  BackgroundThread& operator=(const BackgroundThread&) = delete;

  // Starts the thread: it waits `first_wait` (zero: not at all) or until Kick, runs
  // `round`, waits what that returned, and so on until Stop.
  void Start(std::chrono::milliseconds first_wait, Round round);
  // Lets the round in progress finish (rounds should check Stopping between steps),
  // then joins the thread. Idempotent; a worker that never started just stops.
  void Stop();
  // Ends the current wait now: the next round runs at once.
  void Kick();
  bool Stopping() const;

 private:
  void Run(std::chrono::milliseconds wait, const Round& round);

  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool kicked_ = false;    // guarded by mu_
  std::thread thread_;
};

}  // namespace troad::gateway
