// Test-only: a stand-in for the central's global configuration publisher
// (docs/protocol.md §10) — an https server on 127.0.0.1 that serves whatever document
// and signatures a test publishes, answers If-None-Match with 304, and records each
// request. Used by the fetcher's unit tests and the gateway integration tests. Not
// part of any library.
// Thread-safety: Publish and the accessors may be called from any thread; the server
// runs on the given IoThread.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crypto/ca.h"
#include "globalconf/fetcher.h"
#include "http/server.h"
#include "http/test_util.h"
#include "http/tls.h"

namespace troad::globalconf::testing {

// A TLS server certificate for `ips` and `dns` names, issued by `ca` and valid now by
// the real clock (OpenSSL checks TLS certificates against it).
inline crypto::Certificate IssueServerCertificate(const crypto::Certificate& ca,
                                                  const crypto::PrivateKey& ca_key,
                                                  const crypto::PrivateKey& server_key,
                                                  std::vector<std::string> ips,
                                                  std::vector<std::string> dns = {}) {
  crypto::CertificateRequest req;
  req.common_name = "central";
  req.ip_addresses = std::move(ips);
  req.dns_names = std::move(dns);
  auto cert = crypto::IssueCertificate(ca, ca_key, server_key.Public(), req, SystemClock::Get());
  EXPECT_TRUE(cert) << cert.error().ToString();
  return *cert;
}

class TestPublisher {
 public:
  TestPublisher(http::testing::IoThread& io, const crypto::Certificate& server_cert,
                const crypto::PrivateKey& server_key, std::string base_path = "")
      : base_path_(std::move(base_path)) {
    http::TlsOptions tls;
    tls.certificate_chain = {server_cert};
    tls.private_key = server_key;
    tls.tls13_only = false;
    auto context = http::MakeServerTlsContext(tls);
    EXPECT_TRUE(context) << context.error().ToString();
    auto server = http::Server::Create(
        io.io(), http::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0), *context,
        [this](http::Request& req, const http::ConnectionInfo&)
            -> boost::asio::awaitable<http::Response> { co_return Serve(req); },
        http::ServerOptions{});
    EXPECT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    server_->Start();
  }
  ~TestPublisher() { server_->Stop(std::chrono::milliseconds(100)); }
  TestPublisher(const TestPublisher&) = delete;
  TestPublisher& operator=(const TestPublisher&) = delete;

  uint16_t port() const { return server_->local_endpoint().port(); }
  // The central_url of an anchor for this publisher.
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port()) + base_path_; }

  // Serves `document` from now on, and `signature` for it unless empty (then 404).
  void Publish(std::string document, std::string signature) {
    std::lock_guard lock(mu_);
    const std::string hash = DocumentHash(document);
    document_ = std::move(document);
    if (!signature.empty()) signatures_[hash] = std::move(signature);
  }
  // Answers every request with `status` (0: serve normally again).
  void FailWith(unsigned status) {
    std::lock_guard lock(mu_);
    fail_status_ = status;
  }
  void IgnoreIfNoneMatch() {
    std::lock_guard lock(mu_);
    ignore_if_none_match_ = true;
  }

  struct Seen {
    std::string target;
    std::string if_none_match;
  };
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  void ClearSeen() {
    std::lock_guard lock(mu_);
    seen_.clear();
  }

 private:
  http::Response Serve(const http::Request& req) {
    namespace bhttp = boost::beast::http;
    std::lock_guard lock(mu_);
    auto inm = req.find(bhttp::field::if_none_match);
    seen_.push_back({std::string(req.target()), inm == req.end() ? "" : std::string(inm->value())});
    if (fail_status_ != 0) {
      return http::MakeResponse(fail_status_, "central is unwell\n", "text/plain");
    }
    const std::string target(req.target());
    if (target == base_path_ + std::string(kDocumentPath)) {
      const std::string etag = "\"" + DocumentHash(document_) + "\"";
      if (!ignore_if_none_match_ && inm != req.end() && inm->value() == etag) {
        http::Response res{bhttp::status::not_modified, 11};
        res.set(bhttp::field::etag, etag);
        return res;
      }
      http::Response res = http::MakeResponse(200, document_, "application/json");
      res.set(bhttp::field::etag, etag);
      return res;
    }
    const std::string prefix = base_path_ + std::string(kSignaturesPath);
    if (target.rfind(prefix, 0) == 0) {
      auto it = signatures_.find(target.substr(prefix.size()));
      if (it != signatures_.end()) return http::MakeResponse(200, it->second, "application/json");
    }
    return http::MakeResponse(404, "not found\n", "text/plain");
  }

  const std::string base_path_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::string document_;                           // guarded by mu_
  std::map<std::string, std::string> signatures_;  // by document hash; guarded by mu_
  unsigned fail_status_ = 0;                       // guarded by mu_
  bool ignore_if_none_match_ = false;              // guarded by mu_
  std::vector<Seen> seen_;                         // guarded by mu_
};

}  // namespace troad::globalconf::testing
