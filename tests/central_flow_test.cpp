// The whole life of a T-Road network run by a central, with real processes only:
// `troad central init` and `troad central`; an operator registers MOI and BLI, their
// subsystems, gateways and MOI's service over the management API; each gateway joins
// with `troad gateway enroll` (its keys stay with it, CSRs travel, an operator approves,
// the certificates are installed and checked with `openssl verify`); the gateways start
// from the anchor and the gateway.toml enroll wrote. Then:
//   - no grant → refused; BLI applies, MOI approves → the first exchange; the grant is
//     withdrawn → refused again; granted again → exchanges;
//   - BLI's authentication certificate is revoked → MOI's gateway refuses it;
//   - the central stops → the gateways' copy expires → exchanges are refused
//     (OutdatedGlobalConf); the central is back → exchanges resume;
//   - every record of both gateways reaches the central ledger, SIGKILL of the central
//     under load loses no entry a gateway was told is in; a ledger restored from an old
//     backup (a fork) raises the gateways' alarm.
// The central publishes with validity_s = 10 and the gateways refresh every second, so
// each change is waited for (bounded polls), never slept on.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <set>
#include <thread>

#include "core/encoding.h"
#include "crypto/x509.h"
#include "gateway/message_log.h"
#include "gateway/shipper.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"
#include "http/client.h"
#include "http/tls.h"
#include "network_fixture.h"
#include "store/database.h"
#include "test_files.h"

namespace troad::testing {
namespace {

namespace fs = std::filesystem;
using http::bhttp::verb;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kWait = 30s;
const std::string kPassword = "central operator password 1";
const std::string kEcho = "TW/GOV/MOI/household/echo";

// Replaces the first `from` in the file with `to`; fails the test when it is absent.
void Patch(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = ReadText(path);
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << path << " has no \"" << from << "\":\n" << text;
  text.replace(at, from.size(), to);
  WriteText(path, text);
}

struct Reply {
  unsigned status = 0;
  json doc;
  std::string body;
};
std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << "HTTP " << r.status << " " << r.body.substr(0, 2000);
}

struct GatewaySetup {
  std::string name;  // "moi-gw"
  std::string id;    // "TW/GOV/MOI/moi-gw"
  std::string client;
  uint16_t consumer = 0, provider = 0, admin = 0;
  std::string dir;
  std::optional<Subprocess> process;
};

class CentralFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "troad-central-flow-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto backends = TestBackends::Start();
    ASSERT_TRUE(backends) << backends.error().ToString();
    backends_ = std::move(*backends);
    for (uint16_t* port : {&central_port_, &moi_.consumer, &moi_.provider, &moi_.admin,
                           &bli_.consumer, &bli_.provider, &bli_.admin}) {
      auto p = PickFreePort();
      ASSERT_TRUE(p) << p.error().ToString();
      *port = *p;
    }
    moi_.name = "moi-gw";
    moi_.id = "TW/GOV/MOI/moi-gw";
    moi_.client = "TW/GOV/MOI/household";
    moi_.dir = dir_ + "/moi-gw";
    bli_.name = "bli-gw";
    bli_.id = "TW/GOV/BLI/bli-gw";
    bli_.client = "TW/GOV/BLI/insurance";
    bli_.dir = dir_ + "/bli-gw";

    // The central, publishing short-lived copies so that expiry can be seen.
    WriteText(dir_ + "/admin-password", kPassword + "\n");
    ASSERT_EQ(Run({TROAD_BINARY, "central", "init", "--dir", CentralDir(), "--listen",
                   fmt::format("127.0.0.1:{}", central_port_), "--admin-password-file",
                   dir_ + "/admin-password"},
                  "init"),
              0)
        << ReadText(dir_ + "/init.log");
    Patch(CentralDir() + "/central.toml", "validity_s = 600\nrefresh_interval_s = 60\n",
          "validity_s = 10\nrefresh_interval_s = 1\n");
    auto ca = crypto::Certificate::LoadPemFile(CentralDir() + "/keys/ca.crt");
    ASSERT_TRUE(ca) << ca.error().ToString();
    auto context = http::MakeClientTlsContextForHost(*ca, "127.0.0.1");
    ASSERT_TRUE(context) << context.error().ToString();
    http::ClientOptions options;
    options.tls = *context;
    api_ = std::make_unique<http::BlockingClient>(options);
    consumer_ = std::make_unique<http::BlockingClient>(http::ClientOptions{});
    StartCentral();
    ASSERT_FALSE(HasFatalFailure());

    // The operator registers the network.
    Reply login = Post("/api/v1/login", {{"username", "operator"}, {"password", kPassword}});
    ASSERT_EQ(login.status, 200u) << login;
    token_ = login.doc["token"].get<std::string>();
    Expect(201, "/api/v1/members",
           {{"id", "TW/GOV/MOI"}, {"name", "內政部"}, {"name_en", "Ministry of the Interior"}});
    Expect(201, "/api/v1/members", {{"id", "TW/GOV/BLI"}, {"name", "勞動部勞工保險局"}});
    Expect(201, "/api/v1/subsystems", {{"id", moi_.client}, {"name", "戶政"}});
    Expect(201, "/api/v1/subsystems", {{"id", bli_.client}, {"name", "勞保"}});
    for (GatewaySetup* gw : {&moi_, &bli_}) {
      Expect(201, "/api/v1/gateways",
             {{"id", gw->id},
              {"address", fmt::format("127.0.0.1:{}", gw->provider)},
              {"clients", {gw->client}}});
    }
    Expect(201, "/api/v1/services", {{"id", kEcho}, {"description", "echo"}});
    ASSERT_FALSE(HasFailure());

    // Each gateway joins.
    for (GatewaySetup* gw : {&moi_, &bli_}) {
      Enroll(*gw);
      ASSERT_FALSE(HasFatalFailure());
    }
    // MOI provides the echo service; both follow the central every second.
    Patch(moi_.dir + "/gateway.toml", "# [[service]]",
          fmt::format("[[service]]\nid = \"{}\"\nbackend = \"http://127.0.0.1:{}{}\"\n\n# "
                      "[[service]]",
                      kEcho, backends_->echo_port(), kEchoBase));
    for (GatewaySetup* gw : {&moi_, &bli_}) {
      Patch(gw->dir + "/gateway.toml", "anchor = \"anchor.json\"\n",
            "anchor = \"anchor.json\"\nglobalconf_refresh_s = 1\n");
      StartGateway(*gw);
      ASSERT_FALSE(HasFatalFailure());
    }
  }

  void TearDown() override {
    for (GatewaySetup* gw : {&bli_, &moi_}) {
      if (gw->process) gw->process->Stop(5s);
    }
    if (central_) central_->Stop(5s);
    if (api_) api_.reset();
    consumer_.reset();
    backends_.reset();
    if (HasFailure()) {
      std::fprintf(stderr, "central flow test directory kept: %s\n", dir_.c_str());
    } else {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  std::string CentralDir() const { return dir_ + "/central"; }

  std::string Diag() const {
    std::string out;
    for (const char* name : {"central", "moi-gw", "bli-gw", "enroll-moi-gw", "enroll-bli-gw"}) {
      out += fmt::format("\n--- {}.log:\n{}", name,
                         TailBytes(ReadText(dir_ + "/" + name + ".log"), 3000));
    }
    return out;
  }

  // Runs a command to its end (60 s at most); its exit code, -1 if it did not finish.
  int Run(const std::vector<std::string>& argv, const std::string& log) {
    auto child = Subprocess::Start(argv, dir_ + "/" + log + ".log");
    if (!child) return -1;
    const int status = child->Wait(60s);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void StartCentral() {
    auto child =
        Subprocess::Start({TROAD_BINARY, "central", "--config", CentralDir() + "/central.toml"},
                          dir_ + "/central.log");
    ASSERT_TRUE(child) << child.error().ToString();
    central_.emplace(std::move(*child));
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(central_->Running()) << Diag();
      if (Call(verb::get, "/globalconf/v1/document").status == 200) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "the central did not serve a configuration" << Diag();
  }

  Reply Call(verb method, const std::string& target, const std::optional<json>& body = {}) {
    http::Request req{method, target, 11};
    if (!token_.empty()) req.set(http::bhttp::field::authorization, "Bearer " + token_);
    if (body) {
      req.set(http::bhttp::field::content_type, "application/json");
      req.body() = body->dump();
    }
    auto res =
        api_->Send(http::Endpoint{"127.0.0.1", central_port_, true, ""}, std::move(req), 20s);
    if (!res) return Reply{0, json(), res.error().ToString()};
    return Reply{res->response.result_int(), json::parse(res->response.body(), nullptr, false),
                 res->response.body()};
  }
  Reply Post(const std::string& target, const json& body) { return Call(verb::post, target, body); }
  Reply Expect(unsigned status, const std::string& target, const json& body) {
    Reply r = Post(target, body);
    EXPECT_EQ(r.status, status) << target << ": " << r << Diag();
    return r;
  }

  // `troad gateway enroll` as the gateway's operator runs it, while the central's
  // operator approves what it sent.
  void Enroll(GatewaySetup& gw) {
    Reply code = Expect(201, "/api/v1/gateways/enrollment-codes", {{"gateway", gw.id}});
    ASSERT_TRUE(code.doc.contains("code")) << code;
    const std::string code_file = dir_ + "/code-" + gw.name;
    WriteText(code_file, code.doc["code"].get<std::string>() + "\n");
    const std::string log = dir_ + "/enroll-" + gw.name + ".log";
    auto enroll = Subprocess::Start({TROAD_BINARY,
                                     "gateway",
                                     "enroll",
                                     "--anchor",
                                     CentralDir() + "/anchor.json",
                                     "--gateway",
                                     gw.id,
                                     "--code-file",
                                     code_file,
                                     "--dir",
                                     gw.dir,
                                     "--client",
                                     gw.client,
                                     "--consumer-listen",
                                     fmt::format("127.0.0.1:{}", gw.consumer),
                                     "--provider-listen",
                                     fmt::format("127.0.0.1:{}", gw.provider),
                                     "--admin-listen",
                                     fmt::format("127.0.0.1:{}", gw.admin),
                                     "--wait",
                                     "60",
                                     "--poll",
                                     "1"},
                                    log);
    ASSERT_TRUE(enroll) << enroll.error().ToString();

    // The requests arrive for review; the operator approves each.
    std::vector<int64_t> approved;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (approved.size() < 2 && std::chrono::steady_clock::now() < deadline) {
      Reply listed = Call(verb::get, "/api/v1/certificate-requests?status=pending");
      ASSERT_EQ(listed.status, 200u) << listed;
      for (const json& q : listed.doc["certificate_requests"]) {
        if (q["status"] != "pending") continue;
        EXPECT_EQ(q["submitted_by"], "enrollment:" + gw.id);
        const int64_t id = q["id"].get<int64_t>();
        Expect(200, fmt::format("/api/v1/certificate-requests/{}/approve", id), json::object());
        approved.push_back(id);
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(approved.size(), 2u) << "requests never arrived" << Diag();
    const int status = enroll->Wait(kWait);
    ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "troad gateway enroll: wait status " << status << "\n"
        << ReadText(log);
    EXPECT_NE(ReadText(log).find("certificates installed"), std::string::npos) << ReadText(log);

    // What was installed verifies with openssl against the central's CA, and the keys
    // never left: the private key files are the gateway's own, mode 0600.
    for (const std::string& stem :
         std::vector<std::string>{"auth", "sign-GOV-" + gw.id.substr(7, 3)}) {
      const std::string cert = gw.dir + "/" + stem + ".crt";
      EXPECT_EQ(Run({"openssl", "verify", "-CAfile", CentralDir() + "/keys/ca.crt", cert},
                    "openssl-" + stem),
                0)
          << ReadText(dir_ + "/openssl-" + stem + ".log");
      EXPECT_EQ(fs::status(gw.dir + "/" + stem + ".key").permissions() & fs::perms::all,
                fs::perms::owner_read | fs::perms::owner_write);
    }
    EXPECT_FALSE(fs::exists(gw.dir + "/enrollment.json"));
  }

  void StartGateway(GatewaySetup& gw) {
    auto child = Subprocess::Start({TROAD_BINARY, "gateway", "--config", gw.dir + "/gateway.toml"},
                                   dir_ + "/" + gw.name + ".log");
    ASSERT_TRUE(child) << child.error().ToString();
    gw.process.emplace(std::move(*child));
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(gw.process->Running()) << gw.name << " exited" << Diag();
      auto res = consumer_->Send(http::Endpoint{"127.0.0.1", gw.admin, false, ""},
                                 http::Request{verb::get, "/healthz", 11}, 5s);
      if (res && res->response.result_int() == 200) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << gw.name << " never became healthy (no configuration from the central?)" << Diag();
  }

  // The version of the global configuration `gw` holds (its /healthz), or -1.
  int64_t GlobalConfVersion(const GatewaySetup& gw) {
    auto res = consumer_->Send(http::Endpoint{"127.0.0.1", gw.admin, false, ""},
                               http::Request{verb::get, "/healthz", 11}, 5s);
    if (!res) return -1;
    json health = json::parse(res->response.body(), nullptr, false);
    return health.is_object() ? health.value("globalconf_version", int64_t{-1}) : -1;
  }

  // BLI's information system calls MOI's echo service through BLI's gateway.
  Answer Exchange(const std::string& tag) {
    auto res = consumer_->Send(
        http::Endpoint{"127.0.0.1", bli_.consumer, false, ""},
        MakeRestRequest(verb::get, "/r1/" + kEcho + "/" + tag, bli_.client, NewTestMessageId(tag)),
        20s);
    if (!res) return Answer{0, {}, res.error().message()};
    return FromResponse(res->response);
  }

  // Polls until `done` holds for the exchange's answer (the change has reached the
  // gateways), up to kWait.
  template <typename Predicate>
  ::testing::AssertionResult WaitForExchange(const std::string& tag, Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    Answer last;
    while (std::chrono::steady_clock::now() < deadline) {
      last = Exchange(tag);
      if (done(last)) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(200ms);
    }
    return ::testing::AssertionFailure()
           << "last answer: HTTP " << last.status << " " << last.Header("x-road-error") << " "
           << last.body.substr(0, 500);
  }
  static bool Succeeded(const Answer& a) { return a.status == 200; }
  static auto FaultIs(std::string type) {
    return [type](const Answer& a) { return a.Header("x-road-error") == type; };
  }

  // The operator CLI with this test's session; its output, and the exit code in *code.
  std::string Cli(std::vector<std::string> args, int* code) {
    args.insert(args.begin(), TROAD_BINARY);
    args.push_back("--session");
    args.push_back(dir_ + "/session.json");
    std::error_code ec;
    fs::remove(dir_ + "/cli.log", ec);  // the log is appended to
    *code = Run(args, "cli");
    return ReadText(dir_ + "/cli.log");
  }

  // BLI applies for the echo service; MOI's side approves. Returns the application id.
  int64_t Grant() {
    Reply app = Expect(201, "/api/v1/applications",
                       {{"client", bli_.client},
                        {"service", kEcho},
                        {"rules", {{{"method", "GET"}, {"path", "/*"}}}},
                        {"purpose", "eligibility checks"}});
    const int64_t id = app.doc.value("id", int64_t{0});
    Expect(200, fmt::format("/api/v1/applications/{}/approve", id),
           {{"reason", "agreement 2026-17"}});
    return id;
  }

  // Waits until `gw` has shipped every record of its log to the ledger; its ship state.
  gateway::LedgerShipState WaitShipped(const GatewaySetup& gw) {
    const std::string log = gw.dir + "/data/messagelog.db";
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    gateway::LedgerShipState state;
    int64_t last = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      auto reader = gateway::MessageLogReader::Open(log);
      auto records = reader ? (*reader)->RecordsAfter(0, 1'000'000) : Fail(reader.error());
      auto read = gateway::ReadLedgerShipState(log);
      if (records && read) {
        last = records->empty() ? 0 : records->back().seq;
        state = *read;
        if (state.shipped_seq == last) return state;
      }
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << gw.name << " shipped up to seq " << state.shipped_seq << " of " << last
                  << "; alarm: " << state.alarm << Diag();
    return state;
  }

  // The gateway's /metrics value of `name`, or -1.
  double GatewayMetric(const GatewaySetup& gw, const std::string& name) {
    auto res = consumer_->Send(http::Endpoint{"127.0.0.1", gw.admin, false, ""},
                               http::Request{verb::get, "/metrics", 11}, 5s);
    if (!res) return -1;
    std::istringstream in(res->response.body());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
  }

  std::string dir_;
  uint16_t central_port_ = 0;
  GatewaySetup moi_, bli_;
  std::unique_ptr<TestBackends> backends_;
  std::unique_ptr<http::BlockingClient> api_;       // to the central
  std::unique_ptr<http::BlockingClient> consumer_;  // to the gateways, plain http
  std::optional<Subprocess> central_;
  std::string token_;
};

TEST_F(CentralFlowTest, ApplicationApprovalExchangeWithdrawalAndRevocation) {
  EXPECT_TRUE(IsFault(Exchange("before"), 500, "Server.ServerProxy.AccessDenied")) << Diag();

  const int64_t application = Grant();
  ASSERT_TRUE(WaitForExchange("first", Succeeded)) << Diag();
  Answer first = Exchange("first");
  EXPECT_EQ(first.status, 200u);
  EXPECT_NE(first.body.find(std::string(kEchoBase) + "/first"), std::string::npos) << first.body;
  std::vector<SeenRequest> seen = backends_->Seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().target, std::string(kEchoBase) + "/first");

  // MOI withdraws the grant: refused again within one refresh.
  Expect(200, fmt::format("/api/v1/applications/{}/withdraw", application),
         {{"reason", "agreement ended"}});
  EXPECT_TRUE(WaitForExchange("withdrawn", FaultIs("Server.ServerProxy.AccessDenied"))) << Diag();

  Grant();
  ASSERT_TRUE(WaitForExchange("again", Succeeded)) << Diag();

  // BLI's authentication certificate is revoked: MOI's gateway refuses the connection.
  auto bli_cert = crypto::Certificate::LoadPemFile(bli_.dir + "/auth.crt");
  ASSERT_TRUE(bli_cert);
  Expect(200, fmt::format("/api/v1/certificates/{}/revoke", bli_cert->Sha256Fingerprint()),
         {{"reason", "key compromise (test)"}});
  EXPECT_TRUE(WaitForExchange("revoked", FaultIs("Server.ServerProxy.SslAuthenticationFailed")))
      << Diag();
  Reply conf = Call(verb::get, "/globalconf/v1/document");
  EXPECT_NE(conf.body.find(bli_cert->Sha256Fingerprint()), std::string::npos)
      << "the published configuration does not list the revoked certificate";
}

TEST_F(CentralFlowTest, ExpiredConfigurationStopsExchangesUntilTheCentralIsBack) {
  Grant();
  ASSERT_TRUE(WaitForExchange("granted", Succeeded)) << Diag();

  // The central goes away: the gateways keep their copy until it expires (10 s).
  ASSERT_NE(central_->Stop(5s), -1);
  central_.reset();
  EXPECT_TRUE(WaitForExchange("expired", FaultIs("Server.ClientProxy.OutdatedGlobalConf")))
      << Diag();

  // It comes back: a fresh copy reaches the gateways and exchanges resume.
  StartCentral();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(WaitForExchange("recovered", Succeeded)) << Diag();
}

TEST_F(CentralFlowTest, AGrantToAGlobalGroupReachesItsMembersOnly) {
  int code = -1;
  std::string out = Cli({"login", "--anchor", CentralDir() + "/anchor.json", "--user", "operator",
                         "--password-file", dir_ + "/admin-password"},
                        &code);
  ASSERT_EQ(code, 0) << out;
  out = Cli(
      {"group", "add", "--code", "insurers", "--description", "保險機構", "--member", bli_.client},
      &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("global group insurers created (1 subsystems)"), std::string::npos) << out;
  out = Cli({"group", "grant", "--code", "insurers", "--service", kEcho, "--rule", "GET /*",
             "--reason", "agreement 2026-31"},
            &code);
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(WaitForExchange("group", Succeeded)) << Diag();

  out = Cli({"group", "grants", "--json"}, &code);
  ASSERT_EQ(code, 0) << out;
  json grants = json::parse(out, nullptr, false);
  ASSERT_TRUE(grants.is_object()) << out;
  ASSERT_EQ(grants["grants"].size(), 1u) << out;
  EXPECT_EQ(grants["grants"][0]["group"], "insurers");
  EXPECT_EQ(grants["grants"][0]["in_force"], true);

  // BLI leaves the group: refused within one refresh, though the grant stays.
  out = Cli({"group", "remove-member", "--code", "insurers", "--member", bli_.client}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(WaitForExchange("left", FaultIs("Server.ServerProxy.AccessDenied"))) << Diag();

  // A group with a grant in force cannot be deleted; withdrawn, it can.
  out = Cli({"group", "delete", "--code", "insurers"}, &code);
  EXPECT_EQ(code, 1) << out;
  const std::string id = grants["grants"][0]["id"].dump();
  out = Cli({"group", "withdraw", id, "--reason", "agreement ended"}, &code);
  ASSERT_EQ(code, 0) << out;
  out = Cli({"group", "delete", "--code", "insurers"}, &code);
  EXPECT_EQ(code, 0) << out;
  out = Cli({"group", "add", "--code", "insurers/2", "--description", "x"}, &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("forbidden character '/'"), std::string::npos) << out;
}

TEST_F(CentralFlowTest, RenewalSwitchesKeysWhilePeersKeepExchanging) {
  Grant();
  ASSERT_TRUE(WaitForExchange("before-renewal", Succeeded)) << Diag();
  auto old_auth = crypto::Certificate::LoadPemFile(moi_.dir + "/auth.crt");
  auto old_signing = crypto::Certificate::LoadPemFile(moi_.dir + "/sign-GOV-MOI.crt");
  ASSERT_TRUE(old_auth && old_signing);

  // Nothing is due a year before expiry; --force renews now (the central's policy: auto).
  ASSERT_EQ(
      Run({TROAD_BINARY, "gateway", "renew", "--config", moi_.dir + "/gateway.toml"}, "renew-none"),
      0)
      << ReadText(dir_ + "/renew-none.log");
  EXPECT_NE(ReadText(dir_ + "/renew-none.log").find("nothing to renew"), std::string::npos);
  ASSERT_EQ(Run({TROAD_BINARY, "gateway", "renew", "--config", moi_.dir + "/gateway.toml",
                 "--force", "--poll", "1", "--wait", "60"},
                "renew"),
            0)
      << ReadText(dir_ + "/renew.log") << Diag();
  auto new_auth = crypto::Certificate::LoadPemFile(moi_.dir + "/auth.crt");
  auto new_signing = crypto::Certificate::LoadPemFile(moi_.dir + "/sign-GOV-MOI.crt");
  ASSERT_TRUE(new_auth && new_signing);
  EXPECT_NE(new_auth->Sha256Fingerprint(), old_auth->Sha256Fingerprint());
  EXPECT_NE(new_signing->Sha256Fingerprint(), old_signing->Sha256Fingerprint());
  EXPECT_EQ(
      Run({"openssl", "verify", "-CAfile", CentralDir() + "/keys/ca.crt", moi_.dir + "/auth.crt"},
          "openssl-renewed"),
      0);
  EXPECT_FALSE(fs::exists(moi_.dir + "/auth.key.pending"));
  // Both are published; the running gateway still shows the old pair, and peers accept it.
  Reply conf = Call(verb::get, "/globalconf/v1/document");
  EXPECT_NE(conf.body.find("additional_auth_certificates"), std::string::npos);
  EXPECT_TRUE(WaitForExchange("old-keys", Succeeded)) << Diag();

  // SIGHUP: the running gateway takes up the new pairs, no restart.
  const pid_t moi_pid = moi_.process->pid();
  ASSERT_EQ(::kill(moi_pid, SIGHUP), 0);
  const auto reload_deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < reload_deadline &&
         ReadText(dir_ + "/moi-gw.log").find("reloaded keys") == std::string::npos) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(ReadText(dir_ + "/moi-gw.log")
                .find("reloaded keys: authentication certificate " + new_auth->Sha256Fingerprint()),
            std::string::npos)
      << Diag();
  EXPECT_TRUE(moi_.process->Running());
  EXPECT_EQ(moi_.process->pid(), moi_pid);
  EXPECT_TRUE(WaitForExchange("new-keys", Succeeded)) << Diag();

  // The old authentication certificate is retired; the new one carries on alone.
  Expect(200, fmt::format("/api/v1/certificates/{}/revoke", old_auth->Sha256Fingerprint()),
         {{"reason", "superseded"}});
  Expect(200, fmt::format("/api/v1/certificates/{}/revoke", old_signing->Sha256Fingerprint()),
         {{"reason", "superseded"}});
  // Both gateways hold a copy without the old certificates before the next call.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  int64_t held = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    Reply published = Call(verb::get, "/globalconf/v1/document");
    const int64_t version = published.doc.is_object() ? published.doc.value("version", 0) : 0;
    if (published.body.find("additional_auth_certificates") == std::string::npos &&
        GlobalConfVersion(moi_) >= version && GlobalConfVersion(bli_) >= version) {
      held = version;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_GT(held, 0) << "the gateways never held a copy without the old certificates" << Diag();
  Answer after = Exchange("retired");
  EXPECT_EQ(after.status, 200u) << after.Header("x-road-error") << " " << after.body << Diag();
}

// The message log's batches are timestamped by the central's RFC 3161 authority;
// `troad verify-log` and the openssl command line check them offline; a record
// altered afterwards is named.
TEST_F(CentralFlowTest, RecordsAreTimestampedByTheCentralAndVerifiable) {
  Grant();
  ASSERT_TRUE(WaitForExchange("stamp-0", Succeeded)) << Diag();
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(Exchange(fmt::format("stamp-{}", i)).status, 200u);

  // Within a few intervals every record of both gateways is in a verified batch.
  for (GatewaySetup* gw : {&bli_, &moi_}) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    std::string out;
    int code = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      std::error_code ec;
      fs::remove(dir_ + "/verify.log", ec);
      code = Run({TROAD_BINARY, "verify-log", "--config", gw->dir + "/gateway.toml"}, "verify");
      out = ReadText(dir_ + "/verify.log");
      if (code == 0 && out.find("not timestamped yet") == std::string::npos) break;
      std::this_thread::sleep_for(300ms);
    }
    EXPECT_EQ(code, 0) << out << Diag();
    EXPECT_NE(out.find("OK: every batch verifies"), std::string::npos) << out;
    EXPECT_EQ(out.find("not timestamped yet"), std::string::npos) << out;
  }

  // A stored token, checked by openssl against the network CA and the TSA certificate.
  ASSERT_NE(bli_.process->Stop(5s), -1);
  bli_.process.reset();
  const std::string log = bli_.dir + "/data/messagelog.db";
  {
    auto db = store::OpenSqlite(log);
    ASSERT_TRUE(db) << db.error().ToString();
    auto rows = (*db)->Query("SELECT root_hex, token FROM timestamp_batch ORDER BY id LIMIT 1");
    ASSERT_TRUE(rows && !rows->empty());
    const std::string root = (*rows)[0].Text(0).value();
    WriteText(dir_ + "/token.der", (*rows)[0].Bytes(1).value());
    EXPECT_EQ(Run({"openssl", "ts", "-verify", "-in", dir_ + "/token.der", "-token_in", "-digest",
                   root, "-CAfile", CentralDir() + "/keys/ca.crt", "-untrusted",
                   CentralDir() + "/keys/tsa.crt"},
                  "openssl-ts"),
              0)
        << ReadText(dir_ + "/openssl-ts.log");
    EXPECT_NE(ReadText(dir_ + "/openssl-ts.log").find("Verification: OK"), std::string::npos);

    // Someone edits a stored record after the fact.
    ASSERT_TRUE((*db)->Execute(
        "UPDATE transfer_record SET status = 204 WHERE seq = (SELECT MAX(last_seq) FROM "
        "timestamp_batch)"));
  }
  std::error_code ec;
  fs::remove(dir_ + "/verify.log", ec);
  EXPECT_EQ(Run({TROAD_BINARY, "verify-log", "--config", bli_.dir + "/gateway.toml"}, "verify"), 1);
  const std::string out = ReadText(dir_ + "/verify.log");
  EXPECT_NE(out.find("FAILED: record seq"), std::string::npos) << out;
  EXPECT_NE(out.find("was altered after batch"), std::string::npos) << out;
}

// When no authority answers for longer than acceptable_failure_s, exchanges are
// refused with TimestampingFailed; when the authority is back they resume and the
// backlog is stamped.
TEST_F(CentralFlowTest, TimestampingOutageRefusesExchangesThenCatchesUp) {
  Grant();
  ASSERT_TRUE(WaitForExchange("before-outage", Succeeded)) << Diag();
  ASSERT_NE(bli_.process->Stop(5s), -1);
  bli_.process.reset();
  Patch(bli_.dir + "/gateway.toml", "[timestamping]\n",
        "[timestamping]\ninterval_ms = 200\nacceptable_failure_s = 2\n");
  StartGateway(bli_);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(WaitForExchange("restarted", Succeeded)) << Diag();

  // The central (and so its TSA) goes away; the global configuration stays valid for
  // 10 s, longer than the 2 s the gateway accepts without timestamps.
  ASSERT_NE(central_->Stop(5s), -1);
  central_.reset();
  EXPECT_TRUE(WaitForExchange("outage", FaultIs("Server.ClientProxy.TimestampingFailed")))
      << Diag();
  Answer refused = Exchange("outage-2");
  EXPECT_NE(refused.body.find("no timestamping authority has answered"), std::string::npos)
      << refused.body;

  StartCentral();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(WaitForExchange("recovered", Succeeded)) << Diag();
  // The backlog, refusals included, is stamped and verifies.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::string out;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    fs::remove(dir_ + "/verify.log", ec);
    const int code =
        Run({TROAD_BINARY, "verify-log", "--config", bli_.dir + "/gateway.toml"}, "verify");
    out = ReadText(dir_ + "/verify.log");
    if (code == 0 && out.find("not timestamped yet") == std::string::npos) break;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_NE(out.find("OK: every batch verifies"), std::string::npos) << out;
  EXPECT_EQ(out.find("not timestamped yet"), std::string::npos) << out;
}

// Every record of both gateways reaches the central ledger: each receipt a gateway
// stored names entries that the central's ledger holds byte for byte — also when the
// central was killed with SIGKILL while gateways were shipping under load — and both
// sides of one exchange are found by its request id, with the same request hash.
TEST_F(CentralFlowTest, TheLedgerHoldsBothSidesOfEveryExchangeAndLosesNothingToSigkill) {
  Grant();
  ASSERT_TRUE(WaitForExchange("ledger-0", Succeeded)) << Diag();
  for (GatewaySetup* gw : {&bli_, &moi_}) {
    ASSERT_NE(gw->process->Stop(5s), -1);
    gw->process.reset();
    Patch(gw->dir + "/gateway.toml", "[timestamping]\n",
          "[ledger]\ninterval_ms = 50\nmax_batch = 20\nretry_min_ms = 100\nretry_max_ms = 500\n\n"
          "[timestamping]\n");
    StartGateway(*gw);
    ASSERT_FALSE(HasFatalFailure());
  }
  ASSERT_TRUE(WaitForExchange("ledger-1", Succeeded)) << Diag();

  // Load: three clients, 60 exchanges each; the central is killed while they run and
  // restarted (the gateways go on exchanging from their copy of the configuration).
  std::atomic<int> done{0}, ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([this, c, &done, &ok] {
      http::BlockingClient client(http::ClientOptions{});
      for (int i = 0; i < 60; ++i) {
        const std::string tag = fmt::format("load-{}-{}", c, i);
        auto res = client.Send(http::Endpoint{"127.0.0.1", bli_.consumer, false, ""},
                               MakeRestRequest(verb::get, "/r1/" + kEcho + "/" + tag, bli_.client,
                                               NewTestMessageId(tag)),
                               20s);
        if (res && res->response.result_int() == 200) ok.fetch_add(1);
        done.fetch_add(1);
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (done.load() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const auto before_kill = gateway::ReadLedgerShipState(bli_.dir + "/data/messagelog.db");
  ASSERT_TRUE(before_kill) << before_kill.error().ToString();
  EXPECT_GT(before_kill->shipped_seq, 0) << "nothing shipped before the kill" << Diag();
  central_->Kill();
  central_.reset();
  std::this_thread::sleep_for(300ms);  // shipments fail and back off meanwhile
  StartCentral();
  ASSERT_FALSE(HasFatalFailure());
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok.load(), 180) << Diag();

  // Every record of both gateways shipped and checked, no alarm; and every receipt's
  // entries are in the restarted central's ledger, as the gateway built them.
  auto ledger_db = store::OpenSqlite(CentralDir() + "/data/ledger.db");
  ASSERT_TRUE(ledger_db) << ledger_db.error().ToString();
  size_t receipts_checked = 0;
  for (GatewaySetup* gw : {&bli_, &moi_}) {
    const gateway::LedgerShipState state = WaitShipped(*gw);
    EXPECT_EQ(state.alarm, "") << gw->name;
    EXPECT_EQ(GatewayMetric(*gw, "troad_gateway_ledger_alarm"), 0) << gw->name;
    const std::string log = gw->dir + "/data/messagelog.db";
    auto reader = gateway::MessageLogReader::Open(log);
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto records = (*reader)->RecordsAfter(0, 1'000'000);
    ASSERT_TRUE(records) << records.error().ToString();
    for (const gateway::TransferRecord& r : *records) {
      auto receipt = gateway::ReadLedgerReceipt(log, r.seq);
      ASSERT_TRUE(receipt && receipt->has_value()) << gw->name << " seq " << r.seq;
      const uint64_t index = (*receipt)->first_index + static_cast<uint64_t>(r.seq - (*receipt)->first_seq);
      auto rows = (*ledger_db)->Query("SELECT entry FROM ledger_entry WHERE idx = ?",
                                      {static_cast<int64_t>(index)});
      ASSERT_TRUE(rows) << rows.error().ToString();
      ASSERT_EQ(rows->size(), 1u) << gw->name << " seq " << r.seq << ": index " << index
                                  << " is not in the ledger";
      auto entry = gateway::LedgerEntryOf(*GatewayId::Parse(gw->id), r);
      ASSERT_TRUE(entry) << entry.error().ToString();
      EXPECT_EQ((*rows)[0].Bytes(0).value(), *entry) << gw->name << " seq " << r.seq;
      ++receipts_checked;
    }
  }
  EXPECT_GE(receipts_checked, 2u * 182u);

  // A dispute over one exchange is settled from the ledger alone: both sides' entries,
  // by request id, with the same request hash; and the ledger's head verifies with the
  // key the global configuration publishes.
  auto bli_reader = gateway::MessageLogReader::Open(bli_.dir + "/data/messagelog.db");
  ASSERT_TRUE(bli_reader) << bli_reader.error().ToString();
  auto bli_records = (*bli_reader)->RecordsAfter(0, 1'000'000);
  ASSERT_TRUE(bli_records && !bli_records->empty());
  std::string request_id;
  for (const gateway::TransferRecord& r : *bli_records) {
    if (r.side == "consumer" && r.status == 200) request_id = r.request_id;
  }
  ASSERT_FALSE(request_id.empty());
  Reply exchange = Call(verb::get, "/ledger/v1/exchange?request_id=" + request_id);
  ASSERT_EQ(exchange.status, 200u) << exchange;
  ASSERT_EQ(exchange.doc["entries"].size(), 2u) << exchange;
  std::set<std::string> sides;
  std::set<std::string> request_hashes;
  for (const json& e : exchange.doc["entries"]) {
    auto parsed = ledger::ParseLedgerEntry(Base64Decode(e["entry"].get<std::string>()).value());
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    sides.insert(parsed->side);
    request_hashes.insert(parsed->request_hash);
  }
  EXPECT_EQ(sides, (std::set<std::string>{"consumer", "provider"}));
  EXPECT_EQ(request_hashes.size(), 1u);
  Reply document = Call(verb::get, "/globalconf/v1/document");
  ASSERT_EQ(document.status, 200u);
  auto key = crypto::PublicKey::FromPem(document.doc["ledger"]["public_key"].get<std::string>());
  ASSERT_TRUE(key) << key.error().ToString();
  Reply head = Call(verb::get, "/ledger/v1/checkpoint");
  ASSERT_EQ(head.status, 200u);
  auto checkpoint = ledger::VerifyCheckpoint(head.body, *key);
  ASSERT_TRUE(checkpoint) << checkpoint.error().ToString() << "\n" << head.body;
  EXPECT_GE(checkpoint->size, receipts_checked);
}

// A central whose ledger is restored from an old backup has lost entries it signed for:
// the gateways refuse to trust it, raise the alarm, and ship nothing more to it — while
// exchanges go on.
TEST_F(CentralFlowTest, ALedgerThatLostSignedEntriesRaisesTheGatewaysAlarm) {
  Grant();
  ASSERT_TRUE(WaitForExchange("fork-0", Succeeded)) << Diag();
  WaitShipped(bli_);
  ASSERT_FALSE(HasFailure());
  // The central's operator takes a backup (stopped, so the files are whole)…
  ASSERT_NE(central_->Stop(5s), -1);
  central_.reset();
  const std::string data = CentralDir() + "/data/";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    if (fs::exists(data + "ledger.db" + suffix)) {
      fs::copy_file(data + "ledger.db" + suffix, dir_ + "/ledger-backup.db" + suffix,
                    fs::copy_options::overwrite_existing, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
  }
  StartCentral();
  ASSERT_FALSE(HasFatalFailure());
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(Exchange(fmt::format("fork-{}", i)).status, 200u);
  const gateway::LedgerShipState shipped = WaitShipped(bli_);
  ASSERT_EQ(shipped.alarm, "");
  // … and later restores it: the entries shipped since are gone from the ledger.
  ASSERT_NE(central_->Stop(5s), -1);
  central_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::remove(data + "ledger.db" + suffix, ec);
    if (fs::exists(dir_ + "/ledger-backup.db" + suffix)) {
      fs::copy_file(dir_ + "/ledger-backup.db" + suffix, data + "ledger.db" + suffix, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
  }
  StartCentral();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(Exchange("fork-4").status, 200u) << "exchanges go on";

  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (GatewayMetric(bli_, "troad_gateway_ledger_alarm") != 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(GatewayMetric(bli_, "troad_gateway_ledger_alarm"), 1) << Diag();
  auto state = gateway::ReadLedgerShipState(bli_.dir + "/data/messagelog.db");
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_NE(state->alarm.find("409"), std::string::npos) << state->alarm;
  EXPECT_EQ(state->checkpoint, shipped.checkpoint) << "the accepted head stays";
  EXPECT_EQ(state->shipped_seq, shipped.shipped_seq) << "nothing more is counted as shipped";
  EXPECT_NE(ReadText(dir_ + "/bli-gw.log").find("ledger ALARM"), std::string::npos);
  EXPECT_EQ(Exchange("fork-5").status, 200u) << "exchanges go on";
}

}  // namespace
}  // namespace troad::testing
