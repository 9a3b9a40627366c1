#include "crypto/csr.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using namespace std::chrono_literals;
using testutil::NowSeconds;
using testutil::ReadFile;
using testutil::RunCommand;
using testutil::TempDir;
using testutil::WriteFile;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CsrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = "troad central CA";
    req.organization = "MODA";
    req.validity = 24h * 3650;
    auto ca = CreateSelfSignedCa(*ca_key_, req, clock_);
    ASSERT_TRUE(ca) << ca.error().ToString();
    ca_ = *ca;
  }

  // What the central CA decided gw1 of MOI is entitled to.
  static CertificateRequest Gw1Request() {
    CertificateRequest req;
    req.common_name = "gw1.moi.example";
    req.organization = "MOI";
    req.serial_number_attr = "10000001";
    req.dns_names = {"gw1.moi.example"};
    req.usage = CertUsage::kAuthentication;
    return req;
  }

  // `openssl req -new` with a fresh key written to key.pem; the CSR's PEM, or "".
  std::string OpensslCsr(const std::string& newkey, const std::string& subj,
                         const std::string& extra = "") {
    auto r = RunCommand(dir_, "openssl req -new -newkey " + newkey + " -noenc -keyout " +
                                  dir_.File("key.pem") + " -subj '" + subj + "' " + extra +
                                  " -out " + dir_.File("req.pem"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return ReadFile(dir_.File("req.pem"));
  }

  std::string OpensslPublicKeyPem(const std::string& key_file) {
    auto r = RunCommand(dir_, "openssl pkey -pubout -in " + key_file);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  }

  Result<Csr> OurCsr(const PrivateKey& key, const CsrSubject& subject) {
    auto pem = CreateCsrPem(key, subject);
    if (!pem) return Fail(pem.error());
    return Csr::FromPem(*pem);
  }

  TempDir dir_;
  FakeClock clock_{NowSeconds()};
  std::optional<PrivateKey> ca_key_;
  std::optional<Certificate> ca_;
};

TEST_F(CsrTest, CreatedCsrRoundTrips) {
  PrivateKey key = *PrivateKey::GenerateEcP256();
  CsrSubject subject{"gw1.moi.example", "內政部", "戶政司", "10000001", "TW"};
  auto pem = CreateCsrPem(key, subject);
  ASSERT_TRUE(pem) << pem.error().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE REQUEST-----\n", 0), 0u) << *pem;

  auto csr = Csr::FromPem(*pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_EQ(csr->subject(), subject);
  EXPECT_EQ(csr->SubjectString(),
            "CN=gw1.moi.example,serialNumber=10000001,OU=戶政司,O=內政部,C=TW");
  EXPECT_EQ(csr->public_key().ToDer(), key.Public().ToDer());
  EXPECT_EQ(csr->ToPem(), *pem);

  auto again = Csr::FromDer(csr->ToDer());
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->ToDer(), csr->ToDer());
  EXPECT_EQ(again->Sha256(), csr->Sha256());
  EXPECT_EQ(again->subject(), subject);
}

TEST_F(CsrTest, Sha256IsTheDigestOfTheDerOpensslWrites) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto csr = OurCsr(*PrivateKey::GenerateEcP256(), {"gw1", "MOI", "", "", "TW"});
  ASSERT_TRUE(csr) << csr.error().ToString();
  WriteFile(dir_.File("req.pem"), csr->ToPem());
  auto r = RunCommand(dir_, "openssl req -in " + dir_.File("req.pem") +
                                " -outform DER | "
                                "openssl dgst -sha256 -r");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, csr->Sha256() + " *stdin\n");
}

TEST_F(CsrTest, OpensslVerifiesOurEcAndRsaCsrs) {
  TROAD_REQUIRE_OPENSSL_CLI();
  struct Case {
    PrivateKey key;
    const char* algorithm;
  };
  for (const Case& c : {Case{*PrivateKey::GenerateEcP256(), "ecdsa-with-SHA256"},
                        Case{*PrivateKey::GenerateRsa(2048), "sha256WithRSAEncryption"}}) {
    SCOPED_TRACE(c.algorithm);
    auto pem = CreateCsrPem(c.key, {"gw1.moi.example", "內政部", "", "10000001", "TW"});
    ASSERT_TRUE(pem) << pem.error().ToString();
    WriteFile(dir_.File("req.pem"), *pem);
    auto r = RunCommand(dir_, "openssl req -verify -noout -in " + dir_.File("req.pem"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(Contains(r.output, "verify OK")) << r.output;
    r = RunCommand(
        dir_, "openssl req -noout -subject -nameopt RFC2253,-esc_msb -in " + dir_.File("req.pem"));
    EXPECT_EQ(r.output, "subject=CN=gw1.moi.example,serialNumber=10000001,O=內政部,C=TW\n");
    r = RunCommand(dir_, "openssl req -noout -text -in " + dir_.File("req.pem"));
    EXPECT_TRUE(Contains(r.output, std::string("Signature Algorithm: ") + c.algorithm)) << r.output;
    EXPECT_TRUE(Contains(r.output, "Attributes:\n            (none)")) << r.output;
    EXPECT_FALSE(Contains(r.output, "X509v3")) << "no requested extensions\n" << r.output;
    r = RunCommand(dir_, "openssl req -noout -pubkey -in " + dir_.File("req.pem"));
    EXPECT_EQ(r.output, c.key.Public().ToPem());
  }
}

TEST_F(CsrTest, OpensslMadeCsrParsesWithItsFields) {
  TROAD_REQUIRE_OPENSSL_CLI();
  std::string pem = OpensslCsr("ec -pkeyopt ec_paramgen_curve:P-256",
                               "/C=TW/O=MOI/OU=Household Registration/serialNumber=10000001/"
                               "CN=gw1.moi.example");
  auto csr = Csr::FromPem(pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_EQ(csr->subject(),
            (CsrSubject{"gw1.moi.example", "MOI", "Household Registration", "10000001", "TW"}));
  EXPECT_EQ(csr->public_key().ToPem(), OpensslPublicKeyPem(dir_.File("key.pem")));
  EXPECT_TRUE(csr->public_key().CheckStrength());
  EXPECT_EQ(csr->public_key().Algorithm(), "ES256");

  // Fields that are absent read as empty, the country included.
  pem = OpensslCsr("ec -pkeyopt ec_paramgen_curve:P-256", "/CN=gw2", "-utf8");
  csr = Csr::FromPem(pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_EQ(csr->subject(), (CsrSubject{"gw2", "", "", "", ""}));
}

TEST_F(CsrTest, OldNewCertificateRequestLabelAndSurroundingWhitespaceAreAccepted) {
  auto csr = OurCsr(*PrivateKey::GenerateEcP256(), {"gw1", "", "", "", "TW"});
  ASSERT_TRUE(csr) << csr.error().ToString();
  std::string pem = csr->ToPem();
  std::string old = pem;
  old.replace(old.find("BEGIN CERTIFICATE REQUEST"), 25, "BEGIN NEW CERTIFICATE REQUEST");
  old.replace(old.find("END CERTIFICATE REQUEST"), 23, "END NEW CERTIFICATE REQUEST");
  auto parsed = Csr::FromPem(old);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->Sha256(), csr->Sha256());
  parsed = Csr::FromPem("\r\n  " + pem + "\n\n  \r\n");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->Sha256(), csr->Sha256());
}

TEST_F(CsrTest, TamperedCsrIsRefusedByUsAndByOpenssl) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto csr = OurCsr(*PrivateKey::GenerateEcP256(), {"gw1.moi.example", "MOI", "", "", "TW"});
  ASSERT_TRUE(csr) << csr.error().ToString();
  std::string der = csr->ToDer();
  size_t at = der.find("gw1.moi.example");
  ASSERT_NE(at, std::string::npos);
  der[at + 2] = '2';  // the applicant's name, inside the signed CertificationRequestInfo

  auto tampered = Csr::FromDer(der);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(tampered.error().message(),
                       "CSR signature does not verify (the request was not made with the key "
                       "it carries)"))
      << tampered.error().message();

  WriteFile(dir_.File("tampered.der"), der);
  auto r =
      RunCommand(dir_, "openssl req -verify -noout -inform DER -in " + dir_.File("tampered.der"));
  // OpenSSL 3.0's `req -verify` exits 0 even then; its message is what it decided.
  EXPECT_TRUE(Contains(r.output, "verify failure")) << r.output;
  EXPECT_FALSE(Contains(r.output, "verify OK")) << r.output;

  // A flipped bit in the public key breaks the signature as well (or the key itself).
  der = csr->ToDer();
  std::string spki = csr->public_key().ToDer();
  at = der.find(spki);
  ASSERT_NE(at, std::string::npos);
  der[at + spki.size() - 1] ^= 0x01;
  EXPECT_FALSE(Csr::FromDer(der));
}

TEST_F(CsrTest, WeakRsaKeyParsesButIsRefusedWhenIssuing) {
  TROAD_REQUIRE_OPENSSL_CLI();
  std::string pem = OpensslCsr("rsa:1024", "/C=TW/O=MOI/serialNumber=10000001/CN=gw1.moi.example");
  auto csr = Csr::FromPem(pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  auto cert = IssueCertificateFromCsr(*ca_, *ca_key_, *csr, Gw1Request(), clock_);
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cert.error().message(),
            "CSR key refused: RSA key of 1024 bits is too weak: at least 2048 bits are required");
}

TEST_F(CsrTest, OtherCurveIsRefusedWhenIssuing) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto csr = Csr::FromPem(OpensslCsr("ec -pkeyopt ec_paramgen_curve:secp384r1",
                                     "/C=TW/O=MOI/serialNumber=10000001/CN=gw1.moi.example"));
  ASSERT_TRUE(csr) << csr.error().ToString();
  auto cert = IssueCertificateFromCsr(*ca_, *ca_key_, *csr, Gw1Request(), clock_);
  ASSERT_FALSE(cert);
  EXPECT_TRUE(Contains(cert.error().message(), "CSR key refused: EC key on curve secp384r1"))
      << cert.error().message();
}

TEST_F(CsrTest, SubjectMismatchIsRefusedNamingTheField) {
  PrivateKey key = *PrivateKey::GenerateEcP256();
  struct Case {
    CsrSubject asked;
    std::string message;
  };
  const Case cases[] = {
      {{"gw2.moi.example", "MOI", "", "10000001", "TW"},
       "CSR subject CN is 'gw2.moi.example' but the applicant is entitled to 'gw1.moi.example'"},
      {{"gw1.moi.example", "MOJ", "", "10000001", "TW"},
       "CSR subject O is 'MOJ' but the applicant is entitled to 'MOI'"},
      {{"gw1.moi.example", "MOI", "", "10000002", "TW"},
       "CSR subject serialNumber is '10000002' but the applicant is entitled to '10000001'"},
      {{"gw1.moi.example", "MOI", "", "", "TW"},
       "CSR subject serialNumber is (absent) but the applicant is entitled to '10000001'"},
      {{"gw1.moi.example", "MOI", "IT", "10000001", "TW"},
       "CSR subject OU is 'IT' but the applicant is entitled to (absent)"},
      {{"gw1.moi.example", "MOI", "", "10000001", "JP"},
       "CSR subject C is 'JP' but the applicant is entitled to 'TW'"},
  };
  for (const Case& c : cases) {
    auto csr = OurCsr(key, c.asked);
    ASSERT_TRUE(csr) << csr.error().ToString();
    auto cert = IssueCertificateFromCsr(*ca_, *ca_key_, *csr, Gw1Request(), clock_);
    ASSERT_FALSE(cert) << c.message;
    EXPECT_EQ(cert.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(cert.error().message(), c.message);
  }
  // The exact subject is accepted.
  auto csr = OurCsr(key, SubjectOf(Gw1Request()));
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_TRUE(CheckCsrSubject(*csr, SubjectOf(Gw1Request())));
}

TEST_F(CsrTest, CertificateFromOpensslCsrVerifiesAndCarriesItsKey) {
  TROAD_REQUIRE_OPENSSL_CLI();
  // The applicant also asks for a CA certificate and another name: both are ignored.
  std::string pem = OpensslCsr(
      "ec -pkeyopt ec_paramgen_curve:P-256", "/C=TW/O=MOI/serialNumber=10000001/CN=gw1.moi.example",
      "-addext basicConstraints=critical,CA:TRUE -addext subjectAltName=DNS:evil.example");
  auto csr = Csr::FromPem(pem);
  ASSERT_TRUE(csr) << csr.error().ToString();
  auto cert = IssueCertificateFromCsr(*ca_, *ca_key_, *csr, Gw1Request(), clock_);
  ASSERT_TRUE(cert) << cert.error().ToString();

  EXPECT_EQ(cert->GetPublicKey().ToDer(), csr->public_key().ToDer());
  EXPECT_EQ(cert->Subject(), csr->SubjectString());
  EXPECT_EQ(cert->Subject(), "CN=gw1.moi.example,serialNumber=10000001,O=MOI,C=TW");
  EXPECT_FALSE(cert->IsCa());
  EXPECT_EQ(cert->NotAfter(), clock_.Now() + 24h * 365);

  WriteFile(dir_.File("ca.pem"), ca_->ToPem());
  WriteFile(dir_.File("cert.pem"), cert->ToPem());
  auto r = RunCommand(dir_, "openssl verify -purpose sslclient -CAfile " + dir_.File("ca.pem") +
                                " " + dir_.File("cert.pem"));
  EXPECT_EQ(r.output, dir_.File("cert.pem") + ": OK\n");
  // The certificate's key is the one the gateway kept.
  r = RunCommand(dir_, "openssl x509 -noout -pubkey -in " + dir_.File("cert.pem"));
  EXPECT_EQ(r.output, OpensslPublicKeyPem(dir_.File("key.pem")));
  r = RunCommand(dir_, "openssl x509 -noout -text -in " + dir_.File("cert.pem"));
  EXPECT_TRUE(Contains(r.output, "CA:FALSE")) << r.output;
  EXPECT_TRUE(Contains(r.output, "DNS:gw1.moi.example")) << r.output;
  EXPECT_FALSE(Contains(r.output, "evil.example")) << r.output;
}

TEST_F(CsrTest, RsaCsrGetsASigningCertificate) {
  PrivateKey key = *PrivateKey::GenerateRsa(2048);
  CertificateRequest req;
  req.common_name = "MOI signing";
  req.organization = "MOI";
  req.serial_number_attr = "10000001";
  req.usage = CertUsage::kSigning;
  auto csr = OurCsr(key, SubjectOf(req));
  ASSERT_TRUE(csr) << csr.error().ToString();
  auto cert = IssueCertificateFromCsr(*ca_, *ca_key_, *csr, req, clock_);
  ASSERT_TRUE(cert) << cert.error().ToString();
  EXPECT_EQ(cert->GetPublicKey().ToDer(), key.Public().ToDer());
  auto store = TrustStore::Create({*ca_});
  EXPECT_TRUE(store->Verify(*cert, {}, clock_.Now()));
  // A signature by the gateway's key verifies with the certificate.
  auto sig = key.Sign("message");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(cert->GetPublicKey().Verify("message", *sig, "RS256"));
}

TEST_F(CsrTest, DuplicateSubjectAttributesAreRefused) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto csr = Csr::FromPem(OpensslCsr("ec -pkeyopt ec_paramgen_curve:P-256",
                                     "/C=TW/O=MOI/CN=gw1.moi.example/CN=gw2.moi.example"));
  ASSERT_FALSE(csr);
  EXPECT_EQ(csr.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(csr.error().message(), "CSR subject has more than one CN attribute");

  csr = Csr::FromPem(
      OpensslCsr("ec -pkeyopt ec_paramgen_curve:P-256", "/C=TW/O=MOI/O=MOJ/CN=gw1.moi.example"));
  ASSERT_FALSE(csr);
  EXPECT_EQ(csr.error().message(), "CSR subject has more than one O attribute");
}

TEST_F(CsrTest, MalformedInputIsRefusedWithTheReason) {
  auto csr = OurCsr(*PrivateKey::GenerateEcP256(), {"gw1", "MOI", "", "", "TW"});
  ASSERT_TRUE(csr) << csr.error().ToString();
  const std::string pem = csr->ToPem();
  const std::string der = csr->ToDer();

  auto pem_error = [](std::string_view input) {
    auto r = Csr::FromPem(input);
    EXPECT_FALSE(r) << "accepted: " << input;
    if (r) return std::string();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    return r.error().message();
  };
  auto der_error = [](std::string_view input) {
    auto r = Csr::FromDer(input);
    EXPECT_FALSE(r) << "accepted " << input.size() << " bytes";
    if (r) return std::string();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    return r.error().message();
  };

  EXPECT_TRUE(Contains(pem_error(""), "not a PEM certificate request"));
  EXPECT_TRUE(Contains(pem_error("hello, CA"), "not a PEM certificate request"));
  EXPECT_TRUE(Contains(pem_error(der), "not a PEM certificate request"));
  EXPECT_TRUE(Contains(pem_error("some text\n" + pem), "not a PEM certificate request"));
  EXPECT_EQ(pem_error(ca_->ToPem()),
            "not a PEM certificate request: found a 'CERTIFICATE' block instead");
  EXPECT_TRUE(Contains(pem_error(pem.substr(0, pem.size() / 2)), "malformed CSR PEM"));
  EXPECT_TRUE(Contains(pem_error(pem.substr(0, pem.size() - 10)), "malformed CSR PEM"));
  EXPECT_EQ(pem_error(pem + "junk\n"),
            "CSR PEM block is followed by 5 unexpected bytes (one request per input)");
  EXPECT_TRUE(Contains(pem_error(pem + pem), "followed by"));
  std::string bad_base64 = pem;
  bad_base64[pem.find('\n') + 5] = '*';
  EXPECT_TRUE(Contains(pem_error(bad_base64), "malformed CSR PEM"));
  EXPECT_TRUE(Contains(pem_error(std::string(kMaxCsrPemSize + 1, '\n') + pem), "larger than"));

  EXPECT_TRUE(Contains(der_error(""), "malformed CSR DER"));
  EXPECT_TRUE(Contains(der_error("garbage"), "malformed CSR DER"));
  EXPECT_TRUE(Contains(der_error(der.substr(0, der.size() - 1)), "malformed CSR DER"));
  EXPECT_TRUE(Contains(der_error(der.substr(0, 20)), "malformed CSR DER"));
  EXPECT_EQ(der_error(der + std::string(1, '\0')), "CSR DER is followed by 1 unexpected bytes");
  EXPECT_TRUE(Contains(der_error(std::string(kMaxCsrSize + 1, '\x30')), "larger than"));
  // A certificate is not a request.
  EXPECT_TRUE(Contains(der_error(ca_->ToDer()), "malformed CSR DER"));
}

TEST_F(CsrTest, CreateCsrPemValidatesTheSubject) {
  PrivateKey key = *PrivateKey::GenerateEcP256();
  struct Case {
    CsrSubject subject;
    std::string message;
  };
  const Case cases[] = {
      {{"", "MOI", "", "", "TW"}, "empty common name"},
      {{"gw1", "MOI", "", "", "tw"}, "country 'tw' is not a two-letter ISO 3166 code"},
      {{"gw1", "MOI", "", "", ""}, "country '' is not a two-letter ISO 3166 code"},
      {{std::string(65, 'a'), "MOI", "", "", "TW"}, "subject CN 'aaaa"},
      {{"gw1", "M\xff", "", "", "TW"}, "subject O is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    auto pem = CreateCsrPem(key, c.subject);
    ASSERT_FALSE(pem) << c.message;
    EXPECT_EQ(pem.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(pem.error().message(), c.message)) << pem.error().message();
  }
  EXPECT_TRUE(CreateCsrPem(key, {std::string(64, 'a'), "", "", "", "TW"}));
}

}  // namespace
}  // namespace troad::crypto
