#include "cli/operator_client.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/x509.h"
#include "globalconf/anchor.h"
#include "http/client.h"
#include "http/tls.h"

namespace troad::cli {

Result<std::string> ChooseSessionPath(std::string_view flag, std::string_view env_session,
                                      std::string_view xdg_config_home, std::string_view home) {
  if (!flag.empty()) return std::string(flag);
  if (!env_session.empty()) return std::string(env_session);
  if (!xdg_config_home.empty()) return std::string(xdg_config_home) + "/troad/session.json";
  if (!home.empty()) return std::string(home) + "/.config/troad/session.json";
  return Fail(ErrorCode::kFailedPrecondition,
              "no place for the session file: give --session FILE or set TROAD_SESSION "
              "(neither XDG_CONFIG_HOME nor HOME is set)");
}

Result<std::string> SessionPath(std::string_view flag) {
  auto env = [](const char* name) -> std::string_view {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string_view() : std::string_view(v);
  };
  return ChooseSessionPath(flag, env("TROAD_SESSION"), env("XDG_CONFIG_HOME"), env("HOME"));
}

std::string SessionToJson(const OperatorSession& s) {
  nlohmann::ordered_json j = {{"format", kSessionFormat},
                              {"central_url", s.central_url},
                              {"ca_certificate", s.ca_certificate},
                              {"token", s.token},
                              {"username", s.username},
                              {"role", s.role},
                              {"member", s.member},
                              {"expires_at", FormatRfc3339(s.expires_at)}};
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<OperatorSession> ParseSession(std::string_view text) {
  if (text.size() > kMaxSessionFileBytes) {
    return Fail(ErrorCode::kInvalidArgument, "session: larger than {} bytes", kMaxSessionFileBytes);
  }
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(text, "session"));
  if (!doc.is_object()) return Fail(ErrorCode::kInvalidArgument, "session: expected an object");
  JsonErrors errors;
  JsonView root(&doc, "", &errors);
  OperatorSession s;
  const std::string format = root.String("format");
  if (!format.empty() && format != kSessionFormat) {
    root.Error("format", fmt::format("\"{}\" is not \"{}\"", EscapeForLog(format), kSessionFormat));
  }
  s.central_url = root.String("central_url");
  s.ca_certificate = root.String("ca_certificate");
  s.token = root.String("token", true, 4096);
  s.username = root.String("username", true, 200);
  s.role = root.String("role", true, 40);
  s.member = root.String("member", false, 512);
  const std::string expires = root.String("expires_at");
  TROAD_RETURN_IF_ERROR(errors.ToStatus("session"));
  auto url = globalconf::NormalizeCentralUrl(s.central_url);
  if (!url) return Fail(std::move(url).error().Context("session: central_url"));
  s.central_url = *url;
  auto t = ParseRfc3339(expires);
  if (!t) return Fail(std::move(t).error().Context("session: expires_at"));
  s.expires_at = *t;
  return s;
}

Result<OperatorSession> LoadSession(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto s = ParseSession(text);
  if (!s) return Fail(std::move(s).error().Context(path));
  return s;
}

Status SaveSession(const std::string& path, const OperatorSession& session) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) {
      // Only the new directory is narrowed: an existing one is the user's choice.
      ::chmod(dir.c_str(), 0700);
    }
    if (ec) {
      return Fail(ErrorCode::kIo, "cannot create the directory {}: {}", dir.string(), ec.message());
    }
  }
  return WriteFileAtomically(path, SessionToJson(session), 0600);
}

int ExitCodeFor(const Error& error) { return error.code() == ErrorCode::kInvalidArgument ? 2 : 1; }

}  // namespace troad::cli
