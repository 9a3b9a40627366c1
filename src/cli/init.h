// `troad init`: makes a whole local network from a network description — a throwaway
// CA, each gateway's authentication key and certificate, each member's signing key
// and certificate, every gateway's gateway.toml, and the global configuration they
// share: a network without a central, for tests and experiments; the files have the
// shapes the central produces. `troad demo` reads the same network file and builds
// the network through a real central instead. Format of the network file:
// docs/configuration.md#network-file.
// Thread-safety: not applicable (a command).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace troad::cli {

// A network file, read and validated (ReadNetwork).
struct NetMember {
  ClientId id;
  std::string name, name_en;
  std::vector<std::pair<std::string, std::string>> subsystems;  // code, name
};
struct NetGateway {
  std::string name;
  ClientId owner;
  std::string local_listen, local_tls_listen, peer_listen, admin_listen;
  std::vector<ClientId> clients;
  std::string advertise;  // host:port others connect to; default peer_listen
};
struct NetEndpoint {
  std::string method, path;
};
struct NetService {
  ServiceId id;
  std::string backend, openapi, type;
  std::vector<NetEndpoint> endpoints;
  bool enabled = true;
  std::string disabled_notice;
  int64_t timeout_ms = 30'000;
};
struct NetGrant {
  ClientId client;
  ServiceId service;
  std::vector<NetEndpoint> rules;
};
struct Network {
  std::string instance;
  int64_t validity_days = 30;
  int64_t max_clock_skew_ms = 60'000;
  std::vector<NetMember> members;
  std::vector<NetGateway> gateways;
  std::vector<NetService> services;
  std::vector<NetGrant> grants;
  // [tsa] listen: where `troad tsa` will serve this network's timestamping authority;
  // empty = none (records are not timestamped).
  std::string tsa_listen;
  // [ledger] listen: where `troad ledger` will serve this network's transparency ledger;
  // empty = none (records are not shipped).
  std::string ledger_listen;
};

// Reads and validates a network file; every message names the file and the key.
Result<Network> ReadNetwork(const std::string& file);

// The gateway.toml [[service]] entries of the services `gw`'s clients provide (each
// starting with a blank line).
std::string ServiceEntries(const Network& net, const NetGateway& gw);

struct InitResult {
  std::string globalconf_file;
  std::string tsa_dir;     // tsa.crt, tsa.key (empty without [tsa])
  std::string ledger_dir;  // ledger.key (empty without [ledger])
  std::vector<std::string> gateway_configs;  // one per gateway, in network-file order
};

// Reads `network_file` and writes everything into `out_dir` (created; existing key
// files are never overwritten — an existing out_dir with a globalconf.json is refused).
Result<InitResult> InitNetwork(const std::string& network_file, const std::string& out_dir,
                               const Clock& clock);

}  // namespace troad::cli
