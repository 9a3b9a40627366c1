#include "crypto/key.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using testutil::ReadFile;
using testutil::RunCommand;
using testutil::TempDir;
using testutil::WriteFile;

// RSA key generation is slow; every test shares one key of each kind.
class KeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec_ = new PrivateKey(*PrivateKey::GenerateEcP256());
    rsa_ = new PrivateKey(*PrivateKey::GenerateRsa(2048));
  }
  static void TearDownTestSuite() {
    delete ec_;
    delete rsa_;
  }
  static const PrivateKey& Ec() { return *ec_; }
  static const PrivateKey& Rsa() { return *rsa_; }

 private:
  static inline PrivateKey* ec_ = nullptr;
  static inline PrivateKey* rsa_ = nullptr;
};

// A key troad would never make itself, made with OpenSSL directly.
PublicKey NativeKey(const char* type, const char* curve, size_t rsa_bits) {
  EVP_PKEY* pkey = curve != nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, type, rsa_bits);
  EXPECT_NE(pkey, nullptr);
  PublicKey key = PublicKey::FromNative(pkey);
  EVP_PKEY_free(pkey);  // FromNative took its own reference
  return key;
}

// A big-number parameter of `key` (an RSA modulus, an EC coordinate), big-endian,
// left-padded with zeros to `width` bytes (0: minimal length).
std::string BnParam(const PublicKey& key, const char* name, size_t width) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.native(), name, &bn), 1) << name;
  std::string out(std::max(static_cast<size_t>(BN_num_bytes(bn)), width), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

TEST_F(KeyTest, Es256SignVerifyRoundTrip) {
  EXPECT_EQ(Ec().type(), KeyType::kEcP256);
  EXPECT_EQ(Ec().Algorithm(), "ES256");
  auto sig = Ec().Sign("hello T-Road");
  ASSERT_TRUE(sig) << sig.error().ToString();
  EXPECT_EQ((*sig)[0], '\x30');  // DER SEQUENCE
  auto ok = Ec().Public().Verify("hello T-Road", *sig, "ES256");
  EXPECT_TRUE(ok) << ok.error().ToString();
}

TEST_F(KeyTest, Rs256SignVerifyRoundTrip) {
  EXPECT_EQ(Rsa().type(), KeyType::kRsa);
  EXPECT_EQ(Rsa().Algorithm(), "RS256");
  auto sig = Rsa().Sign("hello T-Road");
  ASSERT_TRUE(sig) << sig.error().ToString();
  EXPECT_EQ(sig->size(), 256u);
  auto ok = Rsa().Public().Verify("hello T-Road", *sig, "RS256");
  EXPECT_TRUE(ok) << ok.error().ToString();
  // PKCS#1 v1.5 is deterministic.
  EXPECT_EQ(*Rsa().Sign("hello T-Road"), *sig);
}

TEST_F(KeyTest, EmptyMessageSignsAndVerifies) {
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    auto sig = key->Sign("");
    ASSERT_TRUE(sig);
    EXPECT_TRUE(key->Public().Verify("", *sig, key->Algorithm()));
  }
}

TEST_F(KeyTest, TamperedDataIsUnauthenticated) {
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    std::string sig = *key->Sign("pay 100 to alice");
    auto st = key->Public().Verify("pay 900 to alice", sig, key->Algorithm());
    ASSERT_FALSE(st) << key->Algorithm();
    EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_NE(st.error().message().find("does not verify"), std::string::npos);
  }
}

TEST_F(KeyTest, TamperedSignatureIsUnauthenticated) {
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    std::string sig = *key->Sign("data");
    // The last byte is inside ECDSA's s (still valid DER) or inside the RSA block.
    sig.back() = static_cast<char>(sig.back() ^ 0x01);
    auto st = key->Public().Verify("data", sig, key->Algorithm());
    ASSERT_FALSE(st) << key->Algorithm();
    EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated) << st.error().ToString();
  }
}

TEST_F(KeyTest, SignatureByAnotherKeyIsUnauthenticated) {
  auto other = PrivateKey::GenerateEcP256();
  ASSERT_TRUE(other);
  std::string sig = *other->Sign("data");
  auto st = Ec().Public().Verify("data", sig, "ES256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(KeyTest, MalformedSignatureIsInvalidArgument) {
  auto st = Ec().Public().Verify("data", "not a DER signature", "ES256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("not a DER"), std::string::npos) << st.error().message();

  std::string ec_sig = *Ec().Sign("data");
  st = Ec().Public().Verify("data", ec_sig + "x", "ES256");  // trailing garbage
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);

  st = Rsa().Public().Verify("data", std::string(255, 'x'), "RS256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("exactly 256"), std::string::npos) << st.error().message();

  st = Ec().Public().Verify("data", "", "ES256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(KeyTest, AlgorithmMismatchIsInvalidArgument) {
  std::string sig = *Ec().Sign("data");
  auto st = Ec().Public().Verify("data", sig, "RS256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("does not match the ES256 key"), std::string::npos)
      << st.error().message();

  st = Rsa().Public().Verify("data", *Rsa().Sign("data"), "ES256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);

  st = Ec().Public().Verify("data", sig, "HS256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("not supported"), std::string::npos);
}

TEST_F(KeyTest, PrivateKeyPemRoundTrip) {
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    std::string pem = key->ToPem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << "PKCS#8 expected";
    auto back = PrivateKey::FromPem(pem);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(back->type(), key->type());
    EXPECT_EQ(back->Public().ToDer(), key->Public().ToDer());
    // The loaded key signs what the original's public key accepts.
    EXPECT_TRUE(key->Public().Verify("x", *back->Sign("x"), key->Algorithm()));
  }
}

TEST_F(KeyTest, PublicKeyPemAndDerRoundTrip) {
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    PublicKey pub = key->Public();
    std::string pem = pub.ToPem();
    EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
    auto from_pem = PublicKey::FromPem(pem);
    ASSERT_TRUE(from_pem) << from_pem.error().ToString();
    EXPECT_EQ(from_pem->ToDer(), pub.ToDer());
    auto from_der = PublicKey::FromDer(pub.ToDer());
    ASSERT_TRUE(from_der) << from_der.error().ToString();
    EXPECT_EQ(from_der->ToPem(), pem);
    EXPECT_EQ(from_der->Algorithm(), key->Algorithm());
  }
}

TEST_F(KeyTest, MalformedPemIsRefusedWithReason) {
  auto no_block = PrivateKey::FromPem("this is not a key");
  ASSERT_FALSE(no_block);
  EXPECT_EQ(no_block.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_block.error().message().find("no '-----BEGIN PRIVATE KEY-----'"), std::string::npos)
      << no_block.error().message();

  // A public key where a private key is expected.
  auto wrong_kind = PrivateKey::FromPem(Ec().Public().ToPem());
  ASSERT_FALSE(wrong_kind);
  EXPECT_NE(wrong_kind.error().message().find("no '-----BEGIN PRIVATE KEY-----'"),
            std::string::npos);

  // Damaged base64 body.
  std::string pem = Ec().ToPem();
  pem[40] = '!';
  auto damaged = PrivateKey::FromPem(pem);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(damaged.error().message().find("malformed private key PEM: the PEM block is not "
                                           "valid base64"),
            std::string::npos)
      << damaged.error().message();

  // Truncated body.
  std::string cut = Ec().ToPem();
  cut = cut.substr(0, 60) + "\n-----END PRIVATE KEY-----\n";
  auto truncated = PrivateKey::FromPem(cut);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(truncated.error().message().find("the 'PRIVATE KEY' PEM block does not hold valid DER"),
            std::string::npos)
      << truncated.error().message();

  auto pub = PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(pub.error().message().find(
                "malformed public key PEM: the 'PUBLIC KEY' PEM block does not hold valid DER"),
            std::string::npos)
      << pub.error().message();

  auto pub_none = PublicKey::FromPem("");
  ASSERT_FALSE(pub_none);
  EXPECT_NE(pub_none.error().message().find("no '-----BEGIN PUBLIC KEY-----'"), std::string::npos);
}

TEST_F(KeyTest, MalformedDerIsRefused) {
  auto garbage = PublicKey::FromDer("\x30\x03\x01\x02\x03");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(garbage.error().message().find("malformed SubjectPublicKeyInfo"), std::string::npos);

  auto trailing = PublicKey::FromDer(Ec().Public().ToDer() + "zz");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.error().message().find("2 unexpected bytes"), std::string::npos)
      << trailing.error().message();

  EXPECT_FALSE(PublicKey::FromDer(""));
}

TEST_F(KeyTest, StrengthChecks) {
  EXPECT_TRUE(Ec().Public().CheckStrength());
  EXPECT_TRUE(Rsa().Public().CheckStrength());

  PublicKey rsa1024 = NativeKey("RSA", nullptr, 1024);
  auto weak = rsa1024.CheckStrength();
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(weak.error().message(),
            "RSA key of 1024 bits is too weak: at least 2048 bits are required");

  PublicKey p384 = NativeKey("EC", "P-384", 0);
  auto curve = p384.CheckStrength();
  ASSERT_FALSE(curve);
  EXPECT_EQ(curve.error().message(),
            "EC key on curve secp384r1 is not accepted: troad uses P-256 (prime256v1) only");

  PublicKey ed = NativeKey("ED25519", nullptr, 0);
  auto type = ed.CheckStrength();
  ASSERT_FALSE(type);
  EXPECT_NE(type.error().message().find("not supported"), std::string::npos);
}

TEST_F(KeyTest, FromRsaComponentsRoundTrips) {
  PublicKey pub = Rsa().Public();
  auto key = PublicKey::FromRsaComponents(BnParam(pub, OSSL_PKEY_PARAM_RSA_N, 0),
                                          BnParam(pub, OSSL_PKEY_PARAM_RSA_E, 0));
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->ToDer(), pub.ToDer());
  EXPECT_EQ(key->Algorithm(), "RS256");
  auto back = PublicKey::FromDer(key->ToDer());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->ToDer(), pub.ToDer());
  auto sig = Rsa().Sign("data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(key->Verify("data", *sig, "RS256"));
}

TEST_F(KeyTest, FromRsaComponentsRefusesWeakKey) {
  PublicKey rsa1024 = NativeKey("RSA", nullptr, 1024);
  auto key = PublicKey::FromRsaComponents(BnParam(rsa1024, OSSL_PKEY_PARAM_RSA_N, 0),
                                          BnParam(rsa1024, OSSL_PKEY_PARAM_RSA_E, 0));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(key.error().message(),
            "RSA key of 1024 bits is too weak: at least 2048 bits are required");
}

TEST_F(KeyTest, FromEcP256PointRoundTrips) {
  PublicKey pub = Ec().Public();
  auto key = PublicKey::FromEcP256Point(BnParam(pub, OSSL_PKEY_PARAM_EC_PUB_X, 32),
                                        BnParam(pub, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->ToDer(), pub.ToDer());
  EXPECT_EQ(key->Algorithm(), "ES256");
  EXPECT_TRUE(key->CheckStrength());
  auto back = PublicKey::FromDer(key->ToDer());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->ToDer(), pub.ToDer());
  auto sig = Ec().Sign("data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(key->Verify("data", *sig, "ES256"));
}

TEST_F(KeyTest, FromEcP256PointRefusesBadPoints) {
  PublicKey pub = Ec().Public();
  const std::string x = BnParam(pub, OSSL_PKEY_PARAM_EC_PUB_X, 32);
  std::string y = BnParam(pub, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
  y.back() ^= 1;  // (x, y ± 1) is not on the curve: only (x, ±y) are
  auto off_curve = PublicKey::FromEcP256Point(x, y);
  ASSERT_FALSE(off_curve);
  EXPECT_EQ(off_curve.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(off_curve.error().message().rfind("not a P-256 public key: ", 0), 0u)
      << off_curve.error().message();

  auto short_x = PublicKey::FromEcP256Point(x.substr(1), y);
  ASSERT_FALSE(short_x);
  EXPECT_EQ(short_x.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(short_x.error().message(), "P-256 x and y must be 32 bytes each (they are 31 and 32)");
}

TEST_F(KeyTest, WeakKeysAreNotGeneratedLoadedOrTrusted) {
  auto gen = PrivateKey::GenerateRsa(1024);
  ASSERT_FALSE(gen);
  EXPECT_EQ(gen.error().code(), ErrorCode::kInvalidArgument);

  // A weak key from elsewhere is refused at load time...
  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  ASSERT_NE(weak, nullptr);
  TempDir dir;
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, weak, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  auto loaded = PrivateKey::FromPem(pem);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("too weak"), std::string::npos);

  // ...and a signature that verifies mathematically is still not accepted from it.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[128];
  size_t sig_len = sizeof(sig);
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, weak), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>("d"), 1), 1);
  EVP_MD_CTX_free(ctx);
  PublicKey pub = PublicKey::FromNative(weak);
  EVP_PKEY_free(weak);
  auto st = pub.Verify("d", std::string(reinterpret_cast<char*>(sig), sig_len), "RS256");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message().find("too weak"), std::string::npos);
}

TEST_F(KeyTest, SavePemFileWritesMode0600Atomically) {
  TempDir dir;
  std::string path = dir.File("signing.key");
  // An existing, world-readable file is replaced, not rewritten in place.
  WriteFile(path, "old contents");
  ::chmod(path.c_str(), 0644);

  auto st = Ec().SavePemFile(path);
  ASSERT_TRUE(st) << st.error().ToString();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(path), Ec().ToPem());

  // Nothing but the key is left in the directory (no temp files).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);

  auto loaded = PrivateKey::LoadPemFile(path);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->Public().ToDer(), Ec().Public().ToDer());
}

TEST_F(KeyTest, SavePemFileReportsUnwritableDirectory) {
  TempDir dir;
  std::string path = dir.File("missing-dir/signing.key");
  auto st = Ec().SavePemFile(path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kIo);
  EXPECT_NE(st.error().message().find(path), std::string::npos) << st.error().message();
}

TEST_F(KeyTest, LoadPemFileReportsMissingAndBadFiles) {
  TempDir dir;
  auto missing = PrivateKey::LoadPemFile(dir.File("nope.key"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope.key"), std::string::npos);

  WriteFile(dir.File("bad.key"), "garbage");
  auto bad = PrivateKey::LoadPemFile(dir.File("bad.key"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message().rfind(dir.File("bad.key") + ": ", 0), 0u)
      << bad.error().message();
}

// Cross-checks with the openssl command line tool, both ways.

TEST_F(KeyTest, OpensslCliVerifiesOurSignatures) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  const std::string data = "a T-Road message header\n";
  WriteFile(dir.File("data.bin"), data);
  WriteFile(dir.File("other.bin"), "another message\n");
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    WriteFile(dir.File("pub.pem"), key->Public().ToPem());
    WriteFile(dir.File("sig.bin"), *key->Sign(data));
    auto ok =
        RunCommand(dir, "openssl dgst -sha256 -verify " + dir.File("pub.pem") + " -signature " +
                            dir.File("sig.bin") + " " + dir.File("data.bin"));
    EXPECT_EQ(ok.exit_code, 0) << key->Algorithm() << ": " << ok.output;
    EXPECT_NE(ok.output.find("Verified OK"), std::string::npos) << ok.output;
    // The same command fails for other data, so the check above means something.
    auto bad =
        RunCommand(dir, "openssl dgst -sha256 -verify " + dir.File("pub.pem") + " -signature " +
                            dir.File("sig.bin") + " " + dir.File("other.bin"));
    EXPECT_NE(bad.exit_code, 0) << bad.output;
  }
}

TEST_F(KeyTest, WeVerifyOpensslCliSignatures) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  const std::string data = "signed by openssl\n";
  WriteFile(dir.File("data.bin"), data);
  for (const PrivateKey* key : {&Ec(), &Rsa()}) {
    ASSERT_TRUE(key->SavePemFile(dir.File("key.pem")));
    auto r = RunCommand(dir, "openssl dgst -sha256 -sign " + dir.File("key.pem") + " -out " +
                                 dir.File("sig.bin") + " " + dir.File("data.bin"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string sig = ReadFile(dir.File("sig.bin"));
    auto st = key->Public().Verify(data, sig, key->Algorithm());
    EXPECT_TRUE(st) << key->Algorithm() << ": " << st.error().ToString();
    EXPECT_FALSE(key->Public().Verify(data + "x", sig, key->Algorithm()));
  }
}

TEST_F(KeyTest, LoadsKeysMadeByOpensslCli) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  // PKCS#8 from genpkey, and the traditional SEC1 / PKCS#1 forms.
  const std::pair<std::string, KeyType> kCases[] = {
      {"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256", KeyType::kEcP256},
      {"openssl ecparam -name prime256v1 -genkey -noout", KeyType::kEcP256},
      {"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl pkey -traditional",
       KeyType::kRsa},
  };
  for (const auto& [command, type] : kCases) {
    auto r = RunCommand(dir, command + " > " + dir.File("k.pem"));
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.output;
    auto key = PrivateKey::LoadPemFile(dir.File("k.pem"));
    ASSERT_TRUE(key) << command << ": " << key.error().ToString();
    EXPECT_EQ(key->type(), type) << command;
    EXPECT_TRUE(key->Public().Verify("m", *key->Sign("m"), key->Algorithm())) << command;
  }
}

TEST_F(KeyTest, EncryptedKeyIsRefusedWithoutPrompting) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TempDir dir;
  auto r = RunCommand(dir,
                      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 "
                      "-pass pass:secret -out " +
                          dir.File("enc.pem"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto key = PrivateKey::LoadPemFile(dir.File("enc.pem"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(key.error().message().find("encrypted"), std::string::npos) << key.error().message();
}

}  // namespace
}  // namespace troad::crypto
