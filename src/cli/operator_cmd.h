// The operator CLI: `troad login`, `troad member …`, `troad gateway list|register|…`,
// `troad grant …` and the other commands an operator or a member administrator uses
// instead of curl against the central's management API (docs/central.md, "The
// operator CLI"). Each command is one or two API calls (cli/operator_client.h) and a
// table or summary of the answer; `--json` prints the answer as the API gave it.
//
// Exit codes: 0 done; 2 a usage or input error (also the API's InvalidArgument);
// 1 refused or failed (not logged in, not allowed, not found, conflict, unreachable).
//
// Thread-safety: not applicable (commands of a single-threaded process).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "globalconf/model.h"

namespace CLI {
class App;
}

namespace troad::cli {

struct OperatorCommands;

// Adds the operator commands to `app`: new top-level subcommands, and list, register,
// update and code under the existing "gateway" subcommand (which must exist).
std::shared_ptr<OperatorCommands> AddOperatorCommands(CLI::App& app);

// Runs the operator command that was parsed and returns its exit code; nullopt when
// the command line chose none of them.
std::optional<int> RunOperatorCommand(const OperatorCommands& commands);

// ---- pure helpers, exposed for tests ----

// "GET /persons/{id}" → {GET, /persons/{id}}; "*" → {*, *}. The method is upper-cased.
// kInvalidArgument with what is wrong (globalconf::EndpointProblem's rules).
Result<globalconf::Endpoint> ParseEndpointRule(std::string_view text);

// Columns a terminal gives `text`: East Asian wide characters count two, combining
// marks none, others one.
size_t DisplayWidth(std::string_view text);

// A table with a header row, columns two spaces apart and aligned by display width,
// cells made safe to print (control characters become spaces), no trailing spaces.
// "(none)\n" when there are no rows.
std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

// "2026-11-24T08:30:00.123Z" → "2026-11-24 08:30:00Z"; other text unchanged.
std::string ShortTime(std::string_view rfc3339);

}  // namespace troad::cli
