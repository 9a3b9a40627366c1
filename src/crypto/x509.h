// X.509 certificates: loading, inspecting, chain verification (OpenSSL 3).
// Thread-safety: Certificate is an immutable, reference-counted value. TrustStore
// is immutable after construction and safe to use from several threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"

typedef struct x509_st X509;

namespace troad::crypto {

class Certificate {
 public:
  // Malformed input is kInvalidArgument with what was wrong (no CERTIFICATE block,
  // broken base64, bad DER, trailing bytes after DER, an undecodable public key).
  static Result<Certificate> FromPem(std::string_view pem);  // the first certificate
  static Result<Certificate> FromDer(std::string_view der);
  // As FromPem; kNotFound when the file is missing; the message starts with the path.
  static Result<Certificate> LoadPemFile(const std::string& path);
  // Every certificate in a PEM bundle; an empty or malformed bundle is an error.
  static Result<std::vector<Certificate>> ChainFromPem(std::string_view pem);
  // Takes one reference of `x509` (X509_up_ref).
  static Certificate FromNative(X509* x509);

  std::string ToPem() const;
  std::string ToDer() const;
  // Lower-case hex SHA-256 of the DER encoding: how troad names a certificate.
  std::string Sha256Fingerprint() const;
  // RFC 2253 form, e.g. "CN=gw1,O=MOI,C=TW"; UTF-8 is kept as is ("O=內政部"), not
  // \XX-escaped, so it matches `openssl x509 -nameopt RFC2253,-esc_msb`.
  std::string Subject() const;
  std::string CommonName() const;  // empty when there is none
  std::string Country() const;     // the subject's C; empty when there is none
  std::string Issuer() const;
  std::string SerialHex() const;  // lower-case hex, no leading zeros
  SystemTime NotBefore() const;
  SystemTime NotAfter() const;
  crypto::PublicKey GetPublicKey() const;
  bool IsCa() const;  // basicConstraints CA:TRUE
  // Whether it may sign RFC 3161 timestamps: extendedKeyUsage timeStamping, critical
  // (OpenSSL's X509_PURPOSE_TIMESTAMP_SIGN check).
  bool IsTimestampingCertificate() const;
  X509* native() const { return cert_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}
  std::shared_ptr<X509> cert_;
};

class TrustStore {
 public:
  // kInvalidArgument when `anchors` is empty or one of them is not a CA (IsCa()).
  static Result<TrustStore> Create(std::vector<Certificate> anchors);

  // Verifies that `leaf` chains to an anchor (through `intermediates`) and that
  // every certificate is valid at `at`. kUnauthenticated with OpenSSL's reason and
  // the offending subject when it does not ("certificate has expired: CN=gw1").
  Status Verify(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                SystemTime at) const;
  const std::vector<Certificate>& anchors() const { return anchors_; }

 private:
  explicit TrustStore(std::vector<Certificate> anchors) : anchors_(std::move(anchors)) {}
  std::vector<Certificate> anchors_;
};

}  // namespace troad::crypto
