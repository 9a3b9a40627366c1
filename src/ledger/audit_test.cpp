#include "ledger/audit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/log.h"

namespace troad::ledger {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOrigin = "ledger.troad.test/v1";
constexpr uint64_t kEntries = 300;  // 18 nodes at level 4, one at level 8

std::string EntryBytes(uint64_t i) {
  LedgerEntry e;
  e.gateway = i % 3 == 0 ? "TW/GOV/00000001/gw1" : "TW/GOV/00000002/gw2";
  e.seq = static_cast<int64_t>(i + 1);
  e.side = i % 2 == 0 ? std::string(kLedgerSideConsumer) : std::string(kLedgerSideProvider);
  e.message_id = "TW-msg-" + std::to_string(i);
  e.request_id = "0190a3b4-0000-7000-8000-" + std::to_string(100000000000 + i / 2);
  e.client = "TW/GOV/00000002/LI";
  e.service = "TW/GOV/00000001/HR/household";
  e.status = i % 11 == 0 ? 403 : 200;
  e.fault = i % 11 == 0 ? "Client.AccessDenied" : "";
  e.request_time_ms = 1767225600000 + static_cast<int64_t>(i);
  e.response_time_ms = e.request_time_ms + 12;
  e.record = HexEncode(LeafHash("record " + std::to_string(i)));
  return EncodeLedgerEntry(e).value();
}

std::string FileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troad-audit-" + crypto::NewUuid());
    fs::create_directories(dir_);
    path_ = (dir_ / "ledger.db").string();
    auto log = Log::Open(store::OpenSqlite(path_).value(), clock_).value();
    std::vector<std::string> entries;
    for (uint64_t i = 0; i < kEntries; ++i) entries.push_back(EntryBytes(i));
    // Several batches, as a ledger grows.
    ASSERT_TRUE(log->AppendBatch(std::span(entries).first(100)));
    ASSERT_TRUE(log->AppendBatch(std::span(entries).subspan(100, 1)));
    ASSERT_TRUE(log->AppendBatch(std::span(entries).subspan(101)));
    ASSERT_EQ(log->Size(), kEntries);
    for (uint64_t size : {uint64_t{0}, uint64_t{250}, kEntries})
      roots_[size] = log->Root(size).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Note(uint64_t size, std::string_view origin = kOrigin) {
    Checkpoint c;
    c.origin = std::string(origin);
    c.size = size;
    c.root = roots_.count(size) != 0 ? roots_[size] : EmptyRoot();
    c.timestamp_ms = 1767225600000;
    return SignCheckpoint(c, key_).value();
  }

  AuditReport Audit(std::string_view note, AuditOptions options = {}) {
    if (options.origin.empty()) options.origin = std::string(kOrigin);
    auto report = AuditLedgerFile(path_, note, key_.Public(), options);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : AuditReport{};
  }

  void Sql(std::string_view sql, const std::vector<store::Value>& params = {}) {
    auto db = store::OpenSqlite(path_).value();
    auto changed = db->Execute(sql, params);
    ASSERT_TRUE(changed) << changed.error().ToString();
    ASSERT_GT(*changed, 0) << sql;
  }

  fs::path dir_;
  std::string path_;
  FakeClock clock_{SystemClock::Get().Now()};
  crypto::PrivateKey key_ = crypto::PrivateKey::GenerateEcP256().value();
  std::map<uint64_t, Hash> roots_;
};

TEST_F(AuditTest, AnIntactLogPassesAndEveryRowIsCounted) {
  const std::string before = FileBytes(path_);
  AuditReport report = Audit(Note(kEntries));
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.entries, kEntries);
  EXPECT_EQ(report.stored_entries, kEntries);
  EXPECT_EQ(report.beyond_checkpoint, 0u);
  EXPECT_EQ(report.nodes, 19u);
  EXPECT_EQ(report.root, roots_[kEntries]);
  // Read, never written.
  EXPECT_EQ(FileBytes(path_), before);
}

TEST_F(AuditTest, SmallReadsCrossEveryBoundaryAndReportProgress) {
  AuditOptions options;
  options.rows_per_read = 7;
  uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
    ++calls;
  };
  AuditReport report = Audit(Note(kEntries), options);
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.nodes, 19u);
  EXPECT_GT(calls, 40);
  EXPECT_EQ(last_done, kEntries);
  EXPECT_EQ(last_total, kEntries);
}

TEST_F(AuditTest, EntriesBeyondTheCheckpointAreCheckedAndCounted) {
  AuditReport report = Audit(Note(250));
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.entries, kEntries);
  EXPECT_EQ(report.beyond_checkpoint, 50u);
  EXPECT_EQ(report.root, roots_[250]);
}

TEST_F(AuditTest, AnEmptyLogAuditsAgainstTheEmptyTree) {
  Sql("DELETE FROM ledger_entry");
  Sql("DELETE FROM ledger_node");
  AuditReport report = Audit(Note(0));
  EXPECT_EQ(report.problem, "");
  EXPECT_EQ(report.entries, 0u);
}

TEST_F(AuditTest, AChangedEntryIsNamed) {
  Sql("UPDATE ledger_entry SET entry = ? WHERE idx = 47", {store::Blob{EntryBytes(48)}});
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_entry idx 47: leaf_hash does not match its entry");
}

TEST_F(AuditTest, AChangedLeafHashIsNamed) {
  Sql("UPDATE ledger_entry SET leaf_hash = ? WHERE idx = 12",
      {store::Blob{std::string(crypto::DigestView(LeafHash("other")))}});
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_entry idx 12: leaf_hash does not match its entry");
}

TEST_F(AuditTest, AnEntryRewrittenWithItsLeafHashIsFoundByTheRootAndPlacedByTheTree) {
  const std::string other = EntryBytes(1000);
  const Hash leaf = LeafHash(other);
  int64_t key = 0;
  for (size_t i = 0; i < 8; ++i)
    key = static_cast<int64_t>((static_cast<uint64_t>(key) << 8) | leaf[i]);
  Sql("UPDATE ledger_entry SET entry = ?, leaf_hash = ?, leaf_key = ? WHERE idx = 40",
      {store::Blob{other}, store::Blob{std::string(crypto::DigestView(leaf))}, key});
  const std::string problem = Audit(Note(kEntries)).problem;
  EXPECT_NE(problem.find("the root of the first 300 entries is "), std::string::npos) << problem;
  EXPECT_NE(problem.find("the checkpoint says " +
                         Base64Encode(std::span<const uint8_t>(roots_[kEntries]))),
            std::string::npos)
      << problem;
  EXPECT_NE(problem.find("ledger_node level 4 idx 2: its hash"), std::string::npos) << problem;
  EXPECT_NE(problem.find("ledger_entry idx 32 … 47"), std::string::npos) << problem;
}

TEST_F(AuditTest, SwappedRowsAreFound) {
  Sql("UPDATE ledger_entry SET idx = -1 WHERE idx = 3");
  Sql("UPDATE ledger_entry SET idx = 3 WHERE idx = 5");
  Sql("UPDATE ledger_entry SET idx = 5 WHERE idx = -1");
  const std::string problem = Audit(Note(kEntries)).problem;
  EXPECT_NE(problem.find("the root of the first 300 entries"), std::string::npos) << problem;
  EXPECT_NE(problem.find("ledger_node level 4 idx 0"), std::string::npos) << problem;
}

TEST_F(AuditTest, ADeletedEntryIsAGap) {
  Sql("DELETE FROM ledger_entry WHERE idx = 100");
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_entry idx 100 is missing (the next row is idx 101): the entries have a gap");
}

TEST_F(AuditTest, ADeletedLastEntryFallsShortOfTheCheckpoint) {
  Sql("DELETE FROM ledger_entry WHERE idx = 299");
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "the checkpoint is of size 300, but ledger_entry holds only 299 entries (idx 299 … "
            "299 are missing)");
}

TEST_F(AuditTest, AWrongChunkOrLeafKeyIsNamed) {
  Sql("UPDATE ledger_entry SET chunk = 1 WHERE idx = 7");
  EXPECT_EQ(Audit(Note(kEntries)).problem, "ledger_entry idx 7: chunk is 1, not 0 (idx >> 14)");
  Sql("UPDATE ledger_entry SET chunk = 0, leaf_key = leaf_key + 1 WHERE idx = 7");
  EXPECT_NE(Audit(Note(kEntries)).problem.find("ledger_entry idx 7: leaf_key is "),
            std::string::npos);
}

TEST_F(AuditTest, AnEntryThatIsNotALedgerEntryIsNamed) {
  const std::string junk = "not a ledger entry";
  const Hash leaf = LeafHash(junk);
  int64_t key = 0;
  for (size_t i = 0; i < 8; ++i)
    key = static_cast<int64_t>((static_cast<uint64_t>(key) << 8) | leaf[i]);
  Sql("UPDATE ledger_entry SET entry = ?, leaf_hash = ?, leaf_key = ? WHERE idx = 9",
      {store::Blob{junk}, store::Blob{std::string(crypto::DigestView(leaf))}, key});
  EXPECT_NE(
      Audit(Note(kEntries)).problem.find("ledger_entry idx 9: the entry is not a ledger entry"),
      std::string::npos);
}

TEST_F(AuditTest, AChangedNodeHashIsNamed) {
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 8 AND idx = 0",
      {store::Blob{std::string(32, 'x')}});
  const std::string problem = Audit(Note(kEntries)).problem;
  EXPECT_EQ(problem.rfind("ledger_node level 8 idx 0: its hash 7878", 0), 0u) << problem;
  EXPECT_NE(problem.find("is not the root of its 16 children, ledger_node level 4 idx 0 … 15"),
            std::string::npos)
      << problem;
}

TEST_F(AuditTest, AChangedLevelFourNodeIsNamedEvenBeyondTheCheckpoint) {
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 4 AND idx = 17",
      {store::Blob{std::string(32, 'y')}});
  const std::string problem = Audit(Note(250)).problem;
  EXPECT_EQ(problem.rfind("ledger_node level 4 idx 17: its hash", 0), 0u) << problem;
  EXPECT_NE(problem.find("the leaf hashes of ledger_entry idx 272 … 287"), std::string::npos)
      << problem;
}

TEST_F(AuditTest, ADeletedNodeIsMissing) {
  Sql("DELETE FROM ledger_node WHERE level = 4 AND idx = 5");
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_node level 4 idx 5 is missing (ledger_node row id " +
                std::to_string(NodeStorageId(NodeId{4, 5})) + ")");
}

TEST_F(AuditTest, ExtraAndStrayNodesAreNamed) {
  Sql("INSERT INTO ledger_node (id, level, idx, hash) VALUES (?, 4, 18, ?)",
      {NodeStorageId(NodeId{4, 18}), store::Blob{std::string(32, 'z')}});
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_node level 4 idx 18: a row for a subtree the log's 300 entries do not "
            "complete");
  Sql("DELETE FROM ledger_node WHERE level = 4 AND idx = 18");
  Sql("INSERT INTO ledger_node (id, level, idx, hash) VALUES (?, 5, 0, ?)",
      {NodeStorageId(NodeId{5, 0}), store::Blob{std::string(32, 'z')}});
  EXPECT_NE(Audit(Note(kEntries))
                .problem.find("ledger_node row id " + std::to_string(NodeStorageId(NodeId{5, 0})) +
                              " (level 5, idx 0): not a node the log stores"),
            std::string::npos);
}

TEST_F(AuditTest, ANodeWhoseColumnsDisagreeWithItsIdIsNamed) {
  Sql("UPDATE ledger_node SET idx = 9 WHERE level = 4 AND idx = 3");
  EXPECT_EQ(Audit(Note(kEntries)).problem,
            "ledger_node level 4 idx 3: its level and idx columns say level 4 idx 9");
}

TEST_F(AuditTest, ACheckpointOfAnotherKeyOrOriginOrRootFails) {
  const std::string note = Note(kEntries);
  auto other = crypto::PrivateKey::GenerateEcP256().value();
  auto report = AuditLedgerFile(path_, note, other.Public());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problem.rfind("the checkpoint does not verify with the ledger key", 0), 0u);

  EXPECT_EQ(Audit(Note(kEntries, "another.origin/v1")).problem,
            "the checkpoint is of origin \"another.origin/v1\", not \"ledger.troad.test/v1\"");

  roots_[kEntries] = roots_[250];  // a head the log never had
  EXPECT_EQ(Audit(Note(kEntries)).problem.rfind("the root of the first 300 entries is ", 0), 0u);
}

TEST_F(AuditTest, UnreadableInputIsAnError) {
  auto report = AuditLedgerFile((dir_ / "absent.db").string(), Note(kEntries), key_.Public());
  ASSERT_FALSE(report);
  EXPECT_FALSE(fs::exists(dir_ / "absent.db"));
  report = AuditLedgerFile(path_, "not a checkpoint", key_.Public());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), ErrorCode::kInvalidArgument);
  // A database that is not a ledger's.
  const std::string other = (dir_ / "other.db").string();
  ASSERT_TRUE(store::OpenSqlite(other).value()->ExecuteScript("CREATE TABLE t (x INTEGER)"));
  report = AuditLedgerFile(other, Note(kEntries), key_.Public());
  EXPECT_FALSE(report);
}

}  // namespace
}  // namespace troad::ledger
