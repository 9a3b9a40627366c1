#include "central/central.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "central/schema.h"
#include "core/config.h"
#include "core/file.h"
#include "core/net.h"
#include "crypto/ca.h"
#include "globalconf/anchor.h"
#include "store/migrate.h"

namespace troad::central {
namespace fs = std::filesystem;
namespace asio = http::asio;

namespace {

Status WritePrivate(const fs::path& path, std::string_view text) {
  return WriteFileAtomically(path.string(), text, 0600);
}

}  // namespace

Result<InitCentralResult> InitCentral(const InitCentralOptions& o, const Clock& clock) {
  fs::path dir = fs::absolute(o.dir);
  if (fs::exists(dir / "central.toml")) {
    return Fail(ErrorCode::kAlreadyExists,
                "{} already holds a central (central.toml); remove it or choose another --dir",
                dir.string());
  }
  TROAD_RETURN_IF_ERROR(crypto::CheckPasswordPolicy(o.admin_password));
  TROAD_ASSIGN_OR_RETURN(auto listen, SplitHostPort(o.listen));
  std::string host = o.public_host.empty() ? listen.first : o.public_host;
  if (host == "0.0.0.0" || host == "::") {
    return Fail(ErrorCode::kInvalidArgument,
                "listening on {} needs --public-host: the name gateways use to reach the central",
                host);
  }
  std::error_code ec;
  fs::create_directories(dir / "keys", ec);
  fs::create_directories(dir / "data", ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", dir.string(), ec.message());
  ::chmod((dir / "keys").c_str(), 0700);

  // The network's CA.
  TROAD_ASSIGN_OR_RETURN(auto ca_key, crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest ca_req;
  ca_req.common_name = o.instance + " troad central CA";
  ca_req.usage = crypto::CertUsage::kCa;
  ca_req.validity = std::chrono::hours(24 * 365 * 10);
  TROAD_ASSIGN_OR_RETURN(auto ca_cert, crypto::CreateSelfSignedCa(ca_key, ca_req, clock));
  TROAD_RETURN_IF_ERROR(ca_key.SavePemFile((dir / "keys" / "ca.key").string()));
  TROAD_RETURN_IF_ERROR(WritePrivate(dir / "keys" / "ca.crt", ca_cert.ToPem()));

  // The configuration signing key.
  TROAD_ASSIGN_OR_RETURN(auto conf_key, crypto::PrivateKey::GenerateEcP256());
  TROAD_RETURN_IF_ERROR(conf_key.SavePemFile((dir / "keys" / "configuration.key").string()));

  // The central's own TLS certificate, for the host gateways connect to.
  TROAD_ASSIGN_OR_RETURN(auto tls_key, crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest tls_req;
  tls_req.common_name = host;
  tls_req.usage = crypto::CertUsage::kAuthentication;
  tls_req.validity = std::chrono::hours(24 * 365 * 2);
  bool is_ip = host.find(':') != std::string::npos ||
               host.find_first_not_of("0123456789.") == std::string::npos;
  (is_ip ? tls_req.ip_addresses : tls_req.dns_names).push_back(host);
  TROAD_ASSIGN_OR_RETURN(
      auto tls_cert, crypto::IssueCertificate(ca_cert, ca_key, tls_key.Public(), tls_req, clock));
  TROAD_RETURN_IF_ERROR(tls_key.SavePemFile((dir / "keys" / "tls.key").string()));
  TROAD_RETURN_IF_ERROR(WritePrivate(dir / "keys" / "tls.crt", tls_cert.ToPem()));

  // The timestamping authority's pair (RFC 3161 §2.3: its own key, a certificate
  // with the critical timeStamping EKU), issued by the network CA.
  TROAD_ASSIGN_OR_RETURN(auto tsa_key, crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest tsa_req;
  tsa_req.common_name = o.instance + " troad central TSA";
  tsa_req.usage = crypto::CertUsage::kTimestamping;
  tsa_req.validity = std::chrono::hours(24 * 365 * 5);
  TROAD_ASSIGN_OR_RETURN(
      auto tsa_cert, crypto::IssueCertificate(ca_cert, ca_key, tsa_key.Public(), tsa_req, clock));
  TROAD_RETURN_IF_ERROR(tsa_key.SavePemFile((dir / "keys" / "tsa.key").string()));
  TROAD_RETURN_IF_ERROR(WritePrivate(dir / "keys" / "tsa.crt", tsa_cert.ToPem()));

  // The transparency ledger's key: signs its checkpoints (docs/protocol.md §12.2).
  TROAD_ASSIGN_OR_RETURN(auto ledger_key, crypto::PrivateKey::GenerateEcP256());
  TROAD_RETURN_IF_ERROR(ledger_key.SavePemFile((dir / "keys" / "ledger.key").string()));

  std::string public_url = "https://" + JoinHostPort(host, listen.second);
  std::string toml = fmt::format(
      "# troad central — written by `troad central init`.\n"
      "# Every key is described in docs/configuration.md (central.toml).\n\n"
      "[central]\ninstance = {}\nlisten = {}\npublic_url = {}\ndata_dir = \"data\"\n\n"
      "[keys]\ntls_certificate = \"keys/tls.crt\"\ntls_key = \"keys/tls.key\"\n"
      "ca_certificate = \"keys/ca.crt\"\nca_key = \"keys/ca.key\"\n"
      "configuration_key = \"keys/configuration.key\"\n\n"
      "[globalconf]\nvalidity_s = 600\nrefresh_interval_s = 60\n\n"
      "[tsa]\ncertificate = \"keys/tsa.crt\"\nkey = \"keys/tsa.key\"\n\n"
      "[ledger]\nkey = \"keys/ledger.key\"\n",
      TomlQuote(o.instance), TomlQuote(o.listen), TomlQuote(public_url));
  TROAD_RETURN_IF_ERROR(WritePrivate(dir / "central.toml", toml));

  globalconf::Anchor anchor{o.instance, public_url, {conf_key.Public()}, ca_cert, clock.Now()};
  TROAD_RETURN_IF_ERROR(WritePrivate(dir / "anchor.json", globalconf::WriteAnchor(anchor)));

  TROAD_ASSIGN_OR_RETURN(auto config, CentralConfig::Load((dir / "central.toml").string()));
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(config.DatabaseFile()));
  TROAD_RETURN_IF_ERROR(store::Migrate(*db, CentralMigrations(), clock));
  AdminStore admins(*db, clock, config.admin);
  NewAdmin first;
  first.username = o.admin_username;
  first.password = o.admin_password;
  first.role = Role::kOperator;
  first.display_name = "first operator (troad central init)";
  TROAD_RETURN_IF_ERROR(admins.CreateAdmin(first, Actor::Local("troad central init")));
  return InitCentralResult{(dir / "central.toml").string(), (dir / "anchor.json").string()};
}

Central::Central(CentralConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

Central::~Central() {
  if (server_) server_->Stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Central>> Central::Create(CentralConfig config, const Clock& clock) {
  std::unique_ptr<Central> c(new Central(std::move(config), clock));
  const CentralConfig& cfg = c->config_;
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", cfg.data_dir, ec.message());
  TROAD_ASSIGN_OR_RETURN(c->db_, store::OpenSqlite(cfg.DatabaseFile()));
  TROAD_RETURN_IF_ERROR(store::Migrate(*c->db_, CentralMigrations(), clock));
  TROAD_ASSIGN_OR_RETURN(auto ca_cert, crypto::Certificate::LoadPemFile(cfg.ca_certificate_file));
  TROAD_ASSIGN_OR_RETURN(auto ca_key, crypto::PrivateKey::LoadPemFile(cfg.ca_key_file));
  // Enrolling gateways take the C of their subjects from the CA certificate in the
  // anchor (gateway/enroll.h): the CA must issue with that same C.
  if (!ca_cert.Country().empty() && ca_cert.Country() != cfg.ca.country) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: [ca] country = \"{}\", but the CA certificate {} says C={}; they must be "
                "the same (gateways ask for subjects with the CA certificate's C)",
                cfg.config_file, cfg.ca.country, cfg.ca_certificate_file, ca_cert.Country());
  }
  TROAD_ASSIGN_OR_RETURN(auto conf_key,
                         crypto::PrivateKey::LoadPemFile(cfg.configuration_key_file));
  c->registry_ = std::make_unique<Registry>(*c->db_, clock, cfg.instance);
  c->ca_ = std::make_unique<CertificateAuthority>(*c->registry_, *c->db_, clock, ca_cert, ca_key,
                                                  cfg.ca);
  c->admins_ = std::make_unique<AdminStore>(*c->db_, clock, cfg.admin);
  PublisherOptions publisher_options = cfg.publisher;
  for (const std::string& file : cfg.timestamping_certificate_files) {
    auto tsa = crypto::Certificate::LoadPemFile(file);
    if (!tsa) {
      return Fail(std::move(tsa).error().Context(
          fmt::format("{}: [globalconf] timestamping_certificates", cfg.config_file)));
    }
    if (!tsa->IsTimestampingCertificate()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: [globalconf] timestamping_certificates: {} ({}) is not a timestamping "
                  "certificate (extendedKeyUsage timeStamping, critical)",
                  cfg.config_file, file, tsa->Subject());
    }
    publisher_options.timestamping_certificates.push_back(*tsa);
  }
  if (!cfg.tsa.certificate_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(c->tsa_,
                           TsaService::Create(cfg.tsa, cfg.data_dir + "/tsa-serial", clock));
    // Gateways accept this authority's tokens: its certificate is published with
    // whatever [globalconf] timestamping_certificates lists besides.
    const std::string fp = c->tsa_->certificate().Sha256Fingerprint();
    auto& listed = publisher_options.timestamping_certificates;
    if (std::none_of(listed.begin(), listed.end(), [&fp](const crypto::Certificate& cert) {
          return cert.Sha256Fingerprint() == fp;
        })) {
      if (listed.size() >= globalconf::kMaxTimestampingCertificates) {
        return Fail(ErrorCode::kInvalidArgument,
                    "{}: [globalconf] timestamping_certificates already lists {}, the most a "
                    "configuration holds; [tsa]'s own certificate would be one more",
                    cfg.config_file, listed.size());
      }
      listed.push_back(c->tsa_->certificate());
    }
  }
  if (!cfg.ledger.key_file.empty()) {
    // Adds are authenticated against the published configuration (the gateways' current
    // certificates), parsed once per version.
    auto conf = [self = c.get()]() -> std::shared_ptr<const globalconf::GlobalConf> {
      auto published = self->publisher_ ? self->publisher_->Current() : nullptr;
      if (!published) return nullptr;
      std::lock_guard lock(self->ledger_conf_mu_);
      if (!self->ledger_conf_ || self->ledger_conf_->version() != published->version) {
        auto parsed = globalconf::GlobalConf::Parse(published->document);
        if (!parsed) {
          spdlog::error("ledger: the published configuration does not parse: {}",
                        parsed.error().message());
          return nullptr;
        }
        self->ledger_conf_ = std::move(*parsed);
      }
      return self->ledger_conf_;
    };
    TROAD_ASSIGN_OR_RETURN(
        c->ledger_, LedgerService::Create(cfg.ledger, cfg.LedgerDatabaseFile(), clock, conf));
    publisher_options.ledger = globalconf::LedgerInfo{cfg.public_url + "/ledger/v1",
                                                      c->ledger_->origin(),
                                                      c->ledger_->public_key()};
  }
  c->publisher_ =
      std::make_unique<Publisher>(*c->registry_, *c->db_, clock, conf_key,
                                  std::vector<crypto::Certificate>{ca_cert}, publisher_options);
  TROAD_RETURN_IF_ERROR(c->publisher_->Load());
  c->api_ = std::make_unique<Api>(*c->registry_, *c->ca_, *c->admins_, *c->publisher_);
  Central* self = c.get();
  c->api_->OnChange([self] { self->Publish(false); });

  TROAD_ASSIGN_OR_RETURN(
      auto ssl, http::MakeServerTlsContextFromFiles(cfg.tls_certificate_file, cfg.tls_key_file));
  if (!ssl) {
    return Fail(ErrorCode::kInvalidArgument,
                "[keys] tls_certificate and tls_key: the central serves HTTPS only");
  }
  TROAD_ASSIGN_OR_RETURN(auto listen, http::ListenEndpoint(cfg.listen));
  http::ServerOptions options;
  options.server_name = "troad-central";
  options.body_limit = 8 * 1024 * 1024;
  http::Handler handler = [self](
                              http::Request& req,
                              const http::ConnectionInfo& conn) -> asio::awaitable<http::Response> {
    ++self->requests_;
    if (req.method() == http::bhttp::verb::get && req.target() == "/metrics") {
      co_return self->Metrics();
    }
    std::string remote = conn.remote.address().to_string();
    // The published copy is read from memory (Publisher is thread-safe): gateways'
    // downloads never wait behind the management API.
    if (req.target().starts_with("/globalconf/")) co_return self->api_->Handle(req, remote);
    // Timestamps are signed on this loop: no database, ~0.1 ms of ECDSA each.
    if (req.target() == "/tsa") {
      if (!self->tsa_) {
        co_return http::MakeResponse(404, "this central runs no timestamping authority ([tsa])\n",
                                     "text/plain; charset=utf-8", req.version(), req.keep_alive());
      }
      co_return self->tsa_->Handle(req);
    }
    // The ledger has a database and a thread of its own, at background priority:
    // appends (one fsync each) and proofs never wait behind the management API, nor it
    // behind them, and their bursts yield to timestamps and configuration downloads.
    if (req.target().starts_with("/ledger/")) {
      if (!self->ledger_) {
        co_return http::MakeResponse(404, "{\"error\":\"this central runs no ledger ([ledger])\"}",
                                     "application/json", req.version(), req.keep_alive());
      }
      co_return co_await self->ledger_->Serve(req);
    }
    // Everything else touches the database, and a login runs Argon2id (~0.1 s): on the
    // worker thread, one call at a time, while this loop goes on serving connections.
    co_return co_await asio::co_spawn(
        self->worker_,
        [self, &req, &remote]() -> asio::awaitable<http::Response> {
          co_return self->api_->Handle(req, remote);
        },
        asio::use_awaitable);
  };
  TROAD_ASSIGN_OR_RETURN(c->server_, http::Server::Create(c->io_, listen, ssl, handler, options));
  c->timer_ = std::make_unique<asio::steady_timer>(c->io_);
  return c;
}

void Central::Publish(bool force) {
  auto published = publisher_->PublishIfNeeded(force);
  if (!published) {
    ++publish_failures_;
    spdlog::error("global configuration not published: {}", published.error().ToString());
  } else if (*published) {
    auto p = publisher_->Current();
    spdlog::info("published global configuration version {} (sha256 {}, expires {})", p->version,
                 p->sha256, FormatRfc3339(p->expires_at));
  }
}

Status Central::Start() {
  // A restarted central publishes at once: its configuration (validity, keys) may
  // have changed, and gateways must not wait for the old copy to age.
  Publish(true);
  if (publisher_->Current() == nullptr) {
    return Fail(ErrorCode::kFailedPrecondition,
                "no global configuration could be published (see the log above)");
  }
  server_->Start();
  asio::co_spawn(io_, PublishLoop(), asio::detached);
  spdlog::info("central {} listening on {} ({})", config_.instance,
               endpoint().address().to_string() + ":" + std::to_string(endpoint().port()),
               config_.public_url);
  return Ok();
}

asio::awaitable<void> Central::PublishLoop() {
  for (;;) {
    timer_->expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    // On the worker, where every other database access happens.
    co_await asio::co_spawn(
        worker_,
        [this]() -> asio::awaitable<void> {
          Publish(false);
          co_return;
        },
        asio::use_awaitable);
  }
}

void Central::Run() { io_.run(); }

void Central::Stop() {
  // From another thread: Server::Stop waits there for requests in progress (up to
  // the grace period) while the loop goes on serving them.
  if (server_) server_->Stop(std::chrono::milliseconds(2000));
  asio::post(io_, [this] {
    if (timer_) timer_->cancel();
  });
}

http::tcp::endpoint Central::endpoint() const { return server_->local_endpoint(); }

http::Response Central::Metrics() {
  std::string out;
  auto p = publisher_->Current();
  auto gauge = [&](std::string_view name, std::string_view help, std::string_view type,
                   double value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  gauge("troad_central_requests_total", "HTTP requests served.", "counter",
        static_cast<double>(requests_));
  if (tsa_) {
    gauge("troad_central_tsa_tokens_total", "RFC 3161 timestamp tokens issued.", "counter",
          static_cast<double>(tsa_->tokens_issued()));
    gauge("troad_central_tsa_rejections_total",
          "Timestamp requests answered with a rejection (malformed or unsupported).", "counter",
          static_cast<double>(tsa_->requests_rejected()));
  }
  if (ledger_) {
    gauge("troad_central_ledger_size", "Entries in the transparency ledger.", "gauge",
          static_cast<double>(ledger_->size()));
    gauge("troad_central_ledger_entries_added_total",
          "Entries appended by gateways since start (resent ones not counted).", "counter",
          static_cast<double>(ledger_->entries_added()));
    gauge("troad_central_ledger_add_requests_total", "add-entries requests answered.", "counter",
          static_cast<double>(ledger_->add_requests()));
    gauge("troad_central_ledger_add_refusals_total",
          "add-entries requests refused (4xx/5xx; see the log).", "counter",
          static_cast<double>(ledger_->add_refusals()));
  }
  gauge("troad_central_globalconf_version", "Version of the published global configuration.",
        "gauge", p ? static_cast<double>(p->version) : 0);
  gauge("troad_central_globalconf_expires_seconds",
        "Seconds until the published global configuration expires.", "gauge",
        p ? std::chrono::duration<double>(p->expires_at - clock_.Now()).count() : 0);
  gauge("troad_central_globalconf_publish_failures_total",
        "Attempts to publish that failed (see the error log).", "counter",
        static_cast<double>(publish_failures_));
  return http::MakeResponse(200, std::move(out), "text/plain; version=0.0.4");
}

}  // namespace troad::central
