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
    "enrollment_id, decided_by, decided_at, decision_reason, certificate, subject";

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
  return q;
}

}  // namespace

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
  if (kind == CertKind::kAuthentication) {
    auto gw = GatewayId::Parse(owner);
    if (!gw) {
      return Fail(ErrorCode::kInvalidArgument,
                  "owner of an authentication certificate must be "
                  "a gateway id: {}",
                  gw.error().message());
    }
    TROAD_RETURN_IF_ERROR(registry_.GetGateway(*gw));
  } else {
    auto member = ClientId::Parse(owner);
    if (!member || member->is_subsystem()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "owner of a signing certificate must be a member id (INSTANCE/CLASS/CODE)");
    }
    TROAD_RETURN_IF_ERROR(registry_.GetMember(*member));
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
