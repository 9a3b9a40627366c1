// `troad ledger`: the transparency ledger on its own (central/ledger_service.h), for
// networks without a central (`troad init` with [ledger]). Plain HTTP: an add is
// proven by the gateway's signature and everything read proves itself (signed
// checkpoints and proofs), so the transport adds nothing to the trust. Who may add is
// read from the network's globalconf.json, reread when it changes. Runs at nice 10 by
// default (--nice): its appends are bursts nobody waits for in an exchange. Stops on
// SIGINT or SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "central/ledger_service.h"
#include "cli/commands.h"
#include "cli/serve.h"
#include "core/log.h"
#include "core/net.h"
#include "core/thread.h"
#include "globalconf/model.h"
#include "http/server.h"

namespace troad::cli {

int RunLedgerServer(const LedgerServerOptions& options) {
  const sigset_t signals = BlockStopSignals();
  auto fail = [](const std::string& message, int status) {
    std::fprintf(stderr, "troad ledger: %s\n", message.c_str());
    return status;
  };
  if (auto st = InitLogging("ledger", options.log_level, LogFormat::kJson); !st) {
    return fail(st.error().message(), 2);
  }
  // Before any thread starts: they inherit it.
  if (options.nice > 0) spdlog::info("ledger: {}", LowerProcessPriority(options.nice));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return fail("cannot create " + options.data_dir + ": " + ec.message(), 1);
  if (auto first = globalconf::GlobalConf::LoadFile(options.globalconf_file); !first) {
    return fail(first.error().message(), 1);
  }

  // The configuration, reread when the file's modification time changes; a copy that
  // does not parse is reported and the last good one kept.
  std::mutex mu;
  std::shared_ptr<const globalconf::GlobalConf> held;
  std::filesystem::file_time_type held_mtime{};
  auto conf = [&]() -> std::shared_ptr<const globalconf::GlobalConf> {
    std::lock_guard lock(mu);
    std::error_code mtime_ec;
    const auto mtime = std::filesystem::last_write_time(options.globalconf_file, mtime_ec);
    if (!held || (!mtime_ec && mtime != held_mtime)) {
      auto loaded = globalconf::GlobalConf::LoadFile(options.globalconf_file);
      if (loaded) {
        held = std::move(*loaded);
        held_mtime = mtime;
      } else {
        spdlog::error("keeping the global configuration held: {}", loaded.error().message());
      }
    }
    return held;
  };
  central::LedgerOptions ledger_options{options.key_file, options.origin};
  auto ledger = central::LedgerService::Create(ledger_options, options.data_dir + "/ledger.db",
                                               SystemClock::Get(), conf);
  if (!ledger) return fail(ledger.error().message(), 1);

  http::ServerOptions server_options;
  server_options.server_name = "troad-ledger";
  server_options.body_limit = 8 * 1024 * 1024;
  central::LedgerService* service = ledger->get();
  // Requests run on the service's own worker thread, at background priority (Serve).
  const int status = ServeUntilSignalled(
      signals, "ledger", options.listen, server_options,
      [service](http::Request& req,
                const http::ConnectionInfo&) -> boost::asio::awaitable<http::Response> {
        if (req.target() == "/healthz") {
          co_return http::MakeResponse(200, "{\"status\":\"ok\"}\n", "application/json",
                                       req.version(), req.keep_alive());
        }
        co_return co_await service->Serve(req);
      },
      [&] {
        spdlog::info("ledger {} listening on http://{}/ledger/v1 ({} entries)", options.origin,
                     options.listen, (*ledger)->size());
      });
  if (status == 0) spdlog::info("ledger stopped ({} entries)", (*ledger)->size());
  return status;
}

}  // namespace troad::cli
