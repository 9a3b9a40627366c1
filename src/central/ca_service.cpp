#include "central/ca_service.h"

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace troad::central {
namespace {

using store::Row;

constexpr std::string_view kRequestColumns =
    "id, kind, owner, csr_pem, status, submitted_at, submitted_by, submitted_from, "
    "enrollment_id, decided_by, decided_at, decision_reason, certificate, subject, renewal_of";

// A SHA-256 fingerprint in hex, as renewals name the current certificate.
constexpr size_t kFingerprintHexSize = 64;

std::string HashCode(std::string_view code) { return HexEncode(crypto::Sha256(code)); }

Result<CertificateRequestInfo> RequestFromRow(const Row& r) {
  CertificateRequestInfo q;
  TROAD_ASSIGN_OR_RETURN(q.id, r.Int(0));
  TROAD_ASSIGN_OR_RETURN(std::string kind, r.Text(1));
  auto k = ParseCertKind(kind);
  if (!k) return Fail(ErrorCode::kDataLoss, "certificate request {}: unknown kind", q.id);
  q.kind = *k;
  TROAD_ASSIGN_OR_RETURN(q.owner, r.Text(2));
  TROAD_ASSIGN_OR_RETURN(q.csr_pem, r.Text(3));
  TROAD_ASSIGN_OR_RETURN(std::string status, r.Text(4));
  if (status == "pending") {
    q.status = RequestStatus::kPending;
  } else if (status == "approved") {
    q.status = RequestStatus::kApproved;
  } else if (status == "rejected") {
    q.status = RequestStatus::kRejected;
  } else {
    return Fail(ErrorCode::kDataLoss, "certificate request {}: unknown status", q.id);
  }
  TROAD_ASSIGN_OR_RETURN(int64_t submitted, r.Int(5));
  q.submitted_at = FromUnixMillis(submitted);
  TROAD_ASSIGN_OR_RETURN(q.submitted_by, r.Text(6));
  TROAD_ASSIGN_OR_RETURN(q.submitted_from, r.Text(7));
  if (!r.IsNull(8)) {
    TROAD_ASSIGN_OR_RETURN(int64_t e, r.Int(8));
    q.enrollment_id = e;
  }
  if (!r.IsNull(9)) {
    TROAD_ASSIGN_OR_RETURN(q.decided_by, r.Text(9));
  }
  if (!r.IsNull(10)) {
    TROAD_ASSIGN_OR_RETURN(int64_t d, r.Int(10));
    q.decided_at = FromUnixMillis(d);
  }
  if (!r.IsNull(11)) {
    TROAD_ASSIGN_OR_RETURN(q.decision_reason, r.Text(11));
  }
  if (!r.IsNull(12)) {
    TROAD_ASSIGN_OR_RETURN(q.certificate_fingerprint, r.Text(12));
  }
  TROAD_ASSIGN_OR_RETURN(q.subject, r.Text(13));
  if (!r.IsNull(14)) {
    TROAD_ASSIGN_OR_RETURN(q.renewal_of, r.Text(14));
  }
  return q;
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// kInvalidArgument unless `owner` has the form of `kind`'s owner: a gateway id for an
// authentication certificate, a member id for a signing certificate.
Status CheckOwnerForm(CertKind kind, std::string_view owner) {
  if (kind == CertKind::kAuthentication) {
    auto gw = GatewayId::Parse(owner);
    if (!gw) {
      return Fail(ErrorCode::kInvalidArgument,
                  "owner of an authentication certificate must be a gateway id: {}",
                  gw.error().message());
    }
    return {};
  }
  auto member = ClientId::Parse(owner);
  if (!member || member->is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument,
                "owner of a signing certificate must be a member id (INSTANCE/CLASS/CODE)");
  }
  return {};
}

}  // namespace

std::string_view RenewalPolicyName(RenewalPolicy p) {
  return p == RenewalPolicy::kReview ? "review" : "auto";
}

Result<RenewalPolicy> ParseRenewalPolicy(std::string_view name) {
  if (name == "auto") return RenewalPolicy::kAuto;
  if (name == "review") return RenewalPolicy::kReview;
  return Fail(ErrorCode::kInvalidArgument, "must be \"auto\" or \"review\", not \"{}\"",
              EscapeForLog(name));
}

std::string RenewalSignedBytes(const crypto::Csr& csr) {
  std::string out(kRenewalSignaturePrefix);
  out += csr.ToDer();
  return out;
}

std::string RenewalStatusSignedBytes(int64_t request_id) {
  return std::string(kRenewalStatusSignaturePrefix) + std::to_string(request_id);
}

std::string_view RequestStatusName(RequestStatus s) {
  switch (s) {
    case RequestStatus::kPending:
      return "pending";
    case RequestStatus::kApproved:
      return "approved";
    case RequestStatus::kRejected:
      return "rejected";
  }
  return "unknown";
}

CertificateAuthority::CertificateAuthority(Registry& registry, store::Database& db,
                                           const Clock& clock, crypto::Certificate ca_cert,
                                           crypto::PrivateKey ca_key, CaOptions options)
    : registry_(registry),
      db_(db),
      clock_(clock),
      ca_cert_(std::move(ca_cert)),
      ca_key_(std::move(ca_key)),
      options_(std::move(options)) {}

crypto::CsrSubject CertificateAuthority::SubjectFor(CertKind kind, std::string_view owner) const {
  crypto::CsrSubject s;
  s.common_name = std::string(owner);
  s.country = options_.country;
  if (kind == CertKind::kAuthentication) {
    auto gw = GatewayId::Parse(owner);
    s.serial_number_attr = gw ? gw->owner.ToString() : std::string(owner);
  } else {
    s.serial_number_attr = std::string(owner);
  }
  return s;
}

Result<crypto::Csr> CertificateAuthority::CheckCsr(CertKind kind, std::string_view owner,
                                                   std::string_view csr_pem) const {
  TROAD_ASSIGN_OR_RETURN(crypto::Csr csr, crypto::Csr::FromPem(csr_pem));
  if (auto st = csr.public_key().CheckStrength(); !st) {
    return Fail(std::move(st).error().Context("key"));
  }
  if (auto st = crypto::CheckCsrSubject(csr, SubjectFor(kind, owner)); !st) {
    return Fail(std::move(st).error().Context("subject"));
  }
  return csr;
}

Result<int64_t> CertificateAuthority::Submit(CertKind kind, std::string_view owner,
                                             std::string_view csr_pem,
                                             std::string_view submitted_by,
                                             std::string_view submitted_from,
                                             std::optional<int64_t> enrollment_id) {
  TROAD_RETURN_IF_ERROR(CheckOwnerForm(kind, owner));
  if (kind == CertKind::kAuthentication) {
    TROAD_RETURN_IF_ERROR(registry_.GetGateway(*GatewayId::Parse(owner)));
  } else {
    TROAD_RETURN_IF_ERROR(registry_.GetMember(*ClientId::Parse(owner)));
  }
  auto csr = CheckCsr(kind, owner, csr_pem);
  if (!csr) return Fail(std::move(csr).error().Context("certificate request"));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO certificate_requests (kind, owner, csr_pem, subject, status, submitted_at, "
      "submitted_by, submitted_from, enrollment_id) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
      {std::string(CertKindName(kind)), std::string(owner), csr->ToPem(), csr->SubjectString(),
       clock_.NowMillis(), std::string(submitted_by), std::string(submitted_from),
       enrollment_id ? store::Value(*enrollment_id) : store::Value(nullptr)}));
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT MAX(id) FROM certificate_requests"));
  TROAD_ASSIGN_OR_RETURN(int64_t id, rows.at(0).Int(0));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<CertificateInfo> CertificateAuthority::Approve(int64_t request_id, std::string_view actor) {
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(CertificateRequestInfo q, GetRequest(request_id));
  if (q.status != RequestStatus::kPending) {
    return Fail(ErrorCode::kFailedPrecondition, "certificate request {} is {}, not pending",
                request_id, RequestStatusName(q.status));
  }
  if (!q.renewal_of.empty()) {
    // The key that signed a renewal must still be trusted when it is decided.
    TROAD_ASSIGN_OR_RETURN(CertificateInfo current, registry_.GetCertificate(q.renewal_of));
    if (current.revoked_at) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "certificate request {} is a renewal signed with certificate {}, which was "
                  "revoked at {}; reject it",
                  request_id, q.renewal_of, FormatRfc3339(*current.revoked_at));
    }
  }
  TROAD_ASSIGN_OR_RETURN(crypto::Csr csr, crypto::Csr::FromPem(q.csr_pem));
  crypto::CertificateRequest req;
  crypto::CsrSubject subject = SubjectFor(q.kind, q.owner);
  req.common_name = subject.common_name;
  req.serial_number_attr = subject.serial_number_attr;
  req.country = subject.country;
  if (q.kind == CertKind::kAuthentication) {
    req.usage = crypto::CertUsage::kAuthentication;
    req.validity = options_.authentication_validity;
    // The gateway's registered address goes into subjectAltName.
    TROAD_ASSIGN_OR_RETURN(GatewayInfo gw, registry_.GetGateway(*GatewayId::Parse(q.owner)));
    bool is_ip = gw.host.find_first_not_of("0123456789.") == std::string::npos ||
                 gw.host.find(':') != std::string::npos;
    (is_ip ? req.ip_addresses : req.dns_names).push_back(gw.host);
  } else {
    req.usage = crypto::CertUsage::kSigning;
    req.validity = options_.signing_validity;
  }
  TROAD_ASSIGN_OR_RETURN(crypto::Certificate cert,
                         crypto::IssueCertificateFromCsr(ca_cert_, ca_key_, csr, req, clock_));
  TROAD_RETURN_IF_ERROR(registry_.AddCertificate(q.kind, q.owner, cert, request_id));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE certificate_requests SET status = 'approved', decided_by = ?, decided_at = ?, "
      "certificate = ? WHERE id = ?",
      {std::string(actor), clock_.NowMillis(), cert.Sha256Fingerprint(), request_id}));
  TROAD_ASSIGN_OR_RETURN(CertificateInfo info, registry_.GetCertificate(cert.Sha256Fingerprint()));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return info;
}

Status CertificateAuthority::Reject(int64_t request_id, std::string_view reason,
                                    std::string_view actor) {
  if (reason.empty()) return Fail(ErrorCode::kInvalidArgument, "reason is required");
  if (reason.size() > 2000 || !IsValidUtf8(reason)) {
    return Fail(ErrorCode::kInvalidArgument, "reason must be UTF-8 of at most 2000 bytes");
  }
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(CertificateRequestInfo q, GetRequest(request_id));
  if (q.status != RequestStatus::kPending) {
    return Fail(ErrorCode::kFailedPrecondition, "certificate request {} is {}, not pending",
                request_id, RequestStatusName(q.status));
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE certificate_requests SET status = 'rejected', decided_by = ?, decided_at = ?, "
      "decision_reason = ? WHERE id = ?",
      {std::string(actor), clock_.NowMillis(), std::string(reason), request_id}));
  return tx.Commit();
}

Result<CertificateRequestInfo> CertificateAuthority::GetRequest(int64_t request_id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {} FROM certificate_requests WHERE id = ?", kRequestColumns),
                {request_id}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "certificate request {} does not exist", request_id);
  }
  return RequestFromRow(rows[0]);
}

Result<std::vector<CertificateRequestInfo>> CertificateAuthority::Requests(const Scope& scope) {
  std::string sql = fmt::format("SELECT {} FROM certificate_requests", kRequestColumns);
  std::vector<store::Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE " + scope.Matches("owner", params);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<CertificateRequestInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(CertificateRequestInfo q, RequestFromRow(r));
    out.push_back(std::move(q));
  }
  return out;
}

Result<CertificateInfo> CertificateAuthority::RenewableCertificate(CertKind kind,
                                                                   std::string_view owner,
                                                                   std::string_view fingerprint) {
  auto cert = registry_.GetCertificate(fingerprint);
  if (!cert) {
    if (cert.error().code() != ErrorCode::kNotFound) return Fail(cert.error());
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} cannot be renewed: this central did not issue it", fingerprint);
  }
  if (cert->owner != owner || cert->kind != kind) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} cannot be renewed: it is not the {} certificate of {}", fingerprint,
                CertKindName(kind), owner);
  }
  if (cert->revoked_at) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} cannot be renewed: it was revoked at {}; enroll again with a "
                "new enrollment code",
                fingerprint, FormatRfc3339(*cert->revoked_at));
  }
  if (cert->certificate.NotAfter() <= clock_.Now()) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} cannot be renewed: it expired at {}; enroll again with a new "
                "enrollment code",
                fingerprint, FormatRfc3339(cert->certificate.NotAfter()));
  }
  return cert;
}

Status CertificateAuthority::CheckRenewalSignature(const CertificateInfo& cert,
                                                   std::string_view data,
                                                   std::string_view signature) const {
  crypto::PublicKey key = cert.certificate.GetPublicKey();
  if (auto st = key.Verify(data, signature, key.Algorithm()); !st) {
    // A malformed signature is as good as a wrong one: neither proves the key.
    return Fail(ErrorCode::kUnauthenticated,
                "signature does not verify with the key of certificate {} ({}): {}",
                cert.fingerprint, key.Algorithm(), st.error().message());
  }
  return {};
}

Result<RenewalOutcome> CertificateAuthority::Renew(const RenewalRequest& r,
                                                   std::string_view submitted_from) {
  TROAD_RETURN_IF_ERROR(CheckOwnerForm(r.kind, r.owner));
  if (r.current_fingerprint.size() != kFingerprintHexSize || !IsLowerHex(r.current_fingerprint)) {
    return Fail(ErrorCode::kInvalidArgument,
                "current_certificate_sha256 must be 64 lower-case hex digits");
  }
  TROAD_ASSIGN_OR_RETURN(CertificateInfo current,
                         RenewableCertificate(r.kind, r.owner, r.current_fingerprint));
  auto parsed = crypto::Csr::FromPem(r.csr_pem);
  if (!parsed) return Fail(std::move(parsed).error().Context("csr"));
  TROAD_RETURN_IF_ERROR(CheckRenewalSignature(current, RenewalSignedBytes(*parsed), r.signature));
  auto csr = CheckCsr(r.kind, r.owner, r.csr_pem);
  if (!csr) return Fail(std::move(csr).error().Context("csr"));
  if (csr->public_key().ToDer() == current.certificate.GetPublicKey().ToDer()) {
    return Fail(ErrorCode::kInvalidArgument,
                "csr: asks for the key of the current certificate; a renewal needs a new key");
  }

  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(
      auto pending,
      db_.Query("SELECT id FROM certificate_requests WHERE owner = ? AND kind = ? AND "
                "status = 'pending' AND renewal_of IS NOT NULL ORDER BY id LIMIT 1",
                {r.owner, std::string(CertKindName(r.kind))}));
  if (!pending.empty()) {
    TROAD_ASSIGN_OR_RETURN(int64_t other, pending[0].Int(0));
    return Fail(ErrorCode::kAlreadyExists,
                "a renewal of the {} certificate of {} is already pending (request {}); ask for "
                "its status, or ask an operator to decide it",
                CertKindName(r.kind), r.owner, other);
  }
  std::string submitter = std::string(kRenewalSubmitterPrefix) + r.owner;
  TROAD_ASSIGN_OR_RETURN(
      int64_t id, Submit(r.kind, r.owner, r.csr_pem, submitter, submitted_from, std::nullopt));
  TROAD_RETURN_IF_ERROR(db_.Execute("UPDATE certificate_requests SET renewal_of = ? WHERE id = ?",
                                    {current.fingerprint, id}));
  RenewalOutcome out;
  if (options_.renewal == RenewalPolicy::kAuto) {
    TROAD_ASSIGN_OR_RETURN(CertificateInfo issued, Approve(id, kRenewalPolicyDecider));
    out.certificate = std::move(issued);
  }
  TROAD_ASSIGN_OR_RETURN(out.request, GetRequest(id));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<RenewalOutcome> CertificateAuthority::RenewalStatus(int64_t request_id,
                                                           std::string_view current_fingerprint,
                                                           std::string_view signature) {
  if (current_fingerprint.size() != kFingerprintHexSize || !IsLowerHex(current_fingerprint)) {
    return Fail(ErrorCode::kInvalidArgument,
                "current_certificate_sha256 must be 64 lower-case hex digits");
  }
  auto known = registry_.GetCertificate(current_fingerprint);
  if (!known) {
    if (known.error().code() != ErrorCode::kNotFound) return Fail(known.error());
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} cannot be renewed: this central did not issue it",
                current_fingerprint);
  }
  // The owner and kind are the certificate's own; revocation and expiry are checked.
  TROAD_ASSIGN_OR_RETURN(CertificateInfo current,
                         RenewableCertificate(known->kind, known->owner, current_fingerprint));
  TROAD_RETURN_IF_ERROR(
      CheckRenewalSignature(current, RenewalStatusSignedBytes(request_id), signature));
  TROAD_ASSIGN_OR_RETURN(CertificateRequestInfo q, GetRequest(request_id));
  if (q.renewal_of != current.fingerprint) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate request {} is not a renewal made with certificate {}", request_id,
                current.fingerprint);
  }
  RenewalOutcome out;
  if (q.status == RequestStatus::kApproved) {
    TROAD_ASSIGN_OR_RETURN(CertificateInfo issued,
                           registry_.GetCertificate(q.certificate_fingerprint));
    out.certificate = std::move(issued);
  }
  out.request = std::move(q);
  return out;
}

Result<std::string> CertificateAuthority::CreateEnrollmentCode(const GatewayId& gateway,
                                                               std::string_view actor) {
  TROAD_RETURN_IF_ERROR(registry_.GetGateway(gateway));
  // 20 random bytes: 160 bits, typed or pasted once by the gateway's operator.
  std::string code = Base64UrlEncode(crypto::RandomBytes(20));
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO enrollments (gateway, code_hash, created_by, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {gateway.ToString(), HashCode(code), std::string(actor), now,
       now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.enrollment_validity)
                 .count()}));
  return code;
}

Result<int64_t> CertificateAuthority::CheckEnrollmentCode(std::string_view code,
                                                          const GatewayId& gateway) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT id, gateway, expires_at FROM enrollments WHERE code_hash = ?",
                           {HashCode(code)}));
  if (rows.size() == 1) {
    TROAD_ASSIGN_OR_RETURN(int64_t id, rows[0].Int(0));
    TROAD_ASSIGN_OR_RETURN(std::string gw, rows[0].Text(1));
    TROAD_ASSIGN_OR_RETURN(int64_t expires, rows[0].Int(2));
    if (gw == gateway.ToString() && clock_.NowMillis() < expires) return id;
  }
  return Fail(ErrorCode::kUnauthenticated,
              "enrollment code is not valid for gateway {} (unknown, expired or another "
              "gateway's); ask the member's administrator for a new one",
              gateway.ToString());
}

}  // namespace troad::central
