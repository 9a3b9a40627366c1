// The signed global configuration: what a gateway accepts and refuses, and that the
// documented openssl command line verifies what the central signs.
#include "globalconf/signed.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "globalconf/test_util.h"

namespace troad::globalconf {
namespace {

using crypto::testutil::RunCommand;
using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;
using json = nlohmann::json;

const SystemTime kIssued = *ParseRfc3339("2026-01-01T00:00:00Z");
const SystemTime kDuring = *ParseRfc3339("2026-01-15T00:00:00Z");

using testing::MinimalDocument;

const crypto::PrivateKey& ConfKey() {
  static const crypto::PrivateKey key = *crypto::PrivateKey::GenerateEcP256();
  return key;
}

VerifyOptions Options(int64_t held = 0) {
  return VerifyOptions{{ConfKey().Public()}, "TW", held, kDuring};
}

void ExpectRefused(const Result<std::shared_ptr<const GlobalConf>>& r, ErrorCode code,
                   std::string_view message_part) {
  ASSERT_FALSE(r) << "accepted, expected: " << message_part;
  EXPECT_EQ(r.error().code(), code) << r.error().ToString();
  EXPECT_NE(r.error().message().find(message_part), std::string::npos) << r.error().ToString();
}

TEST(SignedGlobalConfTest, SignedDocumentVerifiesAndParses) {
  const std::string doc = MinimalDocument(7);
  auto sig = SignDocument(doc, ConfKey());
  ASSERT_TRUE(sig) << sig.error().ToString();

  auto conf = VerifySignedDocument(doc, *sig, Options());
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ((*conf)->version(), 7);
  EXPECT_EQ((*conf)->source(), doc);

  auto parsed = ParseSignatureFile(*sig);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->algorithm, "ES256");
  EXPECT_EQ(parsed->key_id, KeyId(ConfKey().Public()));
}

// The check docs/protocol.md gives to anyone holding the central's public key.
TEST(SignedGlobalConfTest, OpensslCommandLineVerifiesAsDocumented) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  const std::string doc = MinimalDocument(3);
  auto sig = SignDocument(doc, ConfKey());
  ASSERT_TRUE(sig) << sig.error().ToString();
  auto parsed = ParseSignatureFile(*sig);
  ASSERT_TRUE(parsed);
  WriteFile(dir.File("globalconf.json"), doc);
  WriteFile(dir.File("globalconf.sig.der"), parsed->signature);
  WriteFile(dir.File("conf-key.pem"), ConfKey().Public().ToPem());

  auto ok = RunCommand(dir, "openssl dgst -sha256 -verify " + dir.File("conf-key.pem") +
                                " -signature " + dir.File("globalconf.sig.der") + " " +
                                dir.File("globalconf.json"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("Verified OK"), std::string::npos) << ok.output;

  // The key id is what the documented pipeline prints for the public key.
  auto id = RunCommand(dir, "openssl pkey -pubin -in " + dir.File("conf-key.pem") +
                                " -outform DER | sha256sum");
  EXPECT_EQ(id.output.substr(0, 64), parsed->key_id);

  std::string tampered = doc;
  tampered[tampered.find("\"version\": 3")] = ' ';
  WriteFile(dir.File("globalconf.json"), tampered);
  auto bad = RunCommand(dir, "openssl dgst -sha256 -verify " + dir.File("conf-key.pem") +
                                 " -signature " + dir.File("globalconf.sig.der") + " " +
                                 dir.File("globalconf.json"));
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("Verification failure"), std::string::npos) << bad.output;
}

TEST(SignedGlobalConfTest, RsaConfigurationKeyWorksToo) {
  auto rsa = crypto::PrivateKey::GenerateRsa(2048);
  ASSERT_TRUE(rsa) << rsa.error().ToString();
  const std::string doc = MinimalDocument(1);
  auto sig = SignDocument(doc, *rsa);
  ASSERT_TRUE(sig) << sig.error().ToString();
  EXPECT_EQ(ParseSignatureFile(*sig)->algorithm, "RS256");
  auto conf = VerifySignedDocument(doc, *sig, VerifyOptions{{rsa->Public()}, "TW", 0, kDuring});
  EXPECT_TRUE(conf) << conf.error().ToString();
}

TEST(SignedGlobalConfTest, UnsignedDocumentIsRefused) {
  ExpectRefused(VerifySignedDocument(MinimalDocument(1), "", Options()), ErrorCode::kUnauthenticated,
                "unsigned");
}

TEST(SignedGlobalConfTest, KeyTheAnchorDoesNotTrustIsRefused) {
  auto other = crypto::PrivateKey::GenerateEcP256();
  const std::string doc = MinimalDocument(1);
  auto sig = SignDocument(doc, *other);
  ASSERT_TRUE(sig);
  ExpectRefused(VerifySignedDocument(doc, *sig, Options()), ErrorCode::kUnauthenticated,
                "which the anchor does not trust");
}

TEST(SignedGlobalConfTest, TamperedDocumentOrSignatureIsRefused) {
  const std::string doc = MinimalDocument(5);
  auto sig = SignDocument(doc, ConfKey());
  ASSERT_TRUE(sig);

  std::string tampered = doc;
  tampered.replace(tampered.find("內政部"), std::string("內政部").size(), "外交部");
  ExpectRefused(VerifySignedDocument(tampered, *sig, Options()), ErrorCode::kUnauthenticated,
                "does not verify");
  ExpectRefused(VerifySignedDocument(doc + " ", *sig, Options()), ErrorCode::kUnauthenticated,
                "does not verify");

  // A valid signature of another document does not carry over.
  auto other_sig = SignDocument(MinimalDocument(6), ConfKey());
  ExpectRefused(VerifySignedDocument(doc, *other_sig, Options()), ErrorCode::kUnauthenticated,
                "does not verify");
}

TEST(SignedGlobalConfTest, MalformedSignatureFilesNameTheField) {
  const std::string doc = MinimalDocument(1);
  json good = json::parse(*SignDocument(doc, ConfKey()));
  struct Case {
    std::string what;
    std::string file;
    std::string message;
  };
  auto with = [&](const char* key, json value) {
    json j = good;
    j[key] = std::move(value);
    return j.dump();
  };
  auto without = [&](const char* key) {
    json j = good;
    j.erase(key);
    return j.dump();
  };
  const std::vector<Case> cases = {
      {"not JSON", "garbage{", "signature file"},
      {"wrong format", with("format", "troad-globalconf-signature/2"), "format"},
      {"unknown algorithm", with("algorithm", "none"), "algorithm"},
      {"algorithm not a string", with("algorithm", 256), "algorithm"},
      {"key id not hex", with("key_id", std::string(64, 'g')), "key_id"},
      {"key id too short", with("key_id", "abcd"), "key_id"},
      {"signature not base64", with("signature", "***"), "signature"},
      {"empty signature", with("signature", ""), "signature"},
      {"no signature", without("signature"), "signature"},
      {"no key id", without("key_id"), "key_id"},
      {"too large", std::string(100 * 1024, ' '), "more than"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(VerifySignedDocument(doc, c.file, Options()), ErrorCode::kInvalidArgument,
                  c.message);
  }
  // ES256 claimed, but the bytes are not a DER ECDSA signature.
  ExpectRefused(VerifySignedDocument(doc, with("signature", Base64Encode("not DER")), Options()),
                ErrorCode::kUnauthenticated, "does not verify");
}

TEST(SignedGlobalConfTest, SignedButMalformedDocumentNamesThePath) {
  json doc = json::parse(MinimalDocument(1));
  doc["members"][0]["id"] = "not an id";
  const std::string text = doc.dump();
  auto sig = SignDocument(text, ConfKey());
  ASSERT_TRUE(sig);
  ExpectRefused(VerifySignedDocument(text, *sig, Options()), ErrorCode::kInvalidArgument,
                "members[0].id");
}

TEST(SignedGlobalConfTest, OlderThanHeldIsRefusedSameVersionIsAccepted) {
  const std::string doc = MinimalDocument(4);
  auto sig = SignDocument(doc, ConfKey());
  ASSERT_TRUE(sig);
  ExpectRefused(VerifySignedDocument(doc, *sig, Options(5)), ErrorCode::kFailedPrecondition,
                "older than the one held (5)");
  EXPECT_TRUE(VerifySignedDocument(doc, *sig, Options(4)));
}

TEST(SignedGlobalConfTest, ExpiredOrOtherInstanceIsRefused) {
  const std::string expired = MinimalDocument(2, "TW", "2026-01-10T00:00:00Z");
  auto sig = SignDocument(expired, ConfKey());
  ASSERT_TRUE(sig);
  ExpectRefused(VerifySignedDocument(expired, *sig, Options()), ErrorCode::kFailedPrecondition,
                "expired at 2026-01-10T00:00:00");

  const std::string other = MinimalDocument(2, "EE");
  auto other_sig = SignDocument(other, ConfKey());
  ASSERT_TRUE(other_sig);
  ExpectRefused(VerifySignedDocument(other, *other_sig, Options()), ErrorCode::kInvalidArgument,
                "for instance EE, expected TW");
}

// Gateways count refusals by reason (troad_gateway_globalconf_rejected_total{reason}):
// each check reports its own, in the documented order.
TEST(SignedGlobalConfTest, EachRefusalSaysWhichCheckFailed) {
  const std::string doc = MinimalDocument(4);
  const std::string sig = *SignDocument(doc, ConfKey());
  json malformed = json::parse(MinimalDocument(4));
  malformed["members"][0]["id"] = "not an id";
  const std::string malformed_text = malformed.dump();
  const std::string expired = MinimalDocument(4, "TW", "2026-01-10T00:00:00Z");
  const std::string other = MinimalDocument(4, "EE");
  auto untrusted = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(untrusted);
  struct Case {
    std::string what;
    std::string document;
    std::string signature;
    int64_t held;
    RejectReason reason;
    std::string label;
  };
  const std::vector<Case> cases = {
      {"unsigned", doc, "", 0, RejectReason::kUnsigned, "unsigned"},
      {"malformed signature file", doc, "{}", 0, RejectReason::kMalformedSignature,
       "malformed-signature"},
      {"untrusted key", doc, *SignDocument(doc, *untrusted), 0, RejectReason::kUntrustedKey,
       "untrusted-key"},
      {"bad signature", doc + " ", sig, 0, RejectReason::kBadSignature, "bad-signature"},
      {"malformed document", malformed_text, *SignDocument(malformed_text, ConfKey()), 0,
       RejectReason::kMalformed, "malformed"},
      {"other instance", other, *SignDocument(other, ConfKey()), 0, RejectReason::kOtherInstance,
       "other-instance"},
      {"older", doc, sig, 5, RejectReason::kOlder, "older"},
      {"expired", expired, *SignDocument(expired, ConfKey()), 0, RejectReason::kExpired, "expired"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RejectReason reason = RejectReason::kUnsigned;
    if (c.reason == RejectReason::kUnsigned) reason = RejectReason::kExpired;  // must change
    auto r = VerifySignedDocument(c.document, c.signature, Options(c.held), &reason);
    ASSERT_FALSE(r);
    EXPECT_EQ(reason, c.reason) << r.error().ToString();
    EXPECT_EQ(RejectReasonLabel(reason), c.label);
  }
  RejectReason untouched = RejectReason::kOlder;
  EXPECT_TRUE(VerifySignedDocument(doc, sig, Options(4), &untouched));
  EXPECT_EQ(untouched, RejectReason::kOlder);  // left alone on success
}

}  // namespace
}  // namespace troad::globalconf
