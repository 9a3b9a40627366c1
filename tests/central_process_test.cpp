// `troad central` as an operator runs it: `troad central init`, then the real process on
// loopback, driven over HTTPS with troad's own client. An operator registers two
// members, their subsystems, a gateway and a service; the gateway enrolls with CSRs and
// an operator approves them; a gateway-side Fetcher downloads and verifies the signed
// document with the anchor init wrote. The certificates are cross-checked with
// `openssl verify`, the signature with `openssl dgst` (docs/protocol.md §9). Then the
// central is restarted (it must never serve an older version) and stopped with SIGTERM.
//
// The tests of this suite share one central; each also passes on its own (ctest runs
// every test in a process of its own).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "core/encoding.h"
#include "core/subprocess.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "globalconf/anchor.h"
#include "globalconf/fetcher.h"
#include "globalconf/signed.h"
#include "http/client.h"
#include "http/test_util.h"
#include "http/tls.h"
#include "test_files.h"

#ifndef TROAD_BINARY
#error "TROAD_BINARY must name the troad executable"
#endif

namespace troad::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStartTimeout = 30s;
const std::string kPassword = "central operator password 1";

const std::string kMoi = "TW/GOV/MOI";
const std::string kBli = "TW/GOV/BLI";
const std::string kHousehold = "TW/GOV/MOI/household";
const std::string kInsurance = "TW/GOV/BLI/insurance";
const std::string kRegistry = "TW/GOV/MOI/household/registry";
const std::string kMoiGateway = "TW/GOV/MOI/moi-gw";

// Runs a command line through the shell; its exit code and its output (both streams).
struct Command {
  int exit_code = -1;
  std::string output;
};
Command Shell(const std::string& dir, const std::string& command) {
  const std::string out = dir + "/command-output.txt";
  const int status = std::system(("(" + command + ") > '" + out + "' 2>&1").c_str());
  return Command{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadText(out)};
}

struct Reply {
  unsigned status = 0;
  std::string body;
  json doc;
  std::map<std::string, std::string> headers;  // names lower case
  std::string error;                           // the client's, when no response came

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};
std::ostream& operator<<(std::ostream& os, const Reply& r) {
  if (!r.error.empty()) return os << "no response: " << r.error;
  return os << "HTTP " << r.status << " " << r.body.substr(0, 2000);
}

class CentralProcessTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    std::string templ = (fs::temp_directory_path() / "troad-central-it-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      setup_error_ = fmt::format("mkdtemp: {}", std::strerror(errno));
      return;
    }
    dir_ = templ;
    central_dir_ = dir_ + "/central";
    auto port = PickFreePort();
    if (!port) {
      setup_error_ = port.error().ToString();
      return;
    }
    port_ = *port;

    // `troad central init`, the password from a file as an operator would give it.
    const std::string password_file = dir_ + "/admin-password";
    std::ofstream(password_file) << kPassword << "\n";
    auto init = Subprocess::Start(
        {TROAD_BINARY, "central", "init", "--dir", central_dir_, "--listen",
         fmt::format("127.0.0.1:{}", port_), "--admin-password-file", password_file},
        dir_ + "/init.log");
    if (!init) {
      setup_error_ = init.error().ToString();
      return;
    }
    const int status = init->Wait(60s);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      setup_error_ = fmt::format("troad central init failed (wait status {}):\n{}", status,
                                 ReadText(dir_ + "/init.log"));
      return;
    }

    auto ca = crypto::Certificate::LoadPemFile(central_dir_ + "/keys/ca.crt");
    if (!ca) {
      setup_error_ = ca.error().ToString();
      return;
    }
    http::TlsOptions tls;
    tls.trust_anchors = {*ca};
    tls.tls13_only = false;
    auto context = http::MakeClientTlsContext(tls);
    if (!context) {
      setup_error_ = context.error().ToString();
      return;
    }
    http::ClientOptions options;
    options.tls = *context;
    options.body_limit = 16 * 1024 * 1024;
    io_ = std::make_unique<http::testing::IoThread>();
    client_ = std::make_unique<http::Client>(options);
    if (auto st = StartCentral(); !st) setup_error_ = st.error().ToString();
  }

  static void TearDownTestSuite() {
    if (central_) central_->Stop(5s);
    central_.reset();
    if (client_) client_->Shutdown();
    client_.reset();
    io_.reset();
    if (!dir_.empty() && !::testing::Test::HasFailure() && !keep_dir_) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::fprintf(stderr, "central test directory kept: %s\n", dir_.c_str());
    }
  }

 protected:
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static std::string ConfigFile() { return central_dir_ + "/central.toml"; }
  static std::string LogFile() { return dir_ + "/central.log"; }
  static std::string Diag() { return "\ncentral log:\n" + TailBytes(ReadText(LogFile())); }

  // Starts `troad central` and waits until it serves a global configuration.
  static Status StartCentral() {
    TROAD_ASSIGN_OR_RETURN(
        Subprocess child,
        Subprocess::Start({TROAD_BINARY, "central", "--config", ConfigFile()}, LogFile()));
    central_.emplace(std::move(child));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    for (;;) {
      if (!central_->Running()) {
        return Fail(ErrorCode::kUnavailable, "troad central exited:\n{}",
                    TailBytes(ReadText(LogFile())));
      }
      if (WaitForPort("127.0.0.1", port_, 200ms)) {
        Reply r = Call(http::bhttp::verb::get, "/globalconf/v1/document");
        if (r.status == 200) return Ok();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Fail(ErrorCode::kDeadlineExceeded, "troad central did not answer within {} s:\n{}",
                    kStartTimeout.count(), TailBytes(ReadText(LogFile())));
      }
    }
  }

  static Reply Call(http::bhttp::verb method, const std::string& target,
                    const std::optional<json>& body = std::nullopt, const std::string& token = "") {
    http::Request req{method, target, 11};
    if (!token.empty()) req.set(http::bhttp::field::authorization, "Bearer " + token);
    if (body) {
      req.set(http::bhttp::field::content_type, "application/json");
      req.body() = body->dump();
    }
    req.prepare_payload();
    http::Endpoint endpoint{"127.0.0.1", port_, true, ""};
    auto res = io_->Run(client_->Send(endpoint, std::move(req), 20s));
    Reply r;
    if (!res) {
      r.error = res.error().ToString();
      return r;
    }
    r.status = res->response.result_int();
    r.body = res->response.body();
    r.doc = json::parse(r.body, nullptr, false);
    for (const auto& f : res->response.base()) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    return r;
  }
  static Reply Post(const std::string& target, const json& body, const std::string& token = "") {
    return Call(http::bhttp::verb::post, target, body, token);
  }
  static Reply Get(const std::string& target, const std::string& token = "") {
    return Call(http::bhttp::verb::get, target, std::nullopt, token);
  }

  static std::string Login() {
    Reply r = Post("/api/v1/login", {{"username", "operator"}, {"password", kPassword}});
    EXPECT_EQ(r.status, 200u) << r;
    return r.doc.is_object() ? r.doc.value("token", "") : "";
  }

  // The subject the central's CA issues (docs/central.md, "Certificates and enrollment").
  static crypto::CsrSubject SubjectFor(const std::string& member, const std::string& cn) {
    crypto::CsrSubject s;
    s.common_name = cn;
    s.serial_number_attr = member;
    s.country = "TW";
    return s;
  }

  // Logs in and builds the network: members MOI and BLI, their subsystems, MOI's
  // gateway and service, BLI's grant for it; then the gateway enrolls and an operator
  // approves its certificates. Once per process (ctest runs each test on its own).
  static void Populate() {
    if (populated_) return;
    token_ = Login();
    ASSERT_FALSE(token_.empty()) << Diag();
    Reply unauthenticated = Get("/api/v1/members");
    EXPECT_EQ(unauthenticated.status, 401u) << unauthenticated;

    auto post = [&](const std::string& target, const json& body, unsigned want) {
      Reply r = Post(target, body, token_);
      EXPECT_EQ(r.status, want) << target << ": " << r << Diag();
      return r;
    };
    post("/api/v1/members",
         {{"id", kMoi}, {"name", "內政部"}, {"name_en", "Ministry of the Interior"}}, 201);
    post("/api/v1/members", {{"id", kBli}, {"name", "勞動部勞工保險局"}}, 201);
    post("/api/v1/subsystems", {{"id", kHousehold}, {"name", "戶政"}}, 201);
    post("/api/v1/subsystems", {{"id", kInsurance}, {"name", "勞保"}}, 201);
    post("/api/v1/gateways",
         {{"id", kMoiGateway}, {"address", "127.0.0.1:8443"}, {"clients", {kHousehold}}}, 201);
    post("/api/v1/services",
         {{"id", kRegistry},
          {"description", "戶籍資料"},
          {"endpoints", {{{"method", "GET"}, {"path", "/persons/{nationalId}"}}}}},
         201);
    Reply app =
        post("/api/v1/applications",
             {{"client", kInsurance}, {"service", kRegistry}, {"purpose", "eligibility"}}, 201);
    ASSERT_TRUE(app.doc.contains("id")) << app;
    post(fmt::format("/api/v1/applications/{}/approve", app.doc["id"].get<int64_t>()),
         {{"reason", "agreement 2026-17"}}, 200);
    ASSERT_FALSE(HasFailure());

    // The gateway enrolls: its keys stay here, only CSRs travel.
    Reply code = post("/api/v1/gateways/enrollment-codes", {{"gateway", kMoiGateway}}, 201);
    ASSERT_TRUE(code.doc.contains("code")) << code;
    auto auth_key = *crypto::PrivateKey::GenerateEcP256();
    auto sign_key = *crypto::PrivateKey::GenerateEcP256();
    auto auth_csr = crypto::CreateCsrPem(auth_key, SubjectFor(kMoi, kMoiGateway));
    auto sign_csr = crypto::CreateCsrPem(sign_key, SubjectFor(kMoi, kMoi));
    ASSERT_TRUE(auth_csr && sign_csr);
    Reply submitted =
        Post("/api/v1/enrollment",
             {{"gateway", kMoiGateway},
              {"code", code.doc["code"]},
              {"requests",
               {{{"kind", "authentication"}, {"owner", kMoiGateway}, {"csr", *auth_csr}},
                {{"kind", "signing"}, {"owner", kMoi}, {"csr", *sign_csr}}}}});
    ASSERT_EQ(submitted.status, 202u) << submitted << Diag();
    json ids = json::array();
    for (const json& q : submitted.doc["requests"]) ids.push_back(q["id"]);
    ASSERT_EQ(ids.size(), 2u);

    Reply listed = Get("/api/v1/certificate-requests", token_);
    ASSERT_EQ(listed.status, 200u) << listed;
    EXPECT_EQ(listed.doc["certificate_requests"].size(), 2u);
    for (const json& id : ids) {
      Reply approved =
          post(fmt::format("/api/v1/certificate-requests/{}/approve", id.get<int64_t>()),
               json::object(), 200);
      ASSERT_TRUE(approved.doc.contains("fingerprint")) << approved;
      fingerprints_[approved.doc["kind"].get<std::string>()] =
          approved.doc["fingerprint"].get<std::string>();
    }
    Reply collected = Post("/api/v1/enrollment/status",
                           {{"gateway", kMoiGateway}, {"code", code.doc["code"]}, {"ids", ids}});
    ASSERT_EQ(collected.status, 200u) << collected;
    collected_ = collected.doc["requests"];
    auth_public_pem_ = auth_key.Public().ToPem();
    populated_ = true;
  }

  static std::string dir_, central_dir_, setup_error_;
  static uint16_t port_;
  static bool keep_dir_;
  static std::unique_ptr<http::testing::IoThread> io_;
  static std::unique_ptr<http::Client> client_;
  static std::optional<Subprocess> central_;
  // Carried from one test to the next.
  static bool populated_;
  static std::string token_;
  static json collected_;               // the enrollment's requests with their certificates
  static std::string auth_public_pem_;  // the gateway's authentication key
  static std::map<std::string, std::string> fingerprints_;  // kind → fingerprint
};

std::string CentralProcessTest::dir_, CentralProcessTest::central_dir_,
    CentralProcessTest::setup_error_;
uint16_t CentralProcessTest::port_ = 0;
bool CentralProcessTest::keep_dir_ = false;
std::unique_ptr<http::testing::IoThread> CentralProcessTest::io_;
std::unique_ptr<http::Client> CentralProcessTest::client_;
std::optional<Subprocess> CentralProcessTest::central_;
bool CentralProcessTest::populated_ = false;
std::string CentralProcessTest::token_;
json CentralProcessTest::collected_;
std::string CentralProcessTest::auth_public_pem_;
std::map<std::string, std::string> CentralProcessTest::fingerprints_;

TEST_F(CentralProcessTest, InitWritesEverythingTheCentralAndGatewaysNeed) {
  for (const char* file :
       {"central.toml", "anchor.json", "keys/ca.crt", "keys/ca.key", "keys/configuration.key",
        "keys/tls.crt", "keys/tls.key", "data/central.db"}) {
    EXPECT_TRUE(fs::exists(central_dir_ + "/" + file)) << file;
  }
  // Private keys are for the central's account only.
  for (const char* key : {"keys/ca.key", "keys/configuration.key", "keys/tls.key"}) {
    auto perms = fs::status(central_dir_ + "/" + key).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << key;
  }
  auto anchor = globalconf::LoadAnchorFile(central_dir_ + "/anchor.json");
  ASSERT_TRUE(anchor) << anchor.error().ToString();
  EXPECT_EQ(anchor->instance, "TW");
  EXPECT_EQ(anchor->central_url, fmt::format("https://127.0.0.1:{}", port_));
  // A second init into the same directory is refused.
  Command again = Shell(dir_, fmt::format("'{}' central init --dir '{}' --listen 127.0.0.1:{} "
                                          "--admin-password-file '{}/admin-password'",
                                          TROAD_BINARY, central_dir_, port_, dir_));
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("already"), std::string::npos) << again.output;
}

TEST_F(CentralProcessTest, EnrolledGatewayAndServiceArePublishedSigned) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(populated_);

  // What the CA issued verifies with the openssl command line against keys/ca.crt.
  std::map<std::string, std::string> pem_files;
  for (const json& q : collected_) {
    ASSERT_EQ(q["status"], "approved") << q.dump();
    const std::string kind = q["kind"];
    const std::string file = dir_ + "/" + kind + ".crt";
    WriteText(file, q["certificate"].get<std::string>());
    pem_files[kind] = file;
    auto cert = crypto::Certificate::FromPem(q["certificate"].get<std::string>());
    ASSERT_TRUE(cert);
    EXPECT_EQ(cert->Sha256Fingerprint(), fingerprints_[kind]);
    Command verify = Shell(
        dir_, fmt::format("openssl verify -CAfile '{}/keys/ca.crt' '{}'", central_dir_, file));
    EXPECT_EQ(verify.exit_code, 0) << kind << ": " << verify.output;
    EXPECT_NE(verify.output.find(": OK"), std::string::npos) << verify.output;
  }
  // The key the certificate carries is the gateway's own.
  auto auth_cert = crypto::Certificate::LoadPemFile(pem_files["authentication"]);
  ASSERT_TRUE(auth_cert);
  Command pubkey =
      Shell(dir_, fmt::format("openssl x509 -in '{}' -noout -pubkey", pem_files["authentication"]));
  EXPECT_EQ(pubkey.output, auth_public_pem_);

  // A gateway-side fetcher, with nothing but the anchor init wrote.
  auto anchor = globalconf::LoadAnchorFile(central_dir_ + "/anchor.json");
  ASSERT_TRUE(anchor) << anchor.error().ToString();
  auto fetcher = globalconf::Fetcher::Create(*anchor, dir_ + "/gateway-cache", SystemClock::Get());
  ASSERT_TRUE(fetcher) << fetcher.error().ToString();
  globalconf::FetchResult fetched = io_->Run((*fetcher)->Fetch(nullptr));
  ASSERT_EQ(fetched.outcome, globalconf::FetchOutcome::kUpdated)
      << fetched.reason << ": " << fetched.message << Diag();
  const auto& conf = *fetched.conf;
  EXPECT_EQ(conf.instance(), "TW");
  const globalconf::Gateway* gw = conf.FindGateway(*GatewayId::Parse(kMoiGateway));
  ASSERT_NE(gw, nullptr) << conf.source();
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), fingerprints_["authentication"]);
  EXPECT_EQ(gw->host, "127.0.0.1");
  EXPECT_EQ(gw->port, 8443);
  ASSERT_EQ(gw->clients.size(), 1u);
  EXPECT_EQ(gw->clients[0].ToString(), kHousehold);
  const globalconf::Service* svc = conf.FindService(*ServiceId::Parse(kRegistry));
  ASSERT_NE(svc, nullptr) << conf.source();
  ASSERT_EQ(svc->endpoints.size(), 1u);
  EXPECT_EQ(svc->endpoints[0].path, "/persons/{nationalId}");
  const globalconf::Member* moi = conf.FindMember(*ClientId::Parse(kMoi));
  ASSERT_NE(moi, nullptr);
  ASSERT_EQ(moi->signing_certificates.size(), 1u);
  EXPECT_EQ(moi->signing_certificates[0].Sha256Fingerprint(), fingerprints_["signing"]);
  EXPECT_NE(conf.FindMember(*ClientId::Parse(kBli)), nullptr);
  EXPECT_FALSE(conf.GrantsFor(*ClientId::Parse(kInsurance), *ServiceId::Parse(kRegistry)).empty());
  EXPECT_EQ(conf.trusted_cas().size(), 1u);
  EXPECT_EQ(conf.trusted_cas()[0].Sha256Fingerprint(), anchor->ca_certificate.Sha256Fingerprint());
  // The gateway's certificates chain to the trusted CA in the document.
  auto chained = conf.trust().Verify(gw->auth_certificate, {}, SystemClock::Get().Now());
  EXPECT_TRUE(chained) << chained.error().ToString();

  // The cached copy, checked as docs/protocol.md §9 says anyone can.
  json anchor_json = json::parse(ReadText(central_dir_ + "/anchor.json"));
  const std::string key_file = dir_ + "/conf-key.pem";
  WriteText(key_file, anchor_json["configuration_keys"][0].get<std::string>());
  json sig_file = json::parse(ReadText((*fetcher)->SignatureFile()));
  auto der = Base64Decode(sig_file["signature"].get<std::string>());
  ASSERT_TRUE(der);
  WriteText(dir_ + "/globalconf.sig.der", *der);
  Command dgst =
      Shell(dir_, fmt::format("openssl dgst -sha256 -verify '{}' -signature '{}' '{}'", key_file,
                              dir_ + "/globalconf.sig.der", (*fetcher)->DocumentFile()));
  EXPECT_EQ(dgst.exit_code, 0) << dgst.output;
  EXPECT_NE(dgst.output.find("Verified OK"), std::string::npos) << dgst.output;
  // …and it is the document the central serves now, byte for byte.
  Reply served = Get("/globalconf/v1/document");
  ASSERT_EQ(served.status, 200u) << served;
  EXPECT_EQ(served.body, ReadText((*fetcher)->DocumentFile()));
  EXPECT_EQ(served.Header("etag"), "\"" + globalconf::DocumentHash(served.body) + "\"");
  Command tampered =
      Shell(dir_, fmt::format("cp '{0}' '{1}' && printf ' ' >> '{1}' && openssl dgst "
                              "-sha256 -verify '{2}' -signature '{3}' '{1}'",
                              (*fetcher)->DocumentFile(), dir_ + "/copy.json", key_file,
                              dir_ + "/globalconf.sig.der"));
  EXPECT_NE(tampered.exit_code, 0) << "a changed copy must not verify";
  EXPECT_NE(tampered.output.find("Verification failure"), std::string::npos) << tampered.output;

  // The audit log saw it all, from the loopback address.
  Reply audit = Get("/api/v1/audit/export", token_);
  ASSERT_EQ(audit.status, 200u) << audit;
  EXPECT_NE(audit.body.find("\"certificate-request.approve\""), std::string::npos);
  EXPECT_NE(audit.body.find("\"remote\":\"127.0.0.1\""), std::string::npos) << audit.body;
}

TEST_F(CentralProcessTest, RestartNeverServesAnOlderVersionAndKeepsSessions) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  // A gateway holds the current copy.
  auto anchor = globalconf::LoadAnchorFile(central_dir_ + "/anchor.json");
  ASSERT_TRUE(anchor) << anchor.error().ToString();
  auto fetcher = globalconf::Fetcher::Create(*anchor, dir_ + "/restart-cache", SystemClock::Get());
  ASSERT_TRUE(fetcher) << fetcher.error().ToString();
  globalconf::FetchResult held = io_->Run((*fetcher)->Fetch(nullptr));
  ASSERT_EQ(held.outcome, globalconf::FetchOutcome::kUpdated)
      << held.reason << ": " << held.message;
  const int64_t version = held.conf->version();

  const auto before = std::chrono::steady_clock::now();
  const int status = central_->Stop(10s);
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << Diag();
  EXPECT_LT(took, 5s) << "SIGTERM took too long";
  EXPECT_NE(ReadText(LogFile()).find("central stopped"), std::string::npos) << Diag();

  auto st = StartCentral();
  ASSERT_TRUE(st) << st.error().ToString();
  Reply doc = Get("/globalconf/v1/document");
  ASSERT_EQ(doc.status, 200u) << doc;
  const int64_t served = std::stoll(doc.Header("x-troad-globalconf-version"));
  EXPECT_GE(served, version) << "a restarted central must never serve an older version";

  // The gateway holding the earlier copy accepts what the central serves now.
  globalconf::FetchResult fetched = io_->Run((*fetcher)->Fetch(held.conf));
  ASSERT_NE(fetched.outcome, globalconf::FetchOutcome::kRejected)
      << fetched.reason << ": " << fetched.message;
  EXPECT_GE(fetched.conf->version(), version);
  EXPECT_NE(fetched.conf->FindGateway(*GatewayId::Parse(kMoiGateway)), nullptr);

  // The session survived the restart (sessions are in the database); if it had not,
  // logging in again must work.
  Reply me = Get("/api/v1/me", token_);
  if (me.status != 200) {
    ADD_FAILURE() << "the session did not survive the restart: " << me;
    token_ = Login();
    me = Get("/api/v1/me", token_);
  }
  EXPECT_EQ(me.status, 200u) << me;
  EXPECT_EQ(me.doc["username"], "operator");
  // The registry survived too.
  Reply members = Get("/api/v1/members", token_);
  ASSERT_EQ(members.status, 200u) << members;
  EXPECT_EQ(members.doc["members"].size(), 2u);
}

TEST_F(CentralProcessTest, SigtermStopsItWithinSecondsEvenWithAClientConnected) {
  ASSERT_TRUE(central_ && central_->Running()) << Diag();
  if (token_.empty()) token_ = Login();
  // A keep-alive connection stays open in the client's pool meanwhile.
  ASSERT_EQ(Get("/api/v1/me", token_).status, 200u);
  ASSERT_EQ(::kill(central_->pid(), SIGTERM), 0);
  const auto before = std::chrono::steady_clock::now();
  const int status = central_->Wait(10s);
  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_NE(status, -1) << "still running 10 s after SIGTERM" << Diag();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_LT(took, 5s);
  EXPECT_FALSE(WaitForPort("127.0.0.1", port_, 100ms)) << "still listening";
  central_.reset();
}

}  // namespace
}  // namespace troad::testing
