#include "gateway/archive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/encoding.h"
#include "crypto/random.h"
#include "crypto/test_util.h"
#include "crypto/timestamp.h"
#include "gateway/verify_log.h"
#include "http/test_util.h"
#include "ledger/merkle.h"
#include "store/database.h"

namespace troad::gateway {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::hours;

constexpr auto kDay = hours(24);
constexpr std::string_view kGateway = "TW/GOV/MOI/moi-gw";

asio::awaitable<Status> AppendOne(MessageLog* log, TransferRecord record) {
  co_return co_await log->Append(std::move(record));
}

TransferRecord Record(int i) {
  TransferRecord r;
  r.side = i % 2 ? "provider" : "consumer";
  r.message_id = "TW-msg-" + std::to_string(i);
  r.request_id = crypto::NewUuid();
  r.client = "TW/GOV/BLI/insurance";
  r.service = "TW/GOV/MOI/household/getRecord";
  r.user_id = "user-" + std::to_string(i);
  r.issue = "case \"" + std::to_string(i) + "\"\nsecond line";  // escapes in the JSON
  r.peer = "TW/GOV/MOI/moi-gw";
  r.request_time_ms = 1'795'000'000'000 + i;
  r.response_time_ms = r.request_time_ms + 3;
  r.request_hash = "aGFzaA==";
  r.response_hash = "aGFzaDI=";
  r.status = 200;
  r.request_signature = R"({"alg":"ES256","sig":"c2ln"})";
  return r;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// A real SQLite message log, a real RFC 3161 authority whose clock the test moves (so
// batches get the genTime a test wants), and an archiver whose clock it moves too.
class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troad-archive-" + crypto::NewUuid());
    fs::create_directories(dir_);
    log_ = MessageLog::Open(LogPath(), false, SystemClock::Get()).value();
    auto pair = crypto::testutil::IssueTestPair(crypto::CertUsage::kTimestamping, "Test TSA");
    tsa_cert_ = std::make_unique<crypto::Certificate>(pair.certificate);
    tsa_ = crypto::TimestampAuthority::Create(pair.key, *tsa_cert_, {}, tsa_clock_).value();
  }
  void TearDown() override {
    if (log_) log_->Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string LogPath() const { return (dir_ / "messagelog.db").string(); }
  fs::path ArchiveDir() const { return dir_ / "archive"; }

  // Appends records Record(from) … Record(to - 1); they get seqs in that order.
  void Append(int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(io_.Run(AppendOne(log_.get(), Record(i))));
  }
  // Timestamps records first..last as one batch, as the timestamper does, at the
  // authority's current time.
  void Stamp(int64_t first, int64_t last) {
    auto reader = MessageLogReader::Open(LogPath()).value();
    auto records = reader->RecordRange(first, last).value();
    ASSERT_EQ(static_cast<int64_t>(records.size()), last - first + 1);
    std::vector<ledger::Hash> leaves;
    std::string leaf_bytes;
    for (const TransferRecord& r : records) {
      leaves.push_back(ledger::LeafHash(RecordEntry(r)));
      leaf_bytes += crypto::DigestView(leaves.back());
    }
    ledger::MerkleTree tree(std::move(leaves));
    crypto::TimestampRequest request;
    request.imprint = tree.root();
    request.nonce = ++nonce_;
    auto reply = tsa_->Respond(crypto::EncodeTimestampRequest(request).value()).value();
    auto token = crypto::ParseTimestampReply(reply);
    ASSERT_TRUE(token) << token.error().message();
    auto info = crypto::VerifyTimestampToken(*token, tree.root(), {*tsa_cert_}, request.nonce);
    ASSERT_TRUE(info) << info.error().message();
    TimestampBatch b;
    b.first_seq = first;
    b.last_seq = last;
    b.size = last - first + 1;
    b.root_hex = HexEncode(tree.root());
    b.leaves = std::move(leaf_bytes);
    b.token = std::move(*token);
    b.tsa_certificate_sha256 = info->tsa_certificate_sha256;
    b.tsa_url = "http://127.0.0.1:1/tsa";
    b.gen_time_ms = ToUnixMillis(info->gen_time);
    b.created_ms = tsa_clock_.NowMillis();
    ASSERT_TRUE(log_->WriteBatch(b));
  }
  // Batches of `size` over records first..last.
  void StampEvery(int64_t first, int64_t last, int64_t size) {
    for (int64_t s = first; s <= last; s += size) Stamp(s, std::min(last, s + size - 1));
  }

  std::unique_ptr<Archiver> MakeArchiver(int64_t max_records_per_file,
                                         std::function<bool()> require_shipped = nullptr) {
    Archiver::Options options;
    options.retention.max_age = std::chrono::duration_cast<std::chrono::seconds>(3 * kDay);
    options.retention.archive_dir = ArchiveDir().string();
    options.retention.max_records_per_file = max_records_per_file;
    options.gateway_id = std::string(kGateway);
    options.require_shipped = std::move(require_shipped);
    auto a = Archiver::Create(*log_, options, archiver_clock_);
    EXPECT_TRUE(a) << a.error().message();
    return a ? std::move(*a) : nullptr;
  }

  VerifyLogReport Verify() {
    VerifyLogOptions options;
    options.tsa_certificates = {*tsa_cert_};
    options.archive_dir = ArchiveDir().string();
    options.progress = [this](int64_t done, int64_t total) {
      EXPECT_LE(done, total);
      ++progress_calls_;
    };
    auto report = VerifyMessageLog(LogPath(), options);
    EXPECT_TRUE(report) << report.error().message();
    return report.value_or(VerifyLogReport{});
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(ArchiveDir())) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path File(int64_t first, int64_t last) const {
    return ArchiveDir() / ArchiveFileName(first, last);
  }
  void Sql(const std::string& sql) {
    auto db = store::OpenSqlite(LogPath()).value();
    ASSERT_TRUE(db->Execute(sql)) << sql;
  }
  std::optional<ArchiveHead> Head() {
    return MessageLogReader::Open(LogPath()).value()->LastArchive().value();
  }
  MessageLogReader::RecordCounts Counts() {
    return MessageLogReader::Open(LogPath()).value()->Counts().value();
  }

  // Four archive files of 5 records each (1..20, batches of 5 stamped 10 days ago),
  // then live batches 21..25 (2 days ago) and one record not timestamped.
  void MakeFourArchives() {
    Append(1, 27);
    StampEvery(1, 20, 5);
    tsa_clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(8 * kDay));
    Stamp(21, 25);
    archiver_clock_.Set(tsa_clock_.Now() + 2 * kDay);
    auto archiver = MakeArchiver(5);
    auto files = archiver->RunOnce();
    ASSERT_TRUE(files) << files.error().message();
    ASSERT_EQ(*files, 4);
    VerifyLogReport r = Verify();
    ASSERT_EQ(r.problem, "");
  }

  fs::path dir_;
  FakeClock tsa_clock_{SystemClock::Get().Now()};
  FakeClock archiver_clock_{SystemClock::Get().Now()};
  http::testing::IoThread io_;
  std::unique_ptr<MessageLog> log_;
  std::unique_ptr<crypto::Certificate> tsa_cert_;
  std::unique_ptr<crypto::TimestampAuthority> tsa_;
  uint64_t nonce_ = 0;
  int progress_calls_ = 0;
};

TEST_F(ArchiveTest, MovesExactlyTheOldTimestampedBatches) {
  Append(1, 31);
  StampEvery(1, 20, 10);  // two batches, stamped now
  tsa_clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(5 * kDay));
  Stamp(21, 25);                                 // stamped 5 days later; 26..30 are not timestamped
  archiver_clock_.Set(tsa_clock_.Now() + kDay);  // 6 and 1 days old; max_age is 3

  auto archiver = MakeArchiver(10);
  auto files = archiver->RunOnce();
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(*files, 2);
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 10), ArchiveFileName(11, 20)}));
  EXPECT_EQ(archiver->records_archived(), 20u);
  EXPECT_EQ(archiver->files_written(), 2u);
  EXPECT_EQ(archiver->failures(), 0u);
  EXPECT_EQ(archiver->last_archive_ms(), archiver_clock_.NowMillis());

  // The live log keeps the young batch and the records not timestamped.
  auto counts = Counts();
  EXPECT_EQ(counts.records, 10);
  EXPECT_EQ(counts.first_seq, 21);
  auto reader = MessageLogReader::Open(LogPath()).value();
  auto batches = reader->BatchesAfter(0, 100).value();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].first_seq, 21);
  auto head = Head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->file, ArchiveFileName(11, 20));
  EXPECT_EQ(head->last_seq, 20);
  EXPECT_EQ(head->files, 2);
  EXPECT_EQ(head->records, 20);
  EXPECT_EQ(head->sha256_hex, HexEncode(crypto::Sha256(ReadText(File(11, 20)))));

  // Nothing more qualifies until the young batch is old enough.
  EXPECT_EQ(archiver->RunOnce().value(), 0);
  archiver_clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(3 * kDay));
  EXPECT_EQ(archiver->RunOnce().value(), 1);
  EXPECT_EQ(Counts().first_seq, 26);

  VerifyLogReport r = Verify();
  EXPECT_EQ(r.problem, "");
  EXPECT_TRUE(r.archives_checked);
  EXPECT_EQ(r.archive_files, 3);
  EXPECT_EQ(r.head_records, 25);
  EXPECT_EQ(r.head_last_seq, 25);
  EXPECT_EQ(r.records, 5);
  EXPECT_EQ(r.batches, 0);
  EXPECT_EQ(r.unstamped, 5);
  EXPECT_GE(progress_calls_, 3);
}

TEST_F(ArchiveTest, FilesHoldWholeBatchesUpToTheLimit) {
  Append(1, 14);
  StampEvery(1, 12, 4);  // 1..4, 5..8, 9..12; 13 is the newest
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  auto archiver = MakeArchiver(10);
  ASSERT_EQ(archiver->RunOnce().value(), 2);
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 8), ArchiveFileName(9, 12)}));
  EXPECT_EQ(Verify().problem, "");
}

TEST_F(ArchiveTest, ABatchLargerThanTheLimitGoesAlone) {
  Append(1, 10);
  StampEvery(1, 8, 4);
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  auto archiver = MakeArchiver(3);
  ASSERT_EQ(archiver->RunOnce().value(), 2);
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 4), ArchiveFileName(5, 8)}));
  EXPECT_EQ(Verify().problem, "");
}

TEST_F(ArchiveTest, TheNewestRecordStaysAndItsSeqIsNeverReused) {
  Append(1, 11);
  StampEvery(1, 10, 5);  // everything is timestamped; record 10 is the newest
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  auto archiver = MakeArchiver(100);
  ASSERT_EQ(archiver->RunOnce().value(), 1);
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 5)}));
  EXPECT_EQ(Counts().first_seq, 6);

  // The log itself refuses to remove the newest record.
  ArchiveHead all = *Head();
  all.file = ArchiveFileName(6, 10);
  all.last_seq = 10;
  auto refused = log_->RemoveArchived(Head(), all, 6);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("never handed out again"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(Counts().records, 5);

  // New records continue above everything ever written.
  Append(11, 12);
  auto found = log_->FindByMessageId("TW-msg-11").value();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].seq, 11);
  Stamp(11, 11);
  archiver_clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(kDay));
  ASSERT_EQ(archiver->RunOnce().value(), 1);  // 6..10 now; 11 is the newest
  Append(12, 13);
  EXPECT_EQ(log_->FindByMessageId("TW-msg-12").value().at(0).seq, 12);
  EXPECT_EQ(Verify().problem, "");

  // Had the newest rows gone (by hand), a new record would reuse an archived seq: the
  // log refuses to open.
  archiver.reset();
  log_->Stop();
  log_.reset();
  Sql("DELETE FROM transfer_record WHERE seq >= 11");
  auto reopened = MessageLog::Open(LogPath(), false, SystemClock::Get());
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(reopened.error().message().find("reuse archived"), std::string::npos)
      << reopened.error().message();
}

TEST_F(ArchiveTest, RecordsNotShippedToTheLedgerStay) {
  Append(1, 17);
  StampEvery(1, 15, 5);
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  bool shipping = true;
  auto archiver = MakeArchiver(5, [&shipping] { return shipping; });
  EXPECT_EQ(archiver->RunOnce().value(), 0);  // nothing shipped yet
  EXPECT_EQ(Counts().records, 16);

  Sql("INSERT INTO ledger_state (id, shipped_seq, checkpoint, alarm, updated_ms) "
      "VALUES (1, 7, '', '', 0)");
  EXPECT_EQ(archiver->RunOnce().value(), 1);  // 1..5; 6..10 is not all shipped
  EXPECT_EQ(Counts().first_seq, 6);

  Sql("UPDATE ledger_state SET shipped_seq = 15");
  EXPECT_EQ(archiver->RunOnce().value(), 2);
  EXPECT_EQ(Counts().first_seq, 16);
  EXPECT_EQ(Verify().problem, "");

  // A gateway that does not ship ignores ledger_state.
  Append(17, 20);
  Stamp(16, 18);
  shipping = false;
  EXPECT_EQ(archiver->RunOnce().value(), 1);
  EXPECT_EQ(Counts().first_seq, 19);
}

TEST_F(ArchiveTest, ACrashBetweenWriteAndRemovalIsCompletedWithoutDuplication) {
  Append(1, 17);
  StampEvery(1, 15, 5);
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  {
    // The first step only, as a process killed right after the rename.
    auto archiver = MakeArchiver(5);
    auto written = archiver->WriteNext();
    ASSERT_TRUE(written) << written.error().message();
    ASSERT_TRUE(*written);
    EXPECT_EQ((*written)->file, ArchiveFileName(1, 5));
    EXPECT_FALSE((*written)->recovered);
  }
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 5)}));
  EXPECT_EQ(Counts().records, 16);
  EXPECT_FALSE(Head());
  // In between, the archives and the log verify: the file is pending.
  VerifyLogReport between = Verify();
  EXPECT_EQ(between.problem, "");
  EXPECT_EQ(between.pending_archive, ArchiveFileName(1, 5));
  EXPECT_EQ(between.archive_files, 0);

  // And a write cut short leaves a .tmp file, which is never taken for an archive.
  WriteText(ArchiveDir() / (ArchiveFileName(6, 10) + ".tmp"), "troad-archive/1\ngateway");

  auto archiver = MakeArchiver(5);
  auto written = archiver->WriteNext();
  ASSERT_TRUE(written) << written.error().message();
  ASSERT_TRUE(*written);
  EXPECT_TRUE((*written)->recovered);
  EXPECT_EQ((*written)->file, ArchiveFileName(1, 5));
  ASSERT_TRUE(archiver->Remove(**written));
  EXPECT_EQ(archiver->RunOnce().value(), 2);
  EXPECT_EQ(Files(), (std::vector<std::string>{ArchiveFileName(1, 5), ArchiveFileName(6, 10),
                                               ArchiveFileName(11, 15)}));
  EXPECT_EQ(Head()->records, 15);
  EXPECT_EQ(Head()->files, 3);
  EXPECT_EQ(Counts().records, 1);
  VerifyLogReport r = Verify();
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.pending_archive, "");
  EXPECT_EQ(r.archive_files, 3);
}

TEST_F(ArchiveTest, AForeignFileAfterTheHeadStopsArchiving) {
  Append(1, 11);
  StampEvery(1, 10, 5);
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  auto archiver = MakeArchiver(5);
  ASSERT_EQ(archiver->RunOnce().value(), 1);
  const std::string text = ReadText(File(1, 5));
  WriteText(File(6, 10), text);  // bytes that are not the archive of 6..10
  auto run = archiver->RunOnce();
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(run.error().message().find("is not the archive of the live records 6..10"),
            std::string::npos)
      << run.error().message();
  EXPECT_EQ(archiver->failures(), 1u);
  EXPECT_EQ(Counts().first_seq, 6);  // nothing removed
  EXPECT_NE(Verify().problem.find(ArchiveFileName(6, 10)), std::string::npos);
}

TEST_F(ArchiveTest, AnAlteredLiveRecordIsNotArchived) {
  Append(1, 12);
  StampEvery(1, 10, 5);
  archiver_clock_.Set(tsa_clock_.Now() + 4 * kDay);
  Sql("UPDATE transfer_record SET status = 500 WHERE seq = 3");
  auto archiver = MakeArchiver(5);
  auto run = archiver->RunOnce();
  ASSERT_FALSE(run);
  EXPECT_NE(run.error().message().find("record seq 3 no longer matches"), std::string::npos)
      << run.error().message();
  EXPECT_TRUE(Files().empty());  // the temporary file is gone too
  EXPECT_EQ(Counts().records, 11);
}

// ---- Tampering with archives ----------------------------------------------------------

TEST_F(ArchiveTest, AnAlteredArchivedRecordIsNamed) {
  MakeFourArchives();
  std::string text = ReadText(File(6, 10));
  const size_t at = text.find("\"message_id\":\"TW-msg-8\"");
  ASSERT_NE(at, std::string::npos);
  const size_t status = text.find("\"status\":200", at);
  text.replace(status, 12, "\"status\":201");
  WriteText(File(6, 10), text);
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("archive " + ArchiveFileName(6, 10) +
                           ": record seq 8 (message id \"TW-msg-8\""),
            std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find("was altered after its batch of records 6..10 was timestamped"),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, ATamperedArchivedTokenIsNamed) {
  MakeFourArchives();
  std::string text = ReadText(File(11, 15));
  const size_t at = text.find("\ntoken ") + 7;
  const size_t end = text.find('\n', at);
  std::string token = Base64Decode(text.substr(at, end - at)).value();
  token.back() ^= 0x01;
  text.replace(at, end - at, Base64Encode(token));
  WriteText(File(11, 15), text);
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("archive " + ArchiveFileName(11, 15) +
                           ": batch of records 11..15: its timestamp token does not verify"),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, ADeletedMiddleArchiveIsNamed) {
  MakeFourArchives();
  fs::remove(File(6, 10));
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("records 6..10 are in no archive: " + ArchiveFileName(11, 15) +
                           " follows " + ArchiveFileName(1, 5)),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, ADeletedFirstArchiveIsNamed) {
  MakeFourArchives();
  fs::remove(File(1, 5));
  VerifyLogReport r = Verify();
  EXPECT_NE(
      r.problem.find("archive " + ArchiveFileName(6, 10) + " follows " + ArchiveFileName(1, 5)),
      std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, SwappedArchivesAreNamed) {
  MakeFourArchives();
  const std::string a = ReadText(File(6, 10)), b = ReadText(File(11, 15));
  WriteText(File(6, 10), b);
  WriteText(File(11, 15), a);
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("archive " + ArchiveFileName(6, 10) +
                           ": its name says records 6..10, but it holds records 11..15"),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, ATruncatedChainIsNamed) {
  MakeFourArchives();
  fs::remove(File(16, 20));
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("end with " + ArchiveFileName(11, 15) +
                           " (records up to 15), but the "
                           "live log's last archive is " +
                           ArchiveFileName(16, 20)),
            std::string::npos)
      << r.problem;
  // Every archive gone is named too.
  for (const std::string& f : Files()) fs::remove(ArchiveDir() / f);
  EXPECT_NE(Verify().problem.find("holds none of them"), std::string::npos);
  fs::remove(ArchiveDir());
  EXPECT_NE(Verify().problem.find("does not exist"), std::string::npos);
}

TEST_F(ArchiveTest, ATruncatedArchiveIsNamed) {
  MakeFourArchives();
  const std::string text = ReadText(File(16, 20));
  WriteText(File(16, 20), text.substr(0, text.size() / 2));
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("archive " + ArchiveFileName(16, 20) + ": it ends at line"),
            std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find("cut short"), std::string::npos) << r.problem;
}

TEST_F(ArchiveTest, AnAlteredHeaderBreaksTheChainAtTheNextFile) {
  MakeFourArchives();
  // The header is not stamped; the next file's link (and, for the last, the live
  // log's head) is what covers it.
  const std::string original = ReadText(File(6, 10));
  std::string text = original;
  text.replace(text.find("gateway TW"), 10, "gateway XX");
  WriteText(File(6, 10), text);
  VerifyLogReport r = Verify();
  EXPECT_NE(
      r.problem.find("archive " + ArchiveFileName(11, 15) + " names " + ArchiveFileName(6, 10)),
      std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find("that file was altered or replaced"), std::string::npos) << r.problem;

  WriteText(File(6, 10), original);
  EXPECT_EQ(Verify().problem, "");
  text = ReadText(File(16, 20));
  text.replace(text.find("gateway TW"), 10, "gateway XX");
  WriteText(File(16, 20), text);
  r = Verify();
  EXPECT_NE(r.problem.find("archive " + ArchiveFileName(16, 20) +
                           " was altered or replaced: its SHA-256 is"),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, TheLiveLogMustContinueWhereTheArchivesEnd) {
  MakeFourArchives();
  Sql("DELETE FROM transfer_record WHERE seq <= 25");
  Sql("DELETE FROM timestamp_batch");
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find("records 21..25 are missing: they are neither in the live log"),
            std::string::npos)
      << r.problem;
}

TEST_F(ArchiveTest, AFileThatIsNotPartOfTheChainIsNamed) {
  MakeFourArchives();
  fs::copy_file(File(1, 5), File(30, 40));
  VerifyLogReport r = Verify();
  EXPECT_NE(r.problem.find(ArchiveFileName(30, 40)), std::string::npos) << r.problem;
}

// ---- The format ------------------------------------------------------------------------

TEST(ArchiveFormatTest, FileNamesSortInSeqOrderAndParseBack) {
  EXPECT_EQ(ArchiveFileName(1, 1000), "records-00000000000000000001-00000000000000001000.archive");
  EXPECT_EQ(ParseArchiveFileName(ArchiveFileName(7, 9)), std::make_pair(int64_t{7}, int64_t{9}));
  EXPECT_LT(ArchiveFileName(9, 10), ArchiveFileName(11, 20));
  for (std::string_view bad :
       {"records-00000000000000000001-00000000000000001000.archive.tmp",
        "records-00000000000000000000-00000000000000001000.archive",  // seq 0
        "records-00000000000000000010-00000000000000000009.archive",  // backwards
        "records-0000000000000000001-000000000000000001000.archive",  // digits misplaced
        "records-+0000000000000000001-0000000000000001000.archive",
        "records-99999999999999999999-99999999999999999999.archive",  // beyond int64
        "README", ""}) {
    EXPECT_FALSE(ParseArchiveFileName(bad)) << bad;
  }
}

TEST(ArchiveFormatTest, EncodesTheDocumentedLines) {
  std::vector<TransferRecord> records = {Record(1), Record(2)};
  records[0].seq = 1;
  records[1].seq = 2;
  TimestampBatch b;
  b.first_seq = 1;
  b.last_seq = 2;
  b.size = 2;
  for (const auto& r : records) b.leaves += crypto::DigestView(ledger::LeafHash(RecordEntry(r)));
  b.root_hex = std::string(64, 'a');
  b.token = "DER";
  b.tsa_certificate_sha256 = std::string(64, 'b');
  b.tsa_url = "http://tsa.example/tsa";
  b.gen_time_ms = 1700000000123;
  b.created_ms = 1700000000456;
  ArchiveHeader h;
  h.gateway = std::string(kGateway);
  h.first_seq = 1;
  h.last_seq = 2;
  h.records = 2;
  h.batches = 1;
  std::string out;
  ArchiveEncoder encoder([&out](std::string_view bytes) -> Status {
    out.append(bytes);
    return Ok();
  });
  ASSERT_TRUE(encoder.Begin(h));
  ASSERT_TRUE(encoder.Batch(b, records));
  auto sha = encoder.Finish();
  ASSERT_TRUE(sha);
  EXPECT_EQ(*sha, HexEncode(crypto::Sha256(out)));
  std::string expected =
      "troad-archive/1\ngateway TW/GOV/MOI/moi-gw\nrange 1 2\ncount 2 1\n"
      "previous - " +
      std::string(kArchiveNoHash) + "\n" + "batch 1 2 " + b.root_hex +
      " 1700000000123 1700000000456 " + b.tsa_certificate_sha256 + " http://tsa.example/tsa\n" +
      "leaves " + Base64Encode(b.leaves) + "\ntoken REVS\n";
  for (const auto& r : records) {
    expected += "record " + RecordEntry(r).substr(kRecordEntryPrefix.size()) + "\n";
  }
  expected += "end\n";
  EXPECT_EQ(out, expected);
  // A record line is one line: the entry's LF inside the issue text is escaped.
  EXPECT_NE(out.find("\\nsecond line"), std::string::npos);
}

TEST(ArchiveFormatTest, RefusesWhatWouldBreakTheFormat) {
  std::string out;
  auto sink = [&out](std::string_view bytes) -> Status {
    out.append(bytes);
    return Ok();
  };
  ArchiveHeader h;
  h.gateway = "two words";
  h.first_seq = 1;
  h.last_seq = 1;
  h.records = 1;
  h.batches = 1;
  EXPECT_FALSE(ArchiveEncoder(sink).Begin(h));
  h.gateway = "gw";
  h.records = 2;
  EXPECT_FALSE(ArchiveEncoder(sink).Begin(h));
  h.records = 1;
  h.previous_file = "somefile";
  EXPECT_FALSE(ArchiveEncoder(sink).Begin(h));
  h.previous_file = std::string(kArchiveNoPrevious);
  ArchiveEncoder encoder(sink);
  ASSERT_TRUE(encoder.Begin(h));
  EXPECT_FALSE(encoder.Finish());  // no batch yet
}

// ---- [retention] in gateway.toml -----------------------------------------------------

class RetentionConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troad-retention-" + crypto::NewUuid());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Result<GatewayConfig> Load(const std::string& retention, bool timestamping = true) {
    std::string text =
        "[gateway]\nid = \"TW/GOV/MOI/gw1\"\nglobalconf = \"g.json\"\n"
        "[tls]\ncertificate = \"a.crt\"\nkey = \"a.key\"\n";
    if (timestamping) text += "[timestamping]\nauthorities = [\"http://127.0.0.1:1/tsa\"]\n";
    text += "[retention]\n" + retention;
    WriteText(dir_ / "gateway.toml", text);
    return GatewayConfig::Load((dir_ / "gateway.toml").string());
  }
  fs::path dir_;
};

TEST_F(RetentionConfigTest, DefaultsKeepEverything) {
  auto c = Load("");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->retention.max_age, std::chrono::seconds(0));
  EXPECT_EQ(c->retention.archive_dir, (dir_ / "data" / "archive").string());
  EXPECT_EQ(c->retention.interval, std::chrono::seconds(3600));
  EXPECT_EQ(c->retention.max_records_per_file, 10'000);
}

TEST_F(RetentionConfigTest, ReadsEveryKey) {
  auto c = Load(
      "max_age_days = 90\narchive_dir = \"arch\"\ninterval_s = 60\nmax_records_per_file = 500\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->retention.max_age, std::chrono::seconds(90 * 86'400));
  EXPECT_EQ(c->retention.archive_dir, (dir_ / "arch").string());
  EXPECT_EQ(c->retention.interval, std::chrono::seconds(60));
  EXPECT_EQ(c->retention.max_records_per_file, 500);
  auto s = Load("max_age_s = 5\n");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->retention.max_age, std::chrono::seconds(5));
}

TEST_F(RetentionConfigTest, RefusesBadValuesWithTheirKey) {
  struct Case {
    std::string text;
    std::string expected;
  } cases[] = {
      {"max_age_days = -1\n", "retention.max_age_days"},
      {"max_age_days = 1\nmax_age_s = 5\n", "not both"},
      {"archive_dir = \"\"\n", "retention.archive_dir"},
      {"interval_s = 0\n", "retention.interval_s"},
      {"max_records_per_file = 0\n", "retention.max_records_per_file"},
      {"max_age = 3\n", "max_age"},
  };
  for (const Case& c : cases) {
    auto r = Load(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message().find(c.expected), std::string::npos)
        << c.text << ": " << r.error().message();
  }
  auto no_stamps = Load("max_age_days = 30\n", /*timestamping=*/false);
  ASSERT_FALSE(no_stamps);
  EXPECT_NE(no_stamps.error().message().find("set [timestamping] authorities"), std::string::npos)
      << no_stamps.error().message();
}

}  // namespace
}  // namespace troad::gateway
