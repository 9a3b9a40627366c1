#include "cli/serve.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <thread>

#include "core/net.h"

namespace troad::cli {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int ServeUntilSignalled(const sigset_t& signals, std::string_view command,
                        const std::string& listen, http::ServerOptions options,
                        http::Handler handler, const std::function<void()>& started) {
  auto fail = [command](const std::string& message, int status) {
    std::fprintf(stderr, "troad %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 message.c_str());
    return status;
  };
  auto hp = SplitHostPort(listen);
  if (!hp) return fail("--listen: " + hp.error().message(), 2);
  boost::system::error_code bec;
  auto address = boost::asio::ip::make_address(hp->first, bec);
  if (bec) return fail("--listen: \"" + hp->first + "\" is not an IP address", 2);
  boost::asio::io_context io;
  auto server = http::Server::Create(io, http::tcp::endpoint(address, hp->second), nullptr,
                                     std::move(handler), options);
  if (!server) return fail(server.error().message(), 1);
  (*server)->Start();
  started();
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    (*server)->Stop(std::chrono::milliseconds(2000));
    io.stop();
  });
  io.run();
  waiter.join();
  return 0;
}

}  // namespace troad::cli
