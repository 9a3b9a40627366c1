#include "gateway/background_thread.h"

#include "core/thread.h"

namespace troad::gateway {

void BackgroundThread::Start(std::chrono::milliseconds first_wait, Round round) {
  thread_ = std::thread([this, first_wait, round = std::move(round)] { Run(first_wait, round); });
}

void BackgroundThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundThread::Kick() {
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

bool BackgroundThread::Stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void BackgroundThread::Run(std::chrono::milliseconds wait, const Round& round) {
  LowerThreadPriority(name_);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [this] { return stopping_ || kicked_; });
      if (stopping_) return;
      kicked_ = false;
    }
    wait = round();
  }
}

}  // namespace troad::gateway
