// The one SQL store interface of troad. SQLite (WAL mode) is the embedded default;
// PostgreSQL will implement the same interface (a later issue), so SQL written
// against it must stay portable: '?' placeholders (translated to $n for PostgreSQL),
// INTEGER/TEXT/BLOB/REAL column types, no SQLite-only functions.
//
// Thread-safety: a Database is one connection; use it from one thread at a time.
// Open one per thread that needs one (SQLite WAL allows concurrent readers and one
// writer).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace troad::store {

struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

using Value = std::variant<std::nullptr_t, int64_t, double, std::string, Blob>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const;
  // Each getter validates the column's type and returns kDataLoss with the column
  // index when the stored value is not what the caller expects.
  Result<int64_t> Int(size_t i) const;
  Result<double> Real(size_t i) const;
  Result<std::string> Text(size_t i) const;
  Result<std::string> Bytes(size_t i) const;  // a BLOB (or TEXT) column
  const Value& at(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

class Database {
 public:
  virtual ~Database() = default;

  // Runs one statement. Returns the number of rows changed.
  virtual Result<int64_t> Execute(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs several ';'-separated statements without parameters (schema scripts).
  virtual Status ExecuteScript(std::string_view sql) = 0;
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params = {}) = 0;
  virtual Status Begin() = 0;  // BEGIN IMMEDIATE on SQLite
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  virtual std::string_view Engine() const = 0;  // "sqlite" or "postgresql"
  // Whether a transaction is open on this connection.
  virtual bool InTransaction() const = 0;
};

// RAII transaction: rolls back unless Commit() was called. Begun while another is open
// on the connection, it is a savepoint inside that one: its Commit releases the
// savepoint (the outer transaction still decides), its rollback undoes only its own
// writes. So a function that needs atomicity can open one whether or not its caller did.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_), nested_(other.nested_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  Transaction(Database* db, bool nested) : db_(db), nested_(nested) {}
  Database* db_;
  bool nested_ = false;
};

struct SqliteOptions {
  // FULL: a committed transaction survives power loss (fsync of the WAL on every
  // commit). NORMAL: survives a process crash, not power loss.
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
  bool read_only = false;
  // Checkpoint the write-ahead log from a thread and connection of its own instead of
  // inside the commit that fills it (SQLite's automatic checkpoint): for a writer
  // whose callers wait for its commits. PASSIVE checkpoints, never blocking; if they
  // fall far behind (≈ 64 MB of WAL), a commit checkpoints itself.
  bool background_checkpoint = false;
};

// Opens (creating if needed) a SQLite database file in WAL mode with foreign keys on.
// kIo with SQLite's message and the path when it cannot.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions options = {});

}  // namespace troad::store
