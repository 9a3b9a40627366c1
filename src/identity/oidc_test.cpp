#include "identity/oidc.h"

#include <gtest/gtest.h>

#include "identity/accounts.h"

namespace troad::identity {
namespace {

constexpr char kChallenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(AssuranceTest, LevelsAndTwoMethods) {
  std::vector<VerifiedMethod> sms = {{Method::kSms, 1}};
  std::vector<VerifiedMethod> sms_totp = {{Method::kSms, 1}, {Method::kTotp, 2}};
  std::vector<VerifiedMethod> passkey = {{Method::kPasskey, 1}};
  EXPECT_TRUE(MeetsAcr(sms, "urn:troad:loa:1"));
  EXPECT_FALSE(MeetsAcr(sms, "urn:troad:loa:2"));
  EXPECT_FALSE(MeetsAcr(sms, "urn:troad:mfa"));
  EXPECT_TRUE(MeetsAcr(sms_totp, "urn:troad:mfa"));
  EXPECT_TRUE(MeetsAcr(sms_totp, "urn:troad:loa:2"));
  EXPECT_FALSE(MeetsAcr({{Method::kSms, 1}, {Method::kSms, 2}}, "urn:troad:mfa"))
      << "the same method twice is not two methods";
  EXPECT_EQ(AcrMet(passkey, {}), "urn:troad:loa:3");
  EXPECT_EQ(AcrMet(sms_totp, {}), "urn:troad:mfa");
  // The first acceptable value the relying party listed that is met.
  EXPECT_EQ(AcrMet(sms_totp, {"urn:troad:loa:3", "urn:troad:loa:2"}), "urn:troad:loa:2");
  EXPECT_FALSE(AcrMet(sms, {"urn:troad:loa:3"}));
  EXPECT_EQ(AmrOf(sms_totp), (std::vector<std::string>{"sms", "otp", "mfa"}));
  EXPECT_EQ(AmrOf(passkey), (std::vector<std::string>{"hwk", "user"}));
  EXPECT_FALSE(ValidateAcr("urn:troad:loa:4"));
}

Client TestClient() {
  Client c;
  c.id = "rp1";
  c.name = "RP";
  c.redirect_uris = {"https://svc.example.tw/cb"};
  return c;
}

http::Form Query(const std::string& text) { return *http::ParseForm(text); }

TEST(AuthorizationRequestTest, AGoodRequestIsRead) {
  auto r = ValidateAuthorizationRequest(
      Query(std::string("client_id=rp1&redirect_uri=https%3A%2F%2Fsvc.example.tw%2Fcb&response_"
                        "type=code&scope=openid+profile&state=s&nonce=n&code_challenge=") +
            kChallenge + "&code_challenge_method=S256&max_age=300&acr_values=urn:troad:mfa"),
      TestClient());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->max_age_s, 300);
  EXPECT_EQ(r->acr_values, std::vector<std::string>{"urn:troad:mfa"});
  EXPECT_TRUE(r->HasScope("profile"));
  auto round = AuthorizationRequest::FromJson(r->ToJson());
  ASSERT_TRUE(round);
  EXPECT_EQ(round->code_challenge, kChallenge);
}

TEST(AuthorizationRequestTest, UntrustedRedirectsAreShownTrustedOnesGoBack) {
  std::string base =
      "client_id=rp1&response_type=code&scope=openid&code_challenge=" + std::string(kChallenge) +
      "&code_challenge_method=S256";
  auto bad_redirect = ValidateAuthorizationRequest(
      Query(base + "&redirect_uri=https%3A%2F%2Fsvc.example.tw%2Fcb%2Fextra"), TestClient());
  ASSERT_FALSE(bad_redirect);
  EXPECT_FALSE(bad_redirect.error().redirect) << "a near-miss redirect URI is not followed";
  auto unknown = ValidateAuthorizationRequest(Query(base), std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_FALSE(unknown.error().redirect);
  std::string good = base + "&redirect_uri=https%3A%2F%2Fsvc.example.tw%2Fcb";
  auto plain = ValidateAuthorizationRequest(
      Query("client_id=rp1&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fsvc."
            "example.tw%2Fcb&code_challenge=" +
            std::string(kChallenge) + "&code_challenge_method=plain"),
      TestClient());
  ASSERT_FALSE(plain);
  EXPECT_TRUE(plain.error().redirect);
  EXPECT_EQ(plain.error().error, "invalid_request");
  auto token = ValidateAuthorizationRequest(
      Query("client_id=rp1&response_type=token&scope=openid&redirect_uri=https%3A%2F%2Fsvc."
            "example.tw%2Fcb"),
      TestClient());
  EXPECT_EQ(token.error().error, "unsupported_response_type");
  auto national = ValidateAuthorizationRequest(
      Query(good.substr(0, good.find("scope=")) + "scope=openid+national_id" +
            good.substr(good.find("&code_challenge="))),
      TestClient());
  ASSERT_FALSE(national);
  EXPECT_EQ(national.error().error, "invalid_scope");
  auto acr = ValidateAuthorizationRequest(Query(good + "&acr_values=urn:other"), TestClient());
  ASSERT_FALSE(acr);
  EXPECT_NE(acr.error().description.find("unknown acr value"), std::string::npos);
}

TEST(PkceTest, Rfc7636AppendixB) {
  EXPECT_TRUE(VerifyPkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", kChallenge));
  auto wrong = VerifyPkce(std::string(43, 'a'), kChallenge);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(VerifyPkce("short", kChallenge).error().code(), ErrorCode::kInvalidArgument);
}

TEST(SubjectTest, PairwiseSubjectsDifferPerClientAndAreStable) {
  Client a = TestClient();
  Client b = TestClient();
  b.id = "rp2";
  EXPECT_NE(SubjectFor(a, "person", "salt"), SubjectFor(b, "person", "salt"));
  EXPECT_EQ(SubjectFor(a, "person", "salt"), SubjectFor(a, "person", "salt"));
  a.pairwise = false;
  EXPECT_EQ(SubjectFor(a, "person", "salt"), "person");
}

TEST(NationalIdTest, TheCheckDigitIsChecked) {
  EXPECT_TRUE(ValidateNationalId("A123456789"));
  EXPECT_TRUE(ValidateNationalId("F131104093"));
  EXPECT_FALSE(ValidateNationalId("A123456788"));
  EXPECT_FALSE(ValidateNationalId("a123456789"));
  EXPECT_FALSE(ValidateNationalId("A323456789"));
  EXPECT_FALSE(ValidateNationalId("A12345678"));
  EXPECT_TRUE(ValidateMobile("0912345678"));
  EXPECT_TRUE(ValidateMobile("+886912345678"));
  EXPECT_FALSE(ValidateMobile("12345"));
}

}  // namespace
}  // namespace troad::identity
