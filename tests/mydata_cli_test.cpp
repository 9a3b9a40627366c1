// `troad mydata` as its operator runs it: init, the catalogue and service providers
// registered from JSON files on the command line, bad input refused with the reason and
// exit status 2, the server started, its management API used with the token `init`
// printed, changes made from the CLI seen by the running server, and SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/net.h"
#include "core/subprocess.h"
#include "crypto/jose.h"
#include "crypto/random.h"
#include "http/client.h"
#include "mydata/consent.h"
#include "store/database.h"
#include "store/signing_keys.h"
#include "test_files.h"

#ifndef TROAD_BINARY
#error "TROAD_BINARY must name the troad executable"
#endif

namespace troad::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class MyDataCliTest : public TroadCliTest {
 protected:
  std::string Config() const { return (dir_ / "mydata" / "mydata.toml").string(); }
  std::string Json(const std::string& name, const nlohmann::json& j) {
    std::string path = (dir_ / name).string();
    WriteText(path, j.dump(2));
    return path;
  }

  // Returns the management token init printed.
  std::string Init(uint16_t port) {
    auto r = Troad({"mydata", "init", "--dir", (dir_ / "mydata").string(), "--listen",
                    "127.0.0.1:" + std::to_string(port), "--public-url",
                    "http://localhost:" + std::to_string(port)});
    EXPECT_EQ(r.status, 0) << r.output;
    std::smatch m;
    if (!std::regex_search(r.output, m, std::regex("management token: +(\\S+)"))) {
      ADD_FAILURE() << "no token in: " << r.output;
      return "";
    }
    return m[1];
  }

  static nlohmann::json Household() {
    return {{"id", "household.members"},
            {"name", {{"zh-TW", "戶籍資料"}, {"en", "Household register"}}},
            {"service", "TW/GOV/MOI/household/registry"},
            {"path", "/persons/{nationalId}"}};
  }
  static nlohmann::json Bank() {
    auto key = crypto::PrivateKey::GenerateEcP256().value();
    return {
        {"id", "bank-mortgage"},
        {"name", {{"zh-TW", "範例銀行"}, {"en", "Example Bank"}}},
        {"datasets", {"household.members"}},
        {"modes", {"online"}},
        {"redirect_uris", {"https://bank.example.tw/return"}},
        {"auth",
         {{"method", "private_key_jwt"}, {"jwks", {{"keys", {crypto::PublicJwk(key.Public())}}}}}},
        {"allowed_sources", {"127.0.0.1"}},
        {"purposes", {"房屋貸款申請"}}};
  }
};

TEST_F(MyDataCliTest, BadInputIsRefusedWithTheReason) {
  Init(4799);
  auto again = Troad({"mydata", "init", "--dir", (dir_ / "mydata").string()});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;

  // A service provider whose scope is not in the catalogue.
  auto early = Troad({"mydata", "sp", "add", "-c", Config(), "--file", Json("bank.json", Bank())});
  EXPECT_EQ(early.status, 2);
  EXPECT_NE(early.output.find("household.members is not in the catalogue"), std::string::npos)
      << early.output;

  auto bad = Household();
  bad["acr"] = "urn:troad:loa:9";
  auto refused = Troad({"mydata", "dataset", "add", "-c", Config(), "--file", Json("d.json", bad)});
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.output.find("acr: one of"), std::string::npos) << refused.output;

  WriteText((dir_ / "broken.json").string(), "{\"id\": \"household.members\",");
  auto broken = Troad(
      {"mydata", "dataset", "add", "-c", Config(), "--file", (dir_ / "broken.json").string()});
  EXPECT_EQ(broken.status, 2);
  EXPECT_NE(broken.output.find("broken.json"), std::string::npos) << broken.output;

  ASSERT_EQ(Troad({"mydata", "dataset", "add", "-c", Config(), "--file",
                   Json("household.json", Household())})
                .status,
            0);
  auto http_redirect = Bank();
  http_redirect["redirect_uris"] = {"http://bank.example.tw/return"};
  auto open_redirect =
      Troad({"mydata", "sp", "add", "-c", Config(), "--file", Json("bank2.json", http_redirect)});
  EXPECT_EQ(open_redirect.status, 2);
  EXPECT_NE(open_redirect.output.find("only to localhost"), std::string::npos)
      << open_redirect.output;
  EXPECT_EQ(Troad({"mydata", "sp", "show", "-c", Config(), "--id", "nobody"}).status, 1);

  // A misspelt key in mydata.toml is named, not ignored.
  {
    std::ofstream out(Config(), std::ios::app);
    out << "consent_key_rotate_after_dayz = 30\n";
  }
  auto typo = Troad({"mydata", "dataset", "list", "-c", Config()});
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.output.find("consent_key_rotate_after_dayz"), std::string::npos) << typo.output;
}

TEST_F(MyDataCliTest, TheServerServesItsManagementApiAndStopsOnSigterm) {
  auto port = PickFreePort();
  ASSERT_TRUE(port);
  std::string token = Init(*port);
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(Troad({"mydata", "dataset", "add", "-c", Config(), "--file",
                   Json("household.json", Household())})
                .status,
            0);
  auto server = Subprocess::Start({TROAD_BINARY, "mydata", "--config", Config()},
                                  (dir_ / "mydata.log").string());
  ASSERT_TRUE(server);
  ASSERT_TRUE(WaitForPort("127.0.0.1", *port, 30s)) << ReadText((dir_ / "mydata.log").string());
  http::BlockingClient client({});
  http::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = *port;
  auto call = [&](http::bhttp::verb method, const std::string& target,
                  const nlohmann::json* body = nullptr) {
    http::Request req(method, target, 11);
    req.set(http::bhttp::field::authorization, "Bearer " + token);
    if (body) {
      req.set(http::bhttp::field::content_type, "application/json");
      req.body() = body->dump();
    }
    req.prepare_payload();
    auto res = client.Send(endpoint, req, 10s);
    EXPECT_TRUE(res) << res.error().ToString();
    return res ? std::move(res->response) : http::Response{};
  };

  // What the CLI registered, the server lists.
  auto res = call(http::bhttp::verb::get, "/api/v1/datasets");
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(nlohmann::json::parse(res.body())["datasets"][0]["id"], "household.members");

  // Registered over HTTP, seen by the CLI.
  auto bank = Bank();
  res = call(http::bhttp::verb::post, "/api/v1/service-providers", &bank);
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  auto list = Troad({"mydata", "sp", "list", "-c", Config()});
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("bank-mortgage"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("private_key_jwt"), std::string::npos) << list.output;
  ASSERT_EQ(Troad({"mydata", "sp", "disable", "-c", Config(), "--id", "bank-mortgage"}).status, 0);
  res = call(http::bhttp::verb::get, "/api/v1/service-providers/bank-mortgage");
  EXPECT_EQ(nlohmann::json::parse(res.body())["enabled"], false);

  // A wrong token is refused.
  http::Request anonymous(http::bhttp::verb::get, "/api/v1/datasets", 11);
  anonymous.set(http::bhttp::field::authorization, "Bearer not-the-token");
  auto refused = client.Send(endpoint, anonymous, 10s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->response.result_int(), 401u);

  // A rotation from the CLI shows in the JWKS the server publishes; the old key stays.
  ASSERT_EQ(Troad({"mydata", "rotate-key", "-c", Config()}).status, 0);
  res = call(http::bhttp::verb::get, "/jwks");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(nlohmann::json::parse(res.body())["keys"].size(), 2u);

  // An auditor checks a consent record MyData signed against the /jwks it serves.
  {
    auto db = store::OpenSqlite((dir_ / "mydata" / "data" / "mydata.db").string());
    ASSERT_TRUE(db) << db.error().ToString();
    store::SigningKeys keys(**db, SystemClock::Get(), {});
    auto current = keys.Current();
    ASSERT_TRUE(current) << current.error().ToString();
    mydata::ConsentRecord record;
    record.consent_id = "7a1c2e4f-0b3d-4e5f-8a9b-0c1d2e3f4a5b";
    record.transaction = "tx-audit";
    record.subject = "pairwise-subject";
    record.national_id_masked = "A12****789";
    record.datasets = {"household.members"};
    record.recipient_type = "self";
    record.purpose = "下載";
    record.legal_basis = "個人資料保護法第 6 條第 1 項第 6 款";
    record.acr = "urn:troad:loa:2";
    record.amr = {"otp"};
    record.consented_at = 1'790'000'000'000;
    record.expires_at = record.consented_at + 1'200'000;
    record.issued_at = record.consented_at;
    auto jws = mydata::SignConsent(record, current->key, current->kid);
    ASSERT_TRUE(jws);
    WriteText((dir_ / "record.jws").string(), *jws + "\n");
    WriteText((dir_ / "jwks.json").string(), res.body());
    auto ok = Troad({"mydata", "consent", "verify", "--file", (dir_ / "record.jws").string(),
                     "--jwks", (dir_ / "jwks.json").string()});
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_NE(ok.output.find("7a1c2e4f-0b3d-4e5f-8a9b-0c1d2e3f4a5b"), std::string::npos)
        << ok.output;
    std::string forged = *jws;
    forged[forged.find('.') + 5] ^= 1;
    WriteText((dir_ / "record.jws").string(), forged);
    auto bad = Troad({"mydata", "consent", "verify", "--file", (dir_ / "record.jws").string(),
                      "--jwks", (dir_ / "jwks.json").string()});
    EXPECT_EQ(bad.status, 1) << bad.output;
  }

  ::kill(server->pid(), SIGTERM);
  int status = server->Wait(20s);
  ASSERT_TRUE(WIFEXITED(status)) << "troad mydata did not stop on SIGTERM";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace troad::testing
