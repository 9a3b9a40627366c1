#include "gateway/gateway.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "gateway/access.h"
#include "gateway/envelope.h"
#include "gateway/metaservices.h"
#include "gateway/signed_part.h"
#include "gateway/xroad_rest.h"

namespace troad::gateway {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;

namespace {

// How soon a gateway that holds no global configuration asks the central again.
constexpr std::chrono::seconds kNoGlobalConfRetry{10};

Error FaultError(ErrorCode code, std::string_view fault, std::string message) {
  return Error(code, std::move(message)).WithFault(std::string(fault));
}

std::string Header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

std::string RemoteAddress(const http::ConnectionInfo& conn) {
  return conn.remote.address().to_string() + ":" + std::to_string(conn.remote.port());
}

Result<http::tcp::endpoint> ToEndpoint(const std::string& text) {
  TROAD_ASSIGN_OR_RETURN(auto hp, SplitHostPort(text));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp.first, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument, "listen address \"{}\" is not an IP address", text);
  }
  return http::tcp::endpoint(address, hp.second);
}

int64_t FileMtime(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The pass-through headers of a request, names lower case, in order. A request's
// X-Road-Want-Signature is for the consumer gateway alone (signed_part.h).
HeaderList PassThroughHeaders(const bhttp::fields& fields, bool request) {
  HeaderList out;
  std::vector<std::string> connection_options;
  if (auto it = fields.find(bhttp::field::connection); it != fields.end()) {
    connection_options = ConnectionOptionHeaders(it->value());
  }
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool pass = request ? IsPassThroughRequestHeader(name) &&
                              !boost::beast::iequals(name, kHeaderWantSignature)
                        : IsPassThroughResponseHeader(name);
    if (!pass) continue;
    if (std::find(connection_options.begin(), connection_options.end(), name) !=
        connection_options.end()) {
      continue;
    }
    out.emplace_back(std::move(name), std::string(field.value()));
  }
  return out;
}

}  // namespace

Gateway::Gateway(GatewayConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), pool_(ThreadCount(config_)) {}

Gateway::~Gateway() { Stop(); }

Result<std::unique_ptr<Gateway>> Gateway::Create(GatewayConfig config, const Clock& clock) {
  std::unique_ptr<Gateway> gw(new Gateway(std::move(config), clock));
  TROAD_RETURN_IF_ERROR(gw->Init());
  return gw;
}

std::shared_ptr<const globalconf::GlobalConf> Gateway::CurrentConf() const {
  std::lock_guard lock(conf_mu_);
  return conf_;
}

void Gateway::Adopt(std::shared_ptr<const globalconf::GlobalConf> conf) {
  std::lock_guard lock(conf_mu_);
  conf_ = std::move(conf);
  replay_.SetWindow(std::chrono::milliseconds(2 * conf_->settings().max_clock_skew_ms));
  ++metrics_.globalconf_reloads;
}

void Gateway::RecordRejection(std::string_view reason, const std::string& message) {
  ++metrics_.globalconf_reload_failures;
  {
    std::lock_guard lock(status_mu_);
    ++status_.rejected[std::string(reason)];
    status_.last_reason = std::string(reason);
    status_.last_message = message;
  }
  auto held = CurrentConf();
  spdlog::warn("global configuration not adopted ({}): {}; {}", reason, message,
               held ? fmt::format("keeping version {} (expires at {})", held->version(),
                                  FormatRfc3339(held->expires_at()))
                    : std::string("no copy held: every exchange is refused until one is adopted"));
}

std::chrono::seconds Gateway::RefreshInterval(const globalconf::GlobalConf* held) const {
  if (config_.globalconf_refresh.count() > 0) return config_.globalconf_refresh;
  // Without a copy the gateway refuses everything: ask again soon.
  if (held == nullptr) return kNoGlobalConfRetry;
  return std::chrono::seconds(held->settings().refresh_interval_s);
}

Error Gateway::NoGlobalConfError() const {
  std::string last;
  {
    std::lock_guard lock(status_mu_);
    if (!status_.last_reason.empty()) last = " (last attempt: " + status_.last_reason + ")";
  }
  return FaultError(ErrorCode::kFailedPrecondition, kFaultOutdatedGlobalConf,
                    "this gateway holds no global configuration yet: none has been fetched from "
                    "the central" +
                        last);
}

Status Gateway::ReloadGlobalConf() {
  int64_t mtime = FileMtime(config_.globalconf_file);
  {
    std::lock_guard lock(conf_mu_);
    if (conf_ && mtime == conf_file_mtime_) return Ok();
  }
  auto refuse = [&](std::string_view reason, Error error) -> Status {
    RecordRejection(reason, error.message());
    return Fail(std::move(error));
  };
  auto conf = globalconf::GlobalConf::LoadFile(config_.globalconf_file);
  if (!conf) {
    const ErrorCode code = conf.error().code();
    return refuse(code == ErrorCode::kInvalidArgument ? "malformed" : "unreadable",
                  std::move(conf).error());
  }
  if ((*conf)->instance() != config_.id.owner.instance) {
    return refuse("other-instance",
                  Error(ErrorCode::kInvalidArgument,
                        fmt::format("global configuration is for instance {}, this gateway "
                                    "belongs to {}",
                                    (*conf)->instance(), config_.id.owner.instance)));
  }
  // Only the refresh loop (and Init before it) replaces the configuration, so what is
  // held cannot change between this check and Adopt.
  const auto held = CurrentConf();
  if (held && (*conf)->version() < held->version()) {
    return refuse("older",
                  Error(ErrorCode::kFailedPrecondition,
                        fmt::format("global configuration version {} is older than the one "
                                    "held ({})",
                                    (*conf)->version(), held->version())));
  }
  Adopt(std::move(*conf));
  std::lock_guard lock(conf_mu_);
  conf_file_mtime_ = mtime;
  return Ok();
}

Status Gateway::InitFromAnchor() {
  TROAD_ASSIGN_OR_RETURN(auto anchor, globalconf::LoadAnchorFile(config_.anchor_file));
  if (anchor.instance != config_.id.owner.instance) {
    return Fail(ErrorCode::kInvalidArgument, "anchor {} is for instance {}, this gateway is in {}",
                config_.anchor_file, anchor.instance, config_.id.owner.instance);
  }
  TROAD_ASSIGN_OR_RETURN(fetcher_, globalconf::Fetcher::Create(
                                       std::move(anchor), config_.GlobalConfCacheDir(), clock_));
  auto cached = fetcher_->LoadCached();
  if (cached) {
    Adopt(cached->conf);
    if (cached->expired) {
      spdlog::warn(
          "cached global configuration version {} expired at {}: exchanges are refused until "
          "a newer one is fetched from {}",
          cached->conf->version(), FormatRfc3339(cached->conf->expires_at()),
          fetcher_->anchor().central_url);
    } else {
      spdlog::info("cached global configuration version {} loaded (expires at {})",
                   cached->conf->version(), FormatRfc3339(cached->conf->expires_at()));
    }
  } else if (cached.error().code() == ErrorCode::kNotFound) {
    spdlog::info("no cached global configuration yet: fetching one from {}",
                 fetcher_->anchor().central_url);
  } else {
    // A copy that no longer verifies (say, the anchor was replaced after a key
    // rollover) is of no use; the central has a good one.
    spdlog::warn("cached global configuration ignored: {}", cached.error().message());
  }
  return Ok();
}

Result<Gateway::KeyMaterial> Gateway::LoadKeys() const {
  KeyMaterial keys;
  for (const SigningKey& sk : config_.signing_keys) {
    TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::LoadPemFile(sk.key_file));
    TROAD_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::LoadPemFile(sk.certificate_file));
    if (key.Public().ToDer() != cert.GetPublicKey().ToDer()) {
      return Fail(ErrorCode::kInvalidArgument, "signing key {} does not match certificate {}",
                  sk.key_file, sk.certificate_file);
    }
    keys.signing.emplace(sk.member.ToString(), std::make_pair(std::move(key), std::move(cert)));
  }
  TROAD_ASSIGN_OR_RETURN(auto auth_key, crypto::PrivateKey::LoadPemFile(config_.auth_key_file));
  keys.auth_key.emplace(auth_key);
  TROAD_ASSIGN_OR_RETURN(auto pem, ReadFile(config_.auth_certificate_file));
  TROAD_ASSIGN_OR_RETURN(keys.auth_chain, crypto::Certificate::ChainFromPem(pem));

  http::TlsOptions peer_tls;
  peer_tls.certificate_chain = keys.auth_chain;
  peer_tls.private_key = auth_key;
  // Fixed for the process's lifetime: a CA added to the global configuration later is
  // trusted for TLS after a restart (certificates are still checked per request
  // against the configuration held).
  peer_tls.trust_anchors = peer_anchors_;
  peer_tls.require_peer_certificate = true;
  peer_tls.tls13_only = true;
  // MakeServerTlsContext refuses a key that does not match the certificate.
  TROAD_ASSIGN_OR_RETURN(keys.provider_tls, http::MakeServerTlsContext(peer_tls));
  TROAD_ASSIGN_OR_RETURN(keys.peer_client_tls, http::MakeClientTlsContext(peer_tls));
  return keys;
}

Status Gateway::ReloadKeys() {
  TROAD_ASSIGN_OR_RETURN(KeyMaterial keys, LoadKeys());
  if (keys.signing.size() != signers_.size()) {
    return Fail(ErrorCode::kInternal, "the signing keys changed in number");
  }
  // Peers identify this gateway by the certificates the configuration lists for it:
  // showing them another one would get every exchange refused.
  const std::string auth_sha256 = keys.auth_chain.front().Sha256Fingerprint();
  if (auto conf = CurrentConf()) {
    const globalconf::CertificateOwner* owner = conf->OwnerOf(auth_sha256);
    if (owner == nullptr || owner->owner != config_.id.ToString() || conf->IsRevoked(auth_sha256)) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "{}: certificate {} is not listed for {} in the global configuration version {} "
                  "held; peers would refuse it (kept the keys in use)",
                  config_.auth_certificate_file, auth_sha256, config_.id.ToString(),
                  conf->version());
    }
  }
  TROAD_RETURN_IF_ERROR(provider_server_->SetTlsContext(keys.provider_tls));
  TROAD_RETURN_IF_ERROR(peers_->SetTlsContext(keys.peer_client_tls));
  if (consumer_tls_server_ && config_.local_tls_certificate_file.empty()) {
    // The local TLS port shows the authentication pair too.
    http::TlsOptions local;
    local.certificate_chain = keys.auth_chain;
    local.private_key = *keys.auth_key;
    local.request_peer_certificate = true;
    local.tls13_only = false;
    TROAD_ASSIGN_OR_RETURN(auto consumer_tls, http::MakeServerTlsContext(local));
    TROAD_RETURN_IF_ERROR(consumer_tls_server_->SetTlsContext(consumer_tls));
  }
  for (auto& [member, pair] : keys.signing) {
    signers_.at(member)->SetIdentity(std::move(pair.first), std::move(pair.second));
  }
  {
    std::lock_guard lock(identity_mu_);
    identity_ = ShipperIdentity{*keys.auth_key, auth_sha256};
  }
  spdlog::info("reloaded keys: authentication certificate {}, {} signing pair(s)", auth_sha256,
               keys.signing.size());
  return Ok();
}

Status Gateway::CreateTimestamper() {
  std::shared_ptr<http::SslContext> tls;
  for (const std::string& url : config_.timestamping.authorities) {
    TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(url));
    if (!parsed.endpoint.tls || tls) continue;
    // https:// authorities must show a certificate of the network's CA naming their
    // host (the central's timestamping service); plain http:// needs no trust, since
    // every token is verified against the global configuration's TSA certificates.
    if (!fetcher_) {
      return Fail(ErrorCode::kInvalidArgument,
                  "[timestamping] authority {}: https:// needs an anchor (the network CA); use "
                  "http:// for this network",
                  url);
    }
    TROAD_ASSIGN_OR_RETURN(tls, http::MakeClientTlsContextForHost(fetcher_->anchor().ca_certificate,
                                                                  parsed.endpoint.host));
  }
  auto trusted = [this]() -> std::vector<crypto::Certificate> {
    auto conf = CurrentConf();
    return conf ? conf->timestamping_certificates() : std::vector<crypto::Certificate>{};
  };
  TROAD_ASSIGN_OR_RETURN(timestamper_, Timestamper::Create(*log_, config_.timestamping, trusted,
                                                           std::move(tls), clock_));
  return Ok();
}

Status Gateway::CreateShipper() {
  auto ledger = [this]() -> std::optional<globalconf::LedgerInfo> {
    auto conf = CurrentConf();
    return conf ? conf->ledger() : std::nullopt;
  };
  auto identity = [this]() -> std::optional<ShipperIdentity> {
    std::lock_guard lock(identity_mu_);
    return identity_;
  };
  // The ledger's URL comes with the global configuration: an https:// one must show a
  // certificate of the network CA (the anchor's) naming its host.
  auto tls = [this](const std::string& host) -> Result<std::shared_ptr<http::SslContext>> {
    if (!fetcher_) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "an https:// ledger needs an anchor (the network CA) to be trusted");
    }
    return http::MakeClientTlsContextForHost(fetcher_->anchor().ca_certificate, host);
  };
  TROAD_ASSIGN_OR_RETURN(shipper_, Shipper::Create(*log_, config_.id, config_.ledger, ledger,
                                                   identity, tls, clock_));
  return Ok();
}

Status Gateway::Init() {
  std::vector<crypto::Certificate> peer_anchors;
  if (!config_.anchor_file.empty()) {
    TROAD_RETURN_IF_ERROR(InitFromAnchor());
    // The network CA of the anchor, and whatever the cached copy trusts besides.
    peer_anchors.push_back(fetcher_->anchor().ca_certificate);
    auto conf = CurrentConf();
    if (conf && conf->FindGateway(config_.id) == nullptr) {
      spdlog::warn(
          "gateway {} is not listed in the global configuration version {}: other "
          "gateways will not reach it",
          config_.id.ToString(), conf->version());
    }
  } else {
    if (auto st = ReloadGlobalConf(); !st) return st;
    auto conf = CurrentConf();
    if (conf->FindGateway(config_.id) == nullptr) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "gateway {} is not listed in the global configuration {}", config_.id.ToString(),
                  config_.globalconf_file);
    }
  }
  if (auto conf = CurrentConf()) {
    for (const crypto::Certificate& ca : conf->trusted_cas()) {
      const bool known =
          std::any_of(peer_anchors.begin(), peer_anchors.end(), [&](const crypto::Certificate& c) {
            return c.Sha256Fingerprint() == ca.Sha256Fingerprint();
          });
      if (!known) peer_anchors.push_back(ca);
    }
  }

  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) {
    return Fail(ErrorCode::kIo, "cannot create data directory {}: {}", config_.data_dir,
                ec.message());
  }
  TROAD_ASSIGN_OR_RETURN(log_, MessageLog::Open(config_.data_dir + "/messagelog.db",
                                                config_.sync_full, clock_, config_.commit_delay));

  if (!config_.timestamping.authorities.empty()) {
    TROAD_RETURN_IF_ERROR(CreateTimestamper());
  } else {
    spdlog::warn("no [timestamping] authorities: transfer records are not timestamped");
  }
  if (config_.retention.max_age.count() > 0) {
    Archiver::Options retention{config_.retention, config_.id.ToString(), nullptr};
    // Records the central ledger is to receive stay until they were shipped: while the
    // shipper runs and the configuration names a ledger (or none is held yet).
    retention.require_shipped = [this] {
      if (!shipper_) return false;
      auto conf = CurrentConf();
      return !conf || conf->ledger().has_value();
    };
    TROAD_ASSIGN_OR_RETURN(archiver_, Archiver::Create(*log_, std::move(retention), clock_));
  }
  if (config_.ledger.enabled) TROAD_RETURN_IF_ERROR(CreateShipper());

  peer_anchors_ = std::move(peer_anchors);
  TROAD_ASSIGN_OR_RETURN(KeyMaterial keys, LoadKeys());
  for (auto& [member, pair] : keys.signing) {
    signers_[member] = std::make_unique<BatchSigner>(std::move(pair.first), std::move(pair.second));
  }
  provider_tls_ = keys.provider_tls;
  {
    std::lock_guard lock(identity_mu_);
    identity_ = ShipperIdentity{*keys.auth_key, keys.auth_chain.front().Sha256Fingerprint()};
  }
  auto peer_client_tls = keys.peer_client_tls;
  auto auth_chain = keys.auth_chain;
  auto auth_key = *keys.auth_key;

  http::ClientOptions peer_options;
  peer_options.tls = peer_client_tls;
  peer_options.body_limit = config_.max_body_bytes + 2 * kMaxHeaderPartBytes;
  peers_ = std::make_unique<http::Client>(peer_options);
  http::ClientOptions backend_options;
  backend_options.body_limit = config_.max_body_bytes;
  backends_ = std::make_unique<http::Client>(backend_options);

  if (!config_.consumer_tls_listen.empty()) {
    http::TlsOptions local;
    if (!config_.local_tls_certificate_file.empty()) {
      TROAD_ASSIGN_OR_RETURN(auto pem, ReadFile(config_.local_tls_certificate_file));
      TROAD_ASSIGN_OR_RETURN(local.certificate_chain, crypto::Certificate::ChainFromPem(pem));
      TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::LoadPemFile(config_.local_tls_key_file));
      local.private_key = key;
    } else {
      local.certificate_chain = auth_chain;
      local.private_key = auth_key;
    }
    local.request_peer_certificate = true;
    local.tls13_only = false;
    // Information systems' client certificates are pinned by fingerprint per
    // subsystem; they may be self-signed, so they are checked by pin, not by chain.
    TROAD_ASSIGN_OR_RETURN(consumer_tls_, http::MakeServerTlsContext(local));
  }

  for (const LocalService& s : config_.services) {
    if (s.openapi_file.empty()) continue;
    TROAD_ASSIGN_OR_RETURN(auto doc, ReadFile(s.openapi_file));
    openapi_docs_[s.id.ToString()] = std::move(doc);
  }
  return Ok();
}

Status Gateway::Start() {
  auto error_response = [](unsigned status, std::string reason) {
    std::string code(status == 413 ? kFaultLimitExceeded : kFaultBadRequest);
    return MakeFaultResponse(FaultType(FaultOrigin::kClient, code), reason, "", "", 11, false);
  };
  http::ServerOptions consumer_options;
  consumer_options.body_limit = config_.max_body_bytes;
  consumer_options.error_response = error_response;
  consumer_options.on_refused = [this](unsigned status, std::string reason,
                                       const http::ConnectionInfo& conn,
                                       const Request& header) -> asio::awaitable<Response> {
    // Requests the listener refuses before the proxy sees them (too large, malformed)
    // are recorded like every other refusal, before they are answered.
    TransferRecord rec;
    rec.side = "consumer";
    rec.request_time_ms = clock_.NowMillis();
    rec.request_id = crypto::NewTimeOrderedUuid(rec.request_time_ms);
    rec.peer = RemoteAddress(conn);
    rec.message_id = Header(header, "x-road-id").substr(0, 1024);
    rec.client = Header(header, "x-road-client").substr(0, 1024);
    std::string code(status == 413 ? kFaultLimitExceeded : kFaultBadRequest);
    Error error(status == 413 ? ErrorCode::kResourceExhausted : ErrorCode::kInvalidArgument,
                std::move(reason));
    co_return co_await Refuse(rec, FaultOrigin::kClient, std::move(error).WithFault(code), header);
  };
  auto consumer_handler = [this](Request& req, const http::ConnectionInfo& conn) {
    return HandleConsumer(req, conn);
  };

  TROAD_ASSIGN_OR_RETURN(auto consumer_ep, ToEndpoint(config_.consumer_listen));
  TROAD_ASSIGN_OR_RETURN(
      consumer_server_,
      http::Server::Create(pool_, consumer_ep, nullptr, consumer_handler, consumer_options));
  if (consumer_tls_) {
    TROAD_ASSIGN_OR_RETURN(auto ep, ToEndpoint(config_.consumer_tls_listen));
    TROAD_ASSIGN_OR_RETURN(
        consumer_tls_server_,
        http::Server::Create(pool_, ep, consumer_tls_, consumer_handler, consumer_options));
  }

  http::ServerOptions provider_options;
  provider_options.body_limit = config_.max_body_bytes + 2 * kMaxHeaderPartBytes;
  provider_options.error_response = [](unsigned status, std::string reason) {
    std::string code(status == 413 ? kFaultLimitExceeded : kFaultInvalidMessage);
    return MakeFaultResponse(FaultType(FaultOrigin::kServerProxy, code), reason, "", "", 11, false);
  };
  TROAD_ASSIGN_OR_RETURN(auto provider_ep, ToEndpoint(config_.provider_listen));
  TROAD_ASSIGN_OR_RETURN(provider_server_,
                         http::Server::Create(
                             pool_, provider_ep, provider_tls_,
                             [this](Request& req, const http::ConnectionInfo& conn) {
                               return HandleProvider(req, conn);
                             },
                             provider_options));

  TROAD_ASSIGN_OR_RETURN(auto admin_ep, ToEndpoint(config_.admin_listen));
  http::ServerOptions admin_options;
  admin_options.body_limit = 64 * 1024;
  TROAD_ASSIGN_OR_RETURN(admin_server_, http::Server::Create(
                                            pool_, admin_ep, nullptr,
                                            [this](Request& req, const http::ConnectionInfo& c) {
                                              return HandleAdmin(req, c);
                                            },
                                            admin_options));
  consumer_server_->Start();
  if (consumer_tls_server_) consumer_tls_server_->Start();
  provider_server_->Start();
  admin_server_->Start();
  asio::co_spawn(pool_.Get(0), RefreshLoop(), asio::detached);
  if (timestamper_) timestamper_->Start();
  if (archiver_) archiver_->Start();
  if (shipper_) shipper_->Start();
  spdlog::info(
      "gateway {} listening: consumer {}, provider {}, admin {}", config_.id.ToString(),
      consumer_endpoint().address().to_string() + ":" + std::to_string(consumer_endpoint().port()),
      provider_endpoint().address().to_string() + ":" + std::to_string(provider_endpoint().port()),
      admin_endpoint().address().to_string() + ":" + std::to_string(admin_endpoint().port()));
  return Ok();
}

int Gateway::ThreadCount(const GatewayConfig& config) {
  return config.threads > 0 ? config.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void Gateway::Run() { pool_.Run(); }

void Gateway::Stop() {
  if (stopping_.exchange(true)) return;
  for (auto* server : {consumer_server_.get(), consumer_tls_server_.get(), provider_server_.get(),
                       admin_server_.get()}) {
    if (server) server->Stop(std::chrono::milliseconds(5000));
  }
  if (peers_) peers_->Shutdown();
  if (backends_) backends_->Shutdown();
  pool_.Stop();
  if (timestamper_) timestamper_->Stop();
  if (archiver_) archiver_->Stop();
  if (shipper_) shipper_->Stop();
  if (log_) log_->Stop();
}

http::tcp::endpoint Gateway::consumer_endpoint() const {
  return consumer_server_->local_endpoint();
}
http::tcp::endpoint Gateway::provider_endpoint() const {
  return provider_server_->local_endpoint();
}
http::tcp::endpoint Gateway::admin_endpoint() const { return admin_server_->local_endpoint(); }

asio::awaitable<void> Gateway::RefreshLoop() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // With an anchor the first fetch is at once: the cached copy may be old.
  bool wait = fetcher_ == nullptr;
  while (!stopping_) {
    if (wait) {
      auto conf = CurrentConf();
      timer.expires_after(RefreshInterval(conf.get()));
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopping_) co_return;
    }
    wait = true;
    if (fetcher_) {
      co_await FetchGlobalConf();
    } else {
      // Refusals are counted and logged by ReloadGlobalConf.
      (void)ReloadGlobalConf();
    }
  }
}

asio::awaitable<void> Gateway::FetchGlobalConf() {
  auto held = CurrentConf();
  globalconf::FetchResult result = co_await fetcher_->Fetch(held);
  const SystemTime now = clock_.Now();
  {
    std::lock_guard lock(status_mu_);
    status_.last_attempt = now;
    status_.last_outcome = std::string(globalconf::FetchOutcomeName(result.outcome));
    ++status_.fetches[status_.last_outcome];
    if (result.outcome != globalconf::FetchOutcome::kRejected) status_.last_success = now;
  }
  switch (result.outcome) {
    case globalconf::FetchOutcome::kUpdated:
      spdlog::info("global configuration version {} adopted (was {}), expires at {}",
                   result.conf->version(), held ? std::to_string(held->version()) : "none",
                   FormatRfc3339(result.conf->expires_at()));
      if (result.conf->FindGateway(config_.id) == nullptr) {
        spdlog::warn("gateway {} is not listed in global configuration version {}",
                     config_.id.ToString(), result.conf->version());
      }
      Adopt(std::move(result.conf));
      break;
    case globalconf::FetchOutcome::kUnchanged:
      if (held && held->IsExpired(now)) {
        spdlog::warn(
            "the central still serves global configuration version {}, which expired "
            "at {}: exchanges are refused",
            held->version(), FormatRfc3339(held->expires_at()));
      }
      break;
    case globalconf::FetchOutcome::kRejected:
      RecordRejection(result.reason, result.message);
      break;
  }
}

asio::awaitable<void> Gateway::WriteRecord(TransferRecord record) {
  auto st = co_await log_->Append(std::move(record));
  if (st) {
    ++metrics_.records_written;
  } else {
    ++metrics_.record_failures;
    spdlog::error("message log write failed: {}", st.error().message());
  }
}

asio::awaitable<Response> Gateway::Refuse(TransferRecord& record, FaultOrigin origin, Error error,
                                          const Request& req) {
  std::string type = FaultType(origin, FaultCodeFor(error));
  record.fault = type;
  record.fault_message = error.message();
  record.response_time_ms = clock_.NowMillis();
  std::string detail = record.request_id;
  Response res = MakeFaultResponse(type, error.message(), detail, Header(req, "accept"),
                                   req.version(), req.keep_alive());
  record.status = static_cast<int>(res.result_int());
  record.response_bytes = static_cast<int64_t>(res.body().size());
  bool consumer = record.side == "consumer";
  ++(consumer ? metrics_.consumer_faults : metrics_.provider_faults);
  spdlog::info("{} refused {} ({} → {}): {}: {}", record.side, record.message_id, record.client,
               record.service, type, error.message());
  auto st = co_await log_->Append(std::move(record));
  if (!st) {
    ++metrics_.record_failures;
    spdlog::error("message log write failed: {}", st.error().message());
  } else {
    ++metrics_.records_written;
  }
  co_return res;
}

// ---- Consumer side -----------------------------------------------------------------

asio::awaitable<Response> Gateway::HandleConsumer(Request& req, const http::ConnectionInfo& conn) {
  ++metrics_.consumer_requests;
  auto conf = CurrentConf();
  TransferRecord rec;
  rec.side = "consumer";
  rec.request_time_ms = clock_.NowMillis();
  rec.request_id = crypto::NewTimeOrderedUuid(rec.request_time_ms);
  rec.peer = RemoteAddress(conn);
  rec.request_bytes = static_cast<int64_t>(req.body().size());
  // What the caller said, as said, so that even a refusal of a malformed request can
  // be found by the caller's own message id (validated values replace these below).
  rec.message_id = Header(req, "x-road-id").substr(0, 1024);
  rec.client = Header(req, "x-road-client").substr(0, 1024);

  auto target = ParseConsumerTarget(req.target());
  if (!target) co_return co_await Refuse(rec, FaultOrigin::kClient, target.error(), req);

  if (target->kind == ConsumerTarget::Kind::kListClients) {
    if (req.method() != bhttp::verb::get) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClient,
          FaultError(ErrorCode::kInvalidArgument, kFaultInvalidHttpMethod, "listClients takes GET"),
          req);
    }
    if (!conf) {
      co_return co_await Refuse(rec, FaultOrigin::kClientProxy, NoGlobalConfError(), req);
    }
    std::vector<ClientInfo> clients;
    for (const auto& m : conf->members()) {
      if (!target->list_clients_instance.empty() &&
          m.id.instance != target->list_clients_instance) {
        continue;
      }
      clients.push_back(ClientInfo{m.id, m.name, ""});
    }
    for (const auto& s : conf->subsystems()) {
      if (!target->list_clients_instance.empty() &&
          s.id.instance != target->list_clients_instance) {
        continue;
      }
      const auto* member = conf->FindMember(s.id.Member());
      clients.push_back(ClientInfo{s.id, member ? member->name : "", s.name});
    }
    co_return MakeListClientsResponse(clients, Header(req, "accept"), req.version(),
                                      req.keep_alive());
  }

  const RestTarget& rest = target->rest;
  rec.service = rest.service.ToString();
  auto headers = ParseXRoadRequestHeaders(req);
  if (!headers) co_return co_await Refuse(rec, FaultOrigin::kClient, headers.error(), req);
  rec.client = headers->client.ToString();
  rec.message_id = headers->id.empty() ? NewMessageId(config_.id.owner.instance) : headers->id;
  rec.user_id = headers->user_id;
  rec.issue = headers->issue;
  auto want_signature = WantsSignedPart(req);
  if (!want_signature) {
    co_return co_await Refuse(rec, FaultOrigin::kClient, want_signature.error(), req);
  }

  if (!conf) co_return co_await Refuse(rec, FaultOrigin::kClientProxy, NoGlobalConfError(), req);
  if (timestamper_ && timestamper_->Failing()) {
    co_return co_await Refuse(rec, FaultOrigin::kClientProxy, timestamper_->FailingError(), req);
  }
  if (conf->IsExpired(clock_.Now())) {
    co_return co_await Refuse(
        rec, FaultOrigin::kClientProxy,
        FaultError(ErrorCode::kFailedPrecondition, kFaultOutdatedGlobalConf,
                   "global configuration expired at " + FormatRfc3339(conf->expires_at())),
        req);
  }

  // May the caller act as this subsystem?
  const LocalClient* local = config_.FindClient(headers->client);
  if (local == nullptr) {
    co_return co_await Refuse(
        rec, FaultOrigin::kClient,
        FaultError(ErrorCode::kPermissionDenied, kFaultInvalidClientIdentifier,
                   "client " + rec.client + " is not a client of this gateway"),
        req);
  }
  if (local->connection != ConnectionType::kHttp && !conn.tls) {
    co_return co_await Refuse(rec, FaultOrigin::kClient,
                              FaultError(ErrorCode::kUnauthenticated, kFaultSslAuthenticationFailed,
                                         "client " + rec.client + " must connect over HTTPS"),
                              req);
  }
  if (local->connection == ConnectionType::kHttpsClientCert) {
    std::string fp = conn.peer_certificate ? conn.peer_certificate->Sha256Fingerprint() : "";
    if (fp.empty() || std::find(local->certificate_sha256.begin(), local->certificate_sha256.end(),
                                fp) == local->certificate_sha256.end()) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClient,
          FaultError(ErrorCode::kUnauthenticated, kFaultSslAuthenticationFailed,
                     fp.empty() ? "client " + rec.client + " must present a client certificate"
                                : "client certificate " + fp + " may not act as " + rec.client),
          req);
    }
  }
  if (!conf->IsKnownClient(headers->client)) {
    co_return co_await Refuse(rec, FaultOrigin::kClient,
                              FaultError(ErrorCode::kNotFound, kFaultUnknownMember,
                                         "client " + rec.client + " is not registered"),
                              req);
  }

  // Where is the service?
  std::vector<const globalconf::Gateway*> candidates = conf->GatewaysServing(rest.service.provider);
  if (headers->security_server) {
    std::erase_if(candidates,
                  [&](const globalconf::Gateway* g) { return g->id != *headers->security_server; });
    if (candidates.empty()) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClient,
          FaultError(ErrorCode::kNotFound, kFaultInvalidSecurityServer,
                     "gateway " + headers->security_server->ToString() + " does not serve " +
                         rest.service.provider.ToString()),
          req);
    }
  }
  if (candidates.empty()) {
    co_return co_await Refuse(rec, FaultOrigin::kClientProxy,
                              FaultError(ErrorCode::kNotFound, kFaultUnknownMember,
                                         "no gateway serves " + rest.service.provider.ToString()),
                              req);
  }
  auto signer_it = signers_.find(headers->client.Member().ToString());
  if (signer_it == signers_.end()) {
    co_return co_await Refuse(
        rec, FaultOrigin::kClientProxy,
        FaultError(ErrorCode::kFailedPrecondition, kFaultCannotCreateSignature,
                   "this gateway holds no signing key of " + headers->client.Member().ToString()),
        req);
  }

  // Build and sign the message header.
  RequestHeader h;
  h.id = rec.message_id;
  h.request_id = rec.request_id;
  h.client = headers->client;
  h.service = rest.service;
  h.method = std::string(req.method_string());
  h.path = rest.path;
  h.query = rest.query;
  h.user_id = headers->user_id;
  h.issue = headers->issue;
  if (headers->represented_party) h.represented_party = headers->represented_party->ToString();
  h.consumer_gateway = config_.id;
  h.time_ms = clock_.NowMillis();
  h.body_length = req.body().size();
  h.body_sha512 = crypto::Sha512(req.body());
  h.headers = PassThroughHeaders(req.base(), /*request=*/true);

  // Try the provider's gateways in order; the next one only if connecting failed.
  Result<http::ClientResponse> answer = Fail(ErrorCode::kUnavailable, "no gateway tried");
  std::string header_bytes, signature_bytes;
  const globalconf::Gateway* provider_gw = nullptr;
  for (const globalconf::Gateway* gw : candidates) {
    h.provider_gateway = gw->id;
    header_bytes = SerializeRequestHeader(h);
    auto sig = co_await signer_it->second->Sign(header_bytes);
    if (!sig) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClientProxy,
          FaultError(ErrorCode::kInternal, kFaultCannotCreateSignature, sig.error().message()),
          req);
    }
    signature_bytes = SerializeSignaturePart(*sig);
    Request out{bhttp::verb::post, kExchangePath, 11};
    out.set(bhttp::field::content_type, kEnvelopeContentType);
    std::string body = EncodeEnvelopePrefix(header_bytes, signature_bytes);
    body.append(req.body());
    out.body() = std::move(body);
    http::Endpoint ep{gw->host, gw->port, true, gw->AuthCertificatePins()};
    provider_gw = gw;
    answer = co_await peers_->Send(ep, std::move(out), config_.exchange_timeout);
    if (answer || answer.error().code() != ErrorCode::kUnavailable) break;
  }
  rec.peer = provider_gw->id.ToString();
  rec.request_hash = ComputeRequestHash(header_bytes, h.body_sha512);
  rec.request_signature = signature_bytes;
  if (!answer) {
    Error e = answer.error();
    std::string_view code = e.code() == ErrorCode::kUnauthenticated ? kFaultSslAuthenticationFailed
                                                                    : kFaultNetworkError;
    co_return co_await Refuse(
        rec, FaultOrigin::kClientProxy,
        FaultError(e.code(), code, "gateway " + provider_gw->id.ToString() + ": " + e.message()),
        req);
  }
  Response& pres = answer->response;
  std::string ctype = std::string(pres[bhttp::field::content_type]);
  if (ctype != kEnvelopeContentType) {
    // The provider gateway refused: pass its X-Road fault through unchanged.
    auto err = pres.find(kXRoadErrorHeader);
    if (err == pres.end()) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClientProxy,
          FaultError(ErrorCode::kInvalidArgument, kFaultInvalidMessage,
                     "gateway " + provider_gw->id.ToString() + " answered " +
                         std::to_string(pres.result_int()) + " without an envelope or a fault"),
          req);
    }
    rec.fault = std::string(err->value());
    rec.status = static_cast<int>(pres.result_int());
    rec.response_bytes = static_cast<int64_t>(pres.body().size());
    rec.response_time_ms = clock_.NowMillis();
    if (auto doc = ParseJson(pres.body(), "fault"); doc && doc->is_object()) {
      if (auto m = doc->find("message"); m != doc->end() && m->is_string()) {
        rec.fault_message = m->get<std::string>();
      }
    }
    ++metrics_.consumer_faults;
    Response res{pres.result(), req.version()};
    for (const auto& f : pres.base()) {
      if (f.name() == bhttp::field::connection || f.name() == bhttp::field::content_length ||
          f.name() == bhttp::field::keep_alive) {
        continue;
      }
      res.set(f.name_string(), f.value());
    }
    res.body() = std::move(pres.body());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await WriteRecord(std::move(rec));
    co_return res;
  }

  // Check the signed response before anything of it reaches the caller.
  auto envelope = DecodeEnvelope(pres.body());
  Result<ResponseHeader> rh = envelope ? ParseResponseHeader(envelope->header)
                                       : Result<ResponseHeader>(tl::unexpected(envelope.error()));
  if (!rh) {
    co_return co_await Refuse(
        rec, FaultOrigin::kClientProxy,
        FaultError(ErrorCode::kInvalidArgument, kFaultInvalidMessage,
                   "response from " + provider_gw->id.ToString() + ": " + rh.error().message()),
        req);
  }
  auto rsig = ParseSignaturePart(envelope->signature);
  Status check = Ok();
  if (!rsig) {
    check = Fail(FaultError(ErrorCode::kInvalidArgument, kFaultInvalidSignatureValue,
                            rsig.error().message()));
  } else if (rh->id != h.id || rh->request_id != h.request_id || rh->client != h.client ||
             rh->service != h.service || rh->request_hash != rec.request_hash) {
    check = Fail(FaultError(ErrorCode::kInvalidArgument, kFaultInconsistentResponse,
                            "response does not answer this request (id, client, service or request "
                            "hash differ)"));
  } else if (rh->body_length != envelope->payload.size() ||
             crypto::Sha512(envelope->payload) != rh->body_sha512) {
    check = Fail(FaultError(ErrorCode::kUnauthenticated, kFaultInvalidSignatureValue,
                            "response body does not match its signed hash"));
  } else {
    check = verifier_.Verify(*conf, rest.service.provider.Member(), envelope->header, *rsig,
                             clock_.Now());
  }
  if (!check) {
    co_return co_await Refuse(rec, FaultOrigin::kClientProxy, check.error(), req);
  }

  Response res{static_cast<bhttp::status>(rh->status), req.version()};
  for (const auto& [name, value] : rh->headers) {
    if (IsPassThroughResponseHeader(name)) res.set(name, value);
  }
  res.set("X-Road-Id", h.id);
  res.set("X-Road-Client", ClientIdHeaderValue(h.client));
  res.set("X-Road-Service", ServiceIdHeaderValue(h.service));
  res.set("X-Road-Request-Id", h.request_id);
  res.set("X-Road-Request-Hash", rec.request_hash);
  if (!h.user_id.empty()) res.set("X-Road-UserId", h.user_id);
  if (!h.issue.empty()) res.set("X-Road-Issue", h.issue);
  if (*want_signature) {
    // The certificate the verifier found, from the same configuration: the caller can
    // keep the part and have anyone verify it later (signed_part.h).
    const globalconf::CertificateOwner* signer = conf->OwnerOf(rsig->certificate_sha256);
    if (signer == nullptr) {
      co_return co_await Refuse(
          rec, FaultOrigin::kClientProxy,
          FaultError(ErrorCode::kInternal, kFaultInternalError,
                     "verified signing certificate " + rsig->certificate_sha256 + " is not listed"),
          req);
    }
    res.set(kHeaderResponseHeader, Base64Encode(envelope->header));
    res.set(kHeaderResponseSignature, Base64Encode(envelope->signature));
    res.set(kHeaderResponseCertificate, Base64Encode(signer->certificate.ToDer()));
  }
  res.body().assign(envelope->payload);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();

  rec.status = static_cast<int>(rh->status);
  rec.response_bytes = static_cast<int64_t>(envelope->payload.size());
  rec.response_hash = ComputeRequestHash(envelope->header, rh->body_sha512);
  rec.response_signature = std::string(envelope->signature);
  rec.response_time_ms = clock_.NowMillis();
  auto st = co_await log_->Append(std::move(rec));
  if (!st) {
    ++metrics_.record_failures;
    // The exchange happened but cannot be recorded: do not hand out data we cannot
    // account for.
    co_return MakeFaultResponse(
        FaultOrigin::kClientProxy,
        FaultError(ErrorCode::kIo, kFaultLoggingFailed, st.error().message()), h.request_id,
        Header(req, "accept"), req.version(), false);
  }
  ++metrics_.records_written;
  co_return res;
}

// ---- Provider side -----------------------------------------------------------------

asio::awaitable<Response> Gateway::HandleProvider(Request& req, const http::ConnectionInfo& conn) {
  ++metrics_.provider_requests;
  auto conf = CurrentConf();
  const SystemTime now = clock_.Now();
  TransferRecord rec;
  rec.side = "provider";
  // Until the envelope is parsed the exchange has no id of its own: give the refusal
  // one, so the fault's detail still finds the record.
  rec.request_time_ms = ToUnixMillis(now);
  rec.request_id = crypto::NewTimeOrderedUuid(rec.request_time_ms);
  rec.peer = RemoteAddress(conn);
  rec.request_bytes = static_cast<int64_t>(req.body().size());
  if (!conf) co_return co_await Refuse(rec, FaultOrigin::kServerProxy, NoGlobalConfError(), req);
  if (timestamper_ && timestamper_->Failing()) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy, timestamper_->FailingError(), req);
  }

  // 1. The peer certificate: a registered, unrevoked gateway.
  const globalconf::CertificateOwner* peer = nullptr;
  std::string peer_fp = conn.peer_certificate ? conn.peer_certificate->Sha256Fingerprint() : "";
  if (!peer_fp.empty()) peer = conf->OwnerOf(peer_fp);
  if (peer == nullptr || peer->kind != globalconf::CertificateOwner::Kind::kGatewayAuthentication ||
      conf->IsRevoked(peer_fp)) {
    std::string why =
        peer_fp.empty() ? "peer presented no certificate"
        : peer == nullptr ||
                peer->kind != globalconf::CertificateOwner::Kind::kGatewayAuthentication
            ? "peer certificate " + peer_fp + " is not a registered gateway's"
            : "peer certificate " + peer_fp + " is revoked";
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kUnauthenticated, kFaultSslAuthenticationFailed, why), req);
  }
  rec.peer = peer->owner;
  if (conf->IsExpired(now)) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kFailedPrecondition, kFaultOutdatedGlobalConf,
                   "global configuration expired at " + FormatRfc3339(conf->expires_at())),
        req);
  }
  if (req.method() != bhttp::verb::post || req.target() != kExchangePath) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kNotFound, kFaultInvalidMessage,
                   "gateways exchange messages with POST " + std::string(kExchangePath)),
        req);
  }
  auto envelope = DecodeEnvelope(req.body());
  Result<RequestHeader> parsed = envelope ? ParseRequestHeader(envelope->header)
                                          : Result<RequestHeader>(tl::unexpected(envelope.error()));
  if (!parsed) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInvalidArgument, kFaultInvalidMessage, parsed.error().message()),
        req);
  }
  const RequestHeader& h = *parsed;
  rec.message_id = h.id;
  rec.request_id = h.request_id;
  rec.client = h.client.ToString();
  rec.service = h.service.ToString();
  rec.user_id = h.user_id;
  rec.issue = h.issue;
  rec.request_signature = std::string(envelope->signature);
  rec.request_hash = ComputeRequestHash(envelope->header, h.body_sha512);

  // The message must come from a gateway that serves the client, and be meant for us.
  if (h.provider_gateway != config_.id || h.consumer_gateway.ToString() != peer->owner) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy,
                              FaultError(ErrorCode::kUnauthenticated, kFaultSslAuthenticationFailed,
                                         "message from " + h.consumer_gateway.ToString() + " to " +
                                             h.provider_gateway.ToString() + " arrived from " +
                                             peer->owner + " at " + config_.id.ToString()),
                              req);
  }
  // 2. The client is known and served by the sending gateway.
  if (!conf->IsKnownClient(h.client)) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy,
                              FaultError(ErrorCode::kNotFound, kFaultUnknownMember,
                                         "client " + rec.client + " is not registered"),
                              req);
  }
  const globalconf::Gateway* sender = conf->FindGateway(h.consumer_gateway);
  if (sender == nullptr || std::find(sender->clients.begin(), sender->clients.end(), h.client) ==
                               sender->clients.end()) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kPermissionDenied, kFaultAccessDenied,
                   "gateway " + peer->owner + " does not serve client " + rec.client),
        req);
  }

  // 3. The service is known, enabled, and ours. Metaservices are open to all clients.
  const globalconf::Service* service = conf->FindService(h.service);
  const LocalService* local = config_.FindService(h.service);
  std::string normalized;
  if (service == nullptr || local == nullptr) {
    static const std::set<std::string> kMeta = {"listMethods", "allowedMethods", "getOpenAPI"};
    bool serves_provider = false;
    for (const auto* g : conf->GatewaysServing(h.service.provider)) {
      if (g->id == config_.id) serves_provider = true;
    }
    if (service == nullptr && serves_provider && kMeta.count(h.service.service_code)) {
      auto sig = ParseSignaturePart(envelope->signature);
      Status check = sig ? verifier_.Verify(*conf, h.client.Member(), envelope->header, *sig, now)
                         : Status(tl::unexpected(sig.error()));
      if (!check) {
        co_return co_await Refuse(rec, FaultOrigin::kServerProxy, check.error(), req);
      }
      co_return co_await ServeMetaservice(*conf, h, rec.request_hash, req);
    }
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy,
                              FaultError(ErrorCode::kNotFound, kFaultUnknownService,
                                         "service " + rec.service + " is not provided here"),
                              req);
  }
  if (!service->enabled) {
    std::string notice = service->disabled_notice.empty() ? "" : ": " + service->disabled_notice;
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy,
                              FaultError(ErrorCode::kFailedPrecondition, kFaultServiceDisabled,
                                         "service " + rec.service + " is disabled" + notice),
                              req);
  }
  // 4. A grant for this method and path.
  auto norm = NormalizeRestPath(h.path);
  if (!norm) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInvalidArgument, kFaultInvalidMessage, norm.error().message()), req);
  }
  normalized = *norm;
  if (auto st = CheckGrant(*conf, h.client, h.service, h.method, normalized); !st) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy, st.error(), req);
  }
  // 5. The signature, and the body it covers.
  auto sig = ParseSignaturePart(envelope->signature);
  if (!sig) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInvalidArgument, kFaultInvalidSignatureValue, sig.error().message()),
        req);
  }
  if (h.body_length != envelope->payload.size() ||
      crypto::Sha512(envelope->payload) != h.body_sha512) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy,
                              FaultError(ErrorCode::kUnauthenticated, kFaultInvalidSignatureValue,
                                         "request body does not match its signed hash"),
                              req);
  }
  if (auto st = verifier_.Verify(*conf, h.client.Member(), envelope->header, *sig, now); !st) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy, st.error(), req);
  }
  // 6. The clock.
  int64_t skew = rec.request_time_ms - h.time_ms;
  if (skew > conf->settings().max_clock_skew_ms || -skew > conf->settings().max_clock_skew_ms) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInvalidArgument, kFaultInvalidMessageTime,
                   fmt::format("message time differs from this gateway's clock by {} ms (at most "
                               "{} ms allowed)",
                               skew, conf->settings().max_clock_skew_ms)),
        req);
  }
  // 7. Replay.
  if (auto st = replay_.CheckAndRemember(rec.client, h.id, h.time_ms, rec.request_time_ms); !st) {
    co_return co_await Refuse(rec, FaultOrigin::kServerProxy, st.error(), req);
  }

  // Forward to the backend.
  auto url = http::ParseUrl(local->backend_url);
  if (!url) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInternal, kFaultInternalError, url.error().message()), req);
  }
  std::string target = url->path;
  if (!target.empty() && target.back() == '/' && !h.path.empty()) target.pop_back();
  target += h.path;
  if (target.empty()) target = "/";
  if (!h.query.empty()) target += "?" + h.query;
  Request breq{bhttp::string_to_verb(h.method), target, 11};
  for (const auto& [name, value] : h.headers) breq.set(name, value);
  breq.set("X-Road-Client", ClientIdHeaderValue(h.client));
  breq.set("X-Road-Service", ServiceIdHeaderValue(h.service));
  breq.set("X-Road-Id", h.id);
  breq.set("X-Road-Request-Id", h.request_id);
  breq.set("X-Road-Request-Hash", rec.request_hash);
  if (!h.user_id.empty()) breq.set("X-Road-UserId", h.user_id);
  if (!h.issue.empty()) breq.set("X-Road-Issue", h.issue);
  if (!h.represented_party.empty()) breq.set("X-Road-Represented-Party", h.represented_party);
  breq.body().assign(envelope->payload);
  auto backend = co_await backends_->Send(url->endpoint, std::move(breq), local->timeout);
  if (!backend) {
    std::string code = ServiceFailedCode(backend.error().code() == ErrorCode::kInvalidArgument
                                             ? kFaultHttpError
                                             : kFaultNetworkError);
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(backend.error().code(), code,
                   "backend of " + rec.service + ": " + backend.error().message()),
        req);
  }
  Response& bres = backend->response;

  // Sign the response and record the exchange before answering.
  auto signer = signers_.find(h.service.provider.Member().ToString());
  if (signer == signers_.end()) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(
            ErrorCode::kFailedPrecondition, kFaultCannotCreateSignature,
            "this gateway holds no signing key of " + h.service.provider.Member().ToString()),
        req);
  }
  co_return co_await SignAndRecord(rec, *signer->second, h, bres.result_int(),
                                   PassThroughHeaders(bres.base(), /*request=*/false), bres.body(),
                                   req);
}

asio::awaitable<Response> Gateway::SignAndRecord(TransferRecord& rec, BatchSigner& signer,
                                                 const RequestHeader& h, unsigned status,
                                                 HeaderList headers, std::string_view body,
                                                 const Request& req) {
  ResponseHeader rh;
  rh.id = h.id;
  rh.request_id = h.request_id;
  rh.request_hash = rec.request_hash;
  rh.client = h.client;
  rh.service = h.service;
  rh.status = status;
  rh.headers = std::move(headers);
  rh.time_ms = clock_.NowMillis();
  rh.body_length = body.size();
  rh.body_sha512 = crypto::Sha512(body);
  std::string rh_bytes = SerializeResponseHeader(rh);
  auto sig = co_await signer.Sign(rh_bytes);
  if (!sig) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kInternal, kFaultCannotCreateSignature, sig.error().message()), req);
  }
  std::string sig_bytes = SerializeSignaturePart(*sig);
  Response res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::content_type, kEnvelopeContentType);
  std::string envelope = EncodeEnvelopePrefix(rh_bytes, sig_bytes);
  envelope.append(body);
  res.body() = std::move(envelope);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();

  rec.status = static_cast<int>(rh.status);
  rec.response_bytes = static_cast<int64_t>(rh.body_length);
  rec.response_hash = ComputeRequestHash(rh_bytes, rh.body_sha512);
  rec.response_signature = std::move(sig_bytes);
  rec.response_time_ms = clock_.NowMillis();
  const std::string request_id = rec.request_id;
  auto st = co_await log_->Append(std::move(rec));
  if (!st) {
    ++metrics_.record_failures;
    // The exchange happened but cannot be recorded: hand out nothing we cannot
    // account for.
    co_return MakeFaultResponse(
        FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kIo, kFaultLoggingFailed, st.error().message()), request_id, "",
        req.version(), false);
  }
  ++metrics_.records_written;
  co_return res;
}

asio::awaitable<Response> Gateway::ServeMetaservice(const globalconf::GlobalConf& conf,
                                                    const RequestHeader& h,
                                                    const std::string& request_hash,
                                                    const Request& req) {
  // Metaservices are answered by the gateway itself, signed like any response.
  std::string code = h.service.service_code;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  unsigned status = 200;
  const ClientId& provider = h.service.provider;
  if (code == "listMethods" || code == "allowedMethods") {
    std::vector<ServiceInfo> services;
    for (const auto& s : conf.services()) {
      if (s.id.provider != provider || !config_.FindService(s.id)) continue;
      ServiceInfo info{s.id, s.type, {}};
      if (code == "allowedMethods") {
        auto grants = conf.GrantsFor(h.client, s.id);
        if (grants.empty()) continue;
        for (const auto* g : grants) {
          if (g->rules.empty()) {
            info.endpoints.emplace_back("*", "**");
          }
          for (const auto& r : g->rules) info.endpoints.emplace_back(r.method, r.path);
        }
      } else {
        for (const auto& e : s.endpoints) info.endpoints.emplace_back(e.method, e.path);
      }
      services.push_back(std::move(info));
    }
    body = RenderRestServiceList(services);
  } else {
    auto service_code = FindQueryParameter(h.query, "serviceCode");
    if (!service_code || !*service_code || (*service_code)->empty()) {
      status = 400;
    } else {
      ServiceId id{provider, **service_code};
      auto it = openapi_docs_.find(id.ToString());
      if (it == openapi_docs_.end()) {
        status = 404;
      } else {
        auto stripped = StripOpenApiServers(it->second);
        if (stripped) {
          body = std::move(*stripped);
        } else {
          status = 500;
        }
      }
    }
    if (status != 200) {
      std::string type = FaultType(FaultOrigin::kServerProxy,
                                   status == 400 ? kFaultInvalidRequest : kFaultNotFound);
      body = FaultBody(FaultFormat::kJson, type,
                       status == 400 ? "getOpenAPI needs the serviceCode parameter"
                                     : "no OpenAPI description for that service",
                       h.request_id);
    }
  }
  TransferRecord rec;
  rec.side = "provider";
  rec.message_id = h.id;
  rec.request_id = h.request_id;
  rec.client = h.client.ToString();
  rec.service = h.service.ToString();
  rec.user_id = h.user_id;
  rec.issue = h.issue;
  rec.peer = h.consumer_gateway.ToString();
  rec.request_time_ms = clock_.NowMillis();
  rec.request_bytes = static_cast<int64_t>(req.body().size());
  rec.request_hash = request_hash;
  // Signed by the provider member's key when this gateway holds it, else by the
  // gateway owner's.
  auto signer = signers_.find(provider.Member().ToString());
  if (signer == signers_.end()) signer = signers_.find(config_.id.owner.ToString());
  if (signer == signers_.end()) {
    co_return co_await Refuse(
        rec, FaultOrigin::kServerProxy,
        FaultError(ErrorCode::kFailedPrecondition, kFaultCannotCreateSignature,
                   "this gateway holds no signing key"),
        req);
  }
  // A named list: GCC 12 cannot pass a braced list of string literals to a coroutine.
  HeaderList headers;
  headers.emplace_back("content-type", content_type);
  co_return co_await SignAndRecord(rec, *signer->second, h, status, std::move(headers), body, req);
}

// ---- Admin -------------------------------------------------------------------------

asio::awaitable<Response> Gateway::HandleAdmin(Request& req, const http::ConnectionInfo&) {
  std::string_view target = req.target();
  if (target == "/healthz") {
    auto conf = CurrentConf();
    const bool expired = conf && conf->IsExpired(clock_.Now());
    const char* status = !conf ? "no-globalconf" : expired ? "outdated-globalconf" : "ok";
    nlohmann::json j = {{"status", status},
                        {"gateway", config_.id.ToString()},
                        {"globalconf_source", fetcher_ ? "anchor" : "file"},
                        {"globalconf_version", nullptr},
                        {"globalconf_expires_at", nullptr}};
    if (conf) {
      j["globalconf_version"] = conf->version();
      j["globalconf_expires_at"] = FormatRfc3339(conf->expires_at());
    }
    if (fetcher_) {
      std::lock_guard lock(status_mu_);
      auto time_or_null = [](SystemTime t) -> nlohmann::json {
        if (t == SystemTime{}) return nullptr;
        return FormatRfc3339(t);
      };
      auto text_or_null = [](const std::string& text) -> nlohmann::json {
        if (text.empty()) return nullptr;
        return RepairUtf8(text);
      };
      j["globalconf_fetch"] = {{"central_url", fetcher_->anchor().central_url},
                               {"last_attempt", time_or_null(status_.last_attempt)},
                               {"last_outcome", text_or_null(status_.last_outcome)},
                               {"last_success", time_or_null(status_.last_success)},
                               {"last_rejection_reason", text_or_null(status_.last_reason)},
                               {"last_rejection", text_or_null(status_.last_message)}};
    }
    co_return http::MakeResponse(status == std::string_view("ok") ? 200 : 503, j.dump(),
                                 "application/json", req.version(), req.keep_alive());
  }
  if (target == "/metrics") {
    auto conf = CurrentConf();
    std::string out;
    auto counter = [&](const char* name, const char* help, uint64_t v) {
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
    };
    counter("troad_gateway_consumer_requests_total", "Requests from local information systems.",
            metrics_.consumer_requests.load());
    counter("troad_gateway_consumer_faults_total", "Consumer-side requests answered with a fault.",
            metrics_.consumer_faults.load());
    counter("troad_gateway_provider_requests_total", "Messages from other gateways.",
            metrics_.provider_requests.load());
    counter("troad_gateway_provider_faults_total", "Provider-side messages refused.",
            metrics_.provider_faults.load());
    counter("troad_gateway_records_written_total", "Transfer records written durably.",
            metrics_.records_written.load());
    counter("troad_gateway_record_commits_total",
            "Message-log transactions committed (one fsync each, many records each).",
            log_->commits());
    counter("troad_gateway_record_failures_total", "Transfer records that could not be written.",
            metrics_.record_failures.load());
    counter("troad_gateway_globalconf_reloads_total", "Global configurations loaded.",
            metrics_.globalconf_reloads.load());
    counter("troad_gateway_globalconf_reload_failures_total",
            "Global configurations not adopted, any reason (kept the last good one).",
            metrics_.globalconf_reload_failures.load());
    if (timestamper_) {
      counter("troad_gateway_timestamp_batches_total", "Batches of records timestamped.",
              timestamper_->batches());
      counter("troad_gateway_timestamped_records_total", "Records in timestamped batches.",
              timestamper_->records_stamped());
      counter("troad_gateway_timestamp_failures_total",
              "Batches no timestamping authority stamped (retried).", timestamper_->failures());
      out += fmt::format(
          "# HELP troad_gateway_timestamp_last_success_seconds Unix time of the last batch "
          "timestamped (0: none yet).\n# TYPE troad_gateway_timestamp_last_success_seconds "
          "gauge\ntroad_gateway_timestamp_last_success_seconds {}\n"
          "# HELP troad_gateway_timestamping_failing 1 while exchanges are refused because no "
          "authority answers.\n# TYPE troad_gateway_timestamping_failing gauge\n"
          "troad_gateway_timestamping_failing {}\n",
          timestamper_->last_success_ms() / 1000, timestamper_->Failing() ? 1 : 0);
    }
    if (archiver_) {
      counter("troad_gateway_archived_records_total",
              "Records moved from the message log into archive files.",
              archiver_->records_archived());
      counter("troad_gateway_archive_files_total", "Archive files completed.",
              archiver_->files_written());
      counter("troad_gateway_archive_failures_total",
              "Archiver passes that failed (retried every interval_s).", archiver_->failures());
      out += fmt::format(
          "# HELP troad_gateway_archive_last_success_seconds Unix time of the last archive file "
          "completed (0: none since start).\n# TYPE troad_gateway_archive_last_success_seconds "
          "gauge\ntroad_gateway_archive_last_success_seconds {}\n",
          archiver_->last_archive_ms() / 1000);
    }
    if (shipper_) {
      counter("troad_gateway_ledger_entries_total",
              "Records shipped to the central ledger and checked.", shipper_->entries_shipped());
      counter("troad_gateway_ledger_requests_total", "Requests made to the central ledger.",
              shipper_->requests());
      counter("troad_gateway_ledger_failures_total",
              "Shipping rounds that failed (retried with back-off).", shipper_->failures());
      out += fmt::format(
          "# HELP troad_gateway_ledger_shipped_seq The highest record seq shipped.\n"
          "# TYPE troad_gateway_ledger_shipped_seq gauge\ntroad_gateway_ledger_shipped_seq {}\n"
          "# HELP troad_gateway_ledger_tree_size Size of the last ledger head accepted.\n"
          "# TYPE troad_gateway_ledger_tree_size gauge\ntroad_gateway_ledger_tree_size {}\n"
          "# HELP troad_gateway_ledger_last_success_seconds Unix time of the last shipment "
          "(0: none since start).\n# TYPE troad_gateway_ledger_last_success_seconds gauge\n"
          "troad_gateway_ledger_last_success_seconds {}\n"
          "# HELP troad_gateway_ledger_alarm 1 while the ledger is not trusted: it served a "
          "head inconsistent with the accepted one (see the log).\n"
          "# TYPE troad_gateway_ledger_alarm gauge\ntroad_gateway_ledger_alarm {}\n",
          shipper_->shipped_seq(), shipper_->accepted_size(),
          shipper_->last_success_ms() / 1000, shipper_->alarm() ? 1 : 0);
    }
    uint64_t signatures = 0, signed_messages = 0;
    for (const auto& [member, signer] : signers_) {
      signatures += signer->signatures_made();
      signed_messages += signer->messages_signed();
    }
    counter("troad_gateway_signatures_total", "Batch signatures made.", signatures);
    counter("troad_gateway_signed_messages_total", "Messages signed (in batches).",
            signed_messages);
    counter("troad_gateway_signature_cache_hits_total",
            "Signatures accepted from the verified-root cache.", verifier_.cache_hits());
    {
      std::lock_guard lock(status_mu_);
      // A counter with one label, one line per value seen.
      auto labelled = [&](const char* name, const char* help, const char* label,
                          const auto& counts) {
        out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
        for (const auto& [value, n] : counts) {
          out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, value, n);
        }
      };
      labelled("troad_gateway_globalconf_rejected_total",
               "Global configurations not adopted (the last good one was kept), by reason.",
               "reason", status_.rejected);
      labelled("troad_gateway_globalconf_fetches_total",
               "Attempts to fetch the global configuration from the central, by outcome.",
               "outcome", status_.fetches);
    }
    out += fmt::format(
        "# HELP troad_gateway_globalconf_version Version of the global configuration held "
        "(0: none).\n"
        "# TYPE troad_gateway_globalconf_version gauge\ntroad_gateway_globalconf_version {}\n",
        conf ? conf->version() : 0);
    if (conf) {
      const auto left =
          std::chrono::duration_cast<std::chrono::seconds>(conf->expires_at() - clock_.Now());
      out += fmt::format(
          "# HELP troad_gateway_globalconf_expires_seconds Seconds until the global "
          "configuration held expires (negative: expired, exchanges are refused).\n"
          "# TYPE troad_gateway_globalconf_expires_seconds gauge\n"
          "troad_gateway_globalconf_expires_seconds {}\n",
          left.count());
    }
    co_return http::MakeResponse(200, std::move(out), "text/plain; version=0.0.4", req.version(),
                                 req.keep_alive());
  }
  co_return http::MakeResponse(404, "not found: try /healthz or /metrics\n", "text/plain",
                               req.version(), req.keep_alive());
}

}  // namespace troad::gateway
