// A blocking HTTPS client of the central (docs/central.md): what the operator CLI, and a
// gateway enrolling or renewing its certificates, call the central with. The central's
// TLS certificate must chain to the given CA and name the URL's host; the API's error
// bodies ({"error":{"code","message"}}) are turned back into Errors.
//
// Thread-safety: a CentralClient belongs to one thread at a time (http::BlockingClient);
// ApiErrorOf is pure.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad::http {
class BlockingClient;
struct Endpoint;
}  // namespace troad::http

namespace troad::globalconf {

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

}  // namespace troad::globalconf
