#include "crypto/jose.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

// RFC 7515 Appendix A.3: the ES256 example, its key and its signature.
const nlohmann::json kRfc7515EcKey = {{"kty", "EC"},
                                      {"crv", "P-256"},
                                      {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                      {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
constexpr std::string_view kRfc7515EsJws =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 7638 §3.1: the example RSA key and its thumbprint.
const nlohmann::json kRfc7638RsaKey = {
    {"kty", "RSA"},
    {"n",
     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
     "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
     "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
     "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"}};
constexpr std::string_view kRfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

TEST(JoseTest, VerifiesTheRfc7515Es256Example) {
  auto key = PublicKeyFromJwk(kRfc7515EcKey);
  ASSERT_TRUE(key) << key.error().message();
  auto jws = ParseJws(kRfc7515EsJws);
  ASSERT_TRUE(jws) << jws.error().message();
  EXPECT_EQ(jws->header, nlohmann::json({{"alg", "ES256"}}));
  EXPECT_EQ(jws->payload,
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  EXPECT_TRUE(VerifyJws(*jws, *key));
  // The key exports back to the same members.
  EXPECT_EQ(PublicJwk(*key), kRfc7515EcKey);

  // One changed payload byte and the signature fails.
  std::string tampered(kRfc7515EsJws);
  tampered[25] = tampered[25] == 'A' ? 'B' : 'A';
  auto bad = ParseJws(tampered);
  ASSERT_TRUE(bad) << bad.error().message();
  auto st = VerifyJws(*bad, *key);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
}

TEST(JoseTest, ThumbprintMatchesRfc7638) {
  auto key = PublicKeyFromJwk(kRfc7638RsaKey);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(JwkThumbprint(*key), kRfc7638Thumbprint);
  nlohmann::json expected = kRfc7638RsaKey;
  expected.erase("alg");
  expected.erase("kid");
  EXPECT_EQ(PublicJwk(*key), expected);
}

TEST(JoseTest, SignsAndVerifiesWithBothAlgorithms) {
  for (bool rsa : {false, true}) {
    auto key = rsa ? PrivateKey::GenerateRsa(2048) : PrivateKey::GenerateEcP256();
    ASSERT_TRUE(key);
    auto token = SignJws(*key, {{"kid", "k1"}, {"typ", "JWT"}, {"alg", "none"}}, "{\"sub\":\"x\"}");
    ASSERT_TRUE(token) << token.error().message();
    auto jws = ParseJws(*token);
    ASSERT_TRUE(jws) << jws.error().message();
    EXPECT_EQ(jws->header["alg"], rsa ? "RS256" : "ES256");  // the key's, not the caller's
    EXPECT_EQ(jws->header["kid"], "k1");
    EXPECT_EQ(jws->signature.size(), rsa ? 256u : 64u);
    EXPECT_TRUE(VerifyJws(*jws, key->Public()));
    // Round trip of the public key through its JWK, and the thumbprint is stable.
    auto back = PublicKeyFromJwk(PublicJwk(key->Public()));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->ToDer(), key->Public().ToDer());
    EXPECT_EQ(JwkThumbprint(*back), JwkThumbprint(key->Public()));
    // Another key of the same kind does not verify it.
    auto other = rsa ? PrivateKey::GenerateRsa(2048) : PrivateKey::GenerateEcP256();
    ASSERT_TRUE(other);
    auto st = VerifyJws(*jws, other->Public());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  }
}

// The outside verifier: openssl checks our ES256 signature once it is DER again.
TEST(JoseTest, OpensslVerifiesAnEs256Signature) {
  auto key = PrivateKey::GenerateEcP256();
  ASSERT_TRUE(key);
  auto token = SignJws(*key, {}, "payload for openssl");
  ASSERT_TRUE(token);
  auto jws = ParseJws(*token);
  ASSERT_TRUE(jws);
  auto der = EcdsaRawToDer(jws->signature);
  ASSERT_TRUE(der) << der.error().message();
  TROAD_REQUIRE_OPENSSL_CLI();
  testutil::TempDir dir;
  testutil::WriteFile(dir.File("pub.pem"), key->Public().ToPem());
  testutil::WriteFile(dir.File("sig.der"), *der);
  testutil::WriteFile(dir.File("data"), jws->signing_input);
  auto run =
      testutil::RunCommand(dir, "openssl dgst -sha256 -verify " + dir.File("pub.pem") +
                                    " -signature " + dir.File("sig.der") + " " + dir.File("data"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Verified OK"), std::string::npos) << run.output;
}

TEST(JoseTest, RefusesAlgorithmsOtherThanTheKeys) {
  auto ec = PrivateKey::GenerateEcP256();
  ASSERT_TRUE(ec);
  auto token = SignJws(*ec, {}, "x");
  ASSERT_TRUE(token);
  const std::string rest = token->substr(token->find('.'));
  for (const char* alg : {"none", "HS256", "RS256", "ES384", "es256"}) {
    const std::string forged = Base64UrlEncode(nlohmann::json({{"alg", alg}}).dump()) + rest;
    auto jws = ParseJws(forged);
    ASSERT_TRUE(jws) << alg;
    auto st = VerifyJws(*jws, ec->Public());
    ASSERT_FALSE(st) << alg;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << alg;
    EXPECT_NE(st.error().message().find(alg), std::string::npos) << st.error().message();
  }
}

TEST(JoseTest, RefusesMalformedTokens) {
  const std::string h = Base64UrlEncode(std::string_view("{\"alg\":\"ES256\"}"));
  const std::string p = Base64UrlEncode(std::string_view("{}"));
  struct Case {
    std::string token;
    std::string_view says;
  };
  const Case cases[] = {
      {"", "three base64url parts"},
      {h + "." + p, "three base64url parts"},
      {h + "." + p + ".AA.AA", "three base64url parts"},
      {h + "." + p + ".A+/", "signature is not base64url"},
      {"e30=." + p + ".AA", "header is not base64url"},
      {Base64UrlEncode(std::string_view("[1]")) + "." + p + ".AA", "not a JSON object"},
      {Base64UrlEncode(std::string_view("{\"alg\":1}")) + "." + p + ".AA", "no string \"alg\""},
      {Base64UrlEncode(std::string_view("{\"alg\":\"ES256\",\"crit\":[\"b64\"]}")) + "." + p +
           ".AA",
       "crit"},
      {Base64UrlEncode(std::string_view("{\"alg\":")) + "." + p + ".AA", "JWS header"},
      {std::string(kMaxJwsBytes + 1, 'A'), "more than"},
  };
  for (const Case& c : cases) {
    auto jws = ParseJws(c.token);
    ASSERT_FALSE(jws) << c.token.substr(0, 80);
    EXPECT_EQ(jws.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(jws.error().message().find(c.says), std::string::npos)
        << jws.error().message() << " (wanted: " << c.says << ")";
  }
  // A well-formed token whose ES256 signature is not 64 bytes.
  auto key = PrivateKey::GenerateEcP256();
  ASSERT_TRUE(key);
  auto jws = ParseJws(h + "." + p + ".AAAA");
  ASSERT_TRUE(jws);
  auto st = VerifyJws(*jws, key->Public());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("exactly 64"), std::string::npos) << st.error().message();
}

TEST(JoseTest, RefusesBadKeys) {
  auto with = [](nlohmann::json j, const char* name, nlohmann::json value) {
    j[name] = std::move(value);
    return j;
  };
  auto without = [](nlohmann::json j, const char* name) {
    j.erase(name);
    return j;
  };
  struct Case {
    nlohmann::json jwk;
    std::string_view says;
  };
  const Case cases[] = {
      {nlohmann::json::array(), "not a JSON object"},
      {with(kRfc7515EcKey, "d", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"),
       "private member \"d\""},
      {with(kRfc7515EcKey, "kty", "OKP"), "key type \"OKP\""},
      {with(kRfc7515EcKey, "crv", "P-384"), "curve \"P-384\""},
      {without(kRfc7515EcKey, "y"), "\"y\" is missing"},
      {with(kRfc7515EcKey, "x", 5), "\"x\" is not a string"},
      {with(kRfc7515EcKey, "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvR"), "32 bytes"},
      {with(kRfc7515EcKey, "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU="), "base64url"},
      // x changed: the point is no longer on the curve.
      {with(kRfc7515EcKey, "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEQ"), "P-256 public key"},
      {with(kRfc7515EcKey, "use", "enc"), "\"use\""},
      {with(kRfc7515EcKey, "alg", "RS256"), "\"alg\""},
      {with(kRfc7638RsaKey, "n", "AQAB"), "RSA"},  // a 17-bit modulus: weak
      {with(kRfc7638RsaKey, "e", "AAEAAQ"), "leading zero"},
  };
  for (const Case& c : cases) {
    auto key = PublicKeyFromJwk(c.jwk);
    ASSERT_FALSE(key) << c.jwk.dump();
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(key.error().message().find(c.says), std::string::npos)
        << key.error().message() << " (wanted: " << c.says << ")";
  }
}

}  // namespace
}  // namespace troad::crypto
