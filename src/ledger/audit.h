// An offline audit of a copy of a ledger database (the schema of ledger/log.h) against
// a signed checkpoint: everything the log serves is checked, row by row, without
// trusting any of it. `troad verify-ledger --audit` runs it.
//
//   1. The checkpoint verifies with the ledger key (and names the expected origin).
//   2. ledger_entry, streamed in idx order a few thousand rows at a time (memory stays
//      flat however long the log): indices 0, 1, 2, … without gaps; leaf_hash is
//      LeafHash(entry); chunk is idx >> kLeafChunkBits; leaf_key is the first 8 bytes
//      of leaf_hash as log.h defines it; the entry parses (ledger/entry.h).
//   3. The tree is recomputed from the leaf hashes (compact_range.h); the root of the
//      first checkpoint.size entries must be the checkpoint's root. Entries beyond the
//      checkpoint's size are allowed (the log grew after it was signed), checked alike
//      and counted.
//   4. Every ledger_node row: a node at level L (4, 8, …) is the root of its 16
//      children at level L − 4 (for L = 4: of 16 leaf hashes), recomputed while the
//      entries stream by; each level holds exactly the rows the log's size completes
//      (idx 0 … size / 2^L − 1), and no row lies outside those levels.
//
// The first thing that does not hold is named ("ledger_entry idx 4711: leaf_hash does
// not match its entry", "ledger_node level 8 idx 3: …", "the root of the first N
// entries is X, the checkpoint says Y"), and the audit stops there. Entries that were
// rewritten together with their leaf hashes only show in the root; the stored tree,
// which was written when they were appended, then names the 16 entries they lie in.
//
// Thread-safety: pure functions of the database they read; never write it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/key.h"
#include "ledger/checkpoint.h"
#include "store/database.h"

namespace troad::ledger {

struct AuditOptions {
  // The origin the checkpoint must name; empty: whatever it names.
  std::string origin;
  // Called now and then with (entries checked, entries stored).
  std::function<void(uint64_t, uint64_t)> progress;
  // Rows read per statement, for the entries and for each level of nodes.
  size_t rows_per_read = 4096;
};

struct AuditReport {
  Checkpoint checkpoint;           // as parsed (verified, when `problem` is empty)
  uint64_t entries = 0;            // ledger_entry rows checked (all, when `problem` is empty)
  uint64_t stored_entries = 0;     // the highest idx stored + 1
  uint64_t beyond_checkpoint = 0;  // entries after the checkpoint's size
  uint64_t nodes = 0;              // ledger_node rows checked
  Hash root{};                     // the recomputed root at the checkpoint's size
  // The first bad row or check, in words an operator can act on; "" when all holds.
  std::string problem;
};

// Audits the ledger tables of `db` against the signed checkpoint `note`. Only reads
// (in one read transaction, so that a live database is seen at one moment); the
// caller opens `db` read-only. kInvalidArgument: `note` is not a signed checkpoint
// (ledger/checkpoint.h). kIo/kDataLoss: the tables cannot be read at all (not a
// ledger database). A database that reads but does not verify — a bad signature
// included — is a report with `problem` set.
Result<AuditReport> AuditLedger(store::Database& db, std::string_view note,
                                const crypto::PublicKey& key, const AuditOptions& options = {});

// Opens the SQLite file at `path` read-only (never creating, migrating or writing it)
// and audits it. kIo when it cannot be opened; then as AuditLedger.
Result<AuditReport> AuditLedgerFile(const std::string& path, std::string_view note,
                                    const crypto::PublicKey& key, const AuditOptions& options = {});

}  // namespace troad::ledger
