// The central's certificate authority: PKCS#10 requests in, X.509 certificates out.
//
// Gateways submit requests (crypto/csr.h) for their authentication certificate and for
// the signing certificates of the members they sign for; keys never leave the gateway.
// A request names its owner (a registered gateway or member) and must ask for exactly
// the subject the CA issues to that owner (SubjectFor): C, serialNumber = the member
// id, CN = the gateway or member id. An operator approves or rejects it; approval
// issues the certificate and records it in the registry, so the next global
// configuration carries it. (Renewal by a gateway that proves its current key is not
// built yet: issue 3's notes.)
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
#include <vector>

#include "central/registry.h"
#include "core/clock.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "store/database.h"

namespace troad::central {

struct CaOptions {
  std::chrono::hours authentication_validity{24 * 365};
  std::chrono::hours signing_validity{24 * 365 * 2};
  std::chrono::hours enrollment_validity{24 * 7};
  std::string country = "TW";  // the C of every subject
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
};

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
  // kFailedPrecondition when the request is not pending.
  Result<CertificateInfo> Approve(int64_t request_id, std::string_view actor);
  // Rejects a pending request; a reason is required.
  Status Reject(int64_t request_id, std::string_view reason, std::string_view actor);
  Result<CertificateRequestInfo> GetRequest(int64_t request_id);
  // Scope: requests whose owner is the member or under it.
  Result<std::vector<CertificateRequestInfo>> Requests(const Scope& scope = {});

  // A new enrollment code for a registered gateway (shown once).
  Result<std::string> CreateEnrollmentCode(const GatewayId& gateway, std::string_view actor);
  // The enrollment a code belongs to, when it is valid for `gateway` and unexpired.
  // kUnauthenticated otherwise (one message for unknown, expired or another gateway's).
  Result<int64_t> CheckEnrollmentCode(std::string_view code, const GatewayId& gateway);

 private:
  Registry& registry_;
  store::Database& db_;
  const Clock& clock_;
  crypto::Certificate ca_cert_;
  crypto::PrivateKey ca_key_;
  CaOptions options_;
};

}  // namespace troad::central
