// HTTP server: see server.h.
//
// Each connection is a Session running as one coroutine on one of the server's
// io_contexts (in turn), each run by exactly one thread (http/io_pool.h): no strands. The
// server keeps a registry of sessions so that Stop can reach them: an idle session
// (waiting for the first byte of its next request) is cancelled at once, a busy one
// finishes its request and then closes, and after the grace period every session is
// cancelled regardless. Deadlines use beast::tcp_stream's expiry, which closes the
// socket when it elapses: one timer per connection, re-armed per operation.
#include "http/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/net.h"

namespace troad::http {

Result<tcp::endpoint> ListenEndpoint(std::string_view text) {
  TROAD_ASSIGN_OR_RETURN(auto hp, SplitHostPort(text));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp.first, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument, "listen: \"{}\" is not an IP address", hp.first);
  }
  return tcp::endpoint(address, hp.second);
}

void RepeatEvery(asio::steady_timer& timer, std::chrono::steady_clock::duration period,
                 std::function<void()> tick) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, tick = std::move(tick)](boost::system::error_code ec) mutable {
    if (ec) return;
    tick();
    RepeatEvery(timer, period, std::move(tick));
  });
}
namespace {

using ErrorCodeT = boost::system::error_code;
using SslStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// How long a closing TLS connection waits for the peer's close_notify.
constexpr std::chrono::milliseconds kTlsShutdownTimeout{500};
// After refusing a request the server keeps reading (and discarding) for a while, so
// that unread request bytes do not make the kernel answer with a reset that destroys
// the refusal before the client reads it (nginx's lingering close).
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr size_t kLingerLimit = 1024 * 1024;
// The first read of a request: enough for a typical request head and a TLS record.
constexpr size_t kReadChunk = 16 * 1024;
// A failing accept (e.g. out of descriptors) is retried after this instead of spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

std::string EndpointText(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

const boost::system::error_category& BeastHttpCategory() {
  static const boost::system::error_category& category =
      bhttp::make_error_code(bhttp::error::bad_method).category();
  return category;
}

// The status to refuse a request with after a failed read, or 0 when the connection
// should just be closed (the peer went away, timed out, or the server is stopping).
unsigned StatusForReadError(const ErrorCodeT& ec, std::string& reason) {
  if (ec == bhttp::error::body_limit) {
    reason = "request body too large";
    return 413;
  }
  if (ec == bhttp::error::header_limit) {
    reason = "request header fields too large";
    return 431;
  }
  if (&ec.category() != &BeastHttpCategory()) return 0;
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::end_of_stream:
    case bhttp::error::partial_message:
    case bhttp::error::need_more:
    case bhttp::error::need_buffer:
    case bhttp::error::short_read:
    case bhttp::error::stale_parser:
      return 0;
    default:
      reason = fmt::format("malformed request: {}", ec.message());
      return 400;
  }
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool ExpectsContinue(const Request& request) {
  if (request.version() < 11) return false;
  auto it = request.find(bhttp::field::expect);
  return it != request.end() && beast::iequals(it->value(), "100-continue");
}

Response DefaultErrorResponse(unsigned status, std::string reason) {
  reason += '\n';
  return MakeResponse(status, std::move(reason), "text/plain; charset=utf-8", 11, false);
}

// One accepted connection as the server's registry sees it.
class ConnectionBase : public std::enable_shared_from_this<ConnectionBase> {
 public:
  explicit ConnectionBase(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  virtual ~ConnectionBase() = default;
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  // Runs the session to its end on executor(); the registry entry is removed then.
  virtual void Start(std::shared_ptr<Server::Impl> impl) = 0;
  // Must run on executor(). The server is stopping: an idle connection closes now;
  // with `force` (grace over) every connection does.
  virtual void OnStop(bool force) = 0;

  const asio::any_io_executor& executor() const { return executor_; }

 private:
  asio::any_io_executor executor_;  // its io_context's (one thread runs it)
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(std::vector<asio::io_context*> io_contexts, std::shared_ptr<SslContext> tls_context,
       Handler h, ServerOptions server_options)
      : contexts(std::move(io_contexts)),
        acceptor(*contexts.front()),
        tls(std::move(tls_context)),
        handler(std::move(h)),
        options(std::move(server_options)) {
    if (!options.error_response) options.error_response = DefaultErrorResponse;
    options.header_limit =
        std::min<size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max());
  }

  asio::awaitable<void> Listen();
  void StartSession(tcp::socket socket);
  void Unregister(ConnectionBase* connection);
  void NotifyConnections(bool force);

  // Sets the headers every response gets: Server, Content-Length, Connection.
  void Finish(Response& response, unsigned request_version, bool keep_alive) const {
    if (!options.server_name.empty() && response.find(bhttp::field::server) == response.end()) {
      response.set(bhttp::field::server, options.server_name);
    }
    // An HTTP/1.0 client would not understand a 1.1 response's keep-alive default.
    if (request_version < 11) response.version(request_version);
    response.keep_alive(keep_alive);
    if (!response.chunked() && !response.has_content_length()) response.prepare_payload();
  }

  // Where connections run, in turn; each is run by one thread. The acceptor is on
  // the first.
  asio::io_context& NextContext() {
    return *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
  }
  bool AllStopped() const {
    return std::all_of(contexts.begin(), contexts.end(), [](auto* io) { return io->stopped(); });
  }
  bool RunningInThisThread() const {
    return std::any_of(contexts.begin(), contexts.end(),
                       [](auto* io) { return io->get_executor().running_in_this_thread(); });
  }

  const std::vector<asio::io_context*> contexts;
  std::atomic<size_t> next_context{0};
  tcp::acceptor acceptor;  // used only on the first context once Start has run
  tcp::endpoint local;
  std::shared_ptr<SslContext> tls;  // null: plain HTTP; replaced under mu (SetTlsContext)
  // Contexts replaced by SetTlsContext, kept until the server goes: sessions made with
  // them hold references into them.
  std::vector<std::shared_ptr<SslContext>> retired_tls;  // guarded by mu
  const Handler handler;
  ServerOptions options;  // const after construction
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;
  std::condition_variable cv;  // signalled when a connection ends or the acceptor closes
  std::unordered_map<ConnectionBase*, std::shared_ptr<ConnectionBase>>
      connections;               // GUARDED_BY(mu)
  bool acceptor_closed = false;  // GUARDED_BY(mu)
};

namespace {

template <class Stream>
class Session final : public ConnectionBase {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, SslStream>;

  Session(Stream stream, ConnectionInfo info)
      : ConnectionBase(stream.get_executor()), stream_(std::move(stream)), info_(std::move(info)) {}

  void Start(std::shared_ptr<Server::Impl> impl) override {
    auto self = std::static_pointer_cast<Session>(shared_from_this());
    asio::co_spawn(executor(), Run(self, impl), [self, impl](std::exception_ptr error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::debug("http connection from {} ended by an exception: {}",
                        EndpointText(self->info_.remote), e.what());
        } catch (...) {
          spdlog::debug("http connection from {} ended by an unknown exception",
                        EndpointText(self->info_.remote));
        }
      }
      impl->Unregister(self.get());
    });
  }

  void OnStop(bool force) override {
    if (force) forced_ = true;
    if (force && in_handler_) {
      // Nothing waits on the socket, so there is nothing to cancel; closing it
      // keeps the client from waiting on a handler that outlasts the grace period.
      ErrorCodeT ignored;
      Lowest().socket().close(ignored);
    } else if (force || idle_) {
      // Wakes the coroutine waiting on the socket; it sees `stopping` and says
      // goodbye. A busy session is left to finish its request.
      Lowest().cancel();
    }
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  static asio::awaitable<void> Run(std::shared_ptr<Session> self,
                                   std::shared_ptr<Server::Impl> impl) {
    // Accepted just as the server began to stop: not worth a TLS handshake.
    if (impl->stopping.load()) {
      co_await self->Close(/*graceful=*/false);
      co_return;
    }
    bool graceful = co_await self->Handshake(*impl);
    if (graceful) graceful = co_await self->Serve(*impl);
    co_await self->Close(graceful);
  }

  asio::awaitable<bool> Handshake(const Server::Impl& impl) {
    if constexpr (kTls) {
      Lowest().expires_after(impl.options.read_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kUseTuple);
      if (ec) {
        spdlog::debug("TLS handshake with {} failed: {}", EndpointText(info_.remote), ec.message());
        co_return false;
      }
      SSL* ssl = stream_.native_handle();
      // With SSL_VERIFY_PEER a certificate that does not verify fails the handshake;
      // the check guards against a context that asked for none.
      if (SSL_get_verify_result(ssl) == X509_V_OK) {
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
          info_.peer_certificate = crypto::Certificate::FromNative(peer);
          X509_free(peer);
        }
      }
    } else {
      (void)impl;
    }
    co_return true;
  }

  // Serves requests until the connection should close. True when it may close
  // gracefully (TLS close_notify), false when the peer is gone or misbehaved.
  asio::awaitable<bool> Serve(Server::Impl& impl) {
    const ServerOptions& options = impl.options;
    bool first = true;
    for (;;) {
      if (buffer_.size() == 0) {
        // Waiting for the first byte of a request is idle time; the read deadline
        // starts with that byte.
        if (impl.stopping.load()) co_return true;
        Lowest().expires_after(first ? options.read_timeout : options.idle_timeout);
        idle_ = true;
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kUseTuple);
        idle_ = false;
        if (ec) co_return ec == asio::error::operation_aborted;
        buffer_.commit(n);
      }
      first = false;

      const auto read_deadline = std::chrono::steady_clock::now() + options.read_timeout;
      Lowest().expires_at(read_deadline);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, parser, kUseTuple);
      if (!ec && !parser.is_done()) {
        if (ExpectsContinue(parser.get())) {
          // Clients such as curl otherwise wait a second before sending a large body.
          Lowest().expires_after(options.write_timeout);
          auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(kContinue), kUseTuple);
          if (wec) co_return false;
          Lowest().expires_at(read_deadline);
        }
        std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer_, parser, kUseTuple);
      }
      if (ec) {
        std::string reason;
        const unsigned status = StatusForReadError(ec, reason);
        if (status == 0 || forced_) co_return false;
        spdlog::debug("refusing a request from {} with {}: {}", EndpointText(info_.remote), status,
                      ec.message());
        co_return co_await Refuse(impl, status, std::move(reason), &parser.get());
      }

      Request& request = parser.get();
      const bool request_keep_alive = request.keep_alive();
      const unsigned version = request.version();
      Response response;
      in_handler_ = true;
      try {
        response = co_await impl.handler(request, info_);
      } catch (const std::exception& e) {
        spdlog::debug("http handler failed for {} {} from {}: {}", request.method_string(),
                      request.target(), EndpointText(info_.remote), e.what());
        response = options.error_response(500, "internal server error");
        response.keep_alive(false);
      }
      in_handler_ = false;
      if (forced_) co_return false;  // the grace period ended while the handler ran

      const bool keep_alive = request_keep_alive && response.keep_alive() && !impl.stopping.load();
      impl.Finish(response, version, keep_alive);
      Lowest().expires_after(options.write_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream_, response, kUseTuple);
      if (wec) co_return false;
      if (!keep_alive) co_return true;
    }
  }

  // Answers a request the handler must not see, then closes the connection.
  asio::awaitable<bool> Refuse(Server::Impl& impl, unsigned status, std::string reason,
                               const Request* header) {
    // (Not a ?: with co_await in one arm: GCC 12 miscompiles that.)
    Response response;
    if (impl.options.on_refused && header != nullptr) {
      response = co_await impl.options.on_refused(status, std::move(reason), info_, *header);
    } else {
      response = impl.options.error_response(status, std::move(reason));
    }
    impl.Finish(response, 11, /*keep_alive=*/false);
    Lowest().expires_after(impl.options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, response, kUseTuple);
    if (ec) co_return false;
    if constexpr (!kTls) {
      ErrorCodeT ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Lowest().expires_after(kLingerTimeout);
      size_t drained = 0;
      while (drained < kLingerLimit && !forced_) {
        buffer_.clear();
        auto [rec, rn] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), kUseTuple);
        if (rec) break;
        drained += rn;
      }
      co_return false;  // already shut down
    }
    co_return true;
  }

  asio::awaitable<void> Close(bool graceful) {
    if constexpr (kTls) {
      if (graceful) {
        Lowest().expires_after(kTlsShutdownTimeout);
        auto [ec] = co_await stream_.async_shutdown(kUseTuple);
        (void)ec;  // the peer may well have gone already
      }
    }
    ErrorCodeT ignored;
    if (graceful) Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().socket().close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;  // reused for every request on the connection
  ConnectionInfo info_;
  bool idle_ = false;  // waiting for a request's first byte
  bool in_handler_ = false;
  bool forced_ = false;  // Stop's grace period is over
};

}  // namespace

asio::awaitable<void> Server::Impl::Listen() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(NextContext(), kUseTuple);
    if (stopping.load()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      spdlog::warn("accepting on {} failed: {}", EndpointText(local), ec.message());
      asio::steady_timer backoff(acceptor.get_executor(), kAcceptBackoff);
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    StartSession(std::move(socket));
  }
}

void Server::Impl::StartSession(tcp::socket socket) {
  ErrorCodeT ec;
  ConnectionInfo info;
  info.remote = socket.remote_endpoint(ec);
  if (ec) return;  // the peer is already gone
  info.local = socket.local_endpoint(ec);
  // Responses are written whole; Nagle would only delay the last segment.
  socket.set_option(tcp::no_delay(true), ec);

  std::shared_ptr<ConnectionBase> connection;
  {
    std::lock_guard lock(mu);
    if (connections.size() >= options.max_connections) {
      spdlog::debug("refusing a connection from {}: {} connections open", EndpointText(info.remote),
                    connections.size());
      socket.close(ec);
      return;
    }
    info.tls = tls != nullptr;
    if (tls) {
      connection = std::make_shared<Session<SslStream>>(
          SslStream(beast::tcp_stream(std::move(socket)), *tls), std::move(info));
    } else {
      connection = std::make_shared<Session<beast::tcp_stream>>(
          beast::tcp_stream(std::move(socket)), std::move(info));
    }
    connections.emplace(connection.get(), connection);
  }
  connection->Start(shared_from_this());
}

void Server::Impl::Unregister(ConnectionBase* connection) {
  std::lock_guard lock(mu);
  connections.erase(connection);
  cv.notify_all();
}

void Server::Impl::NotifyConnections(bool force) {
  std::vector<std::shared_ptr<ConnectionBase>> snapshot;
  {
    std::lock_guard lock(mu);
    snapshot.reserve(connections.size());
    for (const auto& [key, connection] : connections) snapshot.push_back(connection);
  }
  for (auto& connection : snapshot) {
    asio::post(connection->executor(), [connection, force] { connection->OnStop(force); });
  }
}

Result<std::unique_ptr<Server>> Server::Create(asio::io_context& io, const tcp::endpoint& endpoint,
                                               std::shared_ptr<SslContext> tls, Handler handler,
                                               ServerOptions options) {
  return Create(std::vector<asio::io_context*>{&io}, endpoint, std::move(tls), std::move(handler),
                std::move(options));
}

Result<std::unique_ptr<Server>> Server::Create(IoPool& pool, const tcp::endpoint& endpoint,
                                               std::shared_ptr<SslContext> tls, Handler handler,
                                               ServerOptions options) {
  return Create(pool.contexts(), endpoint, std::move(tls), std::move(handler), std::move(options));
}

Result<std::unique_ptr<Server>> Server::Create(std::vector<asio::io_context*> contexts,
                                               const tcp::endpoint& endpoint,
                                               std::shared_ptr<SslContext> tls, Handler handler,
                                               ServerOptions options) {
  if (!handler) return Fail(ErrorCode::kInvalidArgument, "an HTTP server needs a handler");
  auto impl = std::make_shared<Impl>(std::move(contexts), std::move(tls), std::move(handler),
                                     std::move(options));
  const std::string where = EndpointText(endpoint);
  ErrorCodeT ec;
  impl->acceptor.open(endpoint.protocol(), ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "opening a socket for {}: {}", where, ec.message());
  // A restarted server must not wait for the old connections' TIME_WAIT to pass.
  impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable, "setting SO_REUSEADDR on {}: {}", where, ec.message());
  impl->acceptor.bind(endpoint, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "binding {}: {}", where, ec.message());
  impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "listening on {}: {}", where, ec.message());
  impl->local = impl->acceptor.local_endpoint(ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable, "reading the address of {}: {}", where, ec.message());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() {
  if (!impl_->stopping.load()) Stop(std::chrono::milliseconds(0));
}

tcp::endpoint Server::local_endpoint() const { return impl_->local; }

void Server::Start() {
  if (impl_->started.exchange(true) || impl_->stopping.load()) return;
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->Listen(), [](std::exception_ptr error) {
    if (error) spdlog::error("http listener ended by an exception");
  });
}

void Server::Stop(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  if (!impl.stopping.exchange(true)) {
    if (impl.AllStopped()) {
      // Nothing runs the loop, so nothing else touches the acceptor.
      ErrorCodeT ignored;
      impl.acceptor.close(ignored);
      return;
    }
    asio::post(impl.acceptor.get_executor(), [impl_ptr = impl_] {
      ErrorCodeT ignored;
      impl_ptr->acceptor.close(ignored);
      std::lock_guard lock(impl_ptr->mu);
      impl_ptr->acceptor_closed = true;
      impl_ptr->cv.notify_all();
    });
    impl.NotifyConnections(/*force=*/false);
  }
  if (impl.RunningInThisThread()) {
    // Blocking here would stall the very loop that must finish the requests.
    auto timer = std::make_shared<asio::steady_timer>(*impl.contexts.front(), grace);
    timer->async_wait(
        [impl_ptr = impl_, timer](ErrorCodeT) { impl_ptr->NotifyConnections(/*force=*/true); });
    return;
  }
  std::unique_lock lock(impl.mu);
  auto done = [&impl] { return impl.connections.empty() && impl.acceptor_closed; };
  if (impl.cv.wait_for(lock, grace, done)) return;
  lock.unlock();
  impl.NotifyConnections(/*force=*/true);
  lock.lock();
  // Bounded: the loop may not be running at all.
  impl.cv.wait_for(lock, kTlsShutdownTimeout + std::chrono::seconds(1), done);
}

Status Server::SetTlsContext(std::shared_ptr<SslContext> tls) {
  if (tls == nullptr) return Fail(ErrorCode::kInvalidArgument, "no TLS context given");
  std::lock_guard lock(impl_->mu);
  if (impl_->tls == nullptr) {
    return Fail(ErrorCode::kFailedPrecondition,
                "a plain-HTTP server has no TLS context to replace");
  }
  impl_->retired_tls.push_back(std::move(impl_->tls));
  impl_->tls = std::move(tls);
  return Ok();
}

size_t Server::active_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace troad::http
