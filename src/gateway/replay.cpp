#include "gateway/replay.h"

#include <algorithm>

#include "gateway/fault.h"

namespace troad::gateway {

Status ReplayGuard::CheckAndRemember(const std::string& client, const std::string& message_id,
                                     int64_t message_time_ms, int64_t now_ms) {
  std::string key = client;
  key += '\n';
  key += message_id;
  std::lock_guard lock(mu_);
  Expire(now_ms);
  if (!seen_.insert(key).second) {
    return Fail(Error(ErrorCode::kAlreadyExists,
                      fmt::format("message id \"{}\" of {} was already used", message_id, client))
                    .WithFault(std::string(kFaultDuplicateMessageId)));
  }
  // Remember until both the message's own time and our receipt are out of the window.
  int64_t expires = std::max(message_time_ms, now_ms) + window_ms_;
  // Keep by_expiry_ sorted: insertion is almost always at the back.
  auto it = std::upper_bound(by_expiry_.begin(), by_expiry_.end(), expires,
                             [](int64_t v, const auto& e) { return v < e.first; });
  by_expiry_.insert(it, {expires, std::move(key)});
  return Ok();
}

void ReplayGuard::Expire(int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.front().first < now_ms) {
    seen_.erase(by_expiry_.front().second);
    by_expiry_.pop_front();
  }
}

size_t ReplayGuard::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

void ReplayGuard::SetWindow(std::chrono::milliseconds window) {
  std::lock_guard lock(mu_);
  window_ms_ = window.count();
}

}  // namespace troad::gateway
