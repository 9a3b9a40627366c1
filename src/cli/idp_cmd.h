// `troad idp …`: run the identity centre, and the operator's commands on its database:
//   troad idp init --dir D [--issuer URL] [--listen IP:PORT]
//   troad idp --config idp.toml                          run it
//   troad idp client add|list|show|disable|enable|secret --config idp.toml …
//   troad idp person add --config idp.toml --national-id … --name … [--mobile …]
//   troad idp rotate-key --config idp.toml
// The operator commands open the database directly (SQLite allows it while the idp
// runs); the management API (/api/v1) does the same over HTTP.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace troad::cli {

struct IdpCommands;
std::shared_ptr<IdpCommands> AddIdpCommands(CLI::App& app);
// The exit status when an idp command was chosen, else nullopt.
std::optional<int> RunIdpCommand(const IdpCommands& commands);

}  // namespace troad::cli
