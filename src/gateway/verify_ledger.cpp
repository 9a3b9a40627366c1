#include "gateway/verify_ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"
#include "gateway/message_log.h"
#include "gateway/shipper.h"
#include "ledger/entry.h"
#include "ledger/proof.h"

namespace troad::gateway {

namespace bhttp = boost::beast::http;

namespace {

// Records read per statement when all are checked.
constexpr int64_t kRecordsPerRead = 1000;
std::string Name(const TransferRecord& r) {
  return fmt::format("record seq {} (message id \"{}\")", r.seq, EscapeForLog(r.message_id, 200));
}

std::string TwoHeads(std::string_view old_name, const ledger::Checkpoint& old_head,
                     std::string_view new_name, const ledger::Checkpoint& new_head) {
  return fmt::format("\n  {}: {}\n  {}: {}", old_name, DescribeCheckpoint(old_head), new_name,
                     DescribeCheckpoint(new_head));
}

// Checks records one by one against the ledger's current head, keeping the receipt in
// hand and the seqs of its records that are still in the log.
class RecordChecker {
 public:
  RecordChecker(const std::string& path, const GatewayId& gateway,
                const globalconf::LedgerInfo& ledger, LedgerClient& client,
                MessageLogReader& reader, VerifyRecordsReport& report, int64_t shipped_seq)
      : path_(path),
        gateway_(gateway),
        ledger_(ledger),
        client_(client),
        reader_(reader),
        report_(report),
        shipped_seq_(shipped_seq) {}

  // Sets report_.problem when `r` does not hold; errors only for what cannot be read.
  Status Check(const TransferRecord& r) {
    ++report_.records;
    if (r.seq > shipped_seq_) {
      ++report_.not_shipped;
      return Ok();
    }
    if (!receipt_ || r.seq < receipt_->first_seq || r.seq > receipt_->last_seq) {
      TROAD_RETURN_IF_ERROR(LoadReceipt(r));
      if (!report_.problem.empty()) return Ok();
    }
    const LedgerReceipt& receipt = *receipt_;
    auto it = std::lower_bound(live_.begin(), live_.end(), r.seq);
    if (it == live_.end() || *it != r.seq) {
      report_.problem = fmt::format("{}: not among the records of its ledger_receipt ({} … {})",
                                    Name(r), receipt.first_seq, receipt.last_seq);
      return Ok();
    }
    // Archiving removes the oldest records only: those missing from the receipt's
    // records come before every one still here.
    const uint64_t index = receipt.first_index + (receipt.count - live_.size()) +
                           static_cast<uint64_t>(it - live_.begin());
    const std::string not_in =
        fmt::format("{}: its entry is not in the ledger at index {}", Name(r), index);
    if (index >= receipt_size_) {
      report_.problem = fmt::format(
          "{}: its ledger_receipt places it beyond the {} entries of its own checkpoint", not_in,
          receipt_size_);
      return Ok();
    }
    if (index >= report_.current.size) {
      report_.problem =
          fmt::format("{}: the ledger's head has only {} entries", not_in, report_.current.size);
      return Ok();
    }
    auto entry = LedgerEntryOf(gateway_, r);
    if (!entry) {
      report_.problem =
          fmt::format("{}: cannot make its ledger entry: {}", Name(r), entry.error().message());
      return Ok();
    }
    auto proof = client_.InclusionProof(index, report_.current.size);
    if (!proof) {
      if (proof.error().code() == ErrorCode::kUnavailable) return Fail(std::move(proof).error());
      report_.problem = fmt::format("{}: the ledger gave no inclusion proof: {}", not_in,
                                    proof.error().message());
      return Ok();
    }
    if (Status st = ledger::VerifyInclusion(index, report_.current.size, ledger::LeafHash(*entry),
                                            *proof, report_.current.root);
        !st) {
      report_.problem = fmt::format("{}: {}", not_in, st.error().message());
      return Ok();
    }
    ++report_.in_ledger;
    return Ok();
  }

 private:
  Status LoadReceipt(const TransferRecord& r) {
    receipt_.reset();
    live_.clear();
    auto receipt = ReadLedgerReceipt(path_, r.seq);
    if (!receipt) {
      if (receipt.error().code() != ErrorCode::kDataLoss) return Fail(std::move(receipt).error());
      report_.problem = fmt::format("{}: {}", Name(r), receipt.error().message());
      return Ok();
    }
    if (!*receipt) {
      report_.problem = fmt::format(
          "{}: shipped (ledger_state.shipped_seq is {}), but no ledger_receipt holds it", Name(r),
          shipped_seq_);
      return Ok();
    }
    const LedgerReceipt& got = **receipt;
    // One shipment places at most kMaxLedgerAddEntries consecutive records.
    const int64_t span = got.last_seq - got.first_seq + 1;
    if (got.first_seq < 1 || span < static_cast<int64_t>(got.count) ||
        span > static_cast<int64_t>(ledger::kMaxLedgerAddEntries)) {
      report_.problem = fmt::format(
          "{}: its ledger_receipt (records {} … {}, {} entries from index {}) is not one a "
          "shipment gives",
          Name(r), got.first_seq, got.last_seq, got.count, got.first_index);
      return Ok();
    }
    if (got.checkpoint != receipt_note_) {
      auto head = VerifyLedgerCheckpoint(got.checkpoint, ledger_.public_key, ledger_.origin);
      if (!head) {
        report_.problem =
            fmt::format("{}: the checkpoint of its ledger_receipt does not verify: {}", Name(r),
                        head.error().message());
        return Ok();
      }
      receipt_note_ = got.checkpoint;
      receipt_size_ = head->size;
    }
    TROAD_ASSIGN_OR_RETURN(std::vector<TransferRecord> records,
                           reader_.RecordRange(got.first_seq, got.last_seq));
    for (const TransferRecord& x : records) live_.push_back(x.seq);
    if (live_.size() > got.count) {
      report_.problem = fmt::format(
          "{}: its ledger_receipt counts {} entries for records {} … {}, but the log holds {} "
          "records there",
          Name(r), got.count, got.first_seq, got.last_seq, live_.size());
      return Ok();
    }
    receipt_ = std::move(**receipt);
    return Ok();
  }

  const std::string& path_;
  const GatewayId& gateway_;
  const globalconf::LedgerInfo& ledger_;
  LedgerClient& client_;
  MessageLogReader& reader_;
  VerifyRecordsReport& report_;
  const int64_t shipped_seq_;
  std::optional<LedgerReceipt> receipt_;
  std::vector<int64_t> live_;  // seqs of the receipt's records still in the log, ascending
  std::string receipt_note_;   // the last receipt checkpoint verified
  uint64_t receipt_size_ = 0;  // its size
};

}  // namespace

Result<ConsistencyReport> VerifyLedgerConsistency(LedgerClient* client,
                                                  const crypto::PublicKey& key,
                                                  std::string_view origin,
                                                  std::string_view old_note,
                                                  std::string_view new_note) {
  ConsistencyReport report;
  TROAD_ASSIGN_OR_RETURN(ledger::SignedCheckpoint old_parsed,
                         ledger::ParseSignedCheckpoint(old_note));
  TROAD_ASSIGN_OR_RETURN(ledger::SignedCheckpoint new_parsed,
                         ledger::ParseSignedCheckpoint(new_note));
  report.old_head = old_parsed.checkpoint;
  report.new_head = new_parsed.checkpoint;
  const std::string heads = TwoHeads("old", report.old_head, "new", report.new_head);
  for (const auto& [name, note] : {std::pair("old", old_note), std::pair("new", new_note)}) {
    auto verified = VerifyLedgerCheckpoint(note, key, origin);
    if (!verified) {
      report.problem =
          fmt::format("the {} checkpoint: {}{}", name, verified.error().message(), heads);
      return report;
    }
  }
  TROAD_ASSIGN_OR_RETURN(
      std::string problem,
      ConsistencyProblem(client, report.old_head, report.new_head, &report.proof_hashes));
  if (!problem.empty()) {
    report.problem = fmt::format("the new head does not extend the old one: {}{}", problem, heads);
  }
  return report;
}

Result<VerifyRecordsReport> VerifyRecordsInLedger(
    const std::string& log_path, const GatewayId& gateway, const globalconf::LedgerInfo& ledger,
    LedgerClient& client, const RecordQuery& query,
    const std::function<void(int64_t, int64_t)>& progress) {
  VerifyRecordsReport report;
  auto state = ReadLedgerShipState(log_path);
  if (!state) {
    if (state.error().code() != ErrorCode::kDataLoss) return Fail(std::move(state).error());
    report.problem = fmt::format("{}: {}", log_path, state.error().message());
    return report;
  }
  report.alarm = state->alarm;
  report.accepted.root = ledger::EmptyRoot();
  report.accepted.origin = ledger.origin;
  if (!state->checkpoint.empty()) {
    auto accepted = VerifyLedgerCheckpoint(state->checkpoint, ledger.public_key, ledger.origin);
    if (!accepted) {
      report.problem = fmt::format(
          "the head this gateway accepted (ledger_state.checkpoint) does not "
          "verify: {}",
          accepted.error().message());
      return report;
    }
    report.accepted_note = state->checkpoint;
    report.accepted = *accepted;
  }

  auto note = client.Checkpoint();
  if (!note) {
    if (note.error().code() == ErrorCode::kUnavailable) return Fail(std::move(note).error());
    report.problem = "the ledger gave no checkpoint: " + note.error().message();
    return report;
  }
  report.current_note = *note;
  auto current = VerifyLedgerCheckpoint(*note, ledger.public_key, ledger.origin);
  if (!current) {
    report.problem = "the ledger's checkpoint is not trusted: " + current.error().message();
    report.heads_disagree = true;
    return report;
  }
  report.current = *current;
  TROAD_ASSIGN_OR_RETURN(std::string problem,
                         ConsistencyProblem(&client, report.accepted, report.current, nullptr));
  if (!problem.empty()) {
    report.heads_disagree = true;
    report.problem =
        fmt::format("the ledger is not consistent with what this gateway accepted: {}{}", problem,
                    TwoHeads("accepted", report.accepted, "ledger  ", report.current));
    return report;
  }

  TROAD_ASSIGN_OR_RETURN(auto reader, MessageLogReader::Open(log_path));
  // One state of the log throughout, beside a gateway that writes and archives.
  TROAD_RETURN_IF_ERROR(reader->BeginSnapshot());
  RecordChecker checker(log_path, gateway, ledger, client, *reader, report, state->shipped_seq);
  if (query.by != RecordQuery::By::kAll) {
    TROAD_ASSIGN_OR_RETURN(
        std::vector<TransferRecord> records,
        ReadTransferRecords(log_path,
                            query.by == RecordQuery::By::kMessageId ? "message_id" : "request_id",
                            query.value));
    for (const TransferRecord& r : records) {
      TROAD_RETURN_IF_ERROR(checker.Check(r));
      if (!report.problem.empty()) break;
      if (progress) progress(report.records, static_cast<int64_t>(records.size()));
    }
    return report;
  }
  TROAD_ASSIGN_OR_RETURN(MessageLogReader::RecordCounts counts, reader->Counts());
  int64_t after = 0;
  for (;;) {
    TROAD_ASSIGN_OR_RETURN(std::vector<TransferRecord> records,
                           reader->RecordsAfter(after, kRecordsPerRead));
    for (const TransferRecord& r : records) {
      TROAD_RETURN_IF_ERROR(checker.Check(r));
      if (!report.problem.empty()) return report;
      if (progress && report.records % 64 == 0) progress(report.records, counts.records);
    }
    if (static_cast<int64_t>(records.size()) < kRecordsPerRead) break;
    after = records.back().seq;
  }
  if (progress) progress(report.records, counts.records);
  return report;
}

}  // namespace troad::gateway
