// `troad init`: makes a whole local network from a network description — a throwaway
// CA, each gateway's authentication key and certificate, each member's signing key
// and certificate, every gateway's gateway.toml, and the global configuration they
// share. Until the central server exists (issue 3) this stands in for it; the files
// have the shapes the central will produce. Format of the network file:
// docs/configuration.md#network-file.
// Thread-safety: not applicable (a command).
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace troad::cli {

struct InitResult {
  std::string globalconf_file;
  std::vector<std::string> gateway_configs;  // one per gateway, in network-file order
};

// Reads `network_file` and writes everything into `out_dir` (created; existing key
// files are never overwritten — an existing out_dir with a globalconf.json is refused).
Result<InitResult> InitNetwork(const std::string& network_file, const std::string& out_dir,
                               const Clock& clock);

}  // namespace troad::cli
