// Test-only helpers for troad_http tests: an io_context running on its own thread,
// running a coroutine there from the test thread, and a raw blocking TCP
// connection for writing what no well-behaved client would. Not part of troad_http.
// Thread-safety: IoThread::Run may be called from any thread but the loop's own;
// RawConnection is for one thread.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <string_view>
#include <thread>

#include "http/types.h"

namespace troad::http::testing {

class IoThread {
 public:
  IoThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& io() { return io_; }

  // Starts `awaitable` on the loop; the future holds its result.
  template <class T>
  std::future<T> Start(asio::awaitable<T> awaitable) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    asio::co_spawn(io_, std::move(awaitable), [promise](std::exception_ptr error, T value) {
      if (error) {
        promise->set_exception(error);
      } else {
        promise->set_value(std::move(value));
      }
    });
    return future;
  }

  // Runs `awaitable` on the loop and waits for its result.
  template <class T>
  T Run(asio::awaitable<T> awaitable) {
    return Start(std::move(awaitable)).get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// Suspends the calling coroutine for `duration`.
inline asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// A blocking client socket to 127.0.0.1. Reads give up after 10 s: a safety net so
// that a server that never closes fails the test instead of hanging it.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{};
    timeout.tv_sec = 10;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Received {
    std::string data;
    bool closed = false;     // the server closed (or reset) the connection
    bool timed_out = false;  // the safety net fired: the server kept it open
  };

  // Reads until the server closes the connection.
  Received ReadUntilClose() { return ReadUntil(std::string_view()); }

  // Reads until the data received ends with `suffix` (if not empty), or the server
  // closes the connection.
  Received ReadUntil(std::string_view suffix) {
    Received received;
    char chunk[4096];
    for (;;) {
      if (!suffix.empty() && received.data.ends_with(suffix)) return received;
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        received.data.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || errno == ECONNRESET) {
        received.closed = true;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        received.timed_out = true;
      }
      return received;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace troad::http::testing
