#include "gateway/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "crypto/ca.h"

namespace troad::gateway {
namespace {

namespace fs = std::filesystem;

// A fresh directory holding <dir>/gw/gateway.toml and a client certificate, removed
// with everything in it.
class GatewayConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troad-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "gw");

    FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
    auto key = crypto::PrivateKey::GenerateEcP256();
    ASSERT_TRUE(key);
    crypto::CertificateRequest req;
    req.common_name = "local information system";
    auto cert = crypto::CreateSelfSignedCa(*key, req, clock);
    ASSERT_TRUE(cert) << cert.error().ToString();
    client_cert_sha256_ = cert->Sha256Fingerprint();
    Write(root_ / "gw" / "clients" / "insurance.crt", cert->ToPem());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }

  // Every key gateway.toml knows, with relative paths wherever a file is named.
  static std::string FullConfig() {
    return R"toml(
[gateway]
id = "TW/GOV/MOI/gw1"
globalconf = "../globalconf.json"
globalconf_refresh_s = 30
data_dir = "data"
threads = 4

[listen]
consumer = "127.0.0.1:8080"
consumer_tls = "127.0.0.1:8081"
provider = "[::1]:8443"
admin = "localhost:4000"

[tls]
certificate = "auth.crt"
key = "keys/auth.key"
local_certificate = "local.crt"
local_key = "/etc/troad/local.key"

[[signing]]
member = "TW/GOV/MOI"
certificate = "sign-GOV-MOI.crt"
key = "sign-GOV-MOI.key"

[[signing]]
member = "TW/GOV/BLI"
certificate = "sign-GOV-BLI.crt"
key = "sign-GOV-BLI.key"

[[client]]
id = "TW/GOV/MOI/household"

[[client]]
id = "TW/GOV/MOI/web"
connection = "https"

[[client]]
id = "TW/GOV/BLI/insurance"
connection = "https-client-cert"
certificates = ["clients/insurance.crt"]

[[service]]
id = "TW/GOV/MOI/household/getRecord"
backend = "http://127.0.0.1:9000/household"
openapi = "openapi/household.yaml"
timeout_ms = 5000

[[service]]
id = "TW/GOV/MOI/household/listRecords"
backend = "https://records.moi.example/v2"

[limits]
max_body_bytes = 2097152
exchange_timeout_ms = 15000

[message_log]
synchronous = "normal"
commit_delay_us = 250

[logging]
level = "debug"
format = "text"
)toml";
  }

  std::string ConfigPath() const { return (root_ / "gw" / "gateway.toml").string(); }
  std::string Abs(const std::string& rel) const {
    return (root_ / rel).lexically_normal().string();
  }

  Result<GatewayConfig> LoadText(const std::string& text) {
    Write(ConfigPath(), text);
    return GatewayConfig::Load(ConfigPath());
  }

  // Replaces the first occurrence of `from` in the full configuration.
  static std::string FullWith(const std::string& from, const std::string& to) {
    std::string text = FullConfig();
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }

  // Loads `text` and expects a refusal whose message contains every one of `needles`
  // (the key path, and what is wrong).
  void ExpectRefused(const std::string& text, std::initializer_list<std::string> needles) {
    auto config = LoadText(text);
    ASSERT_FALSE(config) << "accepted:\n" << text;
    EXPECT_EQ(config.error().code(), ErrorCode::kInvalidArgument);
    for (const std::string& needle : needles) {
      EXPECT_NE(config.error().message().find(needle), std::string::npos)
          << "message does not contain \"" << needle << "\": " << config.error().message();
    }
    // Every message names the file, so the operator knows which one to open.
    EXPECT_NE(config.error().message().find(ConfigPath()), std::string::npos)
        << config.error().message();
  }

  fs::path root_;
  std::string client_cert_sha256_;
};

TEST_F(GatewayConfigTest, FullConfigurationLoadsWithRelativePathsResolved) {
  auto c = LoadText(FullConfig());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->config_file, ConfigPath());
  EXPECT_EQ(c->id.ToString(), "TW/GOV/MOI/gw1");
  EXPECT_EQ(c->globalconf_file, Abs("globalconf.json"));
  EXPECT_EQ(c->anchor_file, "");
  EXPECT_EQ(c->globalconf_refresh, std::chrono::seconds(30));
  EXPECT_EQ(c->data_dir, Abs("gw/data"));
  EXPECT_EQ(c->GlobalConfCacheDir(), Abs("gw/data/globalconf"));
  EXPECT_EQ(c->threads, 4);

  EXPECT_EQ(c->consumer_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->consumer_tls_listen, "127.0.0.1:8081");
  EXPECT_EQ(c->provider_listen, "[::1]:8443");
  EXPECT_EQ(c->admin_listen, "localhost:4000");

  EXPECT_EQ(c->auth_certificate_file, Abs("gw/auth.crt"));
  EXPECT_EQ(c->auth_key_file, Abs("gw/keys/auth.key"));
  EXPECT_EQ(c->local_tls_certificate_file, Abs("gw/local.crt"));
  EXPECT_EQ(c->local_tls_key_file, "/etc/troad/local.key");  // absolute stays as is

  ASSERT_EQ(c->signing_keys.size(), 2u);
  EXPECT_EQ(c->signing_keys[0].member.ToString(), "TW/GOV/MOI");
  EXPECT_EQ(c->signing_keys[0].certificate_file, Abs("gw/sign-GOV-MOI.crt"));
  EXPECT_EQ(c->signing_keys[0].key_file, Abs("gw/sign-GOV-MOI.key"));
  const SigningKey* bli = c->FindSigningKey(*ClientId::Parse("TW/GOV/BLI"));
  ASSERT_NE(bli, nullptr);
  EXPECT_EQ(bli->key_file, Abs("gw/sign-GOV-BLI.key"));
  EXPECT_EQ(c->FindSigningKey(*ClientId::Parse("TW/GOV/TAX")), nullptr);

  ASSERT_EQ(c->clients.size(), 3u);
  EXPECT_EQ(c->clients[0].id.ToString(), "TW/GOV/MOI/household");
  EXPECT_EQ(c->clients[0].connection, ConnectionType::kHttp);  // the default
  EXPECT_EQ(c->clients[1].connection, ConnectionType::kHttps);
  const LocalClient* insurance = c->FindClient(*ClientId::Parse("TW/GOV/BLI/insurance"));
  ASSERT_NE(insurance, nullptr);
  EXPECT_EQ(insurance->connection, ConnectionType::kHttpsClientCert);
  EXPECT_EQ(insurance->certificate_sha256, std::vector<std::string>{client_cert_sha256_});
  EXPECT_EQ(c->FindClient(*ClientId::Parse("TW/GOV/BLI/other")), nullptr);

  ASSERT_EQ(c->services.size(), 2u);
  const LocalService* get = c->FindService(*ServiceId::Parse("TW/GOV/MOI/household/getRecord"));
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->backend_url, "http://127.0.0.1:9000/household");
  EXPECT_EQ(get->openapi_file, Abs("gw/openapi/household.yaml"));
  EXPECT_EQ(get->timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->services[1].backend_url, "https://records.moi.example/v2");
  EXPECT_EQ(c->services[1].openapi_file, "");
  EXPECT_EQ(c->services[1].timeout, std::chrono::milliseconds(30'000));  // the default
  EXPECT_EQ(c->FindService(*ServiceId::Parse("TW/GOV/MOI/household/nothing")), nullptr);

  EXPECT_EQ(c->max_body_bytes, 2097152u);
  EXPECT_EQ(c->exchange_timeout, std::chrono::milliseconds(15'000));
  EXPECT_FALSE(c->sync_full);
  EXPECT_EQ(c->commit_delay, std::chrono::microseconds(250));
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_FALSE(c->log_json);
}

TEST_F(GatewayConfigTest, MinimalConfigurationGetsSafeDefaults) {
  auto c = LoadText(R"toml(
[gateway]
id = "TW/GOV/MOI/gw1"
globalconf = "/srv/troad/globalconf.json"
[tls]
certificate = "auth.crt"
key = "auth.key"
)toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->globalconf_file, "/srv/troad/globalconf.json");
  EXPECT_EQ(c->anchor_file, "");
  EXPECT_EQ(c->globalconf_refresh, std::chrono::seconds(0));  // the document's interval
  EXPECT_EQ(c->data_dir, Abs("gw/data"));
  EXPECT_EQ(c->threads, 0);
  EXPECT_EQ(c->consumer_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->consumer_tls_listen, "");
  EXPECT_EQ(c->admin_listen, "127.0.0.1:4000");
  EXPECT_TRUE(c->signing_keys.empty());
  EXPECT_TRUE(c->clients.empty());
  EXPECT_TRUE(c->services.empty());
  EXPECT_EQ(c->max_body_bytes, 10u * 1024 * 1024);
  EXPECT_TRUE(c->sync_full);
  EXPECT_EQ(c->commit_delay, std::chrono::microseconds(1000));
  EXPECT_TRUE(c->log_json);
  EXPECT_EQ(c->log_level, "info");
}

TEST_F(GatewayConfigTest, AnchorInsteadOfAGlobalConfigurationFile) {
  auto c = LoadText(FullWith("globalconf = \"../globalconf.json\"", "anchor = \"anchor.json\""));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->anchor_file, Abs("gw/anchor.json"));
  EXPECT_EQ(c->globalconf_file, "");
  EXPECT_EQ(c->GlobalConfCacheDir(), Abs("gw/data/globalconf"));
  EXPECT_EQ(c->globalconf_refresh, std::chrono::seconds(30));

  auto absolute = LoadText(
      FullWith("globalconf = \"../globalconf.json\"", "anchor = \"/etc/troad/anchor.json\""));
  ASSERT_TRUE(absolute) << absolute.error().ToString();
  EXPECT_EQ(absolute->anchor_file, "/etc/troad/anchor.json");
}

TEST_F(GatewayConfigTest, ExactlyOneOfAnchorAndGlobalconf) {
  ExpectRefused(FullWith("globalconf = \"../globalconf.json\"",
                         "globalconf = \"../globalconf.json\"\nanchor = \"anchor.json\""),
                {"gateway.anchor", "not both"});
  ExpectRefused(FullWith("globalconf = \"../globalconf.json\"\n", ""),
                {"gateway.anchor: is required", "or globalconf"});
  ExpectRefused(FullWith("globalconf = \"../globalconf.json\"", "anchor = \"\""),
                {"gateway.anchor: must not be empty"});
  ExpectRefused(FullWith("globalconf = \"../globalconf.json\"", "globalconf = \"\""),
                {"gateway.globalconf: must not be empty"});
  ExpectRefused(FullWith("globalconf = \"../globalconf.json\"", "anchor = 1"),
                {"gateway.anchor: expected a string"});
}

TEST_F(GatewayConfigTest, RefusesRefreshIntervalOutOfRange) {
  ExpectRefused(FullWith("globalconf_refresh_s = 30", "globalconf_refresh_s = -1"),
                {"gateway.globalconf_refresh_s", "out of range [0, 86400]"});
  ExpectRefused(FullWith("globalconf_refresh_s = 30", "globalconf_refresh_s = 86401"),
                {"gateway.globalconf_refresh_s"});
  ExpectRefused(FullWith("globalconf_refresh_s = 30", "globalconf_refresh_s = \"1m\""),
                {"gateway.globalconf_refresh_s: expected an integer"});
}

TEST_F(GatewayConfigTest, LedgerShippingIsOnByDefaultAndItsKeysAreChecked) {
  auto defaults = LoadText(FullConfig());
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_TRUE(defaults->ledger.enabled);
  EXPECT_EQ(defaults->ledger.max_batch, 1000);
  EXPECT_EQ(defaults->ledger.retry_max, std::chrono::milliseconds(60'000));
  auto set = LoadText(FullConfig() +
                      "\n[ledger]\nenabled = false\nmax_batch = 20\ninterval_ms = 50\n"
                      "retry_min_ms = 100\nretry_max_ms = 500\nrequest_timeout_ms = 2000\n");
  ASSERT_TRUE(set) << set.error().ToString();
  EXPECT_FALSE(set->ledger.enabled);
  EXPECT_EQ(set->ledger.max_batch, 20);
  EXPECT_EQ(set->ledger.interval, std::chrono::milliseconds(50));
  EXPECT_EQ(set->ledger.retry_min, std::chrono::milliseconds(100));
  EXPECT_EQ(set->ledger.request_timeout, std::chrono::milliseconds(2000));
  ExpectRefused(FullConfig() + "\n[ledger]\nmax_batch = 1001\n", {"ledger.max_batch"});
  ExpectRefused(FullConfig() + "\n[ledger]\nretry_min_ms = 5000\nretry_max_ms = 1000\n",
                {"ledger.retry_max_ms", "must not be less than retry_min_ms"});
  ExpectRefused(FullConfig() + "\n[ledger]\nenabled = \"yes\"\n", {"ledger.enabled"});
  ExpectRefused(FullConfig() + "\n[ledger]\nurl = \"http://x\"\n", {"ledger.url"});
}

TEST_F(GatewayConfigTest, MissingFileIsNotFound) {
  auto c = GatewayConfig::Load((root_ / "nope.toml").string());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("nope.toml"), std::string::npos);
}

TEST_F(GatewayConfigTest, RefusesTomlSyntaxErrorsWithLineNumber) {
  ExpectRefused("[gateway]\nid = \"TW/GOV/MOI/gw1\nglobalconf = 1\n", {":2:"});
}

TEST_F(GatewayConfigTest, RefusesMissingGatewayId) {
  ExpectRefused(FullWith("id = \"TW/GOV/MOI/gw1\"\n", ""), {"gateway.id: is required"});
  ExpectRefused(FullWith("id = \"TW/GOV/MOI/gw1\"\n", "id = \"\"\n"),
                {"gateway.id: must not be empty"});
  ExpectRefused(FullWith("id = \"TW/GOV/MOI/gw1\"\n", "id = 7\n"), {"gateway.id: expected a string"});
}

TEST_F(GatewayConfigTest, RefusesBadGatewayId) {
  ExpectRefused(FullWith("\"TW/GOV/MOI/gw1\"", "\"TW/GOV/MOI\""),
                {"gateway.id", "INSTANCE/CLASS/MEMBER/CODE"});
  ExpectRefused(FullWith("\"TW/GOV/MOI/gw1\"", "\"TW/GOV/MOI/gw:1\""),
                {"gateway.id", "forbidden character ':'"});
}

TEST_F(GatewayConfigTest, RefusesUnknownKeys) {
  ExpectRefused(FullWith("data_dir =", "datadir ="), {"unknown key(s): gateway.datadir"});
  ExpectRefused(FullWith("timeout_ms = 5000", "timeout = 5000"),
                {"unknown key(s): service[0].timeout"});
  ExpectRefused(FullConfig() + "\n[metrics]\nlisten = \"127.0.0.1:9100\"\n",
                {"unknown key(s): metrics"});
  ExpectRefused(FullWith("[[client]]\nid = \"TW/GOV/MOI/web\"",
                         "[[client]]\nid = \"TW/GOV/MOI/web\"\nconection = \"https\""),
                {"client[1].conection"});
}

TEST_F(GatewayConfigTest, RefusesBadListenAddresses) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:80a", "127.0.0.1:65536",
                          "[::1:8080", "[]:8080"}) {
    SCOPED_TRACE(bad);
    ExpectRefused(FullWith("\"127.0.0.1:8080\"", std::string("\"") + bad + "\""),
                  {"listen.consumer", "is not host:port"});
  }
  ExpectRefused(FullWith("\"[::1]:8443\"", "\"[::1]\""), {"listen.provider"});
  ExpectRefused(FullWith("\"localhost:4000\"", "\"localhost\""), {"listen.admin"});
  ExpectRefused(FullWith("\"127.0.0.1:8081\"", "\"x:y\""), {"listen.consumer_tls"});
}

TEST_F(GatewayConfigTest, RefusesBadConnectionType) {
  ExpectRefused(FullWith("connection = \"https\"", "connection = \"tls\""),
                {"client[1].connection", "\"tls\" is not one of http, https, https-client-cert"});
  ExpectRefused(FullWith("connection = \"https\"", "connection = \"HTTPS\""),
                {"client[1].connection"});
}

TEST_F(GatewayConfigTest, RefusesClientCertConnectionWithoutCertificates) {
  ExpectRefused(FullWith("certificates = [\"clients/insurance.crt\"]\n", ""),
                {"client[2].certificates", "needs at least one certificate"});
  ExpectRefused(FullWith("[\"clients/insurance.crt\"]", "[]"), {"client[2].certificates"});
  // A certificate file that does not exist is named in the message.
  ExpectRefused(FullWith("clients/insurance.crt", "clients/missing.crt"),
                {"client[2].certificates", "missing.crt"});
}

TEST_F(GatewayConfigTest, RefusesClientThatIsNotASubsystem) {
  ExpectRefused(FullWith("id = \"TW/GOV/MOI/household\"", "id = \"TW/GOV/MOI\""),
                {"client[0].id", "must name a subsystem"});
}

TEST_F(GatewayConfigTest, RefusesBadBackendUrl) {
  for (const char* bad : {"ftp://127.0.0.1/x", "127.0.0.1:9000", "file:///etc/passwd", "http:/x"}) {
    SCOPED_TRACE(bad);
    ExpectRefused(FullWith("http://127.0.0.1:9000/household", bad),
                  {"service[0].backend", "must be an http:// or https:// URL"});
  }
  ExpectRefused(FullWith("backend = \"https://records.moi.example/v2\"\n", ""),
                {"service[1].backend: is required"});
}

TEST_F(GatewayConfigTest, RefusesSigningMemberThatIsASubsystem) {
  ExpectRefused(FullWith("member = \"TW/GOV/BLI\"", "member = \"TW/GOV/BLI/insurance\""),
                {"signing[1].member", "must name a member, not a subsystem"});
  ExpectRefused(FullWith("member = \"TW/GOV/BLI\"", "member = \"TW/GOV\""),
                {"signing[1].member"});
}

TEST_F(GatewayConfigTest, RefusesTimeoutsOutOfRange) {
  ExpectRefused(FullWith("timeout_ms = 5000", "timeout_ms = 99"),
                {"service[0].timeout_ms", "99 is out of range [100, 3600000]"});
  ExpectRefused(FullWith("timeout_ms = 5000", "timeout_ms = 3600001"),
                {"service[0].timeout_ms"});
  ExpectRefused(FullWith("timeout_ms = 5000", "timeout_ms = \"5s\""),
                {"service[0].timeout_ms: expected an integer"});
  ExpectRefused(FullWith("exchange_timeout_ms = 15000", "exchange_timeout_ms = 0"),
                {"limits.exchange_timeout_ms"});
}

TEST_F(GatewayConfigTest, RefusesOtherBadValues) {
  ExpectRefused(FullWith("threads = 4", "threads = -1"), {"gateway.threads"});
  ExpectRefused(FullWith("max_body_bytes = 2097152", "max_body_bytes = 10"),
                {"limits.max_body_bytes"});
  ExpectRefused(FullWith("synchronous = \"normal\"", "synchronous = \"off\""),
                {"message_log.synchronous"});
  ExpectRefused(FullWith("commit_delay_us = 250", "commit_delay_us = 100001"),
                {"message_log.commit_delay_us"});
  ExpectRefused(FullWith("commit_delay_us = 250", "commit_delay_us = -1"),
                {"message_log.commit_delay_us"});
  ExpectRefused(FullWith("format = \"text\"", "format = \"xml\""), {"logging.format"});
  ExpectRefused(FullWith("key = \"keys/auth.key\"\n", ""), {"tls.key: is required"});
  ExpectRefused(FullWith("id = \"TW/GOV/MOI/household/getRecord\"",
                         "id = \"TW/GOV/MOI/household\""),
                {"service[0].id"});
}

TEST_F(GatewayConfigTest, ReportsEveryErrorNotOnlyTheFirst) {
  std::string text = FullWith("connection = \"https\"", "connection = \"tls\"");
  size_t at = text.find("timeout_ms = 5000");
  text.replace(at, 17, "timeout_ms = 1");
  ExpectRefused(text, {"client[1].connection", "service[0].timeout_ms"});
}

// ---- SplitHostPort -----------------------------------------------------------------

TEST(SplitHostPortTest, SplitsNamesAndAddresses) {
  auto v4 = SplitHostPort("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 8080);

  auto v6 = SplitHostPort("[::1]:8443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 8443);

  auto v6full = SplitHostPort("[2001:db8::7]:65535");
  ASSERT_TRUE(v6full);
  EXPECT_EQ(v6full->first, "2001:db8::7");
  EXPECT_EQ(v6full->second, 65535);

  auto name = SplitHostPort("gw1.moi.gov.tw:443");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->first, "gw1.moi.gov.tw");
  EXPECT_EQ(name->second, 443);

  // Port 0 asks the system for a free port (tests listen so).
  auto any = SplitHostPort("127.0.0.1:0");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->second, 0);
}

TEST(SplitHostPortTest, RefusesMalformedText) {
  for (const char* bad : {"", "host", "host:", ":80", "host:http", "host:-1", "host:65536",
                          "host:99999999999", "[::1]", "[::1", "[::1:80", "[]:80", "host:8 0"}) {
    SCOPED_TRACE(bad);
    auto r = SplitHostPort(bad);
    ASSERT_FALSE(r) << r->first << " " << r->second;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("is not host:port"), std::string::npos);
  }
}

}  // namespace
}  // namespace troad::gateway
