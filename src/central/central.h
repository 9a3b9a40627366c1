// `troad central`: the central server process. One HTTPS listener serves the management
// API, enrollment and the global configuration download (central/api.h); a timer
// publishes the global configuration when the registry changed and before the current
// copy passes half its validity (central/publisher.h).
//
// Threads: one event loop thread runs the listener, TLS, HTTP and the configuration
// download (from memory). One worker thread runs everything that touches the database —
// each management API call, including Argon2id at login (~0.1 s), and publishing — one
// at a time, so the registry needs no locks and a login never stalls the downloads.
//
// Thread-safety: Create, Start and Run from one thread; Stop from another (not from
// the loop's own thread).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>

#include "central/api.h"
#include "central/config.h"
#include "http/server.h"
#include "store/database.h"

namespace troad::central {

// Everything `troad central init` makes, by path.
struct InitCentralOptions {
  std::string dir;  // created; must not hold a central.toml yet
  std::string instance = "TW";
  std::string listen = "127.0.0.1:4400";
  std::string public_host;  // host in public_url and the TLS certificate; default: listen's
  std::string admin_username = "operator";
  std::string admin_password;  // crypto::CheckPasswordPolicy
};

struct InitCentralResult {
  std::string config_file;
  std::string anchor_file;  // give this to every gateway
};

// Generates the CA, the configuration signing key and the TLS key and certificate,
// writes central.toml and anchor.json, creates the database and the first operator.
Result<InitCentralResult> InitCentral(const InitCentralOptions& options, const Clock& clock);

class Central {
 public:
  static Result<std::unique_ptr<Central>> Create(CentralConfig config, const Clock& clock);
  ~Central();

  // Listens and publishes the first configuration.
  Status Start();
  // Runs the event loop in the calling thread until Stop.
  void Run();
  void Stop();
  http::tcp::endpoint endpoint() const;

 private:
  explicit Central(CentralConfig config, const Clock& clock);
  http::asio::awaitable<void> PublishLoop();
  void Publish(bool force);
  http::Response Metrics();

  CentralConfig config_;
  const Clock& clock_;
  http::asio::io_context io_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<CertificateAuthority> ca_;
  std::unique_ptr<AdminStore> admins_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<TsaService> tsa_;  // null without [tsa]
  std::unique_ptr<LedgerService> ledger_;  // null without [ledger]
  std::mutex ledger_conf_mu_;
  std::shared_ptr<const globalconf::GlobalConf> ledger_conf_;  // guarded by ledger_conf_mu_
  std::unique_ptr<Api> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::asio::steady_timer> timer_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> publish_failures_{0};
  // Runs every database access (the management API, publishing) on one thread, off
  // the event loop. Declared last: joined first when the central is destroyed.
  http::asio::thread_pool worker_{1};
};

}  // namespace troad::central
