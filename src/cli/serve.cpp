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
  auto endpoint = http::ListenEndpoint(listen);
  if (!endpoint) return fail("--" + endpoint.error().message(), 2);
  boost::asio::io_context io;
  auto server = http::Server::Create(io, *endpoint, nullptr, std::move(handler), options);
  if (!server) return fail(server.error().message(), 1);
  (*server)->Start();
  started();
  RunUntilSignalled(
      signals, [&] { io.run(); },
      [&] {
        (*server)->Stop(std::chrono::milliseconds(2000));
        io.stop();
      });
  return 0;
}

void RunUntilSignalled(const sigset_t& signals, const std::function<void()>& run,
                       const std::function<void()>& stop) {
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    stop();
  });
  run();
  waiter.join();
}

}  // namespace troad::cli
