// The gateway's timestamper: puts the message log's records into batches and has
// each batch's Merkle root timestamped by an RFC 3161 authority (docs/protocol.md §11).
//
// It runs on a thread of its own and reads the log through its own read-only
// connection, so the exchange path never waits for it. A batch closes when
// `max_batch` records are waiting or `interval` has passed; each record can later
// show its inclusion path to a timestamped root (`troad verify-log`).
//
// When no authority has answered for longer than `acceptable_failure` (X-Road's
// acceptable-timestamp-failure-period), Failing() turns true and the gateway refuses
// exchanges with Server.*Proxy.TimestampingFailed until an authority answers again;
// then the backlog is caught up, oldest first, in batches of `max_batch`.
//
// Thread-safety: Start/Stop from one thread; Failing, Kick and the counters from any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/x509.h"
#include "gateway/background_thread.h"
#include "gateway/config.h"
#include "gateway/message_log.h"
#include "http/tls.h"
#include "ledger/merkle.h"

namespace troad::gateway {

class Timestamper {
 public:
  // The certificates of the authorities whose tokens are accepted (the global
  // configuration's trusted_timestamping_certificates), asked before every batch.
  using TrustedCertificates = std::function<std::vector<crypto::Certificate>()>;

  // `tls`: the context for https:// authorities (may be null when all are http://).
  static Result<std::unique_ptr<Timestamper>> Create(MessageLog& log, TimestamperOptions options,
                                                     TrustedCertificates trusted,
                                                     std::shared_ptr<http::SslContext> tls,
                                                     const Clock& clock);
  ~Timestamper();

  void Start();
  // Finishes the batch in progress (one more attempt to stamp what is waiting is not
  // made), then stops the thread.
  void Stop();
  // Closes a batch now (tests, and a gateway that is about to stop).
  void Kick();

  // Whether exchanges must be refused now (see the file comment). Cheap.
  bool Failing() const;
  // The error exchanges are refused with while Failing().
  Error FailingError() const;

  uint64_t batches() const { return batches_.load(); }
  uint64_t records_stamped() const { return records_.load(); }
  uint64_t failures() const { return failures_.load(); }
  // Unix ms of the last batch stamped; 0 before the first.
  int64_t last_success_ms() const { return last_success_ms_.load(); }

 private:
  Timestamper(MessageLog& log, TimestamperOptions options, TrustedCertificates trusted,
              std::shared_ptr<http::SslContext> tls, const Clock& clock);
  // Stamps everything waiting, batch by batch; false when an authority failed.
  bool CatchUp();
  // A verified token for `root` from the first authority that gives one.
  Result<TimestampBatch> Stamp(const ledger::Hash& root);
  Result<std::string> Ask(const std::string& url, const std::string& request_der);

  MessageLog& log_;
  TimestamperOptions options_;
  TrustedCertificates trusted_;
  std::shared_ptr<http::SslContext> tls_;
  const Clock& clock_;
  std::unique_ptr<MessageLogReader> reader_;
  int64_t last_seq_ = 0;  // the timestamper thread's own

  std::chrono::milliseconds backoff_{0};  // the timestamper thread's own
  BackgroundThread thread_{"timestamper"};

  std::atomic<int64_t> failing_since_ms_{0};  // first failure of the current streak
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<int64_t> last_success_ms_{0};
};

}  // namespace troad::gateway
