// `troad verify-log`: checks a gateway's message log against its timestamped batches
// (docs/protocol.md §11). Every batch must cover the records after the previous one,
// all of them; its stored leaf hashes must lead to its root; its RFC 3161 token must
// stamp that root and verify against a trusted authority; and each record must still
// hash to its leaf. The first thing that does not hold is named (batch id, record seq,
// message id), and checking stops there.
//
// Thread-safety: a pure function of the file it reads (read-only, beside a running
// gateway).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/x509.h"

namespace troad::gateway {

struct VerifyLogOptions {
  // The authorities whose tokens are accepted.
  std::vector<crypto::Certificate> tsa_certificates;
  // Called now and then with (records checked, records in the log).
  std::function<void(int64_t, int64_t)> progress = nullptr;
};

struct VerifyLogReport {
  int64_t records = 0;              // records in the log
  int64_t batches = 0;              // batches checked (all of them, when `problem` is empty)
  int64_t stamped = 0;              // records in those batches
  int64_t unstamped = 0;            // records after the last batch: not timestamped yet
  int64_t oldest_unstamped_ms = 0;  // request time of the oldest of them (0: none)
  // The first bad entry, in words an operator can act on; empty when all is well.
  std::string problem;
};

// kIo/kDataLoss only when the file cannot be read at all; a log that reads but does
// not verify is a report with `problem` set.
Result<VerifyLogReport> VerifyMessageLog(const std::string& path, const VerifyLogOptions& options);

}  // namespace troad::gateway
