#include "identity/sms.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "http/client.h"
#include "http/tls.h"

namespace troad::identity {
namespace {

class FileSmsSender final : public SmsSender {
 public:
  FileSmsSender(std::string path, const Clock& clock) : path_(std::move(path)), clock_(clock) {}

  Status Send(std::string_view to, std::string_view text) override {
    std::string line = nlohmann::json{{"at", FormatRfc3339(clock_.Now())},
                                      {"to", std::string(to)},
                                      {"text", RepairUtf8(text)}}
                           .dump() +
                       "\n";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(ErrorCode::kUnavailable, "SMS file {}: {}", path_, std::strerror(errno));
    }
    ssize_t n = ::write(fd, line.data(), line.size());
    int write_errno = errno;
    bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size()) || !synced) {
      return Fail(ErrorCode::kUnavailable, "SMS file {}: {}", path_,
                  n < 0 ? std::strerror(write_errno) : "short write or fsync failed");
    }
    return Ok();
  }

 private:
  std::string path_;
  const Clock& clock_;
};

// An SMS gateway is a commercial service with a certificate from the public web PKI:
// verified against the system's trust store (Debian's ca-certificates) and its name.
std::shared_ptr<http::SslContext> PublicTlsContext(const std::string& host) {
  auto ctx = std::make_shared<http::SslContext>(http::SslContext::tls_client);
  ctx->set_options(http::SslContext::no_sslv2 | http::SslContext::no_sslv3 |
                   http::SslContext::no_tlsv1 | http::SslContext::no_tlsv1_1);
  ctx->set_default_verify_paths();
  ctx->set_verify_mode(boost::asio::ssl::verify_peer);
  ctx->set_verify_callback(boost::asio::ssl::host_name_verification(host));
  return ctx;
}

class HttpSmsSender final : public SmsSender {
 public:
  HttpSmsSender(http::ParsedUrl url, SmsOptions options)
      : url_(std::move(url)), options_(std::move(options)), client_(ClientOptionsFor(url_)) {}

  Status Send(std::string_view to, std::string_view text) override {
    http::Request req(http::bhttp::verb::post, url_.path, 11);
    req.set(http::bhttp::field::content_type, "application/json");
    if (!options_.bearer_token.empty()) {
      req.set(http::bhttp::field::authorization, "Bearer " + options_.bearer_token);
    }
    req.body() =
        nlohmann::json{
            {"to", std::string(to)}, {"text", RepairUtf8(text)}, {"sender", options_.sender_id}}
            .dump();
    auto res = client_.Send(url_.endpoint, std::move(req), options_.timeout);
    if (!res) {
      return Fail(ErrorCode::kUnavailable, "SMS gateway: {}", res.error().message());
    }
    unsigned status = res->response.result_int();
    if (status < 200 || status > 299) {
      return Fail(ErrorCode::kUnavailable, "SMS gateway answered HTTP {}: {}", status,
                  EscapeForLog(res->response.body(), 200));
    }
    return Ok();
  }

 private:
  static http::ClientOptions ClientOptionsFor(const http::ParsedUrl& url) {
    http::ClientOptions o;
    if (url.endpoint.tls) o.tls = PublicTlsContext(url.endpoint.host);
    o.body_limit = 64 * 1024;
    return o;
  }

  http::ParsedUrl url_;
  SmsOptions options_;
  http::BlockingClient client_;
};

}  // namespace

Result<std::unique_ptr<SmsSender>> MakeSmsSender(const SmsOptions& options, const Clock& clock) {
  if (options.target.starts_with("file:")) {
    std::string path = options.target.substr(5);
    if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "sms target file: has no path");
    return std::unique_ptr<SmsSender>(new FileSmsSender(std::move(path), clock));
  }
  if (options.target.starts_with("http://") || options.target.starts_with("https://")) {
    TROAD_ASSIGN_OR_RETURN(auto url, http::ParseUrl(options.target));
    return std::unique_ptr<SmsSender>(new HttpSmsSender(std::move(url), options));
  }
  return Fail(ErrorCode::kInvalidArgument,
              "sms target must be file:/path or an http:// or https:// URL, not \"{}\"",
              EscapeForLog(options.target, 100));
}

}  // namespace troad::identity
