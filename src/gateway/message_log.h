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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/database.h"
#include "store/group_commit.h"

namespace troad::gateway {

struct TransferRecord {
  std::string side;  // "consumer" or "provider"
  std::string message_id;
  std::string request_id;
  std::string client;
  std::string service;
  std::string user_id;
  std::string issue;
  std::string peer;  // the other gateway's id, or the local caller's address
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
  // linger).
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
