// The central CA: enrollment codes, what a request must ask for, and that what it
// issues verifies with the openssl command line.
#include "central/ca_service.h"

#include <gtest/gtest.h>

#include "central/schema.h"
#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "store/migrate.h"

namespace troad::central {
namespace {

using crypto::testutil::RunCommand;
using crypto::testutil::WriteFile;

// Certificates are checked by openssl against the real time: start the fake clock an
// hour ago.
const SystemTime kStart =
    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
    std::chrono::hours(1);

class CaServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(*store::OpenSqlite(dir_.File("central.db")));
    ASSERT_TRUE(store::Migrate(*db_, CentralMigrations(), clock_));
    registry_ = std::make_unique<Registry>(*db_, clock_, "TW");
    crypto::CertificateRequest req;
    req.common_name = "TW troad central CA";
    req.validity = std::chrono::hours(24 * 365 * 10);
    auto ca = *crypto::CreateSelfSignedCa(ca_key_, req, clock_);
    WriteFile(dir_.File("ca.pem"), ca.ToPem());
    ca_ =
        std::make_unique<CertificateAuthority>(*registry_, *db_, clock_, ca, ca_key_, CaOptions{});
    ASSERT_TRUE(registry_->AddMember({*ClientId::Parse("TW/GOV/MOI"), "內政部", "", {}}));
    ASSERT_TRUE(registry_->AddGateway({gw_, "127.0.0.1", 8444, {}, {}}));
  }

  std::string Csr(const crypto::CsrSubject& subject) { return Csr(key_, subject); }
  std::string Csr(const crypto::PrivateKey& key, const crypto::CsrSubject& subject) {
    auto pem = crypto::CreateCsrPem(key, subject);
    EXPECT_TRUE(pem) << pem.error().ToString();
    return pem ? *pem : "";
  }

  // Enrolls (submits and approves) a certificate of `kind` for `owner` with `key`.
  CertificateInfo Issue(CertKind kind, const std::string& owner, const crypto::PrivateKey& key) {
    auto id = ca_->Submit(kind, owner, Csr(key, ca_->SubjectFor(kind, owner)), "enrollment:x",
                          "127.0.0.1", std::nullopt);
    EXPECT_TRUE(id) << id.error().ToString();
    auto cert = ca_->Approve(id ? *id : 0, "operator");
    EXPECT_TRUE(cert) << cert.error().ToString();
    return cert.value();  // throws (and fails the test) when refused
  }

  // A renewal of `current` (held with `current_key`) for `new_key`, signed as a gateway
  // signs it: the literal prefix, then the CSR's DER.
  RenewalRequest Renewal(const CertificateInfo& current, const crypto::PrivateKey& current_key,
                         const crypto::PrivateKey& new_key) {
    RenewalRequest r;
    r.kind = current.kind;
    r.owner = current.owner;
    r.current_fingerprint = current.fingerprint;
    r.csr_pem = Csr(new_key, ca_->SubjectFor(current.kind, current.owner));
    auto csr = crypto::Csr::FromPem(r.csr_pem);
    EXPECT_TRUE(csr) << csr.error().ToString();
    auto sig = current_key.Sign("troad-renewal/1\n" + (csr ? csr->ToDer() : ""));
    EXPECT_TRUE(sig) << sig.error().ToString();
    r.signature = sig ? *sig : "";
    return r;
  }

  std::unique_ptr<CertificateAuthority> WithPolicy(RenewalPolicy policy) {
    CaOptions options;
    options.renewal = policy;
    return std::make_unique<CertificateAuthority>(*registry_, *db_, clock_, ca_->ca_certificate(),
                                                  ca_key_, options);
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<CertificateAuthority> ca_;
  GatewayId gw_ = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
  crypto::PrivateKey key_ = *crypto::PrivateKey::GenerateEcP256();
  crypto::PrivateKey ca_key_ = *crypto::PrivateKey::GenerateEcP256();
};

template <typename T>
void ExpectRefused(const Result<T>& r, ErrorCode code, std::string_view part) {
  ASSERT_FALSE(r) << "accepted; expected: " << part;
  EXPECT_EQ(r.error().code(), code) << r.error().ToString();
  EXPECT_NE(r.error().message().find(part), std::string::npos) << r.error().ToString();
}

TEST_F(CaServiceTest, EnrollmentCodesAreForOneGatewayAndExpire) {
  auto code = ca_->CreateEnrollmentCode(gw_, "moi-admin");
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_GE(code->size(), 26u);
  EXPECT_TRUE(ca_->CheckEnrollmentCode(*code, gw_));
  ASSERT_TRUE(
      registry_->AddGateway({*GatewayId::Parse("TW/GOV/MOI/other"), "127.0.0.1", 8445, {}, {}}));
  auto other = ca_->CheckEnrollmentCode(*code, *GatewayId::Parse("TW/GOV/MOI/other"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(ca_->CheckEnrollmentCode("guess", gw_));
  // Only the hash is stored.
  auto rows = db_->Query("SELECT code_hash FROM enrollments");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE(*(*rows)[0].Text(0), *code);
  clock_.Advance(std::chrono::hours(24 * 7));
  EXPECT_FALSE(ca_->CheckEnrollmentCode(*code, gw_)) << "expired";
  EXPECT_FALSE(ca_->CreateEnrollmentCode(*GatewayId::Parse("TW/GOV/MOI/nope"), "x"));
}

TEST_F(CaServiceTest, RequestMustAskForTheOwnersSubject) {
  crypto::CsrSubject wrong = ca_->SubjectFor(CertKind::kAuthentication, gw_.ToString());
  wrong.common_name = "TW/GOV/MOI/someone-else";
  auto st = ca_->Submit(CertKind::kAuthentication, gw_.ToString(), Csr(wrong), "enrollment", "t",
                        std::nullopt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("CN"), std::string::npos) << st.error().ToString();

  auto garbage =
      ca_->Submit(CertKind::kAuthentication, gw_.ToString(), "not a csr", "x", "t", std::nullopt);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);

  auto unknown =
      ca_->Submit(CertKind::kSigning, "TW/GOV/NONE",
                  Csr(ca_->SubjectFor(CertKind::kSigning, "TW/GOV/NONE")), "x", "t", std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ca_->Requests()->empty()) << "refused requests are not recorded";
}

TEST_F(CaServiceTest, ApprovedRequestsYieldCertificatesOpensslVerifies) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto auth_id = ca_->Submit(CertKind::kAuthentication, gw_.ToString(),
                             Csr(ca_->SubjectFor(CertKind::kAuthentication, gw_.ToString())),
                             "enrollment:TW/GOV/MOI/moi-gw", "127.0.0.1", std::nullopt);
  ASSERT_TRUE(auth_id) << auth_id.error().ToString();
  auto sign_id = ca_->Submit(CertKind::kSigning, "TW/GOV/MOI",
                             Csr(ca_->SubjectFor(CertKind::kSigning, "TW/GOV/MOI")),
                             "enrollment:TW/GOV/MOI/moi-gw", "127.0.0.1", std::nullopt);
  ASSERT_TRUE(sign_id) << sign_id.error().ToString();
  EXPECT_EQ(ca_->GetRequest(*auth_id)->status, RequestStatus::kPending);
  EXPECT_TRUE(registry_->Snapshot()->gateways.empty()) << "not before approval";

  auto auth = ca_->Approve(*auth_id, "operator");
  ASSERT_TRUE(auth) << auth.error().ToString();
  EXPECT_EQ(auth->certificate.GetPublicKey().ToDer(), key_.Public().ToDer());
  auto again = ca_->Approve(*auth_id, "operator");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_FALSE(ca_->Reject(*sign_id, "", "operator"));
  ASSERT_TRUE(ca_->Reject(*sign_id, "wrong member", "operator"));
  EXPECT_EQ(ca_->GetRequest(*sign_id)->decision_reason, "wrong member");

  auto doc = registry_->Snapshot();
  ASSERT_EQ(doc->gateways.size(), 1u);
  EXPECT_EQ(doc->gateways[0].auth_certificate.Sha256Fingerprint(), auth->fingerprint);

  WriteFile(dir_.File("gw.pem"), auth->certificate.ToPem());
  auto verify = RunCommand(dir_, "openssl verify -purpose sslclient -CAfile " +
                                     dir_.File("ca.pem") + " " + dir_.File("gw.pem"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto text = RunCommand(
      dir_, "openssl x509 -noout -subject -ext subjectAltName -in " + dir_.File("gw.pem"));
  EXPECT_NE(text.output.find("CN = TW/GOV/MOI/moi-gw"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("IP Address:127.0.0.1"), std::string::npos) << text.output;
}

TEST_F(CaServiceTest, SignedBytesArePrefixAndCsrDerOrDecimalId) {
  auto csr = crypto::Csr::FromPem(Csr(ca_->SubjectFor(CertKind::kSigning, "TW/GOV/MOI")));
  ASSERT_TRUE(csr);
  EXPECT_EQ(RenewalSignedBytes(*csr), "troad-renewal/1\n" + csr->ToDer());
  EXPECT_EQ(RenewalStatusSignedBytes(42), "troad-renewal-status/1\n42");
  EXPECT_EQ(ParseRenewalPolicy("review").value(), RenewalPolicy::kReview);
  EXPECT_FALSE(ParseRenewalPolicy("manual"));
}

TEST_F(CaServiceTest, AutoRenewalIssuesForTheNewKeyAndBothArePublished) {
  TROAD_REQUIRE_OPENSSL_CLI();
  CertificateInfo old_auth = Issue(CertKind::kAuthentication, gw_.ToString(), key_);
  auto old_sign_key = *crypto::PrivateKey::GenerateEcP256();
  CertificateInfo old_sign = Issue(CertKind::kSigning, "TW/GOV/MOI", old_sign_key);
  clock_.Advance(std::chrono::hours(1));

  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  auto renewed = ca_->Renew(Renewal(old_auth, key_, new_key), "198.51.100.9");
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  ASSERT_TRUE(renewed->certificate.has_value());
  const crypto::Certificate& cert = renewed->certificate->certificate;
  EXPECT_EQ(cert.GetPublicKey().ToDer(), new_key.Public().ToDer());
  EXPECT_EQ(cert.CommonName(), gw_.ToString());
  EXPECT_EQ(cert.Subject(), old_auth.certificate.Subject());
  EXPECT_EQ(renewed->request.status, RequestStatus::kApproved);
  EXPECT_EQ(renewed->request.submitted_by, "renewal:TW/GOV/MOI/moi-gw");
  EXPECT_EQ(renewed->request.submitted_from, "198.51.100.9");
  EXPECT_EQ(renewed->request.decided_by, "policy:renewal");
  EXPECT_EQ(renewed->request.renewal_of, old_auth.fingerprint);
  EXPECT_EQ(renewed->request.certificate_fingerprint, renewed->certificate->fingerprint);
  EXPECT_FALSE(renewed->request.enrollment_id.has_value());
  WriteFile(dir_.File("renewed.pem"), cert.ToPem());
  auto verify = RunCommand(dir_, "openssl verify -purpose sslclient -CAfile " +
                                     dir_.File("ca.pem") + " " + dir_.File("renewed.pem"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;

  // A signing certificate renews the same way.
  auto new_sign_key = *crypto::PrivateKey::GenerateEcP256();
  auto sign = ca_->Renew(Renewal(old_sign, old_sign_key, new_sign_key), "198.51.100.9");
  ASSERT_TRUE(sign) << sign.error().ToString();
  ASSERT_TRUE(sign->certificate.has_value());
  EXPECT_EQ(sign->certificate->certificate.GetPublicKey().ToDer(), new_sign_key.Public().ToDer());

  // Both stay current until the old one expires or is revoked.
  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->gateways.size(), 1u);
  EXPECT_EQ(doc->gateways[0].auth_certificate.Sha256Fingerprint(), old_auth.fingerprint);
  ASSERT_EQ(doc->gateways[0].additional_auth_certificates.size(), 1u);
  EXPECT_EQ(doc->gateways[0].additional_auth_certificates[0].Sha256Fingerprint(),
            renewed->certificate->fingerprint);
  ASSERT_EQ(doc->members.size(), 1u);
  EXPECT_EQ(doc->members[0].signing_certificates.size(), 2u);

  // The renewed certificate renews in turn; the old one can no longer once revoked.
  ASSERT_TRUE(registry_->Revoke(old_auth.fingerprint, "switched", "operator"));
  ExpectRefused(ca_->Renew(Renewal(old_auth, key_, *crypto::PrivateKey::GenerateEcP256()), "t"),
                ErrorCode::kPermissionDenied, "revoked");
  auto again = ca_->Renew(
      Renewal(*renewed->certificate, new_key, *crypto::PrivateKey::GenerateEcP256()), "t");
  ASSERT_TRUE(again) << again.error().ToString();
  doc = registry_->Snapshot();
  EXPECT_EQ(doc->gateways[0].auth_certificate.Sha256Fingerprint(),
            renewed->certificate->fingerprint);
}

TEST_F(CaServiceTest, RenewalIsRefusedUnlessTheCurrentKeySignsANewKeysCsr) {
  CertificateInfo auth = Issue(CertKind::kAuthentication, gw_.ToString(), key_);
  auto sign_key = *crypto::PrivateKey::GenerateEcP256();
  CertificateInfo sign = Issue(CertKind::kSigning, "TW/GOV/MOI", sign_key);
  auto new_key = *crypto::PrivateKey::GenerateEcP256();

  RenewalRequest unknown = Renewal(auth, key_, new_key);
  unknown.current_fingerprint = std::string(64, 'a');
  ExpectRefused(ca_->Renew(unknown, "t"), ErrorCode::kPermissionDenied,
                "cannot be renewed: this central did not issue it");
  RenewalRequest upper = Renewal(auth, key_, new_key);
  for (char& c : upper.current_fingerprint) c = static_cast<char>(std::toupper(c));
  ExpectRefused(ca_->Renew(upper, "t"), ErrorCode::kInvalidArgument, "lower-case hex");

  // The member's signing certificate does not renew the gateway's authentication one.
  RenewalRequest other = Renewal(auth, key_, new_key);
  other.current_fingerprint = sign.fingerprint;
  other.signature = *sign_key.Sign(RenewalSignedBytes(*crypto::Csr::FromPem(other.csr_pem)));
  ExpectRefused(ca_->Renew(other, "t"), ErrorCode::kPermissionDenied,
                "not the authentication certificate of TW/GOV/MOI/moi-gw");
  // Nor another gateway's certificate.
  auto other_gw = *GatewayId::Parse("TW/GOV/MOI/other-gw");
  ASSERT_TRUE(registry_->AddGateway({other_gw, "127.0.0.2", 8444, {}, {}}));
  RenewalRequest foreign = Renewal(auth, key_, new_key);
  foreign.owner = other_gw.ToString();
  foreign.csr_pem = Csr(new_key, ca_->SubjectFor(CertKind::kAuthentication, foreign.owner));
  foreign.signature = *key_.Sign(RenewalSignedBytes(*crypto::Csr::FromPem(foreign.csr_pem)));
  ExpectRefused(ca_->Renew(foreign, "t"), ErrorCode::kPermissionDenied, "not the authentication");

  // Signed by another key, or over other bytes.
  RenewalRequest wrong_key = Renewal(auth, new_key, new_key);
  ExpectRefused(ca_->Renew(wrong_key, "t"), ErrorCode::kUnauthenticated, "does not verify");
  RenewalRequest no_prefix = Renewal(auth, key_, new_key);
  no_prefix.signature = *key_.Sign(crypto::Csr::FromPem(no_prefix.csr_pem)->ToDer());
  ExpectRefused(ca_->Renew(no_prefix, "t"), ErrorCode::kUnauthenticated, "does not verify");
  RenewalRequest garbage = Renewal(auth, key_, new_key);
  garbage.signature = "not a signature";
  ExpectRefused(ca_->Renew(garbage, "t"), ErrorCode::kUnauthenticated, "does not verify");

  // The CSR: the current key again, another subject, not a CSR.
  ExpectRefused(ca_->Renew(Renewal(auth, key_, key_), "t"), ErrorCode::kInvalidArgument, "new key");
  RenewalRequest wrong_cn = Renewal(auth, key_, new_key);
  crypto::CsrSubject subject = ca_->SubjectFor(CertKind::kAuthentication, gw_.ToString());
  subject.common_name = "TW/GOV/MOI/other-gw";
  wrong_cn.csr_pem = Csr(new_key, subject);
  wrong_cn.signature = *key_.Sign(RenewalSignedBytes(*crypto::Csr::FromPem(wrong_cn.csr_pem)));
  ExpectRefused(ca_->Renew(wrong_cn, "t"), ErrorCode::kInvalidArgument, "CN");
  RenewalRequest not_csr = Renewal(auth, key_, new_key);
  not_csr.csr_pem =
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  ExpectRefused(ca_->Renew(not_csr, "t"), ErrorCode::kInvalidArgument, "csr");
  RenewalRequest bad_owner = Renewal(auth, key_, new_key);
  bad_owner.owner = "TW/GOV/MOI";
  ExpectRefused(ca_->Renew(bad_owner, "t"), ErrorCode::kInvalidArgument, "gateway id");
  EXPECT_EQ(ca_->Requests()->size(), 2u) << "refused renewals are not recorded";

  // Expired.
  clock_.Advance(std::chrono::hours(24 * 366));
  ExpectRefused(ca_->Renew(Renewal(auth, key_, new_key), "t"), ErrorCode::kPermissionDenied,
                "expired");
}

TEST_F(CaServiceTest, RenewalToAWeakKeyIsRefusedWithCheckCsrsReason) {
  TROAD_REQUIRE_OPENSSL_CLI();
  CertificateInfo auth = Issue(CertKind::kAuthentication, gw_.ToString(), key_);
  auto made =
      RunCommand(dir_, "openssl req -new -newkey rsa:1024 -noenc -keyout " + dir_.File("weak.key") +
                           " -subj '/C=TW/serialNumber=TW\\/GOV\\/MOI/"
                           "CN=TW\\/GOV\\/MOI\\/moi-gw' -out " +
                           dir_.File("weak.csr"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  RenewalRequest weak = Renewal(auth, key_, key_);
  weak.csr_pem = crypto::testutil::ReadFile(dir_.File("weak.csr"));
  auto csr = crypto::Csr::FromPem(weak.csr_pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_TRUE(
      crypto::CheckCsrSubject(*csr, ca_->SubjectFor(CertKind::kAuthentication, gw_.ToString())))
      << "only the key is wrong";
  weak.signature = *key_.Sign(RenewalSignedBytes(*csr));
  ExpectRefused(ca_->Renew(weak, "t"), ErrorCode::kInvalidArgument, "csr: key");
}

TEST_F(CaServiceTest, ReviewedRenewalWaitsForAnOperatorAndIsCollectedWithTheSameCertificate) {
  CertificateInfo auth = Issue(CertKind::kAuthentication, gw_.ToString(), key_);
  auto review = WithPolicy(RenewalPolicy::kReview);
  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  auto pending = review->Renew(Renewal(auth, key_, new_key), "198.51.100.9");
  ASSERT_TRUE(pending) << pending.error().ToString();
  EXPECT_FALSE(pending->certificate.has_value());
  EXPECT_EQ(pending->request.status, RequestStatus::kPending);
  EXPECT_EQ(pending->request.renewal_of, auth.fingerprint);
  const int64_t id = pending->request.id;
  ExpectRefused(review->Renew(Renewal(auth, key_, *crypto::PrivateKey::GenerateEcP256()), "t"),
                ErrorCode::kAlreadyExists, "already pending");

  auto status = review->RenewalStatus(id, auth.fingerprint,
                                      *key_.Sign("troad-renewal-status/1\n" + std::to_string(id)));
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(status->request.status, RequestStatus::kPending);
  EXPECT_FALSE(status->certificate.has_value());
  ExpectRefused(
      review->RenewalStatus(id, auth.fingerprint, *key_.Sign("troad-renewal-status/1\n7")),
      ErrorCode::kUnauthenticated, "does not verify");
  ExpectRefused(
      review->RenewalStatus(id, auth.fingerprint, *new_key.Sign(RenewalStatusSignedBytes(id))),
      ErrorCode::kUnauthenticated, "does not verify");
  // Another certificate of the owner's member may not ask.
  auto sign_key = *crypto::PrivateKey::GenerateEcP256();
  CertificateInfo sign = Issue(CertKind::kSigning, "TW/GOV/MOI", sign_key);
  ExpectRefused(
      review->RenewalStatus(id, sign.fingerprint, *sign_key.Sign(RenewalStatusSignedBytes(id))),
      ErrorCode::kPermissionDenied, "not a renewal made with");
  ExpectRefused(
      review->RenewalStatus(999, auth.fingerprint, *key_.Sign(RenewalStatusSignedBytes(999))),
      ErrorCode::kNotFound, "999");

  auto issued = review->Approve(id, "operator");
  ASSERT_TRUE(issued) << issued.error().ToString();
  status = review->RenewalStatus(id, auth.fingerprint, *key_.Sign(RenewalStatusSignedBytes(id)));
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(status->request.status, RequestStatus::kApproved);
  EXPECT_EQ(status->request.decided_by, "operator");
  ASSERT_TRUE(status->certificate.has_value());
  EXPECT_EQ(status->certificate->fingerprint, issued->fingerprint);
  EXPECT_EQ(status->certificate->certificate.GetPublicKey().ToDer(), new_key.Public().ToDer());
}

TEST_F(CaServiceTest, RenewalSignedWithARevokedCertificateIsNotApproved) {
  CertificateInfo auth = Issue(CertKind::kAuthentication, gw_.ToString(), key_);
  auto review = WithPolicy(RenewalPolicy::kReview);
  auto pending = review->Renew(Renewal(auth, key_, *crypto::PrivateKey::GenerateEcP256()), "t");
  ASSERT_TRUE(pending) << pending.error().ToString();
  ASSERT_TRUE(registry_->Revoke(auth.fingerprint, "key stolen", "operator"));
  ExpectRefused(review->Approve(pending->request.id, "operator"), ErrorCode::kFailedPrecondition,
                "revoked");
  ExpectRefused(review->RenewalStatus(pending->request.id, auth.fingerprint,
                                      *key_.Sign(RenewalStatusSignedBytes(pending->request.id))),
                ErrorCode::kPermissionDenied, "revoked");
  ASSERT_TRUE(review->Reject(pending->request.id, "signed with a revoked key", "operator"));
}

}  // namespace
}  // namespace troad::central
