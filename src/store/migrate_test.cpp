#include "store/migrate.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <filesystem>

namespace troad::store {
namespace {

using std::chrono::hours;

constexpr std::array<Migration, 3> kMigrations = {{
    {1, "create members", "CREATE TABLE member (id TEXT PRIMARY KEY, name TEXT NOT NULL);"},
    {2, "create subsystems",
     "CREATE TABLE subsystem (member TEXT NOT NULL REFERENCES member(id), code TEXT NOT NULL,"
     " PRIMARY KEY (member, code));"
     "CREATE INDEX subsystem_code ON subsystem (code);"},
    {3, "add member class", "ALTER TABLE member ADD COLUMN class TEXT NOT NULL DEFAULT 'GOV';"},
}};

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "troad_migrate_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    auto db = OpenSqlite((dir_ / "test.db").string());
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // version → (name, applied_at), in version order.
  std::vector<std::tuple<int64_t, std::string, std::string>> Recorded() {
    std::vector<std::tuple<int64_t, std::string, std::string>> out;
    auto rows = db_->Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
    EXPECT_TRUE(rows) << rows.error().ToString();
    if (!rows) return out;
    for (const Row& row : *rows) out.emplace_back(*row.Int(0), *row.Text(1), *row.Text(2));
    return out;
  }

  bool TableExists(const std::string& name) {
    auto rows = db_->Query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", {name});
    return rows && !rows->empty();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  FakeClock clock_{FromUnixMillis(1795501800123)};  // 2026-11-24T06:30:00.123Z
};

TEST_F(MigrateTest, AppliesEveryMigrationOnceAndRecordsIt) {
  auto s = Migrate(*db_, kMigrations, clock_);
  ASSERT_TRUE(s) << s.error().ToString();
  using R = std::tuple<int64_t, std::string, std::string>;
  EXPECT_EQ(Recorded(), (std::vector<R>{{1, "create members", "2026-11-24T06:30:00.123Z"},
                                        {2, "create subsystems", "2026-11-24T06:30:00.123Z"},
                                        {3, "add member class", "2026-11-24T06:30:00.123Z"}}));
  // The schema is what the three scripts say.
  ASSERT_TRUE(db_->Execute("INSERT INTO member (id, name) VALUES ('MOI', 'Interior')"));
  ASSERT_TRUE(db_->Execute("INSERT INTO subsystem VALUES ('MOI', 'household')"));
  auto rows = db_->Query("SELECT class FROM member");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*(*rows)[0].Text(0), "GOV");
}

TEST_F(MigrateTest, RunningAgainChangesNothing) {
  ASSERT_TRUE(Migrate(*db_, kMigrations, clock_));
  ASSERT_TRUE(db_->Execute("INSERT INTO member (id, name) VALUES ('MOI', 'Interior')"));
  const auto before = Recorded();
  clock_.Advance(hours(24));
  auto again = Migrate(*db_, kMigrations, clock_);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Recorded(), before);
  auto rows = db_->Query("SELECT COUNT(*) FROM member");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*(*rows)[0].Int(0), 1);
}

TEST_F(MigrateTest, AppliesOnlyTheMissingOnes) {
  ASSERT_TRUE(Migrate(*db_, std::span(kMigrations).first(2), clock_));
  EXPECT_EQ(Recorded().size(), 2u);
  clock_.Advance(hours(1));
  auto s = Migrate(*db_, kMigrations, clock_);
  ASSERT_TRUE(s) << s.error().ToString();
  auto recorded = Recorded();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(std::get<2>(recorded[1]), "2026-11-24T06:30:00.123Z");
  EXPECT_EQ(std::get<2>(recorded[2]), "2026-11-24T07:30:00.123Z");
}

TEST_F(MigrateTest, RefusesADatabaseNewerThanTheProgram) {
  ASSERT_TRUE(Migrate(*db_, kMigrations, clock_));
  auto s = Migrate(*db_, std::span(kMigrations).first(2), clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().message(), "database schema version 3 is newer than this program (2)");
  EXPECT_EQ(Recorded().size(), 3u);
}

TEST_F(MigrateTest, RefusesABrokenList) {
  const std::array<Migration, 2> gap = {
      {{1, "one", "CREATE TABLE one (x);"}, {3, "three", "CREATE TABLE three (x);"}}};
  auto s = Migrate(*db_, gap, clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInternal);
  EXPECT_NE(s.error().message().find("version 3, expected 2"), std::string::npos)
      << s.error().message();

  const std::array<Migration, 1> not_from_one = {{{2, "two", "CREATE TABLE two (x);"}}};
  auto t = Migrate(*db_, not_from_one, clock_);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kInternal);

  // Nothing was touched, not even the bookkeeping table.
  EXPECT_FALSE(TableExists("one"));
  EXPECT_FALSE(TableExists("schema_migrations"));
}

TEST_F(MigrateTest, FailingMigrationKeepsEarlierOnesAndIsNotRecorded) {
  std::array<Migration, 3> broken = kMigrations;
  broken[2] = {3, "create audit", "CREATE TABLE audit (x); INSERT INTO missing VALUES (1);"};
  auto s = Migrate(*db_, broken, clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kIo);
  EXPECT_NE(s.error().message().find("migration 3 (create audit)"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("no such table: missing"), std::string::npos)
      << s.error().message();

  EXPECT_EQ(Recorded().size(), 2u);
  EXPECT_TRUE(TableExists("subsystem"));
  EXPECT_FALSE(TableExists("audit"));  // the failed script's first statement was rolled back

  // The connection is usable and a fixed list finishes the job.
  auto fixed = Migrate(*db_, kMigrations, clock_);
  ASSERT_TRUE(fixed) << fixed.error().ToString();
  EXPECT_EQ(Recorded().size(), 3u);
}

TEST_F(MigrateTest, GapInRecordedVersionsIsDataLoss) {
  ASSERT_TRUE(Migrate(*db_, kMigrations, clock_));
  ASSERT_TRUE(db_->Execute("DELETE FROM schema_migrations WHERE version = 2"));
  auto s = Migrate(*db_, kMigrations, clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(s.error().message(), "schema_migrations records version 3 but not version 2");
}

}  // namespace
}  // namespace troad::store
