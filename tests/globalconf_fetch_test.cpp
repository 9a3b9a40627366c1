// Gateways that follow the central: MOI's and BLI's gateways are switched from the
// unsigned file `troad init` wrote to an anchor pointing at an in-test publisher
// (globalconf/test_publisher.h, a stand-in for the central) that serves the same
// network's configuration signed with a test configuration key. The tests publish new
// versions and check that real exchanges follow them without a restart — grants,
// revocations, addresses, members — that refused copies are counted and change
// nothing, that a restart with the central down serves the cached copy, that a
// gateway with no copy refuses exchanges until one arrives, and that an expired copy
// stops exchanges.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "crypto/x509.h"
#include "globalconf/anchor.h"
#include "globalconf/signed.h"
#include "globalconf/test_publisher.h"
#include "network_fixture.h"
#include "test_files.h"

namespace troad::testing {
namespace {

using http::bhttp::verb;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kWait = std::chrono::seconds(20);

class GlobalConfFetchTest : public NetworkTest {
 public:
  static void TearDownTestSuite() {
    NetworkTest::TearDownTestSuite();  // stops the gateways first
    publisher_.reset();
    io_.reset();
    conf_key_.reset();
    ca_key_.reset();
    ca_.reset();
    switched_ = false;
  }

 protected:
  void SetUp() override {
    NetworkTest::SetUp();
    if (HasFatalFailure() || switched_) return;
    SwitchToAnchor();
    ASSERT_FALSE(HasFatalFailure()) << Diag();
    switched_ = true;
  }

  // Starts the publisher with `troad init`'s configuration as version 2, and restarts
  // MOI's and BLI's gateways with an anchor instead of the file.
  void SwitchToAnchor() {
    io_ = std::make_unique<http::testing::IoThread>();
    conf_key_.emplace(*crypto::PrivateKey::GenerateEcP256());
    auto ca_key = crypto::PrivateKey::LoadPemFile(net().dir() + "/net/ca/ca.key");
    ASSERT_TRUE(ca_key) << ca_key.error().ToString();
    auto ca = crypto::Certificate::LoadPemFile(net().dir() + "/net/ca/ca.crt");
    ASSERT_TRUE(ca) << ca.error().ToString();
    ca_key_.emplace(*ca_key);
    ca_.emplace(*ca);
    auto server_key = crypto::PrivateKey::GenerateEcP256();
    publisher_ = std::make_unique<globalconf::testing::TestPublisher>(
        *io_,
        globalconf::testing::IssueServerCertificate(*ca_, *ca_key_, *server_key, {"127.0.0.1"}),
        *server_key);

    base_ = json::parse(ReadText(net().dir() + "/net/globalconf.json"));
    version_ = base_["version"].get<int64_t>();
    const int64_t first = PublishSigned(base_);

    for (Gw gw : {Gw::kMoi, Gw::kBli}) {
      SwitchGateway(gw, publisher_->url());
      ASSERT_FALSE(HasFatalFailure());
      ASSERT_TRUE(WaitForVersion(gw, first)) << Diag();
    }
  }

  // Writes an anchor for `url` beside the gateway's gateway.toml, points the gateway
  // at it (refreshing every second), and restarts it.
  void SwitchGateway(Gw gw, const std::string& url) {
    globalconf::Anchor anchor{"TW", url, {conf_key_->Public()}, *ca_, SystemClock::Get().Now()};
    WriteText(net().GatewayDir(gw) + "/anchor.json", globalconf::WriteAnchor(anchor));
    ASSERT_NE(net().StopGateway(gw, 5s), -1);
    const std::string file = net().GatewayDir(gw) + "/gateway.toml";
    std::string toml = ReadText(file);
    const std::string from = "globalconf = \"../globalconf.json\"\n";
    const size_t at = toml.find(from);
    if (at != std::string::npos) {
      toml.replace(at, from.size(), "anchor = \"anchor.json\"\nglobalconf_refresh_s = 1\n");
      WriteText(file, toml);
    }
    ASSERT_NE(toml.find("anchor = \"anchor.json\""), std::string::npos) << toml;
    auto st = net().StartGateway(gw);
    ASSERT_TRUE(st) << st.error().message() << Diag();
  }

  // Publishes `doc` as the next version, signed; returns the version.
  static int64_t PublishSigned(json doc) {
    doc["version"] = ++version_;
    const std::string text = doc.dump(2);
    auto sig = globalconf::SignDocument(text, *conf_key_);
    EXPECT_TRUE(sig) << sig.error().ToString();
    publisher_->Publish(text, *sig);
    published_ = text;
    return version_;
  }

  json Healthz(Gw gw) {
    auto res = net().Call(net().ports(gw).admin, http::Request{verb::get, "/healthz", 11});
    if (!res) return json();
    json j = json::parse(res->body(), nullptr, false);
    if (j.is_object()) j["http_status"] = res->result_int();
    return j;
  }

  ::testing::AssertionResult WaitForVersion(Gw gw, int64_t version) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    json last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = Healthz(gw);
      if (last.is_object() && last["globalconf_version"] == version) {
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(100ms);
    }
    return ::testing::AssertionFailure() << GatewayName(gw) << " did not adopt version " << version
                                         << "; /healthz: " << last.dump();
  }

  // The value of one line of /metrics ("name{labels}"), or -1.
  double Metric(Gw gw, const std::string& series) {
    auto res = net().Call(net().ports(gw).admin, http::Request{verb::get, "/metrics", 11});
    if (!res) return -1;
    std::istringstream lines(res->body());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }
  double Rejected(Gw gw, const std::string& reason) {
    return Metric(gw, "troad_gateway_globalconf_rejected_total{reason=\"" + reason + "\"}");
  }
  ::testing::AssertionResult WaitForRejection(Gw gw, const std::string& reason, double above) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Rejected(gw, reason) > above) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(100ms);
    }
    return ::testing::AssertionFailure() << GatewayName(gw) << " never rejected a copy as "
                                         << reason << "; healthz: " << Healthz(gw).dump();
  }

  Answer Call(Gw gw, std::string_view client, const std::string& tag, std::string* id = nullptr) {
    std::string message_id = NewTestMessageId(tag);
    if (id != nullptr) *id = message_id;
    auto res = net().Call(
        net().ports(gw).consumer,
        MakeRestRequest(verb::get, "/r1/TW/GOV/MOI/household/echo/" + tag, client, message_id));
    if (!res) return Answer{0, {}, res.error().message()};
    return FromResponse(*res);
  }
  Answer Echo(const std::string& tag) { return Call(Gw::kBli, kBliClient, tag); }

  // Publishes the base configuration again (as a new version) and waits for both.
  void Restore() {
    const int64_t v = PublishSigned(base_);
    ASSERT_TRUE(WaitForVersion(Gw::kMoi, v)) << Diag();
    ASSERT_TRUE(WaitForVersion(Gw::kBli, v)) << Diag();
  }

  static std::unique_ptr<http::testing::IoThread> io_;
  static std::unique_ptr<globalconf::testing::TestPublisher> publisher_;
  static std::optional<crypto::PrivateKey> conf_key_;
  static std::optional<crypto::PrivateKey> ca_key_;
  static std::optional<crypto::Certificate> ca_;
  static json base_;
  static int64_t version_;
  static std::string published_;  // the last document published signed
  static bool switched_;
};

std::unique_ptr<http::testing::IoThread> GlobalConfFetchTest::io_;
std::unique_ptr<globalconf::testing::TestPublisher> GlobalConfFetchTest::publisher_;
std::optional<crypto::PrivateKey> GlobalConfFetchTest::conf_key_;
std::optional<crypto::PrivateKey> GlobalConfFetchTest::ca_key_;
std::optional<crypto::Certificate> GlobalConfFetchTest::ca_;
json GlobalConfFetchTest::base_;
int64_t GlobalConfFetchTest::version_ = 0;
std::string GlobalConfFetchTest::published_;
bool GlobalConfFetchTest::switched_ = false;

TEST_F(GlobalConfFetchTest, GatewaysServeTheSignedConfigurationAndCacheIt) {
  for (Gw gw : {Gw::kMoi, Gw::kBli}) {
    SCOPED_TRACE(GatewayName(gw));
    json h = Healthz(gw);
    EXPECT_EQ(h["status"], "ok") << h.dump();
    EXPECT_EQ(h["http_status"], 200);
    EXPECT_EQ(h["globalconf_source"], "anchor");
    EXPECT_EQ(h["globalconf_version"], version_);
    EXPECT_EQ(h["globalconf_fetch"]["central_url"], publisher_->url());
    EXPECT_TRUE(h["globalconf_fetch"]["last_success"].is_string()) << h.dump();
    // The exact bytes served and their signature, as the last good copy.
    const std::string cache = net().GatewayDir(gw) + "/data/globalconf/";
    EXPECT_EQ(ReadText(cache + "globalconf.json"), published_);
    EXPECT_TRUE(std::filesystem::exists(cache + "globalconf.json.sig"));
    EXPECT_EQ(Metric(gw, "troad_gateway_globalconf_version"), static_cast<double>(version_));
    EXPECT_GT(Metric(gw, "troad_gateway_globalconf_expires_seconds"), 3600);
  }
  Answer a = Echo("signed-conf");
  EXPECT_EQ(a.status, 200u) << a.body << Diag();
  // Once they hold a copy the gateways ask with If-None-Match (and are told 304).
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  bool conditional = false;
  while (!conditional && std::chrono::steady_clock::now() < deadline) {
    for (const auto& seen : publisher_->seen()) conditional |= !seen.if_none_match.empty();
    if (!conditional) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(conditional);
  EXPECT_GT(Metric(Gw::kBli, "troad_gateway_globalconf_fetches_total{outcome=\"updated\"}"), 0);
}

TEST_F(GlobalConfFetchTest, GrantsRevocationsAndAddressesChangeWithoutARestart) {
  ASSERT_EQ(Echo("before").status, 200u) << Diag();

  // The grant for echo is withdrawn: MOI refuses.
  json no_grant = base_;
  json grants = json::array();
  for (const json& g : base_["grants"]) {
    if (g["service"] != std::string(kMoiSubsystem) + "/echo") grants.push_back(g);
  }
  ASSERT_LT(grants.size(), base_["grants"].size());
  no_grant["grants"] = grants;
  int64_t v = PublishSigned(no_grant);
  ASSERT_TRUE(WaitForVersion(Gw::kMoi, v)) << Diag();
  EXPECT_TRUE(IsFault(Echo("no-grant"), 500, "Server.ServerProxy.AccessDenied")) << Diag();

  // BLI's authentication certificate is revoked: MOI refuses the connection's owner.
  json revoked = base_;
  std::string bli_cert_fp;
  for (const json& g : base_["gateways"]) {
    const std::string id = g["id"];
    if (id.ends_with("/" + GatewayName(Gw::kBli))) {
      bli_cert_fp = crypto::Certificate::FromPem(g["auth_certificate"].get<std::string>())
                        ->Sha256Fingerprint();
    }
  }
  ASSERT_FALSE(bli_cert_fp.empty());
  revoked["revoked_certificates"] = json::array({bli_cert_fp});
  v = PublishSigned(revoked);
  ASSERT_TRUE(WaitForVersion(Gw::kMoi, v)) << Diag();
  EXPECT_TRUE(IsFault(Echo("revoked"), 500, "Server.ServerProxy.SslAuthenticationFailed"))
      << Diag();

  // MOI's gateway moves to an address where nothing listens: BLI follows it there; and
  // a new member appears in BLI's listClients.
  json moved = base_;
  for (json& g : moved["gateways"]) {
    const std::string id = g["id"];
    if (id.ends_with("/" + GatewayName(Gw::kMoi))) g["address"] = "127.0.0.1:1";
  }
  moved["members"].push_back({{"id", "TW/GOV/NEWAGENCY"}, {"name", "新機關"}});
  v = PublishSigned(moved);
  ASSERT_TRUE(WaitForVersion(Gw::kBli, v)) << Diag();
  Answer gone = Echo("moved");
  EXPECT_TRUE(IsFault(gone, 500, "Server.ClientProxy.NetworkError")) << Diag();
  EXPECT_NE(gone.body.find("127.0.0.1:1"), std::string::npos) << gone.body;
  CurlResult clients = net().Curl(Gw::kBli, "/listClients", {"-H", "Accept: application/json"});
  EXPECT_NE(clients.body.find("NEWAGENCY"), std::string::npos) << clients.body;

  Restore();
  EXPECT_EQ(Echo("restored").status, 200u) << Diag();
}

TEST_F(GlobalConfFetchTest, RefusedCopiesAreCountedAndChangeNothing) {
  const std::string good = published_;
  const int64_t held = version_;
  const std::string cache = net().GatewayDir(Gw::kBli) + "/data/globalconf/globalconf.json";
  ASSERT_EQ(ReadText(cache), good);

  struct Case {
    std::string reason;
    std::function<void()> publish;
  };
  auto other_key = crypto::PrivateKey::GenerateEcP256();
  const std::vector<Case> cases = {
      {"older",
       [&] {
         json doc = base_;
         doc["version"] = held - 1;
         const std::string text = doc.dump(2);
         publisher_->Publish(text, *globalconf::SignDocument(text, *conf_key_));
       }},
      {"unsigned",
       [&] {
         json doc = base_;
         doc["version"] = held + 100;
         publisher_->Publish(doc.dump(2), "");
       }},
      {"untrusted-key",
       [&] {
         json doc = base_;
         doc["version"] = held + 101;
         const std::string text = doc.dump(2);
         publisher_->Publish(text, *globalconf::SignDocument(text, *other_key));
       }},
      {"bad-signature",
       [&] {
         json doc = base_;
         doc["version"] = held + 102;
         const std::string text = doc.dump(2);
         // A copy altered after it was signed: served with the original's signature.
         publisher_->Publish(text + " ", *globalconf::SignDocument(text, *conf_key_));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    const double before = std::max(0.0, Rejected(Gw::kBli, c.reason));
    c.publish();
    ASSERT_TRUE(WaitForRejection(Gw::kBli, c.reason, before)) << Diag();
    json h = Healthz(Gw::kBli);
    EXPECT_EQ(h["status"], "ok");
    EXPECT_EQ(h["globalconf_version"], held);
    EXPECT_EQ(h["globalconf_fetch"]["last_rejection_reason"], c.reason) << h.dump();
    EXPECT_EQ(ReadText(cache), good);
    EXPECT_EQ(Echo("refused-" + c.reason).status, 200u) << Diag();
  }
  Restore();
}

TEST_F(GlobalConfFetchTest, RestartWithTheCentralDownServesTheCachedCopy) {
  const int64_t held = version_;
  publisher_->FailWith(503);
  ASSERT_NE(net().StopGateway(Gw::kBli, 5s), -1);
  auto st = net().StartGateway(Gw::kBli);
  ASSERT_TRUE(st) << st.error().message() << Diag();
  json h = Healthz(Gw::kBli);
  EXPECT_EQ(h["status"], "ok") << h.dump();
  EXPECT_EQ(h["globalconf_version"], held);
  EXPECT_EQ(Echo("cached").status, 200u) << Diag();
  EXPECT_TRUE(WaitForRejection(Gw::kBli, "http-status", 0)) << Diag();
  publisher_->FailWith(0);
}

TEST_F(GlobalConfFetchTest, WithoutAnyCopyExchangesAreRefusedUntilOneArrives) {
  // TAX's gateway starts for the first time from an anchor while the central is down.
  publisher_->FailWith(503);
  SwitchGateway(Gw::kTax, publisher_->url());
  ASSERT_FALSE(HasFatalFailure());
  json h = Healthz(Gw::kTax);
  EXPECT_EQ(h["status"], "no-globalconf") << h.dump();
  EXPECT_EQ(h["http_status"], 503);
  EXPECT_TRUE(h["globalconf_version"].is_null());
  FaultBody body;
  std::string id;
  EXPECT_TRUE(IsFault(Call(Gw::kTax, kTaxClient, "no-conf", &id), 500,
                      "Server.ClientProxy.OutdatedGlobalConf", &body))
      << Diag();
  EXPECT_NE(body.message.find("no global configuration"), std::string::npos) << body.message;
  // Recorded like every refusal, with what the caller asked for.
  auto records = net().Records(Gw::kTax, "message_id", id);
  ASSERT_TRUE(records) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().fault, "Server.ClientProxy.OutdatedGlobalConf");
  EXPECT_EQ(records->front().service, std::string(kMoiSubsystem) + "/echo");
  EXPECT_EQ(Metric(Gw::kTax, "troad_gateway_globalconf_version"), 0);

  // The central is back: the gateway picks the copy up without a restart.
  publisher_->FailWith(0);
  ASSERT_TRUE(WaitForVersion(Gw::kTax, version_)) << Diag();
  // TAX holds no grant for echo: refused by MOI now, not by its own gateway.
  EXPECT_TRUE(
      IsFault(Call(Gw::kTax, kTaxClient, "has-conf"), 500, "Server.ServerProxy.AccessDenied"))
      << Diag();
}

TEST_F(GlobalConfFetchTest, ExpiredCopyStopsExchanges) {
  json expiring = base_;
  const SystemTime expires = SystemClock::Get().Now() + 4s;
  expiring["expires_at"] = FormatRfc3339(expires);
  const int64_t v = PublishSigned(expiring);
  ASSERT_TRUE(WaitForVersion(Gw::kBli, v)) << Diag();
  std::this_thread::sleep_until(expires + 1500ms);

  json h = Healthz(Gw::kBli);
  EXPECT_EQ(h["status"], "outdated-globalconf") << h.dump();
  EXPECT_EQ(h["http_status"], 503);
  EXPECT_LT(Metric(Gw::kBli, "troad_gateway_globalconf_expires_seconds"), 0);
  EXPECT_TRUE(IsFault(Echo("expired"), 500, "Server.ClientProxy.OutdatedGlobalConf")) << Diag();

  Restore();
  EXPECT_EQ(Echo("renewed").status, 200u) << Diag();
}

}  // namespace
}  // namespace troad::testing
