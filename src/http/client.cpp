// HTTP client: see client.h.
//
// A pool per Endpoint::Key() and io_context holds idle connections, newest last: a
// Send takes the newest (the one most likely still open on the server), and returning
// a connection prunes those idle longer than idle_timeout. A connection belongs to the
// io_context of the coroutine that opened it and is only reused by coroutines on that
// context, so its I/O completes on the thread that waits for it (http/io_pool.h). The
// last TLS session per endpoint is shared by all contexts, so a fresh connection to a
// known server resumes instead of doing a full handshake.
#include "http/client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <deque>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "core/encoding.h"

namespace troad::http {
namespace {

using ErrorCodeT = boost::system::error_code;
using SslStream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;
using SslSessionPtr = std::shared_ptr<SSL_SESSION>;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// "host:port", with an IPv6 literal in brackets: how error messages and the Host
// header name an endpoint.
std::string HostPort(const Endpoint& endpoint) {
  if (endpoint.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", endpoint.host, endpoint.port);
  }
  return fmt::format("{}:{}", endpoint.host, endpoint.port);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// True when `ec` says the peer closed or reset the connection: what a pooled
// connection the server already dropped looks like.
bool IsPeerClosed(const ErrorCodeT& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

bool IsBeastHttpError(const ErrorCodeT& ec) {
  static const boost::system::error_category& category =
      bhttp::make_error_code(bhttp::error::bad_method).category();
  return &ec.category() == &category;
}

Error TimedOut(const std::string& where, std::chrono::milliseconds timeout) {
  return Error(ErrorCode::kDeadlineExceeded,
               fmt::format("request to {} timed out after {} ms", where, timeout.count()));
}

// A connection: owned by the pool while idle and by one Send while busy.
struct Connection {
  std::optional<beast::tcp_stream> plain;  // exactly one of plain and tls is set
  std::optional<SslStream> tls;
  beast::flat_buffer buffer;  // bytes read past a response stay for the next one
  std::optional<crypto::Certificate> peer_certificate;
  Clock::time_point idle_since;
  bool session_saved = false;   // its TLS session went to the pool already
  uint64_t tls_generation = 0;  // Client::Impl::tls_generation when it was made

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

struct Exchanged {
  Result<Response> response;
  // The request may be sent again on a fresh connection: it failed in a way that
  // shows the server never saw it (write failed, or EOF before a response byte).
  bool retryable = false;
  bool reusable = false;  // the connection may serve another request
};

template <class Stream>
asio::awaitable<Exchanged> Exchange(Stream& stream, Connection& connection, const Request& request,
                                    const ClientOptions& options, Clock::time_point deadline,
                                    const std::string& where, std::chrono::milliseconds timeout) {
  Exchanged result;
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  auto [write_error, written] = co_await bhttp::async_write(stream, request, kUseTuple);
  if (write_error) {
    if (write_error == beast::error::timeout) {
      result.response = tl::unexpected(TimedOut(where, timeout));
    } else {
      result.retryable = true;
      result.response = Fail(ErrorCode::kUnavailable, "sending a request to {}: {}", where,
                             write_error.message());
    }
    co_return result;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(options.body_limit);
  if (request.method() == bhttp::verb::head) parser.skip(true);
  auto [read_error, read] =
      co_await bhttp::async_read(stream, connection.buffer, parser, kUseTuple);
  if (read_error) {
    if (read_error == beast::error::timeout) {
      result.response = tl::unexpected(TimedOut(where, timeout));
    } else if (read_error == bhttp::error::body_limit) {
      result.response = Fail(ErrorCode::kResourceExhausted,
                             "the response from {} is larger than the body limit of {} bytes",
                             where, options.body_limit);
    } else if (read_error == bhttp::error::header_limit) {
      result.response = Fail(ErrorCode::kResourceExhausted,
                             "the response headers from {} are larger than the limit of {} bytes",
                             where, options.header_limit);
    } else if (IsBeastHttpError(read_error) && read_error != bhttp::error::end_of_stream &&
               read_error != bhttp::error::partial_message) {
      result.response = Fail(ErrorCode::kInvalidArgument, "malformed response from {}: {}", where,
                             read_error.message());
    } else {
      result.retryable = !parser.got_some() && IsPeerClosed(read_error);
      result.response = Fail(ErrorCode::kUnavailable, "reading the response from {}: {}", where,
                             read_error.message());
    }
    co_return result;
  }
  // Bytes after the response would be read as the start of the next one.
  result.reusable = parser.keep_alive() && connection.buffer.size() == 0;
  result.response = parser.release();
  co_return result;
}

}  // namespace

std::string Endpoint::Key() const {
  // The pin is part of the key: a connection checked against one expected
  // certificate must not serve a request that expects another.
  return fmt::format("{}://{}:{}#{}", tls ? "https" : "http", host, port, expected_peer_sha256);
}

bool PinMatches(std::string_view pins, std::string_view sha256) {
  if (sha256.empty()) return false;
  while (!pins.empty()) {
    const size_t comma = pins.find(',');
    if (EqualsIgnoreCase(pins.substr(0, comma), sha256)) return true;
    if (comma == std::string_view::npos) break;
    pins.remove_prefix(comma + 1);
  }
  return false;
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  const std::string shown = EscapeForLog(url);
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "URL \"{}\" has no http:// or https:// scheme", shown);
  }
  ParsedUrl parsed;
  const std::string_view scheme = url.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "https")) {
    parsed.endpoint.tls = true;
  } else if (!EqualsIgnoreCase(scheme, "http")) {
    return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": scheme \"{}\" is not http or https",
                shown, EscapeForLog(scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": user information is not supported",
                shown);
  }

  std::string_view host;
  std::string_view after_host;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": unterminated IPv6 address", shown);
    }
    host = authority.substr(1, close - 1);
    ErrorCodeT ec;
    asio::ip::make_address_v6(host, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": \"{}\" is not an IPv6 address", shown,
                  EscapeForLog(host));
    }
    after_host = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": invalid character in host \"{}\"",
                    shown, EscapeForLog(host));
      }
    }
  }
  if (host.empty()) return Fail(ErrorCode::kInvalidArgument, "URL \"{}\" has no host", shown);
  parsed.endpoint.host = std::string(host);

  parsed.endpoint.port = parsed.endpoint.tls ? 443 : 80;
  if (!after_host.empty()) {
    if (after_host.front() != ':') {
      return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": unexpected \"{}\" after the host",
                  shown, EscapeForLog(after_host));
    }
    const std::string_view digits = after_host.substr(1);
    unsigned port = 0;
    const bool all_digits =
        !digits.empty() && digits.size() <= 5 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (all_digits) {
      for (char c : digits) port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (!all_digits || port == 0 || port > 65535) {
      return Fail(ErrorCode::kInvalidArgument, "URL \"{}\": port \"{}\" is not in 1..65535", shown,
                  EscapeForLog(digits));
    }
    parsed.endpoint.port = static_cast<uint16_t>(port);
  }

  const std::string_view path = tail.substr(0, tail.find_first_of("?#"));
  parsed.path = path.empty() ? "/" : std::string(path);
  return parsed;
}

struct Client::Impl {
  explicit Impl(ClientOptions client_options) : options(std::move(client_options)) {}

  // The idle pool for `key` on the io_context `executor` belongs to.
  static std::string IdleKey(const std::string& key, const asio::any_io_executor& executor) {
    const auto& context = asio::query(executor, asio::execution::context);
    return key + '@' + std::to_string(reinterpret_cast<uintptr_t>(&context));
  }

  struct Pool {
    std::deque<std::unique_ptr<Connection>> idle;  // oldest first
    SslSessionPtr session;                         // for resuming a fresh connection
  };

  // The newest idle connection for `key` that is not too old, or null.
  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    std::deque<std::unique_ptr<Connection>> expired;  // closed after the lock is released
    std::lock_guard lock(mu);
    auto it = pools.find(key);
    if (it == pools.end() || it->second.idle.empty()) return nullptr;
    auto& idle = it->second.idle;
    if (Clock::now() - idle.back()->idle_since >= options.idle_timeout) {
      expired.swap(idle);  // the newest is too old, so all are
      return nullptr;
    }
    std::unique_ptr<Connection> connection = std::move(idle.back());
    idle.pop_back();
    return connection;
  }

  void PutIdle(const std::string& key, std::unique_ptr<Connection> connection) {
    std::vector<std::unique_ptr<Connection>> dropped;  // closed after the lock is released
    const Clock::time_point now = Clock::now();
    connection->idle_since = now;
    std::lock_guard lock(mu);
    auto& idle = pools[key].idle;
    while (!idle.empty() && now - idle.front()->idle_since >= options.idle_timeout) {
      dropped.push_back(std::move(idle.front()));
      idle.pop_front();
    }
    if (idle.size() >= options.max_idle_per_endpoint) {
      dropped.push_back(std::move(connection));
      return;
    }
    idle.push_back(std::move(connection));
  }

  SslSessionPtr CachedSession(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = pools.find(key);
    return it == pools.end() ? nullptr : it->second.session;
  }

  // Keeps the connection's TLS session (with the ticket the server sent after the
  // handshake, which has arrived once a response was read) for later connections.
  void SaveSession(const std::string& key, Connection& connection) {
    connection.session_saved = true;
    SSL_SESSION* current = SSL_get0_session(connection.tls->native_handle());
    if (current == nullptr || !SSL_SESSION_is_resumable(current)) return;
    // A copy: OpenSSL marks a connection's own session not resumable when the
    // connection is freed without a TLS shutdown, as pooled connections are.
    SSL_SESSION* copy = SSL_SESSION_dup(current);
    if (copy == nullptr) return;
    SslSessionPtr owned(copy, SSL_SESSION_free);
    std::lock_guard lock(mu);
    // A session of a replaced context would resume the old identity.
    if (connection.tls_generation != tls_generation) return;
    pools[key].session = std::move(owned);
  }

  // The TLS context for a new connection, and its generation.
  std::pair<std::shared_ptr<SslContext>, uint64_t> Tls() {
    std::lock_guard lock(mu);
    return {tls, tls_generation};
  }

  asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(
      asio::any_io_executor executor, const Endpoint& endpoint, const std::string& key,
      const std::string& where, Clock::time_point deadline, std::chrono::milliseconds timeout);

  const ClientOptions options;  // options.tls is only the first context: see tls
  std::mutex mu;
  std::unordered_map<std::string, Pool> pools;    // GUARDED_BY(mu)
  std::shared_ptr<SslContext> tls = options.tls;  // GUARDED_BY(mu); replaced by SetTlsContext
  uint64_t tls_generation = 0;                    // GUARDED_BY(mu)
  // Replaced contexts, kept while the client lives: connections made with them hold
  // references into them.
  std::vector<std::shared_ptr<SslContext>> retired_tls;  // GUARDED_BY(mu)
};

asio::awaitable<Result<std::unique_ptr<Connection>>> Client::Impl::Connect(
    asio::any_io_executor executor, const Endpoint& endpoint, const std::string& key,
    const std::string& where, Clock::time_point deadline, std::chrono::milliseconds timeout) {
  const Clock::time_point connect_deadline =
      std::min(deadline, Clock::now() + options.connect_timeout);
  auto connect_timed_out = [&]() -> Error {
    if (connect_deadline == deadline) return TimedOut(where, timeout);
    return Error(ErrorCode::kUnavailable,
                 fmt::format("connecting to {}: no connection within {} ms", where,
                             options.connect_timeout.count()));
  };

  beast::tcp_stream stream(executor);
  stream.expires_at(connect_deadline);
  ErrorCodeT ec;
  const asio::ip::address address = asio::ip::make_address(endpoint.host, ec);
  const bool is_ip_literal = !ec;
  if (is_ip_literal) {
    auto [connect_error] =
        co_await stream.async_connect(tcp::endpoint(address, endpoint.port), kUseTuple);
    ec = connect_error;
  } else {
    tcp::resolver resolver(executor);
    auto [resolve_error, results] =
        co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kUseTuple);
    if (resolve_error) {
      co_return Fail(ErrorCode::kUnavailable, "resolving {}: {}", endpoint.host,
                     resolve_error.message());
    }
    if (Clock::now() >= connect_deadline) co_return tl::unexpected(connect_timed_out());
    auto [connect_error, connected] = co_await stream.async_connect(results, kUseTuple);
    ec = connect_error;
  }
  if (ec == beast::error::timeout) co_return tl::unexpected(connect_timed_out());
  if (ec) co_return Fail(ErrorCode::kUnavailable, "connecting to {}: {}", where, ec.message());
  // Requests are written whole; Nagle would only delay their last segment.
  stream.socket().set_option(tcp::no_delay(true), ec);

  auto connection = std::make_unique<Connection>();
  if (!endpoint.tls) {
    connection->plain.emplace(std::move(stream));
    co_return connection;
  }

  auto [context, generation] = Tls();
  connection->tls.emplace(std::move(stream), *context);
  connection->tls_generation = generation;
  SSL* ssl = connection->tls->native_handle();
  if (!is_ip_literal) {
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(endpoint.host.c_str()));
  }
  if (SslSessionPtr session = CachedSession(key)) SSL_set_session(ssl, session.get());
  connection->Lowest().expires_at(deadline);
  auto [handshake_error] =
      co_await connection->tls->async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (handshake_error == beast::error::timeout) co_return tl::unexpected(TimedOut(where, timeout));
  if (handshake_error) {
    co_return Fail(ErrorCode::kUnavailable, "TLS handshake with {}: {}", where,
                   handshake_error.message());
  }
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) {
    co_return Fail(ErrorCode::kUnauthenticated,
                   "TLS handshake with {}: the server sent no certificate", where);
  }
  connection->peer_certificate = crypto::Certificate::FromNative(peer);
  X509_free(peer);
  // Checked before a byte of the request is written: a wrong server must not see it.
  if (!endpoint.expected_peer_sha256.empty()) {
    const std::string actual = connection->peer_certificate->Sha256Fingerprint();
    if (!PinMatches(endpoint.expected_peer_sha256, actual)) {
      co_return Fail(ErrorCode::kUnauthenticated,
                     "TLS handshake with {}: server certificate {} is not the expected {}", where,
                     actual, EscapeForLog(endpoint.expected_peer_sha256));
    }
  }
  co_return connection;
}

Client::Client(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Client::~Client() { Shutdown(); }

asio::awaitable<Result<ClientResponse>> Client::Send(const Endpoint& endpoint, Request request,
                                                     std::chrono::milliseconds timeout) {
  // Keeps the pool alive should the Client be destroyed while this runs.
  std::shared_ptr<Impl> impl = impl_;
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string where = HostPort(endpoint);
  if (endpoint.tls && !impl->Tls().first) {
    co_return Fail(ErrorCode::kFailedPrecondition,
                   "cannot reach {} over TLS: the client has no TLS context", where);
  }
  const std::string key = endpoint.Key();
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  const std::string idle_key = Impl::IdleKey(key, executor);
  request.set(bhttp::field::host, where);
  request.keep_alive(true);
  request.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    // The retry always takes a fresh connection: the other pooled ones are likely
    // as stale as the one that just failed.
    std::unique_ptr<Connection> connection = attempt == 0 ? impl->TakeIdle(idle_key) : nullptr;
    const bool reused = connection != nullptr;
    if (!connection) {
      auto connected = co_await impl->Connect(executor, endpoint, key, where, deadline, timeout);
      if (!connected) co_return tl::unexpected(std::move(connected).error());
      connection = std::move(*connected);
    }

    Exchanged exchanged;
    if (connection->tls) {
      exchanged = co_await Exchange(*connection->tls, *connection, request, impl->options, deadline,
                                    where, timeout);
    } else {
      exchanged = co_await Exchange(*connection->plain, *connection, request, impl->options,
                                    deadline, where, timeout);
    }
    if (!exchanged.response) {
      if (reused && exchanged.retryable && attempt == 0) {
        spdlog::debug("pooled connection to {} was closed by the server ({}); retrying", where,
                      exchanged.response.error().message());
        continue;
      }
      co_return tl::unexpected(std::move(exchanged.response).error());
    }

    ClientResponse out{std::move(*exchanged.response), connection->peer_certificate};
    if (connection->tls && !connection->session_saved) impl->SaveSession(key, *connection);
    if (exchanged.reusable) impl->PutIdle(idle_key, std::move(connection));
    co_return out;
  }
}

Status Client::SetTlsContext(std::shared_ptr<SslContext> tls) {
  if (tls == nullptr) return Fail(ErrorCode::kInvalidArgument, "no TLS context given");
  std::vector<std::unique_ptr<Connection>> closing;  // closed after the lock is released
  std::lock_guard lock(impl_->mu);
  if (impl_->tls != nullptr) impl_->retired_tls.push_back(std::move(impl_->tls));
  impl_->tls = std::move(tls);
  ++impl_->tls_generation;
  for (auto& [key, pool] : impl_->pools) {
    for (auto& connection : pool.idle) closing.push_back(std::move(connection));
    pool.idle.clear();
    pool.session.reset();
  }
  return Ok();
}

void Client::Shutdown() {
  std::vector<std::unique_ptr<Connection>> closing;  // closed after the lock is released
  std::lock_guard lock(impl_->mu);
  for (auto& [key, pool] : impl_->pools) {
    for (auto& connection : pool.idle) closing.push_back(std::move(connection));
    pool.idle.clear();
  }
}

BlockingClient::BlockingClient(ClientOptions options)
    : io_(std::make_unique<asio::io_context>()),
      client_(std::make_unique<Client>(std::move(options))) {}

BlockingClient::~BlockingClient() {
  client_->Shutdown();  // idle sockets close while their io_context still exists
  client_.reset();
}

Result<ClientResponse> BlockingClient::Send(const Endpoint& endpoint, Request request,
                                            std::chrono::milliseconds timeout) {
  std::optional<Result<ClientResponse>> out;
  std::exception_ptr failure;
  asio::co_spawn(*io_, client_->Send(endpoint, std::move(request), timeout),
                 [&](std::exception_ptr error, Result<ClientResponse> result) {
                   failure = error;
                   if (!error) out.emplace(std::move(result));
                 });
  io_->restart();
  io_->run();
  if (failure) std::rethrow_exception(failure);
  if (!out) return Fail(ErrorCode::kInternal, "the request to {} did not finish", endpoint.Key());
  return std::move(*out);
}

}  // namespace troad::http
