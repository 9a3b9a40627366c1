// Client behaviour over real sockets on 127.0.0.1: URL parsing, pooling, the retry
// of a request on a connection the server had closed, and how failures are named.
#include "http/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "http/server.h"
#include "http/test_util.h"

namespace troad::http {
namespace {

using namespace std::chrono_literals;
using testing::IoThread;

Request Get(std::string target) { return Request(bhttp::verb::get, target, 11); }

TEST(ParseUrlTest, AcceptsHttpAndHttpsWithDefaultsAndPorts) {
  auto plain = ParseUrl("http://example.org");
  ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
  EXPECT_EQ(plain->endpoint.host, "example.org");
  EXPECT_EQ(plain->endpoint.port, 80);
  EXPECT_FALSE(plain->endpoint.tls);
  EXPECT_EQ(plain->path, "/");

  auto tls = ParseUrl("HTTPS://10.0.0.7:8443/r1/TW/GOV?x=1#frag");
  ASSERT_TRUE(tls.has_value()) << tls.error().ToString();
  EXPECT_EQ(tls->endpoint.host, "10.0.0.7");
  EXPECT_EQ(tls->endpoint.port, 8443);
  EXPECT_TRUE(tls->endpoint.tls);
  EXPECT_EQ(tls->path, "/r1/TW/GOV");

  auto v6 = ParseUrl("https://[::1]/api");
  ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
  EXPECT_EQ(v6->endpoint.host, "::1");
  EXPECT_EQ(v6->endpoint.port, 443);
  EXPECT_EQ(v6->path, "/api");

  auto v6_port = ParseUrl("http://[fe80::1]:4400?q");
  ASSERT_TRUE(v6_port.has_value()) << v6_port.error().ToString();
  EXPECT_EQ(v6_port->endpoint.host, "fe80::1");
  EXPECT_EQ(v6_port->endpoint.port, 4400);
  EXPECT_EQ(v6_port->path, "/");
}

TEST(ParseUrlTest, RefusesWhatItCannotReach) {
  struct Case {
    std::string_view url;
    std::string_view complaint;
  };
  const Case cases[] = {
      {"ftp://example.org/", "scheme \"ftp\" is not http or https"},
      {"example.org/path", "has no http:// or https:// scheme"},
      {"http://", "has no host"},
      {"http://:80/", "has no host"},
      {"http://user:pw@example.org/", "user information is not supported"},
      {"http://example.org:0/", "port \"0\" is not in 1..65535"},
      {"http://example.org:65536/", "port \"65536\" is not in 1..65535"},
      {"http://example.org:/", "port \"\" is not in 1..65535"},
      {"http://example.org:8a/", "port \"8a\" is not in 1..65535"},
      {"http://[::1/", "unterminated IPv6 address"},
      {"http://[not-v6]/", "is not an IPv6 address"},
      {"http://[::1]x/", "unexpected \"x\" after the host"},
      {"http://exa mple.org/", "invalid character in host"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseUrl(c.url);
    ASSERT_FALSE(parsed.has_value()) << c.url;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << c.url;
    EXPECT_NE(parsed.error().message().find(c.complaint), std::string::npos)
        << c.url << ": " << parsed.error().message();
  }
}

TEST(EndpointTest, APinMayListSeveralCertificates) {
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  EXPECT_TRUE(PinMatches(a, a));
  EXPECT_TRUE(PinMatches(a, std::string(64, 'A')));  // hex case does not matter
  EXPECT_TRUE(PinMatches(a + "," + b, b));
  EXPECT_TRUE(PinMatches(a + "," + b, a));
  EXPECT_FALSE(PinMatches(a + "," + b, c));
  EXPECT_FALSE(PinMatches(a + "," + b, a + "," + b));  // one certificate, not the list
  EXPECT_FALSE(PinMatches("", a));
  EXPECT_FALSE(PinMatches(",", ""));
}

TEST(EndpointTest, KeyDistinguishesSchemeHostPortAndPin) {
  Endpoint a{"127.0.0.1", 8443, true, ""};
  Endpoint b = a;
  EXPECT_EQ(a.Key(), b.Key());
  b.tls = false;
  EXPECT_NE(a.Key(), b.Key());
  b = a;
  b.port = 8444;
  EXPECT_NE(a.Key(), b.Key());
  b = a;
  b.expected_peer_sha256 = "00";
  EXPECT_NE(a.Key(), b.Key());
}

// A server made of raw Asio: accepts connections one at a time, counts them, and
// does to each whatever `behaviour` says.
class RawServer {
 public:
  using Behaviour = std::function<asio::awaitable<void>(tcp::socket&)>;

  RawServer(asio::io_context& io, Behaviour behaviour)
      : state_(std::make_shared<State>(io, std::move(behaviour))) {
    port_ = state_->acceptor.local_endpoint().port();
    asio::co_spawn(io, Accept(state_), asio::detached);
  }
  // The accept loop owns the state and may still be running: close the acceptor on
  // the loop's thread and let the loop end by itself.
  ~RawServer() {
    std::promise<void> closed;
    asio::post(state_->acceptor.get_executor(), [this, &closed] {
      state_->acceptor.close();
      closed.set_value();
    });
    closed.get_future().wait();
  }

  uint16_t port() const { return port_; }
  int accepted() const { return state_->accepted; }

  // Reads one request head; the tests' requests have no body.
  static asio::awaitable<bool> ReadHead(tcp::socket& socket) {
    asio::streambuf buffer;
    auto [ec, n] = co_await asio::async_read_until(socket, buffer, "\r\n\r\n",
                                                   asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }
  static asio::awaitable<void> Write(tcp::socket& socket, std::string_view data) {
    co_await asio::async_write(socket, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
  }

 private:
  struct State {
    State(asio::io_context& io, Behaviour b)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          behaviour(std::move(b)) {}
    tcp::acceptor acceptor;
    Behaviour behaviour;
    std::atomic<int> accepted{0};
  };

  static asio::awaitable<void> Accept(std::shared_ptr<State> state) {
    for (;;) {
      auto [ec, socket] =
          co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++state->accepted;
      co_await state->behaviour(socket);
    }
  }

  std::shared_ptr<State> state_;
  uint16_t port_;
};

class ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Server> StartServer(Handler handler, uint16_t port = 0) {
    auto server = Server::Create(io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                 nullptr, std::move(handler), ServerOptions{});
    EXPECT_TRUE(server.has_value()) << server.error().ToString();
    if (!server) return nullptr;
    (*server)->Start();
    return std::move(*server);
  }

  Handler Ok(std::string body = "ok") {
    return [this, body](Request&, const ConnectionInfo& info) -> asio::awaitable<Response> {
      {
        std::lock_guard lock(mu_);
        client_ports_.insert(info.remote.port());
      }
      ++calls_;
      co_return MakeResponse(200, body, "text/plain");
    };
  }

  Result<ClientResponse> Send(Client& client, const Endpoint& endpoint, Request request,
                              std::chrono::milliseconds timeout = 5s) {
    return io_.Run(client.Send(endpoint, std::move(request), timeout));
  }

  static Endpoint Local(uint16_t port) { return Endpoint{"127.0.0.1", port, false, ""}; }

  size_t ClientPorts() {
    std::lock_guard lock(mu_);
    return client_ports_.size();
  }

  IoThread io_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::set<uint16_t> client_ports_;
};

TEST_F(ClientTest, SendsHostAndContentLength) {
  std::string host;
  std::string content_length;
  auto server = StartServer([&](Request& request, const ConnectionInfo&) -> asio::awaitable<Response> {
    host = std::string(request[bhttp::field::host]);
    content_length = std::string(request[bhttp::field::content_length]);
    co_return MakeResponse(200, request.body(), "text/plain");
  });
  Client client({});
  Request request(bhttp::verb::post, "/x", 11);
  request.body() = "12345";

  auto result = Send(client, Local(server->local_endpoint().port()), std::move(request));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.body(), "12345");
  EXPECT_EQ(host, fmt::format("127.0.0.1:{}", server->local_endpoint().port()));
  EXPECT_EQ(content_length, "5");
}

TEST_F(ClientTest, ConnectingToAClosedPortIsUnavailable) {
  uint16_t port;
  {
    tcp::acceptor probe(io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  Client client({});

  auto result = Send(client, Local(port), Get("/"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(result.error().message(),
            fmt::format("connecting to 127.0.0.1:{}: Connection refused", port));
}

TEST_F(ClientTest, ResponseOverTheBodyLimitIsResourceExhausted) {
  auto server = StartServer(Ok(std::string(100, 'b')));
  ClientOptions options;
  options.body_limit = 99;
  Client client(options);

  auto result = Send(client, Local(server->local_endpoint().port()), Get("/big"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted) << result.error().ToString();
  EXPECT_NE(result.error().message().find("body limit of 99 bytes"), std::string::npos);
}

TEST_F(ClientTest, ResponseAtTheBodyLimitIsAccepted) {
  auto server = StartServer(Ok(std::string(100, 'b')));
  ClientOptions options;
  options.body_limit = 100;
  Client client(options);

  auto result = Send(client, Local(server->local_endpoint().port()), Get("/big"));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.body().size(), 100u);
}

TEST_F(ClientTest, RetriesTransparentlyWhenTheServerRestartedUnderAPooledConnection) {
  auto first = StartServer(Ok("first"));
  const uint16_t port = first->local_endpoint().port();
  Client client({});
  ASSERT_TRUE(Send(client, Local(port), Get("/")).has_value());
  first->Stop(5s);  // closes the connection the client keeps in its pool
  first.reset();
  auto second = StartServer(Ok("second"), port);
  ASSERT_NE(second, nullptr);

  auto result = Send(client, Local(port), Get("/"));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.body(), "second");
  EXPECT_EQ(calls_, 2);
}

TEST_F(ClientTest, RetriesWhenTheServerDroppedAKeepAliveConnectionWithoutNotice) {
  // Answers as if it kept the connection open, then closes it.
  RawServer server(io_.io(), [](tcp::socket& socket) -> asio::awaitable<void> {
    if (co_await RawServer::ReadHead(socket)) {
      co_await RawServer::Write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
    socket.close();
  });
  Client client({});

  auto first = Send(client, Local(server.port()), Get("/1"));
  auto second = Send(client, Local(server.port()), Get("/2"));

  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->response.body(), "ok");
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(ClientTest, DoesNotRetryOnAFreshConnection) {
  RawServer server(io_.io(), [](tcp::socket& socket) -> asio::awaitable<void> {
    co_await RawServer::ReadHead(socket);
    socket.close();
  });
  Client client({});

  auto result = Send(client, Local(server.port()), Get("/"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message().find(
                fmt::format("reading the response from 127.0.0.1:{}", server.port())),
            std::string::npos)
      << result.error().message();
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(ClientTest, DoesNotRetryAfterPartOfTheResponseArrived) {
  RawServer server(io_.io(), [](tcp::socket& socket) -> asio::awaitable<void> {
    while (co_await RawServer::ReadHead(socket)) {
      co_await RawServer::Write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
      socket.close();
    }
  });
  Client client({});

  auto result = Send(client, Local(server.port()), Get("/"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable) << result.error().ToString();
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(ClientTest, MalformedResponseIsInvalidArgument) {
  RawServer server(io_.io(), [](tcp::socket& socket) -> asio::awaitable<void> {
    if (co_await RawServer::ReadHead(socket)) {
      co_await RawServer::Write(socket, "this is not http\r\n\r\n");
    }
    socket.close();
  });
  Client client({});

  auto result = Send(client, Local(server.port()), Get("/"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << result.error().ToString();
  EXPECT_NE(result.error().message().find("malformed response from 127.0.0.1:"),
            std::string::npos);
}

TEST_F(ClientTest, SlowServerIsDeadlineExceeded) {
  auto server = StartServer([](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    co_await testing::Sleep(500ms);
    co_return MakeResponse(200, "late", "text/plain");
  });
  Client client({});

  auto result = Send(client, Local(server->local_endpoint().port()), Get("/"), 50ms);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kDeadlineExceeded) << result.error().ToString();
  EXPECT_EQ(result.error().message(),
            fmt::format("request to 127.0.0.1:{} timed out after 50 ms",
                        server->local_endpoint().port()));
}

TEST_F(ClientTest, ConcurrentSendsOpenConnectionsThatLaterSendsReuse) {
  auto server = StartServer([](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    co_await testing::Sleep(20ms);
    co_return MakeResponse(200, "ok", "text/plain");
  });
  Client client({});
  const Endpoint endpoint = Local(server->local_endpoint().port());

  std::vector<std::future<Result<ClientResponse>>> pending;
  for (int i = 0; i < 8; ++i) pending.push_back(io_.Start(client.Send(endpoint, Get("/"), 5s)));
  for (auto& p : pending) {
    auto result = p.get();
    ASSERT_TRUE(result.has_value()) << result.error().ToString();
  }
  const size_t opened = server->active_connections();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());

  EXPECT_GE(opened, 1u);
  EXPECT_EQ(server->active_connections(), opened);
}

TEST_F(ClientTest, PooledConnectionsIdleLongerThanIdleTimeoutAreNotReused) {
  auto server = StartServer(Ok());
  ClientOptions options;
  options.idle_timeout = 1ms;
  Client client(options);
  const Endpoint endpoint = Local(server->local_endpoint().port());

  ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());

  EXPECT_EQ(ClientPorts(), 2u);
}

TEST_F(ClientTest, ShutdownClosesIdleConnections) {
  auto server = StartServer(Ok());
  Client client({});
  const Endpoint endpoint = Local(server->local_endpoint().port());

  ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());
  ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());
  EXPECT_EQ(ClientPorts(), 1u);
  client.Shutdown();
  ASSERT_TRUE(Send(client, endpoint, Get("/")).has_value());

  EXPECT_EQ(ClientPorts(), 2u);
}

TEST_F(ClientTest, TlsEndpointWithoutTlsContextIsRefused) {
  Client client({});
  Endpoint endpoint{"127.0.0.1", 1, true, ""};

  auto result = Send(client, endpoint, Get("/"));

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition);
}


TEST_F(ClientTest, BlockingClientSendsFromAThreadWithoutALoopAndReusesItsConnection) {
  auto server = StartServer(Ok("blocking"));
  BlockingClient client({});
  const Endpoint endpoint = Local(server->local_endpoint().port());

  auto first = client.Send(endpoint, Request(bhttp::verb::get, "/a", 11), 5s);
  auto second = client.Send(endpoint, Request(bhttp::verb::get, "/b", 11), 5s);

  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(first->response.body(), "blocking");
  EXPECT_EQ(second->response.body(), "blocking");
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(ClientPorts(), 1u);  // the second call went over the kept connection
}

TEST_F(ClientTest, BlockingClientReportsAClosedPort) {
  uint16_t port = 0;
  {
    auto server = StartServer(Ok());
    port = server->local_endpoint().port();
  }
  BlockingClient client({});
  auto result = client.Send(Local(port), Request(bhttp::verb::get, "/", 11), 5s);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace troad::http
