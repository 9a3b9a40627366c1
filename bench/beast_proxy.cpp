// beast_proxy: the smallest honest HTTP/1.1 reverse proxy built on the stack troad's
// gateways must use (Boost.Beast + Asio C++20 coroutines + OpenSSL), for the benchmark
// only. It answers one question: what does the framework itself cost per request on
// this machine, with no signing, no message log, no JSON and no checks? Two of these
// chained like the nginx hops (plain -> mutual TLS -> plain) give the ceiling any
// Beast-based gateway can reach, next to nginx, in the same run.
//
// Deliberately minimal and tuned for speed, in the style Beast's own examples
// recommend: one io_context per thread (no strands, no locks), SO_REUSEPORT listeners
// so the kernel spreads connections, one upstream keep-alive connection per downstream
// connection (made on its first request), buffers reused across requests. No timeouts,
// no header rewriting beyond what a proxy must do: it is not a product, do not deploy
// it. Errors end the connection and are counted on stderr at exit.
//
// Usage:
//   beast_proxy --listen PORT --upstream PORT [--threads N] [--timeouts] [--shared-context]
//               [--tls-cert F --tls-key F --tls-client-ca F]        (mutual TLS inbound)
//               [--upstream-cert F --upstream-key F --upstream-ca F --upstream-name N]
//                                                                  (mutual TLS outbound)
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/ssl.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Options {
  // Design variants, to measure what each choice costs (both off = the fastest shape):
  // --timeouts: beast::tcp_stream with a deadline set before every read and write;
  // --shared-context: one io_context run by all threads, a strand per connection.
  bool timeouts = false;
  bool shared_context = false;
  unsigned short listen = 0;
  unsigned short upstream = 0;
  int threads = 2;
  std::string tls_cert, tls_key, tls_client_ca;
  std::string upstream_cert, upstream_key, upstream_ca, upstream_name;
  bool tls_in() const { return !tls_cert.empty(); }
  bool tls_out() const { return !upstream_cert.empty(); }
};

std::atomic<unsigned long> g_errors{0};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "beast_proxy: %s\n", why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string*> strings = {
      {"--tls-cert", &o.tls_cert},           {"--tls-key", &o.tls_key},
      {"--tls-client-ca", &o.tls_client_ca}, {"--upstream-cert", &o.upstream_cert},
      {"--upstream-key", &o.upstream_key},   {"--upstream-ca", &o.upstream_ca},
      {"--upstream-name", &o.upstream_name}};
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    bool has_value = flag != "--timeouts" && flag != "--shared-context";
    if (has_value && i + 1 >= argc) Usage(("missing value after " + flag).c_str());
    std::string value = has_value ? argv[i + 1] : "";
    auto port = [&] {
      char* end = nullptr;
      long v = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || v < 1 || v > 65535) Usage((flag + ": not a port: " + value).c_str());
      return static_cast<unsigned short>(v);
    };
    if (flag == "--timeouts" || flag == "--shared-context") {
      (flag == "--timeouts" ? o.timeouts : o.shared_context) = true;
      --i;  // no value
    } else if (flag == "--listen") {
      o.listen = port();
    } else if (flag == "--upstream") {
      o.upstream = port();
    } else if (flag == "--threads") {
      o.threads = std::atoi(value.c_str());
      if (o.threads < 1 || o.threads > 64) Usage("--threads: 1 to 64");
    } else if (auto it = strings.find(flag); it != strings.end()) {
      *it->second = value;
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (o.listen == 0 || o.upstream == 0) Usage("--listen and --upstream are required");
  if (o.tls_in() && (o.tls_key.empty() || o.tls_client_ca.empty()))
    Usage("--tls-cert needs --tls-key and --tls-client-ca");
  if (o.tls_out() && (o.upstream_key.empty() || o.upstream_ca.empty() || o.upstream_name.empty()))
    Usage("--upstream-cert needs --upstream-key, --upstream-ca and --upstream-name");
  return o;
}

// TLS 1.3 only, as the nginx hops and troad's gateways are configured.
ssl::context ServerContext(const Options& o) {
  ssl::context ctx(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  ctx.use_certificate_chain_file(o.tls_cert);
  ctx.use_private_key_file(o.tls_key, ssl::context::pem);
  ctx.load_verify_file(o.tls_client_ca);
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

ssl::context ClientContext(const Options& o) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  ctx.use_certificate_chain_file(o.upstream_cert);
  ctx.use_private_key_file(o.upstream_key, ssl::context::pem);
  ctx.load_verify_file(o.upstream_ca);
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

// Sets a deadline before an operation when the socket type has them (--timeouts).
template <class Stream>
void Arm(Stream& stream) {
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(beast::get_lowest_layer(stream))>,
                               beast::tcp_stream>)
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
}

// The upstream side of one downstream connection: plain or TLS, connected lazily.
template <class Sock>
class Upstream {
 public:
  Upstream(asio::any_io_executor ex, const Options& o, ssl::context* ctx)
      : ex_(ex), options_(o), ctx_(ctx) {}

  asio::awaitable<http::response<http::string_body>> RoundTrip(
      http::request<http::string_body>& req) {
    if (!connected_) co_await Connect();
    http::response<http::string_body> res;
    if (tls_) {
      co_await Exchange(*tls_, req, res);
    } else {
      co_await Exchange(*plain_, req, res);
    }
    if (!res.keep_alive()) connected_ = false;
    co_return res;
  }

 private:
  template <class Stream>
  asio::awaitable<void> Exchange(Stream& stream, http::request<http::string_body>& req,
                                 http::response<http::string_body>& res) {
    Arm(stream);
    co_await http::async_write(stream, req, asio::use_awaitable);
    Arm(stream);
    co_await http::async_read(stream, buffer_, res, asio::use_awaitable);
  }

  asio::awaitable<void> Connect() {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), options_.upstream);
    buffer_.clear();
    if (ctx_ != nullptr) {
      tls_.emplace(ex_, *ctx_);
      co_await beast::get_lowest_layer(*tls_).async_connect(ep, asio::use_awaitable);
      SetNoDelay(beast::get_lowest_layer(*tls_));
      tls_->set_verify_callback(ssl::host_name_verification(options_.upstream_name));
      co_await tls_->async_handshake(ssl::stream_base::client, asio::use_awaitable);
    } else {
      plain_.emplace(ex_);
      co_await plain_->async_connect(ep, asio::use_awaitable);
      SetNoDelay(*plain_);
    }
    connected_ = true;
  }

  static void SetNoDelay(tcp::socket& s) { s.set_option(tcp::no_delay(true)); }
  static void SetNoDelay(beast::tcp_stream& s) { s.socket().set_option(tcp::no_delay(true)); }

  asio::any_io_executor ex_;
  const Options& options_;
  ssl::context* ctx_;
  std::optional<Sock> plain_;
  std::optional<ssl::stream<Sock>> tls_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

template <class Sock, class Stream>
asio::awaitable<void> Serve(Stream stream, const Options& o, ssl::context* out_ctx) {
  try {
    if constexpr (!std::is_same_v<Stream, Sock>) {
      Arm(stream);
      co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    }
    Upstream<Sock> upstream(co_await asio::this_coro::executor, o, out_ctx);
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      Arm(stream);
      co_await http::async_read(stream, buffer, req, asio::use_awaitable);
      bool keep_alive = req.keep_alive();
      req.keep_alive(true);  // the upstream connection is reused
      auto res = co_await upstream.RoundTrip(req);
      res.keep_alive(keep_alive);
      Arm(stream);
      co_await http::async_write(stream, res, asio::use_awaitable);
      if (!keep_alive) break;
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != http::error::end_of_stream && e.code() != asio::error::eof &&
        e.code() != asio::ssl::error::stream_truncated &&
        e.code() != asio::error::connection_reset)
      g_errors.fetch_add(1, std::memory_order_relaxed);
  }
}

template <class Sock>
void Spawn(tcp::socket socket, const Options& o, ssl::context* in_ctx, ssl::context* out_ctx) {
  // With a shared io_context each connection gets a strand, as troad's server does.
  asio::any_io_executor ex = o.shared_context
                                 ? asio::any_io_executor(asio::make_strand(socket.get_executor()))
                                 : socket.get_executor();
  Sock sock(std::move(socket));
  if (in_ctx != nullptr) {
    asio::co_spawn(ex, Serve<Sock>(ssl::stream<Sock>(std::move(sock), *in_ctx), o, out_ctx),
                   asio::detached);
  } else {
    asio::co_spawn(ex, Serve<Sock>(std::move(sock), o, out_ctx), asio::detached);
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, const Options& o, ssl::context* in_ctx,
                             ssl::context* out_ctx) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    if (o.timeouts) {
      Spawn<beast::tcp_stream>(std::move(socket), o, in_ctx, out_ctx);
    } else {
      Spawn<tcp::socket>(std::move(socket), o, in_ctx, out_ctx);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  std::optional<ssl::context> in_ctx, out_ctx;
  try {
    if (o.tls_in()) in_ctx.emplace(ServerContext(o));
    if (o.tls_out()) out_ctx.emplace(ClientContext(o));
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "beast_proxy: TLS set-up: %s\n", e.what());
    return 1;
  }

  // One io_context and one SO_REUSEPORT acceptor per thread: nothing is shared.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.listen);
  for (int i = 0; i < (o.shared_context ? 1 : o.threads); ++i) {
    auto& io = *contexts.emplace_back(std::make_unique<asio::io_context>(o.shared_context ? o.threads : 1));
    auto& acc = *acceptors.emplace_back(std::make_unique<tcp::acceptor>(io));
    try {
      acc.open(ep.protocol());
      acc.set_option(asio::socket_base::reuse_address(true));
      acc.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
      acc.bind(ep);
      acc.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
      std::fprintf(stderr, "beast_proxy: listen on 127.0.0.1:%u: %s\n", o.listen, e.what());
      return 1;
    }
    asio::co_spawn(io, Accept(acc, o, in_ctx ? &*in_ctx : nullptr, out_ctx ? &*out_ctx : nullptr),
                   asio::detached);
  }

  asio::io_context signals_io(1);
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    for (auto& io : contexts) io->stop();
  });
  std::thread signal_thread([&] { signals_io.run(); });

  std::vector<std::thread> threads;
  for (int i = 1; i < o.threads; ++i)
    threads.emplace_back([&, i] { contexts[o.shared_context ? 0 : i]->run(); });
  contexts[0]->run();
  for (auto& t : threads) t.join();
  signals_io.stop();
  signal_thread.join();
  std::fprintf(stderr, "beast_proxy: stopped; %lu connections ended by an error\n",
               g_errors.load());
  return 0;
}
