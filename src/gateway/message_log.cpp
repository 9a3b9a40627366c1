#include "gateway/message_log.h"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "store/migrate.h"

namespace troad::gateway {
namespace asio = boost::asio;
namespace {

// The schema of the message log. Append-only: new columns come as new migrations.
constexpr store::Migration kMigrations[] = {
    {1, "transfer records", R"sql(
CREATE TABLE transfer_record (
  seq                INTEGER PRIMARY KEY,
  side               TEXT    NOT NULL,
  message_id         TEXT    NOT NULL,
  request_id         TEXT    NOT NULL,
  client             TEXT    NOT NULL,
  service            TEXT    NOT NULL,
  user_id            TEXT    NOT NULL,
  issue              TEXT    NOT NULL,
  peer               TEXT    NOT NULL,
  request_time_ms    INTEGER NOT NULL,
  response_time_ms   INTEGER NOT NULL,
  request_hash       TEXT    NOT NULL,
  response_hash      TEXT    NOT NULL,
  status             INTEGER NOT NULL,
  request_bytes      INTEGER NOT NULL,
  response_bytes     INTEGER NOT NULL,
  request_signature  TEXT    NOT NULL,
  response_signature TEXT    NOT NULL,
  fault              TEXT    NOT NULL,
  fault_message      TEXT    NOT NULL
);
CREATE INDEX transfer_record_message_id ON transfer_record (message_id);
CREATE INDEX transfer_record_request_time ON transfer_record (request_time_ms);
)sql"},
    // Every index entry is a page write at commit time. Message ids are chosen by the
    // callers, usually at random, so their index took a random page per record (and
    // a read when that page was not cached); the time index duplicated `seq`'s order.
    // Request ids are made by the consumer gateway as time-ordered (version 7) UUIDs,
    // so their index grows at its end. Lookups by message id now scan (see
    // FindByMessageId); lookups by request id use the index.
    {2, "index transfer records by request id only", R"sql(
DROP INDEX transfer_record_message_id;
DROP INDEX transfer_record_request_time;
CREATE INDEX transfer_record_request_id ON transfer_record (request_id);
)sql"},
};

constexpr std::string_view kInsert =
    "INSERT INTO transfer_record (side, message_id, request_id, client, service, user_id, "
    "issue, peer, request_time_ms, response_time_ms, request_hash, response_hash, status, "
    "request_bytes, response_bytes, request_signature, response_signature, fault, "
    "fault_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

constexpr std::string_view kSelect =
    "SELECT side, message_id, request_id, client, service, user_id, issue, peer, "
    "request_time_ms, response_time_ms, request_hash, response_hash, status, request_bytes, "
    "response_bytes, request_signature, response_signature, fault, fault_message "
    "FROM transfer_record";

Result<TransferRecord> FromRow(const store::Row& row) {
  TransferRecord r;
  std::string* texts[] = {&r.side,    &r.message_id, &r.request_id, &r.client,
                          &r.service, &r.user_id,    &r.issue,      &r.peer};
  for (size_t i = 0; i < 8; ++i) {
    TROAD_ASSIGN_OR_RETURN(*texts[i], row.Text(i));
  }
  TROAD_ASSIGN_OR_RETURN(r.request_time_ms, row.Int(8));
  TROAD_ASSIGN_OR_RETURN(r.response_time_ms, row.Int(9));
  TROAD_ASSIGN_OR_RETURN(r.request_hash, row.Text(10));
  TROAD_ASSIGN_OR_RETURN(r.response_hash, row.Text(11));
  TROAD_ASSIGN_OR_RETURN(int64_t status, row.Int(12));
  r.status = static_cast<int>(status);
  TROAD_ASSIGN_OR_RETURN(r.request_bytes, row.Int(13));
  TROAD_ASSIGN_OR_RETURN(r.response_bytes, row.Int(14));
  TROAD_ASSIGN_OR_RETURN(r.request_signature, row.Text(15));
  TROAD_ASSIGN_OR_RETURN(r.response_signature, row.Text(16));
  TROAD_ASSIGN_OR_RETURN(r.fault, row.Text(17));
  TROAD_ASSIGN_OR_RETURN(r.fault_message, row.Text(18));
  return r;
}

}  // namespace

Result<std::unique_ptr<MessageLog>> MessageLog::Open(const std::string& path, bool sync_full,
                                                     const Clock& clock,
                                                     std::chrono::microseconds commit_delay) {
  store::SqliteOptions options;
  options.synchronous_full = sync_full;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(path, options));
  TROAD_RETURN_IF_ERROR(store::Migrate(*db, kMigrations, clock));
  store::GroupCommitter::Options commit;
  commit.linger = commit_delay;
  auto writer = store::GroupCommitter::Start(std::move(db), commit);
  return std::unique_ptr<MessageLog>(new MessageLog(path, std::move(writer)));
}

MessageLog::~MessageLog() { Stop(); }

void MessageLog::Stop() {
  if (writer_) writer_->Stop();
}

namespace {

// The initiation of Append, as a named type: a lambda capturing a coroutine parameter
// triggers a GCC 12 coroutine bug (the capture is taken from the wrong copy), so Append
// is a plain function returning the awaitable that async_initiate makes.
struct AppendInitiation {
  store::GroupCommitter* writer;
  TransferRecord record;

  template <typename Handler>
  void operator()(Handler handler) {
    asio::any_io_executor executor = asio::get_associated_executor(handler);
    auto shared = std::make_shared<asio::any_completion_handler<void(Status)>>(std::move(handler));
    writer->Submit(
        [record = std::move(record)](store::Database& db) -> Status {
          auto changed = db.Execute(
              kInsert, {record.side, record.message_id, record.request_id, record.client,
                        record.service, record.user_id, record.issue, record.peer,
                        record.request_time_ms, record.response_time_ms, record.request_hash,
                        record.response_hash, int64_t{record.status}, record.request_bytes,
                        record.response_bytes, record.request_signature, record.response_signature,
                        record.fault, record.fault_message});
          if (!changed) return tl::unexpected(changed.error());
          return Ok();
        },
        [shared, executor](Status status) {
          asio::post(executor, [shared, status = std::move(status)]() mutable {
            std::move (*shared)(std::move(status));
          });
        });
  }
};

}  // namespace

asio::awaitable<Status> MessageLog::Append(TransferRecord record) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      AppendInitiation{writer_.get(), std::move(record)}, asio::use_awaitable);
}

Result<std::vector<TransferRecord>> ReadTransferRecords(const std::string& path,
                                                        std::string_view column,
                                                        const std::string& value) {
  // The column goes into the SQL text, so it must be one of ours.
  if (column != "message_id" && column != "request_id" && column != "fault") {
    return Fail(ErrorCode::kInvalidArgument, "transfer records cannot be searched by \"{}\"",
                column);
  }
  store::SqliteOptions options;
  options.read_only = true;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(path, options));
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db->Query(fmt::format("{} WHERE {} = ? ORDER BY seq", kSelect, column), {value}));
  std::vector<TransferRecord> out;
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(auto r, FromRow(row));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<TransferRecord>> MessageLog::FindByRequestId(
    const std::string& request_id) const {
  return ReadTransferRecords(path_, "request_id", request_id);
}

Result<std::vector<TransferRecord>> MessageLog::FindByMessageId(
    const std::string& message_id) const {
  return ReadTransferRecords(path_, "message_id", message_id);
}

Result<int64_t> MessageLog::Count() const {
  store::SqliteOptions options;
  options.read_only = true;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(path_, options));
  TROAD_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT COUNT(*) FROM transfer_record"));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  return rows[0].Int(0);
}

}  // namespace troad::gateway
