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
  static Result<Certificate> FromPem(std::string_view pem);  // the first certificate
  static Result<Certificate> FromDer(std::string_view der);
  static Result<Certificate> LoadPemFile(const std::string& path);
  // Every certificate in a PEM bundle; an empty or malformed bundle is an error.
  static Result<std::vector<Certificate>> ChainFromPem(std::string_view pem);
  // Takes one reference of `x509` (X509_up_ref).
  static Certificate FromNative(X509* x509);

  std::string ToPem() const;
  std::string ToDer() const;
  // Lower-case hex SHA-256 of the DER encoding: how troad names a certificate.
  std::string Sha256Fingerprint() const;
  std::string Subject() const;     // RFC 2253 form, e.g. "CN=gw1,O=MOI,C=TW"
  std::string CommonName() const;  // empty when there is none
  std::string Issuer() const;
  std::string SerialHex() const;
  SystemTime NotBefore() const;
  SystemTime NotAfter() const;
  crypto::PublicKey GetPublicKey() const;
  bool IsCa() const;
  X509* native() const { return cert_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}
  std::shared_ptr<X509> cert_;
};

class TrustStore {
 public:
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
