// What `troad tsa` and `troad ledger` share: a plain-HTTP server on one event loop that
// runs until SIGINT or SIGTERM.
#pragma once

#include <signal.h>

#include <functional>
#include <string>
#include <string_view>

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

}  // namespace troad::cli
