// `troad verify-ledger`'s checks against a live ledger (docs/protocol.md §12): that
// the records of a gateway's message log are in the central ledger, and that one
// signed tree head extends another. Nothing the ledger says is trusted: every
// checkpoint is verified with the ledger key the global configuration publishes, every
// proof against a verified checkpoint, and a ledger whose head does not extend the one
// a gateway accepted is reported, with both heads. (The offline audit of a copy of the
// ledger's database is ledger/audit.h.)
//
// Thread-safety: a LedgerClient is used from one thread at a time; the Verify
// functions only read the message log (read-only connections, beside a running
// gateway).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "crypto/key.h"
#include "gateway/ledger_client.h"
#include "globalconf/model.h"
#include "http/client.h"
#include "http/tls.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

namespace troad::gateway {

struct ConsistencyReport {
  ledger::Checkpoint old_head;
  ledger::Checkpoint new_head;
  size_t proof_hashes = 0;  // the consistency proof checked (0 when none was needed)
  // What does not hold, in words, both heads named; "" when the new head extends the old.
  std::string problem;
};

// Checks that the signed head `new_note` extends `old_note`: both verify (key, and
// `origin` when given, else the same origin), the new one is not smaller, and the
// consistency proof `client` gives (asked only when the sizes differ and the old one
// is not empty; `client` may be null otherwise) leads from the old root to the new. A
// failing check, a bad signature included, is a report with `problem` set. Errors:
// kInvalidArgument when a note is not a signed checkpoint; kUnavailable when the ledger
// could not be asked; kFailedPrecondition when a proof is needed and `client` is null.
Result<ConsistencyReport> VerifyLedgerConsistency(LedgerClient* client,
                                                  const crypto::PublicKey& key,
                                                  std::string_view origin,
                                                  std::string_view old_note,
                                                  std::string_view new_note);

// Which records of the message log to check.
struct RecordQuery {
  enum class By { kAll, kMessageId, kRequestId };
  By by = By::kAll;
  std::string value;  // the message id or request id
};

struct VerifyRecordsReport {
  std::string accepted_note;    // ledger_state.checkpoint ("" before the first shipment)
  ledger::Checkpoint accepted;  // its head (size 0 before the first shipment)
  std::string current_note;     // the ledger's checkpoint now
  ledger::Checkpoint current;   // its head
  std::string alarm;            // ledger_state.alarm: the shipper's own, if raised
  int64_t records = 0;          // records selected (checked up to the first problem)
  int64_t in_ledger = 0;        // of them, found in the ledger: inclusion proofs verified
  int64_t not_shipped = 0;      // of them, after ledger_state.shipped_seq: no receipt yet
  // The two heads do not fit together (then both notes are worth printing).
  bool heads_disagree = false;
  // The first thing that does not hold, in words an operator can act on; "" when all do.
  std::string problem;
};

// Checks records of the message log at `log_path` (read-only) against the ledger:
//   1. the head this gateway accepted (ledger_state.checkpoint) and the ledger's
//      current one verify with `ledger`'s key and origin, and the current one extends
//      the accepted one (consistency proof) — else the ledger is not trusted, and
//      nothing else is checked;
//   2. each selected record up to ledger_state.shipped_seq: its receipt
//      (ledger_receipt) and that receipt's checkpoint verify, and the record's entry
//      (LedgerEntryOf(gateway, record)) is at its receipt's index — first_index plus its
//      place among the receipt's records in seq order — in the current head's tree
//      (inclusion proof). Records after shipped_seq are counted as not shipped yet.
// `progress` (may be empty) is called now and then with (records checked, selected).
// Errors: kIo/kDataLoss when the log cannot be read; kUnavailable when the ledger
// could not be asked. Everything else that fails is a report with `problem` set.
Result<VerifyRecordsReport> VerifyRecordsInLedger(
    const std::string& log_path, const GatewayId& gateway, const globalconf::LedgerInfo& ledger,
    LedgerClient& client, const RecordQuery& query,
    const std::function<void(int64_t, int64_t)>& progress = nullptr);

}  // namespace troad::gateway
