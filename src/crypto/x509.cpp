#include "crypto/x509.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

using internal::BioContents;
using internal::NameToString;
using internal::Bytes;
using internal::Deleter;
using internal::DrainOpenSslErrors;

using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
struct X509StackFree {
  void operator()(STACK_OF(X509) * sk) const { sk_X509_free(sk); }  // borrowed certs stay
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

int NoPassword(char*, int, int, void*) { return -1; }

// Takes ownership of `x509` and checks what the accessors later rely on.
Result<Certificate> Adopt(X509* x509) {
  std::shared_ptr<X509> owned(x509, X509_free);
  if (X509_get0_pubkey(owned.get()) == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate's public key cannot be decoded (unsupported algorithm?): {}",
                DrainOpenSslErrors());
  }
  // FromNative takes its own reference; ours goes away with `owned`.
  return Certificate::FromNative(owned.get());
}

SystemTime ToSystemTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    // Parsing already checked the encoding; an unusable time is treated as the epoch,
    // which every validity check rejects.
    ERR_clear_error();
    return SystemTime{};
  }
  // SystemTime counts nanoseconds in 64 bits, so it ends in 2262; RFC 5280's
  // "no well-defined expiration" is 99991231235959Z. Clamp rather than overflow.
  const time_t secs = timegm(&tm);
  constexpr time_t kMaxSeconds = std::chrono::duration_cast<std::chrono::seconds>(
                                     SystemTime::duration::max()).count() - 1;
  if (secs >= kMaxSeconds) return SystemTime::max();
  if (secs <= -kMaxSeconds) return SystemTime::min();
  return std::chrono::system_clock::from_time_t(secs);
}

}  // namespace

// ---- Certificate ----

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  ERR_clear_error();
  auto bio = internal::ReadBio(pem);
  if (bio == nullptr) return Fail(ErrorCode::kInvalidArgument, "certificate PEM is too large");
  X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr);
  if (x509 == nullptr) {
    if (internal::LastErrorIsNoPemStartLine()) {
      ERR_clear_error();
      return Fail(ErrorCode::kInvalidArgument,
                  "no '-----BEGIN CERTIFICATE-----' block found in the certificate PEM");
    }
    return Fail(ErrorCode::kInvalidArgument, "malformed certificate PEM: {}",
                internal::ExplainPemFailure(pem, {"CERTIFICATE", "X509 CERTIFICATE"}));
  }
  return Adopt(x509);
}

Result<Certificate> Certificate::FromDer(std::string_view der) {
  ERR_clear_error();
  const unsigned char* p = Bytes(der);
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x509 == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "malformed certificate DER ({} bytes): {}", der.size(),
                DrainOpenSslErrors());
  }
  if (p != Bytes(der) + der.size()) {
    X509_free(x509);
    return Fail(ErrorCode::kInvalidArgument, "certificate DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  return Adopt(x509);
}

Result<Certificate> Certificate::LoadPemFile(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto cert = FromPem(pem);
  if (!cert) return Fail(std::move(cert).error().Context(path));
  return cert;
}

Result<std::vector<Certificate>> Certificate::ChainFromPem(std::string_view pem) {
  ERR_clear_error();
  auto bio = internal::ReadBio(pem);
  if (bio == nullptr) return Fail(ErrorCode::kInvalidArgument, "certificate bundle is too large");
  std::vector<Certificate> chain;
  while (true) {
    X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr);
    if (x509 == nullptr) {
      if (internal::LastErrorIsNoPemStartLine()) {  // no further block: the normal end
        ERR_clear_error();
        break;
      }
      return Fail(ErrorCode::kInvalidArgument, "malformed certificate #{} in PEM bundle: {}",
                  chain.size() + 1, DrainOpenSslErrors());
    }
    TROAD_ASSIGN_OR_RETURN(Certificate cert, Adopt(x509));
    chain.push_back(std::move(cert));
  }
  if (chain.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "no '-----BEGIN CERTIFICATE-----' block found in the certificate bundle");
  }
  return chain;
}

Certificate Certificate::FromNative(X509* x509) {
  if (x509 == nullptr || X509_up_ref(x509) != 1) {
    internal::Die("Certificate::FromNative needs a certificate");
  }
  return Certificate(std::shared_ptr<X509>(x509, X509_free));
}

std::string Certificate::ToPem() const {
  auto bio = internal::WriteBio();
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) {
    internal::Die("PEM_write_bio_X509 failed");
  }
  return BioContents(bio.get());
}

std::string Certificate::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert_.get(), &der);
  if (len <= 0) internal::Die("i2d_X509 failed");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Certificate::Sha256Fingerprint() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert_.get(), EVP_sha256(), md, &len) != 1) internal::Die("X509_digest failed");
  return HexEncode(std::span<const uint8_t>(md, len));
}

std::string Certificate::Subject() const {
  return NameToString(X509_get_subject_name(cert_.get()));
}

std::string Certificate::Issuer() const { return NameToString(X509_get_issuer_name(cert_.get())); }

namespace {
// The last `nid` entry of `name` as UTF-8 (the most specific one when a name carries
// several), or empty.
std::string LastNameEntry(const X509_NAME* name, int nid) {
  int index = -1;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    index = i;
  }
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}
}  // namespace

std::string Certificate::CommonName() const {
  return LastNameEntry(X509_get_subject_name(cert_.get()), NID_commonName);
}

std::string Certificate::Country() const {
  return LastNameEntry(X509_get_subject_name(cert_.get()), NID_countryName);
}

bool Certificate::IsTimestampingCertificate() const {
  const int ok = X509_check_purpose(cert_.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0);
  ERR_clear_error();
  return ok == 1;
}

std::string Certificate::SerialHex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr);
  char* hex = bn != nullptr ? BN_bn2hex(bn) : nullptr;
  BN_free(bn);
  if (hex == nullptr) internal::Die("cannot print a certificate serial number");
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

SystemTime Certificate::NotBefore() const { return ToSystemTime(X509_get0_notBefore(cert_.get())); }
SystemTime Certificate::NotAfter() const { return ToSystemTime(X509_get0_notAfter(cert_.get())); }

PublicKey Certificate::GetPublicKey() const {
  // Non-null: Adopt checked it when the certificate was parsed.
  return PublicKey::FromNative(X509_get0_pubkey(cert_.get()));
}

bool Certificate::IsCa() const {
  // basicConstraints CA:TRUE only; unlike X509_check_ca, an old v1 root does not count.
  return (X509_get_extension_flags(cert_.get()) & EXFLAG_CA) != 0;
}

// ---- TrustStore ----

Result<TrustStore> TrustStore::Create(std::vector<Certificate> anchors) {
  if (anchors.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a trust store needs at least one CA certificate");
  }
  for (const Certificate& anchor : anchors) {
    if (!anchor.IsCa()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "trust anchor {} is not a CA certificate (no basicConstraints CA:TRUE)",
                  anchor.Subject());
    }
  }
  return TrustStore(std::move(anchors));
}

Status TrustStore::Verify(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                          SystemTime at) const {
  ERR_clear_error();
  // Built per call from immutable certificates: X509_STORE caches lookups internally,
  // and a private store keeps concurrent calls from sharing that state.
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot allocate a certificate store");
  }
  for (const Certificate& anchor : anchors_) {
    if (X509_STORE_add_cert(store.get(), anchor.native()) != 1) {
      return Fail(ErrorCode::kInternal, "cannot add trust anchor {}: {}", anchor.Subject(),
                  DrainOpenSslErrors());
    }
  }
  for (const Certificate& cert : intermediates) {
    // The stack borrows: the Certificates outlive this call.
    if (sk_X509_push(untrusted.get(), cert.native()) <= 0) {
      return Fail(ErrorCode::kInternal, "cannot collect intermediate certificates");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native(), untrusted.get()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot start certificate verification: {}",
                DrainOpenSslErrors());
  }
  // Sets X509_V_FLAG_USE_CHECK_TIME: validity is judged at `at`, not at the wall clock.
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                             std::chrono::system_clock::to_time_t(at));
  int rc = X509_verify_cert(ctx.get());
  if (rc == 1) return Ok();
  int err = X509_STORE_CTX_get_error(ctx.get());
  X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string subject =
      failing != nullptr ? NameToString(X509_get_subject_name(failing)) : leaf.Subject();
  ERR_clear_error();
  if (rc < 0 || err == X509_V_OK) {
    return Fail(ErrorCode::kInternal, "certificate verification of {} could not run", subject);
  }
  return Fail(ErrorCode::kUnauthenticated, "{}: {}", X509_verify_cert_error_string(err), subject);
}

}  // namespace troad::crypto
