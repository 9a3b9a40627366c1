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
// A proof of a tree of at most 2^63 leaves has at most this many hashes.
constexpr size_t kMaxProofHashes = 128;

std::string Base64(const ledger::Hash& h) { return Base64Encode(std::span<const uint8_t>(h)); }

std::string Name(const TransferRecord& r) {
  return fmt::format("record seq {} (message id \"{}\")", r.seq, EscapeForLog(r.message_id, 200));
}

// The hashes of a proof answer: {"…":…, "proof":["<b64>",…]}, with `checks` naming the
// members that must hold the numbers asked for.
Result<std::vector<ledger::Hash>> ProofOf(
    std::string_view body, std::string_view what,
    std::initializer_list<std::pair<const char*, uint64_t>> checks) {
  auto json = ParseJson(body, what);
  if (!json) return Fail(ErrorCode::kInvalidArgument, "{}", json.error().message());
  JsonErrors errors;
  JsonView root(&*json, "", &errors);
  for (const auto& [key, value] : checks) {
    const int64_t got = root.Int(key, true, 0, 0, INT64_MAX);
    if (errors.ok() && static_cast<uint64_t>(got) != value) {
      root.Error(key, fmt::format("is {}, not the {} asked for", got, value));
    }
  }
  std::vector<ledger::Hash> out;
  for (JsonView& el : root.Array("proof", true)) {
    if (out.size() == kMaxProofHashes) {
      el.Error(fmt::format("a proof has at most {} hashes", kMaxProofHashes));
      break;
    }
    auto bytes = Base64Decode(el.AsString());
    ledger::Hash h{};
    if (!bytes || bytes->size() != h.size()) {
      el.Error("is not the base64 of a 32-byte hash");
      break;
    }
    std::memcpy(h.data(), bytes->data(), h.size());
    out.push_back(h);
  }
  TROAD_RETURN_IF_ERROR(errors.ToStatus(what));
  return out;
}

// Why `new_head` does not extend `old_head` ("" when it does), asking `client` for the
// proof when one is needed. Errors: kUnavailable; kFailedPrecondition when a proof is
// needed and there is no client.
Result<std::string> ExtendsProblem(LedgerClient* client, const ledger::Checkpoint& old_head,
                                   const ledger::Checkpoint& new_head, size_t* proof_hashes) {
  if (new_head.origin != old_head.origin) {
    return fmt::format("the heads are of two logs: origin \"{}\" and \"{}\"", old_head.origin,
                       new_head.origin);
  }
  if (new_head.size < old_head.size) {
    return fmt::format("the newer head is of size {}, smaller than {}: a log only grows",
                       new_head.size, old_head.size);
  }
  std::vector<ledger::Hash> proof;
  if (old_head.size > 0 && old_head.size < new_head.size) {
    if (client == nullptr) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "a consistency proof from size {} to {} is needed, and no ledger to ask for it",
                  old_head.size, new_head.size);
    }
    auto asked = client->ConsistencyProof(old_head.size, new_head.size);
    if (!asked) {
      if (asked.error().code() == ErrorCode::kUnavailable) return Fail(std::move(asked).error());
      return fmt::format("the ledger gave no consistency proof from size {} to {}: {}",
                         old_head.size, new_head.size, asked.error().message());
    }
    proof = std::move(*asked);
  }
  if (proof_hashes != nullptr) *proof_hashes = proof.size();
  if (Status st = ledger::VerifyConsistency(old_head.size, new_head.size, proof, old_head.root,
                                            new_head.root);
      !st) {
    return st.error().message();
  }
  return std::string();
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

LedgerClient::LedgerClient(std::string url, http::ParsedUrl parsed, http::ClientOptions options,
                           std::chrono::milliseconds timeout)
    : url_(std::move(url)),
      parsed_(std::move(parsed)),
      timeout_(timeout),
      client_(std::move(options)) {}

Result<std::unique_ptr<LedgerClient>> LedgerClient::Create(const std::string& url,
                                                           std::shared_ptr<http::SslContext> tls,
                                                           std::chrono::milliseconds timeout) {
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(url));
  if (parsed.endpoint.tls && !tls) {
    return Fail(ErrorCode::kInvalidArgument,
                "the ledger at {} is reached over TLS: a CA to check its certificate is needed",
                EscapeForLog(url));
  }
  http::ClientOptions options;
  if (parsed.endpoint.tls) options.tls = std::move(tls);
  options.connect_timeout = timeout;
  options.body_limit = 1024 * 1024;
  options.max_idle_per_endpoint = 1;
  return std::unique_ptr<LedgerClient>(
      new LedgerClient(url, std::move(parsed), std::move(options), timeout));
}

Result<std::string> LedgerClient::Get(const std::string& path_and_query) {
  http::Request request{bhttp::verb::get, "/", 11};
  std::string target = parsed_.path == "/" ? std::string() : parsed_.path;
  target += path_and_query;
  request.target(target);
  request.set(bhttp::field::host, parsed_.endpoint.host);
  request.set(bhttp::field::user_agent, "troad verify-ledger");
  request.set(bhttp::field::accept, "application/json, text/plain");
  ++requests_;
  auto res = client_.Send(parsed_.endpoint, std::move(request), timeout_);
  if (!res) {
    return Fail(ErrorCode::kUnavailable, "GET {}{}: {}", url_, path_and_query,
                res.error().message());
  }
  const unsigned status = res->response.result_int();
  if (status == 200) return std::move(res->response.body());
  return Fail(status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
              "GET {}{}: HTTP {}: {}", url_, path_and_query, status,
              EscapeForLog(res->response.body(), 300));
}

Result<std::string> LedgerClient::Checkpoint() { return Get("/checkpoint"); }

Result<std::vector<ledger::Hash>> LedgerClient::InclusionProof(uint64_t index, uint64_t size) {
  const std::string query = fmt::format("/proof?index={}&size={}", index, size);
  TROAD_ASSIGN_OR_RETURN(std::string body, Get(query));
  return ProofOf(body, "the ledger's inclusion proof", {{"index", index}, {"size", size}});
}

Result<std::vector<ledger::Hash>> LedgerClient::ConsistencyProof(uint64_t first, uint64_t second) {
  const std::string query = fmt::format("/consistency?first={}&second={}", first, second);
  TROAD_ASSIGN_OR_RETURN(std::string body, Get(query));
  return ProofOf(body, "the ledger's consistency proof", {{"first", first}, {"second", second}});
}

std::string DescribeCheckpoint(const ledger::Checkpoint& c) {
  return fmt::format("size {}, root {}, timestamp {}", c.size, Base64(c.root),
                     FormatRfc3339(FromUnixMillis(c.timestamp_ms)));
}

Result<ledger::Checkpoint> VerifyLedgerCheckpoint(std::string_view note,
                                                  const crypto::PublicKey& key,
                                                  std::string_view origin) {
  TROAD_ASSIGN_OR_RETURN(ledger::SignedCheckpoint parsed, ledger::ParseSignedCheckpoint(note));
  if (Status st = ledger::VerifyCheckpointSignature(parsed, key); !st) {
    return Fail(ErrorCode::kUnauthenticated, "it does not verify with the ledger key: {}",
                st.error().message());
  }
  if (!origin.empty() && parsed.checkpoint.origin != origin) {
    return Fail(ErrorCode::kUnauthenticated, "it is of origin \"{}\", not \"{}\"",
                parsed.checkpoint.origin, origin);
  }
  return parsed.checkpoint;
}

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
      ExtendsProblem(client, report.old_head, report.new_head, &report.proof_hashes));
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
                         ExtendsProblem(&client, report.accepted, report.current, nullptr));
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
