// The central's configuration (central.toml): where it listens, where its data and
// keys are, and how it publishes. `troad central init` writes one; every key is
// documented in docs/configuration.md ("central.toml"). Parsed once at start-up.
// Thread-safety: immutable after Load.
#pragma once

#include <chrono>
#include <string>

#include "central/admin.h"
#include "central/ca_service.h"
#include "central/ledger_service.h"
#include "central/tsa_service.h"
#include "central/publisher.h"
#include "core/result.h"

namespace troad::central {

struct CentralConfig {
  std::string config_file;
  std::string instance;    // "TW"
  std::string data_dir;    // central.db lives here
  std::string listen;      // "127.0.0.1:4400" (HTTPS)
  std::string public_url;  // what gateways and administrators use; goes into the anchor

  std::string tls_certificate_file;
  std::string tls_key_file;
  std::string ca_certificate_file;
  std::string ca_key_file;
  std::string configuration_key_file;  // signs the global configuration

  PublisherOptions publisher;
  // [globalconf] timestamping_certificates: PEM files, read and checked by Central::Create
  // into publisher.timestamping_certificates.
  std::vector<std::string> timestamping_certificate_files;
  CaOptions ca;
  TsaOptions tsa;  // [tsa]; certificate_file empty = no timestamping authority
  LedgerOptions ledger;  // [ledger]; key_file empty = no transparency ledger
  AdminOptions admin;

  std::string log_level = "info";
  bool log_json = true;

  std::string DatabaseFile() const;
  // <data_dir>/ledger.db: the transparency ledger's own database.
  std::string LedgerDatabaseFile() const;

  // Reads and validates `path`; relative file names are taken relative to its folder.
  static Result<CentralConfig> Load(const std::string& path);
};

}  // namespace troad::central
