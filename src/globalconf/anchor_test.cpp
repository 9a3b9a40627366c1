// The configuration anchor: what WriteAnchor writes ParseAnchor reads back, and every
// field is checked with an error that names it.
#include "globalconf/anchor.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "globalconf/signed.h"

namespace troad::globalconf {
namespace {

using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;
using json = nlohmann::json;

const SystemTime kGenerated = *ParseRfc3339("2026-11-24T10:00:00Z");

class AnchorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FakeClock clock(kGenerated);
    ca_key_ = new crypto::PrivateKey(*crypto::PrivateKey::GenerateEcP256());
    crypto::CertificateRequest req;
    req.common_name = "TW network CA";
    ca_ = new crypto::Certificate(*crypto::CreateSelfSignedCa(*ca_key_, req, clock));
    key1_ = new crypto::PrivateKey(*crypto::PrivateKey::GenerateEcP256());
    key2_ = new crypto::PrivateKey(*crypto::PrivateKey::GenerateRsa(2048));
  }
  static void TearDownTestSuite() {
    delete ca_key_;
    delete ca_;
    delete key1_;
    delete key2_;
  }

  static Anchor Sample() {
    return Anchor{
        "TW", "https://127.0.0.1:4400", {key1_->Public(), key2_->Public()}, *ca_, kGenerated};
  }
  static json SampleJson() { return json::parse(WriteAnchor(Sample())); }

  static void ExpectRefusedText(const std::string& text, std::string_view needle) {
    auto anchor = ParseAnchor(text);
    ASSERT_FALSE(anchor) << "accepted: " << text;
    EXPECT_EQ(anchor.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(anchor.error().message().find(needle), std::string::npos)
        << "message does not contain \"" << needle << "\": " << anchor.error().message();
  }
  static void ExpectRefused(const json& doc, std::string_view needle) {
    ExpectRefusedText(doc.dump(), needle);
  }
  static json With(const char* key, json value) {
    json doc = SampleJson();
    doc[key] = std::move(value);
    return doc;
  }
  static json Without(const char* key) {
    json doc = SampleJson();
    doc.erase(key);
    return doc;
  }

  static crypto::PrivateKey* ca_key_;
  static crypto::Certificate* ca_;
  static crypto::PrivateKey* key1_;
  static crypto::PrivateKey* key2_;
};

crypto::PrivateKey* AnchorTest::ca_key_ = nullptr;
crypto::Certificate* AnchorTest::ca_ = nullptr;
crypto::PrivateKey* AnchorTest::key1_ = nullptr;
crypto::PrivateKey* AnchorTest::key2_ = nullptr;

TEST_F(AnchorTest, WrittenAnchorParsesBackEqual) {
  const std::string text = WriteAnchor(Sample());
  EXPECT_EQ(text.back(), '\n');
  auto anchor = ParseAnchor(text);
  ASSERT_TRUE(anchor) << anchor.error().ToString();
  EXPECT_EQ(anchor->instance, "TW");
  EXPECT_EQ(anchor->central_url, "https://127.0.0.1:4400");
  ASSERT_EQ(anchor->configuration_keys.size(), 2u);  // a key rollover: both trusted
  EXPECT_EQ(KeyId(anchor->configuration_keys[0]), KeyId(key1_->Public()));
  EXPECT_EQ(KeyId(anchor->configuration_keys[1]), KeyId(key2_->Public()));
  EXPECT_EQ(anchor->ca_certificate.Sha256Fingerprint(), ca_->Sha256Fingerprint());
  EXPECT_EQ(anchor->generated_at, kGenerated);
  EXPECT_EQ(WriteAnchor(*anchor), text);

  // The documented shape, field by field and in order.
  auto doc = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (auto it = doc.begin(); it != doc.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"format", "instance", "central_url", "configuration_keys",
                                      "ca_certificate", "generated_at"}));
  EXPECT_EQ(doc["format"], "troad-anchor/1");
  EXPECT_EQ(doc["configuration_keys"][0], key1_->Public().ToPem());
  EXPECT_EQ(doc["ca_certificate"], ca_->ToPem());
  EXPECT_EQ(doc["generated_at"], "2026-11-24T10:00:00.000Z");
}

TEST_F(AnchorTest, UnknownFieldsAreIgnored) {
  json doc = SampleJson();
  doc["comment"] = "from a later minor version";
  EXPECT_TRUE(ParseAnchor(doc.dump()));
}

TEST_F(AnchorTest, EveryFieldIsRequired) {
  for (const char* field : {"format", "instance", "central_url", "configuration_keys",
                            "ca_certificate", "generated_at"}) {
    SCOPED_TRACE(field);
    ExpectRefused(Without(field), std::string("anchor: ") + field + ": is required");
    ExpectRefused(With(field, nullptr), std::string(field) + ": is required");
  }
  ExpectRefused(With("instance", ""), "instance: must not be empty");
}

TEST_F(AnchorTest, RefusesWrongTypesNamingTheField) {
  ExpectRefused(With("instance", 7), "instance: expected a string");
  ExpectRefused(With("configuration_keys", key1_->Public().ToPem()),
                "configuration_keys: expected an array");
  ExpectRefused(With("configuration_keys", json::array({key1_->Public().ToPem(), 3})),
                "configuration_keys[1]: expected a string");
  ExpectRefused(With("generated_at", 1764000000), "generated_at: expected a string");
  ExpectRefusedText("[]", "anchor: expected an object");
  ExpectRefusedText("not json", "anchor: malformed JSON");
  ExpectRefusedText(std::string(kMaxAnchorBytes + 1, ' '), "more than");
}

TEST_F(AnchorTest, RefusesBadValuesNamingTheField) {
  ExpectRefused(With("format", "troad-anchor/2"), "format: \"troad-anchor/2\" is not");
  ExpectRefused(With("instance", "T/W"), "instance");
  ExpectRefused(With("generated_at", "yesterday"), "generated_at");
  ExpectRefused(With("configuration_keys", json::array()),
                "configuration_keys: must list at least one key");
  ExpectRefused(With("configuration_keys", json::array({"-----BEGIN PUBLIC KEY-----\nAAAA"})),
                "configuration_keys[0]");
  ExpectRefused(
      With("configuration_keys", json::array({key1_->Public().ToPem(), key1_->Public().ToPem()})),
      "configuration_keys[1]: the same key is listed twice");
  json many = json::array();
  for (size_t i = 0; i <= kMaxConfigurationKeys; ++i) many.push_back(key1_->Public().ToPem());
  ExpectRefused(With("configuration_keys", many), "configuration_keys: 17 keys, at most 16");
  ExpectRefused(With("ca_certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"), "ca_certificate");
  ExpectRefused(With("ca_certificate", key1_->Public().ToPem()), "ca_certificate");
}

TEST_F(AnchorTest, RefusesWeakConfigurationKeys) {
  // A P-384 key: troad signs and trusts P-256 (or RSA) only.
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  ASSERT_NE(p384, nullptr);
  const std::string pem = crypto::PublicKey::FromNative(p384).ToPem();
  EVP_PKEY_free(p384);
  ExpectRefused(With("configuration_keys", json::array({key1_->Public().ToPem(), pem})),
                "configuration_keys[1]");
}

TEST_F(AnchorTest, RefusesACaCertificateThatIsNotACa) {
  FakeClock clock(kGenerated);
  auto leaf_key = crypto::PrivateKey::GenerateEcP256();
  crypto::CertificateRequest req;
  req.common_name = "central";
  req.ip_addresses = {"127.0.0.1"};
  auto leaf = crypto::IssueCertificate(*ca_, *ca_key_, leaf_key->Public(), req, clock);
  ASSERT_TRUE(leaf) << leaf.error().ToString();
  ExpectRefused(With("ca_certificate", leaf->ToPem()), "is not a CA certificate");
}

TEST_F(AnchorTest, CentralUrlMustBeHttpsWithoutQuery) {
  for (const char* bad :
       {"http://127.0.0.1:4400", "127.0.0.1:4400", "https://", "https://:4400",
        "https://127.0.0.1:0", "https://127.0.0.1:65536", "https://127.0.0.1:44a0",
        "https://user@127.0.0.1", "https://127.0.0.1/x?y=1", "https://127.0.0.1/#frag",
        "https://[::1", "https://[zz]:4400", "https://exa mple.org", "https://127.0.0.1:4400x"}) {
    SCOPED_TRACE(bad);
    ExpectRefused(With("central_url", bad), "central_url");
  }
}

TEST_F(AnchorTest, CentralUrlIsNormalized) {
  EXPECT_EQ(*NormalizeCentralUrl("https://central.example.tw/"), "https://central.example.tw");
  EXPECT_EQ(*NormalizeCentralUrl("HTTPS://central.example.tw:8443/troad/"),
            "https://central.example.tw:8443/troad");
  EXPECT_EQ(*NormalizeCentralUrl("https://[::1]:4400"), "https://[::1]:4400");
  auto anchor = ParseAnchor(With("central_url", "https://127.0.0.1:4400/").dump());
  ASSERT_TRUE(anchor) << anchor.error().ToString();
  EXPECT_EQ(anchor->central_url, "https://127.0.0.1:4400");
}

TEST_F(AnchorTest, LoadAnchorFileNamesThePath) {
  TempDir dir;
  auto missing = LoadAnchorFile(dir.File("anchor.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find(dir.File("anchor.json")), std::string::npos);

  WriteFile(dir.File("anchor.json"), With("format", "x").dump());
  auto bad = LoadAnchorFile(dir.File("anchor.json"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind(dir.File("anchor.json") + ": anchor: format", 0), 0u)
      << bad.error().message();

  WriteFile(dir.File("anchor.json"), WriteAnchor(Sample()));
  auto good = LoadAnchorFile(dir.File("anchor.json"));
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(good->instance, "TW");
}

}  // namespace
}  // namespace troad::globalconf
