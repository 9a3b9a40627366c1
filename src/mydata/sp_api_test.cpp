// The service providers' API as a bank's back end meets it: a request pushed with a
// private_key_jwt assertion, and every way it can be refused.
#include <gtest/gtest.h>

#include "crypto/client_assertion.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/random.h"
#include "http/form.h"
#include "mydata/api.h"
#include "mydata/test_util.h"

namespace troad::mydata {
namespace {

namespace bhttp = http::bhttp;
constexpr std::string_view kPublicUrl = "http://localhost:4700";

class SpApiTest : public testutil::DatabaseTest {
 protected:
  SpApiTest() : bank_key_(crypto::PrivateKey::GenerateEcP256().value()) {}

  void SetUp() override {
    DatabaseTest::SetUp();
    Catalogue catalogue(*db_, clock_);
    for (const char* id : {"household.members", "tax.income", "vehicle.licences"}) {
      Dataset d;
      d.id = id;
      d.name_zh = "資料";
      d.name_en = "Data";
      d.service = ServiceId::Parse("TW/GOV/MOI/household/registry").value();
      d.path = "/persons/{nationalId}";
      ASSERT_TRUE(catalogue.Add(d));
    }
    ServiceProvider bank;
    bank.id = "bank-mortgage";
    bank.name_zh = "範例銀行";
    bank.name_en = "Example Bank";
    bank.datasets = {"household.members", "tax.income"};
    bank.modes = {SpMode::kOnline};
    bank.redirect_uris = {"https://bank.example.tw/return"};
    nlohmann::json jwk = crypto::PublicJwk(bank_key_.Public());
    jwk["kid"] = "bank-1";
    bank.jwks = {{"keys", {jwk}}};
    bank.allowed_sources = {"192.0.2.0/24"};
    bank.purposes = {"房屋貸款申請"};
    ASSERT_TRUE(ServiceProviders(*db_, clock_).Add(bank));
    ApiOptions options;
    options.public_url = std::string(kPublicUrl);
    api_ = std::make_unique<Api>(*db_, clock_, options);
  }

  std::string Assertion(std::string aud = std::string(kPublicUrl)) const {
    int64_t now = clock_.NowMillis() / 1000;
    nlohmann::json claims = {{"iss", "bank-mortgage"},
                             {"sub", "bank-mortgage"},
                             {"aud", aud},
                             {"jti", crypto::NewUuid()},
                             {"iat", now},
                             {"exp", now + 60}};
    return crypto::SignJws(bank_key_, {{"kid", "bank-1"}}, claims.dump()).value();
  }

  http::Response Post(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> fields,
                      std::string remote = "192.0.2.10", std::string assertion = "") {
    if (assertion.empty()) assertion = Assertion();
    fields.emplace_back("client_assertion_type", std::string(crypto::kJwtBearerAssertionType));
    fields.emplace_back("client_assertion", assertion);
    std::string body;
    for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + http::FormPair(k, v);
    http::Request req(bhttp::verb::post, path, 11);
    req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
    req.prepare_payload();
    return api_->Serve(req, remote);
  }
  std::vector<std::pair<std::string, std::string>> GoodRequest() const {
    return {{"datasets", "household.members tax.income"},
            {"purpose", "房屋貸款申請"},
            {"return_uri", "https://bank.example.tw/return"}};
  }
  static nlohmann::json Body(const http::Response& r) { return nlohmann::json::parse(r.body()); }
  static std::string Why(const http::Response& r) { return Body(r).value("error_description", ""); }

  crypto::PrivateKey bank_key_;
  std::unique_ptr<Api> api_;
};

TEST_F(SpApiTest, ARequestGivesTheLinkForThePersonAndItsProgressCanBeAsked) {
  auto res = Post("/api/sp/v1/requests", GoodRequest());
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  auto body = Body(res);
  EXPECT_EQ(body["state"], "awaiting_consent");
  std::string start = body["start_url"];
  ASSERT_TRUE(start.starts_with("http://localhost:4700/start?ref=")) << start;
  std::string ref = start.substr(start.find('=') + 1);
  // The link finds the transaction; the database holds only the link's hash.
  Transactions store(*db_, clock_);
  auto t = store.ByRef(ref);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->id, body["transaction"]);
  EXPECT_EQ(t->datasets, (std::vector<std::string>{"household.members", "tax.income"}));
  auto stored = db_->Query("SELECT ref_hash FROM transactions");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)[0].Text(0).value(), crypto::Sha256Hex(ref));

  // Nothing moves it but its events: no collection before the person consented.
  auto early = store.Apply(t->id, TransactionEvent::kCollected);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store.Get(t->id)->state, TransactionState::kAwaitingConsent);
  EXPECT_FALSE(store.ByRef("not-a-reference"));

  res = Post("/api/sp/v1/transactions/status", {{"transaction", body["transaction"]}});
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(Body(res)["state"], "awaiting_consent");
  EXPECT_EQ(Body(res)["final"], false);
  // The assertion's audience may also be the endpoint's own URL.
  res = Post("/api/sp/v1/requests", GoodRequest(), "192.0.2.10",
             Assertion("http://localhost:4700/api/sp/v1/requests"));
  EXPECT_EQ(res.result_int(), 201u) << res.body();
}

TEST_F(SpApiTest, EachRefusalHasTheLivePlatformsCodeAndAReason) {
  auto with = [&](const char* key, const char* value) {
    auto fields = GoodRequest();
    for (auto& [k, v] : fields) {
      if (k == key) v = value;
    }
    if (std::none_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == key; })) {
      fields.emplace_back(key, value);
    }
    return Post("/api/sp/v1/requests", fields);
  };
  struct Case {
    http::Response res;
    unsigned status;
    const char* fragment;
  };
  const Case cases[] = {
      {with("datasets", "household.members vehicle.licences"), 403,
       "outside bank-mortgage's scopes"},
      {with("datasets", ""), 400, "datasets: 1 to 50"},
      {with("datasets", "tax.income tax.income"), 400, "twice"},
      {with("purpose", "marketing"), 400, "purpose"},
      {with("return_uri", "https://evil.example/return"), 400, "return_uri"},
      {with("mode", "multi_person"), 403, "not registered for the multi_person mode"},
      {with("mode", "carrier-pigeon"), 400, "mode"},
      {with("expires_in", "99999"), 400, "expires_in"},
      {Post("/api/sp/v1/requests", GoodRequest(), "198.51.100.7"), 403, "may not call from"},
      {Post("/api/sp/v1/requests", GoodRequest(), "192.0.2.10",
            Assertion("https://idp.example.tw")),
       401, "aud must be"},
      {Post("/api/sp/v1/transactions/status", {{"transaction", "no-such-id"}}), 404,
       "no such transaction"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    EXPECT_EQ(c.res.result_int(), c.status) << c.res.body();
    EXPECT_NE(Why(c.res).find(c.fragment), std::string::npos) << c.res.body();
  }
  // A dataset the operator has switched off: 501, "not offered".
  ASSERT_TRUE(Catalogue(*db_, clock_).SetEnabled("tax.income", false));
  auto off = Post("/api/sp/v1/requests", GoodRequest());
  EXPECT_EQ(off.result_int(), 501u) << off.body();
  EXPECT_EQ(Body(off)["error"], "dataset_not_offered");
}

TEST_F(SpApiTest, AnAssertionIsAcceptedOnceAndOnlyFromTheProvidersKey) {
  std::string assertion = Assertion();
  EXPECT_EQ(Post("/api/sp/v1/requests", GoodRequest(), "192.0.2.10", assertion).result_int(), 201u);
  auto replay = Post("/api/sp/v1/requests", GoodRequest(), "192.0.2.10", assertion);
  EXPECT_EQ(replay.result_int(), 401u);
  EXPECT_NE(Why(replay).find("replay"), std::string::npos) << replay.body();

  auto stranger = crypto::PrivateKey::GenerateEcP256().value();
  int64_t now = clock_.NowMillis() / 1000;
  nlohmann::json claims = {{"iss", "bank-mortgage"},
                           {"sub", "bank-mortgage"},
                           {"aud", kPublicUrl},
                           {"jti", "x"},
                           {"iat", now},
                           {"exp", now + 60}};
  auto forged = Post("/api/sp/v1/requests", GoodRequest(), "192.0.2.10",
                     crypto::SignJws(stranger, {{"kid", "bank-1"}}, claims.dump()).value());
  EXPECT_EQ(forged.result_int(), 401u);
  EXPECT_NE(Why(forged).find("does not verify"), std::string::npos) << forged.body();

  ASSERT_TRUE(ServiceProviders(*db_, clock_).SetEnabled("bank-mortgage", false));
  auto disabled = Post("/api/sp/v1/requests", GoodRequest());
  EXPECT_EQ(disabled.result_int(), 403u);
  EXPECT_NE(Why(disabled).find("disabled"), std::string::npos);

  // Every refusal is in the audit log with the provider's id where it is known.
  auto rows = db_->Query("SELECT actor, outcome FROM audit WHERE outcome = 'refused'");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 3u);
}

}  // namespace
}  // namespace troad::mydata
