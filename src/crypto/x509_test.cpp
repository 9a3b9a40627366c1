#include "crypto/x509.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/hash.h"
#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using namespace std::chrono_literals;
using testutil::NowSeconds;
using testutil::RunCommand;
using testutil::TempDir;
using testutil::WriteFile;

// A CA, an intermediate CA, and leaves, valid now so the openssl CLI accepts them too.
class X509Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = *PrivateKey::GenerateEcP256();
    CertificateRequest ca_req;
    ca_req.common_name = "troad test root";
    ca_req.organization = "MODA";
    ca_req.usage = CertUsage::kCa;
    ca_req.validity = 24h * 3650;
    ca_ = *CreateSelfSignedCa(*ca_key_, ca_req, clock_);

    leaf_key_ = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = "gw1";
    req.organization = "MOI";
    req.organizational_unit = "Department of Household Registration";
    req.serial_number_attr = "10000001";
    req.ip_addresses = {"127.0.0.1"};
    req.usage = CertUsage::kAuthentication;
    leaf_ = *IssueCertificate(*ca_, *ca_key_, leaf_key_->Public(), req, clock_);
  }

  Certificate MakeOtherCa(const std::string& cn, PrivateKey* key_out) {
    *key_out = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = cn;
    req.usage = CertUsage::kCa;
    return *CreateSelfSignedCa(*key_out, req, clock_);
  }

  FakeClock clock_{NowSeconds()};
  std::optional<PrivateKey> ca_key_;
  std::optional<Certificate> ca_;
  std::optional<PrivateKey> leaf_key_;
  std::optional<Certificate> leaf_;
};

TEST_F(X509Test, PemAndDerRoundTrip) {
  std::string pem = leaf_->ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  auto from_pem = Certificate::FromPem(pem);
  ASSERT_TRUE(from_pem) << from_pem.error().ToString();
  EXPECT_EQ(from_pem->ToDer(), leaf_->ToDer());
  auto from_der = Certificate::FromDer(leaf_->ToDer());
  ASSERT_TRUE(from_der) << from_der.error().ToString();
  EXPECT_EQ(from_der->ToPem(), pem);
}

TEST_F(X509Test, Accessors) {
  EXPECT_EQ(leaf_->Subject(),
            "CN=gw1,serialNumber=10000001,OU=Department of Household Registration,O=MOI,C=TW");
  EXPECT_EQ(leaf_->CommonName(), "gw1");
  EXPECT_EQ(leaf_->Country(), "TW");
  EXPECT_EQ(Certificate::FromPem(leaf_->ToPem())->Country(), "TW");
  EXPECT_EQ(leaf_->Issuer(), "CN=troad test root,O=MODA,C=TW");
  EXPECT_EQ(ca_->Issuer(), ca_->Subject());
  EXPECT_TRUE(ca_->IsCa());
  EXPECT_FALSE(leaf_->IsCa());
  EXPECT_EQ(leaf_->NotBefore(), clock_.Now() - 60s);
  EXPECT_EQ(leaf_->NotAfter(), clock_.Now() + 24h * 365);
  EXPECT_EQ(leaf_->GetPublicKey().ToDer(), leaf_key_->Public().ToDer());
  EXPECT_EQ(leaf_->GetPublicKey().Algorithm(), "ES256");
  EXPECT_EQ(leaf_->SerialHex(), Certificate::FromDer(leaf_->ToDer())->SerialHex());
}

TEST_F(X509Test, SubjectKeepsUtf8AndEscapesSpecials) {
  CertificateRequest req;
  req.common_name = "gw, \"main\"";
  req.organization = "內政部";
  auto cert = IssueCertificate(*ca_, *ca_key_, leaf_key_->Public(), req, clock_);
  ASSERT_TRUE(cert) << cert.error().ToString();
  EXPECT_EQ(cert->Subject(), "CN=gw\\, \\\"main\\\",O=內政部,C=TW");
  EXPECT_EQ(cert->CommonName(), "gw, \"main\"");
}

TEST_F(X509Test, FingerprintIsSha256OfDer) {
  std::string fp = leaf_->Sha256Fingerprint();
  EXPECT_EQ(fp, HexEncode(DigestView(Sha256(leaf_->ToDer()))));
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_NE(fp, ca_->Sha256Fingerprint());
}

TEST_F(X509Test, AccessorsAgreeWithOpensslCli) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  WriteFile(dir.File("leaf.pem"), leaf_->ToPem());
  auto fp = RunCommand(dir, "openssl x509 -noout -fingerprint -sha256 -in " + dir.File("leaf.pem"));
  ASSERT_EQ(fp.exit_code, 0) << fp.output;
  // "sha256 Fingerprint=AB:CD:..." (the prefix differs between versions) -> "abcd..."
  std::string hex = fp.output.substr(fp.output.find('=') + 1);
  std::erase_if(hex, [](char c) { return c == ':' || c == '\n'; });
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(hex, leaf_->Sha256Fingerprint());

  auto subject =
      RunCommand(dir, "openssl x509 -noout -subject -nameopt RFC2253 -in " + dir.File("leaf.pem"));
  EXPECT_EQ(subject.output, "subject=" + leaf_->Subject() + "\n");

  auto serial = RunCommand(dir, "openssl x509 -noout -serial -in " + dir.File("leaf.pem"));
  std::string serial_hex = serial.output.substr(serial.output.find('=') + 1);
  serial_hex.pop_back();  // newline
  std::transform(serial_hex.begin(), serial_hex.end(), serial_hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(serial_hex, leaf_->SerialHex());
}

TEST_F(X509Test, ChainFromPemReadsEveryCertificate) {
  auto chain = Certificate::ChainFromPem(leaf_->ToPem() + ca_->ToPem());
  ASSERT_TRUE(chain) << chain.error().ToString();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].ToDer(), leaf_->ToDer());
  EXPECT_EQ((*chain)[1].ToDer(), ca_->ToDer());

  // Text around the blocks, as `openssl x509 -text` leaves it, is ignored.
  auto commented = Certificate::ChainFromPem("leaf:\n" + leaf_->ToPem() + "root:\n" + ca_->ToPem());
  ASSERT_TRUE(commented) << commented.error().ToString();
  EXPECT_EQ(commented->size(), 2u);
}

TEST_F(X509Test, ChainFromPemRefusesEmptyAndDamagedBundles) {
  auto empty = Certificate::ChainFromPem("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(empty.error().message().find("no '-----BEGIN CERTIFICATE-----'"), std::string::npos);

  std::string second = ca_->ToPem();
  second[100] = '!';
  auto damaged = Certificate::ChainFromPem(leaf_->ToPem() + second);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(damaged.error().message().find("malformed certificate #2"), std::string::npos)
      << damaged.error().message();
}

TEST_F(X509Test, MalformedInputIsRefusedWithReason) {
  auto not_pem = Certificate::FromPem("hello");
  ASSERT_FALSE(not_pem);
  EXPECT_EQ(not_pem.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(not_pem.error().message(),
            "no '-----BEGIN CERTIFICATE-----' block found in the certificate PEM");

  // A key is not a certificate.
  auto key_pem = Certificate::FromPem(leaf_key_->Public().ToPem());
  ASSERT_FALSE(key_pem);
  EXPECT_NE(key_pem.error().message().find("no '-----BEGIN CERTIFICATE-----'"), std::string::npos);

  std::string pem = leaf_->ToPem();
  pem[28] = 'A';  // still base64, but the DER no longer starts with a SEQUENCE
  auto broken = Certificate::FromPem(pem);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find(
                "malformed certificate PEM: the 'CERTIFICATE' PEM block does not hold valid DER"),
            std::string::npos)
      << broken.error().message();

  auto der = Certificate::FromDer("\x30\x82\x01");
  ASSERT_FALSE(der);
  EXPECT_NE(der.error().message().find("malformed certificate DER (3 bytes)"), std::string::npos)
      << der.error().message();

  auto trailing = Certificate::FromDer(leaf_->ToDer() + "x");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message().find("1 unexpected bytes"), std::string::npos);

  EXPECT_FALSE(Certificate::FromDer(""));
}

TEST_F(X509Test, LoadPemFileNamesTheFile) {
  TempDir dir;
  WriteFile(dir.File("ca.pem"), ca_->ToPem());
  auto ok = Certificate::LoadPemFile(dir.File("ca.pem"));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->ToDer(), ca_->ToDer());

  auto missing = Certificate::LoadPemFile(dir.File("none.pem"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("none.pem"), std::string::npos);

  WriteFile(dir.File("bad.pem"), "junk");
  auto bad = Certificate::LoadPemFile(dir.File("bad.pem"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind(dir.File("bad.pem") + ": no '-----BEGIN", 0), 0u)
      << bad.error().message();
}

TEST_F(X509Test, PublicKeyOfCertificateVerifiesHolderSignature) {
  std::string sig = *leaf_key_->Sign("message");
  EXPECT_TRUE(leaf_->GetPublicKey().Verify("message", sig, "ES256"));
  EXPECT_FALSE(ca_->GetPublicKey().Verify("message", sig, "ES256"));
}

TEST_F(X509Test, TrustStoreNeedsCaAnchors) {
  auto none = TrustStore::Create({});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
  auto leaf_anchor = TrustStore::Create({*leaf_});
  ASSERT_FALSE(leaf_anchor);
  EXPECT_NE(leaf_anchor.error().message().find("CN=gw1"), std::string::npos);
  auto ok = TrustStore::Create({*ca_});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->anchors().size(), 1u);
}

TEST_F(X509Test, TrustStoreAcceptsCertificateFromAnchor) {
  auto store = TrustStore::Create({*ca_});
  ASSERT_TRUE(store);
  auto st = store->Verify(*leaf_, {}, clock_.Now());
  EXPECT_TRUE(st) << st.error().ToString();
  EXPECT_TRUE(store->Verify(*ca_, {}, clock_.Now()));
}

TEST_F(X509Test, TrustStoreRefusesCertificateFromAnotherCa) {
  PrivateKey other_key = *PrivateKey::GenerateEcP256();
  Certificate other_ca = MakeOtherCa("impostor root", &other_key);
  CertificateRequest req;
  req.common_name = "gw1";  // same name as the real one
  req.organization = "MOI";
  auto forged = IssueCertificate(other_ca, other_key, leaf_key_->Public(), req, clock_);
  ASSERT_TRUE(forged);

  auto store = TrustStore::Create({*ca_});
  auto st = store->Verify(*forged, {}, clock_.Now());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(st.error().message(), "unable to get local issuer certificate: CN=gw1,O=MOI,C=TW");
  // Offering the impostor root as an intermediate does not help.
  st = store->Verify(*forged, {other_ca}, clock_.Now());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(X509Test, TrustStoreRefusesExpiredAndNotYetValid) {
  auto store = TrustStore::Create({*ca_});
  FakeClock later(clock_.Now() + 24h * 366 * 2);
  auto expired = store->Verify(*leaf_, {}, later.Now());
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(expired.error().message(), "certificate has expired: " + leaf_->Subject());

  auto early = store->Verify(*leaf_, {}, clock_.Now() - 24h);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(early.error().message().find("not yet valid"), std::string::npos)
      << early.error().message();
}

TEST_F(X509Test, TrustStoreFollowsIntermediates) {
  PrivateKey inter_key = *PrivateKey::GenerateEcP256();
  CertificateRequest inter_req;
  inter_req.common_name = "troad issuing CA";
  inter_req.usage = CertUsage::kCa;
  Certificate inter = *IssueCertificate(*ca_, *ca_key_, inter_key.Public(), inter_req, clock_);
  CertificateRequest req;
  req.common_name = "gw2";
  req.usage = CertUsage::kSigning;
  Certificate leaf = *IssueCertificate(inter, inter_key, leaf_key_->Public(), req, clock_);

  auto store = TrustStore::Create({*ca_});
  auto st = store->Verify(leaf, {inter}, clock_.Now());
  EXPECT_TRUE(st) << st.error().ToString();
  auto missing = store->Verify(leaf, {}, clock_.Now());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("CN=gw2"), std::string::npos);
}

TEST_F(X509Test, OpensslCliVerifiesIssuedChain) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  WriteFile(dir.File("ca.pem"), ca_->ToPem());
  WriteFile(dir.File("leaf.pem"), leaf_->ToPem());
  auto ok =
      RunCommand(dir, "openssl verify -CAfile " + dir.File("ca.pem") + " " + dir.File("leaf.pem"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, dir.File("leaf.pem") + ": OK\n");

  // The same command refuses a chain it should refuse.
  PrivateKey other_key = *PrivateKey::GenerateEcP256();
  WriteFile(dir.File("other.pem"), MakeOtherCa("other", &other_key).ToPem());
  auto bad = RunCommand(
      dir, "openssl verify -CAfile " + dir.File("other.pem") + " " + dir.File("leaf.pem"));
  EXPECT_NE(bad.exit_code, 0) << bad.output;
}

}  // namespace
}  // namespace troad::crypto
