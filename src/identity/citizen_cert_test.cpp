#include "identity/citizen_cert.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"

namespace troad::identity {
namespace {

using crypto::Certificate;
using crypto::CertificateRequest;
using crypto::CertUsage;
using crypto::PrivateKey;
using crypto::testutil::ReadFile;
using crypto::testutil::RunCommand;
using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;
using namespace std::chrono_literals;

constexpr std::string_view kCardId = "1234AB0000000001";  // MOICA-like subject serialNumber

using crypto::testutil::ExpectError;
using crypto::testutil::OpensslCaTime;

// A citizen PKI like MOICA's: a root, an issuing CA under it, citizens' certificates;
// an unrelated CA with a certificate of its own; CRLs made with `openssl ca`. Built
// once: RSA keys take a while.
struct Pki {
  std::unique_ptr<TempDir> dir;
  SystemTime t0;  // "now" when the leaves were issued
  Certificate root, inter, other_root, leaf, revoked, other_leaf;
  std::string inter_crl_pem;        // lists `revoked`, valid t0 - 1 h .. t0 + 7 d
  std::string stale_inter_crl_pem;  // lists `revoked`, valid t0 - 10 d .. t0 - 3 d
  std::string root_crl_pem;         // empty, valid t0 - 1 h .. t0 + 7 d
};

class CitizenCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TROAD_REQUIRE_OPENSSL_CLI();
    if (pki_ == nullptr) {
      std::string error;
      pki_ = BuildPki(&error);
      ASSERT_NE(pki_, nullptr) << error;
    }
  }

  static std::unique_ptr<Pki> BuildPki(std::string* error) {
    auto dir = std::make_unique<TempDir>();
    const SystemTime t0 = crypto::testutil::NowSeconds();
    const FakeClock ca_clock(t0 - 24h * 30);
    const FakeClock leaf_clock(t0);
    auto save_key = [&](const PrivateKey& key, const std::string& name) {
      WriteFile(dir->File(name), key.ToPem());
    };
    auto save_cert = [&](const Certificate& cert, const std::string& name) {
      WriteFile(dir->File(name), cert.ToPem());
    };

    PrivateKey root_key = PrivateKey::GenerateEcP256().value();
    CertificateRequest req;
    req.common_name = "Test GRCA";
    req.organization = "測試政府";
    req.validity = 24h * 365 * 10;
    const Certificate root = crypto::CreateSelfSignedCa(root_key, req, ca_clock).value();

    PrivateKey inter_key = PrivateKey::GenerateEcP256().value();
    req.common_name = "Test MOICA";
    req.usage = CertUsage::kCa;
    req.validity = 24h * 365 * 5;
    const Certificate inter =
        crypto::IssueCertificate(root, root_key, inter_key.Public(), req, ca_clock).value();

    PrivateKey leaf_key = PrivateKey::GenerateRsa(2048).value();  // as citizen cards hold
    CertificateRequest citizen;
    citizen.common_name = "王小明";
    citizen.serial_number_attr = std::string(kCardId);
    citizen.usage = CertUsage::kSigning;
    citizen.validity = 24h * 365;
    const Certificate leaf =
        crypto::IssueCertificate(inter, inter_key, leaf_key.Public(), citizen, leaf_clock).value();

    PrivateKey revoked_key = PrivateKey::GenerateEcP256().value();
    citizen.common_name = "李小華";
    citizen.serial_number_attr.clear();  // card_id falls back to the serial
    const Certificate revoked =
        crypto::IssueCertificate(inter, inter_key, revoked_key.Public(), citizen, leaf_clock)
            .value();

    PrivateKey xca_key = PrivateKey::GenerateEcP256().value();
    req.common_name = "Test XCA";
    const Certificate xca =
        crypto::IssueCertificate(root, root_key, xca_key.Public(), req, ca_clock).value();
    PrivateKey sibling_key = PrivateKey::GenerateEcP256().value();
    citizen.common_name = "某公司";
    const Certificate sibling =
        crypto::IssueCertificate(xca, xca_key, sibling_key.Public(), citizen, leaf_clock).value();

    PrivateKey other_root_key = PrivateKey::GenerateEcP256().value();
    req.common_name = "Another CA";
    req.organization.clear();
    const Certificate other_root =
        crypto::CreateSelfSignedCa(other_root_key, req, ca_clock).value();
    PrivateKey other_key = PrivateKey::GenerateEcP256().value();
    citizen.common_name = "王小明";
    citizen.serial_number_attr = std::string(kCardId);  // the same name, elsewhere
    const Certificate other_leaf = crypto::IssueCertificate(other_root, other_root_key,
                                                            other_key.Public(), citizen, leaf_clock)
                                       .value();

    save_key(root_key, "root.key");
    save_cert(root, "root.pem");
    save_key(inter_key, "inter.key");
    save_cert(inter, "inter.pem");
    save_key(leaf_key, "leaf.key");
    save_cert(leaf, "leaf.pem");
    save_key(revoked_key, "revoked.key");
    save_cert(revoked, "revoked.pem");
    save_cert(xca, "xca.pem");
    save_key(sibling_key, "sibling.key");
    save_cert(sibling, "sibling.pem");
    save_key(other_key, "other.key");
    save_cert(other_leaf, "other.pem");

    // The card's encryption certificate: keyEncipherment only. ca.h makes no such thing.
    const std::string d = dir->path().string();
    WriteFile(d + "/enc.ext", "keyUsage = critical, keyEncipherment\n");
    auto run = [&](const std::string& command) {
      auto r = RunCommand(*dir, "cd " + d + " && " + command);
      if (r.exit_code != 0) *error += command + " failed: " + r.output;
      return r.exit_code == 0;
    };
    if (!run("cp leaf.key enc.key && openssl req -new -key enc.key -subj '/CN=enc' -out enc.csr && "
             "openssl x509 -req -in enc.csr -CA inter.pem -CAkey inter.key -days 30 "
             "-extfile enc.ext -out enc.pem")) {
      return nullptr;
    }

    // CRLs the way a CA operator makes them: revoke into the index, then -gencrl.
    WriteFile(d + "/ca.cnf",
              "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ndefault_md = sha256\n");
    WriteFile(d + "/index.txt", "");
    const std::string inter_ca = "openssl ca -config ca.cnf -keyfile inter.key -cert inter.pem ";
    const std::string fresh = " -crl_lastupdate " + OpensslCaTime(t0 - 1h) + " -crl_nextupdate " +
                              OpensslCaTime(t0 + 24h * 7);
    if (!run(inter_ca + "-revoke revoked.pem -crl_reason keyCompromise") ||
        !run(inter_ca + "-gencrl" + fresh + " -out inter-crl.pem") ||
        !run(inter_ca + "-gencrl -crl_lastupdate " + OpensslCaTime(t0 - 24h * 10) +
             " -crl_nextupdate " + OpensslCaTime(t0 - 24h * 3) + " -out stale-crl.pem")) {
      return nullptr;
    }
    WriteFile(d + "/root.cnf",
              "[ca]\ndefault_ca = d\n[d]\ndatabase = root-index.txt\ndefault_md = sha256\n");
    WriteFile(d + "/root-index.txt", "");
    if (!run("openssl ca -config root.cnf -keyfile root.key -cert root.pem -gencrl" + fresh +
             " -out root-crl.pem")) {
      return nullptr;
    }
    std::string inter_crl = ReadFile(d + "/inter-crl.pem");
    std::string stale_crl = ReadFile(d + "/stale-crl.pem");
    std::string root_crl = ReadFile(d + "/root-crl.pem");
    return std::unique_ptr<Pki>(new Pki{std::move(dir), t0, root, inter, other_root, leaf, revoked,
                                        other_leaf, std::move(inter_crl), std::move(stale_crl),
                                        std::move(root_crl)});
  }

  const Pki& pki() const { return *pki_; }
  std::string File(const std::string& name) const { return pki_->dir->File(name); }
  SystemTime Now() const { return pki_->t0 + 1h; }

  // What a card component returns: `openssl cms -sign` of `content`, DER, attached
  // unless `detached`. `extra` adds options.
  std::string Sign(const std::string& signer, const std::string& content, bool detached = false,
                   const std::string& extra = "") {
    WriteFile(File("challenge.txt"), content);
    std::remove(File("sig.der").c_str());
    const std::string command =
        "openssl cms -sign -binary " + std::string(detached ? "-nosmimecap" : "-nodetach") +
        " -in " + File("challenge.txt") + " -signer " + File(signer + ".pem") + " -inkey " +
        File(signer + ".key") + " -outform DER -out " + File("sig.der") + " " + extra;
    auto r = RunCommand(*pki_->dir, command);
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.output;
    return ReadFile(File("sig.der"));
  }

  // A verifier trusting the citizen root and its issuing CA.
  static std::unique_ptr<CitizenCertVerifier> Verifier(std::vector<std::string> crls = {},
                                                       bool require_crl = false) {
    CitizenCaConfig config;
    config.ca_certificates_pem = pki_->root.ToPem() + pki_->inter.ToPem();
    config.crls = std::move(crls);
    config.require_crl = require_crl;
    auto verifier = CitizenCertVerifier::Create(config);
    EXPECT_TRUE(verifier.has_value()) << verifier.error().ToString();
    return verifier.has_value() ? std::move(*verifier) : nullptr;
  }

  static inline std::unique_ptr<Pki> pki_;
};

TEST_F(CitizenCertTest, AttachedSignatureIdentifiesTheCitizen) {
  const std::string challenge = NewCitizenChallenge();
  auto result = Verifier()->Verify(Sign("leaf", challenge), challenge, Now());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->subject, pki().leaf.Subject());
  EXPECT_NE(result->subject.find("CN=王小明"), std::string::npos) << result->subject;
  EXPECT_EQ(result->serial_hex, pki().leaf.SerialHex());
  EXPECT_EQ(result->issuer, pki().inter.Subject());
  EXPECT_EQ(result->card_id, kCardId);
  EXPECT_EQ(result->not_after, std::chrono::system_clock::to_time_t(pki().leaf.NotAfter()));
  EXPECT_EQ(result->certificate_der, pki().leaf.ToDer());
  EXPECT_EQ(result->issuer_certificate_der, pki().inter.ToDer());
}

TEST_F(CitizenCertTest, DetachedSignatureIsVerifiedAgainstTheChallenge) {
  const std::string challenge = NewCitizenChallenge();
  auto result = Verifier()->Verify(Sign("leaf", challenge, /*detached=*/true), challenge, Now());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->card_id, kCardId);
}

TEST_F(CitizenCertTest, Base64OfDerIsAccepted) {
  const std::string challenge = NewCitizenChallenge();
  std::string b64 = Base64Encode(Sign("leaf", challenge));
  for (size_t at = 64; at < b64.size(); at += 66) b64.insert(at, "\r\n");  // wrapped lines
  auto result = Verifier()->Verify(b64, challenge, Now());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->serial_hex, pki().leaf.SerialHex());
}

TEST_F(CitizenCertTest, CardIdIsTheSerialWithoutSubjectSerialNumber) {
  // Without CRLs configured, revocation is not checked: this one was revoked.
  const std::string challenge = NewCitizenChallenge();
  auto result = Verifier()->Verify(Sign("revoked", challenge), challenge, Now());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->card_id, pki().revoked.SerialHex());
}

TEST_F(CitizenCertTest, IssuingCaWithoutItsRootIsRefusedAtCreate) {
  CitizenCaConfig config;
  config.ca_certificates_pem = pki().inter.ToPem();
  auto verifier = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(verifier.has_value());
  EXPECT_EQ(verifier.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(verifier.error().message().find("does not chain to a configured root certificate"),
            std::string::npos)
      << verifier.error().message();
  EXPECT_NE(verifier.error().message().find("add its issuer " + pki().root.Subject()),
            std::string::npos)
      << verifier.error().message();
}

TEST_F(CitizenCertTest, CertificateFromASiblingCaUnderTheSameRootIsRefused) {
  // Like an organisation certificate (XCA) under GRCA: a good chain, but not a citizen's.
  const std::string challenge = NewCitizenChallenge();
  const std::string message = Sign("sibling", challenge, false, "-certfile " + File("xca.pem"));
  ExpectError(Verifier()->Verify(message, challenge, Now()), ErrorCode::kUnauthenticated,
              "signed by a certificate from another CA");
  ExpectError(Verifier()->Verify(message, challenge, Now()), ErrorCode::kUnauthenticated,
              "issued by CN=Test XCA");
}

TEST_F(CitizenCertTest, WrongChallengeIsRefusedAsReplay) {
  const std::string old_challenge = NewCitizenChallenge();
  const std::string message = Sign("leaf", old_challenge);
  ExpectError(Verifier()->Verify(message, NewCitizenChallenge(), Now()),
              ErrorCode::kUnauthenticated, "signed a different challenge");
}

TEST_F(CitizenCertTest, WrongChallengeIsRefusedWhenDetached) {
  const std::string message = Sign("leaf", NewCitizenChallenge(), /*detached=*/true);
  ExpectError(Verifier()->Verify(message, NewCitizenChallenge(), Now()),
              ErrorCode::kUnauthenticated, "signed a different challenge");
}

TEST_F(CitizenCertTest, CertificateFromAnotherCaIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("other", challenge), challenge, Now()),
              ErrorCode::kUnauthenticated, "signed by a certificate from another CA");
}

TEST_F(CitizenCertTest, RevokedCertificateIsRefusedWithItsSerial) {
  const std::string challenge = NewCitizenChallenge();
  auto result =
      Verifier({pki().inter_crl_pem})->Verify(Sign("revoked", challenge), challenge, Now());
  ExpectError(result, ErrorCode::kUnauthenticated,
              "the certificate was revoked: serial " + pki().revoked.SerialHex());
  EXPECT_NE(result.error().message().find("keyCompromise"), std::string::npos)
      << result.error().message();
}

TEST_F(CitizenCertTest, RevocationIsReportedEvenWithAStaleCrl) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(
      Verifier({pki().stale_inter_crl_pem})->Verify(Sign("revoked", challenge), challenge, Now()),
      ErrorCode::kUnauthenticated, "the certificate was revoked");
  ExpectError(
      Verifier({pki().stale_inter_crl_pem})->Verify(Sign("revoked", challenge), challenge, Now()),
      ErrorCode::kUnauthenticated, "reason keyCompromise");
}

TEST_F(CitizenCertTest, GoodCertificatePassesWithEveryCrlRequired) {
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier({pki().inter_crl_pem, pki().root_crl_pem}, /*require_crl=*/true);
  auto result = verifier->Verify(Sign("leaf", challenge, true), challenge, Now());
  EXPECT_TRUE(result.has_value()) << result.error().ToString();
}

TEST_F(CitizenCertTest, ExpiredCertificateIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("leaf", challenge), challenge, pki().leaf.NotAfter() + 1s),
              ErrorCode::kUnauthenticated, "the certificate has expired");
}

TEST_F(CitizenCertTest, NotYetValidCertificateIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("leaf", challenge), challenge, pki().t0 - 1h),
              ErrorCode::kUnauthenticated, "the certificate is not yet valid");
}

TEST_F(CitizenCertTest, TamperedSignatureIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  for (bool detached : {false, true}) {
    std::string message = Sign("leaf", challenge, detached);
    ASSERT_FALSE(message.empty());
    message.back() = static_cast<char>(message.back() ^ 0x01);  // the RSA signature's last byte
    ExpectError(Verifier()->Verify(message, challenge, Now()), ErrorCode::kUnauthenticated,
                "the signature does not match");
  }
}

TEST_F(CitizenCertTest, AlteredContentIsRefused) {
  const std::string signed_challenge = NewCitizenChallenge();
  std::string message = Sign("leaf", signed_challenge);
  const size_t at = message.find(signed_challenge);
  ASSERT_NE(at, std::string::npos);
  std::string altered = signed_challenge;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  message.replace(at, altered.size(), altered);
  ExpectError(Verifier()->Verify(message, altered, Now()), ErrorCode::kUnauthenticated,
              "the signature does not match: the signed content was altered");
}

TEST_F(CitizenCertTest, GarbageIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier();
  ExpectError(verifier->Verify("this is not a signature", challenge, Now()),
              ErrorCode::kInvalidArgument, "neither DER");
  ExpectError(verifier->Verify(std::string("\x30\x03\x02\x01\x01", 5), challenge, Now()),
              ErrorCode::kInvalidArgument, "not a DER CMS ContentInfo");
  ExpectError(verifier->Verify(Base64Encode("not DER"), challenge, Now()),
              ErrorCode::kInvalidArgument, "base64, but not of DER");
  ExpectError(verifier->Verify(Sign("leaf", challenge) + "x", challenge, Now()),
              ErrorCode::kInvalidArgument, "followed by 1 unexpected bytes");
  ExpectError(verifier->Verify(ReadFile(File("leaf.pem")), challenge, Now()),
              ErrorCode::kInvalidArgument, "neither DER");
}

TEST_F(CitizenCertTest, EmptyMessageAndEmptyChallengeAreRefused) {
  ExpectError(Verifier()->Verify("", NewCitizenChallenge(), Now()), ErrorCode::kInvalidArgument,
              "the signed message is empty");
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("leaf", challenge), "", Now()), ErrorCode::kInvalidArgument,
              "the expected challenge is empty");
}

TEST_F(CitizenCertTest, OversizedMessageIsRefused) {
  std::string message(kMaxCitizenSignedMessageBytes + 1, 'A');
  message[0] = '\x30';
  ExpectError(Verifier()->Verify(message, NewCitizenChallenge(), Now()),
              ErrorCode::kInvalidArgument, "more than the 65536 accepted");
}

TEST_F(CitizenCertTest, RequiredCrlMissingIsRefused) {
  // The root's CRL is there, the issuing CA's is not.
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier({pki().root_crl_pem}, /*require_crl=*/true);
  ExpectError(verifier->Verify(Sign("leaf", challenge), challenge, Now()),
              ErrorCode::kFailedPrecondition, "no CRL of " + pki().inter.Subject());
}

TEST_F(CitizenCertTest, MissingCrlIsAcceptedWhenNotRequired) {
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier({pki().root_crl_pem});
  auto result = verifier->Verify(Sign("leaf", challenge), challenge, Now());
  EXPECT_TRUE(result.has_value()) << result.error().ToString();
}

TEST_F(CitizenCertTest, StaleCrlIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier({pki().stale_inter_crl_pem});
  ExpectError(verifier->Verify(Sign("leaf", challenge), challenge, Now()),
              ErrorCode::kFailedPrecondition,
              "the CRL of " + pki().inter.Subject() + " is out of date");
}

TEST_F(CitizenCertTest, CrlIsJudgedAtTheInjectedTime) {
  // The fresh CRL's nextUpdate is t0 + 7 days.
  const std::string challenge = NewCitizenChallenge();
  auto verifier = Verifier({pki().inter_crl_pem});
  const std::string message = Sign("leaf", challenge);
  EXPECT_TRUE(verifier->Verify(message, challenge, pki().t0 + 24h * 7 - 1s).has_value());
  ExpectError(verifier->Verify(message, challenge, pki().t0 + 24h * 7 + 1s),
              ErrorCode::kFailedPrecondition, "is out of date");
}

TEST_F(CitizenCertTest, ZeroOrSeveralSignersAreRefused) {
  auto r = RunCommand(*pki().dir, "openssl crl2pkcs7 -nocrl -certfile " + File("leaf.pem") +
                                      " -outform DER -out " + File("nosig.der"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(ReadFile(File("nosig.der")), challenge, Now()),
              ErrorCode::kInvalidArgument, "has 0 signers");
  const std::string two = Sign("leaf", challenge, false,
                               "-signer " + File("revoked.pem") + " -inkey " + File("revoked.key"));
  ExpectError(Verifier()->Verify(two, challenge, Now()), ErrorCode::kInvalidArgument,
              "has 2 signers");
}

TEST_F(CitizenCertTest, MessageWithoutTheSignerCertificateIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("leaf", challenge, false, "-nocerts"), challenge, Now()),
              ErrorCode::kInvalidArgument, "does not carry its signer's certificate");
}

TEST_F(CitizenCertTest, Sha1DigestIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("leaf", challenge, false, "-md sha1"), challenge, Now()),
              ErrorCode::kInvalidArgument, "uses digest SHA1");
}

TEST_F(CitizenCertTest, EncryptionCertificateIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("enc", challenge), challenge, Now()),
              ErrorCode::kUnauthenticated, "is not for signing");
}

TEST_F(CitizenCertTest, SignatureByTheCaItselfIsRefused) {
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier()->Verify(Sign("inter", challenge), challenge, Now()),
              ErrorCode::kUnauthenticated, "signed with CA certificate");
}

TEST_F(CitizenCertTest, OpensslCmsVerifyAgrees) {
  // Cross-check: the command line accepts what we accept and refuses the revoked one.
  const std::string challenge = NewCitizenChallenge();
  WriteFile(File("good.der"), Sign("leaf", challenge));
  WriteFile(File("revoked.der"), Sign("revoked", challenge));
  // `openssl cms -verify` takes CRLs from the -CAfile bundle.
  WriteFile(File("trust.pem"), pki().root.ToPem() + pki().inter.ToPem() + pki().inter_crl_pem);
  const std::string verify =
      "openssl cms -verify -binary -inform DER -purpose any -no-CApath -no-CAstore -CAfile " +
      File("trust.pem") + " -attime " +
      std::to_string(std::chrono::system_clock::to_time_t(Now())) +
      " -crl_check -out /dev/null -in ";
  auto good = RunCommand(*pki().dir, verify + File("good.der"));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  auto revoked = RunCommand(*pki().dir, verify + File("revoked.der"));
  EXPECT_NE(revoked.exit_code, 0) << revoked.output;
  EXPECT_NE(revoked.output.find("revoked"), std::string::npos) << revoked.output;

  auto ours = Verifier({pki().inter_crl_pem});
  EXPECT_TRUE(ours->Verify(ReadFile(File("good.der")), challenge, Now()).has_value());
  EXPECT_FALSE(ours->Verify(ReadFile(File("revoked.der")), challenge, Now()).has_value());
}

TEST_F(CitizenCertTest, CreateRefusesBadConfiguration) {
  CitizenCaConfig config;
  auto empty = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(empty.error().message().find("citizen CA certificates"), std::string::npos)
      << empty.error().message();

  config.ca_certificates_pem = pki().inter.ToPem() + pki().leaf.ToPem();
  auto not_ca = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(not_ca.has_value());
  EXPECT_EQ(not_ca.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(not_ca.error().message().find("is not a CA certificate"), std::string::npos)
      << not_ca.error().message();

  config.ca_certificates_pem = pki().other_root.ToPem();
  config.crls = {pki().root_crl_pem};  // the citizen root is not configured
  auto foreign_crl = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(foreign_crl.has_value());
  EXPECT_EQ(foreign_crl.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(foreign_crl.error().message().find("was not issued by any configured citizen CA"),
            std::string::npos)
      << foreign_crl.error().message();

  config.ca_certificates_pem = pki().root.ToPem() + pki().inter.ToPem();
  config.crls = {"garbage"};
  auto garbage = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(garbage.error().message().find("CRL 1 is neither PEM nor a DER CRL"), std::string::npos)
      << garbage.error().message();

  config.crls.clear();
  config.require_crl = true;
  auto required = CitizenCertVerifier::Create(config);
  ASSERT_FALSE(required.has_value());
  EXPECT_EQ(required.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(required.error().message().find("CRLs are required, but none"), std::string::npos)
      << required.error().message();
}

TEST_F(CitizenCertTest, CrlAsDerIsAccepted) {
  auto r = RunCommand(*pki().dir, "openssl crl -in " + File("inter-crl.pem") +
                                      " -outform DER -out " + File("inter-crl.der"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string challenge = NewCitizenChallenge();
  ExpectError(Verifier({ReadFile(File("inter-crl.der"))})
                  ->Verify(Sign("revoked", challenge), challenge, Now()),
              ErrorCode::kUnauthenticated, "the certificate was revoked");
}

TEST(CitizenChallengeTest, IsPrefixedRandomAndUrlSafe) {
  const std::string a = NewCitizenChallenge();
  const std::string b = NewCitizenChallenge();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), kCitizenChallengePrefix.size() + 43);
  EXPECT_EQ(a.substr(0, kCitizenChallengePrefix.size()), kCitizenChallengePrefix);
  auto random = Base64UrlDecode(a.substr(kCitizenChallengePrefix.size()));
  ASSERT_TRUE(random.has_value()) << random.error().ToString();
  EXPECT_EQ(random->size(), 32u);
}

}  // namespace
}  // namespace troad::identity
