#include "crypto/key.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

using namespace std::string_view_literals;
using internal::BioContents;
using internal::Bytes;
using internal::Deleter;
using internal::DrainOpenSslErrors;
using internal::EvpMdCtxPtr;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;

constexpr std::string_view kEs256 = "ES256";
constexpr std::string_view kRs256 = "RS256";
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;  // verifying with larger keys is a denial-of-service lever
constexpr size_t kP256CoordinateBytes = 32;
// SubjectPublicKeyInfo of a P-256 key up to the point: SEQUENCE { SEQUENCE { id-ecPublicKey,
// prime256v1 }, BIT STRING { 0x04 x y } } (RFC 5480 §2).
constexpr std::string_view kP256SpkiPrefix =
    "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01"
    "\x07\x03\x42\x00\x04"sv;  // sv: it holds a zero byte

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* pkey) {
  return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
}

bool IsRsa(const EVP_PKEY* pkey) { return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA; }
bool IsEc(const EVP_PKEY* pkey) { return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC; }

std::string CurveName(const EVP_PKEY* pkey) {
  char name[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    ERR_clear_error();
    return "an unnamed curve";
  }
  return std::string(name, len);
}

Status CheckKeyStrength(const EVP_PKEY* pkey) {
  if (IsRsa(pkey)) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits) {
      return Fail(ErrorCode::kInvalidArgument,
                  "RSA key of {} bits is too weak: at least {} bits are required", bits,
                  kMinRsaBits);
    }
    if (bits > kMaxRsaBits) {
      return Fail(ErrorCode::kInvalidArgument,
                  "RSA key of {} bits is larger than the {} bits troad accepts", bits, kMaxRsaBits);
    }
    return Ok();
  }
  if (IsEc(pkey)) {
    std::string curve = CurveName(pkey);
    if (curve != SN_X9_62_prime256v1) {
      return Fail(ErrorCode::kInvalidArgument,
                  "EC key on curve {} is not accepted: troad uses P-256 (prime256v1) only", curve);
    }
    return Ok();
  }
  const char* type = EVP_PKEY_get0_type_name(pkey);
  return Fail(ErrorCode::kInvalidArgument,
              "key type {} is not supported: troad uses EC P-256 or RSA keys",
              type != nullptr ? type : "(unknown)");
}

std::string_view AlgorithmOf(const EVP_PKEY* pkey) { return IsRsa(pkey) ? kRs256 : kEs256; }
KeyType TypeOf(const EVP_PKEY* pkey) { return IsRsa(pkey) ? KeyType::kRsa : KeyType::kEcP256; }

// Never prompts on a terminal for a pass phrase: encrypted keys are refused instead.
int NoPassword(char*, int, int, void*) { return -1; }

// Checks the signature's encoding before verifying, so a malformed signature is told
// apart from one that is well formed but wrong.
Status CheckSignatureShape(const EVP_PKEY* pkey, std::string_view signature) {
  if (IsRsa(pkey)) {
    auto want = static_cast<size_t>(EVP_PKEY_get_size(pkey));
    if (signature.size() != want) {
      return Fail(ErrorCode::kInvalidArgument,
                  "RS256 signature is {} bytes long; the key needs exactly {}", signature.size(),
                  want);
    }
    return Ok();
  }
  const unsigned char* p = Bytes(signature);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
  bool whole = sig != nullptr && p == Bytes(signature) + signature.size();
  ECDSA_SIG_free(sig);
  if (!whole) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "ES256 signature is not a DER ECDSA-Sig-Value ({} bytes)", signature.size());
  }
  return Ok();
}

}  // namespace

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  ERR_clear_error();
  auto bio = internal::ReadBio(pem);
  if (bio == nullptr) return Fail(ErrorCode::kInvalidArgument, "public key PEM is too large");
  // Checked by hand: OpenSSL 3's decoders report a missing block only as "unsupported".
  if (pem.find("-----BEGIN PUBLIC KEY-----") == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "no '-----BEGIN PUBLIC KEY-----' block found in the public key PEM");
  }
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr);
  if (pkey == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "malformed public key PEM: {}",
                internal::ExplainPemFailure(pem, {"PUBLIC KEY"}));
  }
  return PublicKey(Share(pkey));
}

Result<PublicKey> PublicKey::FromDer(std::string_view der) {
  ERR_clear_error();
  const unsigned char* p = Bytes(der);
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "malformed SubjectPublicKeyInfo DER: {}",
                DrainOpenSslErrors());
  }
  auto key = Share(pkey);
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "SubjectPublicKeyInfo DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  return PublicKey(std::move(key));
}

Result<PublicKey> PublicKey::FromRsaComponents(std::string_view n, std::string_view e) {
  ERR_clear_error();
  auto bn = [](std::string_view b) {
    return BnPtr(BN_bin2bn(Bytes(b), static_cast<int>(b.size()), nullptr));
  };
  BnPtr bn_n = bn(n), bn_e = bn(e);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot build an RSA key: {}", DrainOpenSslErrors());
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "not an RSA public key: {}", DrainOpenSslErrors());
  }
  PublicKey key(Share(pkey));
  TROAD_RETURN_IF_ERROR(key.CheckStrength());
  return key;
}

Result<PublicKey> PublicKey::FromEcP256Point(std::string_view x, std::string_view y) {
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "P-256 x and y must be 32 bytes each (they are {} and {})", x.size(), y.size());
  }
  std::string der(kP256SpkiPrefix);
  der += x;
  der += y;
  // FromDer decodes the point, which OpenSSL checks lies on the curve.
  auto key = FromDer(der);
  if (!key) {
    return Fail(ErrorCode::kInvalidArgument, "not a P-256 public key: {}", key.error().message());
  }
  return key;
}

PublicKey PublicKey::FromNative(EVP_PKEY* pkey) {
  if (pkey == nullptr || EVP_PKEY_up_ref(pkey) != 1) {
    internal::Die("PublicKey::FromNative needs a key");
  }
  return PublicKey(Share(pkey));
}

std::string PublicKey::ToPem() const {
  auto bio = internal::WriteBio();
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    internal::Die("PEM_write_bio_PUBKEY failed");
  }
  return BioContents(bio.get());
}

std::string PublicKey::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) internal::Die("i2d_PUBKEY failed");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

KeyType PublicKey::type() const { return TypeOf(key_.get()); }
std::string_view PublicKey::Algorithm() const { return AlgorithmOf(key_.get()); }
Status PublicKey::CheckStrength() const { return CheckKeyStrength(key_.get()); }

Status PublicKey::Verify(std::string_view data, std::string_view signature,
                         std::string_view algorithm) const {
  if (algorithm != kEs256 && algorithm != kRs256) {
    return Fail(ErrorCode::kInvalidArgument,
                "signature algorithm '{}' is not supported (ES256 or RS256)",
                EscapeForLog(algorithm, 40));
  }
  if (algorithm != Algorithm()) {
    return Fail(ErrorCode::kInvalidArgument, "signature algorithm {} does not match the {} key",
                algorithm, Algorithm());
  }
  // A weak key proves nothing, however good the signature.
  TROAD_RETURN_IF_ERROR(CheckStrength());
  TROAD_RETURN_IF_ERROR(CheckSignatureShape(key_.get(), signature));

  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot start {} verification: {}", algorithm,
                DrainOpenSslErrors());
  }
  int rc =
      EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data), data.size());
  if (rc != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kUnauthenticated, "{} signature does not verify", algorithm);
  }
  return Ok();
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::GenerateEcP256() {
  ERR_clear_error();
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot generate an EC P-256 key: {}", DrainOpenSslErrors());
  }
  return PrivateKey(Share(pkey));
}

Result<PrivateKey> PrivateKey::GenerateRsa(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Fail(ErrorCode::kInvalidArgument, "RSA key size {} is outside {}..{} bits", bits,
                kMinRsaBits, kMaxRsaBits);
  }
  ERR_clear_error();
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (pkey == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot generate an RSA-{} key: {}", bits,
                DrainOpenSslErrors());
  }
  return PrivateKey(Share(pkey));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
      pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "the private key PEM is encrypted; troad reads unencrypted PKCS#8 keys only "
                "(decrypt it with `openssl pkey`)");
  }
  ERR_clear_error();
  auto bio = internal::ReadBio(pem);
  if (bio == nullptr) return Fail(ErrorCode::kInvalidArgument, "private key PEM is too large");
  if (pem.find("-----BEGIN PRIVATE KEY-----") == std::string_view::npos &&
      pem.find("-----BEGIN EC PRIVATE KEY-----") == std::string_view::npos &&
      pem.find("-----BEGIN RSA PRIVATE KEY-----") == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "no '-----BEGIN PRIVATE KEY-----' (or EC/RSA PRIVATE KEY) block found in the "
                "private key PEM");
  }
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (pkey == nullptr) {
    return Fail(
        ErrorCode::kInvalidArgument, "malformed private key PEM: {}",
        internal::ExplainPemFailure(pem, {"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"}));
  }
  auto key = Share(pkey);
  // troad never signs with a key it would refuse to verify with.
  if (auto strong = CheckKeyStrength(key.get()); !strong) {
    return Fail(std::move(strong).error().Context("private key refused"));
  }
  return PrivateKey(std::move(key));
}

Result<PrivateKey> PrivateKey::LoadPemFile(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto key = FromPem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key) return Fail(std::move(key).error().Context(path));
  return key;
}

std::string PrivateKey::ToPem() const {
  auto bio = internal::WriteBio();
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    internal::Die("PEM_write_bio_PrivateKey failed");
  }
  return BioContents(bio.get());
}

Status PrivateKey::SavePemFile(const std::string& path) const {
  std::string pem = ToPem();
  Status st = ::troad::WriteFileAtomically(path, pem, 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!st) return Fail(std::move(st).error().Context("saving private key"));
  return Ok();
}

PublicKey PrivateKey::Public() const { return PublicKey::FromNative(key_.get()); }
KeyType PrivateKey::type() const { return TypeOf(key_.get()); }
std::string_view PrivateKey::Algorithm() const { return AlgorithmOf(key_.get()); }

Result<std::string> PrivateKey::Sign(std::string_view data) const {
  ERR_clear_error();
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(data), data.size()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot start {} signing: {}", Algorithm(),
                DrainOpenSslErrors());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(data),
                     data.size()) != 1) {
    return Fail(ErrorCode::kInternal, "{} signing failed: {}", Algorithm(), DrainOpenSslErrors());
  }
  sig.resize(len);  // DER ECDSA signatures are usually shorter than the bound
  return sig;
}

}  // namespace troad::crypto
