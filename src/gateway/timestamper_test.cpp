#include "gateway/timestamper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "crypto/random.h"
#include "crypto/timestamp.h"
#include "gateway/verify_log.h"
#include "http/server.h"
#include "http/test_util.h"
#include "ledger/merkle.h"
#include "store/database.h"

namespace troad::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;

asio::awaitable<Status> AppendOne(MessageLog* log, TransferRecord record) {
  co_return co_await log->Append(std::move(record));
}

TransferRecord Record(int i) {
  TransferRecord r;
  r.side = "consumer";
  r.message_id = "TW-msg-" + std::to_string(i);
  r.request_id = crypto::NewUuid();
  r.client = "TW/GOV/BLI/insurance";
  r.service = "TW/GOV/MOI/household/getRecord";
  r.peer = "TW/GOV/MOI/moi-gw";
  r.request_time_ms = 1'795'000'000'000 + i;
  r.response_time_ms = r.request_time_ms + 3;
  r.request_hash = "aGFzaA==";
  r.response_hash = "aGFzaDI=";
  r.status = 200;
  return r;
}

// A timestamping authority on a real loopback HTTP server: the TSA of a test, with a
// switch that makes it answer 503 (an authority that is down).
class TestTsa {
 public:
  TestTsa() {
    auto pair = crypto::testutil::IssueTestPair(crypto::CertUsage::kTimestamping, "Test TSA");
    cert_ = std::make_unique<crypto::Certificate>(pair.certificate);
    tsa_ = crypto::TimestampAuthority::Create(pair.key, *cert_, {}, SystemClock::Get()).value();
    http::ServerOptions options;
    server_ =
        http::Server::Create(
            io_.io(), http::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), nullptr,
            [this](http::Request& request,
                   const http::ConnectionInfo&) -> asio::awaitable<http::Response> {
              ++requests_;
              if (down_) co_return http::MakeResponse(503, "down\n", "text/plain");
              auto reply = tsa_->Respond(request.body());
              co_return http::MakeResponse(200, reply.value(), crypto::kTimestampReplyContentType);
            },
            options)
            .value();
    server_->Start();
  }
  ~TestTsa() { server_->Stop(std::chrono::milliseconds(0)); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->local_endpoint().port()) + "/tsa";
  }
  const crypto::Certificate& certificate() const { return *cert_; }
  void SetDown(bool down) { down_ = down; }
  int requests() const { return requests_; }

 private:
  http::testing::IoThread io_;
  std::unique_ptr<crypto::Certificate> cert_;
  std::unique_ptr<crypto::TimestampAuthority> tsa_;
  std::unique_ptr<http::Server> server_;
  std::atomic<bool> down_{false};
  std::atomic<int> requests_{0};
};

class TimestamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troad-timestamper-" + crypto::NewUuid());
    fs::create_directories(dir_);
    log_ = MessageLog::Open((dir_ / "messagelog.db").string(), false, SystemClock::Get()).value();
  }
  void TearDown() override {
    log_->Stop();
    fs::remove_all(dir_);
  }
  void Append(int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(io_.Run(AppendOne(log_.get(), Record(i))));
  }
  std::unique_ptr<Timestamper> Make(std::vector<std::string> urls,
                                    std::vector<crypto::Certificate> trusted,
                                    int64_t max_batch = 10'000) {
    TimestamperOptions options;
    options.authorities = std::move(urls);
    options.max_batch = max_batch;
    options.interval = std::chrono::milliseconds(20);
    options.acceptable_failure = std::chrono::seconds(60);
    options.request_timeout = std::chrono::milliseconds(2000);
    return Timestamper::Create(
               *log_, options, [trusted] { return trusted; }, nullptr, clock_)
        .value();
  }
  // Waits (bounded) until `done` holds.
  template <class F>
  bool WaitFor(F done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  // Every record is in exactly one batch, whose root is what its token stamps.
  void ExpectAllStamped(const crypto::Certificate& tsa, int64_t records) {
    auto reader = MessageLogReader::Open(log_->path()).value();
    auto batches = reader->BatchesAfter(0, 1000).value();
    ASSERT_FALSE(batches.empty());
    int64_t next = 1;
    for (const TimestampBatch& b : batches) {
      EXPECT_EQ(b.first_seq, next);
      auto recs = reader->RecordRange(b.first_seq, b.last_seq).value();
      ASSERT_EQ(static_cast<int64_t>(recs.size()), b.size);
      std::vector<ledger::Hash> leaves;
      for (const auto& r : recs) leaves.push_back(ledger::LeafHash(RecordEntry(r)));
      ledger::MerkleTree tree(leaves);
      EXPECT_EQ(HexEncode(tree.root()), b.root_hex);
      auto info = crypto::VerifyTimestampToken(b.token, tree.root(), {tsa});
      ASSERT_TRUE(info) << info.error().message();
      EXPECT_EQ(info->tsa_certificate_sha256, tsa.Sha256Fingerprint());
      EXPECT_EQ(ToUnixMillis(info->gen_time), b.gen_time_ms);
      // Each record's path leads to the stamped root.
      for (size_t i = 0; i < recs.size(); ++i) {
        auto root = ledger::RootFromInclusionProof(i, recs.size(), leaves[i], tree.Proof(i));
        ASSERT_TRUE(root);
        EXPECT_EQ(*root, tree.root());
      }
      next = b.last_seq + 1;
    }
    EXPECT_EQ(next - 1, records);
  }

  fs::path dir_;
  FakeClock clock_{SystemClock::Get().Now()};
  http::testing::IoThread io_;
  std::unique_ptr<MessageLog> log_;
};

TEST_F(TimestamperTest, BatchesRecordsAndStoresVerifiableTokens) {
  TestTsa tsa;
  Append(0, 25);
  auto t = Make({tsa.url()}, {tsa.certificate()}, /*max_batch=*/10);
  t->Start();
  ASSERT_TRUE(WaitFor([&] { return t->records_stamped() == 25; }));
  EXPECT_EQ(t->batches(), 3u);  // 10 + 10 + 5
  Append(25, 31);
  t->Kick();
  ASSERT_TRUE(WaitFor([&] { return t->records_stamped() == 31; }));
  t->Stop();
  EXPECT_FALSE(t->Failing());
  ExpectAllStamped(tsa.certificate(), 31);

  // A restarted timestamper continues after the last batch, not from the start.
  auto again = Make({tsa.url()}, {tsa.certificate()});
  Append(31, 33);
  again->Start();
  ASSERT_TRUE(WaitFor([&] { return again->records_stamped() == 2; }));
  again->Stop();
  ExpectAllStamped(tsa.certificate(), 33);
}

TEST_F(TimestamperTest, FallsBackToTheNextAuthority) {
  TestTsa down, up;
  down.SetDown(true);
  Append(0, 4);
  auto t = Make({down.url(), up.url()}, {down.certificate(), up.certificate()});
  t->Start();
  ASSERT_TRUE(WaitFor([&] { return t->records_stamped() == 4; }));
  t->Stop();
  EXPECT_GE(down.requests(), 1);
  auto batch = MessageLogReader::Open(log_->path()).value()->LastBatch().value();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->tsa_url, up.url());
  EXPECT_EQ(batch->tsa_certificate_sha256, up.certificate().Sha256Fingerprint());
}

TEST_F(TimestamperTest, RefusesAfterTheAcceptablePeriodAndCatchesUp) {
  TestTsa tsa;
  tsa.SetDown(true);
  Append(0, 5);
  auto t = Make({tsa.url()}, {tsa.certificate()});
  t->Start();
  ASSERT_TRUE(WaitFor([&] { return t->failures() >= 1; }));
  EXPECT_FALSE(t->Failing());  // within the acceptable period
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_TRUE(t->Failing());
  Error e = t->FailingError();
  EXPECT_EQ(e.fault(), "TimestampingFailed");
  EXPECT_NE(e.message().find("no timestamping authority has answered"), std::string::npos);

  tsa.SetDown(false);
  Append(5, 8);
  t->Kick();  // the retry would come after its back-off (1 s)
  ASSERT_TRUE(WaitFor([&] { return t->records_stamped() == 8; }));
  EXPECT_FALSE(t->Failing());
  t->Stop();
  ExpectAllStamped(tsa.certificate(), 8);
}

TEST_F(TimestamperTest, TokensOfAnUntrustedAuthorityAreNotStored) {
  TestTsa tsa, other;
  Append(0, 3);
  auto t = Make({tsa.url()}, {other.certificate()});
  t->Start();
  ASSERT_TRUE(WaitFor([&] { return t->failures() >= 1; }));
  t->Stop();
  EXPECT_EQ(t->records_stamped(), 0u);
  auto reader = MessageLogReader::Open(log_->path()).value();
  EXPECT_FALSE(reader->LastBatch().value());
  auto [waiting, oldest] = reader->Unbatched().value();
  EXPECT_EQ(waiting, 3);
  EXPECT_EQ(oldest, Record(0).request_time_ms);
}

TEST_F(TimestamperTest, CreateRefusesBadOptions) {
  EXPECT_FALSE(Timestamper::Create(
      *log_, TimestamperOptions{}, [] { return std::vector<crypto::Certificate>{}; }, nullptr,
      clock_));
  TimestamperOptions https;
  https.authorities = {"https://127.0.0.1:1/tsa"};
  auto r = Timestamper::Create(
      *log_, https, [] { return std::vector<crypto::Certificate>{}; }, nullptr, clock_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("https"), std::string::npos);
}

// `troad verify-log`'s checks: a clean log verifies; each kind of tampering is found
// and named.
class VerifyLogTest : public TimestamperTest {
 protected:
  void SetUp() override {
    TimestamperTest::SetUp();
    Append(0, 25);
    auto t = Make({tsa_.url()}, {tsa_.certificate()}, /*max_batch=*/10);
    t->Start();
    ASSERT_TRUE(WaitFor([&] { return t->records_stamped() == 25; }));
    t->Stop();
  }
  VerifyLogReport Verify(std::vector<crypto::Certificate> trusted = {}) {
    VerifyLogOptions options;
    options.tsa_certificates = trusted.empty() ? std::vector{tsa_.certificate()} : trusted;
    options.progress = [this](int64_t done, int64_t total) {
      EXPECT_LE(done, total);
      ++progress_calls_;
    };
    auto report = VerifyMessageLog(log_->path(), options);
    EXPECT_TRUE(report) << report.error().message();
    return report.value_or(VerifyLogReport{});
  }
  void Sql(const std::string& sql) {
    auto db = store::OpenSqlite(log_->path()).value();
    ASSERT_TRUE(db->Execute(sql)) << sql;
  }
  TestTsa tsa_;
  int progress_calls_ = 0;
};

TEST_F(VerifyLogTest, ACleanLogVerifies) {
  Append(25, 27);  // not stamped yet: reported, not an error
  VerifyLogReport r = Verify();
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.records, 27);
  EXPECT_EQ(r.batches, 3);
  EXPECT_EQ(r.stamped, 25);
  EXPECT_EQ(r.unstamped, 2);
  EXPECT_EQ(r.oldest_unstamped_ms, Record(25).request_time_ms);
  EXPECT_EQ(progress_calls_, 3);
}

TEST_F(VerifyLogTest, NamesAnAlteredRecord) {
  Sql("UPDATE transfer_record SET status = 500 WHERE seq = 12");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("record seq 12 (message id \"TW-msg-11\""), std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find("altered after batch 2 (records 11..20)"), std::string::npos)
      << r.problem;
  EXPECT_EQ(r.batches, 1);  // the first batch verified before the problem
}

TEST_F(VerifyLogTest, NamesADeletedRecord) {
  Sql("DELETE FROM transfer_record WHERE seq = 5");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("record seq 5 is missing"), std::string::npos) << r.problem;
}

TEST_F(VerifyLogTest, NamesATamperedToken) {
  Sql("UPDATE timestamp_batch SET token = substr(token, 1, length(token) - 1) || x'00' "
      "WHERE id = 3");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("batch 3 (records 21..25): its timestamp token does not verify"),
            std::string::npos)
      << r.problem;
}

TEST_F(VerifyLogTest, NamesAlteredLeaves) {
  Sql("UPDATE timestamp_batch SET leaves = x'00' || substr(leaves, 2) WHERE id = 1");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("batch 1 (records 1..10): its leaves lead to root"), std::string::npos)
      << r.problem;
}

TEST_F(VerifyLogTest, RefusesTokensOfAnAuthorityNotTrusted) {
  TestTsa other;
  VerifyLogReport r = Verify({other.certificate()});
  EXPECT_NE(r.problem.find("batch 1 (records 1..10): its timestamp token does not verify"),
            std::string::npos)
      << r.problem;
  EXPECT_EQ(r.batches, 0);
}

TEST_F(VerifyLogTest, NamesAGapBetweenBatches) {
  Sql("DELETE FROM timestamp_batch WHERE id = 2");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("records 11..20 are in no timestamped batch"), std::string::npos)
      << r.problem;
}

TEST(RecordEntryTest, EveryColumnChangesTheEntry) {
  TransferRecord base = Record(1);
  base.seq = 7;
  const std::string entry = RecordEntry(base);
  EXPECT_EQ(entry.rfind("troad-record/1\n{\"seq\":7,\"side\":\"consumer\"", 0), 0u) << entry;
  std::vector<std::function<void(TransferRecord&)>> edits = {
      [](TransferRecord& r) { r.seq++; },
      [](TransferRecord& r) { r.side = "provider"; },
      [](TransferRecord& r) { r.message_id += "x"; },
      [](TransferRecord& r) { r.request_id += "x"; },
      [](TransferRecord& r) { r.client += "x"; },
      [](TransferRecord& r) { r.service += "x"; },
      [](TransferRecord& r) { r.user_id += "x"; },
      [](TransferRecord& r) { r.issue += "x"; },
      [](TransferRecord& r) { r.peer += "x"; },
      [](TransferRecord& r) { r.request_time_ms++; },
      [](TransferRecord& r) { r.response_time_ms++; },
      [](TransferRecord& r) { r.request_hash += "x"; },
      [](TransferRecord& r) { r.response_hash += "x"; },
      [](TransferRecord& r) { r.status++; },
      [](TransferRecord& r) { r.request_bytes++; },
      [](TransferRecord& r) { r.response_bytes++; },
      [](TransferRecord& r) { r.request_signature += "x"; },
      [](TransferRecord& r) { r.response_signature += "x"; },
      [](TransferRecord& r) { r.fault += "x"; },
      [](TransferRecord& r) { r.fault_message += "x"; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    TransferRecord r = base;
    edits[i](r);
    EXPECT_NE(RecordEntry(r), entry) << "edit " << i;
  }
}

}  // namespace
}  // namespace troad::gateway
