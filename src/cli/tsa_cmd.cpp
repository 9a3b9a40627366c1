// `troad tsa`: an RFC 3161 timestamping authority on its own (central/tsa_service.h),
// for networks without a central (`troad init` with [tsa]) or an agency that runs its
// own. Plain HTTP: a token proves itself (it is signed), so the transport adds nothing
// to its trust; gateways accept only authorities their global configuration lists.
// Stops on SIGINT or SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "central/tsa_service.h"
#include "cli/commands.h"
#include "cli/serve.h"
#include "core/log.h"
#include "core/net.h"
#include "http/server.h"

namespace troad::cli {

int RunTsa(const TsaOptions& options) {
  const sigset_t signals = BlockStopSignals();
  auto fail = [](const std::string& message, int status) {
    std::fprintf(stderr, "troad tsa: %s\n", message.c_str());
    return status;
  };
  if (auto st = InitLogging("tsa", options.log_level, LogFormat::kJson); !st) {
    return fail(st.error().message(), 2);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return fail("cannot create " + options.data_dir + ": " + ec.message(), 1);

  central::TsaOptions tsa_options;
  tsa_options.certificate_file = options.certificate_file;
  tsa_options.key_file = options.key_file;
  tsa_options.policy = options.policy;
  tsa_options.accuracy_ms = options.accuracy_ms;
  auto tsa = central::TsaService::Create(tsa_options, options.data_dir + "/tsa-serial",
                                         SystemClock::Get());
  if (!tsa) return fail(tsa.error().message(), 1);

  http::ServerOptions server_options;
  server_options.server_name = "troad-tsa";
  server_options.body_limit = 64 * 1024;
  central::TsaService* service = tsa->get();
  const int status = ServeUntilSignalled(
      signals, "tsa", options.listen, server_options,
      [service](http::Request& req,
                const http::ConnectionInfo&) -> boost::asio::awaitable<http::Response> {
        if (req.target() == "/tsa") co_return service->Handle(req);
        if (req.target() == "/healthz") {
          co_return http::MakeResponse(200, "{\"status\":\"ok\"}\n", "application/json",
                                       req.version(), req.keep_alive());
        }
        co_return http::MakeResponse(404, "the timestamping authority is at POST /tsa\n",
                                     "text/plain; charset=utf-8", req.version(),
                                     req.keep_alive());
      },
      [&] {
        spdlog::info("timestamping authority {} listening on http://{}/tsa",
                     (*tsa)->certificate().Subject(), options.listen);
      });
  if (status == 0) {
    spdlog::info("timestamping authority stopped ({} tokens issued)", (*tsa)->tokens_issued());
  }
  return status;
}

}  // namespace troad::cli
