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
namespace {

namespace bhttp = http::bhttp;

// The first `max` bytes of a body that is not the API's JSON, safe to print.
std::string BodyStart(std::string_view body, size_t max = 200) {
  return body.empty() ? std::string("(empty body)") : EscapeForLog(body, max);
}

std::optional<ErrorCode> CodeNamed(std::string_view name) {
  for (int c = static_cast<int>(ErrorCode::kInvalidArgument);
       c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    if (ErrorCodeName(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  }
  return std::nullopt;
}

// The code for an HTTP status the API gave without a known code name
// (api.cpp's ApiStatusFor, inverted where it is one to one).
ErrorCode CodeForStatus(unsigned status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kFailedPrecondition;
    case 413:
    case 429:
      return ErrorCode::kResourceExhausted;
    case 502:
    case 503:
      return ErrorCode::kUnavailable;
    case 504:
      return ErrorCode::kDeadlineExceeded;
    default:
      return status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}

}  // namespace

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

Error ApiErrorOf(const ApiReply& reply) {
  auto doc = nlohmann::json::parse(reply.body, nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const nlohmann::json& e = doc["error"];
    const std::string name = e.value("code", "");
    std::string message = e.contains("message") && e["message"].is_string()
                              ? e["message"].get<std::string>()
                              : std::string();
    if (message.empty()) message = fmt::format("HTTP {}", reply.status);
    return Error(CodeNamed(name).value_or(CodeForStatus(reply.status)),
                 EscapeForLog(message, 2000));
  }
  return Error(
      reply.status >= 500 ? CodeForStatus(reply.status) : ErrorCode::kInternal,
      fmt::format("the central answered HTTP {} with {}", reply.status, BodyStart(reply.body)));
}

int ExitCodeFor(const Error& error) { return error.code() == ErrorCode::kInvalidArgument ? 2 : 1; }

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

CentralClient::CentralClient(std::string url, std::string base_path,
                             std::unique_ptr<http::Endpoint> endpoint,
                             std::unique_ptr<http::BlockingClient> client)
    : url_(std::move(url)),
      base_path_(std::move(base_path)),
      endpoint_(std::move(endpoint)),
      client_(std::move(client)) {}

CentralClient::~CentralClient() = default;

Result<std::unique_ptr<CentralClient>> CentralClient::Create(std::string_view central_url,
                                                             std::string_view ca_pem,
                                                             size_t max_response_bytes) {
  auto normalized = globalconf::NormalizeCentralUrl(central_url);
  if (!normalized) return Fail(std::move(normalized).error().Context("central URL"));
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl url, http::ParseUrl(*normalized));
  auto ca = crypto::Certificate::FromPem(ca_pem);
  if (!ca) return Fail(std::move(ca).error().Context("the central's CA certificate"));
  TROAD_ASSIGN_OR_RETURN(auto context, http::MakeClientTlsContextForHost(*ca, url.endpoint.host));
  http::ClientOptions options;
  options.tls = std::move(context);
  options.connect_timeout = std::chrono::seconds(10);
  options.body_limit = max_response_bytes;
  options.max_idle_per_endpoint = 1;
  return std::unique_ptr<CentralClient>(
      new CentralClient(*normalized, url.path == "/" ? std::string() : url.path,
                        std::make_unique<http::Endpoint>(url.endpoint),
                        std::make_unique<http::BlockingClient>(std::move(options))));
}

Result<ApiReply> CentralClient::Send(std::string_view method, std::string_view target,
                                     const std::optional<nlohmann::json>& body,
                                     std::string_view token) {
  const bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    return Fail(ErrorCode::kInternal, "unknown HTTP method {}", method);
  }
  http::Request req{verb, base_path_ + std::string(target), 11};
  req.set(bhttp::field::user_agent, "troad-cli");
  req.set(bhttp::field::accept, "application/json");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + std::string(token));
  if (body) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  }
  req.prepare_payload();
  auto res = client_->Send(*endpoint_, std::move(req), timeout_);
  if (!res) return Fail(std::move(res).error().Context(fmt::format("calling {}", url_)));
  return ApiReply{res->response.result_int(), std::move(res->response.body())};
}

Result<nlohmann::json> CentralClient::Call(std::string_view method, std::string_view target,
                                           const std::optional<nlohmann::json>& body,
                                           std::string_view token) {
  TROAD_ASSIGN_OR_RETURN(ApiReply reply, Send(method, target, body, token));
  if (reply.status < 200 || reply.status >= 300) return Fail(ApiErrorOf(reply));
  auto doc = ParseJson(reply.body, "the central's answer");
  if (!doc) return Fail(doc.error());
  return std::move(*doc);
}

}  // namespace troad::cli
