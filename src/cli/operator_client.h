// The operator CLI's side of the central's management API (docs/central.md, "The
// operator CLI"): the session file `troad login` writes and every other operator
// command reads; the calls themselves go through globalconf::CentralClient.
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
#include "globalconf/central_client.h"

namespace troad::cli {

// The HTTPS client and error mapping live with the other clients of the central
// (globalconf/central_client.h); the operator commands use them under these names.
using globalconf::ApiErrorOf;
using globalconf::ApiReply;
using globalconf::CentralClient;

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

// The exit code for an error: 2 for input the user can correct (kInvalidArgument),
// 1 for everything else (refusals, conflicts, an unreachable central).
int ExitCodeFor(const Error& error);

}  // namespace troad::cli
