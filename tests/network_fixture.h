// A whole T-Road network on loopback for the integration tests: `troad init` on a
// generated network file, three real `troad gateway` processes (MOI provides, BLI
// consumes, TAX has a gateway but no grant), the MOI household example backend as a
// real Python process, and in-process test backends (echo, slow, garbage). Every
// process is started with core/subprocess.h and stopped by its PID.
//
// Callers reach the gateways with the `curl` command line (RunCurl) or with troad's
// own http::Client (Call), and read the gateways' message logs read-only (Records*).
//
// NetworkTest is a GoogleTest base class that starts one TestNetwork per test suite.
//
// Thread-safety: a TestNetwork belongs to the test thread; the in-process backends
// run on their own io thread and record what they saw behind a mutex.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/subprocess.h"
#include "gateway/message_log.h"
#include "http/client.h"
#include "http/server.h"
#include "http/test_util.h"

namespace troad::testing {

enum class Gw { kMoi, kBli, kTax };
inline constexpr std::array<Gw, 3> kAllGateways = {Gw::kMoi, Gw::kBli, Gw::kTax};

inline constexpr std::string_view kInstance = "TW";
inline constexpr std::string_view kBliClient = "TW/GOV/BLI/insurance";
inline constexpr std::string_view kTaxClient = "TW/GOV/TAX/income";
inline constexpr std::string_view kMoiSubsystem = "TW/GOV/MOI/household";
// The consumer gateway's body limit (limits.max_body_bytes in bli-gw/gateway.toml).
inline constexpr size_t kConsumerMaxBody = 64 * 1024;
// The slow backend answers after kSlowDelay; its service times out after kSlowTimeout.
inline constexpr std::chrono::milliseconds kSlowDelay{3'000};
inline constexpr std::chrono::milliseconds kSlowTimeout{500};
inline constexpr std::string_view kDisabledNotice = "maintenance until 18:00";
// The echo service's backend base path: the r1 rest path is appended to it.
inline constexpr std::string_view kEchoBase = "/echo-base";

std::string GatewayName(Gw gw);  // "moi-gw", "bli-gw", "tax-gw"

struct GatewayPorts {
  uint16_t consumer = 0;
  uint16_t provider = 0;
  uint16_t admin = 0;
};

// What the in-process backends saw, in arrival order.
struct SeenRequest {
  std::string backend;  // "echo", "slow", "garbage"
  std::string target;   // as received (the echo and slow backends); raw bytes for garbage
};

// Echo, slow and garbage backends on one io thread, bound to 127.0.0.1 port 0.
class TestBackends {
 public:
  static Result<std::unique_ptr<TestBackends>> Start();
  ~TestBackends();

  uint16_t echo_port() const { return echo_port_; }
  uint16_t slow_port() const { return slow_port_; }
  uint16_t garbage_port() const { return garbage_port_; }
  std::vector<SeenRequest> Seen() const;

 private:
  TestBackends() = default;
  void Remember(std::string backend, std::string target);
  http::asio::awaitable<void> GarbageLoop();

  http::testing::IoThread io_;
  std::unique_ptr<http::Server> echo_;
  std::unique_ptr<http::Server> slow_;
  std::unique_ptr<http::tcp::acceptor> garbage_;
  uint16_t echo_port_ = 0, slow_port_ = 0, garbage_port_ = 0;
  mutable std::mutex mu_;
  std::vector<SeenRequest> seen_;  // guarded by mu_
};

// What curl reported: the last response's status line code, its headers (names lower
// case; of repeated headers the last), and its body.
struct CurlResult {
  int exit_code = -1;  // curl's exit status; 0 when a response was read
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string output;  // curl's stderr/stdout, for failure messages

  std::string Header(const std::string& lower_case_name) const;
};

class TestNetwork {
 public:
  // Makes the temp dir, writes network.toml, runs `troad init`, starts the backends
  // and the three gateways. The error says which step failed, with log tails.
  static Result<std::unique_ptr<TestNetwork>> Create();
  ~TestNetwork();  // stops every process by PID; removes the temp dir unless kept

  const std::string& dir() const { return dir_; }
  std::string GatewayDir(Gw gw) const;  // <dir>/net/<name>
  const GatewayPorts& ports(Gw gw) const { return ports_[static_cast<int>(gw)]; }
  TestBackends& backends() { return *backends_; }
  http::testing::IoThread& io() { return *io_; }
  void KeepDirectory() { keep_dir_ = true; }

  // Starts (or restarts) a gateway process and waits for its three ports.
  Status StartGateway(Gw gw);
  // SIGKILL; returns the wait status. -1 when it was not running.
  int KillGateway(Gw gw);
  // SIGTERM, SIGKILL after `grace`; returns the wait status.
  int StopGateway(Gw gw, std::chrono::milliseconds grace);
  bool GatewayRunning(Gw gw);
  // `troad verify-log --config` of `gw` once every record is timestamped (waits up to
  // 30 s for the last batch): its exit code and output.
  std::pair<int, std::string> VerifyLog(Gw gw);
  // `troad verify-ledger --config … --all` of `gw` once every record is shipped to the
  // network's `troad ledger` (waits up to 30 s): its exit code and output.
  std::pair<int, std::string> VerifyLedger(Gw gw);

  // The network's `troad ledger` process; -1 when it is not running.
  pid_t ledger_pid() const { return ledger_ ? ledger_->pid() : -1; }

  // The last `lines` lines of every process log, for assertion messages.
  std::string LogTails(size_t lines = 15) const;

  // curl against the consumer port of `gw`: curl -sS --path-as-is -D … -o … [args] URL,
  // where URL is http://127.0.0.1:<port><target>.
  CurlResult Curl(Gw gw, const std::string& target, const std::vector<std::string>& args = {});

  // One request with http::Client to 127.0.0.1:<port> (plain HTTP), within 20 s.
  Result<http::Response> Call(uint16_t port, http::Request request);

  // The transfer records of `gw` whose `column` equals `value`, oldest first.
  // column is one of "message_id", "request_id", "fault".
  Result<std::vector<gateway::TransferRecord>> Records(Gw gw, const std::string& column,
                                                       const std::string& value) const;
  // Every message_id in the log of `gw` (for the kill test).
  Result<std::vector<std::string>> AllMessageIds(Gw gw) const;

 private:
  // Runs `args` (a verify command; output to the log file `name`) until it fails or
  // `caught_up` says its output covers everything, for at most 30 s.
  std::pair<int, std::string> VerifyUntil(const std::vector<std::string>& args,
                                          const std::string& name,
                                          const std::function<bool(const std::string&)>& caught_up);
  TestNetwork() = default;
  Status Setup();
  Status WriteNetworkFile(const std::string& path) const;
  Status PatchGatewayConfig(Gw gw) const;
  std::string LogFile(const std::string& name) const;

  std::string dir_;
  bool keep_dir_ = false;
  std::array<GatewayPorts, 3> ports_{};
  uint16_t registry_port_ = 0;
  uint16_t tsa_port_ = 0;
  uint16_t ledger_port_ = 0;
  uint16_t down_port_ = 0;
  std::unique_ptr<TestBackends> backends_;
  std::unique_ptr<http::testing::IoThread> io_;  // for Call
  std::unique_ptr<http::Client> client_;
  std::optional<Subprocess> registry_;
  std::optional<Subprocess> tsa_;
  std::optional<Subprocess> ledger_;
  std::array<std::optional<Subprocess>, 3> gateways_;
  int curl_count_ = 0;
};

// An answer as the tests inspect it, from curl or from http::Client.
struct Answer {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower case
  std::string body;

  std::string Header(const std::string& lower_case_name) const;
};
Answer FromCurl(const CurlResult& result);
Answer FromResponse(const http::Response& response);

// The JSON fault body {"type","message","detail"}.
struct FaultBody {
  std::string type, message, detail;
};

// True when `type` is `expected`, or starts with it when `expected` ends with '.'.
bool FaultTypeMatches(std::string_view type, std::string_view expected);

// Checks an X-Road fault answer: the HTTP status, X-Road-Error matching `type` (see
// FaultTypeMatches), and a JSON body whose type equals the header, with a non-empty
// message and detail. Fills *body when not null.
::testing::AssertionResult IsFault(const Answer& answer, unsigned status, std::string_view type,
                                   FaultBody* body = nullptr);

// Checks that the log of `gw` holds a record where `column` = `value`, written by
// `side` ("consumer"/"provider"), whose fault matches `type` (FaultTypeMatches; ""
// means no fault).
::testing::AssertionResult HasRecord(const TestNetwork& net, Gw gw, const std::string& column,
                                     const std::string& value, std::string_view side,
                                     std::string_view type);

// A unique X-Road-Id for one test call: "it-<tag>-<random>".
std::string NewTestMessageId(std::string_view tag);

// A request with the X-Road client and id set; target is the origin-form target.
http::Request MakeRestRequest(http::bhttp::verb method, const std::string& target,
                              std::string_view client, const std::string& message_id);

// Base class of the integration suites: one TestNetwork per suite, shared by its tests.
class NetworkTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;
  static TestNetwork& net() { return *network_; }
  // Log tails for assertion messages.
  static std::string Diag() { return network_ ? network_->LogTails() : std::string(); }

 private:
  static std::unique_ptr<TestNetwork> network_;
  static std::string setup_error_;
};

}  // namespace troad::testing
