#include "identity/idp.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "core/file.h"
#include "core/net.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "identity/citizen_cert.h"
#include "identity/schema.h"
#include "store/migrate.h"

namespace troad::identity {
namespace asio = boost::asio;
namespace fs = std::filesystem;

Result<std::unique_ptr<store::Database>> OpenIdpDatabase(const IdpConfig& config,
                                                         const Clock& clock) {
  // The database holds the signing keys: readable by the service account only.
  return store::OpenPrivateSqlite(config.DatabaseFile(), IdentityMigrations(), clock);
}

Result<InitIdpResult> InitIdp(const InitIdpOptions& o, const Clock& clock) {
  fs::path dir(o.dir);
  if (fs::exists(dir / "idp.toml")) {
    return Fail(ErrorCode::kAlreadyExists, "{} already exists", (dir / "idp.toml").string());
  }
  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  if (ec) return Fail(ErrorCode::kIo, "creating {}: {}", (dir / "keys").string(), ec.message());
  TROAD_RETURN_IF_ERROR(WriteFileAtomically((dir / "keys" / "subject.salt").string(),
                                            crypto::NewSecretToken() + "\n", 0600));
  InitIdpResult result;
  result.management_token = crypto::NewSecretToken();
  std::string token_hash = crypto::Sha256Hex(result.management_token);
  std::string toml = fmt::format(
      R"(# troad idp configuration; every key is documented in docs/configuration.md ("idp.toml").
[idp]
issuer = {issuer}
listen = {listen}
data_dir = "data"

[keys]
subject_salt = "keys/subject.salt"
# SHA-256 of the management API token printed by `troad idp init`.
management_token_sha256 = {hash}

[sms]
# Development: codes are appended to this file. Production: the SMS gateway's URL.
target = "file:data/sms.jsonl"

[logging]
level = "info"
format = "json"
)",
      fmt::arg("issuer", TomlQuote(o.issuer)), fmt::arg("listen", TomlQuote(o.listen)),
      fmt::arg("hash", TomlQuote(token_hash)));
  result.config_file = (dir / "idp.toml").string();
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(result.config_file, toml, 0600));
  TROAD_ASSIGN_OR_RETURN(auto config, IdpConfig::Load(result.config_file));
  TROAD_ASSIGN_OR_RETURN(auto db, OpenIdpDatabase(config, clock));
  store::SigningKeys keys(*db, clock, config.provider.keys);
  TROAD_RETURN_IF_ERROR(keys.EnsureCurrent());
  return result;
}

Result<std::unique_ptr<Idp>> Idp::Create(IdpConfig config, const Clock& clock) {
  std::unique_ptr<Idp> idp(new Idp(std::move(config), clock));
  const IdpConfig& cfg = idp->config_;
  TROAD_ASSIGN_OR_RETURN(idp->db_, OpenIdpDatabase(cfg, clock));
  TROAD_ASSIGN_OR_RETURN(idp->sms_, MakeSmsSender(cfg.sms, clock));
  TROAD_ASSIGN_OR_RETURN(idp->certificates_, cfg.MakeCitizenVerifier());
  if (!cfg.dual_document.gateway.empty()) {
    TROAD_ASSIGN_OR_RETURN(idp->dual_document_, MakeTRoadDualDocumentChecker(cfg.dual_document));
  }
  idp->provider_ = std::make_unique<Provider>(*idp->db_, clock, cfg.provider, *idp->sms_,
                                              idp->certificates_.get(), idp->dual_document_.get());
  TROAD_ASSIGN_OR_RETURN(bool rotated, idp->provider_->keys().EnsureCurrent());
  if (rotated) spdlog::info("new ID token signing key");

  TROAD_ASSIGN_OR_RETURN(
      auto ssl, http::MakeServerTlsContextFromFiles(cfg.tls_certificate_file, cfg.tls_key_file));
  TROAD_ASSIGN_OR_RETURN(auto listen, http::ListenEndpoint(cfg.listen));
  http::ServerOptions options;
  options.server_name = "troad-idp";
  options.body_limit = 256 * 1024;
  Idp* self = idp.get();
  http::Handler handler = [self](
                              http::Request& req,
                              const http::ConnectionInfo& conn) -> asio::awaitable<http::Response> {
    std::string remote = conn.remote.address().to_string();
    const LookupAnswer* answer = nullptr;
    auto serve = [self, &req, &remote, &answer]() -> asio::awaitable<Provider::Served> {
      co_return self->provider_->Serve(req, remote, answer);
    };
    Provider::Served served = co_await asio::co_spawn(self->worker_, serve, asio::use_awaitable);
    if (served.lookup) {
      // A method asks another system (the registries, over T-Road): not on the database
      // thread, which would stall every other sign-in while it waits.
      Lookup& lookup = *served.lookup;
      LookupAnswer looked_up = co_await asio::co_spawn(
          self->lookups_,
          [&lookup]() -> asio::awaitable<LookupAnswer> {
            co_return LookupAnswer{lookup.key, lookup.run()};
          },
          asio::use_awaitable);
      answer = &looked_up;
      served = co_await asio::co_spawn(self->worker_, serve, asio::use_awaitable);
    }
    co_return std::move(served.response);
  };
  TROAD_ASSIGN_OR_RETURN(idp->server_,
                         http::Server::Create(idp->io_, listen, ssl, handler, options));
  idp->key_timer_ = std::make_unique<asio::steady_timer>(idp->io_);
  return idp;
}

Idp::~Idp() {
  Stop();
  worker_.join();
}

Status Idp::Start() {
  server_->Start();
  http::RepeatEvery(*key_timer_, std::chrono::hours(1), [this] {
    asio::post(worker_, [this] { provider_->keys().CheckRotation("ID token signing key"); });
  });
  spdlog::info("idp listening on {} as {}", config_.listen, config_.provider.issuer);
  return Ok();
}

void Idp::Run() { io_.run(); }

void Idp::Stop() {
  if (stopped_.exchange(true)) return;
  if (server_) server_->Stop(std::chrono::milliseconds(2000));
  io_.stop();
}

http::tcp::endpoint Idp::endpoint() const { return server_->local_endpoint(); }

}  // namespace troad::identity
