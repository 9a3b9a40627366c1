#include "mydata/consent.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/jose.h"
#include "crypto/test_util.h"

namespace troad::mydata {
namespace {

ConsentRecord Mortgage() {
  ConsentRecord r;
  r.consent_id = "2f1c6a0e-4b7d-4f0a-9a57-1d2c3b4a5e6f";
  r.transaction = "tx-0001";
  r.subject = "pairwise-subject-for-mydata";
  r.national_id_masked = "F13****289";
  r.datasets = {"household.members", "nhi.card"};
  r.recipient_type = "service_provider";
  r.recipient_id = "bot-mortgage";
  r.purpose = "公教人員購置住宅貸款申請";
  r.legal_basis = "個人資料保護法第 6 條第 1 項第 6 款（當事人書面同意）";
  r.acr = "urn:troad:mfa";
  r.amr = {"sms", "kba", "mfa"};
  r.consented_at = 1'790'000'000'000;
  r.expires_at = r.consented_at + 20 * 60 * 1000;
  r.issued_at = r.consented_at;
  return r;
}

class ConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = crypto::PrivateKey::GenerateEcP256().value();
    nlohmann::json jwk = crypto::PublicJwk(key_.Public());
    jwk["kid"] = "mydata-1";
    jwks_ = {{"keys", nlohmann::json::array({jwk})}};
  }
  crypto::PrivateKey key_ = crypto::PrivateKey::GenerateEcP256().value();
  nlohmann::json jwks_;
  crypto::testutil::TempDir dir_;
};

TEST_F(ConsentTest, ASignedRecordVerifiesAndReadsBackWhole) {
  auto jws = SignConsent(Mortgage(), key_, "mydata-1");
  ASSERT_TRUE(jws) << jws.error().ToString();
  auto back = VerifyConsent(*jws, jwks_);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(ConsentToJson(*back), ConsentToJson(Mortgage()));
  EXPECT_EQ(back->status, ConsentStatus::kActive);

  // Consumed: a new signed record for the same consent, not an edit of the old one.
  ConsentRecord used = Mortgage();
  used.status = ConsentStatus::kConsumed;
  used.issued_at += 60'000;
  auto later = VerifyConsent(SignConsent(used, key_, "mydata-1").value(), jwks_);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->consent_id, back->consent_id);
  EXPECT_EQ(ConsentStatusName(later->status), "consumed");
}

// An auditor needs nothing of ours: the JWS signature checks with `openssl dgst`.
TEST_F(ConsentTest, OpensslVerifiesTheSignatureAndCatchesAnEdit) {
  TROAD_REQUIRE_OPENSSL_CLI();
  std::string jws = SignConsent(Mortgage(), key_, "mydata-1").value();
  size_t dot = jws.rfind('.');
  std::string input = jws.substr(0, dot);
  auto raw = Base64UrlDecode(jws.substr(dot + 1));
  ASSERT_TRUE(raw);
  auto der = crypto::EcdsaRawToDer(*raw);
  ASSERT_TRUE(der);
  ASSERT_TRUE(WriteFileAtomically(dir_.File("input.txt"), input));
  ASSERT_TRUE(WriteFileAtomically(dir_.File("sig.der"), *der));
  ASSERT_TRUE(WriteFileAtomically(dir_.File("pub.pem"), key_.Public().ToPem()));
  std::string verify = "openssl dgst -sha256 -verify " + dir_.File("pub.pem") + " -signature " +
                       dir_.File("sig.der") + " " + dir_.File("input.txt");
  auto ok = crypto::testutil::RunCommand(dir_, verify);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("Verified OK"), std::string::npos) << ok.output;

  // Someone widens the consent to a third dataset: openssl and we both refuse it.
  ConsentRecord wider = Mortgage();
  wider.datasets.push_back("labour.insurance");
  std::string forged = input.substr(0, input.find('.') + 1) +
                       Base64UrlEncode(ConsentToJson(wider).dump()) + jws.substr(dot);
  ASSERT_TRUE(WriteFileAtomically(dir_.File("input.txt"), forged.substr(0, forged.rfind('.'))));
  auto bad = crypto::testutil::RunCommand(dir_, verify);
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  auto refused = VerifyConsent(forged, jwks_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(ConsentTest, OtherKeysAndOtherTokensAreRefused) {
  auto other = crypto::PrivateKey::GenerateEcP256().value();
  auto unknown = VerifyConsent(SignConsent(Mortgage(), other, "mydata-9").value(), jwks_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  auto wrong_key = VerifyConsent(SignConsent(Mortgage(), other, "mydata-1").value(), jwks_);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kUnauthenticated);
  // Something else MyData's key signed (an ID-token-like JWT) is not a consent.
  auto token = crypto::SignJws(key_, {{"typ", "JWT"}, {"kid", "mydata-1"}},
                               ConsentToJson(Mortgage()).dump());
  auto not_consent = VerifyConsent(token.value(), jwks_);
  ASSERT_FALSE(not_consent);
  EXPECT_EQ(not_consent.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(VerifyConsent("not.a.jws", jwks_));
  EXPECT_FALSE(VerifyConsent(SignConsent(Mortgage(), key_, "mydata-1").value(), {}));
}

TEST_F(ConsentTest, IncompleteOrInconsistentRecordsAreNotSigned) {
  struct Case {
    const char* what;
    void (*change)(ConsentRecord&);
    const char* field;
  };
  const Case cases[] = {
      {"no datasets", [](ConsentRecord& r) { r.datasets.clear(); }, "datasets:"},
      {"repeated dataset", [](ConsentRecord& r) { r.datasets.push_back("nhi.card"); }, "datasets:"},
      {"no recipient id", [](ConsentRecord& r) { r.recipient_id.clear(); }, "recipient.id:"},
      {"self with an id", [](ConsentRecord& r) { r.recipient_type = "self"; }, "recipient.id:"},
      {"unknown recipient", [](ConsentRecord& r) { r.recipient_type = "bank"; }, "recipient.type:"},
      {"no purpose", [](ConsentRecord& r) { r.purpose.clear(); }, "purpose:"},
      {"no legal basis", [](ConsentRecord& r) { r.legal_basis.clear(); }, "legal_basis:"},
      {"unknown acr", [](ConsentRecord& r) { r.acr = "high"; }, "acr:"},
      {"no amr", [](ConsentRecord& r) { r.amr.clear(); }, "amr:"},
      {"expires first", [](ConsentRecord& r) { r.expires_at = r.consented_at; }, "consented_at:"},
      {"signed before", [](ConsentRecord& r) { r.issued_at = r.consented_at - 1; }, "iat:"},
      {"control text", [](ConsentRecord& r) { r.purpose = "貸款\r申請"; }, "purpose:"},
  };
  for (const auto& c : cases) {
    ConsentRecord r = Mortgage();
    c.change(r);
    auto signed_record = SignConsent(r, key_, "mydata-1");
    ASSERT_FALSE(signed_record) << c.what;
    EXPECT_EQ(signed_record.error().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_TRUE(signed_record.error().message().starts_with(c.field))
        << c.what << ": " << signed_record.error().message();
  }
  auto json = ConsentToJson(Mortgage());
  json["status"] = "pending";
  EXPECT_TRUE(ConsentFromJson(json).error().message().starts_with("status:"));
  json = ConsentToJson(Mortgage());
  json["recipient"].erase("type");
  EXPECT_EQ(ConsentFromJson(json).error().message(), "recipient.type: required, a string");
}

}  // namespace
}  // namespace troad::mydata
