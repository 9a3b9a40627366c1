// The operator CLI as an operator and a member administrator use it: `troad central
// init`, the real `troad central` process on loopback, and the real `troad` binary for
// login, members, subsystems, gateways and their enrollment codes, services, access
// applications, certificate requests and revocation, administrators, the audit log and
// the session's failure modes. What the commands print and their exit codes are
// checked, and so is the central's state afterwards (over HTTPS with troad's client,
// and in the published global configuration).
//
// The tests share one central; each also passes on its own (ctest runs every test in a
// process of its own), building what it needs once per process in Populate().
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli/operator_client.h"
#include "cli/operator_cmd.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/subprocess.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "globalconf/model.h"
#include "http/client.h"
#include "http/tls.h"
#include "test_files.h"

#ifndef TROAD_BINARY
#error "TROAD_BINARY must name the troad executable"
#endif

extern char** environ;

namespace troad::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStartTimeout = 30s;
const std::string kPassword = "central operator password 1";
const std::string kMoiAdminPassword = "household registry admin 7";

const std::string kMoi = "TW/GOV/MOI";
const std::string kBli = "TW/GOV/BLI";
const std::string kHousehold = "TW/GOV/MOI/household";
const std::string kInsurance = "TW/GOV/BLI/insurance";
const std::string kRegistry = "TW/GOV/MOI/household/registry";
const std::string kClaims = "TW/GOV/BLI/insurance/claims";
const std::string kMoiGateway = "TW/GOV/MOI/moi-gw";

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// One run of the troad binary: exit code, standard output and standard error.
struct CliRun {
  int exit_code = -1;
  std::string out, err;
  json doc;  // stdout parsed as JSON (discarded when it is not)
};
std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.exit_code << "\nstdout:\n"
            << TailBytes(r.out, 4000) << "\nstderr:\n"
            << TailBytes(r.err, 4000);
}

class OperatorCliTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    std::string templ = (fs::temp_directory_path() / "troad-operator-cli-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      setup_error_ = fmt::format("mkdtemp: {}", std::strerror(errno));
      return;
    }
    dir_ = templ;
    central_dir_ = dir_ + "/central";
    fs::create_directories(dir_ + "/home");
    auto port = PickFreePort();
    if (!port) {
      setup_error_ = port.error().ToString();
      return;
    }
    port_ = *port;

    // `troad central init`, the first operator's password from the environment.
    auto init = Subprocess::Start({TROAD_BINARY, "central", "init", "--dir", central_dir_,
                                   "--listen", fmt::format("127.0.0.1:{}", port_)},
                                  dir_ + "/init.log", {"TROAD_ADMIN_PASSWORD=" + kPassword});
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
    WriteText(dir_ + "/operator-password", kPassword + "\n");
    WriteText(dir_ + "/moi-admin-password", kMoiAdminPassword + "\n");

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
    client_ = std::make_unique<http::BlockingClient>(options);
    if (auto st = StartCentral(); !st) setup_error_ = st.error().ToString();
  }

  static void TearDownTestSuite() {
    if (central_) central_->Stop(5s);
    central_.reset();
    client_.reset();
    if (!dir_.empty() && !::testing::Test::HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::fprintf(stderr, "operator CLI test directory kept: %s\n", dir_.c_str());
    }
  }

 protected:
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static std::string LogFile() { return dir_ + "/central.log"; }
  static std::string Diag() { return "\ncentral log:\n" + TailBytes(ReadText(LogFile())); }
  static std::string Anchor() { return central_dir_ + "/anchor.json"; }
  static std::string Session() { return dir_ + "/session.json"; }

  static Status StartCentral() {
    TROAD_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Start({TROAD_BINARY, "central", "--config",
                                                                central_dir_ + "/central.toml"},
                                                               LogFile()));
    central_.emplace(std::move(child));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    for (;;) {
      if (!central_->Running()) {
        return Fail(ErrorCode::kUnavailable, "troad central exited:\n{}",
                    TailBytes(ReadText(LogFile())));
      }
      if (WaitForPort("127.0.0.1", port_, 200ms)) {
        auto r = Http("GET", "/globalconf/v1/document");
        if (r && r->status == 200) return Ok();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Fail(ErrorCode::kDeadlineExceeded, "troad central did not answer within {} s:\n{}",
                    kStartTimeout.count(), TailBytes(ReadText(LogFile())));
      }
    }
  }

  // A request to the central with troad's client (to check state, and to act as a
  // gateway where the CLI has no part).
  static Result<cli::ApiReply> Http(const std::string& method, const std::string& target,
                                    const std::optional<json>& body = std::nullopt,
                                    const std::string& token = "") {
    http::Request req{http::bhttp::string_to_verb(method), target, 11};
    if (!token.empty()) req.set(http::bhttp::field::authorization, "Bearer " + token);
    if (body) {
      req.set(http::bhttp::field::content_type, "application/json");
      req.body() = body->dump();
    }
    req.prepare_payload();
    TROAD_ASSIGN_OR_RETURN(
        http::ClientResponse res,
        client_->Send(http::Endpoint{"127.0.0.1", port_, true, ""}, std::move(req), 20s));
    return cli::ApiReply{res.response.result_int(), res.response.body()};
  }

  // Runs the troad binary with `args`, standard input from `input`, a clean
  // environment (HOME inside the test directory, TROAD_SESSION = Session()) plus `env`.
  static CliRun Troad(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}, const std::string& input = "") {
    const std::string in = dir_ + "/stdin.txt", out = dir_ + "/stdout.txt",
                      err = dir_ + "/stderr.txt";
    WriteText(in, input);
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view v(*e);
      if (v.starts_with("TROAD_") || v.starts_with("HOME=") || v.starts_with("XDG_CONFIG_HOME=")) {
        continue;
      }
      vars.emplace_back(v);
    }
    vars.push_back("HOME=" + dir_ + "/home");
    // getenv takes the first of two equal names: the default only when not overridden.
    bool session_given = false;
    for (const std::string& e : env) {
      session_given = session_given || e.starts_with("TROAD_SESSION=");
      vars.push_back(e);
    }
    if (!session_given) vars.push_back("TROAD_SESSION=" + Session());
    std::vector<std::string> argv_strings = {TROAD_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);

    CliRun r;
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd_in = ::open(in.c_str(), O_RDONLY);
      const int fd_out = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int fd_err = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd_in < 0 || fd_out < 0 || fd_err < 0) _exit(126);
      ::dup2(fd_in, 0);
      ::dup2(fd_out, 1);
      ::dup2(fd_err, 2);
      ::execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    if (pid < 0) {
      r.err = std::strerror(errno);
      return r;
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);  // our own child, by its PID
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "troad did not finish within 60 s";
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadText(out);
    r.err = ReadText(err);
    r.doc = json::parse(r.out, nullptr, false);
    return r;
  }

  // The same for a command that must succeed.
  static CliRun Ok0(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                    const std::string& input = "") {
    CliRun r = Troad(args, env, input);
    EXPECT_EQ(r.exit_code, 0) << fmt::format("troad {}", fmt::join(args, " ")) << "\n"
                              << r << Diag();
    return r;
  }

  static std::string Token(const std::string& session_file) {
    json s = json::parse(ReadText(session_file), nullptr, false);
    return s.is_object() ? s.value("token", "") : "";
  }

  // The published configuration once `ready` holds for it (or the last one seen after
  // 10 s: the caller's expectations then say what is missing).
  template <typename F>
  static std::shared_ptr<const globalconf::GlobalConf> PublishedWhen(F&& ready) {
    std::shared_ptr<const globalconf::GlobalConf> last;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto r = Http("GET", "/globalconf/v1/document");
      if (r && r->status == 200) {
        if (auto conf = globalconf::GlobalConf::Parse(r->body)) last = *conf;
      }
      if ((last != nullptr && ready(*last)) || std::chrono::steady_clock::now() > deadline) {
        return last;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  static std::string CodeFrom(const CliRun& r) {
    // "enrollment code for … (shown only this once):\n  CODE\n"
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);
    std::getline(lines, line);
    return line.substr(std::min(line.find_first_not_of(' '), line.size()));
  }

  // The network, built with the CLI as an operator would: members MOI and BLI, their
  // subsystems, MOI's gateway and service, BLI's service, BLI's approved application
  // for MOI's service. Once per process.
  static void Populate() {
    if (populated_) return;
    Ok0({"login", "--anchor", Anchor(), "--user", "operator", "--password-file",
         dir_ + "/operator-password"});
    Ok0({"member", "add", "--id", kMoi, "--name", "內政部", "--name-en",
         "Ministry of the Interior"});
    Ok0({"member", "add", "--id", kBli, "--name", "勞動部勞工保險局"});
    Ok0({"subsystem", "add", "--id", kHousehold, "--name", "戶政"});
    Ok0({"subsystem", "add", "--id", kInsurance, "--name", "勞保"});
    Ok0({"gateway", "register", "--id", kMoiGateway, "--address", "127.0.0.1:8443", "--client",
         kHousehold});
    Ok0({"service", "add", "--id", kRegistry, "--description", "戶籍資料", "--endpoint",
         "GET /persons/{nationalId}", "--endpoint", "GET /households/{id}"});
    Ok0({"service", "add", "--id", kClaims, "--description", "勞保給付"});
    CliRun applied =
        Ok0({"grant", "apply", "--client", kInsurance, "--service", kRegistry, "--rule",
             "GET /persons/{nationalId}", "--purpose", "勞保資格審查", "--json"});
    ASSERT_TRUE(applied.doc.is_object() && applied.doc.contains("id")) << applied;
    EXPECT_EQ(applied.doc["status"], "pending");
    application_ = applied.doc["id"].get<int64_t>();
    CliRun approved =
        Ok0({"grant", "approve", std::to_string(application_), "--reason", "agreement 2026-17"});
    EXPECT_TRUE(Contains(approved.out, fmt::format("application {} approved: {} may call {}",
                                                   application_, kInsurance, kRegistry)))
        << approved;
    ASSERT_FALSE(HasFailure());
    populated_ = true;
  }

  static std::string dir_, central_dir_, setup_error_;
  static uint16_t port_;
  static std::unique_ptr<http::BlockingClient> client_;
  static std::optional<Subprocess> central_;
  static bool populated_;
  static int64_t application_;
};

std::string OperatorCliTest::dir_, OperatorCliTest::central_dir_, OperatorCliTest::setup_error_;
uint16_t OperatorCliTest::port_ = 0;
std::unique_ptr<http::BlockingClient> OperatorCliTest::client_;
std::optional<Subprocess> OperatorCliTest::central_;
bool OperatorCliTest::populated_ = false;
int64_t OperatorCliTest::application_ = 0;

TEST_F(OperatorCliTest, LoginKeepsAPrivateSessionAndAWrongPasswordIsRefused) {
  const std::string wrong = dir_ + "/wrong-session.json";
  CliRun refused = Troad({"login", "--anchor", Anchor(), "--user", "operator", "--session", wrong},
                         {"TROAD_PASSWORD=not the password at all"});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_TRUE(Contains(refused.err, "troad login: wrong user name or password")) << refused;
  EXPECT_FALSE(fs::exists(wrong));

  // The password from a file; the session file is the user's alone.
  CliRun ok = Ok0({"login", "--anchor", Anchor(), "--user", "operator", "--password-file",
                   dir_ + "/operator-password"});
  EXPECT_TRUE(Contains(ok.out, fmt::format("logged in to https://127.0.0.1:{} as operator "
                                           "(operator)",
                                           port_)))
      << ok;
  struct stat st {};
  ASSERT_EQ(::stat(Session().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto session = cli::LoadSession(Session());
  ASSERT_TRUE(session) << session.error().ToString();
  EXPECT_EQ(session->central_url, fmt::format("https://127.0.0.1:{}", port_));
  EXPECT_EQ(session->username, "operator");
  EXPECT_EQ(session->role, "operator");
  EXPECT_EQ(session->member, "");
  EXPECT_GT(session->expires_at, SystemClock::Get().Now());
  EXPECT_EQ(crypto::Certificate::FromPem(session->ca_certificate)->Sha256Fingerprint(),
            crypto::Certificate::LoadPemFile(central_dir_ + "/keys/ca.crt")->Sha256Fingerprint());
  auto me = Http("GET", "/api/v1/me", std::nullopt, session->token);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200u) << me->body;

  // --url and --ca-cert instead of the anchor, the password on standard input.
  const std::string by_url = dir_ + "/url-session.json";
  const std::string url = fmt::format("https://127.0.0.1:{}", port_);
  Ok0({"login", "--url", url, "--ca-cert", central_dir_ + "/keys/ca.crt", "--user", "operator",
       "--password-file", "-", "--session", by_url},
      {}, kPassword + "\n");
  EXPECT_FALSE(Token(by_url).empty());
  // Logging in again needs no URL: the last session's central is used.
  const std::string before = Token(by_url);
  Ok0({"login", "--user", "operator", "--session", by_url}, {"TROAD_PASSWORD=" + kPassword});
  EXPECT_NE(Token(by_url), before);
  // A URL without its CA, with no earlier session to take it from, is a usage error.
  CliRun no_ca =
      Troad({"login", "--url", url, "--user", "operator", "--session", dir_ + "/none.json"},
            {"TROAD_PASSWORD=" + kPassword});
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca;
  EXPECT_TRUE(Contains(no_ca.err, "--ca-cert")) << no_ca;
  // No password anywhere and no terminal to ask on.
  CliRun no_password = Troad(
      {"login", "--anchor", Anchor(), "--user", "operator", "--session", dir_ + "/none.json"});
  EXPECT_EQ(no_password.exit_code, 2) << no_password;
  EXPECT_TRUE(Contains(no_password.err, "a password is needed")) << no_password;
}

TEST_F(OperatorCliTest, OperatorRegistersMembersGatewaysAndServices) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());

  CliRun members = Ok0({"member", "list"});
  EXPECT_TRUE(Contains(members.out, "ID")) << members;
  EXPECT_TRUE(Contains(members.out, "內政部")) << members;
  EXPECT_TRUE(Contains(members.out, "Ministry of the Interior")) << members;
  EXPECT_TRUE(Contains(members.out, "勞動部勞工保險局")) << members;
  // Columns line up by display width: each row's name column starts where the header's does.
  {
    std::istringstream lines(members.out);
    std::string header, row;
    std::getline(lines, header);
    const size_t name_at = cli::DisplayWidth(header.substr(0, header.find("NAME (EN)")));
    while (std::getline(lines, row)) {
      if (!Contains(row, kMoi)) continue;
      EXPECT_EQ(cli::DisplayWidth(row.substr(0, row.find("Ministry"))), name_at) << members.out;
    }
  }
  CliRun members_json = Ok0({"member", "list", "--json"});
  ASSERT_TRUE(members_json.doc.contains("members")) << members_json;
  ASSERT_EQ(members_json.doc["members"].size(), 2u);
  std::set<std::string> ids;
  for (const json& m : members_json.doc["members"]) ids.insert(m["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{kMoi, kBli}));

  CliRun shown = Ok0({"member", "show", kMoi});
  EXPECT_TRUE(Contains(shown.out, kHousehold)) << shown;
  EXPECT_TRUE(Contains(shown.out, kMoiGateway + "  at 127.0.0.1:8443")) << shown;
  EXPECT_TRUE(Contains(shown.out, kRegistry)) << shown;
  EXPECT_FALSE(Contains(shown.out, kClaims)) << "BLI's service under MOI:\n" << shown;
  CliRun unknown = Troad({"member", "show", "TW/GOV/XYZ"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_TRUE(Contains(unknown.err, "troad member show: member TW/GOV/XYZ is not registered"))
      << unknown;
  CliRun twice = Troad({"member", "add", "--id", kMoi, "--name", "內政部"});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  EXPECT_TRUE(Contains(twice.err, "troad member add: ")) << twice;

  CliRun subsystems = Ok0({"subsystem", "list", "--member", kBli});
  EXPECT_TRUE(Contains(subsystems.out, kInsurance)) << subsystems;
  EXPECT_FALSE(Contains(subsystems.out, kHousehold)) << subsystems;

  // The gateway moves: the address changes, its subsystems stay.
  Ok0({"gateway", "update", "--id", kMoiGateway, "--address", "127.0.0.1:9443"});
  CliRun gateways = Ok0({"gateway", "list", "--json"});
  ASSERT_EQ(gateways.doc["gateways"].size(), 1u) << gateways;
  EXPECT_EQ(gateways.doc["gateways"][0]["address"], "127.0.0.1:9443");
  EXPECT_EQ(gateways.doc["gateways"][0]["clients"], json::array({kHousehold}));
  CliRun table = Ok0({"gateway", "list"});
  EXPECT_TRUE(Contains(table.out, kMoiGateway)) << table;
  EXPECT_TRUE(Contains(table.out, "127.0.0.1:9443")) << table;

  // An enrollment code, printed once; the central accepts it for this gateway.
  CliRun code = Ok0({"gateway", "code", kMoiGateway});
  const std::string printed = CodeFrom(code);
  EXPECT_GE(printed.size(), 16u) << code;
  auto status = Http("POST", "/api/v1/enrollment/status",
                     json{{"gateway", kMoiGateway}, {"code", printed}, {"ids", json::array()}});
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200u) << status->body;
  const std::string code_file = dir_ + "/enrollment-code";
  CliRun to_file = Ok0({"gateway", "code", kMoiGateway, "--out", code_file});
  EXPECT_FALSE(Contains(to_file.out, ReadText(code_file).substr(0, 10))) << to_file;
  struct stat st {};
  ASSERT_EQ(::stat(code_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  CliRun services = Ok0({"service", "list", "--json"});
  bool found = false;
  for (const json& s : services.doc["services"]) {
    if (s["id"] != kRegistry) continue;
    found = true;
    EXPECT_EQ(s["description"], "戶籍資料");
    EXPECT_EQ(s["endpoints"].size(), 2u);
    EXPECT_EQ(s["endpoints"][0]["path"], "/persons/{nationalId}");
  }
  EXPECT_TRUE(found) << services;
  // Disabled for maintenance, its endpoints untouched; then enabled again.
  Ok0({"service", "update", "--id", kRegistry, "--disable", "--disabled-notice", "維護中"});
  CliRun disabled = Ok0({"service", "list", "--member", kMoi});
  EXPECT_TRUE(Contains(disabled.out, "disabled")) << disabled;
  EXPECT_TRUE(Contains(disabled.out, "GET /persons/{nationalId}, GET /households/{id}"))
      << disabled;
  Ok0({"service", "update", "--id", kRegistry, "--enable"});

  // A service with an OpenAPI document: an update must not drop it unawares.
  const std::string openapi = dir_ + "/openapi.json";
  WriteText(openapi, R"({"openapi": "3.0.3", "info": {"title": "戶口名簿", "version": "1"},
                         "paths": {"/households/{id}": {"get": {}}}})");
  const std::string book = "TW/GOV/MOI/household/book";
  Ok0({"service", "add", "--id", book, "--type", "OPENAPI", "--openapi", openapi, "--endpoint",
       "GET /households/{id}"});
  CliRun keep = Troad({"service", "update", "--id", book, "--disable"});
  EXPECT_EQ(keep.exit_code, 2) << keep;
  EXPECT_TRUE(Contains(keep.err, "give it again with --openapi FILE")) << keep;
  Ok0({"service", "update", "--id", book, "--disable", "--openapi", openapi});
  CliRun books = Ok0({"service", "list", "--member", kMoi, "--json"});
  bool has_book = false;
  for (const json& svc : books.doc["services"]) {
    if (svc["id"] != book) continue;
    has_book = true;
    EXPECT_EQ(svc["has_openapi"], true) << books;
    EXPECT_EQ(svc["enabled"], false) << books;
    EXPECT_EQ(svc["type"], "OPENAPI") << books;
  }
  EXPECT_TRUE(has_book) << books;

  auto conf = PublishedWhen([&](const globalconf::GlobalConf& c) {
    const globalconf::Service* svc = c.FindService(*ServiceId::Parse(kRegistry));
    return svc != nullptr && svc->enabled;
  });
  ASSERT_NE(conf, nullptr) << Diag();
  // The gateway is published once it has an authentication certificate (below).
  EXPECT_EQ(conf->FindGateway(*GatewayId::Parse(kMoiGateway)), nullptr) << conf->source();
  const globalconf::Service* svc = conf->FindService(*ServiceId::Parse(kRegistry));
  ASSERT_NE(svc, nullptr) << conf->source();
  EXPECT_TRUE(svc->enabled);
  EXPECT_EQ(svc->endpoints.size(), 2u);

  CliRun status_now = Ok0({"globalconf", "status"});
  EXPECT_TRUE(Contains(status_now.out, "version")) << status_now;
  EXPECT_TRUE(Contains(status_now.out, "valid for")) << status_now;
  CliRun status_json = Ok0({"globalconf", "status", "--json"});
  EXPECT_EQ(status_json.doc["published"], true) << status_json;
  EXPECT_GE(status_json.doc["version"].get<int64_t>(), conf->version());
}

TEST_F(OperatorCliTest, BadValuesAreRefusedBeforeAnythingIsSent) {
  // No session file at all: each of these fails on its input first.
  const std::vector<std::string> none = {"TROAD_SESSION=" + dir_ + "/never.json"};
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"member", "add", "--id", kHousehold, "--name", "x"}, "is a subsystem, not a member"},
      {{"member", "add", "--id", "TW/GOV", "--name", "x"}, "troad member add: --id"},
      {{"subsystem", "add", "--id", kMoi, "--name", "x"}, "is a member, not a subsystem"},
      {{"gateway", "register", "--id", kMoiGateway, "--address", "127.0.0.1"}, "--address"},
      {{"gateway", "register", "--id", kMoiGateway, "--address", "h:0"}, "port 1-65535"},
      {{"gateway", "update", "--id", kMoiGateway}, "nothing to change"},
      {{"gateway", "code", "TW/GOV"}, "troad gateway code: gateway"},
      {{"service", "add", "--id", kHousehold}, "troad service add: --id"},
      {{"service", "add", "--id", kRegistry, "--endpoint", "FETCH /x"}, "not an HTTP method"},
      {{"service", "add", "--id", kRegistry, "--type", "SOAP"}, "is not REST or OPENAPI"},
      {{"grant", "apply", "--client", kInsurance, "--service", kRegistry, "--rule", "GET persons",
        "--purpose", "p"},
       "must be \"*\" or start with '/'"},
      {{"grant", "apply", "--client", kBli, "--service", kRegistry, "--purpose", "p"},
       "is a member, not a subsystem"},
      {{"grant", "approve", "seven"}, "application id \"seven\" is not a positive number"},
      {{"grant", "withdraw", "0", "--reason", "r"}, "is not a positive number"},
      {{"cert", "revoke", "abcd", "--reason", "r"}, "is not a SHA-256 fingerprint"},
      {{"cert", "approve", "-3"}, ""},
      {{"cert", "requests", "--status", "lost"}, "is not one of pending, approved, rejected"},
      {{"admin", "add", "--user", "A B", "--role", "operator"}, "is not a user name"},
      {{"admin", "add", "--user", "someone", "--role", "operator", "--member", kMoi},
       "--member is for a member-admin"},
      {{"admin", "disable", "x"}, "is not a user name"},
      {{"audit", "export", "--from", "yesterday"}, "--from: \"yesterday\" is not a time"},
      {{"login", "--anchor", dir_ + "/no-anchor.json", "--user", "operator"}, "no-anchor.json"},
      {{"service", "add", "--id", kRegistry, "--openapi", dir_ + "/no-openapi.json"},
       "no-openapi.json"},
  };
  for (const Case& c : cases) {
    CliRun r = Troad(c.args, none);
    EXPECT_EQ(r.exit_code, 2) << fmt::format("troad {}", fmt::join(c.args, " ")) << "\n" << r;
    EXPECT_TRUE(Contains(r.err, c.says)) << fmt::format("troad {}", fmt::join(c.args, " ")) << "\n"
                                         << r;
    EXPECT_FALSE(Contains(r.err, "not logged in")) << r;
  }
  // Options the command needs, or that exclude each other: usage errors too.
  const std::vector<Case> usage = {
      {{"grant", "reject", "3"}, "troad grant reject: --reason is required"},
      {{"grant", "approve"}, "troad grant approve: id is required"},
      {{"member", "add", "--name", "x"}, "--id is required"},
      {{"admin", "add", "--user", "someone", "--role", "king"}, "is not operator or member-admin"},
      {{"login", "--user", "operator", "--anchor", Anchor(), "--url", "https://127.0.0.1:1"},
       "--anchor and --url exclude each other"},
      {{"login", "--user", "operator", "--ca-cert", "ca.crt"}, "--ca-cert needs --url"},
      {{"gateway", "update", "--id", kMoiGateway, "--client", kHousehold, "--no-clients"},
       "exclude each other"},
      {{"service", "update", "--id", kRegistry, "--enable", "--disable"}, "exclude each other"},
      // What the command-line parser itself refuses: also status 2, with its message.
      {{"member", "list", "--bogus"}, "The following argument was not expected: --bogus"},
      {{"verify-ledger", "--checkpoint"}, "--checkpoint: 1 required TEXT missing"},
      {{"ledger", "--listen"}, "--listen: 1 required TEXT missing"},
      {{"ledger", "--key", "k.pem", "--globalconf", "g.json", "--origin", "o", "--nice", "25"},
       "--nice: Value 25 not in range"},
      {{"no-such-command"}, "troad: \"no-such-command\" is not a command"},
  };
  for (const Case& c : usage) {
    CliRun r = Troad(c.args, none);
    EXPECT_EQ(r.exit_code, 2) << fmt::format("troad {}", fmt::join(c.args, " ")) << "\n" << r;
    EXPECT_TRUE(Contains(r.err, c.says)) << fmt::format("troad {}", fmt::join(c.args, " ")) << "\n"
                                         << r;
  }
}

TEST_F(OperatorCliTest, AccessIsAppliedForApprovedAndWithdrawn) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  const ClientId client = *ClientId::Parse(kInsurance);
  const ServiceId service = *ServiceId::Parse(kRegistry);
  // Approved in Populate: gateways get the grant with its rule.
  auto granted = PublishedWhen(
      [&](const globalconf::GlobalConf& conf) { return !conf.GrantsFor(client, service).empty(); });
  ASSERT_NE(granted, nullptr) << Diag();
  auto grants = granted->GrantsFor(client, service);
  ASSERT_EQ(grants.size(), 1u) << granted->source();
  ASSERT_EQ(grants[0]->rules.size(), 1u);
  EXPECT_EQ(grants[0]->rules[0].path, "/persons/{nationalId}");

  CliRun listed = Ok0({"grant", "list", "--status", "approved"});
  EXPECT_TRUE(Contains(listed.out, std::to_string(application_) + "   " + kInsurance)) << listed;
  EXPECT_TRUE(Contains(listed.out, "GET /persons/{nationalId}")) << listed;
  CliRun no_reason = Troad({"grant", "withdraw", std::to_string(application_)});
  EXPECT_NE(no_reason.exit_code, 0) << no_reason;

  CliRun withdrawn =
      Ok0({"grant", "withdraw", std::to_string(application_), "--reason", "agreement ended"});
  EXPECT_TRUE(Contains(withdrawn.out, fmt::format("application {} withdrawn: {} no longer may "
                                                  "call {}",
                                                  application_, kInsurance, kRegistry)))
      << withdrawn;
  CliRun after = Ok0({"grant", "list", "--json"});
  bool seen = false;
  for (const json& a : after.doc["applications"]) {
    if (a["id"] != application_) continue;
    seen = true;
    EXPECT_EQ(a["status"], "withdrawn");
    EXPECT_EQ(a["withdrawal_reason"], "agreement ended");
    EXPECT_EQ(a["withdrawn_by"], "operator");
  }
  EXPECT_TRUE(seen) << after;
  // The grant leaves the next configuration.
  auto conf = PublishedWhen(
      [&](const globalconf::GlobalConf& c) { return c.GrantsFor(client, service).empty(); });
  ASSERT_NE(conf, nullptr) << Diag();
  EXPECT_GT(conf->version(), granted->version());
  EXPECT_TRUE(conf->GrantsFor(client, service).empty()) << conf->source();
  // Withdrawn is final.
  CliRun again = Troad({"grant", "approve", std::to_string(application_)});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_TRUE(Contains(again.err, "troad grant approve: ")) << again;

  // A new application is rejected with a reason.
  CliRun applied = Ok0({"grant", "apply", "--client", kInsurance, "--service", kRegistry,
                        "--purpose", "second try", "--json"});
  const int64_t second = applied.doc.value("id", int64_t{0});
  ASSERT_GT(second, 0) << applied;
  Ok0({"grant", "reject", std::to_string(second), "--reason", "no legal basis"});
  CliRun rejected = Ok0({"grant", "list", "--status", "rejected", "--json"});
  ASSERT_EQ(rejected.doc["applications"].size(), 1u) << rejected;
  EXPECT_EQ(rejected.doc["applications"][0]["id"], second);
  EXPECT_EQ(rejected.doc["applications"][0]["decision_reason"], "no legal basis");
  // Filtered, the API's objects keep their keys in the API's order.
  EXPECT_LT(rejected.out.find("\"id\""), rejected.out.find("\"client\"")) << rejected;
  CliRun table = Ok0({"grant", "list", "--status", "rejected"});
  EXPECT_TRUE(Contains(table.out, "rejected")) << table;
  EXPECT_FALSE(Contains(table.out, "withdrawn")) << table;
}

TEST_F(OperatorCliTest, CertificateRequestsAreApprovedRejectedAndRevoked) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  // The gateway's side, as `troad gateway enroll` does it: keys here, CSRs to the central.
  CliRun code = Ok0({"gateway", "code", kMoiGateway, "--json"});
  ASSERT_TRUE(code.doc.contains("code")) << code;
  EXPECT_EQ(code.doc["gateway"], kMoiGateway);
  auto subject = [](const std::string& cn) {
    crypto::CsrSubject s;
    s.common_name = cn;
    s.serial_number_attr = kMoi;
    s.country = "TW";
    return s;
  };
  auto auth_key = *crypto::PrivateKey::GenerateEcP256();
  auto sign_key = *crypto::PrivateKey::GenerateEcP256();
  auto submitted = Http("POST", "/api/v1/enrollment",
                        json{{"gateway", kMoiGateway},
                             {"code", code.doc["code"]},
                             {"requests",
                              {{{"kind", "authentication"},
                                {"owner", kMoiGateway},
                                {"csr", *crypto::CreateCsrPem(auth_key, subject(kMoiGateway))}},
                               {{"kind", "signing"},
                                {"owner", kMoi},
                                {"csr", *crypto::CreateCsrPem(sign_key, subject(kMoi))}}}}});
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 202u) << submitted->body << Diag();
  json requests = json::parse(submitted->body)["requests"];
  ASSERT_EQ(requests.size(), 2u);
  const std::string auth_id = std::to_string(requests[0]["id"].get<int64_t>());
  const std::string sign_id = std::to_string(requests[1]["id"].get<int64_t>());

  CliRun pending = Ok0({"cert", "requests", "--status", "pending"});
  EXPECT_TRUE(Contains(pending.out, "authentication")) << pending;
  EXPECT_TRUE(Contains(pending.out, "enrollment:" + kMoiGateway)) << pending;
  EXPECT_TRUE(Contains(pending.out, sign_id + "   signing")) << pending;

  CliRun approved = Ok0({"cert", "approve", auth_id});
  EXPECT_TRUE(Contains(approved.out, fmt::format("certificate request {} approved: authentication "
                                                 "certificate for {}",
                                                 auth_id, kMoiGateway)))
      << approved;
  CliRun rejected = Ok0({"cert", "reject", sign_id, "--reason", "wrong key holder"});
  EXPECT_TRUE(Contains(rejected.out, "rejected: wrong key holder")) << rejected;
  CliRun decided = Ok0({"cert", "requests", "--json"});
  std::string fingerprint;
  for (const json& q : decided.doc["certificate_requests"]) {
    const std::string id = std::to_string(q["id"].get<int64_t>());
    if (id == auth_id) {
      EXPECT_EQ(q["status"], "approved");
      fingerprint = q["certificate_fingerprint"];
    }
    if (id == sign_id) {
      EXPECT_EQ(q["status"], "rejected");
      EXPECT_EQ(q["decision_reason"], "wrong key holder");
    }
  }
  ASSERT_EQ(fingerprint.size(), 64u) << decided;
  EXPECT_TRUE(Contains(approved.out, fingerprint)) << approved;
  // The issued certificate holds the gateway's key.
  auto collected = Http(
      "POST", "/api/v1/enrollment/status",
      json{{"gateway", kMoiGateway}, {"code", code.doc["code"]}, {"ids", {std::stoll(auth_id)}}});
  ASSERT_TRUE(collected);
  ASSERT_EQ(collected->status, 200u) << collected->body;
  auto issued = crypto::Certificate::FromPem(
      json::parse(collected->body)["requests"][0]["certificate"].get<std::string>());
  ASSERT_TRUE(issued);
  EXPECT_EQ(issued->Sha256Fingerprint(), fingerprint);

  // Approved, the gateway is published with that certificate.
  auto published = PublishedWhen([&](const globalconf::GlobalConf& c) {
    return c.FindGateway(*GatewayId::Parse(kMoiGateway)) != nullptr;
  });
  ASSERT_NE(published, nullptr) << Diag();
  const globalconf::Gateway* gw = published->FindGateway(*GatewayId::Parse(kMoiGateway));
  ASSERT_NE(gw, nullptr) << published->source();
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), fingerprint);

  CliRun certs = Ok0({"cert", "list", "--owner", kMoi});
  EXPECT_TRUE(Contains(certs.out, fingerprint + "  authentication  " + kMoiGateway)) << certs;
  EXPECT_TRUE(Contains(certs.out, "valid")) << certs;

  // Revoked, by the fingerprint as openssl prints it (upper case, colons).
  std::string openssl_style;
  for (size_t i = 0; i < fingerprint.size(); i += 2) {
    if (i > 0) openssl_style += ':';
    openssl_style += static_cast<char>(std::toupper(fingerprint[i]));
    openssl_style += static_cast<char>(std::toupper(fingerprint[i + 1]));
  }
  CliRun revoked = Ok0({"cert", "revoke", openssl_style, "--reason", "key lost"});
  EXPECT_TRUE(Contains(revoked.out, "certificate " + fingerprint + " revoked")) << revoked;
  CliRun after = Ok0({"cert", "list", "--json"});
  bool seen = false;
  for (const json& c : after.doc["certificates"]) {
    if (c["fingerprint"] != fingerprint) continue;
    seen = true;
    EXPECT_FALSE(c["revoked_at"].is_null());
    EXPECT_EQ(c["revocation_reason"], "key lost");
  }
  EXPECT_TRUE(seen) << after;
  CliRun table = Ok0({"cert", "list"});
  EXPECT_TRUE(Contains(table.out, "revoked 20")) << table;
  auto conf =
      PublishedWhen([&](const globalconf::GlobalConf& c) { return c.IsRevoked(fingerprint); });
  ASSERT_NE(conf, nullptr) << Diag();
  EXPECT_TRUE(conf->IsRevoked(fingerprint)) << "not listed as revoked:\n" << conf->source();

  // Unknown ids and fingerprints are the API's refusals (exit 1), not usage errors.
  CliRun unknown = Troad({"cert", "approve", "99999"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_TRUE(Contains(unknown.err, "troad cert approve: ")) << unknown;
  CliRun unknown_cert = Troad({"cert", "revoke", std::string(64, 'a'), "--reason", "r"});
  EXPECT_EQ(unknown_cert.exit_code, 1) << unknown_cert;
}

TEST_F(OperatorCliTest, MemberAdministratorActsOnlyForItsOwnMember) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  CliRun added =
      Ok0({"admin", "add", "--user", "moi-admin", "--role", "member-admin", "--member", kMoi,
           "--display-name", "戶政司 王小明", "--password-file", dir_ + "/moi-admin-password"});
  EXPECT_TRUE(Contains(added.out, "administrator moi-admin added (member-admin of TW/GOV/MOI)"))
      << added;
  CliRun weak =
      Troad({"admin", "add", "--user", "weak-admin", "--role", "member-admin", "--member", kMoi},
            {"TROAD_NEW_PASSWORD=short"});
  EXPECT_EQ(weak.exit_code, 2) << weak;
  CliRun admins = Ok0({"admin", "list"});
  EXPECT_TRUE(Contains(admins.out, "moi-admin")) << admins;
  EXPECT_TRUE(Contains(admins.out, "戶政司 王小明")) << admins;

  const std::string moi = dir_ + "/moi-session.json";
  const std::vector<std::string> as_moi = {"TROAD_SESSION=" + moi};
  CliRun login = Ok0({"login", "--anchor", Anchor(), "--user", "moi-admin"},
                     {"TROAD_SESSION=" + moi, "TROAD_PASSWORD=" + kMoiAdminPassword});
  EXPECT_TRUE(Contains(login.out, "as moi-admin (member-admin of TW/GOV/MOI)")) << login;
  auto session = cli::LoadSession(moi);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->member, kMoi);

  // Listings are its member's only.
  CliRun services = Ok0({"service", "list", "--json"}, as_moi);
  ASSERT_TRUE(services.doc.contains("services")) << services;
  for (const json& s : services.doc["services"]) {
    EXPECT_TRUE(s["id"].get<std::string>().starts_with(kMoi + "/")) << services;
  }
  EXPECT_FALSE(Contains(services.out, kClaims)) << services;
  CliRun table = Ok0({"service", "list"}, as_moi);
  EXPECT_TRUE(Contains(table.out, kRegistry)) << table;
  EXPECT_FALSE(Contains(table.out, kBli)) << table;
  CliRun subsystems = Ok0({"subsystem", "list"}, as_moi);
  EXPECT_FALSE(Contains(subsystems.out, kInsurance)) << subsystems;

  // Acting for another member, or as an operator, is refused (exit 1) and audited.
  CliRun member_add = Troad({"member", "add", "--id", "TW/GOV/NDC", "--name", "國發會"}, as_moi);
  EXPECT_EQ(member_add.exit_code, 1) << member_add;
  EXPECT_TRUE(
      Contains(member_add.err, "troad member add: member.create is reserved for central operators"))
      << member_add;
  CliRun foreign =
      Troad({"subsystem", "add", "--id", "TW/GOV/BLI/pension", "--name", "年金"}, as_moi);
  EXPECT_EQ(foreign.exit_code, 1) << foreign;
  EXPECT_TRUE(Contains(foreign.err, "may not act for TW/GOV/BLI/pension")) << foreign;
  CliRun apply = Troad({"grant", "apply", "--client", kInsurance, "--service", kRegistry,
                        "--purpose", "on BLI's behalf"},
                       as_moi);
  EXPECT_EQ(apply.exit_code, 1) << apply;
  CliRun approve_cert = Troad({"cert", "requests"}, as_moi);
  EXPECT_EQ(approve_cert.exit_code, 0) << approve_cert;
  // Its own member it manages: a subsystem, and an application for its subsystem.
  Ok0({"subsystem", "add", "--id", "TW/GOV/MOI/civil", "--name", "民政"}, as_moi);
  Ok0({"grant", "apply", "--client", kHousehold, "--service", kClaims, "--purpose",
       "survivor benefits check"},
      as_moi);

  // Disabled by the operator: its session ends, and the CLI says what to do.
  Ok0({"admin", "disable", "moi-admin"});
  CliRun ended = Troad({"service", "list"}, as_moi);
  EXPECT_EQ(ended.exit_code, 1) << ended;
  EXPECT_TRUE(Contains(ended.err, "log in again: troad login --user moi-admin")) << ended;
  CliRun locked = Troad({"login", "--anchor", Anchor(), "--user", "moi-admin"},
                        {"TROAD_SESSION=" + moi, "TROAD_PASSWORD=" + kMoiAdminPassword});
  EXPECT_EQ(locked.exit_code, 1) << locked;
  Ok0({"admin", "enable", "moi-admin"});
  Ok0({"login", "--user", "moi-admin"},
      {"TROAD_SESSION=" + moi, "TROAD_PASSWORD=" + kMoiAdminPassword});

  // Its own password: the current one is needed, and afterwards it must log in again.
  const std::string new_password_file = dir_ + "/moi-admin-new-password";
  WriteText(new_password_file, "a longer passphrase 2026\n");
  CliRun wrong = Troad({"admin", "password", "--password-file", new_password_file},
                       {"TROAD_SESSION=" + moi, "TROAD_PASSWORD=not the current one"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong;
  CliRun changed = Ok0({"admin", "password", "--password-file", new_password_file,
                        "--current-password-file", dir_ + "/moi-admin-password"},
                       as_moi);
  EXPECT_TRUE(Contains(changed.out, "its sessions have ended")) << changed;
  EXPECT_FALSE(fs::exists(moi));
  Ok0({"login", "--anchor", Anchor(), "--user", "moi-admin", "--password-file", new_password_file},
      as_moi);

  // The operator's audit export shows the refusals.
  CliRun audit = Ok0({"audit", "export", "--actor", "moi-admin"});
  EXPECT_TRUE(Contains(audit.out, "\"action\":\"member.create\"")) << audit;
  EXPECT_TRUE(Contains(audit.out, "\"outcome\":\"denied\"")) << audit;
  // Its own export holds its member's entries only.
  CliRun own = Ok0({"audit", "export"}, as_moi);
  std::istringstream lines(own.out);
  std::string line;
  size_t entries = 0;
  while (std::getline(lines, line)) {
    json e = json::parse(line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << line;
    EXPECT_EQ(e["member"], kMoi) << line;
    ++entries;
  }
  EXPECT_GT(entries, 0u);
}

TEST_F(OperatorCliTest, SessionProblemsSayHowToLogInAgain) {
  // None yet.
  const std::string missing = dir_ + "/no-such-session.json";
  CliRun none = Troad({"member", "list"}, {"TROAD_SESSION=" + missing});
  EXPECT_EQ(none.exit_code, 1) << none;
  EXPECT_TRUE(Contains(none.err, "troad member list: not logged in")) << none;
  EXPECT_TRUE(Contains(none.err, "troad login")) << none;
  // The default place, under $HOME, when nothing else is said.
  CliRun home = Troad({"member", "list"}, {"TROAD_SESSION="});
  EXPECT_TRUE(Contains(home.err, dir_ + "/home/.config/troad/session.json")) << home;

  const std::string session = dir_ + "/expiring.json";
  Ok0({"login", "--anchor", Anchor(), "--user", "operator", "--session", session},
      {"TROAD_PASSWORD=" + kPassword});
  Ok0({"globalconf", "status", "--session", session});

  // Past its end: refused here, before the central is asked.
  auto s = cli::LoadSession(session);
  ASSERT_TRUE(s);
  cli::OperatorSession old = *s;
  old.expires_at = SystemClock::Get().Now() - std::chrono::minutes(1);
  const std::string expired = dir_ + "/expired.json";
  ASSERT_TRUE(cli::SaveSession(expired, old));
  CliRun late = Troad({"grant", "list", "--session", expired});
  EXPECT_EQ(late.exit_code, 1) << late;
  EXPECT_TRUE(Contains(late.err, "the session of operator ended at")) << late;
  EXPECT_TRUE(
      Contains(late.err, "log in again: troad login --session " + expired + " --user operator"))
      << late;

  // A token the central does not know (ended on the central's side).
  cli::OperatorSession forged = *s;
  forged.token = std::string(43, 'A');
  const std::string unknown = dir_ + "/unknown-token.json";
  ASSERT_TRUE(cli::SaveSession(unknown, forged));
  CliRun refused = Troad({"member", "list", "--session", unknown});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_TRUE(Contains(refused.err, "log in again: troad login --session " + unknown)) << refused;

  // A session file that is not one.
  const std::string garbage = dir_ + "/garbage.json";
  WriteText(garbage, "{\"format\": \"something else\"}");
  CliRun broken = Troad({"member", "list", "--session", garbage});
  EXPECT_EQ(broken.exit_code, 1) << broken;
  EXPECT_TRUE(Contains(broken.err, garbage)) << broken;

  // Logout ends it on the central and removes the file.
  const std::string token = s->token;
  CliRun out = Ok0({"logout", "--session", session});
  EXPECT_TRUE(Contains(out.out, "logged out")) << out;
  EXPECT_FALSE(fs::exists(session));
  auto me = Http("GET", "/api/v1/me", std::nullopt, token);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 401u) << me->body;
  CliRun after = Troad({"member", "list", "--session", session});
  EXPECT_EQ(after.exit_code, 1) << after;
  EXPECT_TRUE(Contains(after.err, "not logged in")) << after;
  // An ended session's file is removed by logout too.
  Ok0({"logout", "--session", expired});
  EXPECT_FALSE(fs::exists(expired));
}

TEST_F(OperatorCliTest, AuditExportHasEveryActionTaken) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  Ok0({"gateway", "code", kMoiGateway, "--out", dir_ + "/audit-code"});
  const std::string file = dir_ + "/audit.jsonl";
  CliRun exported = Ok0({"audit", "export", "--out", file});
  EXPECT_TRUE(Contains(exported.err, "audit entries written to " + file)) << exported;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::istringstream lines(ReadText(file));
  std::string line;
  std::set<std::string> actions;
  while (std::getline(lines, line)) {
    json e = json::parse(line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << line;
    if (e["actor"] == "operator" && e["outcome"] == "ok") {
      EXPECT_EQ(e["remote"], "127.0.0.1") << line;
      actions.insert(e["action"].get<std::string>());
    }
  }
  for (const char* action :
       {"admin.login", "member.create", "subsystem.create", "gateway.create",
        "gateway.enrollment-code", "service.create", "application.create", "application.approve"}) {
    EXPECT_TRUE(actions.count(action)) << action << " missing from\n" << ReadText(file);
  }
  // A window in the future is empty; --to before --from is a usage error.
  CliRun future = Ok0({"audit", "export", "--from", "2099-01-01"});
  EXPECT_EQ(future.out, "");
  CliRun window = Ok0({"audit", "export", "--from", "2020-01-01T00:00:00Z", "--to", "2099-01-01"});
  EXPECT_TRUE(Contains(window.out, "\"member.create\"")) << window;
  CliRun reversed = Troad({"audit", "export", "--from", "2026-02-01", "--to", "2026-01-01"});
  EXPECT_EQ(reversed.exit_code, 2) << reversed;
}

TEST_F(OperatorCliTest, GatewayStillRunsAndEnrollsBesideTheNewSubcommands) {
  CliRun bare = Troad({"gateway"});
  EXPECT_EQ(bare.exit_code, 2) << bare;
  EXPECT_TRUE(Contains(bare.err, "--config gateway.toml is required")) << bare;
  CliRun config = Troad({"gateway", "--config", dir_ + "/no-such-gateway.toml"});
  EXPECT_EQ(config.exit_code, 2) << config;
  EXPECT_TRUE(Contains(config.err, "troad gateway: ")) << config;
  EXPECT_TRUE(Contains(config.err, "no-such-gateway.toml")) << config;
  CliRun enroll = Troad({"gateway", "enroll"});
  EXPECT_NE(enroll.exit_code, 0) << enroll;
  EXPECT_TRUE(Contains(enroll.err + enroll.out, "--anchor is required")) << enroll;
  CliRun help = Troad({"gateway", "--help"});
  for (const char* sub : {"enroll", "list", "register", "update", "code"}) {
    EXPECT_TRUE(Contains(help.out, sub)) << help;
  }
}

TEST_F(OperatorCliTest, EnrollAndRenewSayWhatIsWrongWithTheirOptions) {
  const std::string anchor = central_dir_ + "/anchor.json";
  const std::string code_file = dir_ + "/some.code";
  WriteText(code_file, "abc\n");
  auto enroll = [&](std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> all = {"gateway", "enroll", "--anchor",
                                    anchor,    "--dir",  dir_ + "/enroll-options"};
    all.insert(all.end(), args.begin(), args.end());
    return Troad(all, env);
  };
  CliRun bad_id = enroll({"--gateway", "TW/GOV/MOI", "--code-file", code_file});
  EXPECT_EQ(bad_id.exit_code, 2) << bad_id;
  EXPECT_TRUE(Contains(bad_id.err, "--gateway: ")) << bad_id;
  CliRun no_code = enroll({"--gateway", kMoiGateway});
  EXPECT_EQ(no_code.exit_code, 2) << no_code;
  EXPECT_TRUE(Contains(no_code.err, "the enrollment code is missing")) << no_code;
  CliRun subsystem =
      enroll({"--gateway", kMoiGateway, "--sign-for", kHousehold}, {"TROAD_ENROLLMENT_CODE=abc"});
  EXPECT_EQ(subsystem.exit_code, 2) << subsystem;
  EXPECT_TRUE(Contains(subsystem.err, "--sign-for TW/GOV/MOI/household: not a member id"))
      << subsystem;
  CliRun member_client =
      enroll({"--gateway", kMoiGateway, "--client", kMoi, "--code-file", code_file});
  EXPECT_EQ(member_client.exit_code, 2) << member_client;
  EXPECT_TRUE(Contains(member_client.err, "--client TW/GOV/MOI: not a subsystem id"))
      << member_client;
  WriteText(dir_ + "/not-an-anchor.json", "{\"format\":\"nope\"}");
  CliRun bad_anchor =
      Troad({"gateway", "enroll", "--anchor", dir_ + "/not-an-anchor.json", "--gateway",
             kMoiGateway, "--code-file", code_file, "--dir", dir_ + "/enroll-options"});
  EXPECT_EQ(bad_anchor.exit_code, 2) << bad_anchor;
  EXPECT_TRUE(Contains(bad_anchor.err, "not-an-anchor.json: ")) << bad_anchor;
  // A code the central does not know: its refusal, and nothing recorded.
  CliRun refused = enroll({"--gateway", kMoiGateway, "--code-file", code_file, "--wait", "0"});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_TRUE(Contains(refused.err, "/api/v1/enrollment")) << refused;
  EXPECT_FALSE(fs::exists(dir_ + "/enroll-options/enrollment.json"));

  CliRun renew = Troad({"gateway", "renew", "--config", dir_ + "/no-such-gateway.toml"});
  EXPECT_EQ(renew.exit_code, 2) << renew;
  EXPECT_TRUE(Contains(renew.err, "troad gateway renew: ")) << renew;
  EXPECT_TRUE(Contains(renew.err, "no-such-gateway.toml")) << renew;
  CliRun days = Troad({"gateway", "renew", "--config", dir_ + "/x.toml", "--within-days", "0"});
  EXPECT_NE(days.exit_code, 0) << days;
}

// ---- the CLI's pure parts ----

TEST(OperatorCliPureTest, EndpointRulesParseAsTheRegistryChecksThem) {
  auto rule = cli::ParseEndpointRule("get /persons/{id}");
  ASSERT_TRUE(rule) << rule.error().ToString();
  EXPECT_EQ(rule->method, "GET");
  EXPECT_EQ(rule->path, "/persons/{id}");
  auto any = cli::ParseEndpointRule(" * ");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->method, "*");
  EXPECT_EQ(any->path, "*");
  EXPECT_TRUE(cli::ParseEndpointRule("POST   /a b"));  // the path is the rest
  for (const char* bad : {"", "GET", "/persons", "FETCH /x", "GET persons"}) {
    auto r = cli::ParseEndpointRule(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(OperatorCliPureTest, TablesAlignByDisplayWidthAndStripControlCharacters) {
  EXPECT_EQ(cli::DisplayWidth("abc"), 3u);
  EXPECT_EQ(cli::DisplayWidth("內政部"), 6u);
  EXPECT_EQ(cli::DisplayWidth("e\xCC\x81"), 1u);  // e + combining acute
  EXPECT_EQ(cli::RenderTable({"A", "B"}, {}), "(none)\n");
  EXPECT_EQ(cli::RenderTable({"ID", "NAME", "X"}, {{"1", "內政部", "x"}, {"22", "ab", ""}}),
            "ID  NAME    X\n"
            "1   內政部  x\n"
            "22  ab\n");
  EXPECT_EQ(cli::RenderTable({"N"}, {{"a\x1b[31mb\nc"}}), "N\na [31mb c\n");
  EXPECT_EQ(cli::ShortTime("2026-11-24T08:30:00.123Z"), "2026-11-24 08:30:00Z");
  EXPECT_EQ(cli::ShortTime("soon"), "soon");
}

TEST(OperatorCliPureTest, SessionPathFollowsFlagThenEnvironment) {
  EXPECT_EQ(*cli::ChooseSessionPath("f.json", "e.json", "/x", "/h"), "f.json");
  EXPECT_EQ(*cli::ChooseSessionPath("", "e.json", "/x", "/h"), "e.json");
  EXPECT_EQ(*cli::ChooseSessionPath("", "", "/x", "/h"), "/x/troad/session.json");
  EXPECT_EQ(*cli::ChooseSessionPath("", "", "", "/h"), "/h/.config/troad/session.json");
  EXPECT_FALSE(cli::ChooseSessionPath("", "", "", ""));
}

TEST(OperatorCliPureTest, SessionFilesRoundTripAndBadOnesAreNamed) {
  cli::OperatorSession s;
  s.central_url = "https://central.example.tw:4400";
  s.ca_certificate = "-----BEGIN CERTIFICATE-----\n...";
  s.token = "tok";
  s.username = "moi-admin";
  s.role = "member-admin";
  s.member = "TW/GOV/MOI";
  s.expires_at = *ParseRfc3339("2026-11-24T20:30:00.000Z");
  auto back = cli::ParseSession(cli::SessionToJson(s));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->central_url, s.central_url);
  EXPECT_EQ(back->token, "tok");
  EXPECT_EQ(back->member, "TW/GOV/MOI");
  EXPECT_EQ(back->expires_at, s.expires_at);
  json j = json::parse(cli::SessionToJson(s));
  j["central_url"] = "http://central.example.tw";
  auto plain = cli::ParseSession(j.dump());
  ASSERT_FALSE(plain);
  EXPECT_TRUE(Contains(plain.error().message(), "central_url")) << plain.error().message();
  j = json::parse(cli::SessionToJson(s));
  j.erase("token");
  auto no_token = cli::ParseSession(j.dump());
  ASSERT_FALSE(no_token);
  EXPECT_TRUE(Contains(no_token.error().message(), "token")) << no_token.error().message();
}

TEST(OperatorCliPureTest, ApiErrorsKeepTheirCodeAndMessage) {
  Error e = cli::ApiErrorOf(
      {403, R"({"error":{"code":"PermissionDenied","message":"moi-admin may not act"}})"});
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.message(), "moi-admin may not act");
  EXPECT_EQ(cli::ExitCodeFor(e), 1);
  Error bad = cli::ApiErrorOf({400, R"({"error":{"code":"InvalidArgument","message":"id: x"}})"});
  EXPECT_EQ(cli::ExitCodeFor(bad), 2);
  Error unknown_name = cli::ApiErrorOf({409, R"({"error":{"code":"Whatever","message":"m"}})"});
  EXPECT_EQ(unknown_name.code(), ErrorCode::kFailedPrecondition);
  Error proxy = cli::ApiErrorOf({502, "<html>bad gateway</html>"});
  EXPECT_EQ(proxy.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(proxy.message(), "HTTP 502")) << proxy.message();
  EXPECT_EQ(PercentEncode("a b/c:d"), "a%20b%2Fc%3Ad");
}

}  // namespace
}  // namespace troad::testing
