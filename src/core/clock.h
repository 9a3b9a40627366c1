// Injected time. Everything that reads the time — certificate validity, message
// timestamps, skew checks, timeouts recorded in logs — takes a Clock so tests are exact.
//
// Thread-safety: SystemClock is stateless; FakeClock is safe to read and advance
// from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace troad {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime Now() const = 0;

  int64_t NowMillis() const;
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  // The process-wide system clock.
  static const Clock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start) : now_ms_(ToMillis(start)) {}
  SystemTime Now() const override;
  void Advance(std::chrono::milliseconds by) { now_ms_ += by.count(); }
  void Set(SystemTime t) { now_ms_ = ToMillis(t); }

 private:
  static int64_t ToMillis(SystemTime t);
  std::atomic<int64_t> now_ms_;
};

int64_t ToUnixMillis(SystemTime t);
SystemTime FromUnixMillis(int64_t ms);

// RFC 3339 in UTC with milliseconds: 2026-11-24T08:30:00.123Z
std::string FormatRfc3339(SystemTime t);
// Accepts RFC 3339 with 'Z' or a numeric offset, optional fractional seconds.
Result<SystemTime> ParseRfc3339(std::string_view text);

}  // namespace troad
