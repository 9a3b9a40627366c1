// troad: one binary, several roles (docs/architecture.md). Each subcommand is a
// separate process role or an operator command.
#include <CLI/CLI.hpp>
#include <cstdio>

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

  troad::cli::CentralOptions central;
  auto* ce = app.add_subcommand(
      "central", "Run the central server: registry, CA, access applications, global configuration");
  ce->add_option("-c,--config", central.config_file, "central.toml");
  ce->require_subcommand(0, 1);
  auto* ce_init = ce->add_subcommand(
      "init", "Make a new central: CA, configuration key, TLS certificate, central.toml, "
              "anchor.json, database and the first operator account");
  ce_init->add_option("--dir", central.dir, "directory to create")->required();
  ce_init->add_option("--instance", central.instance, "instance code (default TW)");
  ce_init->add_option("--listen", central.listen, "address:port (default 127.0.0.1:4400)");
  ce_init->add_option("--public-host", central.public_host,
                      "host name or address gateways use (default: the listen address)");
  ce_init->add_option("--admin-user", central.admin_user, "first operator's user name");
  ce_init->add_option("--admin-password-file", central.admin_password_file,
                      "file with the first operator's password ('-': standard input; default: "
                      "$TROAD_ADMIN_PASSWORD)");

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
  if (*ce) {
    if (*ce_init) return troad::cli::RunCentralInit(central);
    if (central.config_file.empty()) {
      std::fprintf(stderr, "troad central: --config central.toml is required (or `troad central init`)\n");
      return 2;
    }
    return troad::cli::RunCentral(central);
  }
  if (*dm) {
    demo.keep_running = !once;
    return troad::cli::RunDemo(demo);
  }
  return 2;
}
