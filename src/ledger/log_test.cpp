#include "ledger/log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>

#include "ledger/checkpoint.h"
#include "ledger/proof.h"
#include "ledger/reference_test_util.h"

namespace troad::ledger {
namespace {

namespace fs = std::filesystem;

std::string EntryBytes(uint64_t i) {
  // Varied lengths, binary content, an empty entry now and then.
  if (i % 37 == 5) return "";
  std::string out = "transfer record " + std::to_string(i);
  out.push_back('\0');
  out.append(i % 13, static_cast<char>(i & 0xFF));
  return out;
}

std::vector<std::string> MakeEntries(uint64_t begin, uint64_t count) {
  std::vector<std::string> out;
  for (uint64_t i = begin; i < begin + count; ++i) out.push_back(EntryBytes(i));
  return out;
}

// Fails the n-th call (counting Execute, Query, Begin and Commit from 1) with kIo, so
// that every step of a write can be made to fail in turn.
class FaultyDatabase final : public store::Database {
 public:
  explicit FaultyDatabase(std::unique_ptr<store::Database> inner) : inner_(std::move(inner)) {}

  int fail_at = 0;  // 0: never
  int calls = 0;
  bool pretend_in_transaction = false;

  Result<int64_t> Execute(std::string_view sql, const std::vector<store::Value>& params) override {
    TROAD_RETURN_IF_ERROR(Step());
    return inner_->Execute(sql, params);
  }
  Status ExecuteScript(std::string_view sql) override { return inner_->ExecuteScript(sql); }
  Result<std::vector<store::Row>> Query(std::string_view sql,
                                        const std::vector<store::Value>& params) override {
    TROAD_RETURN_IF_ERROR(Step());
    return inner_->Query(sql, params);
  }
  Status Begin() override {
    TROAD_RETURN_IF_ERROR(Step());
    return inner_->Begin();
  }
  Status Commit() override {
    TROAD_RETURN_IF_ERROR(Step());
    return inner_->Commit();
  }
  Status Rollback() override { return inner_->Rollback(); }
  std::string_view Engine() const override { return inner_->Engine(); }
  bool InTransaction() const override { return pretend_in_transaction || inner_->InTransaction(); }

 private:
  Status Step() {
    if (++calls == fail_at) return Fail(ErrorCode::kIo, "injected failure at step {}", calls);
    return Ok();
  }
  std::unique_ptr<store::Database> inner_;
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troad-ledger-log-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "ledger.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<store::Database> OpenDb() {
    auto db = store::OpenSqlite(path_);
    EXPECT_TRUE(db) << db.error().ToString();
    return db ? std::move(*db) : nullptr;
  }

  std::unique_ptr<Log> OpenLog() {
    auto log = Log::Open(OpenDb(), clock_);
    EXPECT_TRUE(log) << log.error().ToString();
    return log ? std::move(*log) : nullptr;
  }

  // Appends entries [log.Size(), log.Size() + count) and checks the first index.
  static void Append(Log& log, uint64_t count) {
    const uint64_t first = log.Size();
    auto appended = log.AppendBatch(MakeEntries(first, count));
    ASSERT_TRUE(appended) << appended.error().ToString();
    EXPECT_EQ(*appended, first);
    EXPECT_EQ(log.Size(), first + count);
  }

  // Runs plain SQL on the log's file through a connection of its own.
  void Sql(std::string_view sql, const std::vector<store::Value>& params = {}) {
    auto db = OpenDb();
    ASSERT_TRUE(db);
    auto changed = db->Execute(sql, params);
    ASSERT_TRUE(changed) << changed.error().ToString();
    EXPECT_GE(*changed, 1) << sql;
  }

  fs::path dir_;
  std::string path_;
  FakeClock clock_{FromUnixMillis(1767225600000)};
};

// The reference's view of the first n entries.
struct Reference {
  std::vector<std::string> entries = MakeEntries(0, 400);
  std::span<const std::string> Tree(uint64_t n) const { return {entries.data(), n}; }
  Hash Root(uint64_t n) const { return reference::ToHash(reference::Mth(Tree(n))); }
  std::vector<Hash> Path(uint64_t i, uint64_t n) const {
    return reference::ToHashes(reference::Path(i, Tree(n)));
  }
  std::vector<Hash> Proof(uint64_t m, uint64_t n) const {
    if (m == 0 || m == n) return {};
    return reference::ToHashes(reference::Proof(m, Tree(n)));
  }
};

TEST(NodeStorageIdTest, KeepsEachLevelTogetherAndFitsAnSqlInteger) {
  EXPECT_EQ(NodeStorageId(NodeId{1, 0}), int64_t{1} << 56);
  EXPECT_EQ(NodeStorageId(NodeId{3, 5}), (int64_t{3} << 56) + 5);
  // Level first, then index: all of level 1 sorts before level 2.
  EXPECT_LT(NodeStorageId(NodeId{1, (uint64_t{1} << 56) - 1}), NodeStorageId(NodeId{2, 0}));
  // The largest nodes of the largest log.
  EXPECT_GT(NodeStorageId(NodeId{57, 0}), 0);
  EXPECT_GT(NodeStorageId(NodeId{1, (kMaxLogSize >> 1) - 1}), 0);
}

TEST_F(LogTest, AnEmptyLogHasTheEmptyRoot) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Size(), 0u);
  EXPECT_EQ(log->Root(), EmptyRoot());
  EXPECT_EQ(*log->Root(0), EmptyRoot());
  EXPECT_FALSE(log->Root(1));
  EXPECT_FALSE(log->InclusionProof(0, 0));
  EXPECT_TRUE(log->ConsistencyProof(0, 0)->empty());
  EXPECT_TRUE(log->Entries(0, 0)->empty());
  EXPECT_EQ(log->LeafIndex(LeafHash("x")).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(*log->AppendBatch({}), 0u);
  EXPECT_EQ(log->Size(), 0u);
}

TEST_F(LogTest, BatchesOfAnySizeGiveTheReferenceRootsAndProofs) {
  const Reference ref;
  auto log = OpenLog();
  ASSERT_TRUE(log);
  for (uint64_t batch : {1, 2, 3, 1, 5, 8, 13, 21, 34, 55, 1, 1, 2, 70}) {
    ASSERT_NO_FATAL_FAILURE(Append(*log, batch));
    const uint64_t n = log->Size();
    ASSERT_EQ(log->Root(), ref.Root(n)) << "n=" << n;
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = log->InclusionProof(i, n);
      ASSERT_TRUE(proof) << proof.error().ToString();
      ASSERT_EQ(*proof, ref.Path(i, n)) << "i=" << i << " n=" << n;
    }
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = log->ConsistencyProof(m, n);
      ASSERT_TRUE(proof) << proof.error().ToString();
      ASSERT_EQ(*proof, ref.Proof(m, n)) << "m=" << m << " n=" << n;
    }
  }
  // Every earlier size, read back from the stored nodes: roots, and proofs equal to
  // the in-memory generator's (itself checked against the reference in proof_test).
  const uint64_t size = log->Size();
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(LeafHash(ref.entries[i]));
  const NodeReader memory = LeafNodeReader(leaves);
  for (uint64_t n = 0; n <= size; ++n) {
    auto root = log->Root(n);
    ASSERT_TRUE(root) << root.error().ToString();
    ASSERT_EQ(*root, ref.Root(n)) << "n=" << n;
    for (uint64_t i = 0; i < n; i += 3) {
      ASSERT_EQ(*log->InclusionProof(i, n), *InclusionProof(i, n, memory)) << i << "/" << n;
    }
    for (uint64_t m = 0; m <= n; m += 5) {
      ASSERT_EQ(*log->ConsistencyProof(m, n), *ConsistencyProof(m, n, memory)) << m << "->" << n;
    }
  }
}

TEST_F(LogTest, ReopeningRecoversTheStateAndAppendingContinues) {
  const Reference ref;
  CompactRange frontier;
  {
    auto log = OpenLog();
    ASSERT_TRUE(log);
    for (uint64_t batch : {7, 30, 63}) ASSERT_NO_FATAL_FAILURE(Append(*log, batch));
    frontier = log->Frontier();
  }
  auto log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Size(), 100u);
  EXPECT_EQ(log->Frontier(), frontier);
  EXPECT_EQ(log->Root(), ref.Root(100));
  ASSERT_NO_FATAL_FAILURE(Append(*log, 57));
  EXPECT_EQ(log->Root(), ref.Root(157));
  for (uint64_t i = 0; i < 157; i += 7) EXPECT_EQ(*log->InclusionProof(i, 157), ref.Path(i, 157));
  EXPECT_EQ(*log->ConsistencyProof(100, 157), ref.Proof(100, 157));
  EXPECT_EQ(*log->ConsistencyProof(37, 100), ref.Proof(37, 100));
}

TEST_F(LogTest, OpeningReadsOnlyWhatTheFrontierNeeds) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log);
    ASSERT_NO_FATAL_FAILURE(Append(*log, 300));
  }
  // The frontier of 300 = 256 + 32 + 8 + 4 is node (8, 0), stored as it is, then
  // (5, 8) hashed from the stored (4, 16) and (4, 17), then leaves 288..299. Remove a
  // leaf and a stored node under (8, 0): the log still opens, and only what needs
  // them fails, as data loss.
  Sql("DELETE FROM ledger_entry WHERE idx = 10");
  Sql("DELETE FROM ledger_node WHERE level = 4 AND idx = 2");
  auto log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Root(), Reference().Root(300));
  auto entries = log->Entries(0, 20);
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(entries.error().message().find("ledger_entry row 10 is missing"), std::string::npos)
      << entries.error().message();
  auto sibling_of_10 = log->InclusionProof(11, 300);
  ASSERT_FALSE(sibling_of_10);
  EXPECT_EQ(sibling_of_10.error().code(), ErrorCode::kDataLoss);
  auto needs_node = log->InclusionProof(50, 300);  // a sibling is leaves [32, 48): (4, 2)
  ASSERT_FALSE(needs_node);
  EXPECT_EQ(needs_node.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(needs_node.error().message().find("(level 4, idx 2) is missing"), std::string::npos)
      << needs_node.error().message();
  EXPECT_TRUE(log->InclusionProof(40, 300));  // (4, 2) is its ancestor, not a sibling
  log.reset();

  // What the frontier needs is needed to open.
  Sql("DELETE FROM ledger_node WHERE level = 4 AND idx = 17");
  auto db = OpenDb();
  auto broken = Log::Open(std::move(db), clock_);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(broken.error().message().find("(level 4, idx 17) is missing"), std::string::npos)
      << broken.error().message();
}

// Complete tiles of stored nodes are kept after their first read (Log::TileCache): a
// second round of the same proofs needs fewer statements, and every proof, warm or
// cold, is the reference's.
TEST_F(LogTest, CompleteNodeTilesAreReadOnce) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log);
    ASSERT_NO_FATAL_FAILURE(Append(*log, 600));
  }
  auto counting = std::make_unique<FaultyDatabase>(OpenDb());
  FaultyDatabase* db = counting.get();
  auto opened = Log::Open(std::move(counting), clock_);
  ASSERT_TRUE(opened) << opened.error().ToString();
  Log& log = **opened;
  Reference ref;
  ref.entries = MakeEntries(0, 600);
  auto round = [&] {
    const int before = db->calls;
    // Trees of 256 and 512 leaves need only complete node tiles (level 4: 16 nodes
    // of 16 leaves each), besides the leaves' own tile, which is never kept.
    for (uint64_t size : {256u, 512u}) {
      for (uint64_t i = 0; i < size; i += 17) {
        auto proof = log.InclusionProof(i, size);
        EXPECT_TRUE(proof) << proof.error().ToString();
        if (proof) {
          EXPECT_EQ(*proof, ref.Path(i, size)) << i << " in " << size;
        }
      }
      auto root = log.Root(size);
      EXPECT_TRUE(root && *root == ref.Root(size)) << size;
    }
    return db->calls - before;
  };
  const int cold = round();
  const int warm = round();
  EXPECT_GT(cold, 0);
  EXPECT_LT(warm, cold) << "the second round should find the node tiles in memory";
}

TEST_F(LogTest, FrontierNodesComeFromMemory) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 300));  // frontier (8, 0), (5, 8), (3, 36), (2, 74)
  const Hash node = *log->ReadNode(NodeId{5, 8});
  // The rows under the frontier are not read again while the log is open.
  Sql("DELETE FROM ledger_node WHERE level = 8 OR (level = 4 AND idx >= 16)");
  Sql("DELETE FROM ledger_entry WHERE idx >= 288");
  EXPECT_EQ(*log->ReadNode(NodeId{5, 8}), node);
  EXPECT_TRUE(log->ReadNode(NodeId{8, 0}));
  EXPECT_TRUE(log->ReadNode(NodeId{2, 74}));
  EXPECT_EQ(log->Root(), Reference().Root(300));
  auto proof = log->InclusionProof(3, 300);  // [256, 300) is all frontier
  ASSERT_TRUE(proof) << proof.error().ToString();
  EXPECT_EQ(*proof, Reference().Path(3, 300));
  // A node that is not on the frontier is read, and is gone.
  EXPECT_EQ(log->ReadNode(NodeId{4, 16}).error().code(), ErrorCode::kDataLoss);
}

TEST_F(LogTest, OnlyEveryFourthLevelIsStored) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 300));
  auto db = OpenDb();
  auto rows = db->Query("SELECT level, COUNT(*) FROM ledger_node GROUP BY level ORDER BY level");
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(*(*rows)[0].Int(0), 4);
  EXPECT_EQ(*(*rows)[0].Int(1), 300 / 16);
  EXPECT_EQ(*(*rows)[1].Int(0), 8);
  EXPECT_EQ(*(*rows)[1].Int(1), 1);
  // Every node of the tree, stored or hashed from its tile, is the reference's.
  const Reference ref;
  for (uint64_t level = 0; level <= 8; ++level) {
    for (uint64_t index = 0; (index + 1) << level <= 300; ++index) {
      auto node = log->ReadNode(NodeId{level, index});
      ASSERT_TRUE(node) << node.error().ToString();
      const NodeId id{level, index};
      ASSERT_EQ(*node, reference::ToHash(reference::Mth(
                           std::span(ref.entries).subspan(id.begin(), id.end() - id.begin()))))
          << level << "," << index;
    }
  }
  EXPECT_EQ(log->ReadNode(NodeId{9, 0}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log->ReadNode(NodeId{0, 300}).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LogTest, EntriesComeBackInOrderWithinTheLimits) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 1100));
  auto some = log->Entries(5, 9);
  ASSERT_TRUE(some) << some.error().ToString();
  ASSERT_EQ(some->size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ((*some)[k], (LogEntry{5 + k, LeafHash(EntryBytes(5 + k)), EntryBytes(5 + k)}));
  }
  EXPECT_EQ(log->Entries(0, 1100)->size(), kMaxEntriesPerRead);
  EXPECT_EQ(log->Entries(1000, 1100)->size(), 100u);
  EXPECT_EQ(log->Entries(0, 1100, 3)->size(), 3u);
  EXPECT_TRUE(log->Entries(0, 1100, 0)->empty());
  EXPECT_TRUE(log->Entries(1100, 1100)->empty());
  EXPECT_EQ(log->Entries(9, 5).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log->Entries(0, 1101).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LogTest, LeafIndexFindsTheFirstEntryWithAHash) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 50));
  for (uint64_t i = 0; i < 50; ++i) {
    if (EntryBytes(i).empty() && i != 5) continue;  // the empty entry first appears at 5
    auto index = log->LeafIndex(LeafHash(EntryBytes(i)));
    ASSERT_TRUE(index) << index.error().ToString();
    EXPECT_EQ(*index, i);
  }
  ASSERT_TRUE(log->AppendBatch(std::vector<std::string>{EntryBytes(7), "new"}));
  EXPECT_EQ(*log->LeafIndex(LeafHash(EntryBytes(7))), 7u);
  EXPECT_EQ(*log->LeafIndex(LeafHash("new")), 51u);
  auto missing = log->LeafIndex(LeafHash("never appended"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(LogTest, LeafIndexSearchesEveryChunk) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const uint64_t chunk = uint64_t{1} << kLeafChunkBits;
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(Append(*log, (2 * chunk + 10) / 4));
  for (uint64_t i : {uint64_t{0}, chunk - 1, chunk, 2 * chunk - 1, 2 * chunk, log->Size() - 1}) {
    auto found = log->LeafIndex(LeafHash(EntryBytes(i)));
    ASSERT_TRUE(found) << i << ": " << found.error().ToString();
    EXPECT_EQ(*found, i);
  }
  // A hash seen in the first chunk and again in the last: the first wins.
  ASSERT_TRUE(log->AppendBatch(std::vector<std::string>{EntryBytes(3)}));
  EXPECT_EQ(*log->LeafIndex(LeafHash(EntryBytes(3))), 3u);
}

TEST_F(LogTest, LeafIndexComparesTheWholeHash) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 30));
  // Give row 10 the indexed 8-byte prefix of entry 20's hash: a lookup of entry 20
  // now meets row 10 first and must pass over it.
  const Hash h20 = LeafHash(EntryBytes(20));
  uint64_t key = 0;
  for (size_t i = 0; i < 8; ++i) key = (key << 8) | h20[i];
  Sql("UPDATE ledger_entry SET leaf_key = ? WHERE idx = 10", {static_cast<int64_t>(key)});
  auto found = log->LeafIndex(h20);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, 20u);
  EXPECT_EQ(log->LeafIndex(LeafHash(EntryBytes(10))).error().code(), ErrorCode::kNotFound);
}

TEST_F(LogTest, BadAppendsChangeNothing) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 3));
  const Hash root = log->Root();
  std::vector<std::string> batch = {"fine", std::string(kMaxEntryBytes + 1, 'x')};
  auto too_big = log->AppendBatch(batch);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_big.error().message(), "entry 1 of the batch is 1048577 bytes, more than 1048576");
  EXPECT_EQ(log->Size(), 3u);
  EXPECT_EQ(log->Root(), root);
  EXPECT_TRUE(log->AppendBatch(std::vector<std::string>{std::string(kMaxEntryBytes, 'x')}));
}

TEST_F(LogTest, AnotherWriterIsDetected) {
  auto first = OpenLog();
  auto second = OpenLog();
  ASSERT_TRUE(first && second);
  ASSERT_NO_FATAL_FAILURE(Append(*first, 5));
  auto refused = second->AppendBatch(MakeEntries(0, 2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("another writer"), std::string::npos);
  EXPECT_EQ(second->Size(), 0u);
  second = OpenLog();
  ASSERT_NO_FATAL_FAILURE(Append(*second, 2));
  EXPECT_EQ(second->Root(), Reference().Root(7));
}

TEST_F(LogTest, AppendingInsideACallersTransactionIsRefused) {
  auto db = std::make_unique<FaultyDatabase>(OpenDb());
  FaultyDatabase* faulty = db.get();
  auto log = Log::Open(std::move(db), clock_);
  ASSERT_TRUE(log) << log.error().ToString();
  faulty->pretend_in_transaction = true;
  auto refused = (*log)->AppendBatch(MakeEntries(0, 1));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ((*log)->Size(), 0u);
}

// Fails each database step of an append in turn: the append fails, the log is as it
// was (in memory and on disk), and the next append works.
TEST_F(LogTest, AFailureAtAnyStepOfAnAppendLeavesTheLogAsItWas) {
  const Reference ref;
  uint64_t size = 0;
  for (int step = 1;; ++step) {
    auto db = std::make_unique<FaultyDatabase>(OpenDb());
    FaultyDatabase* faulty = db.get();
    auto opened = Log::Open(std::move(db), clock_);
    ASSERT_TRUE(opened) << opened.error().ToString();
    Log& log = **opened;
    ASSERT_EQ(log.Size(), size);
    ASSERT_EQ(log.Root(), ref.Root(size));
    faulty->calls = 0;
    faulty->fail_at = step;
    auto appended = log.AppendBatch(MakeEntries(size, 6));
    if (appended) {
      // Begin, the size check, six inserts and Commit at least.
      ASSERT_GT(step, 1 + 1 + 6 + 1) << "an append of 6 entries takes more steps than that";
      EXPECT_EQ(log.Root(), ref.Root(size + 6));
      break;
    }
    EXPECT_EQ(appended.error().code(), ErrorCode::kIo) << appended.error().ToString();
    EXPECT_EQ(log.Size(), size) << "step " << step;
    EXPECT_EQ(log.Root(), ref.Root(size));
    // Whatever failed, the next append goes through and is right.
    faulty->fail_at = 0;
    ASSERT_TRUE(log.AppendBatch(MakeEntries(size, 3)));
    size += 3;
    ASSERT_EQ(log.Root(), ref.Root(size));
    for (uint64_t i = 0; i < size; ++i) ASSERT_EQ(*log.InclusionProof(i, size), ref.Path(i, size));
  }
}

// Whether the log reads the stored node `stored` (its level a multiple of kTileHeight)
// to compute `subtrees` of a log of `size` entries: each subtree is made of the
// perfect subtrees of RangeNodes; those on the frontier come from memory, the others
// from the stored nodes under them at the tile level below.
bool Reads(const std::vector<Subtree>& subtrees, const NodeId& stored, uint64_t size) {
  for (const Subtree& s : subtrees) {
    for (const NodeId& id : RangeNodes(s.begin, s.end)) {
      const bool frontier = ((size >> id.level) & 1) != 0 && id.end() == (size >> id.level)
                                                                             << id.level;
      if (frontier) continue;
      const uint64_t base = id.level - id.level % kTileHeight;
      const uint64_t r = id.level - base;
      if (stored.level == base && stored.index >> r == id.index) return true;
    }
  }
  return false;
}

TEST_F(LogTest, RowsAlteredBySqlFailVerificationAgainstTheSignedCheckpoint) {
  const auto key = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(key);
  const crypto::PublicKey log_key = key->Public();
  auto log = OpenLog();
  ASSERT_TRUE(log);
  // Checkpoints a monitor has seen and kept.
  std::vector<Checkpoint> seen;
  for (uint64_t batch : {8, 42, 50}) {
    ASSERT_NO_FATAL_FAILURE(Append(*log, batch));
    auto note = SignCheckpoint(
        Checkpoint{"ledger.troad.tw/test", log->Size(), log->Root(), clock_.NowMillis()}, *key);
    ASSERT_TRUE(note) << note.error().ToString();
    auto verified = VerifyCheckpoint(*note, log_key);
    ASSERT_TRUE(verified) << verified.error().ToString();
    seen.push_back(*verified);
  }
  const Checkpoint head = seen.back();
  ASSERT_EQ(head.size, 100u);

  // What a client checks: the entry it fetched, its proof, against the signed head.
  auto check_inclusion = [&](uint64_t i) -> Status {
    TROAD_ASSIGN_OR_RETURN(std::vector<LogEntry> entry, log->Entries(i, i + 1));
    TROAD_ASSIGN_OR_RETURN(std::vector<Hash> proof, log->InclusionProof(i, head.size));
    return VerifyInclusion(i, head.size, LeafHash(entry[0].bytes), proof, head.root);
  };
  auto check_consistency = [&](const Checkpoint& old) -> Status {
    TROAD_ASSIGN_OR_RETURN(std::vector<Hash> proof, log->ConsistencyProof(old.size, head.size));
    return VerifyConsistency(old.size, head.size, proof, old.root, head.root);
  };
  for (uint64_t i = 0; i < head.size; ++i) ASSERT_TRUE(check_inclusion(i)) << i;
  for (const Checkpoint& old : seen) ASSERT_TRUE(check_consistency(old)) << old.size;

  // 1. A stored node rewritten: exactly the proofs that read it fail.
  const NodeId node{4, 1};  // leaves [16, 32)
  const Hash original = *log->ReadNode(node);
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 4 AND idx = 1",
      {store::Blob{std::string(32, '\x42')}});
  int failed = 0;
  for (uint64_t i = 0; i < head.size; ++i) {
    Status s = check_inclusion(i);
    ASSERT_EQ(!s, Reads(*InclusionProofSubtrees(i, head.size), node, head.size)) << "leaf " << i;
    if (!s) {
      EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
      ++failed;
    }
  }
  // Leaves 0..15 have [16, 32) as a sibling, leaves 32..63 have [0, 32), hashed
  // from (4, 0) and (4, 1).
  EXPECT_EQ(failed, 16 + 32);
  for (const Checkpoint& old : seen) {
    Status s = check_consistency(old);
    ASSERT_EQ(!s, Reads(*ConsistencyProofSubtrees(old.size, head.size), node, head.size))
        << old.size;
  }
  EXPECT_FALSE(check_consistency(seen[0])) << "8 -> 100 has [16, 32) in its proof";
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 4 AND idx = 1",
      {store::Blob{std::string(crypto::DigestView(original))}});
  for (uint64_t i = 0; i < head.size; ++i) ASSERT_TRUE(check_inclusion(i)) << i;

  // 2. An entry and its leaf hash rewritten together: every proof that hashes it
  // fails — those of the leaves of its tile, [32, 48); the stored (4, 2) above them
  // still has the old value, so the proofs of other leaves verify.
  Sql("UPDATE ledger_entry SET entry = ?, leaf_hash = ? WHERE idx = 42",
      {store::Blob{"forged"}, store::Blob{std::string(crypto::DigestView(LeafHash("forged")))}});
  for (uint64_t i = 0; i < head.size; ++i) {
    Status s = check_inclusion(i);
    ASSERT_EQ(!s, i >= 32 && i < 48) << "leaf " << i;
    if (!s) {
      EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
    }
  }

  // 3. Entry bytes rewritten alone: the log notices on reading them.
  Sql("UPDATE ledger_entry SET entry = ? WHERE idx = 77", {store::Blob{"forged"}});
  auto entry = log->Entries(77, 78);
  ASSERT_FALSE(entry);
  EXPECT_EQ(entry.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(entry.error().message().find("does not hash to its stored leaf hash"),
            std::string::npos);

  // 4. A node under the frontier rewritten: the reopened log's root is not the signed
  // one, and no consistency proof from the signed head verifies.
  log.reset();
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 4 AND idx = 5",  // under (5, 2)
      {store::Blob{std::string(32, '\x07')}});
  log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_NE(log->Root(), head.root);
  ASSERT_NO_FATAL_FAILURE(Append(*log, 10));
  auto proof = log->ConsistencyProof(head.size, log->Size());
  ASSERT_TRUE(proof);
  Status s = VerifyConsistency(head.size, log->Size(), *proof, head.root, log->Root());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);

  // 5. Malformed rows are data loss, naming the row.
  Sql("UPDATE ledger_node SET hash = ? WHERE level = 4 AND idx = 3", {store::Blob{"short"}});
  auto read = log->ReadNode(NodeId{4, 3});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(read.error().message().find("(level 4, idx 3): stored hash is 5 bytes"),
            std::string::npos)
      << read.error().message();
  Sql("UPDATE ledger_node SET level = 8 WHERE level = 4 AND idx = 0");
  read = log->ReadNode(NodeId{5, 0});  // hashed from (4, 0) and (4, 1)
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(read.error().message().find("(level 4, idx 0) says it is level 8, idx 0"),
            std::string::npos)
      << read.error().message();
}

// A caller's own table, as the central's ledger service keeps one.
constexpr store::Migration kExtraMigrations[] = {
    {kFirstExtraMigration, "caller rows",
     "CREATE TABLE caller_row (idx INTEGER PRIMARY KEY, note TEXT NOT NULL)"},
    {kFirstExtraMigration + 1, "caller index", "CREATE INDEX caller_row_note ON caller_row (note)"},
};

// Rows of a query on the log's database, as "a|b" strings.
std::vector<std::string> Rows(store::Database& db, std::string_view sql) {
  std::vector<std::string> out;
  auto rows = db.Query(sql);
  EXPECT_TRUE(rows) << rows.error().ToString();
  if (!rows) return out;
  for (const store::Row& row : *rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += '|';
      if (auto n = row.Int(i)) {
        line += std::to_string(*n);
      } else if (auto t = row.Text(i)) {
        line += *t;
      }
    }
    out.push_back(line);
  }
  return out;
}

TEST_F(LogTest, ExtraMigrationsAreAppliedOnceAndRecordedApart) {
  {
    auto log = Log::Open(OpenDb(), clock_, kExtraMigrations);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ(Rows((*log)->database(), "SELECT version, name FROM ledger_extra_migrations"),
              (std::vector<std::string>{"1000|caller rows", "1001|caller index"}));
    // The log's own migrations stay 1, 2, … in schema_migrations (store::Migrate).
    EXPECT_EQ(Rows((*log)->database(), "SELECT version FROM schema_migrations"),
              (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(Rows((*log)->database(), "SELECT COUNT(*) FROM caller_row"),
              (std::vector<std::string>{"0"}));
  }
  // Again: nothing is applied twice. Without extra migrations the log opens too.
  auto again = Log::Open(OpenDb(), clock_, kExtraMigrations);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Rows((*again)->database(), "SELECT COUNT(*) FROM ledger_extra_migrations"),
            (std::vector<std::string>{"2"}));
  EXPECT_TRUE(Log::Open(OpenDb(), clock_));

  // A program that knows fewer of them must not write.
  auto older = Log::Open(OpenDb(), clock_, std::span(kExtraMigrations).first(1));
  ASSERT_FALSE(older);
  EXPECT_EQ(older.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(older.error().message().find("up to version 1001"), std::string::npos)
      << older.error().message();

  const store::Migration misnumbered[] = {{1, "caller rows", "SELECT 1"}};
  auto broken = Log::Open(OpenDb(), clock_, misnumbered);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kInternal);
  EXPECT_NE(broken.error().message().find("expected 1000"), std::string::npos)
      << broken.error().message();
}

TEST_F(LogTest, AFailingExtraMigrationLeavesNoTrace) {
  const store::Migration bad[] = {
      {kFirstExtraMigration, "good", "CREATE TABLE caller_row (idx INTEGER PRIMARY KEY)"},
      {kFirstExtraMigration + 1, "bad", "CREATE TABLE t (x INTEGER); NOT SQL"},
  };
  auto log = Log::Open(OpenDb(), clock_, bad);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message().find("extra ledger migration 1001 (bad)"), std::string::npos)
      << log.error().message();
  auto db = OpenDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(Rows(*db, "SELECT version FROM ledger_extra_migrations"),
            (std::vector<std::string>{"1000"}));
  EXPECT_EQ(Rows(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 't'"),
            (std::vector<std::string>{"0"}));
}

TEST_F(LogTest, TheHookWritesInTheAppendsTransaction) {
  auto opened = Log::Open(OpenDb(), clock_, kExtraMigrations);
  ASSERT_TRUE(opened) << opened.error().ToString();
  Log& log = **opened;
  ASSERT_NO_FATAL_FAILURE(Append(log, 3));
  std::vector<uint64_t> firsts;
  const AppendHook hook = [&firsts](store::Database& db, uint64_t first) -> Status {
    firsts.push_back(first);
    EXPECT_TRUE(db.InTransaction());
    // The entries are already there, in the same transaction.
    auto rows = db.Query("SELECT COUNT(*) FROM ledger_entry");
    if (!rows) return Fail(std::move(rows.error()));
    EXPECT_EQ((*rows)[0].Int(0).value_or(-1), static_cast<int64_t>(first + 2));
    TROAD_RETURN_IF_ERROR(db.Execute("INSERT INTO caller_row (idx, note) VALUES (?, ?)",
                                     {static_cast<int64_t>(first), std::string("batch")}));
    return Ok();
  };
  auto appended = log.AppendBatch(MakeEntries(3, 2), hook);
  ASSERT_TRUE(appended) << appended.error().ToString();
  EXPECT_EQ(*appended, 3u);
  // An empty batch writes nothing and does not call the hook.
  appended = log.AppendBatch({}, hook);
  ASSERT_TRUE(appended);
  EXPECT_EQ(*appended, 5u);
  EXPECT_EQ(firsts, (std::vector<uint64_t>{3}));
  EXPECT_FALSE(log.database().InTransaction());

  // Committed: another connection sees the caller's row with the entries.
  auto other = OpenDb();
  ASSERT_TRUE(other);
  EXPECT_EQ(Rows(*other, "SELECT idx, note FROM caller_row"),
            (std::vector<std::string>{"3|batch"}));
  EXPECT_EQ(Rows(*other, "SELECT COUNT(*) FROM ledger_entry"), (std::vector<std::string>{"5"}));
}

TEST_F(LogTest, AFailingHookRollsTheAppendBack) {
  auto opened = Log::Open(OpenDb(), clock_, kExtraMigrations);
  ASSERT_TRUE(opened) << opened.error().ToString();
  Log& log = **opened;
  // Enough entries to complete stored subtrees, so that ledger_node is written too.
  ASSERT_NO_FATAL_FAILURE(Append(log, 10));
  const Hash root = log.Root();
  const AppendHook failing = [](store::Database& db, uint64_t first) -> Status {
    TROAD_RETURN_IF_ERROR(db.Execute("INSERT INTO caller_row (idx, note) VALUES (?, ?)",
                                     {static_cast<int64_t>(first), std::string("lost")}));
    return Fail(ErrorCode::kAlreadyExists, "seq 4 is held with other bytes");
  };
  auto refused = log.AppendBatch(MakeEntries(10, 30), failing);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(refused.error().message(), "seq 4 is held with other bytes");
  EXPECT_EQ(log.Size(), 10u);
  EXPECT_EQ(log.Root(), root);
  EXPECT_FALSE(log.database().InTransaction());
  EXPECT_EQ(Rows(log.database(), "SELECT COUNT(*) FROM caller_row"),
            (std::vector<std::string>{"0"}));
  EXPECT_EQ(Rows(log.database(), "SELECT COUNT(*) FROM ledger_entry"),
            (std::vector<std::string>{"10"}));
  EXPECT_EQ(Rows(log.database(), "SELECT COUNT(*) FROM ledger_node"),
            (std::vector<std::string>{"0"}));

  // The same batch goes through afterwards, at the same index, and survives a reopen.
  ASSERT_NO_FATAL_FAILURE(Append(log, 30));
  opened = Log::Open(OpenDb(), clock_, kExtraMigrations);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)->Size(), 40u);
  EXPECT_EQ((*opened)->Root(), Reference().Root(40));
}

}  // namespace
}  // namespace troad::ledger
