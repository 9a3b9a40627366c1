#include "gateway/verify_log.h"

#include <fmt/format.h>

#include <cstring>

#include "core/encoding.h"
#include "crypto/timestamp.h"
#include "gateway/archive.h"
#include "gateway/message_log.h"
#include "ledger/merkle.h"

namespace troad::gateway {

namespace {

std::string Name(const TransferRecord& r) {
  return fmt::format("record seq {} (message id \"{}\", request id {})", r.seq,
                     EscapeForLog(r.message_id, 200), r.request_id);
}

// The first problem of one batch, or "" when it verifies.
std::string CheckBatch(const TimestampBatch& b, const std::vector<TransferRecord>& records,
                       const VerifyLogOptions& options) {
  const std::string which = fmt::format("batch {} (records {}..{})", b.id, b.first_seq, b.last_seq);
  std::vector<ledger::Hash> leaves;
  if (std::string problem = CheckBatchStamp(b, which, options.tsa_certificates, &leaves);
      !problem.empty()) {
    return problem;
  }
  // Records: all of them, in order, each still hashing to its leaf.
  int64_t expected = b.first_seq;
  size_t i = 0;
  for (const TransferRecord& r : records) {
    if (r.seq != expected) {
      return fmt::format("record seq {} is missing: {} was timestamped with it", expected, which);
    }
    if (ledger::LeafHash(RecordEntry(r)) != leaves[i]) {
      return fmt::format("{} was altered after {} was timestamped", Name(r), which);
    }
    ++expected;
    ++i;
  }
  if (expected != b.last_seq + 1) {
    return fmt::format("record seq {} is missing: {} was timestamped with it", expected, which);
  }
  return "";
}

}  // namespace

std::string CheckBatchStamp(const TimestampBatch& b, std::string_view which,
                            const std::vector<crypto::Certificate>& tsa_certificates,
                            std::vector<ledger::Hash>* leaves) {
  if (b.size != b.last_seq - b.first_seq + 1 || b.size < 1) {
    return fmt::format("{}: its size {} does not match its range", which, b.size);
  }
  if (b.leaves.size() != static_cast<size_t>(b.size) * sizeof(ledger::Hash)) {
    return fmt::format("{}: its leaf list holds {} bytes, not {} hashes", which, b.leaves.size(),
                       b.size);
  }
  leaves->assign(static_cast<size_t>(b.size), ledger::Hash{});
  for (size_t i = 0; i < leaves->size(); ++i) {
    std::memcpy((*leaves)[i].data(), b.leaves.data() + i * sizeof(ledger::Hash),
                sizeof(ledger::Hash));
  }
  const ledger::Hash root = ledger::MerkleTree(*leaves).root();
  if (HexEncode(root) != b.root_hex) {
    return fmt::format(
        "{}: its leaves lead to root {}, but the batch says {} (the leaf list or "
        "the root was altered)",
        which, HexEncode(root), b.root_hex);
  }
  auto info = crypto::VerifyTimestampToken(b.token, root, tsa_certificates);
  if (!info) {
    return fmt::format("{}: its timestamp token does not verify: {}", which,
                       info.error().message());
  }
  if (info->tsa_certificate_sha256 != b.tsa_certificate_sha256) {
    return fmt::format("{}: it names authority certificate {}, but its token was signed by {}",
                       which, b.tsa_certificate_sha256, info->tsa_certificate_sha256);
  }
  if (ToUnixMillis(info->gen_time) != b.gen_time_ms) {
    return fmt::format("{}: stored time {} differs from the token's {}", which,
                       FormatRfc3339(FromUnixMillis(b.gen_time_ms)), FormatRfc3339(info->gen_time));
  }
  return "";
}

Result<VerifyLogReport> VerifyMessageLog(const std::string& path, const VerifyLogOptions& options) {
  TROAD_ASSIGN_OR_RETURN(auto reader, MessageLogReader::Open(path));
  // The gateway may write, stamp and archive meanwhile: every read sees one state.
  TROAD_RETURN_IF_ERROR(reader->BeginSnapshot());
  VerifyLogReport report;
  TROAD_ASSIGN_OR_RETURN(auto counts, reader->Counts());
  report.records = counts.records;
  TROAD_ASSIGN_OR_RETURN(const std::optional<ArchiveHead> head, reader->LastArchive());
  if (head) {
    report.head_files = head->files;
    report.head_records = head->records;
    report.head_last_seq = head->last_seq;
  }
  const int64_t total = report.records + report.head_records;

  // The archives first: they hold the oldest records.
  int64_t archived_done = 0;
  if (!options.archive_dir.empty()) {
    std::function<void(int64_t)> progress;
    if (options.progress) {
      progress = [&](int64_t done) { options.progress(done, total); };
    }
    TROAD_ASSIGN_OR_RETURN(
        ArchiveChainReport chain,
        VerifyArchiveChain(options.archive_dir, head, options.tsa_certificates, progress));
    if (!chain.problem.empty()) {
      report.problem = std::move(chain.problem);
      return report;
    }
    report.archives_checked = true;
    report.archive_files = chain.files;
    for (const std::string& name : chain.pending) {
      report.pending_archive += (report.pending_archive.empty() ? "" : ", ") + name;
    }
    archived_done = chain.records;
  }

  // Every record ever written was numbered from 1 on; those up to the head's last seq
  // are archived, the rest must be here, from the next one.
  const int64_t first_live = head ? head->last_seq + 1 : 1;
  if (counts.records > 0 && counts.first_seq > first_live) {
    report.problem = fmt::format(
        "records {}..{} are missing: they are neither in the live log (which starts at {}) nor "
        "archived{}",
        first_live, counts.first_seq - 1, counts.first_seq,
        head ? fmt::format(" (the archives end at {}, in {})", head->last_seq, head->file) : "");
    return report;
  }
  if (counts.records > 0 && counts.first_seq < first_live) {
    report.problem = fmt::format(
        "record seq {} is in the live log, but records up to {} were archived (to {}): the log "
        "was restored from an older copy or edited",
        counts.first_seq, head->last_seq, head->file);
    return report;
  }
  int64_t next_seq = counts.first_seq;  // the first record still in the live log
  int64_t after = 0;
  for (;;) {
    TROAD_ASSIGN_OR_RETURN(auto batches, reader->BatchesAfter(after, 100));
    if (batches.empty()) break;
    for (const TimestampBatch& b : batches) {
      after = b.id;
      if (report.batches == 0 && next_seq != 0 && b.first_seq > next_seq) {
        TROAD_ASSIGN_OR_RETURN(auto first, reader->RecordRange(next_seq, next_seq));
        report.problem = fmt::format(
            "{} is in no timestamped batch (the first batch starts at {})",
            first.empty() ? fmt::format("record seq {}", next_seq) : Name(first[0]), b.first_seq);
        return report;
      }
      if (report.batches > 0 && b.first_seq != next_seq) {
        report.problem =
            b.first_seq > next_seq
                ? fmt::format("records {}..{} are in no timestamped batch (batch {} starts at {})",
                              next_seq, b.first_seq - 1, b.id, b.first_seq)
                : fmt::format("batch {} starts at record {}, inside the batch before it", b.id,
                              b.first_seq);
        return report;
      }
      TROAD_ASSIGN_OR_RETURN(auto records, reader->RecordRange(b.first_seq, b.last_seq));
      if (std::string problem = CheckBatch(b, records, options); !problem.empty()) {
        report.problem = std::move(problem);
        return report;
      }
      ++report.batches;
      report.stamped += b.size;
      next_seq = b.last_seq + 1;
      if (options.progress) options.progress(archived_done + report.stamped, total);
    }
  }
  TROAD_ASSIGN_OR_RETURN(auto rest, reader->Unbatched());
  report.unstamped = rest.first;
  report.oldest_unstamped_ms = rest.second;
  if (report.stamped + report.unstamped != report.records) {
    report.problem = fmt::format(
        "the log holds {} records, but the batches cover {} and {} follow the last one: records "
        "were removed or added out of order",
        report.records, report.stamped, report.unstamped);
  }
  return report;
}

}  // namespace troad::gateway
