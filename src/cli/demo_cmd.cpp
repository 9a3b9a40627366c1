// `troad demo`: a whole T-Road network on loopback, built the way a real one is — a
// central (`troad central init`, `troad central`), an operator who registers the sample
// agencies of examples/demo/network.toml with the operator CLI, gateways that join with
// `troad gateway enroll` while the operator approves their certificates, an access
// application applied for and approved — then the agencies' information systems and the
// scenarios through the gateways. Everything is left running until Ctrl-C, with the
// addresses to try by hand. Each command is printed as a user would type it.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "central/central.h"
#include "cli/commands.h"
#include "cli/init.h"
#include "core/config.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/net.h"
#include "core/subprocess.h"
#include "crypto/jose.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "gateway/enroll.h"

namespace troad::cli {
namespace fs = std::filesystem;
namespace {

constexpr uint16_t kCentralPort = 4400;
constexpr uint16_t kIdpPort = 4600;
constexpr uint16_t kMyDataPort = 4700;
constexpr auto kWait = std::chrono::seconds(60);
// The identity centre (TW/GOV/MODA/idp) verifies dual-document sign-ins through its own
// gateway with these two services of examples/demo/network.toml.
constexpr const char* kIdpGateway = "moda-gw";
constexpr const char* kHouseholdService = "TW/GOV/MOI/household/registry";
constexpr const char* kNhiService = "TW/GOV/NHIA/cards/insured";

// examples/ next to the source tree the binary was built from, or installed.
std::string FindExamples(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* env = std::getenv("TROAD_EXAMPLES")) return env;
  fs::path p = fs::path(SelfExecutable()).parent_path();
  for (int i = 0; i < 6 && !p.empty(); ++i, p = p.parent_path()) {
    if (fs::exists(p / "examples" / "demo" / "network.toml")) return (p / "examples").string();
  }
  if (fs::exists("/usr/share/troad/examples/demo/network.toml")) {
    return "/usr/share/troad/examples";
  }
  return "examples";
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Step {
  const char* title;
  std::vector<std::string> args;
  bool expect_success;
};

std::string ReadAll(const std::string& path) { return ReadFile(path).value_or(""); }

// `args` as one would type them into a shell.
std::string ShellLine(const std::vector<std::string>& args) {
  std::string line;
  for (const std::string& a : args) {
    if (!line.empty()) line += " ";
    line += a.find_first_of(" {}'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return line;
}

// `troad <args>` as one would type it into a shell.
std::string CommandLine(const std::vector<std::string>& args) {
  return args.empty() ? "troad" : "troad " + ShellLine(args);
}

// A command's output under the command line that made it.
void PrintIndented(const std::string& text) {
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) std::printf("     %s\n", l.c_str());
}

// A command's outcome without its output.
Status Done(Result<std::string> result) {
  if (!result) return Fail(std::move(result).error());
  return Ok();
}

// The demo's working state: where things are, the processes it started.
class Demo {
 public:
  Demo(fs::path dir, std::string examples)
      : dir_(std::move(dir)), examples_(std::move(examples)), self_(SelfExecutable()) {}
  ~Demo() { StopAll(); }

  const fs::path& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Session() const { return Path("operator-session.json"); }

  // Runs `troad <args>` to its end, printing the command line and its output indented.
  // Returns its output; fails unless it exits 0.
  Result<std::string> Troad(std::vector<std::string> args, bool show = true) {
    const std::string line = CommandLine(args);
    if (show) std::printf("   $ %s\n", line.c_str());
    std::fflush(stdout);
    args.insert(args.begin(), self_);
    const std::string log = Path("logs/command.log");
    std::error_code ec;
    fs::remove(log, ec);
    TROAD_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Start(args, log));
    const int status = child.Wait(kWait);
    std::string out = ReadAll(log);
    if (show) {
      PrintIndented(out);
    }
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail(ErrorCode::kFailedPrecondition, "`{}` failed:\n{}", line, out);
    }
    return out;
  }

  // An operator command with the demo's session.
  Result<std::string> Operator(std::vector<std::string> args, bool show = true) {
    args.push_back("--session");
    args.push_back(Session());
    return Troad(std::move(args), show);
  }

  // Starts a long-running process and waits until `port` accepts connections.
  Status Start(const std::string& name, std::vector<std::string> argv, uint16_t port) {
    const std::string log = Path("logs/" + name + ".log");
    TROAD_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Start(argv, log));
    children_.push_back(std::move(child));
    if (auto st = WaitForPort("127.0.0.1", port, std::chrono::seconds(20)); !st) {
      return Fail(ErrorCode::kUnavailable, "{}: {} (see {})", name, st.error().message(), log);
    }
    return Ok();
  }

  Status StartTroad(const std::string& name, std::vector<std::string> args, uint16_t port) {
    args.insert(args.begin(), self_);
    return Start(name, std::move(args), port);
  }

  // Joins one gateway: a code from its member's administrator (here the operator),
  // `troad gateway enroll` in the background, the operator approving what it sent.
  Status Enroll(const NetGateway& gw, const std::string& anchor) {
    const GatewayId id{gw.owner, gw.name};
    const std::string code_file = Path(gw.name + ".code");
    TROAD_RETURN_IF_ERROR(Done(Operator({"gateway", "code", id.ToString(), "--out", code_file})));
    std::vector<std::string> args = {"gateway",
                                     "enroll",
                                     "--anchor",
                                     anchor,
                                     "--gateway",
                                     id.ToString(),
                                     "--code-file",
                                     code_file,
                                     "--dir",
                                     Path(gw.name),
                                     "--consumer-listen",
                                     gw.local_listen,
                                     "--provider-listen",
                                     gw.peer_listen,
                                     "--admin-listen",
                                     gw.admin_listen,
                                     "--poll",
                                     "1"};
    std::set<std::string> sign_for;
    for (const ClientId& c : gw.clients) {
      args.push_back("--client");
      args.push_back(c.ToString());
      if (c.Member() != gw.owner) sign_for.insert(c.Member().ToString());
    }
    for (const std::string& m : sign_for) {
      args.push_back("--sign-for");
      args.push_back(m);
    }
    std::printf("   $ %s &\n", CommandLine(args).c_str());
    args.insert(args.begin(), self_);
    const std::string log = Path("logs/enroll-" + gw.name + ".log");
    TROAD_ASSIGN_OR_RETURN(Subprocess enroll, Subprocess::Start(args, log));

    // The operator reviews what arrived and approves it.
    size_t approved = 0;
    const size_t wanted = 2 + sign_for.size();
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    bool shown = false;
    while (approved < wanted && std::chrono::steady_clock::now() < deadline) {
      TROAD_ASSIGN_OR_RETURN(
          std::string listed,
          Operator({"cert", "requests", "--status", "pending", "--json"}, false));
      auto doc = nlohmann::json::parse(listed, nullptr, false);
      if (doc.is_object() && doc.contains("certificate_requests")) {
        for (const auto& q : doc["certificate_requests"]) {
          if (!shown) {
            TROAD_RETURN_IF_ERROR(Done(Operator({"cert", "requests", "--status", "pending"})));
            shown = true;
          }
          TROAD_RETURN_IF_ERROR(
              Done(Operator({"cert", "approve", std::to_string(q["id"].get<int64_t>())})));
          ++approved;
        }
      }
      if (approved < wanted) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    const int status = enroll.Wait(kWait);
    PrintIndented(ReadAll(log));
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail(ErrorCode::kFailedPrecondition, "enrolling {} failed (see {})", gw.name, log);
    }
    return Ok();
  }

  void StopAll() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) it->Stop();
    children_.clear();
  }
  std::vector<Subprocess>& children() { return children_; }

 private:
  fs::path dir_;
  std::string examples_;
  std::string self_;
  std::vector<Subprocess> children_;
};

std::string RuleText(const NetEndpoint& e) { return e.method + " " + e.path; }

const NetGateway* FindGateway(const Network& net, const std::string& name) {
  for (const NetGateway& gw : net.gateways) {
    if (gw.name == name) return &gw;
  }
  return nullptr;
}

Status BuildNetwork(Demo& demo, const Network& net, const std::string& network_file) {
  // 1. The central.
  const std::string password = HexEncode(crypto::RandomBytes(12));
  central::InitCentralOptions init;
  init.dir = demo.Path("central");
  init.instance = net.instance;
  init.listen = fmt::format("127.0.0.1:{}", kCentralPort);
  init.admin_password = password;
  TROAD_ASSIGN_OR_RETURN(auto made, central::InitCentral(init, SystemClock::Get()));
  const std::string password_file = demo.Path("central/operator-password");
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(password_file, password + "\n", 0600));
  // Changes made by hand should reach the gateways quickly in a demo.
  {
    std::string toml = ReadAll(made.config_file);
    const std::string from = "refresh_interval_s = 60";
    if (auto at = toml.find(from); at != std::string::npos) {
      toml.replace(at, from.size(), "refresh_interval_s = 5");
      TROAD_RETURN_IF_ERROR(WriteFileAtomically(made.config_file, toml, 0600));
    }
  }
  std::printf(
      "1. The central: CA, configuration key, first operator (password in %s)\n"
      "   $ troad central init --dir %s --listen 127.0.0.1:%u --admin-password-file …\n"
      "   $ troad central --config %s &\n\n",
      password_file.c_str(), init.dir.c_str(), kCentralPort, made.config_file.c_str());
  TROAD_RETURN_IF_ERROR(
      demo.StartTroad("central", {"central", "--config", made.config_file}, kCentralPort));

  // 2. The operator registers the agencies.
  std::printf("2. The central's operator registers the agencies (from %s)\n", network_file.c_str());
  TROAD_RETURN_IF_ERROR(Done(demo.Operator({"login", "--anchor", made.anchor_file, "--user",
                                            "operator", "--password-file", password_file})));
  for (const NetMember& m : net.members) {
    std::vector<std::string> args = {"member", "add", "--id", m.id.ToString(), "--name", m.name};
    if (!m.name_en.empty()) {
      args.push_back("--name-en");
      args.push_back(m.name_en);
    }
    TROAD_RETURN_IF_ERROR(Done(demo.Operator(args)));
    for (const auto& [code, name] : m.subsystems) {
      ClientId sub = m.id;
      sub.subsystem = code;
      TROAD_RETURN_IF_ERROR(Done(demo.Operator(
          {"subsystem", "add", "--id", sub.ToString(), "--name", name.empty() ? m.name : name})));
    }
  }
  for (const NetGateway& gw : net.gateways) {
    std::vector<std::string> args = {"gateway",   "register",
                                     "--id",      GatewayId{gw.owner, gw.name}.ToString(),
                                     "--address", gw.advertise};
    for (const ClientId& c : gw.clients) {
      args.push_back("--client");
      args.push_back(c.ToString());
    }
    TROAD_RETURN_IF_ERROR(Done(demo.Operator(args)));
  }
  for (const NetService& s : net.services) {
    std::vector<std::string> args = {"service", "add", "--id", s.id.ToString(), "--type", s.type};
    for (const NetEndpoint& e : s.endpoints) {
      args.push_back("--endpoint");
      args.push_back(RuleText(e));
    }
    if (!s.openapi.empty()) {
      args.push_back("--openapi");
      args.push_back(s.openapi);
    }
    TROAD_RETURN_IF_ERROR(Done(demo.Operator(args)));
  }

  // 3. The gateways join.
  std::printf("\n3. Each gateway joins: its own keys, CSRs, the operator approves\n");
  for (const NetGateway& gw : net.gateways) {
    TROAD_RETURN_IF_ERROR(demo.Enroll(gw, made.anchor_file));
    const std::string services = ServiceEntries(net, gw);
    if (!services.empty()) {
      // What the providing agency's operator adds by hand: where the service really runs.
      const std::string file = demo.Path(gw.name + "/gateway.toml");
      std::string toml = ReadAll(file);
      const std::string marker = "# A service this gateway provides";
      auto at = toml.find(marker);
      toml.insert(at == std::string::npos ? toml.size() : at, services);
      TROAD_RETURN_IF_ERROR(WriteFileAtomically(file, toml, 0644));
      std::printf("   (added to %s:)\n", file.c_str());
      PrintIndented(services);
    }
  }

  // 4. Access: the client applies, the provider approves.
  std::printf("\n4. Access: the consuming agency applies, the providing agency approves\n");
  for (const NetGrant& g : net.grants) {
    std::vector<std::string> args = {"grant",     "apply",
                                     "--client",  g.client.ToString(),
                                     "--service", g.service.ToString(),
                                     "--purpose", "demo: eligibility checks"};
    for (const NetEndpoint& r : g.rules) {
      args.push_back("--rule");
      args.push_back(RuleText(r));
    }
    std::printf("   $ %s\n", CommandLine(args).c_str());
    args.push_back("--json");
    TROAD_ASSIGN_OR_RETURN(std::string applied, demo.Operator(args, false));
    auto doc = nlohmann::json::parse(applied, nullptr, false);
    if (!doc.is_object() || !doc.value("id", nlohmann::json()).is_number_integer()) {
      return Fail(ErrorCode::kInternal, "grant apply printed no application id: {}", applied);
    }
    std::printf("     application %lld: pending until %s approves\n",
                static_cast<long long>(doc["id"].get<int64_t>()),
                g.service.provider.Member().ToString().c_str());
    TROAD_RETURN_IF_ERROR(
        Done(demo.Operator({"grant", "approve", std::to_string(doc["id"].get<int64_t>()),
                            "--reason", "demo agreement"})));
  }
  return Ok();
}

}  // namespace

// MyData (TW/GOV/MODA/mydata): made, given the sample catalogue (examples/mydata) and a
// sample bank as service provider, started, and checked over its management API.
// Returns the number of steps that did not behave as expected.
int StartMyData(Demo& demo, const std::string& examples) {
  const std::string dir = demo.Path("mydata");
  const std::string toml = dir + "/mydata.toml";
  const std::string url = "http://localhost:" + std::to_string(kMyDataPort);
  auto made = demo.Troad({"mydata", "init", "--dir", dir, "--public-url", url, "--listen",
                          "127.0.0.1:" + std::to_string(kMyDataPort)});
  Status ok = made.map([](const std::string&) {});
  std::string token;
  if (made) {
    std::smatch m;
    if (std::regex_search(*made, m, std::regex("management token: +(\\S+)"))) token = m[1];
  }
  for (const char* dataset : {"household.members", "nhi.card"}) {
    if (!ok) break;
    ok = demo.Troad({"mydata", "dataset", "add", "--config", toml, "--file",
                     examples + "/mydata/" + dataset + ".json"})
             .map([](const std::string&) {});
  }
  if (ok) {
    // The bank's back end signs its client assertions (private_key_jwt) with a key made
    // here; MyData keeps only the public half.
    auto key = crypto::PrivateKey::GenerateEcP256();
    if (!key) {
      ok = Fail(key.error());
    } else {
      nlohmann::json jwk = crypto::PublicJwk(key->Public());
      jwk["kid"] = "bank-demo-1";
      nlohmann::json bank = {
          {"id", "bank-mortgage"},
          {"name", {{"zh-TW", "示範銀行 房屋貸款"}, {"en", "Demo Bank mortgages"}}},
          {"datasets", {"household.members", "nhi.card"}},
          {"modes", {"online", "multi_person"}},
          {"redirect_uris", {"http://localhost:4790/mydata/return"}},
          {"auth", {{"method", "private_key_jwt"}, {"jwks", {{"keys", {jwk}}}}}},
          {"allowed_sources", {"127.0.0.1", "::1"}},
          {"purposes", {"公教人員購置住宅貸款申請 (civil-servant mortgage application)"}}};
      ok = WriteFileAtomically(dir + "/bank-key.pem", key->ToPem(), 0600);
      if (ok) ok = WriteFileAtomically(dir + "/bank-mortgage.json", bank.dump(2) + "\n", 0644);
      if (ok) {
        ok = demo.Troad({"mydata", "sp", "add", "--config", toml, "--file",
                         dir + "/bank-mortgage.json"})
                 .map([](const std::string&) {});
      }
    }
  }
  if (ok) ok = demo.StartTroad("mydata", {"mydata", "--config", toml}, kMyDataPort);
  if (!ok) {
    std::printf("   UNEXPECTED: %s\n", ok.error().message().c_str());
    return 1;
  }
  // The operator's view over HTTP, as a script would ask for it.
  const std::string listed = demo.Path("logs/mydata-datasets.json");
  auto curl = Subprocess::Start(
      {"curl", "-sf", "-H", "Authorization: Bearer " + token, url + "/api/v1/datasets"}, listed);
  bool served = curl && curl->Wait(std::chrono::seconds(10)) == 0 &&
                ReadAll(listed).find("\"nhi.card\"") != std::string::npos;
  std::printf("   $ curl -H 'Authorization: Bearer …' %s/api/v1/datasets\n     %s\n", url.c_str(),
              served ? "served: household.members, nhi.card" : "NOT served");
  std::printf("   consent records are signed with the keys at %s/jwks\n", url.c_str());
  return served ? 0 : 1;
}

// A person the identity centre has never seen signs in with their two documents, as a
// browser would (curl keeps the cookies): the idp asks the household registry and the
// NHI through its own gateway, creates the account and lands on /account.
bool DualDocumentSignIn(Demo& demo, const std::string& issuer) {
  const std::string jar = demo.Path("logs/idp-cookies.txt");
  const std::string page = demo.Path("logs/idp-page.html");
  auto curl = [&](std::vector<std::string> args) -> std::string {
    args.insert(args.begin(), {"curl", "-sS", "-c", jar, "-b", jar});
    std::error_code ec;
    fs::remove(page, ec);  // Subprocess appends to its output file
    auto child = Subprocess::Start(args, page);
    if (!child || child->Wait(std::chrono::seconds(20)) != 0) return "";
    return ReadAll(page);
  };
  auto input = [](const std::string& html, const std::string& name) {
    std::smatch m;
    std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
    return std::regex_search(html, m, re) ? m[1].str() : std::string();
  };
  std::printf(
      "   * 林小安 (F131232289, not yet known to the idp) signs in with two documents:\n"
      "     health card 000012345680 and household H0000001, checked with MOI and NHIA over "
      "T-Road\n");
  std::string html = curl({"-L", issuer + "/account"});
  const std::string r = input(html, "r");
  const std::string csrf = input(html, "csrf");
  std::string outcome;
  if (!r.empty() && !csrf.empty()) {
    curl({"--data-urlencode", "csrf=" + csrf, "--data-urlencode", "r=" + r, "--data-urlencode",
          "national_id=F131232289", issuer + "/signin/identify"});
    outcome = curl({"-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--data-urlencode",
                    "csrf=" + csrf, "--data-urlencode", "r=" + r, "--data-urlencode",
                    "health_card=000012345680", "--data-urlencode", "household_id=H0000001",
                    issuer + "/signin/dual-document"});
  }
  bool ok = outcome == "303 " + issuer + "/account";
  std::printf("     %s\n",
              ok ? "signed in: 303 to /account, account created from the registry"
                 : ("UNEXPECTED: " + (outcome.empty() ? "no answer" : outcome)).c_str());
  return ok;
}

int RunDemo(const DemoOptions& options) {
  std::string examples = FindExamples(options.examples_dir);
  fs::path network_file = fs::path(examples) / "demo" / "network.toml";
  if (!fs::exists(network_file)) {
    std::fprintf(stderr, "troad demo: cannot find %s (use --examples DIR)\n", network_file.c_str());
    return 2;
  }
  auto net = ReadNetwork(network_file.string());
  if (!net) {
    std::fprintf(stderr, "troad demo: %s\n", net.error().message().c_str());
    return 1;
  }
  // The identity centre's gateway: where its dual-document checks go, and who it is.
  const NetGateway* idp_gw = FindGateway(*net, kIdpGateway);
  if (idp_gw == nullptr || idp_gw->clients.size() != 1) {
    std::fprintf(stderr, "troad demo: %s has no gateway %s serving one subsystem\n",
                 network_file.c_str(), kIdpGateway);
    return 1;
  }
  const std::string idp_gateway = "http://" + idp_gw->local_listen;
  const std::string idp_client = idp_gw->clients.front().ToString();
  fs::path dir = fs::absolute(options.dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "logs", ec);
  if (ec) {
    std::fprintf(stderr, "troad demo: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::printf("troad demo — a T-Road network on this machine (working directory %s)\n\n",
              dir.c_str());

  // Ctrl-C ends the demo: children are stopped by PID below.
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  Demo demo(dir, examples);
  if (auto st = BuildNetwork(demo, *net, network_file.string()); !st) {
    std::fprintf(stderr, "troad demo: %s\n(logs in %s/logs)\n", st.error().message().c_str(),
                 dir.c_str());
    return 1;
  }

  // 5. The agencies' systems and gateways.
  Status started = demo.Start(
      "moi-household", {"python3", examples + "/moi-household/backend.py", "--port", "9001"}, 9001);
  if (started) {
    started = demo.Start("nhia-cards",
                         {"python3", examples + "/nhia-cards/backend.py", "--port", "9002"}, 9002);
  }
  for (const NetGateway& gw : net->gateways) {
    if (!started) break;
    auto port = SplitHostPort(gw.admin_listen);
    if (!port) {
      started = Fail(std::move(port).error());
      break;
    }
    started = demo.StartTroad(
        gw.name, {"gateway", "--config", demo.Path(gw.name + "/gateway.toml")}, port->second);
  }
  if (!started) {
    std::fprintf(stderr, "troad demo: %s\n", started.error().message().c_str());
    return 1;
  }
  std::printf(
      "\n5. running on 127.0.0.1:\n"
      "   central      https://127.0.0.1:%u  (troad member list --session %s)\n"
      "   內政部戶政司 information system (provider)  http://127.0.0.1:9001/api\n"
      "   MOI gateway  TW/GOV/MOI/moi-gw   local 8081, peers (mTLS) 8444, admin 4001\n"
      "   BLI gateway  TW/GOV/BLI/bli-gw   local 8080, peers (mTLS) 8443, admin 4000\n"
      "   健保署 NHI card information system (provider)  http://127.0.0.1:9002/api\n"
      "   NHIA gateway TW/GOV/NHIA/nhia-gw local 8082, peers (mTLS) 8445, admin 4002\n"
      "   MODA gateway TW/GOV/MODA/moda-gw local 8083, peers (mTLS) 8446, admin 4003"
      "  (the identity centre's)\n\n",
      kCentralPort, demo.Session().c_str());

  // 6. Scenarios: the consuming agency's information system calls its own gateway. The
  // gateways fetched the configuration at start; wait until they serve (healthz).
  for (const NetGateway& gw : net->gateways) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto curl = Subprocess::Start(
          {"curl", "-sf", "-o", "/dev/null", "http://" + gw.admin_listen + "/healthz"},
          "/dev/null");
      if (curl && curl->Wait(std::chrono::seconds(10)) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::string client = examples + "/bli-insurance/client.py";
  const Step steps[] = {
      {"勞保局 reads one person's household record (granted: GET /persons/{id})",
       {"python3", client, "--gateway", "http://127.0.0.1:8080", "person", "A123456789"},
       true},
      {"勞保局 asks for a whole household (not granted: refused by MOI's gateway)",
       {"python3", client, "--gateway", "http://127.0.0.1:8080", "household", "H0000001"},
       false},
      {"勞保局 asks which methods it may call (X-Road metaservice allowedMethods)",
       {"python3", client, "--gateway", "http://127.0.0.1:8080", "allowed-methods"},
       true},
      // The identity centre's own calls, as `troad idp` makes them for a dual-document
      // sign-in: plain X-Road REST to its gateway (curl, output shown indented).
      {"數位發展部 identity centre reads one person's NHI card (granted: GET /insured/{id})",
       {"curl", "-sS", "--fail-with-body", "-H", "X-Road-Client: " + idp_client,
        idp_gateway + "/r1/" + kNhiService + "/insured/A123456789"},
       true},
      {"數位發展部 identity centre asks MOI for a whole household (not granted: refused)",
       {"curl", "-sS", "--fail-with-body", "-H", "X-Road-Client: " + idp_client,
        idp_gateway + "/r1/" + kHouseholdService + "/households/H0000001"},
       false},
  };
  std::printf(
      "6. scenarios (examples/bli-insurance/client.py → BLI gateway → MOI gateway → "
      "backend)\n");
  int failures = 0;
  for (const Step& step : steps) {
    std::printf("\n * %s\n", step.title);
    const bool curl = step.args.front() == "curl";
    const std::string log = curl ? demo.Path("logs/scenario.log") : "";
    if (curl) {
      std::printf("   $ %s\n", ShellLine(step.args).c_str());
      fs::remove(log, ec);
    }
    std::fflush(stdout);
    auto run = Subprocess::Start(step.args, log);
    int status = run ? run->Wait(std::chrono::seconds(60)) : -1;
    if (curl) PrintIndented(ReadAll(log));
    bool succeeded = status == 0;
    if (succeeded != step.expect_success) {
      ++failures;
      std::printf("   UNEXPECTED: the call %s\n", succeeded ? "succeeded" : "failed");
    }
  }
  // Background work catches up within about a second: a verify command is asked again
  // (10 s at most) until its output says that nothing waits.
  auto verify = [&](const std::vector<std::string>& args, auto caught_up) {
    Result<std::string> verified = Fail(ErrorCode::kDeadlineExceeded, "not run");
    for (int attempt = 0; attempt < 40; ++attempt) {
      verified = demo.Troad(args, false);
      if (verified && caught_up(*verified)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    std::string shown = "   $ troad";
    for (const std::string& a : args) shown += " " + a;
    std::printf("%s\n", shown.c_str());
    if (verified) {
      PrintIndented(*verified);
    } else {
      ++failures;
      std::printf("   UNEXPECTED: %s\n", verified.error().message().c_str());
    }
  };
  // verify-log would name a record altered after its batch was stamped.
  std::printf("\n7. every record is in a batch timestamped by the central (RFC 3161):\n");
  for (const char* gw : {"bli-gw", "moi-gw"}) {
    verify({"verify-log", "--config", (dir / gw / "gateway.toml").string()},
           [](const std::string& out) {
             return out.find("not timestamped yet") == std::string::npos;
           });
  }
  // verify-ledger proves each record's digest is in the central ledger, whose head
  // only grew since the gateway last looked.
  std::printf("\n8. every record's digest is in the central's transparency ledger:\n");
  for (const char* gw : {"bli-gw", "moi-gw"}) {
    verify({"verify-ledger", "--config", (dir / gw / "gateway.toml").string(), "--all"},
           [](const std::string& out) {
             return out.find(", 0 not shipped yet") != std::string::npos;
           });
  }
  std::printf(
      "\n9. every exchange was signed, checked and recorded on both gateways:\n"
      "   sqlite3 %s/bli-gw/data/messagelog.db 'SELECT side, message_id, status, fault "
      "FROM transfer_record'\n"
      "   sqlite3 %s/moi-gw/data/messagelog.db 'SELECT side, message_id, status, fault "
      "FROM transfer_record'\n"
      "   and every administrative step is in the central's audit log:\n"
      "   troad audit export --session %s\n\n",
      dir.c_str(), dir.c_str(), demo.Session().c_str());
  // 10. The identity centre: made, given a synthetic person and a relying party, started.
  std::printf("\n10. the identity verification centre (OpenID Connect provider):\n");
  {
    const std::string idp_dir = demo.Path("idp");
    const std::string idp_toml = idp_dir + "/idp.toml";
    const std::string issuer = "http://localhost:" + std::to_string(kIdpPort);
    Status made = demo.Troad({"idp", "init", "--dir", idp_dir, "--issuer", issuer, "--listen",
                              "127.0.0.1:" + std::to_string(kIdpPort)})
                      .map([](const std::string&) {});
    if (made) {
      // Dual-document sign-in (NHI card + household registration): the identity centre
      // asks both agencies through its own gateway, as the grants above allow.
      const std::string section = fmt::format(
          "\n[dual_document]\n"
          "gateway = \"{}\"\n"
          "client = \"{}\"\n"
          "household_service = \"{}\"\n"
          "nhi_service = \"{}\"\n",
          idp_gateway, idp_client, kHouseholdService, kNhiService);
      std::string toml = ReadAll(idp_toml);
      if (!toml.empty() && toml.back() != '\n') toml += "\n";
      made = WriteFileAtomically(idp_toml, toml + section, 0600);
      if (made) {
        std::printf("   (added to %s:)\n", idp_toml.c_str());
        PrintIndented(section.substr(1));
      }
    }
    if (made) {
      made = demo.Troad({"idp", "person", "add", "--config", idp_toml, "--national-id",
                         "A123456789", "--name", "陳示範", "--mobile", "0912000001"})
                 .map([](const std::string&) {});
    }
    if (made) {
      made = demo.Troad({"idp", "client", "add", "--config", idp_toml, "--id", "demo-service",
                         "--name", "示範服務 (demo service)", "--redirect-uri",
                         "http://localhost:4690/callback"})
                 .map([](const std::string&) {});
    }
    if (made) made = demo.StartTroad("idp", {"idp", "--config", idp_toml}, kIdpPort);
    if (made) {
      verify({"idp", "client", "list", "--config", idp_toml},
             [](const std::string& out) { return out.find("demo-service") != std::string::npos; });
      auto curl = Subprocess::Start({"curl", "-sf", issuer + "/.well-known/openid-configuration"},
                                    demo.Path("logs/discovery.json"));
      bool served = curl && curl->Wait(std::chrono::seconds(10)) == 0 &&
                    ReadAll(demo.Path("logs/discovery.json")).find("\"issuer\":\"" + issuer) !=
                        std::string::npos;
      std::printf("   $ curl %s/.well-known/openid-configuration\n     %s\n", issuer.c_str(),
                  served ? "served: issuer, endpoints, ES256 keys at /jwks" : "NOT served");
      if (!served) ++failures;
      if (!DualDocumentSignIn(demo, issuer)) ++failures;
      std::printf(
          "   sign in: open %s/account?lang=en, enter A123456789, press \"Text a code\", and\n"
          "   read the code with: tail -1 %s/data/sms.jsonl\n",
          issuer.c_str(), idp_dir.c_str());
    } else {
      ++failures;
      std::printf("   UNEXPECTED: %s\n", made.error().message().c_str());
    }
  }
  // 11. MyData: its catalogue and a service provider registered, started.
  std::printf("\n11. MyData (personal data delivered with consent; being built):\n");
  failures += StartMyData(demo, examples);
  if (failures > 0) {
    std::printf("troad demo: %d scenario(s) did not behave as expected; logs in %s/logs\n",
                failures, dir.c_str());
    return 1;
  }
  if (!options.keep_running) return 0;
  std::printf(
      "Try it yourself (Ctrl-C stops everything):\n"
      "   curl -H 'X-Road-Client: TW/GOV/BLI/insurance' "
      "http://127.0.0.1:8080/r1/TW/GOV/MOI/household/registry/persons/A223456781\n"
      "   curl http://127.0.0.1:8080/listClients\n"
      "   curl http://127.0.0.1:4000/metrics\n"
      "   troad grant list --session %s\n"
      "   troad grant withdraw ID --reason 'demo' --session %s   (refused within 5 s)\n",
      demo.Session().c_str(), demo.Session().c_str());
  std::fflush(stdout);
  while (!g_stop) {
    for (auto& c : demo.children()) {
      if (!c.Running()) {
        std::printf("troad demo: a process (pid %d) stopped; see %s/logs\n", c.pid(), dir.c_str());
        g_stop = 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("\nstopping…\n");
  demo.StopAll();
  return 0;
}

}  // namespace troad::cli
