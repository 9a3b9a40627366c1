#include "gateway/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "crypto/x509.h"
#include "http/client.h"

namespace troad::gateway {
namespace fs = std::filesystem;

std::string GatewayConfig::GlobalConfCacheDir() const {
  return (fs::path(data_dir) / "globalconf").string();
}

const LocalClient* GatewayConfig::FindClient(const ClientId& client) const {
  for (const auto& c : clients) {
    if (c.id == client) return &c;
  }
  return nullptr;
}

const LocalService* GatewayConfig::FindService(const ServiceId& service) const {
  for (const auto& s : services) {
    if (s.id == service) return &s;
  }
  return nullptr;
}

const SigningKey* GatewayConfig::FindSigningKey(const ClientId& member) const {
  for (const auto& k : signing_keys) {
    if (k.member == member) return &k;
  }
  return nullptr;
}

Result<GatewayConfig> GatewayConfig::Load(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(path));
  auto resolve = [&doc](const std::string& file) { return doc->ResolvePath(file); };

  GatewayConfig c;
  c.config_file = fs::absolute(path).string();
  ConfigSection root = doc->Root();
  ConfigSection gw = root.Section("gateway");
  std::string id_text = gw.RequiredString("id");
  if (!id_text.empty()) {
    auto id = GatewayId::Parse(id_text);
    if (!id) {
      gw.Error("id", id.error().message());
    } else {
      c.id = *id;
    }
  }
  const bool has_globalconf = gw.Has("globalconf");
  const bool has_anchor = gw.Has("anchor");
  if (has_globalconf && has_anchor) {
    gw.Error("anchor",
             "set either anchor (fetch the signed configuration from the central) or "
             "globalconf (a local file), not both");
  } else if (!has_globalconf && !has_anchor) {
    gw.Error("anchor",
             "is required: set anchor (the central's anchor file) or globalconf (a local "
             "global configuration file)");
  }
  // Both are read (absent: empty), so that each is a known key and type-checked.
  for (auto [key, file] :
       {std::pair{"globalconf", &c.globalconf_file}, std::pair{"anchor", &c.anchor_file}}) {
    std::optional<std::string> value = gw.OptionalString(key);
    if (value && value->empty()) gw.Error(key, "must not be empty");
    *file = resolve(value.value_or(""));
  }
  c.globalconf_refresh = std::chrono::seconds(gw.Int("globalconf_refresh_s", 0, 0, 86'400));
  c.data_dir = resolve(gw.String("data_dir", "data"));
  c.threads = static_cast<int>(gw.Int("threads", 0, 0, 256));

  ConfigSection listen = root.Section("listen");
  c.consumer_listen = listen.String("consumer", "127.0.0.1:8080");
  c.consumer_tls_listen = listen.String("consumer_tls", "");
  c.provider_listen = listen.String("provider", "0.0.0.0:8443");
  c.admin_listen = listen.String("admin", "127.0.0.1:4000");
  for (const char* key : {"consumer", "consumer_tls", "provider", "admin"}) {
    std::string v = listen.String(key, "");
    if (!v.empty() && !SplitHostPort(v)) listen.Error(key, "\"" + v + "\" is not host:port");
  }

  ConfigSection tls = root.Section("tls");
  c.auth_certificate_file = resolve(tls.RequiredString("certificate"));
  c.auth_key_file = resolve(tls.RequiredString("key"));
  c.local_tls_certificate_file = resolve(tls.String("local_certificate", ""));
  c.local_tls_key_file = resolve(tls.String("local_key", ""));

  for (ConfigSection& s : root.SectionList("signing")) {
    SigningKey key;
    auto member = ClientId::Parse(s.RequiredString("member"));
    if (!member || member->is_subsystem()) {
      s.Error("member", member ? "must name a member, not a subsystem" : member.error().message());
    } else {
      key.member = *member;
    }
    key.certificate_file = resolve(s.RequiredString("certificate"));
    key.key_file = resolve(s.RequiredString("key"));
    c.signing_keys.push_back(std::move(key));
  }

  for (ConfigSection& s : root.SectionList("client")) {
    LocalClient client;
    auto id = ClientId::Parse(s.RequiredString("id"));
    if (!id || !id->is_subsystem()) {
      s.Error("id", id ? "must name a subsystem" : id.error().message());
    } else {
      client.id = *id;
    }
    std::string type = s.String("connection", "http");
    if (type == "http") {
      client.connection = ConnectionType::kHttp;
    } else if (type == "https") {
      client.connection = ConnectionType::kHttps;
    } else if (type == "https-client-cert") {
      client.connection = ConnectionType::kHttpsClientCert;
    } else {
      s.Error("connection", "\"" + type + "\" is not one of http, https, https-client-cert");
    }
    for (const std::string& file : s.StringList("certificates")) {
      auto cert = crypto::Certificate::LoadPemFile(resolve(file));
      if (!cert) {
        s.Error("certificates", cert.error().message());
      } else {
        client.certificate_sha256.push_back(cert->Sha256Fingerprint());
      }
    }
    if (client.connection == ConnectionType::kHttpsClientCert &&
        client.certificate_sha256.empty()) {
      s.Error("certificates", "https-client-cert needs at least one certificate");
    }
    c.clients.push_back(std::move(client));
  }

  for (ConfigSection& s : root.SectionList("service")) {
    LocalService service;
    auto id = ServiceId::Parse(s.RequiredString("id"));
    if (!id) {
      s.Error("id", id.error().message());
    } else {
      service.id = *id;
    }
    service.backend_url = s.RequiredString("backend");
    if (!service.backend_url.empty() && service.backend_url.rfind("http://", 0) != 0 &&
        service.backend_url.rfind("https://", 0) != 0) {
      s.Error("backend", "must be an http:// or https:// URL");
    }
    service.openapi_file = resolve(s.String("openapi", ""));
    service.timeout = std::chrono::milliseconds(s.Int("timeout_ms", 30'000, 100, 3'600'000));
    c.services.push_back(std::move(service));
  }

  ConfigSection limits = root.Section("limits");
  c.max_body_bytes =
      static_cast<size_t>(limits.Int("max_body_bytes", 10 * 1024 * 1024, 1024, int64_t{1} << 32));
  c.exchange_timeout =
      std::chrono::milliseconds(limits.Int("exchange_timeout_ms", 60'000, 100, 3'600'000));

  ConfigSection log = root.Section("message_log");
  std::string sync = log.String("synchronous", "full");
  if (sync != "full" && sync != "normal") {
    log.Error("synchronous", "must be \"full\" or \"normal\"");
  }
  c.sync_full = sync == "full";
  c.commit_delay = std::chrono::microseconds(log.Int("commit_delay_us", 1000, 0, 100'000));

  ConfigSection ts = root.Section("timestamping");
  c.timestamping.authorities = ts.StringList("authorities");
  for (const std::string& url : c.timestamping.authorities) {
    if (!http::ParseUrl(url))
      ts.Error("authorities", "\"" + url + "\" is not an http:// or https:// URL");
  }
  c.timestamping.max_batch = ts.Int("max_batch", 10'000, 1, 1'000'000);
  c.timestamping.interval = std::chrono::milliseconds(ts.Int("interval_ms", 1'000, 10, 3'600'000));
  c.timestamping.acceptable_failure =
      std::chrono::seconds(ts.Int("acceptable_failure_s", 14'400, 1, 7 * 86'400));
  c.timestamping.request_timeout =
      std::chrono::milliseconds(ts.Int("request_timeout_ms", 10'000, 100, 600'000));

  ConfigSection lg = root.Section("ledger");
  c.ledger.enabled = lg.Bool("enabled", true);
  c.ledger.max_batch = lg.Int("max_batch", 1'000, 1, 1'000);
  c.ledger.interval = std::chrono::milliseconds(lg.Int("interval_ms", 1'000, 10, 3'600'000));
  c.ledger.retry_min = std::chrono::milliseconds(lg.Int("retry_min_ms", 1'000, 10, 3'600'000));
  c.ledger.retry_max = std::chrono::milliseconds(lg.Int("retry_max_ms", 60'000, 10, 3'600'000));
  if (c.ledger.retry_max < c.ledger.retry_min) {
    lg.Error("retry_max_ms", "must not be less than retry_min_ms");
  }
  c.ledger.request_timeout =
      std::chrono::milliseconds(lg.Int("request_timeout_ms", 10'000, 100, 600'000));

  ConfigSection rt = root.Section("retention");
  constexpr int64_t kMaxAgeDays = 100 * 366;
  const int64_t age_days = rt.Int("max_age_days", 0, 0, kMaxAgeDays);
  // Seconds for tests and demonstrations, where days are too coarse.
  const int64_t age_s = rt.Int("max_age_s", 0, 0, kMaxAgeDays * 86'400);
  if (rt.Has("max_age_days") && rt.Has("max_age_s")) {
    rt.Error("max_age_s", "set max_age_days or max_age_s, not both");
  }
  c.retention.max_age = std::chrono::seconds(rt.Has("max_age_s") ? age_s : age_days * 86'400);
  std::optional<std::string> archive_dir = rt.OptionalString("archive_dir");
  if (archive_dir && archive_dir->empty()) rt.Error("archive_dir", "must not be empty");
  c.retention.archive_dir = archive_dir && !archive_dir->empty()
                                ? resolve(*archive_dir)
                                : (fs::path(c.data_dir) / "archive").string();
  c.retention.interval = std::chrono::seconds(rt.Int("interval_s", 3'600, 1, 7 * 86'400));
  c.retention.max_records_per_file = rt.Int("max_records_per_file", 10'000, 1, 10'000'000);
  if (c.retention.max_age.count() > 0 && c.timestamping.authorities.empty()) {
    rt.Error(rt.Has("max_age_s") ? "max_age_s" : "max_age_days",
             "archives only timestamped records: set [timestamping] authorities too");
  }

  const LogSettings logging = ReadLogSettings(root.Section("logging"));
  c.log_level = logging.level;
  c.log_json = logging.json;

  TROAD_RETURN_IF_ERROR(doc->Finish());
  return c;
}

}  // namespace troad::gateway
