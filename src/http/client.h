// HTTP/1.1 client on Beast with C++20 coroutines and a keep-alive connection pool
// per endpoint, plain or TLS. A request on a pooled connection that the peer had
// already closed (write fails, or EOF before any response byte) is retried once on
// a fresh connection; nothing else is retried.
//
// Thread-safety: Send may be called concurrently from coroutines on any io_context,
// each run by one thread (http/io_pool.h); a connection is opened on, and reused only
// from, the calling coroutine's io_context. The pool is guarded by a mutex.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/tls.h"
#include "http/types.h"

namespace troad::http {

struct Endpoint {
  std::string host;  // an IP address or a host name
  uint16_t port = 0;
  bool tls = false;
  // With tls: the lower-case hex SHA-256 of the certificate the server must present
  // (after its chain verified). Empty: any certificate that verifies.
  // Several are separated by ',' (a peer renewing its certificate may present either).
  std::string expected_peer_sha256;

  std::string Key() const;  // pool key
};

// Parses "http://host:port/base" or "https://...". Path returned separately.
struct ParsedUrl {
  Endpoint endpoint;
  std::string path;  // "/" when absent; never includes query
};
Result<ParsedUrl> ParseUrl(std::string_view url);

// Whether `sha256` (hex) is one of the ','-separated `pins` (case-insensitive).
bool PinMatches(std::string_view pins, std::string_view sha256);

struct ClientOptions {
  std::shared_ptr<SslContext> tls;  // required for tls endpoints
  std::chrono::milliseconds connect_timeout{5'000};
  size_t max_idle_per_endpoint = 256;
  std::chrono::milliseconds idle_timeout{30'000};  // pooled connections older than this are dropped
  size_t header_limit = 64 * 1024;
  size_t body_limit = 10 * 1024 * 1024;
};

struct ClientResponse {
  Response response;
  std::optional<crypto::Certificate> peer_certificate;  // TLS only
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();

  // Sends `request` (Host and Content-Length are set here) and reads the response,
  // all within `timeout`. Errors: kUnavailable (connect/TLS/IO failure — the message
  // says which and to where), kDeadlineExceeded, kUnauthenticated (peer certificate
  // is not the expected one), kResourceExhausted (response over the body limit),
  // kInvalidArgument (malformed response).
  asio::awaitable<Result<ClientResponse>> Send(const Endpoint& endpoint, Request request,
                                               std::chrono::milliseconds timeout);

  // Closes all idle connections.
  void Shutdown();

  // Replaces the TLS context (our certificate and key, trust) for connections made from
  // now on — a renewed certificate is taken up without a restart. Idle connections and
  // cached TLS sessions of the old context are dropped (a resumed session would carry
  // the old identity); requests in progress finish on theirs. Thread-safe.
  Status SetTlsContext(std::shared_ptr<SslContext> tls);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// A Client for a caller without an event loop (command-line tools): Send runs the
// request on the object's own io_context in the calling thread and returns when it is
// done. Kept connections are reused by later calls on the same object.
// Thread-safety: one thread at a time.
class BlockingClient {
 public:
  explicit BlockingClient(ClientOptions options);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  Result<ClientResponse> Send(const Endpoint& endpoint, Request request,
                              std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<asio::io_context> io_;  // declared first: destroyed after client_
  std::unique_ptr<Client> client_;
};

}  // namespace troad::http
