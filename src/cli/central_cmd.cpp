// `troad central init …` and `troad central --config central.toml`
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "central/central.h"
#include "cli/commands.h"
#include "core/file.h"
#include "core/log.h"

namespace troad::cli {

int RunCentralInit(const CentralOptions& options) {
  central::InitCentralOptions init;
  init.dir = options.dir;
  init.instance = options.instance;
  init.listen = options.listen;
  init.public_host = options.public_host;
  init.admin_username = options.admin_user;
  if (options.admin_password_file == "-") {
    std::getline(std::cin, init.admin_password);
  } else if (!options.admin_password_file.empty()) {
    auto text = ReadFile(options.admin_password_file);
    if (!text) {
      std::fprintf(stderr, "troad central init: %s\n", text.error().message().c_str());
      return 2;
    }
    init.admin_password = text->substr(0, text->find('\n'));
  } else if (const char* env = std::getenv("TROAD_ADMIN_PASSWORD")) {
    init.admin_password = env;
  } else {
    std::fprintf(stderr,
                 "troad central init: the first operator needs a password: "
                 "--admin-password-file FILE, '-' for standard input, or TROAD_ADMIN_PASSWORD\n");
    return 2;
  }
  auto result = central::InitCentral(init, SystemClock::Get());
  if (!result) {
    std::fprintf(stderr, "troad central init: %s\n", result.error().message().c_str());
    return 1;
  }
  std::printf("central configuration: %s\n", result->config_file.c_str());
  std::printf("anchor for gateways:   %s\n", result->anchor_file.c_str());
  std::printf("start it:              troad central --config %s\n", result->config_file.c_str());
  return 0;
}

int RunCentral(const CentralOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto config = central::CentralConfig::Load(options.config_file);
  if (!config) {
    std::fprintf(stderr, "troad central: %s\n", config.error().message().c_str());
    return 2;
  }
  if (auto st = InitLogging("central", config->log_level,
                            config->log_json ? LogFormat::kJson : LogFormat::kText);
      !st) {
    std::fprintf(stderr, "troad central: %s\n", st.error().message().c_str());
    return 2;
  }
  auto c = central::Central::Create(std::move(*config), SystemClock::Get());
  if (!c) {
    std::fprintf(stderr, "troad central: %s\n", c.error().message().c_str());
    return 1;
  }
  if (auto st = (*c)->Start(); !st) {
    std::fprintf(stderr, "troad central: %s\n", st.error().message().c_str());
    return 1;
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    (*c)->Stop();
  });
  (*c)->Run();
  waiter.join();
  spdlog::info("central stopped");
  return 0;
}

}  // namespace troad::cli
