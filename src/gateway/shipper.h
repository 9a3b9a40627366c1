// The gateway's ledger shipper: sends a digest of every transfer record to the central
// transparency ledger the global configuration names, and checks what the ledger
// answers (docs/protocol.md §12.4–12.5).
//
// It runs on a thread of its own (nice +10) and reads the message log through its own
// read-only connection: the exchange path never waits for it. The message log is the
// durable queue — the records after ledger_state.shipped_seq are what waits — so a
// ledger that cannot be reached only delays shipping; nothing is lost, and after a
// restart the shipper goes on from the last receipt stored.
//
// Each answer is checked before the records count as shipped: the checkpoint's
// signature (the global configuration's ledger key and origin), its consistency with
// the last checkpoint this gateway accepted, the inclusion of the last entry of the
// request and of one other, picked at random. Only then are the receipts and the new
// accepted head stored, in one transaction. An answer that fails these checks — or a
// ledger that refuses the size this gateway already accepted — raises the alarm
// (alarm(), `troad_gateway_ledger_alarm`, an error in the log, ledger_state.alarm):
// the ledger is not trusted and nothing more is shipped; every retry_max the shipper
// asks for the ledger's newest head and its consistency with the accepted one, and
// clears the alarm only when that proof verifies.
//
// Thread-safety: Start/Stop from one thread; Kick, alarm() and the counters from any.
// ShipOnce only while the thread is not started (tests).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "crypto/key.h"
#include "gateway/background_thread.h"
#include "gateway/config.h"
#include "gateway/ledger_client.h"
#include "gateway/message_log.h"
#include "globalconf/model.h"
#include "http/tls.h"
#include "ledger/checkpoint.h"

namespace troad::gateway {

// What an add-entries request is signed with: the gateway's authentication key and the
// lower-case hex SHA-256 of its certificate (DER).
struct ShipperIdentity {
  crypto::PrivateKey key;
  std::string certificate_sha256;
};

// A run of records that are consecutive entries of the ledger: records
// first_seq..last_seq (those of them that exist, `count` in all) are entries
// first_index … first_index + count − 1 of the tree of the signed `checkpoint`.
struct LedgerReceipt {
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  uint64_t first_index = 0;
  uint64_t count = 0;
  std::string checkpoint;
};

// What the shipper keeps in messagelog.db (table ledger_state).
struct LedgerShipState {
  int64_t shipped_seq = 0;  // the highest record shipped (0: none)
  std::string checkpoint;   // the last accepted signed checkpoint ("" before the first)
  std::string alarm;        // why the ledger is not trusted; "" when it is
};

// Reads ledger_state and the receipt holding `seq` from the message log at `path`
// (read-only; works beside a running gateway).
Result<LedgerShipState> ReadLedgerShipState(const std::string& path);
Result<std::optional<LedgerReceipt>> ReadLedgerReceipt(const std::string& path, int64_t seq);

// The ledger entry (docs/protocol.md §12.1) of `record` of gateway `gateway`. From a
// whole record the leaf is computed; a digest brings it.
Result<std::string> LedgerEntryOf(const GatewayId& gateway, const TransferRecord& record);
Result<std::string> LedgerEntryOf(const GatewayId& gateway, const RecordDigest& record);

class Shipper {
 public:
  // The ledger the current global configuration names, if any (asked every round).
  using LedgerOf = std::function<std::optional<globalconf::LedgerInfo>()>;
  // The identity to sign with now (it changes when keys are reloaded).
  using IdentityOf = std::function<std::optional<ShipperIdentity>()>;
  // The TLS context for an https:// ledger on `host`; an error when there is none.
  using TlsFor = std::function<Result<std::shared_ptr<http::SslContext>>(const std::string& host)>;

  static Result<std::unique_ptr<Shipper>> Create(MessageLog& log, GatewayId gateway,
                                                 ShipperOptions options, LedgerOf ledger,
                                                 IdentityOf identity, TlsFor tls,
                                                 const Clock& clock);
  ~Shipper();

  void Start();
  // Finishes the request in progress, then stops the thread.
  void Stop();
  // Ships now rather than at the end of the interval.
  void Kick();
  // Ships everything waiting, on the calling thread. kUnavailable: the ledger could not
  // be reached or refused; kUnauthenticated: the alarm is raised (see the file comment).
  Status ShipOnce();

  bool alarm() const { return alarm_.load(); }
  std::string alarm_text() const;
  uint64_t entries_shipped() const { return entries_.load(); }
  uint64_t requests() const { return requests_.load(); }
  uint64_t failures() const { return failures_.load(); }
  int64_t shipped_seq() const { return shipped_seq_.load(); }
  uint64_t accepted_size() const { return accepted_size_.load(); }
  int64_t last_success_ms() const { return last_success_ms_.load(); }

 private:
  Shipper(MessageLog& log, GatewayId gateway, ShipperOptions options, LedgerOf ledger,
          IdentityOf identity, TlsFor tls, const Clock& clock);
  // The client for `ledger`'s URL (made anew when the URL changes).
  Result<LedgerClient*> Client(const globalconf::LedgerInfo& ledger);
  // Rechecks an alarm, then ships what waits, batch by batch.
  Status ShipAll(const globalconf::LedgerInfo& ledger, LedgerClient& client);
  Status Ship(const globalconf::LedgerInfo& ledger, LedgerClient& client,
              const std::vector<RecordDigest>& records);
  // In alarm: is the ledger's newest head consistent with the accepted one again?
  Status Recheck(const globalconf::LedgerInfo& ledger, LedgerClient& client);
  // Stores the alarm (the accepted head stays) and returns it as kUnauthenticated.
  Status RaiseAlarm(const std::string& reason);
  // Stores `state` (and `receipts`) in one transaction, then adopts it.
  Status Store(LedgerShipState state, const std::vector<LedgerReceipt>& receipts);

  MessageLog& log_;
  const GatewayId gateway_;
  const ShipperOptions options_;
  LedgerOf ledger_;
  IdentityOf identity_;
  TlsFor tls_for_;
  const Clock& clock_;
  // The shipper thread's own:
  std::unique_ptr<MessageLogReader> reader_;
  std::unique_ptr<LedgerClient> client_;
  LedgerShipState state_;
  ledger::Checkpoint accepted_;  // the head of state_.checkpoint
  std::chrono::milliseconds backoff_{0};

  mutable std::mutex alarm_mu_;
  std::string alarm_text_;  // guarded by alarm_mu_

  std::atomic<bool> alarm_{false};
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<int64_t> shipped_seq_{0};
  std::atomic<uint64_t> accepted_size_{0};
  std::atomic<int64_t> last_success_ms_{0};
  // Last: joined first (Stop), before anything its rounds use goes away.
  BackgroundThread thread_{"ledger shipper"};
};

}  // namespace troad::gateway
