// `troad verify-log`: checks a gateway's message log against its timestamped batches
// (docs/protocol.md §11) and, given the archive directory, the archive files its
// retention moved old records to (§11.1). Every batch must cover the records after the
// previous one, all of them; its stored leaf hashes must lead to its root; its RFC 3161
// token must stamp that root and verify against a trusted authority; and each record
// must still hash to its leaf. The archives must form one hash chain ending at the head
// the live log records, and the live log must continue where they end. The first thing
// that does not hold is named (archive file, batch id, record seq, message id), and
// checking stops there.
//
// Thread-safety: pure functions of the files they read (read-only, beside a running
// gateway).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "crypto/x509.h"
#include "gateway/message_log.h"
#include "ledger/merkle.h"

namespace troad::gateway {

struct VerifyLogOptions {
  // The authorities whose tokens are accepted.
  std::vector<crypto::Certificate> tsa_certificates;
  // Called now and then with (records checked, records in the log and its archives).
  std::function<void(int64_t, int64_t)> progress = nullptr;
  // The archive directory ([retention] archive_dir); empty: archives are not checked
  // (the live log must still continue where the head it records says they end).
  std::string archive_dir;
};

struct VerifyLogReport {
  int64_t records = 0;              // records in the log
  int64_t batches = 0;              // batches checked (all of them, when `problem` is empty)
  int64_t stamped = 0;              // records in those batches
  int64_t unstamped = 0;            // records after the last batch: not timestamped yet
  int64_t oldest_unstamped_ms = 0;  // request time of the oldest of them (0: none)
  // The archives: as the live log's head records them (head_*), and as checked.
  int64_t head_files = 0;         // archive files the head counts (0: nothing archived)
  int64_t head_records = 0;       // records in them
  int64_t head_last_seq = 0;      // the last record archived
  bool archives_checked = false;  // archive_dir was given and its files verified
  int64_t archive_files = 0;      // files verified
  std::string pending_archive;    // files whose records are still live (ArchiveChainReport)
  // The first bad entry, in words an operator can act on; empty when all is well.
  std::string problem;
};

// kIo/kDataLoss only when the file cannot be read at all; a log that reads but does
// not verify is a report with `problem` set.
Result<VerifyLogReport> VerifyMessageLog(const std::string& path, const VerifyLogOptions& options);

// The first problem of one batch's own data, or "" when it holds: its size matches its
// range, its leaves (filled into *leaves) lead to root_hex, its token stamps that root
// and verifies against `tsa_certificates` by the certificate it names, and genTime is
// as stored. `which` names the batch in the message ("batch 3 (records 21..25)").
std::string CheckBatchStamp(const TimestampBatch& batch, std::string_view which,
                            const std::vector<crypto::Certificate>& tsa_certificates,
                            std::vector<ledger::Hash>* leaves);

}  // namespace troad::gateway
