// Writing the global configuration document (docs/protocol.md §8): the inverse of
// GlobalConf::Parse. The central publisher and `troad init` build a Document from their
// registry and write it with WriteDocument, which validates the text exactly as a
// gateway will read it before returning it — a document that a gateway would refuse is
// never published.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "globalconf/model.h"

namespace troad::globalconf {

struct Document {
  std::string instance;
  int64_t version = 0;
  SystemTime issued_at{};
  SystemTime expires_at{};
  Settings settings;
  std::vector<crypto::Certificate> trusted_cas;
  // RFC 3161 authorities gateways accept; written only when not empty.
  std::vector<crypto::Certificate> timestamping_certificates = {};
  // The central ledger; written only when set.
  std::optional<LedgerInfo> ledger = std::nullopt;
  std::vector<std::string> revoked_certificates;  // lower-case hex SHA-256 fingerprints
  std::vector<Member> members;
  std::vector<Subsystem> subsystems;
  std::vector<GlobalGroup> global_groups;
  std::vector<Gateway> gateways;  // host and port form "address" ("[v6]:port" for IPv6)
  std::vector<Service> services;
  std::vector<Grant> grants;  // to a client, or to one of global_groups by its code
};

// The document's JSON text (two-space indented UTF-8, keys in §8's order). Errors are
// GlobalConf::Parse's, naming the JSON path of what the document got wrong.
Result<std::string> WriteDocument(const Document& doc);

}  // namespace troad::globalconf
