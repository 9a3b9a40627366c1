// Provider end to end, without sockets: a browser (cookie jar, forms read from the
// HTML) and a relying party drive sign-ins through Handle, with a fake clock and a
// file SMS sender; ID tokens are checked with the published JWKS.
#include "identity/provider.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "crypto/ca.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/test_util.h"
#include "identity/citizen_cert.h"
#include "identity/dual_document.h"
#include "identity/schema.h"
#include "store/migrate.h"

namespace troad::identity {
namespace {

using crypto::testutil::TempDir;

constexpr char kIssuer[] = "http://localhost:4600";
constexpr char kRedirect[] = "http://localhost:3000/cb";
constexpr char kVerifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";  // RFC 7636 App. B
constexpr char kChallenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr char kNationalId[] = "A123456789";
constexpr char kManagementToken[] = "management-token-for-tests";

// The value of a hidden or named input in an HTML page.
std::string InputValue(const std::string& html, const std::string& name) {
  std::smatch m;
  std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(html, m, re) ? m[1].str() : "";
}

std::string QueryParam(std::string_view url, std::string_view name) {
  auto form = http::ParseForm(http::QueryOf(url));
  return form ? form->Value(name) : "";
}

class ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::OpenSqlite(dir_.File("idp.db"));
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(*db_, IdentityMigrations(), clock_));
    SmsOptions sms_options;
    sms_options.target = "file:" + dir_.File("sms.jsonl");
    auto sms = MakeSmsSender(sms_options, clock_);
    ASSERT_TRUE(sms);
    sms_ = std::move(*sms);
    ProviderOptions o;
    o.issuer = kIssuer;
    o.rp_id = "localhost";
    o.subject_salt = "salt-salt-salt-salt-salt-salt-salt";
    o.management_token_sha256 = crypto::Sha256Hex(kManagementToken);
    provider_ = std::make_unique<Provider>(*db_, clock_, o, *sms_, nullptr);
    ASSERT_TRUE(provider_->keys().EnsureCurrent());
    auto person = provider_->accounts().AddPerson(kNationalId, "測試者", "0912345678");
    ASSERT_TRUE(person) << person.error().ToString();
    person_id_ = person->id;
    NewClient c;
    c.id = "rp1";
    c.name = "Test Service";
    c.redirect_uris = {kRedirect};
    c.national_id_allowed = true;
    auto secret = provider_->clients().Add(c);
    ASSERT_TRUE(secret);
    secret_ = *secret;
  }

  http::Response Send(http::bhttp::verb verb, const std::string& target, std::string body = "",
                      std::string content_type = "application/x-www-form-urlencoded",
                      std::string authorization = "") {
    http::Request req(verb, target, 11);
    if (!cookie_.empty()) req.set(http::bhttp::field::cookie, "troad_idp=" + cookie_);
    if (!body.empty() || verb == http::bhttp::verb::post) {
      req.set(http::bhttp::field::content_type, content_type);
      req.body() = std::move(body);
    }
    if (!authorization.empty()) req.set(http::bhttp::field::authorization, authorization);
    auto res = provider_->Handle(req, "127.0.0.1");
    for (const auto& field : res) {
      if (field.name() != http::bhttp::field::set_cookie) continue;
      std::string v(field.value());
      if (v.starts_with("troad_idp=")) cookie_ = v.substr(10, v.find(';') - 10);
    }
    return res;
  }

  std::string AuthorizeUrl(const std::string& extra = "") {
    return "/authorize?client_id=rp1&redirect_uri=" + PercentEncode(kRedirect) +
           "&response_type=code&scope=openid%20profile%20national_id&state=st-1&nonce=n-1"
           "&code_challenge=" +
           kChallenge + "&code_challenge_method=S256" + extra;
  }

  // Starts a sign-in; returns the sign-in page's HTML (after identifying, if asked).
  std::string Start(const std::string& extra = "", bool identify = true) {
    auto res = Send(http::bhttp::verb::get, AuthorizeUrl(extra));
    EXPECT_EQ(res.result_int(), 303u);
    std::string location(res[http::bhttp::field::location]);
    EXPECT_TRUE(location.starts_with("/signin?r=")) << location;
    request_id_ = QueryParam(location, "r");
    auto page = Send(http::bhttp::verb::get, location);
    EXPECT_EQ(page.result_int(), 200u);
    csrf_ = InputValue(page.body(), "csrf");
    EXPECT_FALSE(csrf_.empty());
    if (!identify) return page.body();
    return Post("/signin/identify", {{"national_id", kNationalId}}).body();
  }

  // The request Post sends, for tests that Serve it step by step.
  http::Request PostRequest(const std::string& path,
                            std::vector<std::pair<std::string, std::string>> fields) {
    http::Request req(http::bhttp::verb::post, path, 11);
    req.set(http::bhttp::field::cookie, "troad_idp=" + cookie_);
    req.set(http::bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = http::FormPair("csrf", csrf_) + "&" + http::FormPair("r", request_id_);
    for (const auto& [k, v] : fields) req.body() += "&" + http::FormPair(k, v);
    return req;
  }

  http::Response Post(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> fields) {
    std::string body = http::FormPair("csrf", csrf_) + "&" + http::FormPair("r", request_id_);
    for (const auto& [k, v] : fields) body += "&" + http::FormPair(k, v);
    return Send(http::bhttp::verb::post, path, body);
  }

  std::string LastSmsCode() {
    std::ifstream in(dir_.File("sms.jsonl"));
    std::string line;
    std::string last;
    while (std::getline(in, line)) last = line;
    auto json = ParseJson(last, "sms");
    if (!json) return "";
    std::smatch m;
    std::string text = (*json)["text"].get<std::string>();
    std::regex re("([0-9]{6})");
    return std::regex_search(text, m, re) ? m[1].str() : "";
  }

  // Signs in by SMS; returns the redirect to the relying party.
  std::string SignInBySms(const std::string& extra = "") {
    Start(extra);
    EXPECT_EQ(Post("/signin/sms/send", {}).result_int(), 200u);
    auto res = Post("/signin/sms/verify", {{"code", LastSmsCode()}});
    EXPECT_EQ(res.result_int(), 303u) << res.body();
    return std::string(res[http::bhttp::field::location]);
  }

  http::Response Redeem(const std::string& code, const std::string& verifier = kVerifier) {
    std::string basic = "Basic " + Base64Encode("rp1:" + secret_);
    std::string body = "grant_type=authorization_code&code=" + PercentEncode(code) +
                       "&redirect_uri=" + PercentEncode(kRedirect) + "&code_verifier=" + verifier;
    return Send(http::bhttp::verb::post, "/token", body, "application/x-www-form-urlencoded",
                basic);
  }

  // Verifies an ID token against the JWKS the provider publishes; returns its claims.
  nlohmann::json VerifiedClaims(const std::string& id_token) {
    auto jws = crypto::ParseJws(id_token);
    EXPECT_TRUE(jws);
    auto jwks = ParseJson(Send(http::bhttp::verb::get, "/jwks").body(), "jwks");
    EXPECT_TRUE(jwks);
    for (const auto& jwk : (*jwks)["keys"]) {
      if (jwk["kid"] != jws->header["kid"]) continue;
      auto key = crypto::PublicKeyFromJwk(jwk);
      EXPECT_TRUE(key);
      EXPECT_TRUE(crypto::VerifyJws(*jws, *key));
      return nlohmann::json::parse(jws->payload);
    }
    ADD_FAILURE() << "no JWKS key with the token's kid";
    return {};
  }

  std::vector<nlohmann::json> Audit() {
    auto res = Send(http::bhttp::verb::get, "/api/v1/audit", "", "",
                    std::string("Bearer ") + kManagementToken);
    auto json = ParseJson(res.body(), "audit");
    std::vector<nlohmann::json> out;
    if (json) {
      for (const auto& e : (*json)["entries"]) out.push_back(e);
    }
    return out;
  }

  bool AuditHas(std::string_view outcome, std::string_view reason_fragment) {
    for (const auto& e : Audit()) {
      if (e["outcome"] == outcome &&
          e["reason"].get<std::string>().find(reason_fragment) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  TempDir dir_;
  FakeClock clock_{FromUnixMillis(1'790'000'000'000)};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<SmsSender> sms_;
  std::unique_ptr<Provider> provider_;
  std::string person_id_;
  std::string secret_;
  std::string cookie_;
  std::string csrf_;
  std::string request_id_;
};

TEST_F(ProviderTest, DiscoveryAndJwksDescribeTheProvider) {
  auto res = Send(http::bhttp::verb::get, "/.well-known/openid-configuration");
  ASSERT_EQ(res.result_int(), 200u);
  auto doc = nlohmann::json::parse(res.body());
  EXPECT_EQ(doc["issuer"], kIssuer);
  EXPECT_EQ(doc["token_endpoint"], std::string(kIssuer) + "/token");
  EXPECT_EQ(doc["code_challenge_methods_supported"], nlohmann::json({"S256"}));
  auto jwks = nlohmann::json::parse(Send(http::bhttp::verb::get, "/jwks").body());
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["alg"], "ES256");
  EXPECT_FALSE(jwks["keys"][0].contains("d"));
}

TEST_F(ProviderTest, SmsSignInGivesAVerifiableIdTokenAndUserInfo) {
  std::string back = SignInBySms();
  ASSERT_TRUE(back.starts_with(std::string(kRedirect) + "?code=")) << back;
  EXPECT_EQ(QueryParam(back, "state"), "st-1");
  EXPECT_EQ(QueryParam(back, "iss"), kIssuer);
  auto res = Redeem(QueryParam(back, "code"));
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res[http::bhttp::field::cache_control], "no-store");
  auto tokens = nlohmann::json::parse(res.body());
  auto claims = VerifiedClaims(tokens["id_token"]);
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["aud"], "rp1");
  EXPECT_EQ(claims["nonce"], "n-1");
  EXPECT_EQ(claims["acr"], "urn:troad:loa:1");
  EXPECT_EQ(claims["amr"], nlohmann::json({"sms"}));
  EXPECT_EQ(claims["name"], "測試者");
  EXPECT_EQ(claims["national_id"], kNationalId);
  // Pairwise: not the person's id.
  EXPECT_NE(claims["sub"], person_id_);
  auto info = Send(http::bhttp::verb::get, "/userinfo", "", "",
                   "Bearer " + tokens["access_token"].get<std::string>());
  ASSERT_EQ(info.result_int(), 200u);
  EXPECT_EQ(nlohmann::json::parse(info.body())["sub"], claims["sub"]);
  EXPECT_TRUE(AuditHas("ok", "urn:troad:loa:1"));
}

TEST_F(ProviderTest, ACodeIsGoodOnceAndItsReuseRevokesTheTokens) {
  std::string code = QueryParam(SignInBySms(), "code");
  auto first = Redeem(code);
  ASSERT_EQ(first.result_int(), 200u);
  std::string access = nlohmann::json::parse(first.body())["access_token"];
  auto second = Redeem(code);
  EXPECT_EQ(second.result_int(), 400u);
  EXPECT_EQ(nlohmann::json::parse(second.body())["error"], "invalid_grant");
  EXPECT_EQ(Send(http::bhttp::verb::get, "/userinfo", "", "", "Bearer " + access).result_int(),
            401u);
  EXPECT_TRUE(AuditHas("refused", "already used"));
}

TEST_F(ProviderTest, AWrongPkceVerifierOrAnExpiredCodeIsRefused) {
  std::string code = QueryParam(SignInBySms(), "code");
  auto res = Redeem(code, std::string(43, 'a'));
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("code_verifier does not match"), std::string::npos);
  cookie_.clear();
  code = QueryParam(SignInBySms(), "code");
  clock_.Advance(std::chrono::seconds(61));
  res = Redeem(code);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("expired"), std::string::npos);
}

TEST_F(ProviderTest, AWrongClientSecretIsInvalidClient) {
  std::string code = QueryParam(SignInBySms(), "code");
  std::string body = "grant_type=authorization_code&code=" + code +
                     "&redirect_uri=" + PercentEncode(kRedirect) + "&code_verifier=" + kVerifier;
  auto res = Send(http::bhttp::verb::post, "/token", body, "application/x-www-form-urlencoded",
                  "Basic " + Base64Encode("rp1:wrong"));
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_EQ(nlohmann::json::parse(res.body())["error"], "invalid_client");
  EXPECT_TRUE(AuditHas("refused", "wrong client secret"));
}

TEST_F(ProviderTest, AnUnregisteredRedirectIsShownNotFollowed) {
  auto res =
      Send(http::bhttp::verb::get,
           "/authorize?client_id=rp1&redirect_uri=" + PercentEncode("https://evil.example/cb") +
               "&response_type=code&scope=openid&code_challenge=" + kChallenge +
               "&code_challenge_method=S256");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_TRUE(res[http::bhttp::field::location].empty());
  EXPECT_NE(res.body().find("redirect_uri"), std::string::npos);
}

TEST_F(ProviderTest, MissingPkceGoesBackToTheServiceAsAnError) {
  auto res = Send(http::bhttp::verb::get,
                  "/authorize?client_id=rp1&redirect_uri=" + PercentEncode(kRedirect) +
                      "&response_type=code&scope=openid&state=s");
  ASSERT_EQ(res.result_int(), 303u);
  std::string location(res[http::bhttp::field::location]);
  EXPECT_EQ(QueryParam(location, "error"), "invalid_request");
  EXPECT_EQ(QueryParam(location, "state"), "s");
}

TEST_F(ProviderTest, PromptNoneWithoutASessionIsLoginRequired) {
  auto res = Send(http::bhttp::verb::get, AuthorizeUrl("&prompt=none"));
  ASSERT_EQ(res.result_int(), 303u);
  EXPECT_EQ(QueryParam(res[http::bhttp::field::location], "error"), "login_required");
}

TEST_F(ProviderTest, ASignedInBrowserGetsACodeWithoutAPageUntilPromptLogin) {
  SignInBySms();
  auto res = Send(http::bhttp::verb::get, AuthorizeUrl("&prompt=none"));
  ASSERT_EQ(res.result_int(), 303u);
  EXPECT_FALSE(QueryParam(res[http::bhttp::field::location], "code").empty());
  res = Send(http::bhttp::verb::get, AuthorizeUrl("&prompt=login"));
  ASSERT_EQ(res.result_int(), 303u);
  EXPECT_TRUE(std::string(res[http::bhttp::field::location]).starts_with("/signin"));
  clock_.Advance(std::chrono::seconds(120));
  res = Send(http::bhttp::verb::get, AuthorizeUrl("&max_age=60"));
  EXPECT_TRUE(std::string(res[http::bhttp::field::location]).starts_with("/signin"));
}

TEST_F(ProviderTest, MfaNeedsASecondDifferentMethod) {
  ASSERT_TRUE(provider_->accounts().BeginTotp(person_id_));
  // Confirm the app with the current code (read back from the database).
  auto rows = db_->Query("SELECT secret FROM totp_credentials WHERE person = ?", {person_id_});
  ASSERT_TRUE(rows && !rows->empty());
  std::string secret = *(*rows)[0].Bytes(0);
  int64_t now_s = clock_.NowMillis() / 1000;
  ASSERT_TRUE(provider_->accounts().ConfirmTotp(person_id_, *TotpCode(secret, now_s, {})));
  Start("&acr_values=urn:troad:mfa");
  Post("/signin/sms/send", {});
  auto res = Post("/signin/sms/verify", {{"code", LastSmsCode()}});
  ASSERT_EQ(res.result_int(), 200u) << "one method must not be enough";
  EXPECT_NE(res.body().find("兩種不同的驗證方式"), std::string::npos);
  clock_.Advance(std::chrono::seconds(30));
  res = Post("/signin/totp", {{"code", *TotpCode(secret, now_s + 30, {})}});
  ASSERT_EQ(res.result_int(), 303u) << res.body();
  auto tokens =
      nlohmann::json::parse(Redeem(QueryParam(res[http::bhttp::field::location], "code")).body());
  auto claims = VerifiedClaims(tokens["id_token"]);
  EXPECT_EQ(claims["acr"], "urn:troad:mfa");
  EXPECT_EQ(claims["amr"], nlohmann::json({"sms", "otp", "mfa"}));
}

TEST_F(ProviderTest, AReusedTotpCodeIsRefusedAndAudited) {
  ASSERT_TRUE(provider_->accounts().BeginTotp(person_id_));
  auto rows = db_->Query("SELECT secret FROM totp_credentials WHERE person = ?", {person_id_});
  std::string secret = *(*rows)[0].Bytes(0);
  int64_t now_s = clock_.NowMillis() / 1000;
  ASSERT_TRUE(provider_->accounts().ConfirmTotp(person_id_, *TotpCode(secret, now_s - 30, {})));
  std::string code = *TotpCode(secret, now_s, {});
  Start("&acr_values=urn:troad:loa:2");
  ASSERT_EQ(Post("/signin/totp", {{"code", code}}).result_int(), 303u);
  cookie_.clear();
  Start("&acr_values=urn:troad:loa:2");
  auto res = Post("/signin/totp", {{"code", code}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("已使用過"), std::string::npos);
  EXPECT_TRUE(AuditHas("refused", "TOTP code reused"));
}

TEST_F(ProviderTest, RepeatedWrongCodesLockTheAccount) {
  Start();
  Post("/signin/sms/send", {});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Post("/signin/sms/verify", {{"code", "000000"}}).result_int(), 400u);
  }
  // Locked: even the right code is not checked now.
  auto res = Post("/signin/totp", {{"code", "123456"}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("失敗次數過多"), std::string::npos);
  EXPECT_TRUE(AuditHas("locked", "too many failures for this account"));
  clock_.Advance(std::chrono::minutes(16));
  Post("/signin/sms/send", {});
  res = Post("/signin/sms/verify", {{"code", LastSmsCode()}});
  EXPECT_EQ(res.result_int(), 303u) << "the lock lifts when the failures age out";
}

TEST_F(ProviderTest, AnExpiredSmsCodeIsRefused) {
  Start();
  Post("/signin/sms/send", {});
  clock_.Advance(std::chrono::seconds(301));
  auto res = Post("/signin/sms/verify", {{"code", LastSmsCode()}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_TRUE(AuditHas("refused", "SMS code expired"));
}

TEST_F(ProviderTest, AFormWithoutTheCsrfTokenIsRefused) {
  Start("", false);
  std::string good = csrf_;
  csrf_ = "forged";
  auto res = Post("/signin/identify", {{"national_id", kNationalId}});
  EXPECT_EQ(res.result_int(), 403u);
  EXPECT_TRUE(AuditHas("refused", "CSRF"));
  csrf_ = good;
  EXPECT_EQ(Post("/signin/identify", {{"national_id", kNationalId}}).result_int(), 200u);
}

TEST_F(ProviderTest, AnInvalidNationalIdIsExplained) {
  Start("", false);
  auto res = Post("/signin/identify", {{"national_id", "A123456788"}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("check digit"), std::string::npos);
  EXPECT_NE(res.body().find("role=\"alert\""), std::string::npos);
}

TEST_F(ProviderTest, PrivateKeyJwtClientsAuthenticateOnceperAssertion) {
  auto key = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(key);
  nlohmann::json jwk = crypto::PublicJwk(key->Public());
  jwk["kid"] = "k1";
  NewClient c;
  c.id = "rp-jwt";
  c.name = "JWT Service";
  c.redirect_uris = {kRedirect};
  c.auth_method = ClientAuthMethod::kPrivateKeyJwt;
  c.jwks = {{"keys", {jwk}}};
  ASSERT_TRUE(provider_->clients().Add(c));
  auto res = Send(http::bhttp::verb::get,
                  "/authorize?client_id=rp-jwt&redirect_uri=" + PercentEncode(kRedirect) +
                      "&response_type=code&scope=openid&code_challenge=" + kChallenge +
                      "&code_challenge_method=S256");
  request_id_ = QueryParam(res[http::bhttp::field::location], "r");
  csrf_ = InputValue(
      Send(http::bhttp::verb::get, std::string(res[http::bhttp::field::location])).body(), "csrf");
  Post("/signin/identify", {{"national_id", kNationalId}});
  Post("/signin/sms/send", {});
  res = Post("/signin/sms/verify", {{"code", LastSmsCode()}});
  std::string code = QueryParam(res[http::bhttp::field::location], "code");
  int64_t now_s = clock_.NowMillis() / 1000;
  auto assertion = crypto::SignJws(*key, {{"kid", "k1"}},
                                   nlohmann::json{{"iss", "rp-jwt"},
                                                  {"sub", "rp-jwt"},
                                                  {"aud", std::string(kIssuer) + "/token"},
                                                  {"jti", "j-1"},
                                                  {"exp", now_s + 60}}
                                       .dump());
  ASSERT_TRUE(assertion);
  std::string body = "grant_type=authorization_code&code=" + code +
                     "&redirect_uri=" + PercentEncode(kRedirect) + "&code_verifier=" + kVerifier +
                     "&client_assertion_type=" +
                     PercentEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                     "&client_assertion=" + *assertion;
  res = Send(http::bhttp::verb::post, "/token", body);
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(VerifiedClaims(nlohmann::json::parse(res.body())["id_token"])["aud"], "rp-jwt");
  // The same assertion again (a replay) is refused before the code is looked at.
  res = Send(http::bhttp::verb::post, "/token", body);
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_TRUE(AuditHas("refused", "jti was already used"));
}

TEST_F(ProviderTest, RotatedKeysStayPublishedForTheRetention) {
  auto before = nlohmann::json::parse(Send(http::bhttp::verb::get, "/jwks").body());
  auto res = Send(http::bhttp::verb::post, "/api/v1/keys/rotate", "{}", "application/json",
                  std::string("Bearer ") + kManagementToken);
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  auto after = nlohmann::json::parse(Send(http::bhttp::verb::get, "/jwks").body());
  ASSERT_EQ(after["keys"].size(), 2u);
  EXPECT_TRUE(after["keys"][0]["kid"] == before["keys"][0]["kid"] ||
              after["keys"][1]["kid"] == before["keys"][0]["kid"]);
  // New tokens are signed with the new key.
  std::string code = QueryParam(SignInBySms(), "code");
  auto token =
      crypto::ParseJws(nlohmann::json::parse(Redeem(code).body())["id_token"].get<std::string>());
  ASSERT_TRUE(token);
  EXPECT_EQ(token->header["kid"], nlohmann::json::parse(res.body())["kid"]);
  clock_.Advance(std::chrono::hours(24 * 8));
  ASSERT_TRUE(provider_->keys().EnsureCurrent());
  after = nlohmann::json::parse(Send(http::bhttp::verb::get, "/jwks").body());
  EXPECT_EQ(after["keys"].size(), 1u);
}

TEST_F(ProviderTest, TheManagementApiNeedsItsToken) {
  auto res = Send(http::bhttp::verb::get, "/api/v1/clients", "", "", "Bearer wrong");
  EXPECT_EQ(res.result_int(), 401u);
  res = Send(http::bhttp::verb::post, "/api/v1/clients",
             R"({"id":"rp2","name":"Second","redirect_uris":["https://svc.example.tw/cb"]})",
             "application/json", std::string("Bearer ") + kManagementToken);
  ASSERT_EQ(res.result_int(), 201u) << res.body();
  EXPECT_FALSE(nlohmann::json::parse(res.body())["client_secret"].get<std::string>().empty());
  res = Send(http::bhttp::verb::post, "/api/v1/clients",
             R"({"id":"rp3","name":"Bad","redirect_uris":["http://evil.example/cb"]})",
             "application/json", std::string("Bearer ") + kManagementToken);
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("http:// is allowed only to localhost"), std::string::npos)
      << res.body();
}

// The citizen certificate as the card component would sign: `openssl cms -sign` of the
// challenge the page shows.
class CitizenCertificateSignInTest : public ProviderTest {
 protected:
  void SetUp() override {
    ProviderTest::SetUp();
    using crypto::CertificateRequest;
    auto root_key = crypto::PrivateKey::GenerateEcP256().value();
    CertificateRequest req;
    req.common_name = "Test Citizen CA";
    req.validity = std::chrono::hours(24 * 3650);
    auto root = crypto::CreateSelfSignedCa(root_key, req, clock_).value();
    auto leaf_key = crypto::PrivateKey::GenerateRsa(2048).value();
    req.common_name = "測試者";
    req.serial_number_attr = "TP0000000000006789";
    req.usage = crypto::CertUsage::kSigning;
    req.validity = std::chrono::hours(24 * 365);
    auto leaf = crypto::IssueCertificate(root, root_key, leaf_key.Public(), req, clock_).value();
    ASSERT_TRUE(WriteFileAtomically(dir_.File("leaf.pem"), leaf.ToPem()));
    ASSERT_TRUE(WriteFileAtomically(dir_.File("leaf.key"), leaf_key.ToPem()));
    CitizenCaConfig config;
    config.ca_certificates_pem = root.ToPem();
    verifier_ = CitizenCertVerifier::Create(config).value();
    UseProvider(std::nullopt);
  }

  void UseProvider(std::optional<OcspOptions> ocsp) {
    ProviderOptions o;
    o.issuer = kIssuer;
    o.rp_id = "localhost";
    o.subject_salt = "salt-salt-salt-salt-salt-salt-salt";
    o.management_token_sha256 = crypto::Sha256Hex(kManagementToken);
    o.citizen_ocsp = std::move(ocsp);
    provider_ = std::make_unique<Provider>(*db_, clock_, o, *sms_, verifier_.get());
  }

  static std::string Challenge(const std::string& html) {
    std::smatch m;
    std::regex re("id=\"certificate-challenge\">([^<]*)<");
    return std::regex_search(html, m, re) ? m[1].str() : "";
  }

  // The signature the card component returns for `challenge`, base64.
  std::string CardSigns(const std::string& challenge) {
    EXPECT_TRUE(crypto::testutil::HaveOpensslCli()) << "the card is played by `openssl cms`";
    EXPECT_TRUE(WriteFileAtomically(dir_.File("challenge.txt"), challenge));
    auto r = crypto::testutil::RunCommand(
        dir_, "openssl cms -sign -binary -nodetach -in " + dir_.File("challenge.txt") +
                  " -signer " + dir_.File("leaf.pem") + " -inkey " + dir_.File("leaf.key") +
                  " -outform DER -out " + dir_.File("sig.der"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return Base64Encode(ReadFile(dir_.File("sig.der")).value_or(""));
  }

  std::unique_ptr<CitizenCertVerifier> verifier_;
};

TEST_F(CitizenCertificateSignInTest, LinkedAfterAnotherMethodThenSignsInAlone) {
  // First use: not linked yet, so it cannot be the only proof.
  std::string page = Start("&acr_values=urn:troad:mfa");
  std::string challenge = Challenge(page);
  ASSERT_TRUE(challenge.starts_with("troad-idp:")) << page;
  auto res = Post("/signin/certificate", {{"signature", CardSigns(challenge)}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_TRUE(AuditHas("refused", "certificate not linked to an account yet"));
  // After an SMS code in the same session it is linked, and meets urn:troad:mfa.
  Post("/signin/sms/send", {});
  page = Post("/signin/sms/verify", {{"code", LastSmsCode()}}).body();
  challenge = Challenge(page);
  std::string signature = CardSigns(challenge);
  res = Post("/signin/certificate", {{"signature", signature}});
  ASSERT_EQ(res.result_int(), 303u) << res.body();
  auto claims = VerifiedClaims(nlohmann::json::parse(
      Redeem(QueryParam(res[http::bhttp::field::location], "code")).body())["id_token"]);
  EXPECT_EQ(claims["acr"], "urn:troad:mfa");
  EXPECT_EQ(claims["amr"], nlohmann::json({"sms", "sc", "pin", "mfa"}));
  // A new browser: the certificate alone gives level 3.
  cookie_.clear();
  page = Start("&acr_values=urn:troad:loa:3");
  // The old signature is of a spent challenge: a replay.
  res = Post("/signin/certificate", {{"signature", signature}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_TRUE(AuditHas("refused", "signed a different challenge"));
  challenge = Challenge(res.body());
  res = Post("/signin/certificate", {{"signature", CardSigns(challenge)}});
  ASSERT_EQ(res.result_int(), 303u) << res.body();
  claims = VerifiedClaims(nlohmann::json::parse(
      Redeem(QueryParam(res[http::bhttp::field::location], "code")).body())["id_token"]);
  EXPECT_EQ(claims["acr"], "urn:troad:loa:3");
}

// With OCSP on, the responder is asked between two steps (away from the database thread)
// and its answer decides; the session's challenge is spent only when it has.
TEST_F(CitizenCertificateSignInTest, WithOcspTheRespondersAnswerDecides) {
  auto closed = PickFreePort();
  ASSERT_TRUE(closed);
  OcspOptions ocsp;
  ocsp.responder_url = "http://127.0.0.1:" + std::to_string(*closed) + "/ocsp";
  ocsp.timeout = std::chrono::seconds(5);
  UseProvider(ocsp);
  Start("&acr_values=urn:troad:mfa");
  Post("/signin/sms/send", {});
  std::string page = Post("/signin/sms/verify", {{"code", LastSmsCode()}}).body();
  auto attempt = [&](const std::string& html) {
    return PostRequest("/signin/certificate", {{"signature", CardSigns(Challenge(html))}});
  };
  auto step = [&](const http::Request& req, const LookupAnswer* answer) {
    return provider_->Serve(req, "127.0.0.1", answer);
  };

  auto req = attempt(page);
  auto first = step(req, nullptr);
  ASSERT_TRUE(first.lookup.has_value()) << first.response.body();
  EXPECT_TRUE(first.lookup->key.starts_with("ocsp\n"));
  LookupAnswer revoked{
      first.lookup->key,
      nlohmann::json{{"good", false}, {"revoked", true}, {"detail", "revoked (keyCompromise)"}}};
  auto res = step(req, &revoked).response;
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("憑證已廢止"), std::string::npos);
  EXPECT_TRUE(AuditHas("refused", "revoked (OCSP): revoked (keyCompromise)"));

  // The responder cannot be reached: the real lookup says so, and the person is told
  // that revocation cannot be checked, not that the certificate is bad.
  req = attempt(res.body());
  first = step(req, nullptr);
  ASSERT_TRUE(first.lookup.has_value());
  LookupAnswer down{first.lookup->key, first.lookup->run()};
  ASSERT_FALSE(down.result.has_value());
  EXPECT_EQ(down.result.error().code(), ErrorCode::kUnavailable) << down.result.error().ToString();
  res = step(req, &down).response;
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("暫時無法確認憑證是否已廢止"), std::string::npos);
  EXPECT_TRUE(AuditHas("failed", "OCSP: "));

  req = attempt(res.body());
  first = step(req, nullptr);
  ASSERT_TRUE(first.lookup.has_value());
  LookupAnswer good{first.lookup->key,
                    nlohmann::json{{"good", true}, {"revoked", false}, {"detail", ""}}};
  res = step(req, &good).response;
  ASSERT_EQ(res.result_int(), 303u) << res.body();
  EXPECT_TRUE(AuditHas("ok", "urn:troad:mfa"));
}

TEST_F(CitizenCertificateSignInTest, GarbageIsRefusedWithAClearMessage) {
  Start();
  auto res = Post("/signin/certificate", {{"signature", "bm90IGEgc2lnbmF0dXJl"}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("無法讀取簽章"), std::string::npos);
}

// The registries' answers as the T-Road checker would compare them (the checker itself
// goes through real gateways in the demo's scenario and the browser tests).
class RegistryDouble final : public DualDocumentChecker {
 public:
  Result<RegistryPerson> Check(std::string_view national_id, std::string_view health_card,
                               std::string_view household_id) override {
    ++calls;
    if (unavailable) return Fail(ErrorCode::kUnavailable, "gateway down");
    if (national_id != "F131232289" && national_id != kNationalId) {
      return Fail(ErrorCode::kNotFound, "the household registry does not know this national id");
    }
    return CompareRegistryRecords({{"household_id", "H0000001"}, {"name", "林小安"}},
                                  {{"card_number", "000012345680"}, {"card_status", "valid"}},
                                  national_id, health_card, household_id);
  }
  int calls = 0;
  bool unavailable = false;
};

class DualDocumentSignInTest : public ProviderTest {
 protected:
  void SetUp() override {
    ProviderTest::SetUp();
    ProviderOptions o;
    o.issuer = kIssuer;
    o.rp_id = "localhost";
    o.subject_salt = "salt-salt-salt-salt-salt-salt-salt";
    o.management_token_sha256 = crypto::Sha256Hex(kManagementToken);
    provider_ = std::make_unique<Provider>(*db_, clock_, o, *sms_, nullptr, &registry_);
  }
  RegistryDouble registry_;
};

TEST_F(DualDocumentSignInTest, AFirstSignInCreatesThePersonFromTheRegistry) {
  auto res = Send(http::bhttp::verb::get, AuthorizeUrl());
  request_id_ = QueryParam(res[http::bhttp::field::location], "r");
  csrf_ = InputValue(
      Send(http::bhttp::verb::get, std::string(res[http::bhttp::field::location])).body(), "csrf");
  std::string page = Post("/signin/identify", {{"national_id", "F131232289"}}).body();
  EXPECT_NE(page.find("action=\"/signin/dual-document\""), std::string::npos);
  res = Post("/signin/dual-document",
             {{"health_card", "0000 1234 5680"}, {"household_id", "h0000001"}});
  ASSERT_EQ(res.result_int(), 303u) << res.body();
  auto claims = VerifiedClaims(nlohmann::json::parse(
      Redeem(QueryParam(res[http::bhttp::field::location], "code")).body())["id_token"]);
  EXPECT_EQ(claims["acr"], "urn:troad:loa:1");
  EXPECT_EQ(claims["amr"], nlohmann::json({"kba"}));
  EXPECT_EQ(claims["name"], "林小安");
  EXPECT_EQ(claims["national_id"], "F131232289");
  EXPECT_TRUE(provider_->accounts().FindByNationalId("F131232289"));
  EXPECT_TRUE(AuditHas("ok", "account created from the household registry"));
}

TEST_F(DualDocumentSignInTest, WrongPairsAreRefusedCountedAndAudited) {
  Start();
  auto res = Post("/signin/dual-document",
                  {{"health_card", "000012345680"}, {"household_id", "H0000002"}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("資料與戶政、健保紀錄不符"), std::string::npos);
  EXPECT_TRUE(AuditHas("refused", "household registration number does not match"));
  // A malformed number is explained and never reaches the registries.
  int calls = registry_.calls;
  res = Post("/signin/dual-document", {{"health_card", "123"}, {"household_id", "H0000001"}});
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("12 位數字"), std::string::npos);
  EXPECT_EQ(registry_.calls, calls);
  // Registries down: said so, not counted as the person's failure.
  registry_.unavailable = true;
  res = Post("/signin/dual-document",
             {{"health_card", "000012345680"}, {"household_id", "H0000001"}});
  EXPECT_NE(res.body().find("暫時無法向戶政與健保資料核對"), std::string::npos);
  EXPECT_TRUE(AuditHas("failed", "gateway down"));
  registry_.unavailable = false;
  for (int i = 0; i < 4; ++i) {
    Post("/signin/dual-document", {{"health_card", "000012345680"}, {"household_id", "H0000009"}});
  }
  res = Post("/signin/dual-document",
             {{"health_card", "000012345680"}, {"household_id", "H0000001"}});
  EXPECT_NE(res.body().find("失敗次數過多"), std::string::npos) << "five failures lock the id";
}

// The Idp runs the registry check away from its database thread: Serve's first step
// only asks for it, and the answer counts for exactly the numbers it was asked about.
TEST_F(DualDocumentSignInTest, TheRegistriesAreAskedBetweenTwoStepsAndTheAnswerIsBound) {
  Start();
  auto request = [&](const std::string& household) {
    return PostRequest("/signin/dual-document",
                       {{"health_card", "000012345680"}, {"household_id", household}});
  };
  auto audit_rows = [&] {
    return (*db_->Query("SELECT COUNT(*) FROM audit", {}))[0].Int(0).value();
  };
  int64_t audited = audit_rows();
  auto right = request("H0000001");
  auto first = provider_->Serve(right, "127.0.0.1", nullptr);
  ASSERT_TRUE(first.lookup.has_value());
  EXPECT_EQ(registry_.calls, 0) << "the first step must not call the registries";
  EXPECT_EQ(audit_rows(), audited) << "nothing is recorded before the answer";

  LookupAnswer answer{first.lookup->key, first.lookup->run()};
  EXPECT_EQ(registry_.calls, 1);
  ASSERT_TRUE(answer.result.has_value());
  // The answer about H0000001 does not sign in someone who typed H0000009.
  auto other = provider_->Serve(request("H0000009"), "127.0.0.1", &answer);
  EXPECT_FALSE(other.lookup.has_value());
  EXPECT_NE(other.response.result_int(), 303u);
  auto done = provider_->Serve(right, "127.0.0.1", &answer);
  EXPECT_FALSE(done.lookup.has_value());
  EXPECT_EQ(done.response.result_int(), 303u) << done.response.body();
  EXPECT_TRUE(std::string(done.response[http::bhttp::field::location]).starts_with(kRedirect));
}

}  // namespace
}  // namespace troad::identity
