// The central's transparency ledger over HTTP (docs/protocol.md §12.3, §12.4): gateways
// add the digests of their transfer records (ledger/entry.h) with a signed POST
// /ledger/v1/add-entries; anyone reads signed checkpoints, inclusion and consistency
// proofs, entries, and the entries of one exchange. No sockets here: the central routes
// requests under kLedgerApiPrefix to Handle.
//
// Storage: its own SQLite database (WAL, synchronous=FULL: an answered add survives a
// crash and a power loss), the RFC 9162 log of ledger/log.h plus two tables of the
// service's own (extra migration 1000), written in the same transaction as the entries:
//
//   ledger_gateway_seq (gateway TEXT, seq INTEGER, idx INTEGER, PRIMARY KEY (gateway, seq))
//       which index holds each gateway's seq: a resent entry is answered with the index
//       it has, and a different entry at a held seq is refused
//   ledger_request (request_id TEXT, idx INTEGER, PRIMARY KEY (request_id, idx))
//       GET /ledger/v1/exchange: both sides' entries of an exchange by its request id
//
// Checkpoints are signed with the ledger key (ECDSA P-256) at most once per log size;
// the latest is kept in memory.
//
// Threads: Serve runs every request on the service's own worker thread, one at a
// time, at background priority (core/thread.h): an add is a burst of parsing, hashing
// and an fsync that gateways wait for in their shippers, never in an exchange, so on a
// shared host it yields to whatever answers exchanges, the timestamping authority and
// the configuration downloads included. Handle may instead be called directly, from
// one thread at a time (tests). public_key, origin, size and the counters may be read
// from any thread.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"
#include "globalconf/model.h"
#include "http/types.h"
#include "ledger/log.h"

namespace troad::central {

struct LedgerOptions {
  std::string key_file;  // [ledger] key; empty = no ledger
  std::string origin;    // [ledger] origin: the checkpoints' first line
};

class LedgerService {
 public:
  // The currently published global configuration; null before the first publication.
  using ConfSource = std::function<std::shared_ptr<const globalconf::GlobalConf>()>;

  // Opens (creating) the ledger database at `db_path` and loads the key. Errors:
  // kInvalidArgument when the key file is not set, the key is not ECDSA P-256, or the
  // origin is not a checkpoint origin (ledger/checkpoint.h); the key's and the
  // database's errors are passed on.
  static Result<std::unique_ptr<LedgerService>> Create(const LedgerOptions& options,
                                                       const std::string& db_path,
                                                       const Clock& clock, ConfSource conf);

  LedgerService(const LedgerService&) = delete;
  LedgerService& operator=(const LedgerService&) = delete;

  // Answers every route under /ledger/v1 (§12.3); 404 for other targets. Errors are
  // {"error":"<what was wrong>"} with 400 (a malformed request, named), 401 (the
  // signature), 403 (the certificate or gateway), 404, 405, 409 (a changed entry at a
  // held seq; known_size beyond the log), 413, 415, 503 (no global configuration
  // published yet) or 500 (the database).
  http::Response Handle(const http::Request& req);

  // Handle, on the service's worker thread; the caller's coroutine resumes on its own
  // executor with the answer. `req` must live until then.
  http::asio::awaitable<http::Response> Serve(const http::Request& req);

  crypto::PublicKey public_key() const { return key_.Public(); }
  const std::string& origin() const { return origin_; }
  // Entries in the log.
  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  // Entries appended by add-entries (not counting resent ones) since start.
  uint64_t entries_added() const { return entries_added_.load(std::memory_order_relaxed); }
  // add-entries requests answered, and those refused (any 4xx or 5xx).
  uint64_t add_requests() const { return add_requests_.load(std::memory_order_relaxed); }
  uint64_t add_refusals() const { return add_refusals_.load(std::memory_order_relaxed); }

 private:
  LedgerService(std::unique_ptr<ledger::Log> log, crypto::PrivateKey key, std::string origin,
                const Clock& clock, ConfSource conf);

  struct Call;
  http::Response Route(Call& call);
  http::Response AddEntries(Call& call);
  http::Response GetCheckpoint(Call& call);
  http::Response GetProof(Call& call);
  http::Response GetProofByHash(Call& call);
  http::Response GetConsistency(Call& call);
  http::Response GetEntries(Call& call);
  http::Response GetExchange(Call& call);

  // The signed note of the log's current size: signed once per size, then from memory.
  Result<std::string> LatestCheckpoint();

  std::unique_ptr<ledger::Log> log_;
  const crypto::PrivateKey key_;
  const std::string origin_;
  const Clock& clock_;
  const ConfSource conf_;
  // The latest signed checkpoint and the size it is of (Handle's thread only).
  std::optional<std::string> checkpoint_;
  uint64_t checkpoint_size_ = 0;
  int64_t checkpoint_time_ms_ = 0;

  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> entries_added_{0};
  std::atomic<uint64_t> add_requests_{0};
  std::atomic<uint64_t> add_refusals_{0};
  // Serve's thread. Declared last: stopped and joined before anything it uses goes.
  http::asio::thread_pool worker_{1};
};

}  // namespace troad::central
