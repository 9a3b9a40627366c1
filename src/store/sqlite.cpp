// The SQLite back end of the store interface: one connection per Database, in WAL
// mode, with a cache of prepared statements keyed by their SQL text so that the
// statements a role runs thousands of times a second are compiled once.
//
// Thread-safety: the connection is opened with SQLITE_OPEN_NOMUTEX; a Database must
// be used from one thread at a time (see database.h).
#include <sqlite3.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "store/database.h"

namespace troad::store {
namespace {

// Beyond this many distinct statements the program is building SQL text on the fly
// (a bug, or a query with a variable IN list); the cache is then emptied rather than
// allowed to grow without bound.
constexpr size_t kMaxCachedStatements = 512;
// How much of a statement an error message quotes.
constexpr size_t kSqlExcerptBytes = 80;

// The start of `sql` on one line, for error messages.
std::string SqlExcerpt(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() >= kSqlExcerptBytes) {
      // Do not cut a UTF-8 sequence in half.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
        out.pop_back();
      }
      if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
      out += "...";
      break;
    }
  }
  return out;
}

ErrorCode CodeFor(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return ErrorCode::kAlreadyExists;
    default:
      break;
  }
  switch (extended_code & 0xFF) {
    case SQLITE_CONSTRAINT:  // NOT NULL, CHECK, FOREIGN KEY: the row does not fit
      return ErrorCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kDataLoss;
    default:
      return ErrorCode::kIo;
  }
}

struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Returns a cached statement to its initial state when the call that used it ends,
// however it ends; the bindings are cleared because they point into the caller's
// parameters (bound with SQLITE_STATIC to avoid a copy).
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;
  ~StatementReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

// Checkpoints a database's write-ahead log from a thread and connection of its own,
// so that the writer's commits never wait for one (SqliteOptions::
// background_checkpoint). SQLite's automatic checkpoint runs inside the commit that
// takes the WAL past 1000 pages: it copies those pages into the database file and
// syncs it while the writer — and every caller waiting for a durable write — waits.
// Here the writer's WAL hook only wakes this thread past kWakeFrames; the checkpoint
// is PASSIVE (it never blocks the writer or readers). Should it fall far behind, the
// writer checkpoints itself past kInlineFrames, so the WAL stays bounded.
class BackgroundCheckpointer {
 public:
  static constexpr int kWakeFrames = 1000;     // SQLite's own default threshold
  static constexpr int kInlineFrames = 16000;  // ≈ 64 MB of 4 KiB pages

  explicit BackgroundCheckpointer(sqlite3* connection)
      : connection_(connection), thread_([this] { Run(); }) {}
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;
  ~BackgroundCheckpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_close_v2(connection_);
  }

  // The writer connection's WAL hook (runs on the writer's thread after each commit).
  static int OnCommit(void* self, sqlite3* writer, const char* schema, int frames) {
    if (frames >= kInlineFrames) {
      sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= kWakeFrames) {
      static_cast<BackgroundCheckpointer*>(self)->Wake();
    }
    return SQLITE_OK;
  }

 private:
  void Wake() {
    {
      std::lock_guard lock(mu_);
      wanted_ = true;
    }
    cv_.notify_one();
  }
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return wanted_ || stopping_; });
      if (stopping_) return;
      wanted_ = false;
      lock.unlock();
      // A failure (SQLITE_BUSY while another checkpoint runs, an I/O error) leaves
      // the WAL as it is; the next wake-up tries again, and kInlineFrames bounds it.
      sqlite3_wal_checkpoint_v2(connection_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3* const connection_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  ~SqliteDatabase() override {
    if (checkpointer_) {
      sqlite3_wal_hook(db_, nullptr, nullptr);
      checkpointer_.reset();
    }
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // Hands WAL checkpoints to a thread with a connection of its own (see
  // BackgroundCheckpointer); replaces SQLite's automatic checkpoint.
  Status CheckpointInBackground() {
    sqlite3* other = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &other,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string why = other != nullptr ? sqlite3_errmsg(other) : sqlite3_errstr(rc);
      sqlite3_close_v2(other);
      return Fail(ErrorCode::kIo, "{}: cannot open a connection for checkpoints: {}", path_, why);
    }
    // A new connection learns that the file is in WAL mode only when it first reads
    // it; until then a checkpoint through it does nothing.
    char* message = nullptr;
    if (sqlite3_exec(other, "PRAGMA journal_mode=WAL", nullptr, nullptr, &message) != SQLITE_OK) {
      std::string why = message != nullptr ? message : sqlite3_errmsg(other);
      sqlite3_free(message);
      sqlite3_close_v2(other);
      return Fail(ErrorCode::kIo, "{}: the connection for checkpoints: {}", path_, why);
    }
    sqlite3_busy_timeout(other, 1000);
    checkpointer_ = std::make_unique<BackgroundCheckpointer>(other);
    sqlite3_wal_hook(db_, &BackgroundCheckpointer::OnCommit, checkpointer_.get());
    return Ok();
  }

  Result<int64_t> Execute(std::string_view sql, const std::vector<Value>& params) override {
    TROAD_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    StatementReset reset(stmt);
    TROAD_RETURN_IF_ERROR(Bind(stmt, params, sql));
    int rc;
    // A statement with RETURNING yields rows; they are stepped through so that the
    // statement completes.
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return tl::unexpected(LastError(sql));
    if (sqlite3_stmt_readonly(stmt)) return 0;
    return sqlite3_changes64(db_);
  }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);  // sqlite3_exec wants a terminating NUL
    char* message = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return Ok();
    std::string why = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return tl::unexpected(MakeError(sqlite3_extended_errcode(db_), why, sql));
  }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    TROAD_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    StatementReset reset(stmt);
    TROAD_RETURN_IF_ERROR(Bind(stmt, params, sql));
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      // Read after the step: a schema change recompiles the statement inside
      // sqlite3_step, and "SELECT *" may then have more columns than when cached.
      const int columns = sqlite3_column_count(stmt);
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(ColumnValue(stmt, c));
      rows.emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) return tl::unexpected(LastError(sql));
    return rows;
  }

  Status Begin() override { return Run("BEGIN IMMEDIATE"); }
  Status Commit() override { return Run("COMMIT"); }
  Status Rollback() override { return Run("ROLLBACK"); }
  std::string_view Engine() const override { return "sqlite"; }
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }

  const std::string& path() const { return path_; }

 private:
  Status Run(std::string_view sql) {
    TROAD_RETURN_IF_ERROR(Execute(sql, {}));
    return Ok();
  }

  Error MakeError(int extended_code, std::string_view why, std::string_view sql) const {
    return Error(CodeFor(extended_code), fmt::format("{}: {} (SQLite code {}) in \"{}\"", path_,
                                                     why, extended_code, SqlExcerpt(sql)));
  }

  // The connection's error, which must be read before the statement is reset.
  Error LastError(std::string_view sql) const {
    return MakeError(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), sql);
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
    if (sql.size() > static_cast<size_t>(INT_MAX)) {
      return Fail(ErrorCode::kInvalidArgument, "{}: statement of {} bytes is too long", path_,
                  sql.size());
    }
    if (statements_.size() >= kMaxCachedStatements) {
      for (auto& [text, stmt] : statements_) sqlite3_finalize(stmt);
      statements_.clear();
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return tl::unexpected(LastError(sql));
    if (stmt == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, "{}: no SQL statement in \"{}\"", path_,
                  SqlExcerpt(sql));
    }
    // Anything after the first statement would be silently ignored by SQLite.
    std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: more than one statement in \"{}\" (use ExecuteScript)", path_,
                  SqlExcerpt(sql));
    }
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

  Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params, std::string_view sql) {
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: statement takes {} parameters, {} given: \"{}\"", path_, expected,
                  params.size(), SqlExcerpt(sql));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc;
      if (const auto* x = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, n, *x);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, n, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, n, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        // std::string::data() is never null, so an empty Blob binds as an empty BLOB,
        // not as NULL.
        rc = sqlite3_bind_blob64(stmt, n, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, n);
      }
      if (rc != SQLITE_OK) {
        return tl::unexpected(
            MakeError(rc, fmt::format("binding parameter {}: {}", n, sqlite3_errstr(rc)), sql));
      }
    }
    return Ok();
  }

  static Value ColumnValue(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(stmt, c));
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, c);
      case SQLITE_TEXT: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int n = sqlite3_column_bytes(stmt, c);
        return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
      }
      case SQLITE_BLOB: {
        // An empty BLOB comes back as a null pointer.
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
        const int n = sqlite3_column_bytes(stmt, c);
        return Blob{p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n))};
      }
      default:
        return nullptr;
    }
  }

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;  // background_checkpoint only
};

// Checks a PRAGMA that answers with the value it set.
Status ExpectPragma(SqliteDatabase& db, std::string_view pragma, std::string_view want,
                    std::string_view why_not) {
  TROAD_ASSIGN_OR_RETURN(std::vector<Row> rows, db.Query(pragma, {}));
  std::string got;
  if (!rows.empty() && rows[0].size() == 1) {
    const Value& v = rows[0].at(0);
    if (const auto* s = std::get_if<std::string>(&v)) got = *s;
    if (const auto* i = std::get_if<int64_t>(&v)) got = std::to_string(*i);
  }
  if (got != want) {
    return Fail(ErrorCode::kIo, "{}: \"{}\" answered \"{}\", not \"{}\"{}", db.path(), pragma, got,
                want, why_not);
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions options) {
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  // The handle must be closed even when opening failed.
  auto db = std::make_unique<SqliteDatabase>(handle, path);
  if (rc != SQLITE_OK) {
    return Fail(ErrorCode::kIo, "cannot open SQLite database {}: {}", path,
                handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, options.busy_timeout_ms);

  // An in-memory or temporary database has no file to keep a write-ahead log beside.
  const char* file = sqlite3_db_filename(handle, "main");
  const bool in_memory = file == nullptr || *file == '\0';
  TROAD_RETURN_IF_ERROR(
      ExpectPragma(*db, "PRAGMA journal_mode=WAL", in_memory ? "memory" : "wal",
                   options.read_only ? " (a read-only connection cannot turn WAL mode on)" : ""));
  TROAD_RETURN_IF_ERROR(db->ExecuteScript(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                                   : "PRAGMA synchronous=NORMAL"));
  TROAD_RETURN_IF_ERROR(db->ExecuteScript("PRAGMA foreign_keys=ON"));
  TROAD_RETURN_IF_ERROR(
      ExpectPragma(*db, "PRAGMA foreign_keys", "1", " (SQLite built without foreign keys)"));
  if (options.background_checkpoint && !options.read_only && !in_memory) {
    TROAD_RETURN_IF_ERROR(db->CheckpointInBackground());
  }
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace troad::store
