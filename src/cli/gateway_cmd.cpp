// `troad gateway --config gateway.toml`
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/init.h"
#include "core/log.h"
#include "gateway/gateway.h"

namespace troad::cli {

int RunGateway(const GatewayOptions& options) {
  // Block SIGINT/SIGTERM in every thread (threads inherit the mask: the message log's
  // writer and the io threads are started later); one thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto config = gateway::GatewayConfig::Load(options.config_file);
  if (!config) {
    std::fprintf(stderr, "troad gateway: %s\n", config.error().message().c_str());
    return 2;
  }
  if (auto st = InitLogging("gateway", config->log_level,
                            config->log_json ? LogFormat::kJson : LogFormat::kText);
      !st) {
    std::fprintf(stderr, "troad gateway: %s\n", st.error().message().c_str());
    return 2;
  }
  auto gw = gateway::Gateway::Create(std::move(*config), SystemClock::Get());
  if (!gw) {
    std::fprintf(stderr, "troad gateway: %s\n", gw.error().message().c_str());
    return 1;
  }
  if (auto st = (*gw)->Start(); !st) {
    std::fprintf(stderr, "troad gateway: %s\n", st.error().message().c_str());
    return 1;
  }
  // SIGINT/SIGTERM stop the gateway gracefully: listeners close, exchanges in
  // progress finish, the message log is flushed. SIGHUP reloads the key and
  // certificate files (after `troad gateway renew`) without a restart.
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGHUP) {
        if (auto st = (*gw)->ReloadKeys(); !st) {
          spdlog::error("SIGHUP: keys not reloaded: {}", st.error().message());
        }
        continue;
      }
      spdlog::info("signal {}: stopping", sig);
      (*gw)->Stop();
      return;
    }
  });
  (*gw)->Run();
  waiter.join();
  spdlog::info("gateway stopped");
  return 0;
}

int RunInit(const InitOptions& options) {
  auto result = InitNetwork(options.network_file, options.out_dir, SystemClock::Get());
  if (!result) {
    std::fprintf(stderr, "troad init: %s\n", result.error().message().c_str());
    return 1;
  }
  std::printf("global configuration: %s\n", result->globalconf_file.c_str());
  for (const auto& c : result->gateway_configs) {
    std::printf("gateway: troad gateway --config %s\n", c.c_str());
  }
  if (!result->tsa_dir.empty()) {
    std::printf("timestamping authority: see %s/README (troad tsa)\n", result->tsa_dir.c_str());
  }
  return 0;
}

}  // namespace troad::cli
