// The subcommands of the troad binary; each is one file in src/cli.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/thread.h"

namespace troad::cli {

struct GatewayOptions {
  std::string config_file;
};
int RunGateway(const GatewayOptions& options);

// `troad gateway enroll`: keys, CSRs to the central, certificates installed
// (gateway/enroll.h).
struct EnrollOptions {
  std::string anchor_file;
  std::string gateway;                // "TW/GOV/MOI/moi-gw"
  std::string code_file;              // "-": standard input; else $TROAD_ENROLLMENT_CODE
  std::string dir;                    // where keys, certificates and gateway.toml go
  std::vector<std::string> sign_for;  // members besides the owner
  std::vector<std::string> clients;   // local subsystems for a new gateway.toml
  std::string consumer_listen = "127.0.0.1:8080";
  std::string provider_listen = "0.0.0.0:8443";
  std::string admin_listen = "127.0.0.1:4000";
  int wait_s = 3600;
  int poll_s = 5;
};
int RunGatewayEnroll(const EnrollOptions& options);

// `troad gateway renew`: new keys and certificates before the current ones expire,
// proved by the current keys (gateway/renew.h).
struct RenewOptions {
  std::string config_file;  // the gateway's gateway.toml
  int within_days = 30;     // renew certificates that expire within this many days
  bool force = false;       // renew every certificate now
  int wait_s = 3600;
  int poll_s = 5;
};
int RunGatewayRenew(const RenewOptions& options);

struct InitOptions {
  std::string network_file;
  std::string out_dir;
};
int RunInit(const InitOptions& options);

// `troad central init …` and `troad central --config central.toml`.
struct CentralOptions {
  std::string config_file;
  // init
  std::string dir;
  std::string instance = "TW";
  std::string listen = "127.0.0.1:4400";
  std::string public_host;
  std::string admin_user = "operator";
  std::string admin_password_file;  // "-" reads standard input; else $TROAD_ADMIN_PASSWORD
};
int RunCentral(const CentralOptions& options);
int RunCentralInit(const CentralOptions& options);

// `troad verify-log`: a gateway's records against their batches and timestamps.
struct VerifyLogOptions {
  std::string config_file;  // the gateway's gateway.toml (log and trusted authorities)
  std::string log_file;     // or a message log file directly
  std::vector<std::string> tsa_certificate_files;  // authorities trusted (else the globalconf's)
  std::string archive_dir;  // the log's archives (else [retention] archive_dir with --config)
};
int RunVerifyLog(const VerifyLogOptions& options);

// `troad verify-ledger`: this gateway's records in the central ledger, one tree head
// against another, or an offline audit of a copy of the ledger's database
// (gateway/verify_ledger.h, ledger/audit.h). Exactly one mode per run.
struct VerifyLedgerOptions {
  std::string config_file;               // the gateway's gateway.toml (log, ledger, key, CA)
  std::string message_id;                // records: those with this message id,
  std::string request_id;                // or with this request id,
  bool all = false;                      // or all of them
  std::vector<std::string> consistency;  // OLD.note NEW.note
  std::string audit_db;                  // a copy of the central's ledger.db
  std::string checkpoint_file;           // with audit_db: the signed head to audit against
  std::string ledger_url;                // replaces the global configuration's
  std::string ledger_key_file;           // PEM, public (or the private ledger.key)
  std::string ca_certificate_file;       // checks an https:// ledger
  std::string origin;                    // the checkpoints' origin
};
int RunVerifyLedger(const VerifyLedgerOptions& options);

// `troad tsa`: a timestamping authority on its own (plain HTTP, POST /tsa).
struct TsaOptions {
  std::string certificate_file;
  std::string key_file;
  std::string listen = "127.0.0.1:4500";
  std::string data_dir = "data";  // tsa-serial lives here
  std::string policy = "1.3.6.1.4.1.32473.1.3161";
  uint32_t accuracy_ms = 1000;
  std::string log_level = "info";
};
int RunTsa(const TsaOptions& options);

// `troad ledger`: a transparency ledger on its own (plain HTTP, /ledger/v1), for
// networks without a central (`troad init` with [ledger]).
struct LedgerServerOptions {
  std::string key_file;
  std::string globalconf_file;  // the gateways' certificates; reread when it changes
  std::string origin;
  std::string listen = "127.0.0.1:4650";  // 4600 is the identity centre's (DESIGN.md)
  std::string data_dir = "data";  // ledger.db lives here
  std::string log_level = "info";
  int nice = kBackgroundNice;  // the process's priority (core/thread.h); 0 leaves it
};
int RunLedgerServer(const LedgerServerOptions& options);

struct DemoOptions {
  std::string dir = "demo-data";
  std::string examples_dir;  // "" = find next to the binary or the source tree
  bool keep_running = true;  // false: run the scenarios and stop (used by tests and CI)
};
int RunDemo(const DemoOptions& options);

}  // namespace troad::cli
