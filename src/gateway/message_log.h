// The gateway's message log: one transfer record per exchange (or refusal), written
// durably before the caller is answered. Many requests share one transaction and one
// fsync (store::GroupCommitter), which is how durability stays fast. Bodies are never
// stored: a record holds hashes, sizes, signatures and the outcome. The table layout
// is specified in docs/protocol.md §7 and mirrored by kMigrations in message_log.cpp.
//
// Thread-safety: Append may be awaited from any coroutine concurrently; Find* open
// their own read connection and may be called from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ledger/merkle.h"
#include "store/database.h"
#include "store/group_commit.h"

namespace troad::gateway {

struct TransferRecord {
  int64_t seq = 0;   // position in this gateway's log (set when read back; 0 before)
  std::string side;  // "consumer" or "provider"
  std::string message_id;
  std::string request_id;
  std::string client;
  std::string service;
  std::string user_id;
  std::string issue;
  std::string peer;              // the other gateway's id, or the local caller's address
  int64_t request_time_ms = 0;   // when the request arrived here
  int64_t response_time_ms = 0;  // when the answer was ready here
  std::string request_hash;      // X-Road-Request-Hash (base64); empty if never computed
  std::string response_hash;     // base64 SHA-512 of the response header part and body
  int status = 0;                // HTTP status answered to the caller
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
  std::string request_signature;   // signature part (JSON) of the request, if any
  std::string response_signature;  // signature part (JSON) of the response, if any
  std::string fault;               // X-Road fault type of a refusal/error; empty if served
  std::string fault_message;
};

// The bytes a record contributes to its timestamp batch (the Merkle leaf is
// ledger::LeafHash of them): "troad-record/1\n" followed by the record as one JSON
// object, keys in the order of docs/protocol.md §11, seq included so that a record
// cannot be moved. Any change to a stored column changes these bytes.
std::string RecordEntry(const TransferRecord& record);

// A record's Merkle leaf, ledger::LeafHash(RecordEntry(record)): what its timestamp
// batch and its ledger entry commit to. The writer computes it once, when the record
// is written (column `leaf`, migration 6); records written before that have none and
// get it computed when read.
ledger::Hash RecordLeaf(const TransferRecord& record);

// What the timestamper needs of a record: its seq and leaf.
struct SeqLeaf {
  int64_t seq = 0;
  ledger::Hash leaf{};
};

// What the ledger shipper needs of a record (docs/protocol.md §12.1): the fields a
// ledger entry carries in the clear, and the leaf that commits to the rest.
struct RecordDigest {
  int64_t seq = 0;
  std::string side;
  std::string message_id;
  std::string request_id;
  std::string client;
  std::string service;
  int status = 0;
  std::string fault;
  int64_t request_time_ms = 0;
  int64_t response_time_ms = 0;
  std::string request_hash;
  std::string response_hash;
  ledger::Hash leaf{};
};
RecordDigest DigestOf(const TransferRecord& record);  // leaf computed from the record

// One timestamped batch: the records seq first_seq..last_seq (all of them, in seq
// order, `size` records) are the leaves of a Merkle tree whose root was timestamped.
struct TimestampBatch {
  int64_t id = 0;  // set when written
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  int64_t size = 0;
  std::string root_hex;  // lower-case hex of the Merkle root
  // The leaf hashes, 32 bytes each in seq order: they lead to the root, so a changed
  // record is named by the leaf it no longer matches.
  std::string leaves;
  std::string token;                   // DER RFC 3161 TimeStampToken
  std::string tsa_certificate_sha256;  // the authority's certificate
  std::string tsa_url;                 // where it came from
  int64_t gen_time_ms = 0;             // the token's genTime
  int64_t created_ms = 0;              // when this gateway stored it
};

// The head of the archive chain (docs/protocol.md §11.1; table archive_state): the
// last archive file written and what the whole chain holds. Records seq <= last_seq
// are no longer in the live log, and no new record is ever numbered that low.
struct ArchiveHead {
  std::string file;        // name of the last archive file (inside the archive directory)
  std::string sha256_hex;  // lower-case hex SHA-256 of that file's bytes
  int64_t last_seq = 0;    // the highest seq archived
  int64_t files = 0;       // archive files in the chain
  int64_t records = 0;     // records in them
  int64_t updated_ms = 0;  // when the head last moved
};

// A read-only view of a message log for the timestamper and the verify command;
// opens its own connection, so it works beside the running gateway.
// Thread-safety: one thread at a time.
class MessageLogReader {
 public:
  static Result<std::unique_ptr<MessageLogReader>> Open(const std::string& path);
  // Up to `limit` records with seq > `after`, in seq order.
  Result<std::vector<TransferRecord>> RecordsAfter(int64_t after, int64_t limit);
  // The seq and leaf of up to `limit` records with seq > `after`, in seq order (reads
  // the stored leaf; computes it for a record written without one).
  Result<std::vector<SeqLeaf>> LeavesAfter(int64_t after, int64_t limit);
  // The same records as ledger digests.
  Result<std::vector<RecordDigest>> DigestsAfter(int64_t after, int64_t limit);
  // The records first..last (inclusive), in seq order.
  Result<std::vector<TransferRecord>> RecordRange(int64_t first, int64_t last);
  // The batch with the highest last_seq, if any.
  Result<std::optional<TimestampBatch>> LastBatch();
  // Up to `limit` batches with id > `after`, in id order.
  Result<std::vector<TimestampBatch>> BatchesAfter(int64_t after, int64_t limit);
  // The batch holding record `seq`, if any.
  Result<std::optional<TimestampBatch>> BatchOf(int64_t seq);
  struct RecordCounts {
    int64_t records = 0;    // rows in the log
    int64_t first_seq = 0;  // the lowest seq (0: empty)
  };
  Result<RecordCounts> Counts();
  // Records with no batch yet: how many, and the request time of the oldest.
  Result<std::pair<int64_t, int64_t>> Unbatched();
  // Up to `limit` batches with last_seq >= `seq`, in seq order (the archiver's walk).
  Result<std::vector<TimestampBatch>> BatchesFrom(int64_t seq, int64_t limit);
  // The highest seq in the log; 0 when it holds no record.
  Result<int64_t> LastSeq();
  // ledger_state.shipped_seq: the highest seq the ledger shipper has shipped; nullopt
  // when it has shipped nothing.
  Result<std::optional<int64_t>> ShippedSeq();
  // The archive chain's head; nullopt when nothing was archived (or the log predates
  // migration 5, which a read-only reader does not apply).
  Result<std::optional<ArchiveHead>> LastArchive();
  // Makes every read that follows see one state of the log (a read transaction, until
  // the reader is destroyed), for a check of the whole log beside a running gateway
  // that writes, stamps and archives meanwhile. While it lasts, SQLite cannot
  // checkpoint the WAL past it.
  Status BeginSnapshot();

 private:
  explicit MessageLogReader(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}
  Result<TransferRecord> RecordAt(int64_t seq);  // kDataLoss if it is not there
  // The leaf in column `i` of `row` (record `seq`), computed from the whole record when
  // the column is NULL (written before migration 6); kDataLoss when it is damaged.
  Result<ledger::Hash> LeafIn(const store::Row& row, size_t i, int64_t seq);
  std::unique_ptr<store::Database> db_;
};

// The records of the message log at `path` whose `column` ("message_id", "request_id"
// or "fault"; anything else is kInvalidArgument) equals `value`, oldest first. Opens
// the file read-only, so it works beside the running gateway (operators, tests).
Result<std::vector<TransferRecord>> ReadTransferRecords(const std::string& path,
                                                        std::string_view column,
                                                        const std::string& value);

class MessageLog {
 public:
  // Opens (creating and migrating) the SQLite log at `path`. `commit_delay`: how long
  // a busy writer waits for more records to join a commit (store::GroupCommitter's
  // linger). kDataLoss when the newest record is older than the last one archived
  // (rows were removed by hand, or an old copy was restored): new records would
  // reuse archived seqs.
  static Result<std::unique_ptr<MessageLog>> Open(
      const std::string& path, bool sync_full, const Clock& clock,
      std::chrono::microseconds commit_delay = std::chrono::microseconds{1000});
  ~MessageLog();

  // Completes once `record` is durable (or could not be written: kIo).
  boost::asio::awaitable<Status> Append(TransferRecord record);

  // Read side (operators, tests), oldest first. By request id through an index; by
  // message id (chosen by callers, not indexed: see the schema) by a scan.
  Result<std::vector<TransferRecord>> FindByRequestId(const std::string& request_id) const;
  Result<std::vector<TransferRecord>> FindByMessageId(const std::string& message_id) const;
  Result<int64_t> Count() const;
  // Stores a timestamped batch (durably, through the same writer as the records);
  // blocks the calling thread until it is committed. Not for the exchange path.
  Status WriteBatch(const TimestampBatch& batch);
  // Removes records first_seq..head.last_seq and their batches, and makes `head` the
  // archive chain's head, in one transaction through the same writer as the records;
  // blocks until committed. Call only once the archive file holding them is durable
  // (gateway/archive.h). kFailedPrecondition, removing nothing, unless: the head
  // stored is still `previous` (nullopt: none), the batches of that range begin at
  // first_seq and end at head.last_seq, every record of the range is present, and a
  // record with a higher seq exists (so that SQLite, which numbers a new row after
  // the highest one left, never hands out an archived seq again).
  Status RemoveArchived(const std::optional<ArchiveHead>& previous, const ArchiveHead& head,
                        int64_t first_seq);
  // Runs `write` in one transaction of the log's writer (after the records queued
  // before it) and blocks the calling thread until it is committed; an error from
  // `write` rolls it back. For background work (the ledger shipper), not the exchange
  // path.
  Status Write(std::function<Status(store::Database&)> write);
  const std::string& path() const { return path_; }
  // Transactions committed so far (each one fsync); records per commit is the
  // group-commit batch size.
  uint64_t commits() const { return writer_->batches_committed(); }
  void Stop();

 private:
  MessageLog(std::string path, std::unique_ptr<store::GroupCommitter> writer)
      : path_(std::move(path)), writer_(std::move(writer)) {}
  std::string path_;
  std::unique_ptr<store::GroupCommitter> writer_;
};

}  // namespace troad::gateway
