#include "gateway/shipper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core/encoding.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "crypto/random.h"
#include "gateway/ledger_client.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"
#include "ledger/proof.h"
#include "store/database.h"

namespace troad::gateway {

namespace {

constexpr std::string_view kSelectReceipt =
    "SELECT first_seq, last_seq, first_index, count, checkpoint FROM ledger_receipt";

Result<std::unique_ptr<store::Database>> OpenReadOnly(const std::string& path) {
  store::SqliteOptions options;
  options.read_only = true;
  return store::OpenSqlite(path, options);
}

Result<LedgerShipState> ReadState(store::Database& db) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db.Query("SELECT shipped_seq, checkpoint, alarm FROM ledger_state WHERE id = 1"));
  LedgerShipState state;
  if (rows.empty()) return state;
  TROAD_ASSIGN_OR_RETURN(state.shipped_seq, rows[0].Int(0));
  TROAD_ASSIGN_OR_RETURN(state.checkpoint, rows[0].Text(1));
  TROAD_ASSIGN_OR_RETURN(state.alarm, rows[0].Text(2));
  if (!state.checkpoint.empty()) {
    if (auto parsed = ledger::ParseSignedCheckpoint(state.checkpoint); !parsed) {
      return Fail(ErrorCode::kDataLoss, "ledger_state.checkpoint is not a signed checkpoint: {}",
                  parsed.error().message());
    }
  }
  return state;
}

// The head a signed note holds (size 0 and the empty tree's root for none). The note
// was parsed when it was accepted and again when it was read (ReadState).
ledger::Checkpoint HeadOf(const std::string& note) {
  ledger::Checkpoint head;
  head.root = ledger::EmptyRoot();
  if (note.empty()) return head;
  auto parsed = ledger::ParseSignedCheckpoint(note);
  return parsed ? parsed->checkpoint : head;
}

}  // namespace

Result<LedgerShipState> ReadLedgerShipState(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto db, OpenReadOnly(path));
  return ReadState(*db);
}

Result<std::optional<LedgerReceipt>> ReadLedgerReceipt(const std::string& path, int64_t seq) {
  TROAD_ASSIGN_OR_RETURN(auto db, OpenReadOnly(path));
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db->Query(fmt::format("{} WHERE last_seq >= ? AND first_seq <= ? ORDER BY "
                                               "last_seq LIMIT 1",
                                               kSelectReceipt),
                                   {seq, seq}));
  if (rows.empty()) return std::optional<LedgerReceipt>();
  LedgerReceipt r;
  TROAD_ASSIGN_OR_RETURN(r.first_seq, rows[0].Int(0));
  TROAD_ASSIGN_OR_RETURN(r.last_seq, rows[0].Int(1));
  TROAD_ASSIGN_OR_RETURN(int64_t first_index, rows[0].Int(2));
  TROAD_ASSIGN_OR_RETURN(int64_t count, rows[0].Int(3));
  TROAD_ASSIGN_OR_RETURN(r.checkpoint, rows[0].Text(4));
  if (first_index < 0 || count < 1) {
    return Fail(ErrorCode::kDataLoss, "ledger_receipt for seq {}: first_index {} count {}", seq,
                first_index, count);
  }
  r.first_index = static_cast<uint64_t>(first_index);
  r.count = static_cast<uint64_t>(count);
  return std::optional<LedgerReceipt>(std::move(r));
}

Result<std::string> LedgerEntryOf(const GatewayId& gateway, const TransferRecord& r) {
  return LedgerEntryOf(gateway, DigestOf(r));
}

Result<std::string> LedgerEntryOf(const GatewayId& gateway, const RecordDigest& r) {
  ledger::LedgerEntry e;
  e.gateway = gateway.ToString();
  e.seq = r.seq;
  e.side = r.side;
  // The record keeps what a caller sent, whatever it was; the entry holds it in the
  // form an entry allows, and `record` commits to the original.
  e.message_id = ledger::LedgerText(r.message_id);
  e.request_id = ledger::LedgerText(r.request_id);
  e.client = ledger::LedgerText(r.client);
  e.service = ledger::LedgerText(r.service);
  e.status = r.status;
  e.fault = ledger::LedgerText(r.fault);
  e.request_time_ms = r.request_time_ms;
  e.response_time_ms = r.response_time_ms;
  e.request_hash = r.request_hash;
  e.response_hash = r.response_hash;
  e.record = HexEncode(r.leaf);
  auto bytes = ledger::EncodeLedgerEntry(e);
  if (!bytes) return Fail(std::move(bytes).error().Context(fmt::format("record {}", r.seq)));
  return bytes;
}

Shipper::Shipper(MessageLog& log, GatewayId gateway, ShipperOptions options, LedgerOf ledger,
                 IdentityOf identity, TlsFor tls, const Clock& clock)
    : log_(log),
      gateway_(std::move(gateway)),
      options_(options),
      ledger_(std::move(ledger)),
      identity_(std::move(identity)),
      tls_for_(std::move(tls)),
      clock_(clock) {}

Result<std::unique_ptr<Shipper>> Shipper::Create(MessageLog& log, GatewayId gateway,
                                                 ShipperOptions options, LedgerOf ledger,
                                                 IdentityOf identity, TlsFor tls,
                                                 const Clock& clock) {
  if (options.max_batch < 1 || options.max_batch > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "[ledger] max_batch must be 1 … 1000");
  }
  std::unique_ptr<Shipper> s(new Shipper(log, std::move(gateway), options, std::move(ledger),
                                         std::move(identity), std::move(tls), clock));
  TROAD_ASSIGN_OR_RETURN(s->reader_, MessageLogReader::Open(log.path()));
  TROAD_ASSIGN_OR_RETURN(auto db, OpenReadOnly(log.path()));
  TROAD_ASSIGN_OR_RETURN(s->state_, ReadState(*db));
  s->accepted_ = HeadOf(s->state_.checkpoint);
  s->shipped_seq_ = s->state_.shipped_seq;
  s->accepted_size_ = s->accepted_.size;
  if (!s->state_.alarm.empty()) {
    s->alarm_ = true;
    s->alarm_text_ = s->state_.alarm;
    spdlog::error("ledger: the alarm raised earlier stands (shipping paused): {}", s->state_.alarm);
  }
  return s;
}

Shipper::~Shipper() { Stop(); }

void Shipper::Start() {
  thread_.Start(options_.interval, [this] {
    if (ShipOnce()) {
      backoff_ = std::chrono::milliseconds{0};
    } else {
      backoff_ =
          backoff_.count() == 0 ? options_.retry_min : std::min(options_.retry_max, backoff_ * 2);
    }
    if (alarm_.load()) return options_.retry_max;
    return backoff_.count() > 0 ? backoff_ : options_.interval;
  });
}

void Shipper::Stop() { thread_.Stop(); }

void Shipper::Kick() { thread_.Kick(); }

std::string Shipper::alarm_text() const {
  std::lock_guard lock(alarm_mu_);
  return alarm_text_;
}

Status Shipper::ShipOnce() {
  const std::optional<globalconf::LedgerInfo> ledger = ledger_();
  if (!ledger) return Ok();  // the configuration names no ledger (yet)
  auto client = Client(*ledger);
  if (!client) {
    failures_.fetch_add(1);
    spdlog::warn("ledger shipper: {}", client.error().message());
    return Fail(std::move(client).error());
  }
  const uint64_t before = (*client)->requests();
  Status st = ShipAll(*ledger, **client);
  requests_.fetch_add((*client)->requests() - before);
  return st;
}

Status Shipper::ShipAll(const globalconf::LedgerInfo& ledger, LedgerClient& client) {
  if (alarm_.load()) {
    auto st = Recheck(ledger, client);
    if (!st) {
      failures_.fetch_add(1);
      return st;
    }
  }
  for (;;) {
    if (thread_.Stopping()) return Ok();
    auto records = reader_->DigestsAfter(state_.shipped_seq, options_.max_batch);
    if (!records) {
      failures_.fetch_add(1);
      spdlog::error("ledger shipper: cannot read the message log: {}", records.error().message());
      return Fail(std::move(records).error());
    }
    if (records->empty()) return Ok();
    if (auto st = Ship(ledger, client, *records); !st) {
      failures_.fetch_add(1);
      if (st.error().code() != ErrorCode::kUnauthenticated) {
        spdlog::warn("ledger shipper: {} records wait for the ledger ({}): {}", records->size(),
                     ledger.url, st.error().message());
      }
      return st;
    }
    if (static_cast<int64_t>(records->size()) < options_.max_batch) return Ok();
  }
}

Result<LedgerClient*> Shipper::Client(const globalconf::LedgerInfo& ledger) {
  if (client_ && client_->url() == ledger.url) return client_.get();
  // The URL comes with the global configuration: a new one gets a new client.
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(ledger.url));
  std::shared_ptr<http::SslContext> tls;
  if (parsed.endpoint.tls) {
    TROAD_ASSIGN_OR_RETURN(tls, tls_for_(parsed.endpoint.host));
  }
  TROAD_ASSIGN_OR_RETURN(
      client_, LedgerClient::Create(ledger.url, std::move(tls), options_.request_timeout));
  return client_.get();
}

Status Shipper::Ship(const globalconf::LedgerInfo& ledger, LedgerClient& client,
                     const std::vector<RecordDigest>& records) {
  std::optional<ShipperIdentity> identity = identity_();
  if (!identity) return Fail(ErrorCode::kUnavailable, "no authentication key to sign with");
  std::vector<std::string> entries;
  entries.reserve(records.size());
  for (const RecordDigest& r : records) {
    TROAD_ASSIGN_OR_RETURN(std::string entry, LedgerEntryOf(gateway_, r));
    entries.push_back(std::move(entry));
  }
  std::string body;
  {
    JsonWriter w(body);
    w.BeginObject().Member("gateway", gateway_.ToString()).Member("known_size", accepted_.size);
    w.Key("entries").BeginArray();
    for (const std::string& e : entries) w.String(Base64Encode(e));
    w.EndArray().EndObject();
  }
  std::string signed_text(ledger::kLedgerAddSignaturePrefix);
  signed_text += body;
  TROAD_ASSIGN_OR_RETURN(std::string signature, identity->key.Sign(signed_text));
  TROAD_ASSIGN_OR_RETURN(
      auto answer,
      client.AddEntries(std::move(body), identity->certificate_sha256, Base64Encode(signature)));
  if (answer.status == 409) {
    // The ledger refuses what it once signed for (a size it no longer has) or holds
    // other bytes for a record already shipped: it cannot be trusted.
    return RaiseAlarm(fmt::format("the ledger refused the shipment with HTTP 409: {}",
                                  answer.body.substr(0, 500)));
  }
  if (answer.status != 200) {
    return Fail(ErrorCode::kUnavailable, "HTTP {}: {}", answer.status, answer.body.substr(0, 500));
  }

  // The answer: parse everything first, then check it.
  TROAD_ASSIGN_OR_RETURN(auto json, ParseJson(answer.body, "the ledger's answer"));
  JsonErrors errors;
  JsonView root(&json, "", &errors);
  std::vector<std::pair<int64_t, uint64_t>> placed;  // seq, index
  for (JsonView& el : root.Array("entries", true)) {
    const int64_t seq = el.Int("seq", true, 0, 1, INT64_MAX);
    const int64_t index = el.Int("index", true, 0, 0, INT64_MAX);
    placed.emplace_back(seq, static_cast<uint64_t>(index));
  }
  const std::string note = root.String("checkpoint", true, ledger::kMaxCheckpointBytes);
  std::vector<ledger::Hash> consistency;
  if (accepted_.size > 0) consistency = ReadProofHashes(root, "consistency");
  JsonView inclusion = root.Object("inclusion", true);
  const int64_t inclusion_index = inclusion.Int("index", true, 0, 0, INT64_MAX);
  const std::vector<ledger::Hash> inclusion_proof = ReadProofHashes(inclusion, "proof");
  if (auto st = errors.ToStatus("the ledger's answer"); !st) {
    return RaiseAlarm(st.error().message());
  }

  auto head = VerifyLedgerCheckpoint(note, ledger.public_key, ledger.origin);
  if (!head) {
    return RaiseAlarm(
        fmt::format("its checkpoint, by the global configuration's ledger key and "
                    "origin: {}\n{}",
                    head.error().message(), note));
  }
  if (head->size < accepted_.size) {
    return RaiseAlarm(
        fmt::format("its checkpoint of size {} is smaller than the accepted one of "
                    "size {}\n{}\n{}",
                    head->size, accepted_.size, state_.checkpoint, note));
  }
  if (auto st = ledger::VerifyConsistency(accepted_.size, head->size, consistency, accepted_.root,
                                          head->root);
      !st) {
    return RaiseAlarm(
        fmt::format("its checkpoint is not consistent with the accepted one: {}\n{}"
                    "\n{}",
                    st.error().message(), state_.checkpoint, note));
  }
  if (placed.size() != records.size()) {
    return RaiseAlarm(
        fmt::format("it placed {} entries; {} were sent", placed.size(), records.size()));
  }
  for (size_t i = 0; i < placed.size(); ++i) {
    if (placed[i].first != records[i].seq || placed[i].second >= head->size) {
      return RaiseAlarm(
          fmt::format("its entry {} (seq {}, index {}) is not record {} within the "
                      "checkpoint's {} entries",
                      i, placed[i].first, placed[i].second, records[i].seq, head->size));
    }
  }
  if (static_cast<uint64_t>(inclusion_index) != placed.back().second) {
    return RaiseAlarm(fmt::format("its inclusion proof is for index {}, not {} (the last entry)",
                                  inclusion_index, placed.back().second));
  }
  if (auto st =
          ledger::VerifyInclusion(placed.back().second, head->size,
                                  ledger::LeafHash(entries.back()), inclusion_proof, head->root);
      !st) {
    return RaiseAlarm(fmt::format("the inclusion proof of record {} fails: {}", records.back().seq,
                                  st.error().message()));
  }
  if (placed.size() > 1) {
    // One more entry, at random, through the read API: a ledger that places only the
    // last entry of each request is caught in a few requests.
    uint32_t r = 0;
    const std::string random = crypto::RandomBytes(sizeof r);
    std::memcpy(&r, random.data(), sizeof r);
    const size_t k = r % (placed.size() - 1);
    auto proof = client.InclusionProof(placed[k].second, head->size);
    if (!proof && proof.error().code() == ErrorCode::kUnavailable) {
      return Fail(std::move(proof).error());
    }
    if (!proof) return RaiseAlarm(proof.error().message());
    if (auto st = ledger::VerifyInclusion(placed[k].second, head->size,
                                          ledger::LeafHash(entries[k]), *proof, head->root);
        !st) {
      return RaiseAlarm(fmt::format("the inclusion proof of record {} (index {}) fails: {}",
                                    records[k].seq, placed[k].second, st.error().message()));
    }
  }

  // Receipts: runs of consecutive indices (a resent entry keeps its earlier index).
  std::vector<LedgerReceipt> receipts;
  for (const auto& [seq, index] : placed) {
    if (!receipts.empty() && receipts.back().first_index + receipts.back().count == index) {
      receipts.back().last_seq = seq;
      ++receipts.back().count;
    } else {
      receipts.push_back(LedgerReceipt{seq, seq, index, 1, note});
    }
  }
  TROAD_RETURN_IF_ERROR(Store(LedgerShipState{records.back().seq, note, ""}, receipts));
  entries_.fetch_add(records.size());
  last_success_ms_.store(clock_.NowMillis());
  return Ok();
}

Status Shipper::Recheck(const globalconf::LedgerInfo& ledger, LedgerClient& client) {
  TROAD_ASSIGN_OR_RETURN(std::string note, client.Checkpoint());
  auto head = VerifyLedgerCheckpoint(note, ledger.public_key, ledger.origin);
  if (!head) {
    return Fail(ErrorCode::kUnauthenticated, "ledger alarm stands: its checkpoint: {}",
                head.error().message());
  }
  if (!state_.checkpoint.empty()) {
    TROAD_ASSIGN_OR_RETURN(std::string problem,
                           ConsistencyProblem(&client, accepted_, *head, nullptr));
    if (!problem.empty()) {
      return Fail(ErrorCode::kUnauthenticated,
                  "ledger alarm stands: its newest checkpoint (size {}) does not extend the "
                  "accepted one (size {}): {}",
                  head->size, accepted_.size, problem);
    }
  }
  const uint64_t accepted_size = accepted_.size;
  LedgerShipState next = state_;
  next.checkpoint = note;
  next.alarm.clear();
  TROAD_RETURN_IF_ERROR(Store(std::move(next), {}));
  spdlog::info(
      "ledger: alarm cleared — the ledger's checkpoint of size {} is consistent with the "
      "accepted one of size {}; shipping resumes",
      head->size, accepted_size);
  return Ok();
}

Status Shipper::RaiseAlarm(const std::string& reason) {
  const std::string text = fmt::format("{} (accepted head: size {})", reason, accepted_.size);
  spdlog::error(
      "ledger ALARM: {} is not trusted and nothing more is shipped until it serves a "
      "head consistent with the accepted one: {}",
      ledger_() ? ledger_()->url : std::string("the ledger"), text);
  LedgerShipState next = state_;
  next.alarm = text;
  if (auto st = Store(std::move(next), {}); !st) {
    spdlog::error("ledger: cannot store the alarm: {}", st.error().message());
  }
  return Fail(ErrorCode::kUnauthenticated, "ledger alarm: {}", text);
}

Status Shipper::Store(LedgerShipState state, const std::vector<LedgerReceipt>& receipts) {
  const int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(log_.Write([&state, &receipts, now](store::Database& db) -> Status {
    for (const LedgerReceipt& r : receipts) {
      auto inserted = db.Execute(
          "INSERT INTO ledger_receipt (first_seq, last_seq, first_index, count, checkpoint, "
          "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
          {r.first_seq, r.last_seq, static_cast<int64_t>(r.first_index),
           static_cast<int64_t>(r.count), r.checkpoint, now});
      if (!inserted) return tl::unexpected(inserted.error());
    }
    auto updated = db.Execute(
        "INSERT INTO ledger_state (id, shipped_seq, checkpoint, alarm, updated_ms) "
        "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET shipped_seq = excluded.shipped_seq, "
        "checkpoint = excluded.checkpoint, alarm = excluded.alarm, updated_ms = "
        "excluded.updated_ms",
        {state.shipped_seq, state.checkpoint, state.alarm, now});
    if (!updated) return tl::unexpected(updated.error());
    return Ok();
  }));
  state_ = std::move(state);
  accepted_ = HeadOf(state_.checkpoint);
  shipped_seq_.store(state_.shipped_seq);
  accepted_size_.store(accepted_.size);
  {
    std::lock_guard lock(alarm_mu_);
    alarm_text_ = state_.alarm;
  }
  alarm_.store(!state_.alarm.empty());
  return Ok();
}

}  // namespace troad::gateway
