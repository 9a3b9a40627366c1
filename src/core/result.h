// The one error vocabulary of troad: Error (a code, a message, and optionally an
// X-Road fault name) and Result<T> (a value or an Error).
//
// Every fallible function returns Result<T> or Status; nothing on a request path
// throws. Codes map to HTTP statuses in one place (HttpStatusFor); the gateway maps
// fault names to X-Road error types (gateway/fault.h).
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace troad {

enum class ErrorCode {
  kInvalidArgument,     // input from outside is malformed (a request, a file, a row)
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // would create a duplicate (e.g. a replayed message id)
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // identity could not be established (certificate, signature)
  kFailedPrecondition,  // the system is not in a state to do this (expired config)
  kResourceExhausted,   // a limit was hit (body size, rate)
  kDeadlineExceeded,    // a timeout elapsed
  kUnavailable,         // a peer or backend could not be reached
  kDataLoss,            // stored data is corrupt or was tampered with
  kIo,                  // local I/O failed (disk, database)
  kInternal,            // a bug: an invariant of ours did not hold
};

std::string_view ErrorCodeName(ErrorCode code);

// The HTTP status that best describes an error of this code.
int HttpStatusFor(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // X-Road fault name without prefix ("AccessDenied", "InvalidSignatureValue"); empty
  // when the error has none. The gateway adds the "Client." / "Server.*Proxy." prefix.
  const std::string& fault() const { return fault_; }

  Error&& WithFault(std::string fault) && {
    fault_ = std::move(fault);
    return std::move(*this);
  }
  // Prepends context: "loading gateway.toml: " + message.
  Error&& Context(std::string_view what) && {
    message_ = fmt::format("{}: {}", what, message_);
    return std::move(*this);
  }
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string fault_;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> Fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

template <typename... Args>
tl::unexpected<Error> Fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return tl::unexpected<Error>(Error(code, fmt::format(format, std::forward<Args>(args)...)));
}

inline Status Ok() { return {}; }

}  // namespace troad

// Evaluates `expr` (a Result or Status); on error returns it from the current
// function. TROAD_ASSIGN_OR_RETURN(auto x, F()) binds the value.
#define TROAD_RETURN_IF_ERROR(expr)                                     \
  do {                                                                  \
    auto troad_status_ = (expr);                                        \
    if (!troad_status_) return ::tl::unexpected(troad_status_.error()); \
  } while (0)

#define TROAD_CONCAT_INNER_(a, b) a##b
#define TROAD_CONCAT_(a, b) TROAD_CONCAT_INNER_(a, b)
#define TROAD_ASSIGN_OR_RETURN(lhs, expr) \
  TROAD_ASSIGN_OR_RETURN_IMPL_(TROAD_CONCAT_(troad_result_, __LINE__), lhs, expr)
#define TROAD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)         \
  auto tmp = (expr);                                         \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
