// `troad gateway`: the consumer proxy (local information systems call it with the
// X-Road REST protocol), the provider proxy (other gateways call it over mutual TLS
// with signed envelopes), and the admin port (health and metrics). One process, one
// event loop per thread (http::IoPool): each connection stays on one loop.
//
// The global configuration comes from a local file (reread when it changes) or, with
// an anchor, from the central (globalconf/fetcher.h): the last good copy is cached in
// data_dir/globalconf, renewed every refresh interval, and without any copy (first
// start, central unreachable) the gateway runs but refuses every exchange with
// OutdatedGlobalConf until one arrives.
//
// Thread-safety: Create/Start/Run/Stop are called by the owning thread; handlers run
// concurrently on the loops' threads and share only thread-safe state (the
// global configuration pointer, signers, verifier, replay guard, message log, pools).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "gateway/archive.h"
#include "gateway/config.h"
#include "gateway/fault.h"
#include "gateway/message_log.h"
#include "gateway/shipper.h"
#include "gateway/timestamper.h"
#include "gateway/replay.h"
#include "gateway/signer.h"
#include "globalconf/fetcher.h"
#include "globalconf/model.h"
#include "http/client.h"
#include "http/io_pool.h"
#include "http/server.h"

namespace troad::gateway {

// Counters exposed on /metrics (Prometheus text format).
struct Metrics {
  std::atomic<uint64_t> consumer_requests{0};
  std::atomic<uint64_t> consumer_faults{0};
  std::atomic<uint64_t> provider_requests{0};
  std::atomic<uint64_t> provider_faults{0};
  std::atomic<uint64_t> records_written{0};
  std::atomic<uint64_t> record_failures{0};
  std::atomic<uint64_t> globalconf_reloads{0};
  std::atomic<uint64_t> globalconf_reload_failures{0};
};

// Where the global configuration comes from and how the last attempts to renew it
// went: /healthz shows it, /metrics counts it.
struct GlobalConfStatus {
  SystemTime last_attempt{};  // epoch: no fetch yet (anchor mode only)
  SystemTime last_success{};  // last fetch that ended updated or unchanged
  std::string last_outcome;   // "updated", "unchanged", "rejected"; "" before the first
  std::string last_reason;    // the last rejection's label and message
  std::string last_message;
  std::map<std::string, uint64_t> fetches;   // by outcome
  std::map<std::string, uint64_t> rejected;  // by reason label (both modes)
};

class Gateway {
 public:
  static Result<std::unique_ptr<Gateway>> Create(GatewayConfig config, const Clock& clock);
  ~Gateway();

  // Binds every listener. After this the ports are known (for port 0).
  Status Start();
  // Runs the event loops, one per thread (config.threads); returns after Stop().
  void Run();
  // Stops listeners gracefully, finishes in-flight exchanges, flushes the log.
  void Stop();

  http::tcp::endpoint consumer_endpoint() const;
  http::tcp::endpoint provider_endpoint() const;
  http::tcp::endpoint admin_endpoint() const;
  const GatewayConfig& config() const { return config_; }
  MessageLog& message_log() { return *log_; }
  Timestamper* timestamper() { return timestamper_.get(); }
  Archiver* archiver() { return archiver_.get(); }
  Shipper* shipper() { return shipper_.get(); }
  // The configuration held; null in anchor mode until a first copy is adopted.
  std::shared_ptr<const globalconf::GlobalConf> CurrentConf() const;
  // Reads the key and certificate files gateway.toml names again (SIGHUP, after `troad
  // gateway renew`) and uses them for new connections and the next signatures; requests
  // in progress finish with the old ones. Refused, keeping the pairs in use, when a pair
  // does not match or the authentication certificate is not listed for this gateway in
  // the configuration held (peers would refuse it). Call after Start, from any thread.
  Status ReloadKeys();

 private:
  Gateway(GatewayConfig config, const Clock& clock);
  Status Init();
  static int ThreadCount(const GatewayConfig& config);

  // The key material gateway.toml names, checked, with the TLS contexts made from it.
  struct KeyMaterial {
    std::map<std::string, std::pair<crypto::PrivateKey, crypto::Certificate>> signing;
    std::optional<crypto::PrivateKey> auth_key;
    std::vector<crypto::Certificate> auth_chain;
    std::shared_ptr<http::SslContext> provider_tls;     // the provider port's
    std::shared_ptr<http::SslContext> peer_client_tls;  // for calling other gateways
  };
  Result<KeyMaterial> LoadKeys() const;

  http::asio::awaitable<http::Response> HandleConsumer(http::Request& req,
                                                       const http::ConnectionInfo& conn);
  http::asio::awaitable<http::Response> HandleProvider(http::Request& req,
                                                       const http::ConnectionInfo& conn);
  http::asio::awaitable<http::Response> HandleAdmin(http::Request& req,
                                                    const http::ConnectionInfo& conn);
  http::asio::awaitable<http::Response> ServeMetaservice(const globalconf::GlobalConf& conf,
                                                         const struct RequestHeader& h,
                                                         const std::string& request_hash,
                                                         const http::Request& req);

  // Answers request `h` with `status`, `headers` and `body`: builds and signs the
  // response header (ids copied from `h`, bound to rec.request_hash), writes the
  // provider's record durably, and builds the envelope response. Refuses (recorded)
  // when signing fails.
  http::asio::awaitable<http::Response> SignAndRecord(TransferRecord& rec, BatchSigner& signer,
                                                      const struct RequestHeader& h,
                                                      unsigned status, HeaderList headers,
                                                      std::string_view body,
                                                      const http::Request& req);
  // Records a refusal durably and builds the fault response for it. `record` is taken
  // by reference (callers co_await at once, so it outlives the call) because callers
  // build the error message from the record's fields in the same full expression.
  http::asio::awaitable<http::Response> Refuse(TransferRecord& record, FaultOrigin origin,
                                               Error error, const http::Request& req);
  http::asio::awaitable<void> WriteRecord(TransferRecord record);
  http::asio::awaitable<void> RefreshLoop();
  // File mode: rereads globalconf_file when it changed.
  Status ReloadGlobalConf();
  // Anchor mode: loads the anchor and the cached copy (if any) at start-up.
  Status InitFromAnchor();
  // Builds timestamper_ from [timestamping] (Init, after the message log is open).
  Status CreateTimestamper();
  // Builds shipper_ from [ledger] (Init, after the message log is open).
  Status CreateShipper();
  // Anchor mode: one fetch from the central; adopts, or keeps the copy held.
  http::asio::awaitable<void> FetchGlobalConf();
  // Makes `conf` the configuration every new request reads.
  void Adopt(std::shared_ptr<const globalconf::GlobalConf> conf);
  // Counts and logs (one warning line) a copy that was not adopted.
  void RecordRejection(std::string_view reason, const std::string& message);
  // How long to wait before the next check for a new copy.
  std::chrono::seconds RefreshInterval(const globalconf::GlobalConf* held) const;
  // The fault for a request that arrives while no configuration is held.
  Error NoGlobalConfError() const;

  const GatewayConfig config_;
  const Clock& clock_;
  http::IoPool pool_;  // one event loop per thread ([gateway] threads)
  std::unique_ptr<MessageLog> log_;
  std::unique_ptr<Timestamper> timestamper_;  // null when [timestamping] lists none
  std::unique_ptr<Archiver> archiver_;        // null when [retention] keeps everything
  std::unique_ptr<Shipper> shipper_;          // null when [ledger] enabled = false
  // What the shipper signs with: set in Init, replaced by ReloadKeys.
  mutable std::mutex identity_mu_;
  std::optional<ShipperIdentity> identity_;  // guarded by identity_mu_
  std::map<std::string, std::unique_ptr<BatchSigner>> signers_;  // by member id
  SignatureVerifier verifier_;
  ReplayGuard replay_{std::chrono::minutes(2)};
  std::unique_ptr<http::Client> peers_;            // gateway-to-gateway, mTLS
  std::unique_ptr<http::Client> backends_;         // provider backends
  std::vector<crypto::Certificate> peer_anchors_;  // set in Init
  std::shared_ptr<http::SslContext> provider_tls_;
  std::shared_ptr<http::SslContext> consumer_tls_;
  std::unique_ptr<http::Server> consumer_server_;
  std::unique_ptr<http::Server> consumer_tls_server_;
  std::unique_ptr<http::Server> provider_server_;
  std::unique_ptr<http::Server> admin_server_;
  std::map<std::string, std::string> openapi_docs_;  // service id → document
  Metrics metrics_;

  std::unique_ptr<globalconf::Fetcher> fetcher_;  // anchor mode only

  mutable std::mutex conf_mu_;
  // Null only in anchor mode, until a first copy is cached or fetched.
  std::shared_ptr<const globalconf::GlobalConf> conf_;  // guarded by conf_mu_
  int64_t conf_file_mtime_ = 0;                         // guarded by conf_mu_

  mutable std::mutex status_mu_;
  GlobalConfStatus status_;  // guarded by status_mu_

  std::atomic<bool> stopping_{false};
};

}  // namespace troad::gateway
