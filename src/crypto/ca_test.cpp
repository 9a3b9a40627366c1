#include "crypto/ca.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <set>

#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using namespace std::chrono_literals;
using testutil::NowSeconds;
using testutil::RunCommand;
using testutil::TempDir;
using testutil::WriteFile;

// What `openssl x509 -noout -text` prints for an extension: its header line (with
// " critical" when it is) and the value line under it, trimmed. Empty if absent.
struct Extension {
  bool present = false;
  bool critical = false;
  std::string value;
};

Extension FindExtension(const std::string& text, const std::string& name) {
  Extension ext;
  size_t at = text.find(name + ":");
  if (at == std::string::npos) return ext;
  ext.present = true;
  size_t eol = text.find('\n', at);
  ext.critical = text.substr(at, eol - at).find("critical") != std::string::npos;
  size_t next_eol = text.find('\n', eol + 1);
  ext.value = text.substr(eol + 1, next_eol - eol - 1);
  ext.value.erase(0, ext.value.find_first_not_of(' '));
  ext.value.erase(ext.value.find_last_not_of(' ') + 1);
  return ext;
}

class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = "troad root CA";
    req.organization = "MODA";
    req.validity = 24h * 3650;
    auto ca = CreateSelfSignedCa(*ca_key_, req, clock_);
    ASSERT_TRUE(ca) << ca.error().ToString();
    ca_ = *ca;
    subject_key_ = *PrivateKey::GenerateEcP256();
  }

  Result<Certificate> Issue(const CertificateRequest& req) {
    return IssueCertificate(*ca_, *ca_key_, subject_key_->Public(), req, clock_);
  }

  CertificateRequest AuthRequest() {
    CertificateRequest req;
    req.common_name = "gw1.moi.example";
    req.organization = "MOI";
    req.serial_number_attr = "10000001";
    req.dns_names = {"gw1.moi.example", "localhost"};
    req.ip_addresses = {"127.0.0.1", "::1"};
    req.usage = CertUsage::kAuthentication;
    return req;
  }

  // `openssl x509 -noout -text` of `cert`.
  std::string OpensslText(const Certificate& cert) {
    WriteFile(dir_.File("cert.pem"), cert.ToPem());
    auto r = RunCommand(dir_, "openssl x509 -noout -text -in " + dir_.File("cert.pem"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  }

  std::string OpensslVerify(const Certificate& leaf, const std::string& extra = "") {
    WriteFile(dir_.File("ca.pem"), ca_->ToPem());
    WriteFile(dir_.File("leaf.pem"), leaf.ToPem());
    return RunCommand(dir_, "openssl verify " + extra + " -CAfile " + dir_.File("ca.pem") + " " +
                                dir_.File("leaf.pem"))
        .output;
  }

  TempDir dir_;
  FakeClock clock_{NowSeconds()};
  std::optional<PrivateKey> ca_key_;
  std::optional<Certificate> ca_;
  std::optional<PrivateKey> subject_key_;
};

TEST_F(CaTest, SelfSignedCaHasCaExtensions) {
  TROAD_REQUIRE_OPENSSL_CLI();
  EXPECT_TRUE(ca_->IsCa());
  EXPECT_EQ(ca_->Subject(), "CN=troad root CA,O=MODA,C=TW");
  EXPECT_EQ(ca_->Issuer(), ca_->Subject());
  EXPECT_EQ(ca_->NotBefore(), clock_.Now() - 60s);
  EXPECT_EQ(ca_->NotAfter(), clock_.Now() + 24h * 3650);

  std::string text = OpensslText(*ca_);
  EXPECT_NE(text.find("Version: 3 (0x2)"), std::string::npos) << text;
  EXPECT_NE(text.find("Signature Algorithm: ecdsa-with-SHA256"), std::string::npos) << text;
  Extension bc = FindExtension(text, "X509v3 Basic Constraints");
  EXPECT_TRUE(bc.critical) << text;
  EXPECT_EQ(bc.value, "CA:TRUE");
  Extension ku = FindExtension(text, "X509v3 Key Usage");
  EXPECT_TRUE(ku.critical) << text;
  EXPECT_EQ(ku.value, "Certificate Sign, CRL Sign");
  EXPECT_FALSE(FindExtension(text, "X509v3 Extended Key Usage").present);
  Extension ski = FindExtension(text, "X509v3 Subject Key Identifier");
  Extension aki = FindExtension(text, "X509v3 Authority Key Identifier");
  ASSERT_TRUE(ski.present && aki.present) << text;
  EXPECT_NE(aki.value.find(ski.value), std::string::npos) << "self-signed: AKI = SKI\n" << text;

  WriteFile(dir_.File("ca.pem"), ca_->ToPem());
  auto r =
      RunCommand(dir_, "openssl verify -CAfile " + dir_.File("ca.pem") + " " + dir_.File("ca.pem"));
  EXPECT_EQ(r.output, dir_.File("ca.pem") + ": OK\n");
}

TEST_F(CaTest, AuthenticationCertificateForTls) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto cert = Issue(AuthRequest());
  ASSERT_TRUE(cert) << cert.error().ToString();
  EXPECT_FALSE(cert->IsCa());
  EXPECT_EQ(cert->Subject(), "CN=gw1.moi.example,serialNumber=10000001,O=MOI,C=TW");
  EXPECT_EQ(cert->Issuer(), ca_->Subject());
  EXPECT_EQ(cert->NotBefore(), clock_.Now() - 60s);
  EXPECT_EQ(cert->NotAfter(), clock_.Now() + 24h * 365);

  std::string text = OpensslText(*cert);
  Extension bc = FindExtension(text, "X509v3 Basic Constraints");
  EXPECT_TRUE(bc.critical) << text;
  EXPECT_EQ(bc.value, "CA:FALSE");
  Extension ku = FindExtension(text, "X509v3 Key Usage");
  EXPECT_TRUE(ku.critical) << text;
  EXPECT_EQ(ku.value, "Digital Signature");
  Extension eku = FindExtension(text, "X509v3 Extended Key Usage");
  EXPECT_FALSE(eku.critical);
  EXPECT_EQ(eku.value, "TLS Web Server Authentication, TLS Web Client Authentication");
  Extension san = FindExtension(text, "X509v3 Subject Alternative Name");
  EXPECT_EQ(san.value,
            "DNS:gw1.moi.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  // The leaf's AKI is the CA's SKI.
  std::string ca_ski = FindExtension(OpensslText(*ca_), "X509v3 Subject Key Identifier").value;
  ASSERT_FALSE(ca_ski.empty());
  EXPECT_NE(FindExtension(text, "X509v3 Authority Key Identifier").value.find(ca_ski),
            std::string::npos)
      << text;
  EXPECT_NE(FindExtension(text, "X509v3 Subject Key Identifier").value, ca_ski);

  // OpenSSL agrees it is good for TLS on both sides, at 127.0.0.1.
  EXPECT_EQ(OpensslVerify(*cert), dir_.File("leaf.pem") + ": OK\n");
  EXPECT_EQ(OpensslVerify(*cert, "-purpose sslserver -verify_ip 127.0.0.1"),
            dir_.File("leaf.pem") + ": OK\n");
  EXPECT_EQ(OpensslVerify(*cert, "-purpose sslclient"), dir_.File("leaf.pem") + ": OK\n");
  EXPECT_NE(OpensslVerify(*cert, "-verify_ip 127.0.0.2").find("IP address mismatch"),
            std::string::npos);
}

TEST_F(CaTest, SigningCertificateHasNonRepudiationAndNoEku) {
  TROAD_REQUIRE_OPENSSL_CLI();
  CertificateRequest req;
  req.common_name = "MOI signing";
  req.organization = "MOI";
  req.usage = CertUsage::kSigning;
  auto cert = Issue(req);
  ASSERT_TRUE(cert) << cert.error().ToString();
  std::string text = OpensslText(*cert);
  Extension ku = FindExtension(text, "X509v3 Key Usage");
  EXPECT_TRUE(ku.critical) << text;
  EXPECT_EQ(ku.value, "Digital Signature, Non Repudiation");
  EXPECT_FALSE(FindExtension(text, "X509v3 Extended Key Usage").present) << text;
  EXPECT_FALSE(FindExtension(text, "X509v3 Subject Alternative Name").present) << text;
  EXPECT_EQ(FindExtension(text, "X509v3 Basic Constraints").value, "CA:FALSE");
  EXPECT_EQ(OpensslVerify(*cert), dir_.File("leaf.pem") + ": OK\n");
}

TEST_F(CaTest, TimestampingCertificateHasOnlyACriticalTimeStampingEku) {
  TROAD_REQUIRE_OPENSSL_CLI();
  CertificateRequest req;
  req.common_name = "TW troad TSA";
  req.usage = CertUsage::kTimestamping;
  auto cert = Issue(req);
  ASSERT_TRUE(cert) << cert.error().ToString();
  std::string text = OpensslText(*cert);
  Extension eku = FindExtension(text, "X509v3 Extended Key Usage");
  EXPECT_TRUE(eku.critical) << text;
  EXPECT_EQ(eku.value, "Time Stamping");
  EXPECT_EQ(FindExtension(text, "X509v3 Key Usage").value, "Digital Signature, Non Repudiation");
  EXPECT_TRUE(cert->IsTimestampingCertificate());
  EXPECT_EQ(OpensslVerify(*cert, "-purpose timestampsign"), dir_.File("leaf.pem") + ": OK\n");
  // Others are not.
  req.usage = CertUsage::kSigning;
  EXPECT_FALSE(Issue(req)->IsTimestampingCertificate());
  EXPECT_FALSE(ca_->IsTimestampingCertificate());
}

TEST_F(CaTest, RsaCaSignsWithSha256WithRsa) {
  TROAD_REQUIRE_OPENSSL_CLI();
  PrivateKey rsa_key = *PrivateKey::GenerateRsa(2048);
  CertificateRequest req;
  req.common_name = "legacy government root";
  auto rsa_ca = CreateSelfSignedCa(rsa_key, req, clock_);
  ASSERT_TRUE(rsa_ca) << rsa_ca.error().ToString();
  auto leaf = IssueCertificate(*rsa_ca, rsa_key, subject_key_->Public(), AuthRequest(), clock_);
  ASSERT_TRUE(leaf) << leaf.error().ToString();
  EXPECT_NE(OpensslText(*leaf).find("Signature Algorithm: sha256WithRSAEncryption"),
            std::string::npos);
  auto store = TrustStore::Create({*rsa_ca});
  EXPECT_TRUE(store->Verify(*leaf, {}, clock_.Now()));
}

TEST_F(CaTest, SerialsAreRandomPositive128Bit) {
  std::set<std::string> serials;
  for (int i = 0; i < 20; ++i) {
    auto cert = Issue(AuthRequest());
    ASSERT_TRUE(cert);
    std::string hex = cert->SerialHex();
    EXPECT_NE(hex[0], '-') << hex;
    EXPECT_LE(hex.size(), 32u) << hex;
    serials.insert(hex);
  }
  EXPECT_EQ(serials.size(), 20u);
  // 20 random 128-bit serials all below 2^100 would mean far fewer random bits.
  bool any_long = false;
  for (const std::string& s : serials) any_long = any_long || s.size() > 25;
  EXPECT_TRUE(any_long);
}

TEST_F(CaTest, IssuedCertificatesVerifyInTrustStore) {
  auto auth = Issue(AuthRequest());
  CertificateRequest sign_req;
  sign_req.common_name = "MOI signing";
  sign_req.usage = CertUsage::kSigning;
  auto sign = Issue(sign_req);
  ASSERT_TRUE(auth && sign);
  auto store = TrustStore::Create({*ca_});
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->Verify(*auth, {}, clock_.Now()));
  EXPECT_TRUE(store->Verify(*sign, {}, clock_.Now()));
}

TEST_F(CaTest, ExpiredCertificateIsRefusedByStoreAndOpenssl) {
  TROAD_REQUIRE_OPENSSL_CLI();
  CertificateRequest req = AuthRequest();
  req.validity = 24h;
  auto cert = Issue(req);
  ASSERT_TRUE(cert);
  FakeClock far_future(clock_.Now() + 24h * 30);
  auto store = TrustStore::Create({*ca_});
  auto st = store->Verify(*cert, {}, far_future.Now());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(st.error().message().find("expired"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find("CN=gw1.moi.example"), std::string::npos);

  auto at = std::chrono::system_clock::to_time_t(far_future.Now());
  EXPECT_NE(OpensslVerify(*cert, "-attime " + std::to_string(at)).find("certificate has expired"),
            std::string::npos);
}

TEST_F(CaTest, ValidityIsCappedAtTheCasOwn) {
  CertificateRequest req = AuthRequest();
  req.validity = 24h * 365 * 20;  // longer than the CA's ten years
  auto cert = Issue(req);
  ASSERT_TRUE(cert) << cert.error().ToString();
  EXPECT_EQ(cert->NotAfter(), ca_->NotAfter());
}

TEST_F(CaTest, CreateSelfSignedCaIgnoresRequestedUsage) {
  CertificateRequest req;
  req.common_name = "root";
  req.usage = CertUsage::kSigning;
  auto ca = CreateSelfSignedCa(*ca_key_, req, clock_);
  ASSERT_TRUE(ca);
  EXPECT_TRUE(ca->IsCa());
}

TEST_F(CaTest, BadRequestsAreRefusedWithReason) {
  struct Case {
    const char* what;
    void (*edit)(CertificateRequest&);
    const char* message_part;
  };
  const Case kCases[] = {
      {"empty CN", [](CertificateRequest& r) { r.common_name.clear(); }, "empty common name"},
      {"long CN", [](CertificateRequest& r) { r.common_name = std::string(65, 'x'); },
       "subject CN"},
      {"country", [](CertificateRequest& r) { r.country = "Taiwan"; }, "two-letter"},
      {"lower-case country", [](CertificateRequest& r) { r.country = "tw"; }, "two-letter"},
      {"bad UTF-8", [](CertificateRequest& r) { r.organization = "\xff\xfe"; }, "UTF-8"},
      {"zero validity", [](CertificateRequest& r) { r.validity = 0s; }, "validity"},
      {"huge validity", [](CertificateRequest& r) { r.validity = 24h * 366 * 200; }, "validity"},
      {"bad IP", [](CertificateRequest& r) { r.ip_addresses = {"300.1.1.1"}; },
       "'300.1.1.1' is not an IPv4 or IPv6 address"},
      {"IP in DNS list", [](CertificateRequest& r) { r.dns_names = {"a,IP:10.0.0.1"}; },
       "not an ASCII host name"},
      {"empty DNS", [](CertificateRequest& r) { r.dns_names = {""}; }, "not an ASCII host name"},
  };
  for (const Case& c : kCases) {
    CertificateRequest req = AuthRequest();
    c.edit(req);
    auto cert = Issue(req);
    ASSERT_FALSE(cert) << c.what;
    EXPECT_EQ(cert.error().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(cert.error().message().find(c.message_part), std::string::npos)
        << c.what << ": " << cert.error().message();
  }
}

TEST_F(CaTest, IssuerMustBeAValidCaHoldingItsKey) {
  PrivateKey other = *PrivateKey::GenerateEcP256();
  auto wrong_key = IssueCertificate(*ca_, other, subject_key_->Public(), AuthRequest(), clock_);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_key.error().message().find("does not belong"), std::string::npos);

  Certificate leaf = *Issue(AuthRequest());
  auto from_leaf = IssueCertificate(leaf, *subject_key_, other.Public(), AuthRequest(), clock_);
  ASSERT_FALSE(from_leaf);
  EXPECT_EQ(from_leaf.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(from_leaf.error().message().find("not a CA"), std::string::npos);

  FakeClock after_ca(ca_->NotAfter() + 1s);
  auto expired_ca =
      IssueCertificate(*ca_, *ca_key_, subject_key_->Public(), AuthRequest(), after_ca);
  ASSERT_FALSE(expired_ca);
  EXPECT_EQ(expired_ca.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(expired_ca.error().message().find("expired"), std::string::npos);
}

TEST_F(CaTest, WeakSubjectKeyIsRefused) {
  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  ASSERT_NE(weak, nullptr);
  PublicKey weak_pub = PublicKey::FromNative(weak);
  EVP_PKEY_free(weak);
  auto cert = IssueCertificate(*ca_, *ca_key_, weak_pub, AuthRequest(), clock_);
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(cert.error().message().find("subject key refused: RSA key of 1024 bits"),
            std::string::npos)
      << cert.error().message();
}

}  // namespace
}  // namespace troad::crypto
