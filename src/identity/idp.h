// `troad idp`: the identity centre's process. One listener (HTTP on loopback or behind
// a TLS proxy, or HTTPS with [keys] tls_certificate) and one worker thread that runs
// every request through Provider against the database, one at a time, so nothing
// needs locks. Calls to other systems (the dual-document registries, OCSP) run on a thread of
// their own between two steps on the worker, so they never hold the database thread. An hourly
// timer on the worker rotates the signing key when it is due.
//
// Thread-safety: Create, Start and Run from one thread; Stop from another.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "core/clock.h"
#include "http/server.h"
#include "identity/config.h"
#include "identity/provider.h"
#include "store/database.h"

namespace troad::identity {

// What `troad idp init` makes.
struct InitIdpOptions {
  std::string dir;  // created; must not hold an idp.toml yet
  std::string issuer = "http://localhost:4600";
  std::string listen = "127.0.0.1:4600";
};

struct InitIdpResult {
  std::string config_file;
  std::string management_token;  // shown once; only its SHA-256 is kept
};

// Writes idp.toml and keys/subject.salt (0600), creates the database and the first
// signing key.
Result<InitIdpResult> InitIdp(const InitIdpOptions& options, const Clock& clock);

// Opens (creating and migrating) the database a configuration names.
Result<std::unique_ptr<store::Database>> OpenIdpDatabase(const IdpConfig& config,
                                                         const Clock& clock);

class Idp {
 public:
  static Result<std::unique_ptr<Idp>> Create(IdpConfig config, const Clock& clock);
  ~Idp();

  Status Start();
  void Run();  // the event loop, in the calling thread, until Stop
  void Stop();
  http::tcp::endpoint endpoint() const;

 private:
  Idp(IdpConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

  IdpConfig config_;
  const Clock& clock_;
  http::asio::io_context io_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SmsSender> sms_;
  std::unique_ptr<CitizenCertVerifier> certificates_;
  std::unique_ptr<DualDocumentChecker> dual_document_;  // null without [dual_document]
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::asio::steady_timer> key_timer_;
  std::atomic<bool> stopped_{false};
  // Calls to other systems a verification method asks for (method.h, "Lookup"): the
  // dual-document registry checks over T-Road and OCSP questions. One thread, because a
  // checker takes one call at a time; a slow registry or responder delays only other
  // sign-ins that need one, never the database thread.
  http::asio::thread_pool lookups_{1};
  // Every database access. Declared last: joined first on destruction.
  http::asio::thread_pool worker_{1};
};

}  // namespace troad::identity
