// `troad idp` as its operator runs it: init, people and relying parties registered from
// the command line, bad input refused with the reason and exit status 2, the server
// started and stopped by SIGTERM, and what it serves checked over HTTP. The browser
// sign-ins themselves are tests/e2e (real Chromium).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "core/net.h"
#include "core/subprocess.h"
#include "crypto/random.h"
#include "http/client.h"
#include "test_files.h"

#ifndef TROAD_BINARY
#error "TROAD_BINARY must name the troad executable"
#endif

namespace troad::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class IdpCliTest : public TroadCliTest {
 protected:
  std::string Config() const { return (dir_ / "idp" / "idp.toml").string(); }

  void Init(uint16_t port) {
    auto r = Troad({"idp", "init", "--dir", (dir_ / "idp").string(), "--issuer",
                    "http://localhost:" + std::to_string(port), "--listen",
                    "127.0.0.1:" + std::to_string(port)});
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_NE(r.output.find("management token:"), std::string::npos);
  }

};

TEST_F(IdpCliTest, BadInputIsRefusedWithTheReason) {
  Init(4699);
  auto again = Troad({"idp", "init", "--dir", (dir_ / "idp").string()});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;

  auto bad_id = Troad(
      {"idp", "person", "add", "-c", Config(), "--national-id", "A123456788", "--name", "測試"});
  EXPECT_EQ(bad_id.status, 2);
  EXPECT_NE(bad_id.output.find("check digit"), std::string::npos) << bad_id.output;

  auto bad_mobile = Troad({"idp", "person", "add", "-c", Config(), "--national-id", "A123456789",
                           "--name", "測試", "--mobile", "12345"});
  EXPECT_EQ(bad_mobile.status, 2);
  EXPECT_NE(bad_mobile.output.find("mobile number"), std::string::npos);

  auto open_redirect = Troad({"idp", "client", "add", "-c", Config(), "--id", "rp1", "--name", "RP",
                              "--redirect-uri", "http://evil.example/cb"});
  EXPECT_EQ(open_redirect.status, 2);
  EXPECT_NE(open_redirect.output.find("http:// is allowed only to localhost"), std::string::npos)
      << open_redirect.output;

  auto ok = Troad({"idp", "client", "add", "-c", Config(), "--id", "rp1", "--name", "RP",
                   "--redirect-uri", "https://svc.example.tw/cb"});
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("client_secret:"), std::string::npos);
  auto twice = Troad({"idp", "client", "add", "-c", Config(), "--id", "rp1", "--name", "RP",
                      "--redirect-uri", "https://svc.example.tw/cb"});
  EXPECT_EQ(twice.status, 1);
  EXPECT_NE(twice.output.find("already registered"), std::string::npos);

  auto no_jwks =
      Troad({"idp", "client", "add", "-c", Config(), "--id", "rp2", "--name", "RP",
             "--redirect-uri", "https://svc.example.tw/cb", "--auth", "private_key_jwt"});
  EXPECT_EQ(no_jwks.status, 2);
  EXPECT_NE(no_jwks.output.find("--jwks"), std::string::npos);

  // A misspelt key in idp.toml is named, not ignored.
  {
    std::ofstream out(Config(), std::ios::app);
    out << "\n[limits]\nmax_failures_per_acount = 3\n";
  }
  auto typo = Troad({"idp", "client", "list", "-c", Config()});
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.output.find("max_failures_per_acount"), std::string::npos) << typo.output;
}

TEST_F(IdpCliTest, TheServerServesDiscoveryAndStopsOnSigterm) {
  auto port = PickFreePort();
  ASSERT_TRUE(port);
  Init(*port);
  ASSERT_EQ(Troad({"idp", "client", "add", "-c", Config(), "--id", "rp1", "--name", "RP",
                   "--redirect-uri", "https://svc.example.tw/cb"})
                .status,
            0);
  auto server =
      Subprocess::Start({TROAD_BINARY, "idp", "--config", Config()}, (dir_ / "idp.log").string());
  ASSERT_TRUE(server);
  ASSERT_TRUE(WaitForPort("127.0.0.1", *port, 30s));
  http::BlockingClient client({});
  http::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = *port;
  http::Request req(http::bhttp::verb::get, "/.well-known/openid-configuration", 11);
  auto res = client.Send(endpoint, req, 10s);
  ASSERT_TRUE(res) << res.error().ToString();
  ASSERT_EQ(res->response.result_int(), 200u);
  auto doc = nlohmann::json::parse(res->response.body());
  EXPECT_EQ(doc["issuer"], "http://localhost:" + std::to_string(*port));
  // A rotation from the CLI while it runs shows in the JWKS it serves.
  ASSERT_EQ(Troad({"idp", "rotate-key", "-c", Config()}).status, 0);
  http::Request jwks(http::bhttp::verb::get, "/jwks", 11);
  res = client.Send(endpoint, jwks, 10s);
  ASSERT_TRUE(res);
  EXPECT_EQ(nlohmann::json::parse(res->response.body())["keys"].size(), 2u);
  ::kill(server->pid(), SIGTERM);
  int status = server->Wait(20s);
  ASSERT_TRUE(WIFEXITED(status)) << "troad idp did not stop on SIGTERM";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A registry that takes the connection and says nothing until released: a T-Road
// gateway or provider that hangs.
class SilentRegistry {
 public:
  SilentRegistry() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      accepted_ = true;
      // Bounded: released by the test, or gives up after a minute.
      for (int i = 0; i < 600 && !released_; ++i) std::this_thread::sleep_for(100ms);
      ::close(conn);
    });
  }
  ~SilentRegistry() {
    released_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }
  bool accepted() const { return accepted_; }
  void Release() { released_ = true; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> accepted_{false};
  std::atomic<bool> released_{false};
  std::thread thread_;
};

// The dual-document registries are asked away from the database thread: while one
// sign-in waits for a registry that hangs, the idp keeps serving everyone else.
TEST_F(IdpCliTest, AHangingRegistryDoesNotHoldTheRestOfTheIdp) {
  auto port = PickFreePort();
  ASSERT_TRUE(port);
  Init(*port);
  SilentRegistry registry;
  ASSERT_NE(registry.port(), 0);
  {
    std::ofstream toml(Config(), std::ios::app);
    toml << "\n[dual_document]\ngateway = \"http://127.0.0.1:" << registry.port()
         << "\"\nclient = \"TW/GOV/MODA/idp\"\nhousehold_service = "
            "\"TW/GOV/MOI/household/registry\"\nnhi_service = \"TW/GOV/NHIA/cards/insured\"\n"
            "timeout_ms = 60000\n";
  }
  auto server =
      Subprocess::Start({TROAD_BINARY, "idp", "--config", Config()}, (dir_ / "idp.log").string());
  ASSERT_TRUE(server);
  ASSERT_TRUE(WaitForPort("127.0.0.1", *port, 30s));
  http::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = *port;
  std::string cookie;
  auto send = [&](http::BlockingClient& client, http::bhttp::verb verb, const std::string& target,
                  const std::string& form) -> Result<http::ClientResponse> {
    http::Request req(verb, target, 11);
    if (!cookie.empty()) req.set(http::bhttp::field::cookie, cookie);
    if (verb == http::bhttp::verb::post) {
      req.set(http::bhttp::field::content_type, "application/x-www-form-urlencoded");
      req.body() = form;
    }
    req.prepare_payload();
    auto res = client.Send(endpoint, req, 30s);
    if (res) {
      for (const auto& field : res->response) {
        std::string v(field.value());
        if (field.name() == http::bhttp::field::set_cookie && v.starts_with("troad_idp=")) {
          cookie = v.substr(0, v.find(';'));
        }
      }
    }
    return res;
  };
  http::BlockingClient client({});
  // The account page sends us to sign in; identify as someone the idp does not know yet.
  auto res = send(client, http::bhttp::verb::get, "/account", "");
  ASSERT_TRUE(res) << res.error().ToString();
  std::string location(res->response[http::bhttp::field::location]);
  ASSERT_TRUE(location.starts_with("/signin?r=")) << location;
  res = send(client, http::bhttp::verb::get, location, "");
  ASSERT_TRUE(res);
  std::smatch m;
  std::string page = res->response.body();
  ASSERT_TRUE(std::regex_search(page, m, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  std::string fields = "csrf=" + m[1].str() + "&r=" + location.substr(10);
  res =
      send(client, http::bhttp::verb::post, "/signin/identify", fields + "&national_id=F131232289");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->response.result_int(), 200u);

  auto pending = std::async(std::launch::async, [&] {
    http::BlockingClient other({});
    return send(other, http::bhttp::verb::post, "/signin/dual-document",
                fields + "&health_card=000012345680&household_id=H0000001");
  });
  for (int i = 0; i < 300 && !registry.accepted(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(registry.accepted()) << "the idp never called the registry";
  // Everyone else is still served while that sign-in waits.
  http::Request jwks(http::bhttp::verb::get, "/jwks", 11);
  auto other = client.Send(endpoint, jwks, 30s);
  ASSERT_TRUE(other) << "the idp stopped answering while a registry hung: "
                     << other.error().ToString();
  EXPECT_EQ(other->response.result_int(), 200u);
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout)
      << "the registry was still silent, so that sign-in cannot have finished";
  // The registry gives up: the person is told it cannot be reached, not that they erred.
  registry.Release();
  auto refused = pending.get();
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_EQ(refused->response.result_int(), 400u);
  EXPECT_NE(refused->response.body().find("暫時無法向戶政與健保資料核對"), std::string::npos);
  ::kill(server->pid(), SIGTERM);
  EXPECT_TRUE(WIFEXITED(server->Wait(20s)));
}

}  // namespace
}  // namespace troad::testing
