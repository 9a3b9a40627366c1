// troad: one binary, several roles (docs/architecture.md). Each subcommand is a
// separate process role or an operator command.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "cli/idp_cmd.h"
#include "cli/mydata_cmd.h"
#include "cli/operator_cmd.h"

int main(int argc, char** argv) {
  CLI::App app{
      "troad — T-Road data exchange: gateways that sign, authorise and record every call.\n"
      "Run `troad demo` for a whole network on this machine."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "troad 0.1.0");

  troad::cli::GatewayOptions gateway;
  auto* gw =
      app.add_subcommand("gateway",
                         "Run a gateway (--config gateway.toml); enroll or renew its certificates; "
                         "the central's gateway registry (list, register, update, code)");
  gw->add_option("-c,--config", gateway.config_file, "gateway.toml");
  gw->require_subcommand(0, 1);
  troad::cli::EnrollOptions enroll;
  auto* gw_enroll = gw->add_subcommand(
      "enroll",
      "Join a central: make this gateway's keys, send certificate requests with the enrollment "
      "code, wait for approval, install the certificates (and write gateway.toml if absent)");
  gw_enroll->add_option("--anchor", enroll.anchor_file, "the central's anchor.json")->required();
  gw_enroll->add_option("--gateway", enroll.gateway, "this gateway's id, e.g. TW/GOV/MOI/moi-gw")
      ->required();
  gw_enroll->add_option("--code-file", enroll.code_file,
                        "file with the enrollment code ('-': standard input; default: "
                        "$TROAD_ENROLLMENT_CODE)");
  gw_enroll->add_option("--dir", enroll.dir, "directory for keys, certificates and gateway.toml")
      ->required();
  gw_enroll->add_option("--sign-for", enroll.sign_for,
                        "also ask for a signing certificate of this member (repeatable)");
  gw_enroll->add_option("--client", enroll.clients,
                        "a local subsystem this gateway serves, for a new gateway.toml "
                        "(repeatable)");
  gw_enroll->add_option("--consumer-listen", enroll.consumer_listen,
                        "for a new gateway.toml (default 127.0.0.1:8080)");
  gw_enroll->add_option("--provider-listen", enroll.provider_listen,
                        "for a new gateway.toml (default 0.0.0.0:8443)");
  gw_enroll->add_option("--admin-listen", enroll.admin_listen,
                        "for a new gateway.toml (default 127.0.0.1:4000)");
  gw_enroll
      ->add_option("--wait", enroll.wait_s,
                   "seconds to wait for approval (default 3600; 0: submit and return, run "
                   "again to collect)")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  gw_enroll->add_option("--poll", enroll.poll_s, "seconds between status checks (default 5)")
      ->check(CLI::Range(1, 3600));
  troad::cli::RenewOptions renew;
  auto* gw_renew = gw->add_subcommand(
      "renew",
      "Renew this gateway's certificates before they expire: new keys, CSRs signed with the "
      "current keys, the central issues; installed once peers can accept the new ones");
  gw_renew->add_option("--config", renew.config_file, "the gateway's gateway.toml")->required();
  gw_renew
      ->add_option("--within-days", renew.within_days,
                   "renew certificates that expire within this many days (default 30)")
      ->check(CLI::Range(1, 3650));
  gw_renew->add_flag("--force", renew.force, "renew every certificate now");
  gw_renew
      ->add_option("--wait", renew.wait_s,
                   "seconds to wait for approval and publication (default 3600; run again to "
                   "continue)")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  gw_renew->add_option("--poll", renew.poll_s, "seconds between checks (default 5)")
      ->check(CLI::Range(1, 3600));

  troad::cli::VerifyLogOptions verify_log;
  auto* vl = app.add_subcommand(
      "verify-log",
      "Check a gateway's message log: every record in a timestamped batch, unaltered, every "
      "timestamp valid; names the first bad entry (exit 1)");
  vl->add_option("--config", verify_log.config_file,
                 "the gateway's gateway.toml (its log, and the authorities its global "
                 "configuration trusts)");
  vl->add_option("--log", verify_log.log_file, "a message log file (messagelog.db) instead");
  vl->add_option("--tsa-certificate", verify_log.tsa_certificate_files,
                 "PEM certificate of a trusted timestamping authority (repeatable; replaces the "
                 "global configuration's list)");
  vl->add_option("--archive-dir", verify_log.archive_dir,
                 "the log's archive files, checked offline with it (default with --config: "
                 "[retention] archive_dir)");

  troad::cli::VerifyLedgerOptions verify_ledger;
  auto* vd = app.add_subcommand(
      "verify-ledger",
      "Check the central ledger: this gateway's records are in it (--message-id, --request-id, "
      "--all), one tree head extends another (--consistency), or a copy of its database is "
      "the log a checkpoint signs (--audit); names the first bad entry (exit 1)");
  vd->add_option("--config", verify_ledger.config_file,
                 "the gateway's gateway.toml (its log, and the ledger its global configuration "
                 "names)");
  vd->add_option("--message-id", verify_ledger.message_id,
                 "check the records with this message id");
  vd->add_option("--request-id", verify_ledger.request_id,
                 "check the records with this request id");
  vd->add_flag("--all", verify_ledger.all, "check every record of the message log");
  vd->add_option("--consistency", verify_ledger.consistency,
                 "OLD.note NEW.note: check that the newer signed head extends the older")
      ->expected(2);
  vd->add_option("--audit", verify_ledger.audit_db,
                 "a copy of the central's ledger.db: audit every row offline (read-only)");
  vd->add_option("--checkpoint", verify_ledger.checkpoint_file,
                 "with --audit: the signed checkpoint to audit against");
  vd->add_option("--ledger-url", verify_ledger.ledger_url,
                 "the ledger's /ledger/v1 URL (default: the global configuration's)");
  vd->add_option("--ledger-key", verify_ledger.ledger_key_file,
                 "the ledger's public key, PEM (default: the global configuration's)");
  vd->add_option("--ca-certificate", verify_ledger.ca_certificate_file,
                 "CA that issued an https:// ledger's certificate (default with --config: the "
                 "anchor's)");
  vd->add_option("--origin", verify_ledger.origin,
                 "the checkpoints' origin (default: the global configuration's)");

  troad::cli::LedgerServerOptions ledger_server;
  auto* ld = app.add_subcommand(
      "ledger", "Run a transparency ledger on its own (/ledger/v1, plain HTTP; troad init [ledger])");
  ld->add_option("--key", ledger_server.key_file, "the checkpoint signing key (PEM, ECDSA P-256)")
      ->required();
  ld->add_option("--globalconf", ledger_server.globalconf_file,
                 "the network's globalconf.json (who may add: the gateways it lists)")
      ->required();
  ld->add_option("--origin", ledger_server.origin, "the checkpoints' origin line")->required();
  ld->add_option("--listen", ledger_server.listen, "address to listen on (default 127.0.0.1:4650)");
  ld->add_option("--data-dir", ledger_server.data_dir, "where ledger.db is kept (default data)");
  ld->add_option("--log-level", ledger_server.log_level, "trace, debug, info, warn, error, off");
  ld->add_option("--nice", ledger_server.nice,
                 "run at this nice value, 0 … 19 (default 10: appends yield the CPU to "
                 "exchanges and other services on a shared host; 0 leaves it as started)")
      ->check(CLI::Range(0, 19));

  troad::cli::TsaOptions tsa;
  auto* ts = app.add_subcommand(
      "tsa", "Run an RFC 3161 timestamping authority on its own (POST /tsa, plain HTTP)");
  ts->add_option("--certificate", tsa.certificate_file,
                 "its certificate (PEM; extendedKeyUsage timeStamping, critical)")
      ->required();
  ts->add_option("--key", tsa.key_file, "its private key (PEM)")->required();
  ts->add_option("--listen", tsa.listen, "address to listen on (default 127.0.0.1:4500)");
  ts->add_option("--data-dir", tsa.data_dir,
                 "where the serial-number reservation (tsa-serial) is kept (default data)");
  ts->add_option("--policy", tsa.policy, "TSA policy OID put in every token");
  ts->add_option("--accuracy-ms", tsa.accuracy_ms, "accuracy stated in tokens (0: none)")
      ->check(CLI::Range(0, 60'000));
  ts->add_option("--log-level", tsa.log_level, "trace, debug, info, warn, error, off");

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
      "init",
      "Make a new central: CA, configuration key, TLS certificate, central.toml, "
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
      "Build a network on loopback the way a real one is built — a central, two agencies "
      "registered, their gateways enrolled, access granted — and run the scenarios");
  dm->add_option("--dir", demo.dir, "working directory (wiped and recreated)");
  dm->add_option("--examples", demo.examples_dir, "the examples/ directory");
  bool once = false;
  dm->add_flag("--once", once, "run the scenarios, then stop instead of waiting for Ctrl-C");

  // login, member, subsystem, service, cert, grant, admin, audit, globalconf, and
  // gateway list|register|update|code: the central's management API (operator_cmd.h).
  auto operator_commands = troad::cli::AddOperatorCommands(app);
  auto idp_commands = troad::cli::AddIdpCommands(app);
  auto mydata_commands = troad::cli::AddMyDataCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A first word that is no command: say so (CLI11 would only say that a command
    // is required).
    if (argc > 1 && argv[1][0] != '-') {
      try {
        app.get_subcommand(argv[1]);
      } catch (const CLI::OptionNotFound&) {
        std::fprintf(stderr, "troad: \"%s\" is not a command; `troad --help` lists them\n",
                     argv[1]);
        return 2;
      }
    }
    // --help and --version print and succeed; every other parse error is a usage
    // error: CLI11's message, then exit status 2 for every command (not CLI11's own
    // numbers, e.g. 114 for a missing option, which would collide with ours).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (auto code = troad::cli::RunOperatorCommand(*operator_commands)) return *code;
  if (auto code = troad::cli::RunIdpCommand(*idp_commands)) return *code;
  if (auto code = troad::cli::RunMyDataCommand(*mydata_commands)) return *code;
  if (*gw) {
    if (*gw_enroll) return troad::cli::RunGatewayEnroll(enroll);
    if (*gw_renew) return troad::cli::RunGatewayRenew(renew);
    if (gateway.config_file.empty()) {
      std::fprintf(
          stderr, "troad gateway: --config gateway.toml is required (or `troad gateway enroll`)\n");
      return 2;
    }
    return troad::cli::RunGateway(gateway);
  }
  if (*in) return troad::cli::RunInit(init);
  if (*vl) return troad::cli::RunVerifyLog(verify_log);
  if (*vd) return troad::cli::RunVerifyLedger(verify_ledger);
  if (*ts) return troad::cli::RunTsa(tsa);
  if (*ld) return troad::cli::RunLedgerServer(ledger_server);
  if (*ce) {
    if (*ce_init) return troad::cli::RunCentralInit(central);
    if (central.config_file.empty()) {
      std::fprintf(stderr,
                   "troad central: --config central.toml is required (or `troad central init`)\n");
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
