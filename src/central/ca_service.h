// The central's certificate authority: PKCS#10 requests in, X.509 certificates out.
//
// Gateways submit requests (crypto/csr.h) for their authentication certificate and for
// the signing certificates of the members they sign for; keys never leave the gateway.
// A request names its owner (a registered gateway or member) and must ask for exactly
// the subject the CA issues to that owner (SubjectFor): C, serialNumber = the member
// id, CN = the gateway or member id. An operator approves or rejects it; approval
// issues the certificate and records it in the registry, so the next global
// configuration carries it.
//
// Renewal: before a certificate expires, its holder asks for a new one without an
// enrollment code by signing the new CSR with the CURRENT key (Renew; docs/central.md,
// "Renewal"). By policy the CA issues it at once or leaves it for an operator. The old
// certificate stays valid (and published) until it expires or is revoked.
//
// Enrollment codes let a new gateway submit its first requests: an administrator of the
// owner member creates one for a registered gateway; it is shown once (only its SHA-256
// is stored), is valid for `enrollment_validity`, and is accepted for that gateway only.
//
// Thread-safety: none; one per database connection, used from one thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "central/registry.h"
#include "core/clock.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "store/database.h"

namespace troad::central {

// What a renewal's `signature` signs: this prefix, then the DER of the new CSR
// (crypto::Csr::ToDer()), byte for byte.
inline constexpr std::string_view kRenewalSignaturePrefix = "troad-renewal/1\n";
// What a renewal status query's `signature` signs: this prefix, then the request id in
// decimal ASCII without sign or leading zeros ("troad-renewal-status/1\n42").
inline constexpr std::string_view kRenewalStatusSignaturePrefix = "troad-renewal-status/1\n";
// Who submits and who decides renewals in the certificate request records.
inline constexpr std::string_view kRenewalSubmitterPrefix = "renewal:";  // + owner
inline constexpr std::string_view kRenewalPolicyDecider = "policy:renewal";

// How a renewal is decided: issued at once (kAuto) or left pending for an operator.
enum class RenewalPolicy { kAuto, kReview };
std::string_view RenewalPolicyName(RenewalPolicy p);  // "auto", "review"
Result<RenewalPolicy> ParseRenewalPolicy(std::string_view name);

struct CaOptions {
  std::chrono::hours authentication_validity{24 * 365};
  std::chrono::hours signing_validity{24 * 365 * 2};
  std::chrono::hours enrollment_validity{24 * 7};
  std::string country = "TW";  // the C of every subject
  RenewalPolicy renewal = RenewalPolicy::kAuto;
};

enum class RequestStatus { kPending, kApproved, kRejected };
std::string_view RequestStatusName(RequestStatus s);

struct CertificateRequestInfo {
  int64_t id = 0;
  CertKind kind = CertKind::kAuthentication;
  std::string owner;
  std::string csr_pem;
  std::string subject;  // RFC 2253, for review
  RequestStatus status = RequestStatus::kPending;
  SystemTime submitted_at{};
  std::string submitted_by;  // "enrollment:<gateway>" or an admin
  std::string submitted_from;
  std::optional<int64_t> enrollment_id;
  std::string decided_by;
  std::optional<SystemTime> decided_at;
  std::string decision_reason;
  std::string certificate_fingerprint;  // when approved
  std::string renewal_of;  // a renewal: the fingerprint of the certificate it was signed with
};

// A renewal as it arrives (POST /api/v1/renewal), its fields already decoded: the
// signature in bytes, the fingerprint as given (checked by Renew).
struct RenewalRequest {
  CertKind kind = CertKind::kAuthentication;
  std::string owner;
  std::string current_fingerprint;  // lower-case hex SHA-256 of the current certificate
  std::string csr_pem;
  std::string signature;  // current_key.Sign(RenewalSignedBytes(csr))
};

// What a renewal (or a status query) answers: the request, and its certificate once
// issued.
struct RenewalOutcome {
  CertificateRequestInfo request;
  std::optional<CertificateInfo> certificate;
};

// The bytes a renewal's signature signs: kRenewalSignaturePrefix + the CSR's DER.
std::string RenewalSignedBytes(const crypto::Csr& csr);
// The bytes a status query's signature signs: kRenewalStatusSignaturePrefix + decimal id.
std::string RenewalStatusSignedBytes(int64_t request_id);

class CertificateAuthority {
 public:
  CertificateAuthority(Registry& registry, store::Database& db, const Clock& clock,
                       crypto::Certificate ca_cert, crypto::PrivateKey ca_key, CaOptions options);

  const crypto::Certificate& ca_certificate() const { return ca_cert_; }

  // The subject the CA issues to `owner` (a gateway id for kAuthentication, a member id
  // for kSigning); what a CSR must ask for.
  crypto::CsrSubject SubjectFor(CertKind kind, std::string_view owner) const;

  // The checks Submit makes of the CSR itself: it parses (and its self-signature
  // verifies), its key is strong enough, and it asks for SubjectFor(kind, owner).
  // kInvalidArgument with the reason ("key: …", "subject: CN is …").
  Result<crypto::Csr> CheckCsr(CertKind kind, std::string_view owner,
                               std::string_view csr_pem) const;

  // Records a request. kInvalidArgument when the CSR is malformed, its key is weak, its
  // subject is not SubjectFor(kind, owner) (the message names the field), or the owner
  // is of the wrong kind; kNotFound when the owner is not registered.
  Result<int64_t> Submit(CertKind kind, std::string_view owner, std::string_view csr_pem,
                         std::string_view submitted_by, std::string_view submitted_from,
                         std::optional<int64_t> enrollment_id);
  // Issues the certificate of a pending request and records it in the registry.
  // kFailedPrecondition when the request is not pending, or when it is a renewal whose
  // current certificate has been revoked since (the key that signed it is no longer
  // trusted).
  Result<CertificateInfo> Approve(int64_t request_id, std::string_view actor);
  // Rejects a pending request; a reason is required.
  Status Reject(int64_t request_id, std::string_view reason, std::string_view actor);
  Result<CertificateRequestInfo> GetRequest(int64_t request_id);
  // Scope: requests whose owner is the member or under it.
  Result<std::vector<CertificateRequestInfo>> Requests(const Scope& scope = {});

  // A renewal, proven by the current certificate's key. In this order:
  //  - kInvalidArgument: the owner is not a gateway id (authentication) or member id
  //    (signing), or the fingerprint is not 64 lower-case hex digits;
  //  - kPermissionDenied ("… cannot be renewed: …"): the current certificate is unknown
  //    to this central, of another owner or kind, revoked, or expired;
  //  - kInvalidArgument: the CSR does not parse;
  //  - kUnauthenticated: the signature does not verify with the current certificate's
  //    key over RenewalSignedBytes(csr);
  //  - kInvalidArgument: the CSR fails CheckCsr (the reason), or asks for the current key;
  //  - kAlreadyExists: a renewal of the same owner and kind is pending.
  // Then records the request (submitted_by "renewal:<owner>", renewal_of the current
  // fingerprint) and, under RenewalPolicy::kAuto, approves it as "policy:renewal" in
  // the same transaction.
  Result<RenewalOutcome> Renew(const RenewalRequest& request, std::string_view submitted_from);
  // A renewal's state, asked with the certificate it was made with: the same checks of
  // that certificate (kPermissionDenied), kUnauthenticated when `signature` does not
  // verify over RenewalStatusSignedBytes(id), kNotFound for an unknown request,
  // kPermissionDenied when the request is not a renewal made with this certificate.
  Result<RenewalOutcome> RenewalStatus(int64_t request_id, std::string_view current_fingerprint,
                                       std::string_view signature);

  // A new enrollment code for a registered gateway (shown once).
  Result<std::string> CreateEnrollmentCode(const GatewayId& gateway, std::string_view actor);
  // The enrollment a code belongs to, when it is valid for `gateway` and unexpired.
  // kUnauthenticated otherwise (one message for unknown, expired or another gateway's).
  Result<int64_t> CheckEnrollmentCode(std::string_view code, const GatewayId& gateway);

  const CaOptions& options() const { return options_; }

 private:
  // The current certificate of a renewal, when it may be renewed (kPermissionDenied
  // otherwise, saying why).
  Result<CertificateInfo> RenewableCertificate(CertKind kind, std::string_view owner,
                                               std::string_view fingerprint);
  // Verifies `signature` over `data` with `cert`'s key; kUnauthenticated otherwise.
  Status CheckRenewalSignature(const CertificateInfo& cert, std::string_view data,
                               std::string_view signature) const;

  Registry& registry_;
  store::Database& db_;
  const Clock& clock_;
  crypto::Certificate ca_cert_;
  crypto::PrivateKey ca_key_;
  CaOptions options_;
};

}  // namespace troad::central
