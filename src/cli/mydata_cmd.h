// `troad mydata …`: run MyData, and the operator's commands on its database:
//   troad mydata init --dir D [--public-url URL] [--listen IP:PORT]
//   troad mydata --config mydata.toml                                 run it
//   troad mydata dataset add|update --config mydata.toml --file dataset.json
//   troad mydata dataset list|show|disable|enable --config mydata.toml [--id ID]
//   troad mydata sp add|update|list|show|disable|enable …            service providers
//   troad mydata rotate-key --config mydata.toml
//   troad mydata package verify --file P.zip --globalconf G.json [--jwks J] [--password-file F]
//   troad mydata consent verify --file record.jws --jwks J
// The files are the management API's JSON (docs/mydata.md, "Management API"). The
// commands open the database directly (SQLite allows it while MyData runs); the
// management API (/api/v1) does the same over HTTP.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace troad::cli {

struct MyDataCommands;
std::shared_ptr<MyDataCommands> AddMyDataCommands(CLI::App& app);
// The exit status when a mydata command was chosen, else nullopt.
std::optional<int> RunMyDataCommand(const MyDataCommands& commands);

}  // namespace troad::cli
