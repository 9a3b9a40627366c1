#include "mydata/signin.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/test_util.h"
#include "http/form.h"
#include "identity/oidc.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;

constexpr std::string_view kIssuer = "http://localhost:4600";
constexpr std::string_view kClient = "mydata";
constexpr int64_t kNow = 1'790'000'000;

// The idp's side, played with its own key: a signed ID token with these claims.
class IdTokenTest : public ::testing::Test {
 protected:
  IdTokenTest() : key_(crypto::PrivateKey::GenerateEcP256().value()) {
    nlohmann::json jwk = crypto::PublicJwk(key_.Public());
    jwk["kid"] = "idp-1";
    jwk["use"] = "sig";
    jwk["alg"] = "ES256";
    jwks_ = {{"keys", {jwk}}};
  }
  nlohmann::json Claims() const {
    return {{"iss", kIssuer},
            {"aud", kClient},
            {"sub", "pairwise-7f3a"},
            {"exp", kNow + 300},
            {"iat", kNow},
            {"auth_time", kNow - 5},
            {"nonce", "n-0S6_WzA2Mj"},
            {"acr", "urn:troad:mfa"},
            {"amr", {"sms", "otp", "mfa"}},
            {"national_id", "A123456789"},
            {"name", "陳示範"}};
  }
  std::string Sign(const nlohmann::json& claims, std::string kid = "idp-1") const {
    return crypto::SignJws(key_, {{"typ", "JWT"}, {"kid", kid}}, claims.dump()).value();
  }
  Result<IdToken> Verify(const std::string& jwt) const {
    return VerifyIdToken(jwt, jwks_, kIssuer, kClient, "n-0S6_WzA2Mj", kNow);
  }

  crypto::PrivateKey key_;
  nlohmann::json jwks_;
};

TEST_F(IdTokenTest, AGoodTokenGivesThePersonAndTheAssurance) {
  auto t = Verify(Sign(Claims()));
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->subject, "pairwise-7f3a");
  EXPECT_EQ(t->national_id, "A123456789");
  EXPECT_EQ(t->acr, "urn:troad:mfa");
  EXPECT_EQ(t->amr, (std::vector<std::string>{"sms", "otp", "mfa"}));
  EXPECT_EQ(t->auth_time, kNow - 5);
}

TEST_F(IdTokenTest, EachFailedCheckIsNamed) {
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"issuer", [](nlohmann::json& c) { c["iss"] = "http://localhost:4601"; }, "iss"},
      {"audience", [](nlohmann::json& c) { c["aud"] = "someone-else"; }, "aud"},
      {"audience list",
       [](nlohmann::json& c) {
         c["aud"] = {"a", "mydata"};
         c["azp"] = "a";
       },
       "azp"},
      {"expired", [](nlohmann::json& c) { c["exp"] = kNow - 61; }, "expired"},
      {"future", [](nlohmann::json& c) { c["iat"] = kNow + 61; }, "future"},
      {"nonce", [](nlohmann::json& c) { c["nonce"] = "another-sign-in"; }, "nonce"},
      {"no nonce", [](nlohmann::json& c) { c.erase("nonce"); }, "nonce"},
      {"no national id", [](nlohmann::json& c) { c.erase("national_id"); }, "national_id"},
      {"bad national id", [](nlohmann::json& c) { c["national_id"] = "A12345678"; }, "national_id"},
      {"acr", [](nlohmann::json& c) { c["acr"] = "urn:other:high"; }, "acr"},
      {"amr", [](nlohmann::json& c) { c["amr"] = nlohmann::json::array(); }, "amr"},
      {"sub", [](nlohmann::json& c) { c["sub"] = ""; }, "sub"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    nlohmann::json claims = Claims();
    c.change(claims);
    ExpectError(Verify(Sign(claims)), ErrorCode::kUnauthenticated, c.message);
  }
  // Within the minute of clock skew allowed either way.
  nlohmann::json skewed = Claims();
  skewed["exp"] = kNow - 30;
  skewed["iat"] = kNow + 30;
  EXPECT_TRUE(Verify(Sign(skewed)));
}

TEST_F(IdTokenTest, OnlyTheIdpsKeysCount) {
  ExpectError(Verify(Sign(Claims(), "idp-2")), ErrorCode::kUnauthenticated, "not in the idp's");
  // Signed by a key that is not the idp's, under the idp's kid.
  auto other = crypto::PrivateKey::GenerateEcP256().value();
  auto forged = crypto::SignJws(other, {{"kid", "idp-1"}}, Claims().dump()).value();
  ExpectError(Verify(forged), ErrorCode::kUnauthenticated, "signature");
  // A changed payload with the original signature.
  std::string jwt = Sign(Claims());
  size_t first = jwt.find('.');
  size_t second = jwt.find('.', first + 1);
  nlohmann::json changed = Claims();
  changed["national_id"] = "B123456780";
  std::string tampered =
      jwt.substr(0, first + 1) + Base64UrlEncode(changed.dump()) + jwt.substr(second);
  ExpectError(Verify(tampered), ErrorCode::kUnauthenticated, "signature");
  ExpectError(Verify("not.a.jwt"), ErrorCode::kInvalidArgument, "ID token");
}

TEST(SignInTest, TheRealIdpsDiscoveryDocumentIsAccepted) {
  // Cross-checked against what `troad idp` really publishes (identity/oidc.h).
  auto m = IdpMetadataFromDiscovery(identity::DiscoveryDocument(kIssuer), kIssuer);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->issuer, kIssuer);
  EXPECT_TRUE(m->token_endpoint.starts_with(std::string(kIssuer)));

  ExpectError(
      IdpMetadataFromDiscovery(identity::DiscoveryDocument(kIssuer), "http://localhost:4601"),
      ErrorCode::kInvalidArgument, "issuer");
  auto elsewhere = identity::DiscoveryDocument(kIssuer);
  elsewhere["token_endpoint"] = "http://127.0.0.1:9999/token";
  ExpectError(IdpMetadataFromDiscovery(elsewhere, kIssuer), ErrorCode::kInvalidArgument,
              "issuer's origin");
  auto no_pkce = identity::DiscoveryDocument(kIssuer);
  no_pkce["code_challenge_methods_supported"] = {"plain"};
  ExpectError(IdpMetadataFromDiscovery(no_pkce, kIssuer), ErrorCode::kInvalidArgument, "S256");
}

TEST(SignInTest, TheAuthorizationRequestCarriesPkceStateNonceAndAcr) {
  IdpMetadata idp{std::string(kIssuer), std::string(kIssuer) + "/authorize",
                  std::string(kIssuer) + "/token", std::string(kIssuer) + "/jwks"};
  auto s =
      StartSignIn(idp, kClient, "http://localhost:4700/signin/callback", "urn:troad:mfa", "zh-TW");
  ASSERT_TRUE(s.url.starts_with("http://localhost:4600/authorize?")) << s.url;
  auto form = http::ParseForm(http::QueryOf(s.url));
  ASSERT_TRUE(form) << form.error().ToString();
  EXPECT_EQ(form->Value("response_type"), "code");
  EXPECT_EQ(form->Value("scope"), "openid national_id");
  EXPECT_EQ(form->Value("state"), s.state);
  EXPECT_EQ(form->Value("nonce"), s.nonce);
  EXPECT_EQ(form->Value("acr_values"), "urn:troad:mfa");
  EXPECT_EQ(form->Value("redirect_uri"), "http://localhost:4700/signin/callback");
  EXPECT_EQ(form->Value("code_challenge"), Base64UrlEncode(crypto::Sha256(s.code_verifier)));
  EXPECT_EQ(form->Value("code_challenge_method"), "S256");
  auto again = StartSignIn(idp, kClient, "http://localhost:4700/signin/callback", "", "en");
  EXPECT_NE(again.state, s.state);
  EXPECT_NE(again.code_verifier, s.code_verifier);
}

TEST(SignInTest, TheClientAssertionIsWhatTheTokenEndpointChecks) {
  auto key = crypto::PrivateKey::GenerateEcP256().value();
  auto jwt = MakeClientAssertion(key, "mydata-rp-1", kClient, "http://localhost:4600/token", kNow);
  ASSERT_TRUE(jwt) << jwt.error().ToString();
  auto jws = crypto::ParseJws(*jwt);
  ASSERT_TRUE(jws);
  EXPECT_TRUE(crypto::VerifyJws(*jws, key.Public()));
  EXPECT_EQ(jws->header["kid"], "mydata-rp-1");
  auto claims = nlohmann::json::parse(jws->payload);
  EXPECT_EQ(claims["iss"], kClient);
  EXPECT_EQ(claims["sub"], kClient);
  EXPECT_EQ(claims["aud"], "http://localhost:4600/token");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 60);
  EXPECT_EQ(claims["jti"].get<std::string>().size(), 43u);
}

TEST(SignInTest, AssuranceFirstTwoMethodsThenTheLevel) {
  // Household (level 2) and labour insurance (level 1) data, first use: two methods and
  // a level-2 method.
  Assurance needed = RequiredAssurance({"urn:troad:loa:2", "urn:troad:loa:1"}, true);
  EXPECT_EQ(needed.level, 2);
  EXPECT_TRUE(needed.two_methods);
  EXPECT_EQ(NextAcr({}, needed), "urn:troad:mfa");
  EXPECT_EQ(NextAcr({"sms", "kba", "mfa"}, needed), "urn:troad:loa:2") << "two level-1 methods";
  EXPECT_EQ(NextAcr({"sms", "kba", "otp", "mfa"}, needed), "");
  EXPECT_TRUE(AssuranceMeets({"sms", "otp", "mfa"}, needed));
  EXPECT_FALSE(AssuranceMeets({"otp"}, needed));

  // Later uses: one method of the level.
  Assurance later = RequiredAssurance({"urn:troad:loa:2"}, false);
  EXPECT_FALSE(later.two_methods);
  EXPECT_TRUE(AssuranceMeets({"otp"}, later));
  EXPECT_FALSE(AssuranceMeets({"sms"}, later));
  EXPECT_TRUE(AssuranceMeets({"hwk", "user"}, later));
  // A dataset whose provider wants two methods always gets them.
  EXPECT_TRUE(RequiredAssurance({"urn:troad:mfa"}, false).two_methods);
  EXPECT_EQ(AssuranceLevel({"mfa", "pin"}), 0) << "not methods of their own";
  EXPECT_EQ(AssuranceLevel({"sc", "pin"}), 3);
}

}  // namespace
}  // namespace troad::mydata
