// Server behaviour over real sockets on 127.0.0.1: round trips, keep-alive, limits,
// malformed and slow requests, connection limits and graceful stop.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>
#include <mutex>
#include <set>
#include <stdexcept>

#include "http/client.h"
#include "http/test_util.h"

namespace troad::http {
namespace {

using namespace std::chrono_literals;
using testing::IoThread;
using testing::RawConnection;

Request MakeRequest(bhttp::verb method, std::string target, std::string body = "") {
  Request request(method, target, 11);
  request.body() = std::move(body);
  return request;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(Handler handler, ServerOptions options = {}) {
    auto server = Server::Create(io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                 nullptr, std::move(handler), std::move(options));
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
    server_->Start();
    endpoint_.host = "127.0.0.1";
    endpoint_.port = server_->local_endpoint().port();
  }

  // A handler that answers 200 with "<method> <target> <body>" and counts its calls.
  Handler CountingEcho() {
    return [this](Request& request, const ConnectionInfo&) -> asio::awaitable<Response> {
      ++calls_;
      co_return MakeResponse(
          200, fmt::format("{} {} {}", request.method_string(), request.target(), request.body()),
          "text/plain");
    };
  }

  Result<ClientResponse> Send(Request request) {
    return io_.Run(client_.Send(endpoint_, std::move(request), 5s));
  }

  IoThread io_;
  Client client_{ClientOptions{}};
  std::unique_ptr<Server> server_;
  Endpoint endpoint_;
  std::atomic<int> calls_{0};
};

TEST_F(ServerTest, RoundTripReachesHandlerAndReturnsItsResponse) {
  ConnectionInfo seen;
  ServerOptions options;
  options.server_name = "troad-test";
  StartServer(
      [&](Request& request, const ConnectionInfo& info) -> asio::awaitable<Response> {
        seen = info;
        co_return MakeResponse(201, "got " + request.body(), "text/plain");
      },
      options);

  auto result = Send(MakeRequest(bhttp::verb::post, "/items", "hello"));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.result_int(), 201u);
  EXPECT_EQ(result->response.body(), "got hello");
  EXPECT_EQ(result->response[bhttp::field::server], "troad-test");
  EXPECT_EQ(result->response[bhttp::field::content_type], "text/plain");
  EXPECT_FALSE(result->peer_certificate.has_value());
  EXPECT_EQ(seen.remote.address().to_string(), "127.0.0.1");
  EXPECT_EQ(seen.local.port(), endpoint_.port);
  EXPECT_FALSE(seen.tls);
  EXPECT_FALSE(seen.peer_certificate.has_value());
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  std::mutex mu;
  std::set<uint16_t> client_ports;
  StartServer([&](Request&, const ConnectionInfo& info) -> asio::awaitable<Response> {
    std::lock_guard lock(mu);
    client_ports.insert(info.remote.port());
    co_return MakeResponse(200, "ok", "text/plain");
  });

  for (int i = 0; i < 20; ++i) {
    auto result = Send(MakeRequest(bhttp::verb::get, "/"));
    ASSERT_TRUE(result.has_value()) << result.error().ToString();
    EXPECT_EQ(result->response.result_int(), 200u);
  }

  std::lock_guard lock(mu);
  EXPECT_EQ(client_ports.size(), 1u);
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(ServerTest, OversizedBodyIsRefusedWith413FromErrorResponse) {
  ServerOptions options;
  options.body_limit = 16;
  options.error_response = [](unsigned status, std::string reason) {
    return MakeResponse(status, fmt::format(R"({{"error":"{}"}})", reason), "application/json");
  };
  StartServer(CountingEcho(), options);

  auto result = Send(MakeRequest(bhttp::verb::post, "/upload", std::string(1000, 'x')));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.result_int(), 413u);
  EXPECT_EQ(result->response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(result->response.body(), R"({"error":"request body too large"})");
  EXPECT_FALSE(result->response.keep_alive());
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, BodyWithinLimitIsAccepted) {
  ServerOptions options;
  options.body_limit = 16;
  StartServer(CountingEcho(), options);

  auto result = Send(MakeRequest(bhttp::verb::post, "/upload", std::string(16, 'x')));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.result_int(), 200u);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ServerTest, OversizedHeadersAreRefusedWith431) {
  ServerOptions options;
  options.header_limit = 1024;
  StartServer(CountingEcho(), options);
  Request request = MakeRequest(bhttp::verb::get, "/");
  request.set("X-Padding", std::string(4000, 'p'));

  auto result = Send(std::move(request));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.result_int(), 431u);
  EXPECT_EQ(result->response.body(), "request header fields too large\n");
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, MalformedRequestIsRefusedWith400AndClosed) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send("this is not http\r\n\r\n"));
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_TRUE(received.data.starts_with("HTTP/1.1 400 Bad Request\r\n")) << received.data;
  EXPECT_NE(received.data.find("Connection: close"), std::string::npos) << received.data;
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, SlowRequestIsCutOffAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout = 200ms;
  StartServer(CountingEcho(), options);
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\nHost: slow\r\n"));  // and never the blank line
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_FALSE(received.timed_out);
  EXPECT_EQ(received.data, "");
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(CountingEcho(), options);
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send("GET /once HTTP/1.1\r\nHost: idle\r\n\r\n"));
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_FALSE(received.timed_out);
  EXPECT_TRUE(received.data.starts_with("HTTP/1.1 200 OK\r\n")) << received.data;
  EXPECT_TRUE(received.data.ends_with("GET /once ")) << received.data;
  EXPECT_EQ(calls_, 1);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_FALSE(received.timed_out);
  EXPECT_TRUE(received.data.starts_with("HTTP/1.1 200 OK\r\n")) << received.data;
  EXPECT_NE(received.data.find("Connection: close\r\n"), std::string::npos) << received.data;
}

TEST_F(ServerTest, Http10RequestGetsHttp10ResponseAndClose) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send("GET /old HTTP/1.0\r\n\r\n"));
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_FALSE(received.timed_out);
  EXPECT_TRUE(received.data.starts_with("HTTP/1.0 200 OK\r\n")) << received.data;
  EXPECT_TRUE(received.data.ends_with("GET /old ")) << received.data;
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send(
      "POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  const size_t first = received.data.find("POST /first abc");
  const size_t second = received.data.find("GET /second ");
  ASSERT_NE(first, std::string::npos) << received.data;
  ASSERT_NE(second, std::string::npos) << received.data;
  EXPECT_LT(first, second);
  EXPECT_EQ(calls_, 2);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredBeforeTheBodyIsRead) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());

  ASSERT_TRUE(raw.Send(
      "PUT /doc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = raw.ReadUntil("\r\n\r\n");
  ASSERT_EQ(interim.data, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(raw.Send("body"));
  auto final_response = raw.ReadUntil("PUT /doc body");

  EXPECT_TRUE(final_response.data.starts_with("HTTP/1.1 200 OK\r\n")) << final_response.data;
  EXPECT_EQ(calls_, 1);
}

TEST_F(ServerTest, ConnectionsBeyondMaxConnectionsAreClosedAtOnce) {
  ServerOptions options;
  options.max_connections = 1;
  StartServer(CountingEcho(), options);
  auto first = Send(MakeRequest(bhttp::verb::get, "/"));  // stays open in the client's pool
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_EQ(server_->active_connections(), 1u);

  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());  // the kernel accepts; the server closes it
  raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_EQ(received.data, "");
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(ServerTest, HandlerExceptionBecomes500) {
  StartServer([](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    throw std::runtime_error("handler bug");
    co_return Response();
  });

  auto result = Send(MakeRequest(bhttp::verb::get, "/"));

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.result_int(), 500u);
  EXPECT_FALSE(result->response.keep_alive());
}

TEST_F(ServerTest, StopLetsAnInFlightRequestFinish) {
  std::promise<void> entered;
  StartServer([&](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    entered.set_value();
    co_await testing::Sleep(300ms);
    co_return MakeResponse(200, "finished", "text/plain");
  });
  auto pending = io_.Start(client_.Send(endpoint_, MakeRequest(bhttp::verb::get, "/slow"), 10s));
  entered.get_future().wait();

  server_->Stop(10s);
  auto result = pending.get();

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.body(), "finished");
  EXPECT_FALSE(result->response.keep_alive());  // the server is going away
  EXPECT_EQ(server_->active_connections(), 0u);
  auto after = Send(MakeRequest(bhttp::verb::get, "/"));
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), ErrorCode::kUnavailable);
}

TEST_F(ServerTest, StopClosesIdleKeepAliveConnections) {
  StartServer(CountingEcho());
  RawConnection raw(endpoint_.port);
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = raw.ReadUntil("GET / ");  // the body: the response is complete
  ASSERT_TRUE(response.data.starts_with("HTTP/1.1 200 OK\r\n")) << response.data;
  ASSERT_FALSE(response.closed);

  server_->Stop(10s);
  auto received = raw.ReadUntilClose();

  EXPECT_TRUE(received.closed);
  EXPECT_EQ(received.data, "");
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, StopClosesConnectionsWhoseHandlerOutlastsTheGrace) {
  std::promise<void> entered;
  StartServer([&](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    entered.set_value();
    co_await testing::Sleep(2s);
    co_return MakeResponse(200, "too late", "text/plain");
  });
  auto pending = io_.Start(client_.Send(endpoint_, MakeRequest(bhttp::verb::get, "/stuck"), 10s));
  entered.get_future().wait();

  server_->Stop(50ms);
  auto result = pending.get();

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable) << result.error().ToString();
}

TEST(ServerCreateTest, BindingAPortInUseFails) {
  IoThread io;
  auto handler = [](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
    co_return MakeResponse(200, "", "text/plain");
  };
  auto first = Server::Create(io.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                              nullptr, handler, {});
  ASSERT_TRUE(first.has_value());
  (*first)->Start();

  // SO_REUSEADDR does not let a second listener share the port.
  auto second = Server::Create(io.io(), (*first)->local_endpoint(), nullptr, handler, {});

  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message().find("binding 127.0.0.1:"), std::string::npos)
      << second.error().message();
}


// A server on an IoPool: connections go to the pool's loops in turn, each connection
// stays on its loop's one thread for all its requests, a client that reuses
// connections keeps one pool per loop, and Stop from outside ends everything.
TEST(ServerOnPoolTest, SpreadsConnectionsOverLoopsAndKeepsEachOnOneThread) {
  IoPool pool(2);
  std::mutex mu;
  std::map<uint16_t, std::set<std::thread::id>> threads_by_connection;
  auto server = Server::Create(
      pool, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), nullptr,
      [&](Request&, const ConnectionInfo& info) -> asio::awaitable<Response> {
        std::lock_guard lock(mu);
        threads_by_connection[info.remote.port()].insert(std::this_thread::get_id());
        co_return MakeResponse(200, "ok", "text/plain");
      },
      {});
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  (*server)->Start();
  std::thread runner([&] { pool.Run(); });

  Endpoint endpoint{"127.0.0.1", (*server)->local_endpoint().port(), false, ""};
  // Four clients on their own loop, each sending three requests on one connection.
  for (int c = 0; c < 4; ++c) {
    IoThread io;
    Client client{ClientOptions{}};
    for (int i = 0; i < 3; ++i) {
      auto result = io.Run(client.Send(endpoint, MakeRequest(bhttp::verb::get, "/"), 5s));
      ASSERT_TRUE(result.has_value()) << result.error().ToString();
      EXPECT_EQ(result->response.result_int(), 200u);
    }
  }

  (*server)->Stop(1s);
  pool.Stop();
  runner.join();
  EXPECT_EQ((*server)->active_connections(), 0u);

  std::lock_guard lock(mu);
  ASSERT_EQ(threads_by_connection.size(), 4u);
  std::set<std::thread::id> all_threads;
  for (const auto& [port, threads] : threads_by_connection) {
    EXPECT_EQ(threads.size(), 1u) << "connection from port " << port << " changed threads";
    all_threads.insert(threads.begin(), threads.end());
  }
  EXPECT_EQ(all_threads.size(), 2u) << "connections were not spread over both loops";
}

// Send reuses a connection only on the loop that opened it.
TEST(ClientOnPoolTest, ReusesConnectionsOnlyOnTheirOwnLoop) {
  IoThread server_io;
  std::mutex mu;
  std::set<uint16_t> client_ports;
  auto server = Server::Create(
      server_io.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), nullptr,
      [&](Request&, const ConnectionInfo& info) -> asio::awaitable<Response> {
        std::lock_guard lock(mu);
        client_ports.insert(info.remote.port());
        co_return MakeResponse(200, "ok", "text/plain");
      },
      {});
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  (*server)->Start();
  Endpoint endpoint{"127.0.0.1", (*server)->local_endpoint().port(), false, ""};

  Client client{ClientOptions{}};  // one client, used from two loops
  IoThread a;
  IoThread b;
  for (int i = 0; i < 3; ++i) {
    for (IoThread* loop : {&a, &b}) {
      auto result = loop->Run(client.Send(endpoint, MakeRequest(bhttp::verb::get, "/"), 5s));
      ASSERT_TRUE(result.has_value()) << result.error().ToString();
    }
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(client_ports.size(), 2u) << "one connection per loop, each reused";
}

}  // namespace
}  // namespace troad::http
