// PKCS#10 certificate signing requests (RFC 2986): gateways make them with a key that
// never leaves the gateway; the central CA parses them, checks that the applicant asked
// for the name it is entitled to, and issues a certificate for the key they carry.
//
// What the CA takes from a request is its public key and nothing else. The subject is
// only compared with what the CA decided (CheckCsrSubject); requested extensions
// (extensionRequest: subjectAltName, keyUsage, basicConstraints, ...), challenge
// passwords and any other attributes are ignored: the certificate's names, usage and
// validity always come from the CA's own CertificateRequest.
//
// Thread-safety: Csr is an immutable, reference-counted value; the functions are pure.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/ca.h"
#include "crypto/key.h"
#include "crypto/x509.h"

typedef struct X509_req_st X509_REQ;

namespace troad::crypto {

// The subject name fields troad certificates carry, as in CertificateRequest. In a
// parsed Csr a field is empty when the subject does not have it (country included).
struct CsrSubject {
  std::string common_name;          // CN
  std::string organization;         // O (the member name), may be empty
  std::string organizational_unit;  // OU, may be empty
  std::string serial_number_attr;   // subject serialNumber (member code), may be empty
  std::string country = "TW";       // C

  bool operator==(const CsrSubject&) const = default;
};

// The name fields of a certificate request: the subject an applicant's CSR must carry
// for IssueCertificateFromCsr to issue `req`.
CsrSubject SubjectOf(const CertificateRequest& req);

// Larger input is refused before parsing: DER over kMaxCsrSize, PEM over
// kMaxCsrPemSize (room for the base64 of the largest DER). RSA-16384 needs ~2.5 KiB.
inline constexpr size_t kMaxCsrSize = 64 * 1024;
inline constexpr size_t kMaxCsrPemSize = 2 * kMaxCsrSize;

// A PEM "CERTIFICATE REQUEST" for `key`, signed with it (ecdsa-with-SHA256 for EC,
// sha256WithRSAEncryption for RSA); the subject is written in the order the CA writes
// certificates (C, O, OU, serialNumber, CN) and carries no attributes or extensions.
// kInvalidArgument when the subject is malformed (empty CN, country not two upper-case
// letters, a value that is not UTF-8 or that OpenSSL refuses, e.g. CN over 64 characters)
// or the key fails CheckStrength.
Result<std::string> CreateCsrPem(const PrivateKey& key, const CsrSubject& subject);

class Csr {
 public:
  // The input must be one PEM "CERTIFICATE REQUEST" block (or the old "NEW CERTIFICATE
  // REQUEST" label), with nothing but whitespace around it. kInvalidArgument with the
  // reason when it is not, when the DER inside fails FromDer, or when it is too large.
  static Result<Csr> FromPem(std::string_view pem);
  // The whole input must be one DER CertificationRequest, no trailing bytes. Parsing
  // verifies the self-signature, so a Csr always proves possession of its key.
  // kInvalidArgument when the input is malformed or too large, the public key cannot be
  // decoded, the version field is not 0 (v1), the signature does not verify, or the subject has
  // CN, O, OU, serialNumber or C more than once or with a value that is not a string.
  // A weak key is not refused here: the CA refuses it with a reason when issuing.
  static Result<Csr> FromDer(std::string_view der);

  const CsrSubject& subject() const { return subject_; }
  // RFC 2253, as Certificate::Subject ("CN=gw1,O=MOI,C=TW"), for logs and review.
  std::string SubjectString() const;
  PublicKey public_key() const;
  std::string ToPem() const;
  // The DER as it was parsed (or made), byte for byte.
  const std::string& ToDer() const { return der_; }
  // Lower-case hex SHA-256 of ToDer(): how troad names a request.
  std::string Sha256() const;
  X509_REQ* native() const { return req_.get(); }

 private:
  Csr(std::shared_ptr<X509_REQ> req, std::string der, CsrSubject subject)
      : req_(std::move(req)), der_(std::move(der)), subject_(std::move(subject)) {}
  std::shared_ptr<X509_REQ> req_;
  std::string der_;
  CsrSubject subject_;
};

// Ok when `csr`'s subject is exactly `expected`: every field equal, byte for byte, an
// empty expected field meaning the CSR must not have it. Subject attributes other than
// these five (L, ST, emailAddress, ...) are ignored, as they never reach the certificate.
// kInvalidArgument names the first field that differs, what was expected and what the
// CSR asked for.
Status CheckCsrSubject(const Csr& csr, const CsrSubject& expected);

// Issues `req` (IssueCertificate) for the key in `csr`. `req` is what the CA decided
// for this applicant (names, SANs, usage, validity); the CSR must ask for the same
// subject (CheckCsrSubject with SubjectOf(req)) and contributes only its public key.
// kInvalidArgument when the CSR's key fails CheckStrength or its subject does not match;
// otherwise IssueCertificate's errors.
Result<Certificate> IssueCertificateFromCsr(const Certificate& ca_cert, const PrivateKey& ca_key,
                                            const Csr& csr, const CertificateRequest& req,
                                            const Clock& clock);

}  // namespace troad::crypto
