#include "gateway/message_log.h"

#include <fmt/format.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <future>

#include "core/json_writer.h"
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
    // Timestamp batches (docs/protocol.md §11): each covers a contiguous seq range.
    {3, "timestamp batches", R"sql(
CREATE TABLE timestamp_batch (
  id                     INTEGER PRIMARY KEY,
  first_seq              INTEGER NOT NULL,
  last_seq               INTEGER NOT NULL UNIQUE,
  size                   INTEGER NOT NULL,
  root_hex               TEXT    NOT NULL,
  leaves                 BLOB    NOT NULL,
  token                  BLOB    NOT NULL,
  tsa_certificate_sha256 TEXT    NOT NULL,
  tsa_url                TEXT    NOT NULL,
  gen_time_ms            INTEGER NOT NULL,
  created_ms             INTEGER NOT NULL
);
)sql"},
    // The ledger shipper's receipts and state (docs/protocol.md §12.5). A receipt says
    // that records first_seq..last_seq (those that exist) are entries first_index…
    // of the central ledger, in the tree of the signed `checkpoint`.
    {4, "ledger receipts", R"sql(
CREATE TABLE ledger_receipt (
  id          INTEGER PRIMARY KEY,
  first_seq   INTEGER NOT NULL,
  last_seq    INTEGER NOT NULL UNIQUE,
  first_index INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  checkpoint  TEXT    NOT NULL,
  created_ms  INTEGER NOT NULL
);
CREATE TABLE ledger_state (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  shipped_seq INTEGER NOT NULL,
  checkpoint  TEXT    NOT NULL,
  alarm       TEXT    NOT NULL,
  updated_ms  INTEGER NOT NULL
);
)sql"},
    // The head of the archive chain (docs/protocol.md §11.1): the last archive file
    // written, its SHA-256 and the highest seq archived. One row (id = 1); absent: no
    // record was ever archived.
    {5, "archive head", R"sql(
CREATE TABLE archive_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  file       TEXT    NOT NULL,
  sha256     TEXT    NOT NULL,
  last_seq   INTEGER NOT NULL,
  files      INTEGER NOT NULL,
  records    INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql"},
    // Each record's Merkle leaf (RecordLeaf), computed once by the writer: the
    // timestamper reads 40 bytes per record instead of the whole row, and the shipper
    // skips the signatures. NULL in records written before; readers compute those.
    {6, "record leaves", R"sql(
ALTER TABLE transfer_record ADD COLUMN leaf BLOB;
)sql"},
};

// seq is given, not left to SQLite, because the leaf commits to it. It is the number
// SQLite would have chosen, one above the highest row (see CheckSeqFloor).
constexpr std::string_view kNextSeq = "SELECT COALESCE(MAX(seq), 0) + 1 FROM transfer_record";
constexpr std::string_view kInsert =
    "INSERT INTO transfer_record (seq, side, message_id, request_id, client, service, user_id, "
    "issue, peer, request_time_ms, response_time_ms, request_hash, response_hash, status, "
    "request_bytes, response_bytes, request_signature, response_signature, fault, "
    "fault_message, leaf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

constexpr std::string_view kSelect =
    "SELECT seq, side, message_id, request_id, client, service, user_id, issue, peer, "
    "request_time_ms, response_time_ms, request_hash, response_hash, status, request_bytes, "
    "response_bytes, request_signature, response_signature, fault, fault_message "
    "FROM transfer_record";

Result<TransferRecord> FromRow(const store::Row& row) {
  TransferRecord r;
  TROAD_ASSIGN_OR_RETURN(r.seq, row.Int(0));
  std::string* texts[] = {&r.side,    &r.message_id, &r.request_id, &r.client,
                          &r.service, &r.user_id,    &r.issue,      &r.peer};
  for (size_t i = 0; i < 8; ++i) {
    TROAD_ASSIGN_OR_RETURN(*texts[i], row.Text(i + 1));
  }
  TROAD_ASSIGN_OR_RETURN(r.request_time_ms, row.Int(9));
  TROAD_ASSIGN_OR_RETURN(r.response_time_ms, row.Int(10));
  TROAD_ASSIGN_OR_RETURN(r.request_hash, row.Text(11));
  TROAD_ASSIGN_OR_RETURN(r.response_hash, row.Text(12));
  TROAD_ASSIGN_OR_RETURN(int64_t status, row.Int(13));
  r.status = static_cast<int>(status);
  TROAD_ASSIGN_OR_RETURN(r.request_bytes, row.Int(14));
  TROAD_ASSIGN_OR_RETURN(r.response_bytes, row.Int(15));
  TROAD_ASSIGN_OR_RETURN(r.request_signature, row.Text(16));
  TROAD_ASSIGN_OR_RETURN(r.response_signature, row.Text(17));
  TROAD_ASSIGN_OR_RETURN(r.fault, row.Text(18));
  TROAD_ASSIGN_OR_RETURN(r.fault_message, row.Text(19));
  return r;
}

constexpr std::string_view kSelectBatch =
    "SELECT id, first_seq, last_seq, size, root_hex, token, tsa_certificate_sha256, tsa_url, "
    "gen_time_ms, created_ms, leaves FROM timestamp_batch";

Result<TimestampBatch> BatchFromRow(const store::Row& row) {
  TimestampBatch b;
  TROAD_ASSIGN_OR_RETURN(b.id, row.Int(0));
  TROAD_ASSIGN_OR_RETURN(b.first_seq, row.Int(1));
  TROAD_ASSIGN_OR_RETURN(b.last_seq, row.Int(2));
  TROAD_ASSIGN_OR_RETURN(b.size, row.Int(3));
  TROAD_ASSIGN_OR_RETURN(b.root_hex, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(b.token, row.Bytes(5));
  TROAD_ASSIGN_OR_RETURN(b.tsa_certificate_sha256, row.Text(6));
  TROAD_ASSIGN_OR_RETURN(b.tsa_url, row.Text(7));
  TROAD_ASSIGN_OR_RETURN(b.gen_time_ms, row.Int(8));
  TROAD_ASSIGN_OR_RETURN(b.created_ms, row.Int(9));
  TROAD_ASSIGN_OR_RETURN(b.leaves, row.Bytes(10));
  return b;
}

Result<std::vector<TransferRecord>> RecordsOf(std::vector<store::Row> rows) {
  std::vector<TransferRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(auto r, FromRow(row));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<TimestampBatch>> BatchesOf(std::vector<store::Row> rows) {
  std::vector<TimestampBatch> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(auto b, BatchFromRow(row));
    out.push_back(std::move(b));
  }
  return out;
}

constexpr std::string_view kSelectArchiveHead =
    "SELECT file, sha256, last_seq, files, records, updated_ms FROM archive_state WHERE id = 1";

Result<std::optional<ArchiveHead>> ReadArchiveHead(store::Database& db) {
  TROAD_ASSIGN_OR_RETURN(auto rows, db.Query(kSelectArchiveHead));
  if (rows.empty()) return std::optional<ArchiveHead>();
  ArchiveHead h;
  TROAD_ASSIGN_OR_RETURN(h.file, rows[0].Text(0));
  TROAD_ASSIGN_OR_RETURN(h.sha256_hex, rows[0].Text(1));
  TROAD_ASSIGN_OR_RETURN(h.last_seq, rows[0].Int(2));
  TROAD_ASSIGN_OR_RETURN(h.files, rows[0].Int(3));
  TROAD_ASSIGN_OR_RETURN(h.records, rows[0].Int(4));
  TROAD_ASSIGN_OR_RETURN(h.updated_ms, rows[0].Int(5));
  return std::optional<ArchiveHead>(std::move(h));
}

Result<int64_t> MaxSeq(store::Database& db) {
  TROAD_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT COALESCE(MAX(seq), 0) FROM transfer_record"));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "MAX(seq) returned no row");
  return rows[0].Int(0);
}

// SQLite numbers a new row one above the highest left (INTEGER PRIMARY KEY without
// AUTOINCREMENT). The archiver never removes the newest record, so the highest row
// is always above every archived seq; if it is not, the log was edited or an old copy
// restored, and writing would reuse archived seqs.
Status CheckSeqFloor(store::Database& db, const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto head, ReadArchiveHead(db));
  if (!head) return Ok();
  TROAD_ASSIGN_OR_RETURN(int64_t max_seq, MaxSeq(db));
  if (max_seq <= head->last_seq) {
    return Fail(ErrorCode::kDataLoss,
                "{}: its newest record is seq {}, but records up to {} were archived (to {}): "
                "rows were removed or an old copy was restored, and new records would reuse "
                "archived numbers",
                path, max_seq, head->last_seq, head->file);
  }
  return Ok();
}

// RemoveArchived's checks, inside the writer's transaction, before anything changes.
Status CheckRemovable(store::Database& db, const std::optional<ArchiveHead>& previous,
                      const ArchiveHead& head, int64_t first_seq) {
  TROAD_ASSIGN_OR_RETURN(auto stored, ReadArchiveHead(db));
  if (stored.has_value() != previous.has_value() ||
      (stored && (stored->file != previous->file || stored->last_seq != previous->last_seq))) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the archive head changed meanwhile (now {}): another archiver runs on this log",
                stored ? stored->file : "none");
  }
  const int64_t expected_first = previous ? previous->last_seq + 1 : first_seq;
  if (first_seq != expected_first || head.last_seq < first_seq) {
    return Fail(ErrorCode::kFailedPrecondition,
                "records {}..{} do not follow the archived records (up to {})", first_seq,
                head.last_seq, previous ? previous->last_seq : 0);
  }
  TROAD_ASSIGN_OR_RETURN(int64_t max_seq, MaxSeq(db));
  if (max_seq <= head.last_seq) {
    return Fail(ErrorCode::kFailedPrecondition,
                "record {} is the newest in the log: it stays, so that its seq is never handed "
                "out again",
                max_seq);
  }
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db.Query("SELECT COUNT(*), COALESCE(MIN(first_seq), 0), COALESCE(MAX(last_seq), 0), "
               "COALESCE(SUM(size), 0) FROM timestamp_batch WHERE last_seq >= ? AND first_seq <= ?",
               {first_seq, head.last_seq}));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  TROAD_ASSIGN_OR_RETURN(int64_t batches, rows[0].Int(0));
  TROAD_ASSIGN_OR_RETURN(int64_t min_first, rows[0].Int(1));
  TROAD_ASSIGN_OR_RETURN(int64_t max_last, rows[0].Int(2));
  TROAD_ASSIGN_OR_RETURN(int64_t sizes, rows[0].Int(3));
  const int64_t count = head.last_seq - first_seq + 1;
  if (batches == 0 || min_first != first_seq || max_last != head.last_seq || sizes != count) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the timestamp batches of records {}..{} do not cover exactly that range",
                first_seq, head.last_seq);
  }
  TROAD_ASSIGN_OR_RETURN(
      auto present, db.Query("SELECT COUNT(*) FROM transfer_record WHERE seq >= ? AND seq <= ?",
                             {first_seq, head.last_seq}));
  if (present.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  TROAD_ASSIGN_OR_RETURN(int64_t n, present[0].Int(0));
  if (n != count) {
    return Fail(ErrorCode::kFailedPrecondition, "records {}..{}: {} of {} are in the log",
                first_seq, head.last_seq, n, count);
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<MessageLog>> MessageLog::Open(const std::string& path, bool sync_full,
                                                     const Clock& clock,
                                                     std::chrono::microseconds commit_delay) {
  store::SqliteOptions options;
  options.synchronous_full = sync_full;
  // Exchanges wait for this writer's commits: WAL checkpoints run beside it.
  options.background_checkpoint = true;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(path, options));
  TROAD_RETURN_IF_ERROR(store::Migrate(*db, kMigrations, clock));
  TROAD_RETURN_IF_ERROR(CheckSeqFloor(*db, path));
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
        [record = std::move(record)](store::Database& db) mutable -> Status {
          TROAD_ASSIGN_OR_RETURN(auto next, db.Query(kNextSeq));
          if (next.empty()) return Fail(ErrorCode::kDataLoss, "MAX(seq) returned no row");
          TROAD_ASSIGN_OR_RETURN(record.seq, next[0].Int(0));
          const ledger::Hash leaf = RecordLeaf(record);
          auto changed = db.Execute(
              kInsert,
              {record.seq, record.side, record.message_id, record.request_id, record.client,
               record.service, record.user_id, record.issue, record.peer, record.request_time_ms,
               record.response_time_ms, record.request_hash, record.response_hash,
               int64_t{record.status}, record.request_bytes, record.response_bytes,
               record.request_signature, record.response_signature, record.fault,
               record.fault_message, store::Blob{std::string(crypto::DigestView(leaf))}});
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
      auto rows, db->Query(fmt::format("{} WHERE {} = ? ORDER BY seq", kSelect, column), {value}));
  return RecordsOf(std::move(rows));
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

std::string RecordEntry(const TransferRecord& r) {
  std::string out = "troad-record/1\n";
  out.reserve(512 + r.request_signature.size() + r.response_signature.size());
  JsonWriter w(out);
  w.BeginObject()
      .Member("seq", r.seq)
      .Member("side", r.side)
      .Member("message_id", r.message_id)
      .Member("request_id", r.request_id)
      .Member("client", r.client)
      .Member("service", r.service)
      .Member("user_id", r.user_id)
      .Member("issue", r.issue)
      .Member("peer", r.peer)
      .Member("request_time_ms", r.request_time_ms)
      .Member("response_time_ms", r.response_time_ms)
      .Member("request_hash", r.request_hash)
      .Member("response_hash", r.response_hash)
      .Member("status", r.status)
      .Member("request_bytes", r.request_bytes)
      .Member("response_bytes", r.response_bytes)
      .Member("request_signature", r.request_signature)
      .Member("response_signature", r.response_signature)
      .Member("fault", r.fault)
      .Member("fault_message", r.fault_message)
      .EndObject();
  return out;
}

ledger::Hash RecordLeaf(const TransferRecord& record) {
  return ledger::LeafHash(RecordEntry(record));
}

RecordDigest DigestOf(const TransferRecord& r) {
  return RecordDigest{r.seq,          r.side,          r.message_id,      r.request_id,
                      r.client,       r.service,       r.status,          r.fault,
                      r.request_time_ms, r.response_time_ms, r.request_hash, r.response_hash,
                      RecordLeaf(r)};
}

Status MessageLog::WriteBatch(const TimestampBatch& b) {
  std::promise<Status> promise;
  auto done = promise.get_future();
  writer_->Submit(
      [&b](store::Database& db) -> Status {
        auto changed = db.Execute(
            "INSERT INTO timestamp_batch (first_seq, last_seq, size, root_hex, leaves, token, "
            "tsa_certificate_sha256, tsa_url, gen_time_ms, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {b.first_seq, b.last_seq, b.size, b.root_hex, store::Blob{b.leaves},
             store::Blob{b.token}, b.tsa_certificate_sha256, b.tsa_url, b.gen_time_ms,
             b.created_ms});
        if (!changed) return tl::unexpected(changed.error());
        return Ok();
      },
      [&promise](Status st) { promise.set_value(std::move(st)); });
  return done.get();
}

Status MessageLog::Write(std::function<Status(store::Database&)> write) {
  std::promise<Status> promise;
  auto done = promise.get_future();
  writer_->Submit(std::move(write), [&promise](Status st) { promise.set_value(std::move(st)); });
  return done.get();
}

Status MessageLog::RemoveArchived(const std::optional<ArchiveHead>& previous,
                                  const ArchiveHead& head, int64_t first_seq) {
  return Write([&](store::Database& db) -> Status {
    TROAD_RETURN_IF_ERROR(CheckRemovable(db, previous, head, first_seq));
    TROAD_RETURN_IF_ERROR(db.Execute("DELETE FROM transfer_record WHERE seq >= ? AND seq <= ?",
                                     {first_seq, head.last_seq}));
    TROAD_RETURN_IF_ERROR(
        db.Execute("DELETE FROM timestamp_batch WHERE last_seq >= ? AND last_seq <= ?",
                   {first_seq, head.last_seq}));
    TROAD_RETURN_IF_ERROR(db.Execute("DELETE FROM archive_state"));
    TROAD_RETURN_IF_ERROR(db.Execute(
        "INSERT INTO archive_state (id, file, sha256, last_seq, files, records, updated_ms) "
        "VALUES (1, ?, ?, ?, ?, ?, ?)",
        {head.file, head.sha256_hex, head.last_seq, head.files, head.records, head.updated_ms}));
    return Ok();
  });
}

Result<std::unique_ptr<MessageLogReader>> MessageLogReader::Open(const std::string& path) {
  store::SqliteOptions options;
  options.read_only = true;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(path, options));
  return std::unique_ptr<MessageLogReader>(new MessageLogReader(std::move(db)));
}

Result<std::vector<TransferRecord>> MessageLogReader::RecordsAfter(int64_t after, int64_t limit) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("{} WHERE seq > ? ORDER BY seq LIMIT ?", kSelect), {after, limit}));
  return RecordsOf(std::move(rows));
}

namespace {

// The stored leaf in column `i` of `row`; nullopt when NULL (a record written before
// migration 6). kDataLoss when it is not 32 bytes.
Result<std::optional<ledger::Hash>> StoredLeaf(const store::Row& row, size_t i, int64_t seq) {
  if (row.IsNull(i)) return std::optional<ledger::Hash>();
  TROAD_ASSIGN_OR_RETURN(std::string bytes, row.Bytes(i));
  ledger::Hash leaf;
  if (bytes.size() != leaf.size()) {
    return Fail(ErrorCode::kDataLoss, "record {}: its leaf is {} bytes, not {}", seq, bytes.size(),
                leaf.size());
  }
  std::memcpy(leaf.data(), bytes.data(), leaf.size());
  return std::optional<ledger::Hash>(leaf);
}

}  // namespace

Result<TransferRecord> MessageLogReader::RecordAt(int64_t seq) {
  TROAD_ASSIGN_OR_RETURN(auto records, RecordRange(seq, seq));
  if (records.size() != 1) {
    return Fail(ErrorCode::kDataLoss, "record {} vanished while it was read", seq);
  }
  return std::move(records[0]);
}

Result<ledger::Hash> MessageLogReader::LeafIn(const store::Row& row, size_t i, int64_t seq) {
  TROAD_ASSIGN_OR_RETURN(auto leaf, StoredLeaf(row, i, seq));
  if (leaf) return *leaf;
  TROAD_ASSIGN_OR_RETURN(TransferRecord record, RecordAt(seq));
  return RecordLeaf(record);
}

Result<std::vector<SeqLeaf>> MessageLogReader::LeavesAfter(int64_t after, int64_t limit) {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_->Query("SELECT seq, leaf FROM transfer_record WHERE seq > ? "
                                    "ORDER BY seq LIMIT ?",
                                    {after, limit}));
  std::vector<SeqLeaf> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    SeqLeaf s;
    TROAD_ASSIGN_OR_RETURN(s.seq, row.Int(0));
    TROAD_ASSIGN_OR_RETURN(s.leaf, LeafIn(row, 1, s.seq));
    out.push_back(s);
  }
  return out;
}

Result<std::vector<RecordDigest>> MessageLogReader::DigestsAfter(int64_t after, int64_t limit) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT seq, side, message_id, request_id, client, service, status, fault, "
                 "request_time_ms, response_time_ms, request_hash, response_hash, leaf "
                 "FROM transfer_record WHERE seq > ? ORDER BY seq LIMIT ?",
                 {after, limit}));
  std::vector<RecordDigest> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    RecordDigest d;
    TROAD_ASSIGN_OR_RETURN(d.seq, row.Int(0));
    TROAD_ASSIGN_OR_RETURN(d.leaf, LeafIn(row, 12, d.seq));
    std::string* texts[] = {&d.side, &d.message_id, &d.request_id, &d.client, &d.service};
    for (size_t i = 0; i < 5; ++i) {
      TROAD_ASSIGN_OR_RETURN(*texts[i], row.Text(i + 1));
    }
    TROAD_ASSIGN_OR_RETURN(int64_t status, row.Int(6));
    d.status = static_cast<int>(status);
    TROAD_ASSIGN_OR_RETURN(d.fault, row.Text(7));
    TROAD_ASSIGN_OR_RETURN(d.request_time_ms, row.Int(8));
    TROAD_ASSIGN_OR_RETURN(d.response_time_ms, row.Int(9));
    TROAD_ASSIGN_OR_RETURN(d.request_hash, row.Text(10));
    TROAD_ASSIGN_OR_RETURN(d.response_hash, row.Text(11));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<TransferRecord>> MessageLogReader::RecordRange(int64_t first, int64_t last) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_->Query(fmt::format("{} WHERE seq >= ? AND seq <= ? ORDER BY seq", kSelect),
                            {first, last}));
  return RecordsOf(std::move(rows));
}

Result<std::optional<TimestampBatch>> MessageLogReader::LastBatch() {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_->Query(fmt::format("{} ORDER BY last_seq DESC LIMIT 1", kSelectBatch)));
  if (rows.empty()) return std::optional<TimestampBatch>();
  TROAD_ASSIGN_OR_RETURN(auto b, BatchFromRow(rows[0]));
  return std::optional<TimestampBatch>(std::move(b));
}

Result<std::vector<TimestampBatch>> MessageLogReader::BatchesAfter(int64_t after, int64_t limit) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("{} WHERE id > ? ORDER BY id LIMIT ?", kSelectBatch), {after, limit}));
  return BatchesOf(std::move(rows));
}

Result<std::optional<TimestampBatch>> MessageLogReader::BatchOf(int64_t seq) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("{} WHERE last_seq >= ? AND first_seq <= ? ORDER BY last_seq LIMIT 1",
                             kSelectBatch),
                 {seq, seq}));
  if (rows.empty()) return std::optional<TimestampBatch>();
  TROAD_ASSIGN_OR_RETURN(auto b, BatchFromRow(rows[0]));
  return std::optional<TimestampBatch>(std::move(b));
}

Result<MessageLogReader::RecordCounts> MessageLogReader::Counts() {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_->Query("SELECT COUNT(*), COALESCE(MIN(seq), 0) FROM transfer_record"));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  RecordCounts c;
  TROAD_ASSIGN_OR_RETURN(c.records, rows[0].Int(0));
  TROAD_ASSIGN_OR_RETURN(c.first_seq, rows[0].Int(1));
  return c;
}

Result<std::pair<int64_t, int64_t>> MessageLogReader::Unbatched() {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query("SELECT COUNT(*), MIN(request_time_ms) FROM transfer_record WHERE seq > "
                 "(SELECT COALESCE(MAX(last_seq), 0) FROM timestamp_batch)"));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  TROAD_ASSIGN_OR_RETURN(int64_t n, rows[0].Int(0));
  int64_t oldest = 0;
  if (!rows[0].IsNull(1)) {
    TROAD_ASSIGN_OR_RETURN(oldest, rows[0].Int(1));
  }
  return std::make_pair(n, oldest);
}

Result<std::vector<TimestampBatch>> MessageLogReader::BatchesFrom(int64_t seq, int64_t limit) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_->Query(fmt::format("{} WHERE last_seq >= ? ORDER BY last_seq LIMIT ?", kSelectBatch),
                 {seq, limit}));
  return BatchesOf(std::move(rows));
}

Result<int64_t> MessageLogReader::LastSeq() { return MaxSeq(*db_); }

Result<std::optional<int64_t>> MessageLogReader::ShippedSeq() {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_->Query("SELECT shipped_seq FROM ledger_state WHERE id = 1"));
  if (rows.empty()) return std::optional<int64_t>();
  TROAD_ASSIGN_OR_RETURN(int64_t seq, rows[0].Int(0));
  return std::optional<int64_t>(seq);
}

Status MessageLogReader::BeginSnapshot() {
  TROAD_RETURN_IF_ERROR(db_->Execute("BEGIN"));
  return Ok();
}

Result<std::optional<ArchiveHead>> MessageLogReader::LastArchive() {
  // A read-only reader does not migrate: a log last opened by an older gateway has
  // no archive_state table, and so nothing archived.
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_->Query("SELECT COUNT(*) FROM schema_migrations WHERE version = 5"));
  if (rows.empty()) return Fail(ErrorCode::kDataLoss, "COUNT(*) returned no row");
  TROAD_ASSIGN_OR_RETURN(int64_t migrated, rows[0].Int(0));
  if (migrated == 0) return std::optional<ArchiveHead>();
  return ReadArchiveHead(*db_);
}

}  // namespace troad::gateway
