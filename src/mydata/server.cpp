#include "mydata/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "core/file.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "http/tls.h"
#include "mydata/schema.h"
#include "store/migrate.h"

namespace troad::mydata {
namespace asio = boost::asio;
namespace fs = std::filesystem;

Result<std::unique_ptr<store::Database>> OpenMyDataDatabase(const MyDataConfig& config,
                                                            const Clock& clock) {
  // The database holds the signing keys: readable by the service account only.
  return store::OpenPrivateSqlite(config.DatabaseFile(), MyDataMigrations(), clock);
}

Result<InitMyDataResult> InitMyData(const InitMyDataOptions& o, const Clock& clock) {
  fs::path dir(o.dir);
  if (fs::exists(dir / "mydata.toml")) {
    return Fail(ErrorCode::kAlreadyExists, "{} already exists", (dir / "mydata.toml").string());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "creating {}: {}", dir.string(), ec.message());
  InitMyDataResult result;
  result.management_token = crypto::NewSecretToken();
  std::string toml = fmt::format(
      R"(# troad mydata configuration; every key is documented in docs/configuration.md
# ("mydata.toml").
[mydata]
listen = {listen}
public_url = {public_url}
data_dir = "data"

[keys]
# SHA-256 of the management API token printed by `troad mydata init`.
management_token_sha256 = {hash}

[logging]
level = "info"
format = "json"
)",
      fmt::arg("listen", TomlQuote(o.listen)), fmt::arg("public_url", TomlQuote(o.public_url)),
      fmt::arg("hash", TomlQuote(crypto::Sha256Hex(result.management_token))));
  result.config_file = (dir / "mydata.toml").string();
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(result.config_file, toml, 0600));
  TROAD_ASSIGN_OR_RETURN(auto config, MyDataConfig::Load(result.config_file));
  TROAD_ASSIGN_OR_RETURN(auto db, OpenMyDataDatabase(config, clock));
  store::SigningKeys keys(*db, clock, config.api.consent_keys);
  TROAD_RETURN_IF_ERROR(keys.EnsureCurrent());
  return result;
}

Result<std::unique_ptr<MyData>> MyData::Create(MyDataConfig config, const Clock& clock) {
  std::unique_ptr<MyData> m(new MyData(std::move(config), clock));
  const MyDataConfig& cfg = m->config_;
  TROAD_ASSIGN_OR_RETURN(m->db_, OpenMyDataDatabase(cfg, clock));
  m->api_ = std::make_unique<Api>(*m->db_, clock, cfg.api);
  TROAD_ASSIGN_OR_RETURN(bool rotated, m->api_->consent_keys().EnsureCurrent());
  if (rotated) spdlog::info("new consent signing key");

  TROAD_ASSIGN_OR_RETURN(
      auto ssl, http::MakeServerTlsContextFromFiles(cfg.tls_certificate_file, cfg.tls_key_file));
  TROAD_ASSIGN_OR_RETURN(auto listen, http::ListenEndpoint(cfg.listen));
  http::ServerOptions options;
  options.server_name = "troad-mydata";
  options.body_limit = 256 * 1024;
  MyData* self = m.get();
  http::Handler handler = [self](
                              http::Request& req,
                              const http::ConnectionInfo& conn) -> asio::awaitable<http::Response> {
    std::string remote = conn.remote.address().to_string();
    co_return co_await asio::co_spawn(
        self->worker_,
        [self, &req, &remote]() -> asio::awaitable<http::Response> {
          co_return self->api_->Serve(req, remote);
        },
        asio::use_awaitable);
  };
  TROAD_ASSIGN_OR_RETURN(m->server_, http::Server::Create(m->io_, listen, ssl, handler, options));
  m->key_timer_ = std::make_unique<asio::steady_timer>(m->io_);
  return m;
}

MyData::~MyData() {
  Stop();
  worker_.join();
}

Status MyData::Start() {
  server_->Start();
  http::RepeatEvery(*key_timer_, std::chrono::hours(24), [this] {
    asio::post(worker_, [this] { api_->consent_keys().CheckRotation("consent signing key"); });
  });
  spdlog::info("mydata listening on {} as {}", config_.listen, config_.public_url);
  return Ok();
}

void MyData::Run() { io_.run(); }

void MyData::Stop() {
  if (stopped_.exchange(true)) return;
  if (server_) server_->Stop(std::chrono::milliseconds(2000));
  io_.stop();
}

http::tcp::endpoint MyData::endpoint() const { return server_->local_endpoint(); }

}  // namespace troad::mydata
