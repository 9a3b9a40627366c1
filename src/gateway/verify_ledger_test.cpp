#include "gateway/verify_ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/random.h"
#include "gateway/message_log.h"
#include "gateway/shipper.h"
#include "http/server.h"
#include "http/test_util.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/log.h"
#include "store/database.h"

namespace troad::gateway {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr std::string_view kOrigin = "ledger.troad.test/v1";
constexpr std::string_view kGateway = "TW/GOV/00000002/gw1";

asio::awaitable<Status> AppendOne(MessageLog* log, TransferRecord record) {
  co_return co_await log->Append(std::move(record));
}

TransferRecord Record(int i) {
  TransferRecord r;
  r.side = i % 2 == 0 ? "consumer" : "provider";
  r.message_id = "TW-msg-" + std::to_string(i);
  r.request_id = "0190a3b4-0000-7000-8000-" + std::to_string(100000000000 + i);
  r.client = "TW/GOV/00000002/LI";
  r.service = "TW/GOV/00000001/HR/household";
  r.user_id = "TW-clerk-synthetic-7";
  r.issue = "case 2026-" + std::to_string(i);
  r.peer = "TW/GOV/00000001/gw1";
  r.request_time_ms = 1'795'000'000'000 + i;
  r.response_time_ms = r.request_time_ms + 3;
  r.status = 200;
  return r;
}

// Another gateway's entry: the ledger holds every gateway's, interleaved.
std::string OtherEntry(int64_t seq) {
  ledger::LedgerEntry e;
  e.gateway = "TW/GOV/00000009/other";
  e.seq = seq;
  e.side = "consumer";
  e.request_id = "other-" + std::to_string(seq);
  e.status = 200;
  e.record = HexEncode(ledger::LeafHash("other record " + std::to_string(seq)));
  return ledger::EncodeLedgerEntry(e).value();
}

std::map<std::string, std::string> QueryOf(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const size_t eq = part.find('=');
    out[std::string(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

nlohmann::json HashesJson(const std::vector<ledger::Hash>& hashes) {
  nlohmann::json out = nlohmann::json::array();
  for (const ledger::Hash& h : hashes) out.push_back(Base64Encode(std::span<const uint8_t>(h)));
  return out;
}

// A ledger on a real loopback HTTP server: a ledger::Log in a SQLite file, the read
// routes of §12.3 and an add-entries route that appends what it is sent (no
// authentication: the shipper's side is what these tests use it for). The log it serves
// can be swapped for a forked or truncated one, and its signing key for another.
class TestLedger {
 public:
  explicit TestLedger(fs::path dir) : dir_(std::move(dir)) {
    log_ = NewLog();
    server_ = http::Server::Create(
                  io_.io(), http::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), nullptr,
                  [this](http::Request& request, const http::ConnectionInfo&)
                      -> asio::awaitable<http::Response> { co_return Handle(request); },
                  http::ServerOptions{})
                  .value();
    server_->Start();
  }
  ~TestLedger() { server_->Stop(std::chrono::milliseconds(0)); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->local_endpoint().port()) + "/ledger/v1";
  }
  globalconf::LedgerInfo info() const {
    return globalconf::LedgerInfo{url(), std::string(kOrigin), published_.Public()};
  }
  const crypto::PrivateKey& published_key() const { return published_; }
  uint64_t size() {
    std::lock_guard lock(mu_);
    return log_->Size();
  }
  std::string Note() {
    std::lock_guard lock(mu_);
    return NoteLocked();
  }
  void AppendOthers(int count) {
    std::lock_guard lock(mu_);
    std::vector<std::string> entries;
    for (int i = 0; i < count; ++i) entries.push_back(OtherEntry(++other_seq_));
    ASSERT_TRUE(log_->AppendBatch(entries));
  }
  // Serves from now on a log with the same entries, except index `changed`, plus
  // `extra` more: a ledger that rewrote its history.
  void Fork(uint64_t changed, int extra) {
    std::lock_guard lock(mu_);
    std::vector<std::string> entries = AllLocked();
    entries[changed] = OtherEntry(1000 + static_cast<int64_t>(changed));
    for (int i = 0; i < extra; ++i) entries.push_back(OtherEntry(++other_seq_));
    Replace(entries);
  }
  // Serves from now on the first `size` entries only.
  void Truncate(uint64_t size) {
    std::lock_guard lock(mu_);
    std::vector<std::string> entries = AllLocked();
    entries.resize(size);
    Replace(entries);
  }
  void SignWith(crypto::PrivateKey key) {
    std::lock_guard lock(mu_);
    signing_ = std::move(key);
  }

 private:
  std::unique_ptr<ledger::Log> NewLog() {
    const fs::path path = dir_ / ("ledger-" + std::to_string(logs_++) + ".db");
    return ledger::Log::Open(store::OpenSqlite(path.string()).value(), clock_).value();
  }
  std::vector<std::string> AllLocked() {
    std::vector<std::string> out;
    while (out.size() < log_->Size()) {
      // Bound first: a range-for over .value() of a temporary would dangle.
      const std::vector<ledger::LogEntry> entries = log_->Entries(out.size(), log_->Size()).value();
      for (const auto& e : entries) out.push_back(e.bytes);
    }
    return out;
  }
  void Replace(const std::vector<std::string>& entries) {
    auto log = NewLog();
    ASSERT_TRUE(log->AppendBatch(entries));
    log_ = std::move(log);
  }
  std::string NoteLocked() {
    ledger::Checkpoint c;
    c.origin = std::string(kOrigin);
    c.size = log_->Size();
    c.root = log_->Root();
    c.timestamp_ms = 1'795'000'000'000 + static_cast<int64_t>(c.size);
    return ledger::SignCheckpoint(c, signing_).value();
  }

  http::Response Handle(const http::Request& request) {
    std::lock_guard lock(mu_);
    const std::string_view target = request.target();
    const size_t q = target.find('?');
    const std::string_view path = target.substr(0, q);
    auto query = QueryOf(q == std::string_view::npos ? "" : target.substr(q + 1));
    auto error = [](unsigned status, const std::string& what) {
      return http::MakeResponse(status, nlohmann::json{{"error", what}}.dump(), "application/json");
    };
    auto number = [&](const std::string& name, uint64_t def) {
      return query.count(name) != 0 ? std::stoull(query[name]) : def;
    };
    if (path == "/ledger/v1/checkpoint") {
      return http::MakeResponse(200, NoteLocked(), "text/plain; charset=utf-8");
    }
    if (path == "/ledger/v1/proof") {
      const uint64_t index = number("index", 0), size = number("size", log_->Size());
      auto proof = log_->InclusionProof(index, size);
      if (!proof) return error(400, proof.error().message());
      return http::MakeResponse(
          200,
          nlohmann::json{{"index", index}, {"size", size}, {"proof", HashesJson(*proof)}}.dump(),
          "application/json");
    }
    if (path == "/ledger/v1/consistency") {
      const uint64_t first = number("first", 0), second = number("second", log_->Size());
      auto proof = log_->ConsistencyProof(first, second);
      if (!proof) return error(400, proof.error().message());
      return http::MakeResponse(
          200,
          nlohmann::json{{"first", first}, {"second", second}, {"proof", HashesJson(*proof)}}
              .dump(),
          "application/json");
    }
    if (path == "/ledger/v1/add-entries") {
      auto body = nlohmann::json::parse(request.body(), nullptr, false);
      if (body.is_discarded()) return error(400, "body");
      const uint64_t known = body["known_size"].get<uint64_t>();
      if (known > log_->Size()) return error(409, "known_size");
      std::vector<std::string> entries;
      nlohmann::json placed = nlohmann::json::array();
      for (const auto& b64 : body["entries"]) {
        entries.push_back(Base64Decode(b64.get<std::string>()).value());
        placed.push_back({{"seq", ledger::ParseLedgerEntry(entries.back()).value().seq},
                          {"index", log_->Size() + entries.size() - 1}});
      }
      if (!log_->AppendBatch(entries)) return error(500, "append");
      const uint64_t size = log_->Size();
      nlohmann::json out{{"entries", placed},
                         {"checkpoint", NoteLocked()},
                         {"inclusion",
                          {{"index", size - 1},
                           {"proof", HashesJson(log_->InclusionProof(size - 1, size).value())}}}};
      if (known > 0) out["consistency"] = HashesJson(log_->ConsistencyProof(known, size).value());
      return http::MakeResponse(200, out.dump(), "application/json");
    }
    return error(404, "no such route");
  }

  const fs::path dir_;
  FakeClock clock_{SystemClock::Get().Now()};
  const crypto::PrivateKey published_ = crypto::PrivateKey::GenerateEcP256().value();
  std::mutex mu_;
  crypto::PrivateKey signing_ = published_;  // guarded by mu_
  std::unique_ptr<ledger::Log> log_;         // guarded by mu_
  int logs_ = 0;
  int64_t other_seq_ = 0;
  http::testing::IoThread io_;
  std::unique_ptr<http::Server> server_;
};

class VerifyLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troad-verify-ledger-" + crypto::NewUuid());
    fs::create_directories(dir_);
    ledger_ = std::make_unique<TestLedger>(dir_);
    log_path_ = (dir_ / "messagelog.db").string();
    log_ = MessageLog::Open(log_path_, false, clock_).value();
    client_ = LedgerClient::Create(ledger_->url(), nullptr).value();
  }
  void TearDown() override {
    client_.reset();
    log_->Stop();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  void Append(int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(io_.Run(AppendOne(log_.get(), Record(i))));
  }
  // Ships everything waiting through the real shipper, max_batch records per request.
  void Ship() {
    auto st = NewShipper()->ShipOnce();
    ASSERT_TRUE(st) << st.error().ToString();
  }
  // A shipper of this gateway's log to `info` (the test ledger by default), as the
  // gateway makes one at start: its state comes from the log.
  std::unique_ptr<Shipper> NewShipper(std::optional<globalconf::LedgerInfo> info = {}) {
    ShipperOptions options;
    options.max_batch = 10;
    options.request_timeout = std::chrono::milliseconds(5000);
    const globalconf::LedgerInfo ledger = info ? *info : ledger_->info();
    const ShipperIdentity identity{crypto::PrivateKey::GenerateEcP256().value(),
                                   std::string(64, '0')};
    return Shipper::Create(
               *log_, gateway_, options, [ledger] { return std::optional(ledger); },
               [identity] { return std::optional(identity); },
               [](const std::string&) -> Result<std::shared_ptr<http::SslContext>> {
                 return Fail(ErrorCode::kFailedPrecondition, "no TLS in this test");
               },
               clock_)
        .value();
  }
  LedgerShipState State() { return ReadLedgerShipState(log_path_).value(); }
  // Records 1..25 shipped in three shipments, others' entries between them; 26..30 not
  // shipped. Receipts: seq 1..10 at index 0, 11..20 at 13, 21..25 at 25.
  void ShipSome() {
    Append(1, 11);
    Ship();
    ledger_->AppendOthers(3);
    Append(11, 21);
    Ship();
    ledger_->AppendOthers(2);
    Append(21, 26);
    Ship();
    Append(26, 31);
  }
  VerifyRecordsReport Verify(RecordQuery query = {}) {
    auto report = VerifyRecordsInLedger(log_path_, gateway_, ledger_->info(), *client_, query);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : VerifyRecordsReport{};
  }
  void Sql(std::string_view sql) {
    auto db = store::OpenSqlite(log_path_).value();
    auto changed = db->Execute(sql);
    ASSERT_TRUE(changed) << changed.error().ToString();
    ASSERT_GT(*changed, 0) << sql;
  }

  fs::path dir_;
  std::string log_path_;
  FakeClock clock_{SystemClock::Get().Now()};
  const GatewayId gateway_ = GatewayId::Parse(kGateway).value();
  http::testing::IoThread io_;
  std::unique_ptr<TestLedger> ledger_;
  std::unique_ptr<MessageLog> log_;
  std::unique_ptr<LedgerClient> client_;
};

TEST_F(VerifyLedgerTest, EveryShippedRecordIsFoundAndTheRestCountedAsNotShipped) {
  ShipSome();
  ASSERT_EQ(ledger_->size(), 30u);
  int64_t last_done = 0, last_total = 0;
  auto report = VerifyRecordsInLedger(log_path_, gateway_, ledger_->info(), *client_, {},
                                      [&](int64_t done, int64_t total) {
                                        last_done = done;
                                        last_total = total;
                                      });
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->problem, "");
  EXPECT_EQ(report->records, 30);
  EXPECT_EQ(report->in_ledger, 25);
  EXPECT_EQ(report->not_shipped, 5);
  EXPECT_EQ(report->accepted.size, 30u);
  EXPECT_EQ(report->current.size, 30u);
  EXPECT_EQ(last_done, 30);
  EXPECT_EQ(last_total, 30);
}

TEST_F(VerifyLedgerTest, ALedgerThatGrewSinceIsStillConsistent) {
  ShipSome();
  ledger_->AppendOthers(7);
  VerifyRecordsReport report = Verify();
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.accepted.size, 30u);
  EXPECT_EQ(report.current.size, 37u);
  EXPECT_EQ(report.in_ledger, 25);
}

TEST_F(VerifyLedgerTest, RecordsAreSelectedByMessageOrRequestId) {
  ShipSome();
  VerifyRecordsReport report = Verify({RecordQuery::By::kMessageId, "TW-msg-17"});
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.records, 1);
  EXPECT_EQ(report.in_ledger, 1);
  report = Verify({RecordQuery::By::kRequestId, Record(28).request_id});
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.records, 1);
  EXPECT_EQ(report.not_shipped, 1);
  report = Verify({RecordQuery::By::kMessageId, "no such message"});
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.records, 0);
}

TEST_F(VerifyLedgerTest, NothingShippedYetIsNotAFailure) {
  Append(1, 4);
  VerifyRecordsReport report = Verify();
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.not_shipped, 3);
  EXPECT_EQ(report.accepted_note, "");
}

TEST_F(VerifyLedgerTest, AnAlteredRecordIsNamed) {
  ShipSome();
  Sql("UPDATE transfer_record SET user_id = 'TW-clerk-synthetic-8' WHERE seq = 12");
  const std::string problem = Verify().problem;
  EXPECT_EQ(problem.rfind("record seq 12 (message id \"TW-msg-12\"): its entry is not in the "
                          "ledger at index 14: ",
                          0),
            0u)
      << problem;
}

TEST_F(VerifyLedgerTest, AnAlteredReceiptIsNamed) {
  ShipSome();
  Sql("UPDATE ledger_receipt SET first_index = first_index + 1 WHERE first_seq = 11");
  const std::string problem = Verify().problem;
  EXPECT_EQ(problem.rfind("record seq 11 (message id \"TW-msg-11\"): its entry is not in the "
                          "ledger at index 14: ",
                          0),
            0u)
      << problem;
}

TEST_F(VerifyLedgerTest, ADeletedReceiptIsNamed) {
  ShipSome();
  Sql("DELETE FROM ledger_receipt WHERE first_seq = 21");
  EXPECT_EQ(Verify().problem,
            "record seq 21 (message id \"TW-msg-21\"): shipped (ledger_state.shipped_seq is 25), "
            "but no ledger_receipt holds it");
}

TEST_F(VerifyLedgerTest, RecordsArchivedFromAReceiptsStartDoNotMoveTheOthers) {
  ShipSome();
  // As the archiver does: the oldest records leave the live log.
  Sql("DELETE FROM transfer_record WHERE seq <= 14");
  VerifyRecordsReport report = Verify();
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.records, 16);
  EXPECT_EQ(report.in_ledger, 11);
}

TEST_F(VerifyLedgerTest, ALedgerThatRewroteItsHistoryIsReportedNotTrusted) {
  ShipSome();
  ledger_->Fork(/*changed=*/4, /*extra=*/3);
  VerifyRecordsReport report = Verify();
  EXPECT_TRUE(report.heads_disagree);
  EXPECT_EQ(
      report.problem.rfind("the ledger is not consistent with what this gateway accepted: ", 0), 0u)
      << report.problem;
  EXPECT_NE(report.problem.find("accepted: size 30, root "), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("ledger  : size 33, root "), std::string::npos) << report.problem;
  EXPECT_EQ(report.in_ledger, 0);
}

TEST_F(VerifyLedgerTest, ALedgerThatShrankIsReported) {
  ShipSome();
  ledger_->Truncate(20);
  VerifyRecordsReport report = Verify();
  EXPECT_TRUE(report.heads_disagree);
  EXPECT_NE(report.problem.find("the newer head is of size 20, smaller than 30"), std::string::npos)
      << report.problem;
}

TEST_F(VerifyLedgerTest, AHeadSignedWithAnotherKeyIsNotTrusted) {
  ShipSome();
  ledger_->SignWith(crypto::PrivateKey::GenerateEcP256().value());
  VerifyRecordsReport report = Verify();
  EXPECT_EQ(report.problem.rfind("the ledger's checkpoint is not trusted: it does not verify", 0),
            0u)
      << report.problem;
}

TEST_F(VerifyLedgerTest, AnAlteredAcceptedHeadIsNamed) {
  ShipSome();
  Sql("UPDATE ledger_state SET checkpoint = replace(checkpoint, 'timestamp 1', 'timestamp 2')");
  EXPECT_EQ(Verify().problem.rfind("the head this gateway accepted (ledger_state.checkpoint) does "
                                   "not verify",
                                   0),
            0u);
}

TEST_F(VerifyLedgerTest, TwoHeadsAreCheckedForConsistency) {
  Append(1, 8);
  Ship();
  const std::string old_note = ledger_->Note();
  ledger_->AppendOthers(9);
  const std::string new_note = ledger_->Note();
  const crypto::PublicKey key = ledger_->published_key().Public();

  auto report = VerifyLedgerConsistency(client_.get(), key, kOrigin, old_note, new_note);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->problem, "");
  EXPECT_EQ(report->old_head.size, 7u);
  EXPECT_EQ(report->new_head.size, 16u);
  EXPECT_GT(report->proof_hashes, 0u);
  // The same head, and the empty origin (the two notes must then agree): no ledger asked.
  report = VerifyLedgerConsistency(nullptr, key, "", new_note, new_note);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem, "");
  report = VerifyLedgerConsistency(nullptr, key, kOrigin, old_note, new_note);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), ErrorCode::kFailedPrecondition);

  // Newer given as older.
  report = VerifyLedgerConsistency(client_.get(), key, kOrigin, new_note, old_note);
  ASSERT_TRUE(report);
  EXPECT_NE(report->problem.find("the newer head is of size 7, smaller than 16"), std::string::npos)
      << report->problem;
  EXPECT_NE(report->problem.find("old: size 16"), std::string::npos);
  EXPECT_NE(report->problem.find("new: size 7"), std::string::npos);

  // Two roots at one size.
  ledger_->Fork(/*changed=*/3, /*extra=*/0);
  const std::string forked = ledger_->Note();
  report = VerifyLedgerConsistency(client_.get(), key, kOrigin, new_note, forked);
  ASSERT_TRUE(report);
  EXPECT_NE(report->problem.find("two different roots for the same tree size 16"),
            std::string::npos)
      << report->problem;

  // A fork that grew: the proof the ledger gives does not lead to the old root.
  ledger_->Fork(/*changed=*/3, /*extra=*/4);
  report = VerifyLedgerConsistency(client_.get(), key, kOrigin, old_note, ledger_->Note());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem.rfind("the new head does not extend the old one: ", 0), 0u)
      << report->problem;

  // Another key, another origin.
  const crypto::PrivateKey other = crypto::PrivateKey::GenerateEcP256().value();
  report = VerifyLedgerConsistency(client_.get(), other.Public(), kOrigin, old_note, new_note);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem.rfind("the old checkpoint: it does not verify with the ledger key", 0),
            0u)
      << report->problem;
  report = VerifyLedgerConsistency(client_.get(), key, "other/v1", old_note, new_note);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem.rfind("the old checkpoint: it is of origin", 0), 0u);

  // Not a checkpoint at all: bad input, not a verdict.
  report = VerifyLedgerConsistency(client_.get(), key, kOrigin, "junk", new_note);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(VerifyLedgerTest, AnUnreachableLedgerIsAnErrorNotAVerdict) {
  Append(1, 3);
  Ship();
  const std::string url = ledger_->url();
  const globalconf::LedgerInfo info = ledger_->info();
  ledger_.reset();  // the port closes
  auto client = LedgerClient::Create(url, nullptr, std::chrono::milliseconds(2000)).value();
  auto report = VerifyRecordsInLedger(log_path_, gateway_, info, *client, {});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), ErrorCode::kUnavailable);
}

// The shipper against a ledger that misbehaves while it ships (docs/protocol.md §12.5):
// each time the alarm is raised, stored, and kept across a restart; nothing more is
// shipped and no receipt is stored while it stands; it clears only when the ledger
// serves a head consistent with the accepted one again.
using ShipperAlarmTest = VerifyLedgerTest;

TEST_F(ShipperAlarmTest, ALedgerThatRewroteItsHistoryRaisesTheAlarmAndShippingStops) {
  ShipSome();  // 1..25 shipped, accepted head of size 30; 26..30 wait
  ASSERT_EQ(State().shipped_seq, 25);
  ledger_->Fork(/*changed=*/4, /*extra=*/3);
  auto shipper = NewShipper();
  EXPECT_FALSE(shipper->alarm());
  auto st = shipper->ShipOnce();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(shipper->alarm());
  EXPECT_NE(shipper->alarm_text().find("not consistent with the accepted one"), std::string::npos)
      << shipper->alarm_text();
  LedgerShipState state = State();
  EXPECT_EQ(state.shipped_seq, 25) << "no receipt from a ledger that is not trusted";
  EXPECT_EQ(state.alarm, shipper->alarm_text());

  // A restarted gateway keeps the alarm, and the re-check fails the same way.
  shipper.reset();
  auto restarted = NewShipper();
  EXPECT_TRUE(restarted->alarm());
  st = restarted->ShipOnce();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("does not extend the accepted one"), std::string::npos)
      << st.error().message();
  EXPECT_EQ(State().shipped_seq, 25);
}

TEST_F(ShipperAlarmTest, ALedgerThatShrankRaisesTheAlarm) {
  ShipSome();
  ledger_->Truncate(20);
  auto shipper = NewShipper();
  auto st = shipper->ShipOnce();
  ASSERT_FALSE(st);
  EXPECT_TRUE(shipper->alarm());
  EXPECT_NE(shipper->alarm_text().find("HTTP 409"), std::string::npos) << shipper->alarm_text();
  EXPECT_EQ(State().shipped_seq, 25);
}

TEST_F(ShipperAlarmTest, AHeadSignedWithAnotherKeyRaisesTheAlarmUntilTheRightKeySignsAgain) {
  ShipSome();
  ledger_->SignWith(crypto::PrivateKey::GenerateEcP256().value());
  auto shipper = NewShipper();
  ASSERT_FALSE(shipper->ShipOnce());
  EXPECT_TRUE(shipper->alarm());
  EXPECT_NE(shipper->alarm_text().find("its checkpoint, by the global configuration's ledger key"),
            std::string::npos)
      << shipper->alarm_text();
  EXPECT_EQ(State().shipped_seq, 25);

  // The ledger signs with its published key again, and its head extends the accepted
  // one (it grew by what was sent meanwhile): the alarm clears and shipping resumes.
  ledger_->SignWith(ledger_->published_key());
  auto st = shipper->ShipOnce();
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_FALSE(shipper->alarm());
  LedgerShipState state = State();
  EXPECT_EQ(state.alarm, "");
  EXPECT_EQ(state.shipped_seq, 30);
  EXPECT_EQ(Verify().problem, "");
}

TEST_F(ShipperAlarmTest, AnUnreachableLedgerIsNoAlarmAndTheRecordsWait) {
  ShipSome();
  globalconf::LedgerInfo gone = ledger_->info();
  gone.url = "http://127.0.0.1:1/ledger/v1";  // nothing listens on port 1
  auto shipper = NewShipper(gone);
  auto st = shipper->ShipOnce();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable) << st.error().ToString();
  EXPECT_FALSE(shipper->alarm());
  EXPECT_EQ(State().shipped_seq, 25);
  EXPECT_EQ(State().alarm, "");
  // The ledger answers again: the waiting records go.
  ASSERT_TRUE(NewShipper()->ShipOnce());
  EXPECT_EQ(State().shipped_seq, 30);
}

TEST(LedgerClientTest, AnHttpsLedgerNeedsACa) {
  auto client = LedgerClient::Create("https://central.example:4400/ledger/v1", nullptr);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(LedgerClient::Create("ftp://central.example/ledger/v1", nullptr));
}

}  // namespace
}  // namespace troad::gateway
