// `troad demo`: a whole T-Road network on loopback — the two sample agencies'
// information systems (examples/), their gateways with keys and certificates made by
// `troad init`, the scenarios run through them — and then everything is left running
// until Ctrl-C, with the addresses to try by hand.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "cli/init.h"
#include "core/subprocess.h"

namespace troad::cli {
namespace fs = std::filesystem;
namespace {

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

}  // namespace

int RunDemo(const DemoOptions& options) {
  std::string examples = FindExamples(options.examples_dir);
  fs::path network = fs::path(examples) / "demo" / "network.toml";
  if (!fs::exists(network)) {
    std::fprintf(stderr, "troad demo: cannot find %s (use --examples DIR)\n", network.c_str());
    return 2;
  }
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

  // 1. Keys, certificates, configurations.
  auto net = InitNetwork(network.string(), (dir / "network").string(), SystemClock::Get());
  if (!net) {
    std::fprintf(stderr, "troad demo: %s\n", net.error().message().c_str());
    return 1;
  }
  std::printf(
      "1. troad init: a local CA, gateway and signing certificates, global configuration\n"
      "   %s\n\n",
      net->globalconf_file.c_str());

  // Ctrl-C ends the demo: children are stopped by PID below.
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // 2. The providing agency's information system.
  std::vector<Subprocess> children;
  auto start = [&](const std::string& name, std::vector<std::string> argv, uint16_t port) -> bool {
    auto child = Subprocess::Start(argv, (dir / "logs" / (name + ".log")).string());
    if (!child) {
      std::fprintf(stderr, "troad demo: starting %s: %s\n", name.c_str(),
                   child.error().message().c_str());
      return false;
    }
    children.push_back(std::move(*child));
    if (auto st = WaitForPort("127.0.0.1", port, std::chrono::seconds(20)); !st) {
      std::fprintf(stderr, "troad demo: %s: %s (see %s)\n", name.c_str(),
                   st.error().message().c_str(), (dir / "logs" / (name + ".log")).c_str());
      return false;
    }
    return true;
  };
  std::string self = SelfExecutable();
  bool ok =
      start("moi-household", {"python3", examples + "/moi-household/backend.py", "--port", "9001"},
            9001) &&
      start("moi-gw", {self, "gateway", "--config", (dir / "network/moi-gw/gateway.toml").string()},
            8444) &&
      start("bli-gw", {self, "gateway", "--config", (dir / "network/bli-gw/gateway.toml").string()},
            8080);
  if (!ok) return 1;
  std::printf(
      "2. running on 127.0.0.1:\n"
      "   內政部戶政司 information system (provider)  http://127.0.0.1:9001/api\n"
      "   MOI gateway  TW/GOV/MOI/moi-gw   local 8081, peers (mTLS) 8444, admin 4001\n"
      "   BLI gateway  TW/GOV/BLI/bli-gw   local 8080, peers (mTLS) 8443, admin 4000\n\n");

  // 3. Scenarios: the consuming agency's information system calls its own gateway.
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
  };
  std::printf(
      "3. scenarios (examples/bli-insurance/client.py → BLI gateway → MOI gateway → "
      "backend)\n");
  int failures = 0;
  for (const Step& step : steps) {
    std::printf("\n * %s\n", step.title);
    std::fflush(stdout);
    auto run = Subprocess::Start(step.args, "");
    int status = run ? run->Wait(std::chrono::seconds(60)) : -1;
    bool succeeded = status == 0;
    if (succeeded != step.expect_success) {
      ++failures;
      std::printf("   UNEXPECTED: the call %s\n", succeeded ? "succeeded" : "failed");
    }
  }
  std::printf(
      "\n4. every exchange was signed, checked and recorded on both gateways:\n"
      "   sqlite3 %s/network/bli-gw/data/messagelog.db 'SELECT side, message_id, status, fault "
      "FROM transfer_record'\n"
      "   sqlite3 %s/network/moi-gw/data/messagelog.db 'SELECT side, message_id, status, fault "
      "FROM transfer_record'\n\n",
      dir.c_str(), dir.c_str());
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
      "   curl http://127.0.0.1:4000/metrics\n");
  std::fflush(stdout);
  while (!g_stop) {
    for (auto& c : children) {
      if (!c.Running()) {
        std::printf("troad demo: a process (pid %d) stopped; see %s/logs\n", c.pid(), dir.c_str());
        g_stop = 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("\nstopping…\n");
  for (auto it = children.rbegin(); it != children.rend(); ++it) it->Stop();
  return 0;
}

}  // namespace troad::cli
