// The operator CLI's side of the central's management API (docs/central.md, "The
// operator CLI"): the session file `troad login` writes and every other operator
// command reads, and a blocking HTTPS client that calls the central with the session's
// bearer token and turns the API's error bodies back into Errors.
//
// The session file (JSON, mode 0600, replaced atomically):
//   {"format":"troad-session/1","central_url":"https://127.0.0.1:4400",
//    "ca_certificate":"-----BEGIN CERTIFICATE-----\n...","token":"...",
//    "username":"operator","role":"operator","member":"",
//    "expires_at":"2026-11-24T20:30:00.000Z"}
//
// Thread-safety: the functions are pure or touch one file; a CentralClient belongs to
// one thread at a time (http::BlockingClient).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace troad::http {
class BlockingClient;
struct Endpoint;
}  // namespace troad::http

namespace troad::cli {

inline constexpr std::string_view kSessionFormat = "troad-session/1";
// A session file is a token, a few names and one certificate.
inline constexpr size_t kMaxSessionFileBytes = 256 * 1024;

struct OperatorSession {
  std::string central_url;     // "https://host[:port][/base]", without a trailing '/'
  std::string ca_certificate;  // PEM: the CA the central's TLS certificate chains to
  std::string token;           // the bearer token of POST /api/v1/login
  std::string username;
  std::string role;    // "operator" or "member-admin"
  std::string member;  // a member administrator's member id; "" for an operator
  SystemTime expires_at{};
};

// Where the session file is: `flag` when not empty, else `env_session`
// ($TROAD_SESSION), else `xdg_config_home`/troad/session.json, else
// `home`/.config/troad/session.json. kFailedPrecondition when all are empty.
Result<std::string> ChooseSessionPath(std::string_view flag, std::string_view env_session,
                                      std::string_view xdg_config_home, std::string_view home);
// ChooseSessionPath with the process's environment.
Result<std::string> SessionPath(std::string_view flag);

// The file's JSON text (ends in a newline); ParseSession reads it back.
std::string SessionToJson(const OperatorSession& session);
// kInvalidArgument naming the field that is missing or wrong.
Result<OperatorSession> ParseSession(std::string_view json);
// kNotFound when there is no file; other errors start with the path.
Result<OperatorSession> LoadSession(const std::string& path);
// Creates the directory (0700) when missing and writes the file with mode 0600.
Status SaveSession(const std::string& path, const OperatorSession& session);

// What the central answered, whatever the status.
struct ApiReply {
  unsigned status = 0;
  std::string body;
};

// The Error an unsuccessful reply stands for. The API's {"error":{"code","message"}}
// keeps its code (by name; by HTTP status when the name is unknown) and message;
// any other body becomes kUnavailable (5xx) or kInternal, with the status and the
// start of the body.
Error ApiErrorOf(const ApiReply& reply);

// The exit code for an error: 2 for input the user can correct (kInvalidArgument),
// 1 for everything else (refusals, conflicts, an unreachable central).
int ExitCodeFor(const Error& error);

// `text` percent-encoded for a path segment or a query value (RFC 3986 unreserved
// characters stay as they are).
std::string PercentEncode(std::string_view text);

// A client for one central, verifying its TLS certificate against the given CA and
// requiring it to name the URL's host.
class CentralClient {
 public:
  // `central_url` as in an anchor ("https://host:port[/base]"); `ca_pem` the CA.
  // kInvalidArgument for a URL that is not https or a PEM that is not a certificate.
  static Result<std::unique_ptr<CentralClient>> Create(std::string_view central_url,
                                                       std::string_view ca_pem,
                                                       size_t max_response_bytes = 16 * 1024 *
                                                                                   1024);
  ~CentralClient();
  CentralClient(const CentralClient&) = delete;
  CentralClient& operator=(const CentralClient&) = delete;

  // Sends `method` ("GET", "POST") to the central URL's base + `target` ("/api/v1/…",
  // query included), with `body` as JSON when given and `token` as the bearer token
  // when not empty. Any reply is returned; errors only when none came
  // (kUnavailable with where and why, kDeadlineExceeded, kResourceExhausted).
  Result<ApiReply> Send(std::string_view method, std::string_view target,
                        const std::optional<nlohmann::json>& body, std::string_view token);

  // Send, then a 2xx reply's body as JSON, or ApiErrorOf the reply.
  Result<nlohmann::json> Call(std::string_view method, std::string_view target,
                              const std::optional<nlohmann::json>& body, std::string_view token);

  const std::string& url() const { return url_; }

 private:
  CentralClient(std::string url, std::string base_path, std::unique_ptr<http::Endpoint> endpoint,
                std::unique_ptr<http::BlockingClient> client);

  std::string url_;
  std::string base_path_;  // "" or "/base"
  std::unique_ptr<http::Endpoint> endpoint_;
  std::unique_ptr<http::BlockingClient> client_;
  std::chrono::milliseconds timeout_{60'000};
};

}  // namespace troad::cli
