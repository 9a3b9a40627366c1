// The central CA: enrollment codes, what a request must ask for, and that what it
// issues verifies with the openssl command line.
#include "central/ca_service.h"

#include <gtest/gtest.h>

#include "central/schema.h"
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
    auto ca_key = *crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "TW troad central CA";
    req.validity = std::chrono::hours(24 * 365 * 10);
    auto ca = *crypto::CreateSelfSignedCa(ca_key, req, clock_);
    WriteFile(dir_.File("ca.pem"), ca.ToPem());
    ca_ = std::make_unique<CertificateAuthority>(*registry_, *db_, clock_, ca, ca_key, CaOptions{});
    ASSERT_TRUE(registry_->AddMember({*ClientId::Parse("TW/GOV/MOI"), "內政部", "", {}}));
    ASSERT_TRUE(registry_->AddGateway({gw_, "127.0.0.1", 8444, {}, {}}));
  }

  std::string Csr(const crypto::CsrSubject& subject) {
    auto pem = crypto::CreateCsrPem(key_, subject);
    EXPECT_TRUE(pem) << pem.error().ToString();
    return *pem;
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<CertificateAuthority> ca_;
  GatewayId gw_ = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
  crypto::PrivateKey key_ = *crypto::PrivateKey::GenerateEcP256();
};

TEST_F(CaServiceTest, EnrollmentCodesAreForOneGatewayAndExpire) {
  auto code = ca_->CreateEnrollmentCode(gw_, "moi-admin");
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_GE(code->size(), 26u);
  EXPECT_TRUE(ca_->CheckEnrollmentCode(*code, gw_));
  ASSERT_TRUE(registry_->AddGateway({*GatewayId::Parse("TW/GOV/MOI/other"), "127.0.0.1", 8445,
                                     {}, {}}));
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

  auto garbage = ca_->Submit(CertKind::kAuthentication, gw_.ToString(), "not a csr", "x", "t",
                             std::nullopt);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);

  auto unknown = ca_->Submit(CertKind::kSigning, "TW/GOV/NONE",
                             Csr(ca_->SubjectFor(CertKind::kSigning, "TW/GOV/NONE")), "x", "t",
                             std::nullopt);
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
  auto text = RunCommand(dir_, "openssl x509 -noout -subject -ext subjectAltName -in " +
                                   dir_.File("gw.pem"));
  EXPECT_NE(text.output.find("CN = TW/GOV/MOI/moi-gw"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("IP Address:127.0.0.1"), std::string::npos) << text.output;
}

}  // namespace
}  // namespace troad::central
