// What the long-running subcommands share: running until SIGINT or SIGTERM — a plain
// HTTP server on one event loop (`troad tsa`, `troad ledger`), or a process object
// with Create/Start/Run/Stop (`troad idp`, `troad mydata`).
#pragma once

#include <signal.h>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/log.h"
#include "http/server.h"

namespace troad::cli {

// Blocks SIGINT and SIGTERM in this thread and every thread started after it (call it
// first thing), so that ServeUntilSignalled receives them with sigwait.
sigset_t BlockStopSignals();

// Serves `handler` on `listen` ("IP:port", plain HTTP) on the calling thread until one
// of `signals` arrives, then stops gracefully (2 s). `started` runs once listening.
// Returns the exit status: 0 after a signal; 2 for a bad --listen, 1 when the server
// cannot start — each with "troad <command>: <why>" on stderr.
int ServeUntilSignalled(const sigset_t& signals, std::string_view command,
                        const std::string& listen, http::ServerOptions options,
                        http::Handler handler, const std::function<void()>& started);

// Calls `run` on this thread; when one of `signals` arrives, calls `stop` from another
// thread (which must make `run` return) and returns.
void RunUntilSignalled(const sigset_t& signals, const std::function<void()>& run,
                       const std::function<void()>& stop);

// `troad <name> --config FILE` for a process whose Config has Load(path) and a
// LogSettings `log`, and whose Process has Create(Config, Clock) → Result<unique_ptr>,
// Start(), Run() and Stop(): loads, starts logging, creates, starts, runs until SIGINT or
// SIGTERM. Exit status 2 for a bad configuration, 1 when it cannot start, 0 after a
// signal; errors as "troad <name>: <why>" on stderr.
template <typename Process, typename Config>
int RunService(const std::string& name, const std::string& config_file) {
  sigset_t signals = BlockStopSignals();
  auto fail = [&name](const std::string& message, int status) {
    std::fprintf(stderr, "troad %s: %s\n", name.c_str(), message.c_str());
    return status;
  };
  auto config = Config::Load(config_file);
  if (!config) return fail(config.error().message(), 2);
  if (auto st = InitLogging(name, config->log.level,
                            config->log.json ? LogFormat::kJson : LogFormat::kText);
      !st) {
    return fail(st.error().message(), 2);
  }
  auto process = Process::Create(std::move(*config), SystemClock::Get());
  if (!process) return fail(process.error().message(), 1);
  if (auto st = (*process)->Start(); !st) return fail(st.error().message(), 1);
  RunUntilSignalled(signals, [&] { (*process)->Run(); }, [&] { (*process)->Stop(); });
  spdlog::info("{} stopped", name);
  return 0;
}

}  // namespace troad::cli
