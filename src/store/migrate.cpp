// Applies numbered schema migrations once each; see migrate.h.
#include "store/migrate.h"

#include <fmt/format.h>

#include <filesystem>

namespace troad::store {
namespace {

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";

Status ValidateList(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Fail(ErrorCode::kInternal,
                  "migration list is broken: entry {} (\"{}\") has version {}, expected {}", i,
                  migrations[i].name, migrations[i].version, i + 1);
    }
  }
  return Ok();
}

// The highest version recorded. The versions must be 1..n without gaps: each one was
// applied in order in its own transaction, so a gap means someone edited the table.
Result<int64_t> RecordedVersion(Database& db) {
  TROAD_ASSIGN_OR_RETURN(std::vector<Row> rows,
                         db.Query("SELECT version FROM schema_migrations ORDER BY version"));
  int64_t expected = 1;
  for (const Row& row : rows) {
    Result<int64_t> version = row.Int(0);
    if (!version) return Fail(std::move(version.error()).Context("schema_migrations"));
    if (*version != expected) {
      return Fail(ErrorCode::kDataLoss, "schema_migrations records version {} but not version {}",
                  *version, expected);
    }
    ++expected;
  }
  return expected - 1;
}

}  // namespace

Status Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock) {
  TROAD_RETURN_IF_ERROR(ValidateList(migrations));
  TROAD_RETURN_IF_ERROR(db.ExecuteScript(kCreateMigrationsTable));
  const auto latest = static_cast<int64_t>(migrations.size());
  for (;;) {
    // The recorded version is read inside the write transaction so that two
    // processes starting at once cannot both apply the same migration.
    TROAD_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
    TROAD_ASSIGN_OR_RETURN(int64_t current, RecordedVersion(db));
    if (current > latest) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "database schema version {} is newer than this program ({})", current, latest);
    }
    if (current == latest) return Ok();
    const Migration& m = migrations[static_cast<size_t>(current)];
    auto context = [&m] { return fmt::format("migration {} ({})", m.version, m.name); };
    if (Status s = db.ExecuteScript(m.sql); !s)
      return Fail(std::move(s.error()).Context(context()));
    Result<int64_t> recorded =
        db.Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                   {int64_t{m.version}, std::string(m.name), FormatRfc3339(clock.Now())});
    if (!recorded) return Fail(std::move(recorded.error()).Context(context()));
    if (Status s = tx.Commit(); !s) return Fail(std::move(s.error()).Context(context()));
  }
}

Result<std::unique_ptr<Database>> OpenPrivateSqlite(const std::string& file,
                                                    std::span<const Migration> migrations,
                                                    const Clock& clock) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path folder = fs::path(file).parent_path();
  if (!folder.empty()) fs::create_directories(folder, ec);
  if (ec) return Fail(ErrorCode::kIo, "creating {}: {}", folder.string(), ec.message());
  TROAD_ASSIGN_OR_RETURN(auto db, OpenSqlite(file));
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                  ec);
  if (ec) return Fail(ErrorCode::kIo, "making {} private (0600): {}", file, ec.message());
  TROAD_RETURN_IF_ERROR(Migrate(*db, migrations, clock));
  return db;
}

}  // namespace troad::store
