// Issuing certificates: a self-signed CA, and certificates it signs for gateways
// (TLS authentication) and members (message signing). Used by `troad init` now and
// by the central CA later (issue 3 adds PKCS#10 requests).
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"
#include "crypto/x509.h"

namespace troad::crypto {

enum class CertUsage {
  kCa,              // basicConstraints CA:TRUE, keyCertSign, cRLSign
  kAuthentication,  // digitalSignature; extendedKeyUsage serverAuth + clientAuth
  kSigning,         // digitalSignature + nonRepudiation; no extendedKeyUsage
  // A timestamping authority (RFC 3161 §2.3): digitalSignature + nonRepudiation;
  // extendedKeyUsage timeStamping only, critical.
  kTimestamping,
};

struct CertificateRequest {
  std::string common_name;           // CN
  std::string organization;          // O (the member name), may be empty
  std::string organizational_unit;   // OU, may be empty
  std::string serial_number_attr;    // subject serialNumber (member code), may be empty
  std::string country = "TW";        // C
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  CertUsage usage = CertUsage::kAuthentication;
  std::chrono::seconds validity = std::chrono::hours(24 * 365);
};

// A self-signed CA certificate for `key`, valid from clock.Now() - 1 minute to
// clock.Now() + req.validity. req.usage is ignored: the result is always kCa.
// kInvalidArgument when the request is malformed (empty CN, country not two upper-case
// letters, validity not in 1 s..100 years, a bad SAN, a name attribute OpenSSL refuses).
Result<Certificate> CreateSelfSignedCa(const PrivateKey& key, const CertificateRequest& req,
                                       const Clock& clock);

// A certificate for `subject_key`, signed by the CA. Random 128-bit serial,
// subjectKeyIdentifier and authorityKeyIdentifier set; NotAfter is capped at the CA's.
// kInvalidArgument for a malformed request, a weak subject key or a CA key that does not
// match `ca_cert`; kFailedPrecondition when `ca_cert` is not a CA or has expired.
Result<Certificate> IssueCertificate(const Certificate& ca_cert, const PrivateKey& ca_key,
                                     const PublicKey& subject_key, const CertificateRequest& req,
                                     const Clock& clock);

}  // namespace troad::crypto
