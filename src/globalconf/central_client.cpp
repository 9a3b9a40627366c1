// A blocking HTTPS client of the central: see central_client.h.
#include "globalconf/central_client.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/x509.h"
#include "globalconf/anchor.h"
#include "http/client.h"
#include "http/tls.h"

namespace troad::globalconf {
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
  auto normalized = NormalizeCentralUrl(central_url);
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
  req.set(bhttp::field::user_agent, "troad");
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

}  // namespace troad::globalconf
