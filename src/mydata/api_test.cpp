#include "mydata/api.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/test_util.h"
#include "mydata/consent.h"
#include "mydata/schema.h"
#include "mydata/test_util.h"
#include "store/migrate.h"

namespace troad::mydata {
namespace {

namespace bhttp = http::bhttp;
constexpr std::string_view kToken = "operator-token-for-tests-0123456789";

nlohmann::json HouseholdJson() {
  return {{"id", "household.members"},
          {"name", {{"zh-TW", "戶籍資料"}, {"en", "Household register"}}},
          {"service", "TW/GOV/MOI/household/registry"},
          {"path", "/persons/{nationalId}"},
          {"acr", "urn:troad:loa:2"}};
}

nlohmann::json CountyJson() {
  auto key = crypto::PrivateKey::GenerateEcP256().value();
  return {
      {"id", "pthg-parking"},
      {"name", {{"zh-TW", "範例縣身障停車證"}, {"en", "Example County parking permits"}}},
      {"datasets", {"household.members"}},
      {"modes", {"multi_person"}},
      {"redirect_uris", {"https://county.example.tw/return"}},
      {"auth",
       {{"method", "private_key_jwt"}, {"jwks", {{"keys", {crypto::PublicJwk(key.Public())}}}}}},
      {"allowed_sources", {"127.0.0.1"}},
      {"purposes", {"身心障礙者專用停車位識別證申請"}}};
}

class ApiTest : public testutil::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    ApiOptions options;
    options.management_token_sha256 = crypto::Sha256Hex(kToken);
    api_ = std::make_unique<Api>(*db_, clock_, options);
    ASSERT_TRUE(api_->consent_keys().EnsureCurrent());
  }

  http::Response Call(bhttp::verb method, std::string target, const nlohmann::json* body = nullptr,
                      std::string_view token = kToken) {
    http::Request req(method, target, 11);
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + std::string(token));
    if (body) req.body() = body->dump();
    req.prepare_payload();
    return api_->Serve(req, "127.0.0.1");
  }
  static nlohmann::json Body(const http::Response& res) {
    return nlohmann::json::parse(res.body());
  }

  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, TheOperatorMaintainsTheCatalogueAndServiceProviders) {
  auto household = HouseholdJson();
  auto res = Call(bhttp::verb::post, "/api/v1/datasets", &household);
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  EXPECT_EQ(Body(res)["retention_s"], 8 * 3600);
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/datasets", &household).result_int(), 409u);

  auto county = CountyJson();
  res = Call(bhttp::verb::post, "/api/v1/service-providers", &county);
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  res = Call(bhttp::verb::get, "/api/v1/service-providers/pthg-parking");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(Body(res)["purposes"][0], "身心障礙者專用停車位識別證申請");

  household["acr"] = "urn:troad:mfa";
  res = Call(bhttp::verb::put, "/api/v1/datasets/household.members", &household);
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(Body(Call(bhttp::verb::get, "/api/v1/datasets/household.members"))["acr"],
            "urn:troad:mfa");
  res = Call(bhttp::verb::put, "/api/v1/datasets/tax.income", &household);
  EXPECT_EQ(res.result_int(), 400u) << "the body names another dataset";

  res = Call(bhttp::verb::post, "/api/v1/service-providers/pthg-parking/disable");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(Body(res)["enabled"], false);
  res = Call(bhttp::verb::get, "/api/v1/datasets");
  EXPECT_EQ(Body(res)["datasets"].size(), 1u);

  // Every change is in the audit log, newest first.
  res = Call(bhttp::verb::get, "/api/v1/audit");
  ASSERT_EQ(res.result_int(), 200u);
  auto entries = Body(res)["entries"];
  ASSERT_GE(entries.size(), 4u);
  EXPECT_EQ(entries[0]["event"], "service provider disable");
  EXPECT_EQ(entries[0]["subject"], "pthg-parking");
  EXPECT_EQ(entries[0]["remote"], "127.0.0.1");
}

TEST_F(ApiTest, BadRequestsAreRefusedWithTheReason) {
  auto res = Call(bhttp::verb::get, "/api/v1/datasets", nullptr, "");
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_NE(res[bhttp::field::www_authenticate].find("Bearer"), std::string::npos);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/datasets", nullptr, "wrong").result_int(), 401u);

  auto county = CountyJson();
  res = Call(bhttp::verb::post, "/api/v1/service-providers", &county);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(Body(res)["error_description"].get<std::string>().find("not in the catalogue"),
            std::string::npos)
      << res.body();

  auto bad = HouseholdJson();
  bad["path"] = "/persons/../admin/{nationalId}";
  res = Call(bhttp::verb::post, "/api/v1/datasets", &bad);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("segments"), std::string::npos) << res.body();

  http::Request broken(bhttp::verb::post, "/api/v1/datasets", 11);
  broken.set(bhttp::field::authorization, "Bearer " + std::string(kToken));
  broken.body() = "{\"id\": ";
  broken.prepare_payload();
  res = api_->Serve(broken, "127.0.0.1");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("request body"), std::string::npos) << res.body();

  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/datasets/nothing").result_int(), 404u);
  EXPECT_EQ(Call(bhttp::verb::delete_, "/api/v1/datasets").result_int(), 404u);

  // The refusals are audited too (not the 404s: nothing was attempted).
  auto entries = Body(Call(bhttp::verb::get, "/api/v1/audit"))["entries"];
  size_t refused = 0;
  for (const auto& e : entries) refused += e["outcome"] == "refused";
  EXPECT_EQ(refused, 5u) << entries.dump(1);
}

TEST_F(ApiTest, WithoutATokenTheManagementApiIsOff) {
  Api off(*db_, clock_, ApiOptions{});
  http::Request req(bhttp::verb::get, "/api/v1/datasets", 11);
  req.set(bhttp::field::authorization, "Bearer ");
  EXPECT_EQ(off.Serve(req, "127.0.0.1").result_int(), 404u);
}

TEST_F(ApiTest, TheJwksVerifiesConsentRecordsAcrossARotation) {
  ConsentRecord record;
  record.consent_id = "0b6f3c4e-7d2a-4e57-9a43-3f1de0c2a001";
  record.transaction = "tx-1";
  record.subject = "pairwise-subject";
  record.national_id_masked = "A12****789";
  record.datasets = {"household.members"};
  record.recipient_type = "self";
  record.purpose = "下載";
  record.legal_basis = "個人資料保護法第 6 條第 1 項第 6 款";
  record.acr = "urn:troad:loa:2";
  record.amr = {"otp"};
  record.consented_at = clock_.NowMillis();
  record.expires_at = record.consented_at + 20 * 60 * 1000;
  record.issued_at = record.consented_at;
  auto current = api_->consent_keys().Current();
  ASSERT_TRUE(current);
  auto jws = SignConsent(record, current->key, current->kid);
  ASSERT_TRUE(jws) << jws.error().ToString();

  // Rotating through the API keeps the old key published: old records still verify.
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/keys/rotate").result_int(), 200u);
  auto res = Call(bhttp::verb::get, "/jwks", nullptr, "");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::content_type], "application/jwk-set+json");
  auto jwks = Body(res);
  EXPECT_EQ(jwks["keys"].size(), 2u);
  auto verified = VerifyConsent(*jws, jwks);
  ASSERT_TRUE(verified) << verified.error().ToString();
  EXPECT_EQ(verified->consent_id, record.consent_id);

  EXPECT_EQ(Call(bhttp::verb::get, "/healthz", nullptr, "").result_int(), 200u);
  EXPECT_EQ(Call(bhttp::verb::get, "/nowhere", nullptr, "").result_int(), 404u);
}

}  // namespace
}  // namespace troad::mydata
