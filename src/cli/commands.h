// The subcommands of the troad binary; each is one file in src/cli.
#pragma once

#include <string>
#include <vector>

namespace troad::cli {

struct GatewayOptions {
  std::string config_file;
};
int RunGateway(const GatewayOptions& options);

struct InitOptions {
  std::string network_file;
  std::string out_dir;
};
int RunInit(const InitOptions& options);

struct DemoOptions {
  std::string dir = "demo-data";
  std::string examples_dir;  // "" = find next to the binary or the source tree
  bool keep_running = true;  // false: run the scenarios and stop (used by tests and CI)
};
int RunDemo(const DemoOptions& options);

}  // namespace troad::cli
