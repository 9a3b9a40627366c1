// Sign-in with a citizen certificate (自然人憑證, MOICA): the page hands the citizen's
// card component a challenge (NewCitizenChallenge), the card signs it into a CMS
// SignedData, and CitizenCertVerifier checks that message against the configured
// citizen CAs and CRLs and tells who signed it.
//
// A pure library: no I/O, and the time is passed in, so tests are exact. Revocation is
// checked against CRLs given as bytes; fetching and refreshing them is the caller's job
// (a fresh set means a new verifier). OCSP, which is I/O, is identity/ocsp.h.
//
// Thread-safety: a CitizenCertVerifier is immutable after Create; Verify may be called
// from several threads at once. NewCitizenChallenge is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/x509.h"

typedef struct x509_store_st X509_STORE;

namespace troad::identity {

// What NewCitizenChallenge puts first, so that a card signature made for something else
// (a document, another site's challenge) is never a valid troad sign-in.
inline constexpr std::string_view kCitizenChallengePrefix = "troad-idp:";

// Signed messages larger than this are refused before parsing: a card's signature over a
// challenge, with its certificate chain, is a few KiB.
inline constexpr size_t kMaxCitizenSignedMessageBytes = 64 * 1024;

// A new challenge: kCitizenChallengePrefix + base64url (no padding) of 32 random bytes,
// 53 ASCII characters. The caller keeps it server-side, bound to the sign-in attempt,
// for a short time, and uses it for one Verify only (success or not): that is what
// makes a captured signature useless for a replay.
std::string NewCitizenChallenge();

struct CitizenCaConfig {
  // The citizen CA certificates, PEM, one or more: every CA that issues citizen
  // certificates directly (each MOICA generation) and the root(s) they chain to (GRCA).
  // Paths are validated up to a configured self-signed root, as RFC 5280 has it; and the
  // signer's own issuer must be one of the configured CAs, so that a certificate from
  // another CA under the same root (an organisation's, a government agency's) is refused.
  std::string ca_certificates_pem;
  // CRLs, each entry PEM (one or more "X509 CRL" blocks) or one DER CRL. Each must be
  // issued and signed by one of the CAs above. When any is given (or require_crl is
  // set), every certificate in the chain is checked against the CRL of its issuer if
  // one is configured; a CRL past its nextUpdate makes verification fail rather than
  // trusting stale news.
  std::vector<std::string> crls;
  // Refuse a signer certificate whose issuer has no configured CRL (kFailedPrecondition
  // at Verify). Then at least one CRL must be given.
  bool require_crl = false;
  // OCSP is not this pure verifier's job: CitizenCertificate carries the signer's and
  // the issuer's DER, which is what an OCSP request needs, and the sign-in method asks
  // the responder after Verify succeeds (identity/ocsp.h, identity/method.h).
};

// Who signed, as the certificate says. Mapping that to a person is a registry lookup
// the caller does on (issuer, card_id): MOICA subjects carry the last four digits of the
// national id and a card number, not the id itself.
struct CitizenCertificate {
  std::string subject;     // RFC 2253, UTF-8 kept ("CN=王小明,serialNumber=...,C=TW")
  std::string serial_hex;  // the certificate's serial, lower-case hex, no leading zeros
  std::string issuer;      // RFC 2253, as subject
  // The subject's serialNumber attribute (OID 2.5.4.5) when there is one, else
  // serial_hex. Together with issuer, what the registry is keyed on.
  std::string card_id;
  int64_t not_after = 0;  // Unix seconds: a session should not outlive the certificate
  std::string certificate_der;
  std::string issuer_certificate_der;  // the configured CA that issued it (for OCSP)
};

class CitizenCertVerifier {
 public:
  // kInvalidArgument, saying which input and what: no CA certificates or a malformed
  // PEM; a certificate that is not a CA (basicConstraints CA:TRUE); an intermediate CA
  // that does not chain to a configured root (its issuer is named); a malformed CRL; a
  // CRL no configured CA issued (or whose signature does not verify); require_crl
  // without any CRL.
  static Result<std::unique_ptr<CitizenCertVerifier>> Create(const CitizenCaConfig& config);

  // Checks `signed_message`, what the card component returned: a CMS (PKCS#7)
  // SignedData as DER or as base64 of DER (whitespace allowed), either carrying the
  // challenge (attached) or not (detached: then `expected_challenge` is the content).
  // It must have exactly one signer, whose certificate it carries, a SHA-256/384/512
  // digest, a signature that verifies, and content equal to `expected_challenge` byte
  // for byte. The certificate must be issued by a configured CA (chaining to a configured
  // root), be valid at `now` (as must its CAs), not be revoked, not be a CA, and allow
  // digitalSignature or nonRepudiation if it has keyUsage. Errors, worded for the person and the
  // audit log:
  //   kInvalidArgument    empty, larger than kMaxCitizenSignedMessageBytes, neither DER
  //                       nor base64, not a CMS SignedData, zero or several signers,
  //                       the signer's certificate missing, an unaccepted digest, an
  //                       empty expected_challenge;
  //   kUnauthenticated    "signed by a certificate from another CA", "the certificate
  //                       was revoked" (with its serial), "the certificate has expired",
  //                       "is not yet valid", "the signature does not match" (altered
  //                       or forged), "signed a different challenge" (a replay), a CA
  //                       certificate or one not for signing, other chain failures;
  //   kFailedPrecondition ours, not the citizen's: the issuer's CRL is past nextUpdate
  //                       (or not yet valid), or require_crl and no CRL of the issuer.
  Result<CitizenCertificate> Verify(std::string_view signed_message,
                                    std::string_view expected_challenge, SystemTime now) const;

 private:
  CitizenCertVerifier(std::vector<crypto::Certificate> cas, std::shared_ptr<X509_STORE> store,
                      bool require_crl, bool check_crls)
      : cas_(std::move(cas)),
        store_(std::move(store)),
        require_crl_(require_crl),
        check_crls_(check_crls) {}

  std::vector<crypto::Certificate> cas_;  // as configured; a signer's issuer is one of them
  // The configured CAs and CRLs, and nothing else: never OpenSSL's default paths.
  // OpenSSL locks its lookups, so one store serves concurrent Verify calls.
  std::shared_ptr<X509_STORE> store_;
  bool require_crl_;  // CitizenCaConfig::require_crl
  bool check_crls_;   // CRLs are configured (or required): check revocation
};

}  // namespace troad::identity
