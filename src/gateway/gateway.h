// `troad gateway`: the consumer proxy (local information systems call it with the
// X-Road REST protocol), the provider proxy (other gateways call it over mutual TLS
// with signed envelopes), and the admin port (health and metrics). One process, one
// event loop per thread (http::IoPool): each connection stays on one loop.
//
// Thread-safety: Create/Start/Run/Stop are called by the owning thread; handlers run
// concurrently on the loops' threads and share only thread-safe state (the
// global configuration pointer, signers, verifier, replay guard, message log, pools).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "gateway/config.h"
#include "gateway/fault.h"
#include "gateway/message_log.h"
#include "gateway/replay.h"
#include "gateway/signer.h"
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
  std::shared_ptr<const globalconf::GlobalConf> CurrentConf() const;

 private:
  Gateway(GatewayConfig config, const Clock& clock);
  Status Init();
  static int ThreadCount(const GatewayConfig& config);

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
  Status ReloadGlobalConf();

  const GatewayConfig config_;
  const Clock& clock_;
  http::IoPool pool_;  // one event loop per thread ([gateway] threads)
  std::unique_ptr<MessageLog> log_;
  std::map<std::string, std::unique_ptr<BatchSigner>> signers_;  // by member id
  SignatureVerifier verifier_;
  ReplayGuard replay_{std::chrono::minutes(2)};
  std::unique_ptr<http::Client> peers_;     // gateway-to-gateway, mTLS
  std::unique_ptr<http::Client> backends_;  // provider backends
  std::shared_ptr<http::SslContext> provider_tls_;
  std::shared_ptr<http::SslContext> consumer_tls_;
  std::unique_ptr<http::Server> consumer_server_;
  std::unique_ptr<http::Server> consumer_tls_server_;
  std::unique_ptr<http::Server> provider_server_;
  std::unique_ptr<http::Server> admin_server_;
  std::map<std::string, std::string> openapi_docs_;  // service id → document
  Metrics metrics_;

  mutable std::mutex conf_mu_;
  std::shared_ptr<const globalconf::GlobalConf> conf_;  // guarded by conf_mu_
  int64_t conf_file_mtime_ = 0;                         // guarded by conf_mu_

  std::atomic<bool> stopping_{false};
};

}  // namespace troad::gateway
