// troad: one binary, several roles (docs/architecture.md). Each subcommand is a
// separate process role or an operator command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "troad — T-Road data exchange: gateways that sign, authorise and record every call.\n"
      "Run `troad demo` for a whole network on this machine."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "troad 0.1.0");

  troad::cli::GatewayOptions gateway;
  auto* gw = app.add_subcommand("gateway", "Run a gateway (consumer, provider and admin ports)");
  gw->add_option("-c,--config", gateway.config_file, "gateway.toml")->required();

  troad::cli::InitOptions init;
  auto* in =
      app.add_subcommand("init",
                         "Make a local network: CA, keys, certificates, gateway.toml files, global "
                         "configuration");
  in->add_option("-n,--network", init.network_file, "network description (TOML)")->required();
  in->add_option("-o,--out", init.out_dir, "output directory")->required();

  troad::cli::DemoOptions demo;
  auto* dm = app.add_subcommand(
      "demo",
      "Start two agencies' gateways and information systems on loopback and run the "
      "scenarios");
  dm->add_option("--dir", demo.dir, "working directory (wiped and recreated)");
  dm->add_option("--examples", demo.examples_dir, "the examples/ directory");
  bool once = false;
  dm->add_flag("--once", once, "run the scenarios, then stop instead of waiting for Ctrl-C");

  CLI11_PARSE(app, argc, argv);
  if (*gw) return troad::cli::RunGateway(gateway);
  if (*in) return troad::cli::RunInit(init);
  if (*dm) {
    demo.keep_running = !once;
    return troad::cli::RunDemo(demo);
  }
  return 2;
}
