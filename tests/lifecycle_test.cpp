// Gateways killed and stopped under real traffic: a gateway killed with SIGKILL under
// load loses no record of an exchange whose answer was delivered, both gateways come
// back on the same ports, and SIGTERM stops a gateway cleanly after in-flight work.
#include <fmt/format.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "network_fixture.h"

namespace troad::testing {
namespace {

using http::bhttp::verb;
using Clock = std::chrono::steady_clock;

constexpr int kClients = 16;
constexpr int kMaxRequestsPerClient = 2000;
constexpr auto kMaxLoadTime = std::chrono::seconds(10);

class GatewayLifecycleTest : public NetworkTest {
 protected:
  // One plain echo call through BLI's gateway; its status (0 when it failed).
  unsigned EchoStatus(const std::string& id) {
    auto res = net().Call(net().ports(Gw::kBli).consumer,
                          MakeRestRequest(verb::get, "/r1/TW/GOV/MOI/household/echo/after",
                                          kBliClient, id));
    return res ? res->result_int() : 0;
  }
};

struct LoadState {
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::mutex mu;
  std::vector<std::string> delivered;  // guarded by mu
};

// One client: calls the echo service until told to stop, or its budget runs out, and
// notes every X-Road-Id whose answer arrived with status 200.
http::asio::awaitable<int> LoadClient(int index, uint16_t port, std::shared_ptr<LoadState> state,
                                      Clock::time_point deadline) {
  http::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(2);
  http::Client client(options);
  http::Endpoint ep{"127.0.0.1", port, false, ""};
  int n = 0;
  for (; n < kMaxRequestsPerClient && !state->stop && Clock::now() < deadline; ++n) {
    std::string id = NewTestMessageId(fmt::format("load{}-{}", index, n));
    http::Request req = MakeRestRequest(
        verb::post, fmt::format("/r1/TW/GOV/MOI/household/echo/load/{}/{}", index, n), kBliClient,
        id);
    req.body() = fmt::format("{{\"client\":{},\"n\":{}}}", index, n);
    req.set("Content-Type", "application/json");
    ++state->sent;
    auto res = co_await client.Send(ep, std::move(req), std::chrono::seconds(5));
    if (res && res->response.result_int() == 200 && res->response["X-Road-Id"] == id) {
      std::lock_guard lock(state->mu);
      state->delivered.push_back(id);
    } else if (!res) {
      // The gateway is gone: do not spin; the main thread ends the run.
      http::asio::steady_timer pause(co_await http::asio::this_coro::executor,
                                     std::chrono::milliseconds(20));
      co_await pause.async_wait(http::asio::use_awaitable);
    }
  }
  client.Shutdown();
  co_return n;
}

// Runs kClients load clients through BLI's gateway; once answers flow, SIGKILLs
// `first`, then `second` 300 ms later, and checks that every answer delivered with
// status 200 has its record in both gateways' logs. Returns the delivered ids.
void KillUnderLoad(TestNetwork& net, Gw first, Gw second, std::vector<std::string>* delivered) {
  // Shared with the clients: they may outlive this frame if an assertion ends it early.
  auto state = std::make_shared<LoadState>();
  auto deadline = Clock::now() + kMaxLoadTime;
  std::vector<std::future<int>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(
        net.io().Start(LoadClient(i, net.ports(Gw::kBli).consumer, state, deadline)));
  }
  auto delivered_count = [&] {
    std::lock_guard lock(state->mu);
    return state->delivered.size();
  };
  auto warmup_end = Clock::now() + std::chrono::seconds(5);
  while (delivered_count() < 500 && Clock::now() < warmup_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  size_t before_kill = delivered_count();
  int first_status = net.KillGateway(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int second_status = net.KillGateway(second);
  state->stop = true;
  int total = 0;
  for (auto& f : clients) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    total += f.get();
  }
  EXPECT_TRUE(WIFSIGNALED(first_status) && WTERMSIG(first_status) == SIGKILL) << first_status;
  EXPECT_TRUE(WIFSIGNALED(second_status) && WTERMSIG(second_status) == SIGKILL) << second_status;
  ASSERT_GT(before_kill, 0u) << "no exchange succeeded before the kill" << net.LogTails();
  {
    std::lock_guard lock(state->mu);
    *delivered = state->delivered;
  }
  std::printf("kill %s then %s under load: %d requests sent, %zu answers delivered (%zu before "
              "the kill)\n",
              GatewayName(first).c_str(), GatewayName(second).c_str(), total, delivered->size(),
              before_kill);

  auto consumer_ids = net.AllMessageIds(Gw::kBli);
  auto provider_ids = net.AllMessageIds(Gw::kMoi);
  ASSERT_TRUE(consumer_ids) << consumer_ids.error().message();
  ASSERT_TRUE(provider_ids) << provider_ids.error().message();
  std::set<std::string> consumer(consumer_ids->begin(), consumer_ids->end());
  std::set<std::string> provider(provider_ids->begin(), provider_ids->end());
  size_t missing_consumer = 0, missing_provider = 0;
  std::string examples;
  for (const std::string& id : *delivered) {
    bool c = consumer.count(id) > 0, p = provider.count(id) > 0;
    missing_consumer += !c;
    missing_provider += !p;
    if ((!c || !p) && examples.size() < 1000) {
      examples += fmt::format("\n  {}{}{}", id, c ? "" : " (not in bli-gw)",
                              p ? "" : " (not in moi-gw)");
    }
  }
  EXPECT_EQ(missing_consumer, 0u) << "delivered answers without a consumer record:" << examples;
  EXPECT_EQ(missing_provider, 0u) << "delivered answers without a provider record:" << examples;
}

TEST_F(GatewayLifecycleTest, SigkillUnderLoadLosesNoRecordOfADeliveredAnswer) {
  std::vector<std::string> delivered;
  // The provider dies first, as the issue describes: the consumer is left answering faults.
  KillUnderLoad(net(), Gw::kMoi, Gw::kBli, &delivered);
  if (HasFatalFailure()) return;

  // Both come back on the same ports, with their logs, and exchange again.
  ASSERT_TRUE(net().StartGateway(Gw::kMoi)) << Diag();
  ASSERT_TRUE(net().StartGateway(Gw::kBli)) << Diag();
  std::string id = NewTestMessageId("after-kill");
  EXPECT_EQ(EchoStatus(id), 200u) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", ""));
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider", ""));
  if (!delivered.empty()) {
    EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", delivered.front(), "consumer", ""));
  }

  // Now the consumer dies first, while answers are still being delivered.
  std::vector<std::string> delivered_again;
  KillUnderLoad(net(), Gw::kBli, Gw::kMoi, &delivered_again);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(net().StartGateway(Gw::kMoi)) << Diag();
  ASSERT_TRUE(net().StartGateway(Gw::kBli)) << Diag();
  EXPECT_EQ(EchoStatus(NewTestMessageId("after-second-kill")), 200u) << Diag();

  // The records written before each SIGKILL, and all since, end up in timestamped
  // batches that verify: a kill loses no record and breaks no batch.
  for (Gw gw : {Gw::kBli, Gw::kMoi}) {
    auto [code, out] = net().VerifyLog(gw);
    EXPECT_EQ(code, 0) << GatewayName(gw) << ": " << out << Diag();
    EXPECT_NE(out.find("OK: every batch verifies"), std::string::npos) << out;
    EXPECT_EQ(out.find("not timestamped yet"), std::string::npos) << out;
  }
  // And every record reaches the network's ledger, each one's inclusion proven.
  for (Gw gw : {Gw::kBli, Gw::kMoi}) {
    auto [code, out] = net().VerifyLedger(gw);
    EXPECT_EQ(code, 0) << GatewayName(gw) << ": " << out << Diag();
    EXPECT_NE(out.find("OK: every shipped record is in the ledger"), std::string::npos) << out;
    EXPECT_NE(out.find(", 0 not shipped yet"), std::string::npos) << out;
  }
}

// The nice value of every thread of process `pid` (proc(5): field 19 of
// /proc/PID/task/TID/stat), by thread id.
std::map<std::string, int> ThreadNiceValues(pid_t pid) {
  std::map<std::string, int> out;
  for (const auto& task : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid))) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = stat.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) out[task.path().filename().string()] = std::stoi(field);
    }
  }
  return out;
}

// `troad ledger` runs at nice 10 by default, every thread of it: its appends are
// bursts that no exchange waits for, and on a shared host they yield the CPU.
TEST_F(GatewayLifecycleTest, TheLedgerRunsAtBackgroundPriority) {
  const pid_t ledger = net().ledger_pid();
  ASSERT_GT(ledger, 0);
  // It ships and answers while at it.
  ASSERT_EQ(EchoStatus(NewTestMessageId("nice")), 200u) << Diag();
  const std::map<std::string, int> nice = ThreadNiceValues(ledger);
  ASSERT_GE(nice.size(), 2u) << "the ledger's event loop and its worker";
  for (const auto& [tid, value] : nice) EXPECT_GE(value, 10) << "thread " << tid;
  auto [code, out] = net().VerifyLedger(Gw::kBli);
  EXPECT_EQ(code, 0) << out << Diag();
}

TEST_F(GatewayLifecycleTest, SigtermFinishesTheExchangeInFlightAndExitsZero) {
  // An exchange that takes the slow service's timeout (0.5 s) to answer.
  std::string slow_id = NewTestMessageId("in-flight");
  http::Endpoint ep{"127.0.0.1", net().ports(Gw::kBli).consumer, false, ""};
  auto in_flight = net().io().Start(
      [](http::Endpoint e, std::string id) -> http::asio::awaitable<unsigned> {
        http::Client client(http::ClientOptions{});
        auto res = co_await client.Send(
            e, MakeRestRequest(verb::get, "/r1/TW/GOV/MOI/household/slow/in-flight", kBliClient, id),
            std::chrono::seconds(20));
        client.Shutdown();
        co_return res ? res->response.result_int() : 0u;
      }(ep, slow_id));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto start = Clock::now();
  int status = net().StopGateway(Gw::kBli, std::chrono::seconds(10));
  auto took = Clock::now() - start;
  EXPECT_TRUE(WIFEXITED(status)) << "wait status " << status << Diag();
  EXPECT_EQ(WEXITSTATUS(status), 0) << Diag();
  EXPECT_LT(took, std::chrono::seconds(5));
  ASSERT_EQ(in_flight.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  // The caller got the exchange's real outcome (the slow backend's fault), not a
  // dropped connection, and it was recorded before the gateway exited.
  EXPECT_EQ(in_flight.get(), 500u) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", slow_id, "consumer",
                        "Server.ServerProxy.ServiceFailed."));

  // An idle provider stops as cleanly.
  int moi = net().StopGateway(Gw::kMoi, std::chrono::seconds(10));
  EXPECT_TRUE(WIFEXITED(moi) && WEXITSTATUS(moi) == 0) << "wait status " << moi << Diag();

  ASSERT_TRUE(net().StartGateway(Gw::kMoi)) << Diag();
  ASSERT_TRUE(net().StartGateway(Gw::kBli)) << Diag();
  std::string id = NewTestMessageId("after-term");
  EXPECT_EQ(EchoStatus(id), 200u) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", slow_id, "consumer",
                        "Server.ServerProxy.ServiceFailed."));
}

}  // namespace
}  // namespace troad::testing
