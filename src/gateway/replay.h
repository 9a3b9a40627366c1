// Replay protection on the provider side: a message id may be used once per client
// within the accepted clock window. Ids are remembered until their message time
// plus the window has passed; older messages are refused by the clock-skew check
// before they reach here, so that is all the memory needed.
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/result.h"

namespace troad::gateway {

class ReplayGuard {
 public:
  explicit ReplayGuard(std::chrono::milliseconds window) : window_ms_(window.count()) {}

  // Remembers (client, id). kAlreadyExists (fault "DuplicateMessageId"… see fault.h)
  // when it was seen before and has not yet been forgotten.
  Status CheckAndRemember(const std::string& client, const std::string& message_id,
                          int64_t message_time_ms, int64_t now_ms);
  size_t size() const;
  void SetWindow(std::chrono::milliseconds window);

 private:
  void Expire(int64_t now_ms);

  mutable std::mutex mu_;
  int64_t window_ms_;  // guarded by mu_
  std::unordered_set<std::string> seen_;  // guarded by mu_
  std::deque<std::pair<int64_t, std::string>> by_expiry_;  // guarded by mu_; (expires_ms, key)
};

}  // namespace troad::gateway
