// HTTP/1.1 server on Beast with C++20 coroutines: plain or TLS, one coroutine per
// connection, keep-alive, a deadline on every read, header and body limits, and a
// graceful stop. The handler is a coroutine that turns a request into a response;
// it never sees a malformed or oversized request — the server answers those itself
// through ServerOptions::error_response.
//
// Thread-safety: Start and Stop may be called from any thread. Every io_context a
// server is given must be run by exactly one thread (http/io_pool.h): a connection's
// handlers then never run concurrently, without strands. The handler runs on those
// threads, concurrently for connections on different contexts.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "core/result.h"
#include "http/io_pool.h"
#include "http/tls.h"
#include "http/types.h"

namespace troad::http {

using Handler = std::function<asio::awaitable<Response>(Request&, const ConnectionInfo&)>;

struct ServerOptions {
  size_t header_limit = 64 * 1024;
  size_t body_limit = 10 * 1024 * 1024;
  // Whole request (headers and body) must arrive within this after its first byte.
  std::chrono::milliseconds read_timeout{30'000};
  // An idle keep-alive connection is closed after this.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 10'000;
  // Builds the response for a request the server refuses before the handler:
  // (status, reason) — 400 malformed, 413 body too large, 431 headers too large,
  // 408 read timeout. The default is a text/plain body with the reason.
  std::function<Response(unsigned status, std::string reason)> error_response;
  // When set, replaces error_response: a coroutine that may record the refusal
  // durably before answering. `header` is the request as far as it was read (its
  // fields may be partial when the header itself was malformed), never null.
  std::function<asio::awaitable<Response>(unsigned status, std::string reason,
                                          const ConnectionInfo& connection, const Request& header)>
      on_refused;
  // The value of the Server header; empty for none.
  std::string server_name;
};

// A listen address from configuration, "127.0.0.1:4700" or "[::1]:4700", as an endpoint.
// kInvalidArgument naming the text when the host is not an IP address (listeners bind
// addresses, not names).
Result<tcp::endpoint> ListenEndpoint(std::string_view text);

// Calls `tick` on `timer`'s executor every `period`, until the timer is cancelled or its
// io_context stops (periodic maintenance: the idp's and MyData's signing-key checks).
void RepeatEvery(asio::steady_timer& timer, std::chrono::steady_clock::duration period,
                 std::function<void()> tick);

class Server {
 public:
  // Binds and listens on `endpoint` (port 0 picks a free port; read it back with
  // local_endpoint()). `tls` null means plain HTTP.
  static Result<std::unique_ptr<Server>> Create(asio::io_context& io, const tcp::endpoint& endpoint,
                                                std::shared_ptr<SslContext> tls, Handler handler,
                                                ServerOptions options);
  // Connections go to the pool's contexts in turn; the listener is on the first.
  static Result<std::unique_ptr<Server>> Create(IoPool& pool, const tcp::endpoint& endpoint,
                                                std::shared_ptr<SslContext> tls, Handler handler,
                                                ServerOptions options);
  ~Server();

  tcp::endpoint local_endpoint() const;
  void Start();
  // Stops accepting, lets requests in progress finish (up to `grace`), then closes
  // every connection (TLS close_notify where possible).
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  size_t active_connections() const;
  // Replaces the TLS context (certificate, key, trust) for connections accepted from
  // now on — a renewed certificate is taken up without a restart; connections already
  // open keep theirs. kFailedPrecondition for a plain-HTTP server. Thread-safe.
  Status SetTlsContext(std::shared_ptr<SslContext> tls);

  struct Impl;

 private:
  static Result<std::unique_ptr<Server>> Create(std::vector<asio::io_context*> contexts,
                                                const tcp::endpoint& endpoint,
                                                std::shared_ptr<SslContext> tls, Handler handler,
                                                ServerOptions options);
  explicit Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace troad::http
