// Engine-independent parts of the store interface: typed access to result rows and
// the RAII transaction.
#include "store/database.h"

#include <spdlog/spdlog.h>

namespace troad::store {
namespace {

// SQLite's storage-class names, which PostgreSQL's types map onto as well.
std::string_view TypeName(const Value& v) {
  switch (v.index()) {
    case 0:
      return "NULL";
    case 1:
      return "INTEGER";
    case 2:
      return "REAL";
    case 3:
      return "TEXT";
    default:
      return "BLOB";
  }
}

Error WrongType(size_t i, const Value& v, std::string_view expected) {
  return Error(ErrorCode::kDataLoss,
               fmt::format("column {} is {}, expected {}", i, TypeName(v), expected));
}

Error NoSuchColumn(size_t i, size_t size) {
  // The caller's SELECT and its reading of the row disagree: a bug of ours.
  return Error(ErrorCode::kInternal,
               fmt::format("column {} does not exist; the row has {} columns", i, size));
}

}  // namespace

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(values_.at(i)); }

Result<int64_t> Row::Int(size_t i) const {
  if (i >= values_.size()) return tl::unexpected(NoSuchColumn(i, values_.size()));
  const Value& v = values_[i];
  if (const auto* x = std::get_if<int64_t>(&v)) return *x;
  return tl::unexpected(WrongType(i, v, "INTEGER"));
}

Result<double> Row::Real(size_t i) const {
  if (i >= values_.size()) return tl::unexpected(NoSuchColumn(i, values_.size()));
  const Value& v = values_[i];
  if (const auto* x = std::get_if<double>(&v)) return *x;
  // An expression such as SUM() over a REAL column yields INTEGER when every value
  // is whole; reading it as REAL is a widening the caller asked for.
  if (const auto* x = std::get_if<int64_t>(&v)) return static_cast<double>(*x);
  return tl::unexpected(WrongType(i, v, "REAL"));
}

Result<std::string> Row::Text(size_t i) const {
  if (i >= values_.size()) return tl::unexpected(NoSuchColumn(i, values_.size()));
  const Value& v = values_[i];
  if (const auto* x = std::get_if<std::string>(&v)) return *x;
  return tl::unexpected(WrongType(i, v, "TEXT"));
}

Result<std::string> Row::Bytes(size_t i) const {
  if (i >= values_.size()) return tl::unexpected(NoSuchColumn(i, values_.size()));
  const Value& v = values_[i];
  if (const auto* x = std::get_if<Blob>(&v)) return x->bytes;
  if (const auto* x = std::get_if<std::string>(&v)) return *x;
  return tl::unexpected(WrongType(i, v, "BLOB"));
}

// Savepoints share one name: SQL savepoints nest as a stack, so RELEASE / ROLLBACK TO
// always address the innermost one, which is this Transaction's.
constexpr std::string_view kSavepoint = "troad_nested";

Result<Transaction> Transaction::Begin(Database& db) {
  if (db.InTransaction()) {
    TROAD_RETURN_IF_ERROR(db.Execute(fmt::format("SAVEPOINT {}", kSavepoint)));
    return Transaction(&db, true);
  }
  TROAD_RETURN_IF_ERROR(db.Begin());
  return Transaction(&db, false);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  // After a failed COMMIT SQLite may already have rolled back, and then ROLLBACK
  // reports "no transaction is active"; either way nothing of ours is left open.
  if (nested_) {
    auto undone = db_->Execute(fmt::format("ROLLBACK TO {}", kSavepoint));
    auto released = db_->Execute(fmt::format("RELEASE {}", kSavepoint));
    if (!undone || !released) spdlog::debug("savepoint rollback failed");
    return;
  }
  if (Status s = db_->Rollback(); !s) {
    spdlog::debug("transaction rollback: {}", s.error().message());
  }
}

Status Transaction::Commit() {
  if (db_ == nullptr) {
    return Fail(ErrorCode::kInternal, "transaction committed twice or after being moved from");
  }
  if (nested_) {
    TROAD_RETURN_IF_ERROR(db_->Execute(fmt::format("RELEASE {}", kSavepoint)));
    db_ = nullptr;
    return Ok();
  }
  TROAD_RETURN_IF_ERROR(db_->Commit());
  // Only a successful commit disarms the destructor: a failed one must still be
  // rolled back so the connection can begin again.
  db_ = nullptr;
  return Ok();
}

}  // namespace troad::store
