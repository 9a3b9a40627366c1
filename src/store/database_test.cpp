#include "store/database.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace troad::store {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "troad_store_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    path_ = (dir_ / "test.db").string();
    auto db = OpenSqlite(path_);
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  Row QueryOne(std::string_view sql, const std::vector<Value>& params = {}) {
    auto rows = db_->Query(sql, params);
    EXPECT_TRUE(rows) << rows.error().ToString();
    EXPECT_EQ(rows->size(), 1u) << sql;
    return rows && rows->size() == 1 ? (*rows)[0] : Row({});
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, StoresAndReadsEveryValueType) {
  ASSERT_TRUE(db_->ExecuteScript(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n TEXT);"));
  const std::string binary("\x00\x01\xff\x00z", 5);
  const std::vector<Value> row1 = {int64_t{1},   int64_t{-9'007'199'254'740'993},
                                   2.5,          std::string("戶籍 record \xF0\x9F\x93\x9C"),
                                   Blob{binary}, nullptr};
  // Empty text and an empty blob are values, not NULL.
  const std::vector<Value> row2 = {int64_t{2},    int64_t{0}, -0.125,
                                   std::string(), Blob{},     std::string("x")};
  auto inserted = db_->Execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", row1);
  ASSERT_TRUE(inserted) << inserted.error().ToString();
  EXPECT_EQ(*inserted, 1);
  ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", row2));

  auto rows = db_->Query("SELECT id, i, r, s, b, n FROM t ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  for (size_t c = 0; c < row1.size(); ++c) {
    EXPECT_EQ((*rows)[0].at(c), row1[c]) << "column " << c;
    EXPECT_EQ((*rows)[1].at(c), row2[c]) << "column " << c;
  }
  EXPECT_EQ(*(*rows)[0].Bytes(4), binary);
  EXPECT_TRUE((*rows)[0].IsNull(5));
  EXPECT_FALSE((*rows)[1].IsNull(3));

  auto updated = db_->Execute("UPDATE t SET i = i + 1 WHERE id >= ?", {int64_t{1}});
  ASSERT_TRUE(updated);
  EXPECT_EQ(*updated, 2);
  EXPECT_EQ(*QueryOne("SELECT i FROM t WHERE id = ?", {int64_t{2}}).Int(0), 1);

  auto deleted = db_->Execute("DELETE FROM t WHERE s = ?", {std::string()});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 1);
}

TEST_F(DatabaseTest, GettersReportWrongTypesAsDataLoss) {
  Row row = QueryOne("SELECT 7, 'seven', 7.5, X'07', NULL");
  EXPECT_EQ(*row.Int(0), 7);
  EXPECT_EQ(*row.Text(1), "seven");
  EXPECT_EQ(*row.Real(2), 7.5);
  EXPECT_EQ(*row.Bytes(3), "\x07");
  EXPECT_EQ(*row.Bytes(1), "seven");  // TEXT is bytes too
  EXPECT_EQ(*row.Real(0), 7.0);       // INTEGER widens to REAL

  auto text_as_int = row.Int(1);
  ASSERT_FALSE(text_as_int);
  EXPECT_EQ(text_as_int.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(text_as_int.error().message(), "column 1 is TEXT, expected INTEGER");

  auto null_as_int = row.Int(4);
  ASSERT_FALSE(null_as_int);
  EXPECT_EQ(null_as_int.error().message(), "column 4 is NULL, expected INTEGER");

  auto blob_as_text = row.Text(3);
  ASSERT_FALSE(blob_as_text);
  EXPECT_EQ(blob_as_text.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(blob_as_text.error().message(), "column 3 is BLOB, expected TEXT");

  auto int_as_bytes = row.Bytes(0);
  ASSERT_FALSE(int_as_bytes);
  EXPECT_EQ(int_as_bytes.error().message(), "column 0 is INTEGER, expected BLOB");

  auto text_as_real = row.Real(1);
  ASSERT_FALSE(text_as_real);
  EXPECT_EQ(text_as_real.error().message(), "column 1 is TEXT, expected REAL");

  auto real_as_int = row.Int(2);
  ASSERT_FALSE(real_as_int);
  EXPECT_EQ(real_as_int.error().message(), "column 2 is REAL, expected INTEGER");

  auto missing = row.Int(5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kInternal);
  EXPECT_TRUE(row.IsNull(4));
}

TEST_F(DatabaseTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(db_->ExecuteScript(
      "CREATE TABLE m (id TEXT PRIMARY KEY, nonce TEXT UNIQUE, body TEXT NOT NULL);"));
  const std::string insert = "INSERT INTO m (id, nonce, body) VALUES (?, ?, ?)";
  ASSERT_TRUE(db_->Execute(insert, {std::string("a"), std::string("n1"), std::string("x")}));

  auto same_key = db_->Execute(insert, {std::string("a"), std::string("n2"), std::string("x")});
  ASSERT_FALSE(same_key);
  EXPECT_EQ(same_key.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(same_key.error().message().find("UNIQUE constraint failed: m.id"), std::string::npos)
      << same_key.error().message();
  EXPECT_NE(same_key.error().message().find("INSERT INTO m (id, nonce, body)"), std::string::npos)
      << same_key.error().message();
  EXPECT_NE(same_key.error().message().find(path_), std::string::npos);

  auto same_nonce = db_->Execute(insert, {std::string("b"), std::string("n1"), std::string("x")});
  ASSERT_FALSE(same_nonce);
  EXPECT_EQ(same_nonce.error().code(), ErrorCode::kAlreadyExists);

  // Other constraints are not duplicates.
  auto null_body = db_->Execute(insert, {std::string("c"), std::string("n3"), nullptr});
  ASSERT_FALSE(null_body);
  EXPECT_EQ(null_body.error().code(), ErrorCode::kFailedPrecondition);

  // The cached statement is usable again after the failures.
  EXPECT_TRUE(db_->Execute(insert, {std::string("d"), std::string("n4"), std::string("x")}));
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM m").Int(0), 2);
}

TEST_F(DatabaseTest, ForeignKeysAreEnforced) {
  ASSERT_TRUE(db_->ExecuteScript(
      "CREATE TABLE member (id INTEGER PRIMARY KEY);"
      "CREATE TABLE subsystem (id INTEGER PRIMARY KEY, member INTEGER NOT NULL REFERENCES "
      "member(id));"));
  auto orphan = db_->Execute("INSERT INTO subsystem VALUES (1, 42)");
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(orphan.error().message().find("FOREIGN KEY"), std::string::npos);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id INTEGER PRIMARY KEY);"));
  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_TRUE(tx) << tx.error().ToString();
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (1)"));
    // Visible inside the transaction, gone after it is dropped.
    EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 1);
  }
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 0);

  {
    auto tx = Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (2)"));
    Transaction moved(std::move(*tx));
    ASSERT_TRUE(moved.Commit());
    auto again = moved.Commit();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), ErrorCode::kInternal);
  }
  EXPECT_EQ(*QueryOne("SELECT id FROM t").Int(0), 2);

  // A second connection sees only committed data.
  auto other = OpenSqlite(path_);
  ASSERT_TRUE(other);
  auto rows = (*other)->Query("SELECT id FROM t");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(*(*rows)[0].Int(0), 2);
}

TEST_F(DatabaseTest, NestedTransactionsAreSavepoints) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id INTEGER PRIMARY KEY);"));
  EXPECT_FALSE(db_->InTransaction());
  {
    auto outer = Transaction::Begin(*db_);
    ASSERT_TRUE(outer);
    EXPECT_TRUE(db_->InTransaction());
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (1)"));
    {
      // Dropped without Commit: undoes only its own write.
      auto inner = Transaction::Begin(*db_);
      ASSERT_TRUE(inner) << inner.error().ToString();
      ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (2)"));
    }
    {
      auto inner = Transaction::Begin(*db_);
      ASSERT_TRUE(inner);
      ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (3)"));
      ASSERT_TRUE(inner->Commit());
    }
    EXPECT_TRUE(db_->InTransaction()) << "the inner commit does not end the outer transaction";
    ASSERT_TRUE(outer->Commit());
  }
  EXPECT_FALSE(db_->InTransaction());
  auto rows = db_->Query("SELECT id FROM t ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(*(*rows)[0].Int(0), 1);
  EXPECT_EQ(*(*rows)[1].Int(0), 3);

  // An outer rollback undoes what a committed inner transaction wrote.
  {
    auto outer = Transaction::Begin(*db_);
    auto inner = Transaction::Begin(*db_);
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (4)"));
    ASSERT_TRUE(inner->Commit());
  }
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 2);
}

TEST_F(DatabaseTest, WriterHeldElsewhereIsUnavailable) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id INTEGER PRIMARY KEY);"));
  auto other = OpenSqlite(path_, {.busy_timeout_ms = 0});
  ASSERT_TRUE(other);
  ASSERT_TRUE(db_->Begin());
  auto busy = (*other)->Begin();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kUnavailable);
  // WAL: readers are not blocked by the writer.
  EXPECT_TRUE((*other)->Query("SELECT COUNT(*) FROM t"));
  ASSERT_TRUE(db_->Rollback());
  EXPECT_TRUE((*other)->Begin());
  EXPECT_TRUE((*other)->Commit());
}

TEST_F(DatabaseTest, OpensInWalModeWithRequestedDurability) {
  EXPECT_EQ(*QueryOne("PRAGMA journal_mode").Text(0), "wal");
  EXPECT_EQ(*QueryOne("PRAGMA synchronous").Int(0), 2);  // FULL
  EXPECT_EQ(*QueryOne("PRAGMA foreign_keys").Int(0), 1);
  EXPECT_EQ(*QueryOne("PRAGMA busy_timeout").Int(0), 5000);
  EXPECT_EQ(db_->Engine(), "sqlite");

  auto normal = OpenSqlite(path_, {.synchronous_full = false, .busy_timeout_ms = 250});
  ASSERT_TRUE(normal);
  auto rows = (*normal)->Query("PRAGMA synchronous");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*(*rows)[0].Int(0), 1);  // NORMAL
  rows = (*normal)->Query("PRAGMA busy_timeout");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*(*rows)[0].Int(0), 250);
}

// background_checkpoint: the WAL's pages reach the database file without any commit
// checkpointing (the writer's own automatic checkpoint is replaced), every row is
// there after reopening, and a reader beside the writer reads throughout.
TEST_F(DatabaseTest, BackgroundCheckpointsMoveTheWalIntoTheFile) {
  db_.reset();
  const std::string path = (dir_ / "background.db").string();
  SqliteOptions options;
  options.background_checkpoint = true;
  auto opened = OpenSqlite(path, options);
  ASSERT_TRUE(opened) << opened.error().ToString();
  Database& db = **opened;
  ASSERT_TRUE(db.ExecuteScript("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)"));
  const auto size_before = std::filesystem::file_size(path);
  SqliteOptions read_only;
  read_only.read_only = true;
  auto reader = OpenSqlite(path, read_only);
  ASSERT_TRUE(reader) << reader.error().ToString();
  // 3000 rows of 4 KiB in 30 commits: about 3000 WAL frames, three wake-ups.
  for (int tx = 0; tx < 30; ++tx) {
    ASSERT_TRUE(db.Begin());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db.Execute("INSERT INTO t (payload) VALUES (?)", {Blob{std::string(4096, 'x')}}));
    }
    ASSERT_TRUE(db.Commit());
    auto rows = (*reader)->Query("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(rows) << rows.error().ToString();
    EXPECT_EQ((*rows)[0].Int(0).value(), (tx + 1) * 100);
  }
  // The checkpointer runs on its own thread: wait (boundedly) for the file to grow.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::file_size(path) < size_before + 4'000'000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(std::filesystem::file_size(path), size_before + 4'000'000)
      << "the WAL's pages were not checkpointed into the database file";
  reader->reset();
  opened->reset();
  auto again = OpenSqlite(path);
  ASSERT_TRUE(again);
  auto rows = (*again)->Query("SELECT COUNT(*), SUM(LENGTH(payload)) FROM t");
  ASSERT_TRUE(rows);
  EXPECT_EQ((*rows)[0].Int(0).value(), 3000);
  EXPECT_EQ((*rows)[0].Int(1).value(), 3000 * 4096);
}

TEST_F(DatabaseTest, ReadOnlyConnectionReadsButCannotWrite) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (5);"));
  auto reader = OpenSqlite(path_, {.read_only = true});
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto rows = (*reader)->Query("SELECT id FROM t");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*(*rows)[0].Int(0), 5);
  auto write = (*reader)->Execute("INSERT INTO t VALUES (6)");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code(), ErrorCode::kIo);
  EXPECT_NE(write.error().message().find("readonly"), std::string::npos) << write.error().message();
}

TEST_F(DatabaseTest, OpenReportsPathAndCause) {
  const std::string missing_dir = (dir_ / "no" / "such" / "dir" / "x.db").string();
  auto db = OpenSqlite(missing_dir);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), ErrorCode::kIo);
  EXPECT_NE(db.error().message().find(missing_dir), std::string::npos) << db.error().message();

  auto absent = OpenSqlite((dir_ / "absent.db").string(), {.read_only = true});
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ErrorCode::kIo);

  const std::string garbage = (dir_ / "garbage.db").string();
  std::ofstream(garbage) << std::string(4096, 'g');
  auto not_db = OpenSqlite(garbage);
  ASSERT_FALSE(not_db);
  EXPECT_EQ(not_db.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(not_db.error().message().find(garbage), std::string::npos) << not_db.error().message();
}

TEST_F(DatabaseTest, InMemoryDatabaseOpens) {
  auto db = OpenSqlite(":memory:");
  ASSERT_TRUE(db) << db.error().ToString();
  EXPECT_TRUE((*db)->ExecuteScript("CREATE TABLE t (x); INSERT INTO t VALUES (1);"));
}

TEST_F(DatabaseTest, MisuseIsReportedWithTheSql) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"));

  auto wrong_count = db_->Execute("INSERT INTO t VALUES (?, ?)", {int64_t{1}});
  ASSERT_FALSE(wrong_count);
  EXPECT_EQ(wrong_count.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_count.error().message().find("takes 2 parameters, 1 given"), std::string::npos);

  auto two = db_->Execute("INSERT INTO t VALUES (1, 'a'); DELETE FROM t");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 0);

  const std::string long_sql =
      "SELECT id, v FROM t WHERE   id IN (SELECT id FROM t\n WHERE v = 'a' OR v = 'b' OR v = 'c' "
      "OR v = 'd' OR nonexistent_column = 1)";
  auto bad = db_->Query(long_sql);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kIo);
  const std::string& message = bad.error().message();
  EXPECT_NE(message.find("no such column: nonexistent_column"), std::string::npos) << message;
  // The statement is quoted on one line and cut short.
  EXPECT_NE(message.find("\"SELECT id, v FROM t WHERE id IN (SELECT id FROM t WHERE v = 'a'"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("...\""), std::string::npos) << message;

  auto script = db_->ExecuteScript("INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (1, 'b');");
  ASSERT_FALSE(script);
  EXPECT_EQ(script.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(DatabaseTest, CachedStatementsFollowSchemaChanges) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);"));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(db_->Execute("INSERT INTO t (a) VALUES (?)", {int64_t{i}}));
  }
  EXPECT_EQ(QueryOne("SELECT * FROM t LIMIT 1").size(), 1u);
  ASSERT_TRUE(db_->ExecuteScript("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'new';"));
  Row row = QueryOne("SELECT * FROM t LIMIT 1");
  ASSERT_EQ(row.size(), 2u);
  EXPECT_EQ(*row.Text(1), "new");
  EXPECT_EQ(*QueryOne("SELECT COUNT(*) FROM t").Int(0), 1001);
}

TEST_F(DatabaseTest, ManyDistinctStatementsDoNotExhaustTheCache) {
  ASSERT_TRUE(db_->ExecuteScript("CREATE TABLE t (a INTEGER);"));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (" + std::to_string(i) + ")"));
  }
  EXPECT_EQ(*QueryOne("SELECT SUM(a) FROM t").Int(0), 1999 * 2000 / 2);
}

}  // namespace
}  // namespace troad::store
