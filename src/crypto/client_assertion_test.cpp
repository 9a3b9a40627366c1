#include "crypto/client_assertion.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using testutil::ExpectError;
constexpr int64_t kNow = 1'790'000'000;
const std::string kAudiences[] = {"https://mydata.example.tw", "https://mydata.example.tw/token"};

class ClientAssertionTest : public ::testing::Test {
 protected:
  ClientAssertionTest() : key_(PrivateKey::GenerateEcP256().value()) {
    nlohmann::json jwk = PublicJwk(key_.Public());
    jwk["kid"] = "bank-1";
    auto other = PrivateKey::GenerateEcP256().value();
    nlohmann::json other_jwk = PublicJwk(other.Public());
    other_jwk["kid"] = "bank-0";
    jwks_ = {{"keys", {other_jwk, jwk}}};
  }
  nlohmann::json Claims() const {
    return {{"iss", "bank-mortgage"},
            {"sub", "bank-mortgage"},
            {"aud", kAudiences[1]},
            {"jti", "a1b2c3"},
            {"iat", kNow},
            {"exp", kNow + 60}};
  }
  std::string Sign(const nlohmann::json& claims, const char* kid = "bank-1") const {
    return SignJws(key_, {{"kid", kid}}, claims.dump()).value();
  }
  Result<VerifiedAssertion> Check(const std::string& jwt) const {
    TROAD_ASSIGN_OR_RETURN(auto parsed, ParseClientAssertion(jwt));
    return VerifyClientAssertion(parsed, jwks_, kAudiences, kNow);
  }

  PrivateKey key_;
  nlohmann::json jwks_;
};

TEST_F(ClientAssertionTest, AGoodAssertionNamesItsClientAndJti) {
  auto parsed = ParseClientAssertion(Sign(Claims()));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->client_id, "bank-mortgage");
  auto ok = VerifyClientAssertion(*parsed, jwks_, kAudiences, kNow);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->jti, "a1b2c3");
  EXPECT_EQ(ok->exp, kNow + 60);
  nlohmann::json listed = Claims();
  listed["aud"] = {"someone", kAudiences[0]};
  EXPECT_TRUE(Check(Sign(listed))) << "aud may be an array holding one of ours";
}

TEST_F(ClientAssertionTest, EachFailedCheckIsNamed) {
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"sub", [](nlohmann::json& c) { c["sub"] = "another"; }, "iss and sub"},
      {"aud", [](nlohmann::json& c) { c["aud"] = "https://idp.example.tw"; }, "aud must be"},
      {"no exp", [](nlohmann::json& c) { c.erase("exp"); }, "exp is missing"},
      {"expired", [](nlohmann::json& c) { c["exp"] = kNow - 31; }, "has expired"},
      {"far ahead", [](nlohmann::json& c) { c["exp"] = kNow + 301; }, "300 s ahead"},
      {"nbf", [](nlohmann::json& c) { c["nbf"] = kNow + 31; }, "not valid yet"},
      {"jti", [](nlohmann::json& c) { c.erase("jti"); }, "jti is missing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    nlohmann::json claims = Claims();
    c.change(claims);
    ExpectError(Check(Sign(claims)), ErrorCode::kUnauthenticated, c.message);
  }
  // The key named by kid must be the one that signed; a key not registered never is.
  ExpectError(Check(Sign(Claims(), "bank-0")), ErrorCode::kUnauthenticated,
              "does not verify with any registered key of bank-mortgage");
  auto stranger = PrivateKey::GenerateEcP256().value();
  ExpectError(Check(SignJws(stranger, {}, Claims().dump()).value()), ErrorCode::kUnauthenticated,
              "does not verify");
  ExpectError(Check("not-a-jwt"), ErrorCode::kUnauthenticated, "client_assertion:");
}

}  // namespace
}  // namespace troad::crypto
