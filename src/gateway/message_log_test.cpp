#include "gateway/message_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "store/database.h"

namespace troad::gateway {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// A plain function, not a capturing lambda: see message_log.cpp on GCC 12 coroutines.
asio::awaitable<Status> AppendOne(MessageLog* log, TransferRecord record) {
  co_return co_await log->Append(std::move(record));
}

TransferRecord SampleRecord(const std::string& message_id) {
  TransferRecord r;
  r.side = "provider";
  r.message_id = message_id;
  r.request_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  r.client = "TW/GOV/BLI/insurance";
  r.service = "TW/GOV/MOI/household/getRecord";
  r.user_id = "TW-A123456789";
  r.issue = "案件 42";
  r.peer = "TW/GOV/BLI/gw1";
  r.request_time_ms = 1'795'000'000'123;
  r.response_time_ms = 1'795'000'000'456;
  r.request_hash = "cmVxdWVzdCBoYXNo";
  r.response_hash = "cmVzcG9uc2UgaGFzaA==";
  r.status = 201;
  r.request_bytes = 1234;
  r.response_bytes = int64_t{5} << 40;
  r.request_signature = R"({"alg":"ES256","batch_size":3})";
  r.response_signature = R"({"alg":"ES256","batch_size":1})";
  r.fault = "";
  r.fault_message = "";
  return r;
}

void ExpectSameRecord(const TransferRecord& a, const TransferRecord& b) {
  EXPECT_EQ(a.side, b.side);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.issue, b.issue);
  EXPECT_EQ(a.peer, b.peer);
  EXPECT_EQ(a.request_time_ms, b.request_time_ms);
  EXPECT_EQ(a.response_time_ms, b.response_time_ms);
  EXPECT_EQ(a.request_hash, b.request_hash);
  EXPECT_EQ(a.response_hash, b.response_hash);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.request_bytes, b.request_bytes);
  EXPECT_EQ(a.response_bytes, b.response_bytes);
  EXPECT_EQ(a.request_signature, b.request_signature);
  EXPECT_EQ(a.response_signature, b.response_signature);
  EXPECT_EQ(a.fault, b.fault);
  EXPECT_EQ(a.fault_message, b.fault_message);
}

class MessageLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troad-message-log-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "messagelog.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<MessageLog> Open() {
    auto log = MessageLog::Open(path_, /*sync_full=*/true, clock_);
    EXPECT_TRUE(log) << log.error().ToString();
    return log ? std::move(*log) : nullptr;
  }

  // Appends each record from its own coroutine, all spawned before the io_context runs
  // on `threads` threads; returns each Append's status in order.
  static std::vector<Status> AppendAll(MessageLog& log, std::vector<TransferRecord> records,
                                       int threads) {
    asio::io_context io;
    std::mutex mu;
    std::vector<Status> results(records.size(), Status());
    std::vector<bool> done(records.size(), false);
    for (size_t i = 0; i < records.size(); ++i) {
      asio::co_spawn(io, AppendOne(&log, std::move(records[i])),
                     [&, i](std::exception_ptr error, Status status) {
                       std::lock_guard lock(mu);
                       if (error) {
                         results[i] = Fail(ErrorCode::kInternal, "coroutine threw");
                       } else {
                         results[i] = std::move(status);
                       }
                       done[i] = true;
                     });
    }
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    for (size_t i = 0; i < done.size(); ++i) {
      EXPECT_TRUE(done[i]) << "append " << i << " never completed";
    }
    return results;
  }

  FakeClock clock_{*ParseRfc3339("2026-01-01T00:00:00Z")};
  fs::path dir_;
  std::string path_;
};

TEST_F(MessageLogTest, AppendedRecordIsReadBackWithEveryField) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord record = SampleRecord("TW-msg-1");
  auto results = AppendAll(*log, {record}, 1);
  ASSERT_TRUE(results[0]) << results[0].error().ToString();

  auto found = log->FindByMessageId("TW-msg-1");
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  ExpectSameRecord((*found)[0], record);
  auto count = log->Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);

  auto none = log->FindByMessageId("TW-msg-2");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// The writer stores each record's leaf (migration 6); the timestamper and shipper read
// it instead of the whole row. It must be the leaf of the record as read back, seq
// included; a record written before the column existed (NULL) gets it computed; a
// damaged one is refused, naming the record.
TEST_F(MessageLogTest, StoresEachRecordsLeafAndReadsItBack) {
  auto log = Open();
  ASSERT_TRUE(log);
  std::vector<TransferRecord> records;
  for (int i = 0; i < 5; ++i) records.push_back(SampleRecord("TW-leaf-" + std::to_string(i)));
  records[3].fault = "Server.ServerProxy.ServiceFailed";
  for (const Status& st : AppendAll(*log, records, 2)) ASSERT_TRUE(st) << st.error().ToString();

  auto reader = MessageLogReader::Open(path_);
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto full = (*reader)->RecordRange(1, 5);
  ASSERT_TRUE(full);
  ASSERT_EQ(full->size(), 5u);
  auto leaves = (*reader)->LeavesAfter(0, 100);
  ASSERT_TRUE(leaves) << leaves.error().ToString();
  auto digests = (*reader)->DigestsAfter(1, 100);
  ASSERT_TRUE(digests) << digests.error().ToString();
  ASSERT_EQ(leaves->size(), 5u);
  ASSERT_EQ(digests->size(), 4u);
  for (size_t i = 0; i < 5; ++i) {
    const TransferRecord& r = (*full)[i];
    EXPECT_EQ((*leaves)[i].seq, r.seq);
    EXPECT_EQ((*leaves)[i].leaf, RecordLeaf(r)) << "seq " << r.seq;
    if (i == 0) continue;
    const RecordDigest& d = (*digests)[i - 1];
    const RecordDigest want = DigestOf(r);
    EXPECT_EQ(d.seq, want.seq);
    EXPECT_EQ(d.leaf, want.leaf);
    EXPECT_EQ(std::tie(d.side, d.message_id, d.request_id, d.client, d.service, d.fault,
                       d.request_hash, d.response_hash),
              std::tie(want.side, want.message_id, want.request_id, want.client, want.service,
                       want.fault, want.request_hash, want.response_hash));
    EXPECT_EQ(std::tie(d.status, d.request_time_ms, d.response_time_ms),
              std::tie(want.status, want.request_time_ms, want.response_time_ms));
  }
  // The leaf commits to the seq: the same record at another seq has another leaf.
  TransferRecord moved = (*full)[0];
  moved.seq = 99;
  EXPECT_NE(RecordLeaf(moved), (*leaves)[0].leaf);

  {
    auto db = store::OpenSqlite(path_, {});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Execute("UPDATE transfer_record SET leaf = NULL WHERE seq = 2"));
  }
  auto recomputed = (*reader)->LeavesAfter(1, 1);
  ASSERT_TRUE(recomputed) << recomputed.error().ToString();
  ASSERT_EQ(recomputed->size(), 1u);
  EXPECT_EQ((*recomputed)[0].leaf, RecordLeaf((*full)[1]));
  auto digest = (*reader)->DigestsAfter(1, 1);
  ASSERT_TRUE(digest);
  EXPECT_EQ((*digest)[0].leaf, RecordLeaf((*full)[1]));
  // Two threads append, so which record got seq 2 is theirs to decide.
  EXPECT_EQ((*digest)[0].message_id, (*full)[1].message_id);

  {
    auto db = store::OpenSqlite(path_, {});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Execute("UPDATE transfer_record SET leaf = x'0102' WHERE seq = 3"));
  }
  auto damaged = (*reader)->LeavesAfter(0, 100);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(damaged.error().message().find("record 3"), std::string::npos)
      << damaged.error().message();
}

TEST_F(MessageLogTest, FindsByRequestIdThroughItsIndex) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord a = SampleRecord("TW-msg-a");
  a.request_id = "018f0000-0000-7000-8000-00000000000a";
  TransferRecord b = SampleRecord("TW-msg-b");
  b.request_id = "018f0000-0000-7000-8000-00000000000b";
  auto results = AppendAll(*log, {a, b}, 2);
  ASSERT_TRUE(results[0] && results[1]);

  auto found = log->FindByRequestId(b.request_id);
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  ExpectSameRecord((*found)[0], b);

  // The lookup is an index search, not a scan of every record.
  auto db = store::OpenSqlite(path_, {.read_only = true});
  ASSERT_TRUE(db);
  auto plan = (*db)->Query(
      "EXPLAIN QUERY PLAN SELECT * FROM transfer_record WHERE request_id = ?", {b.request_id});
  ASSERT_TRUE(plan);
  ASSERT_FALSE(plan->empty());
  std::string detail = *plan->back().Text(3);
  EXPECT_NE(detail.find("USING INDEX transfer_record_request_id"), std::string::npos) << detail;
}

TEST_F(MessageLogTest, ReadsByFaultAndRefusesOtherColumns) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord refused = SampleRecord("TW-msg-refused-1");
  refused.fault = "Server.ServerProxy.AccessDenied";
  auto results = AppendAll(*log, {SampleRecord("TW-msg-ok"), refused}, 2);
  ASSERT_TRUE(results[0] && results[1]);

  auto found = ReadTransferRecords(path_, "fault", refused.fault);
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  ExpectSameRecord((*found)[0], refused);

  auto bad = ReadTransferRecords(path_, "client = client OR 1", "x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("cannot be searched by"), std::string::npos);
}

TEST_F(MessageLogTest, RecordSurvivesClosingAndReopening) {
  TransferRecord refused = SampleRecord("TW-msg-refused");
  refused.side = "consumer";
  refused.status = 403;
  refused.response_signature = "";
  refused.fault = "Server.ServerProxy.AccessDenied";
  refused.fault_message = "Request is not allowed: TW/GOV/BLI/insurance may not call GET /";
  {
    auto log = Open();
    ASSERT_TRUE(log);
    auto results = AppendAll(*log, {SampleRecord("TW-msg-1"), refused}, 1);
    ASSERT_TRUE(results[0]);
    ASSERT_TRUE(results[1]);
  }
  // A new process opening the same file (the migration runs again and is a no-op).
  auto log = Open();
  ASSERT_TRUE(log);
  auto count = log->Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2);
  auto found = log->FindByMessageId("TW-msg-refused");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  ExpectSameRecord((*found)[0], refused);
}

TEST_F(MessageLogTest, RecordsWithTheSameMessageIdComeBackOldestFirst) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord consumer = SampleRecord("TW-same");
  consumer.side = "consumer";
  TransferRecord provider = SampleRecord("TW-same");
  provider.side = "provider";
  ASSERT_TRUE(AppendAll(*log, {consumer}, 1)[0]);
  ASSERT_TRUE(AppendAll(*log, {provider}, 1)[0]);
  auto found = log->FindByMessageId("TW-same");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].side, "consumer");
  EXPECT_EQ((*found)[1].side, "provider");
}

TEST_F(MessageLogTest, ManyConcurrentAppendsAllSucceedAndAllRowsArePresent) {
  auto log = Open();
  ASSERT_TRUE(log);
  constexpr int kRecords = 200;
  std::vector<TransferRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    TransferRecord r = SampleRecord("TW-concurrent-" + std::to_string(i));
    r.request_bytes = i;
    records.push_back(std::move(r));
  }
  auto results = AppendAll(*log, records, 2);
  for (int i = 0; i < kRecords; ++i) {
    EXPECT_TRUE(results[i]) << i << ": " << results[i].error().ToString();
  }
  auto count = log->Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, kRecords);
  for (int i = 0; i < kRecords; ++i) {
    auto found = log->FindByMessageId("TW-concurrent-" + std::to_string(i));
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u) << i;
    EXPECT_EQ((*found)[0].request_bytes, i);
  }
}

TEST_F(MessageLogTest, TextThatIsNotUtf8SurvivesByteForByte) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord r = SampleRecord(std::string("TW-\xff\xfe-id", 8));
  r.user_id = std::string("\xff\xfe\x80 lone continuation, \xc3\x28 bad pair", 34);
  r.issue = std::string("nul\0inside\0", 11);
  r.peer = "\xed\xa0\x80";  // an encoded UTF-16 surrogate: not valid UTF-8
  r.fault_message = std::string("\x00\x01\x02\x7f\x80\xc0\xc1\xf5\xff", 9);
  ASSERT_TRUE(AppendAll(*log, {r}, 1)[0]);
  auto found = log->FindByMessageId(r.message_id);
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].user_id.size(), r.user_id.size());
  EXPECT_EQ((*found)[0].issue.size(), 11u);
  ExpectSameRecord((*found)[0], r);
}

TEST_F(MessageLogTest, ExtremeNumbersSurvive) {
  auto log = Open();
  ASSERT_TRUE(log);
  TransferRecord r = SampleRecord("TW-extreme");
  r.request_time_ms = INT64_MAX;
  r.response_time_ms = INT64_MIN;
  r.request_bytes = 0;
  r.response_bytes = -1;
  r.status = 599;
  ASSERT_TRUE(AppendAll(*log, {r}, 1)[0]);
  auto found = log->FindByMessageId("TW-extreme");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  ExpectSameRecord((*found)[0], r);
}

TEST_F(MessageLogTest, AppendAfterStopFailsInsteadOfHanging) {
  auto log = Open();
  ASSERT_TRUE(log);
  log->Stop();
  auto results = AppendAll(*log, {SampleRecord("TW-late")}, 1);
  EXPECT_FALSE(results[0]) << "a record was acknowledged after the log stopped";
  auto count = log->Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
}

TEST_F(MessageLogTest, OpenInMissingDirectoryIsAnError) {
  auto log = MessageLog::Open((dir_ / "no" / "such" / "dir" / "log.db").string(), true, clock_);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code(), ErrorCode::kIo) << log.error().ToString();
  EXPECT_NE(log.error().message().find("log.db"), std::string::npos) << log.error().message();
}

}  // namespace
}  // namespace troad::gateway
