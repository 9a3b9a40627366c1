#include "central/registry.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/json.h"
#include "core/net.h"

namespace troad::central {
namespace {

using store::Row;
using store::Value;

constexpr size_t kMaxName = 300;
constexpr size_t kMaxPurpose = 2000;
constexpr size_t kMaxReason = 2000;
constexpr size_t kMaxNotice = 1000;
constexpr size_t kMaxDescription = 10'000;
constexpr size_t kMaxOpenApi = 4 * 1024 * 1024;
constexpr size_t kMaxEndpoints = 1000;
constexpr size_t kMaxGroupDescription = 1000;
constexpr size_t kMaxGroupMembersPerChange = 1000;

// Free text from outside: names are one line, descriptions and reasons may have several.
Status CheckText(std::string_view field, std::string_view text, size_t max, bool required) {
  return ::troad::CheckText(field, text, max, required, /*multiline=*/true);
}

Status CheckEndpoints(std::string_view field, const std::vector<globalconf::Endpoint>& eps) {
  if (eps.size() > kMaxEndpoints) {
    return Fail(ErrorCode::kInvalidArgument, "{}: more than {} entries", field, kMaxEndpoints);
  }
  for (size_t i = 0; i < eps.size(); ++i) {
    if (auto problem = globalconf::EndpointProblem(eps[i])) {
      return Fail(ErrorCode::kInvalidArgument, "{}[{}].{}: {}", field, i, problem->first,
                  problem->second);
    }
  }
  return Ok();
}

std::string EndpointsJson(const std::vector<globalconf::Endpoint>& eps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : eps) out.push_back({{"method", e.method}, {"path", e.path}});
  return out.dump();
}

// A stored endpoint list is input too: a damaged row is reported, not trusted.
Result<std::vector<globalconf::Endpoint>> ParseEndpointsJson(std::string_view text,
                                                             std::string_view where) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Fail(ErrorCode::kDataLoss, "{}: stored endpoint list is not a JSON array", where);
  }
  std::vector<globalconf::Endpoint> out;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("method") || !e.contains("path") ||
        !e["method"].is_string() || !e["path"].is_string()) {
      return Fail(ErrorCode::kDataLoss, "{}: stored endpoint is malformed", where);
    }
    out.push_back({e["method"].get<std::string>(), e["path"].get<std::string>()});
  }
  return out;
}

std::optional<SystemTime> OptionalTime(const Row& row, size_t i) {
  if (row.IsNull(i)) return std::nullopt;
  auto v = row.Int(i);
  if (!v) return std::nullopt;
  return FromUnixMillis(*v);
}

std::string OptionalText(const Row& row, size_t i) {
  if (row.IsNull(i)) return {};
  auto v = row.Text(i);
  return v ? *v : std::string();
}

Value NullOr(const std::optional<int64_t>& v) {
  if (!v) return nullptr;
  return *v;
}

Result<ApplicationStatus> ParseStatus(std::string_view s) {
  if (s == "pending") return ApplicationStatus::kPending;
  if (s == "approved") return ApplicationStatus::kApproved;
  if (s == "rejected") return ApplicationStatus::kRejected;
  if (s == "withdrawn") return ApplicationStatus::kWithdrawn;
  return Fail(ErrorCode::kDataLoss, "unknown application status \"{}\"", s);
}

constexpr std::string_view kApplicationColumns =
    "id, client, service, rules, purpose, status, applied_by, applied_at, decided_by, "
    "decided_at, decision_reason, withdrawn_by, withdrawn_at, withdrawal_reason";

Result<Application> ApplicationFromRow(const Row& r) {
  Application a;
  TROAD_ASSIGN_OR_RETURN(a.id, r.Int(0));
  std::string where = "application " + std::to_string(a.id);
  TROAD_ASSIGN_OR_RETURN(std::string client, r.Text(1));
  TROAD_ASSIGN_OR_RETURN(std::string service, r.Text(2));
  auto c = ClientId::Parse(client);
  auto s = ServiceId::Parse(service);
  if (!c || !s) return Fail(ErrorCode::kDataLoss, "{}: stored identifiers are malformed", where);
  a.client = *c;
  a.service = *s;
  TROAD_ASSIGN_OR_RETURN(std::string rules, r.Text(3));
  TROAD_ASSIGN_OR_RETURN(a.rules, ParseEndpointsJson(rules, where));
  TROAD_ASSIGN_OR_RETURN(a.purpose, r.Text(4));
  TROAD_ASSIGN_OR_RETURN(std::string status, r.Text(5));
  TROAD_ASSIGN_OR_RETURN(a.status, ParseStatus(status));
  TROAD_ASSIGN_OR_RETURN(a.applied_by, r.Text(6));
  TROAD_ASSIGN_OR_RETURN(int64_t applied_at, r.Int(7));
  a.applied_at = FromUnixMillis(applied_at);
  a.decided_by = OptionalText(r, 8);
  a.decided_at = OptionalTime(r, 9);
  a.decision_reason = OptionalText(r, 10);
  a.withdrawn_by = OptionalText(r, 11);
  a.withdrawn_at = OptionalTime(r, 12);
  a.withdrawal_reason = OptionalText(r, 13);
  return a;
}

constexpr std::string_view kGroupGrantColumns =
    "id, group_code, service, rules, reason, granted_by, granted_at, withdrawn_by, "
    "withdrawn_at, withdrawal_reason";

Result<GroupGrant> GroupGrantFromRow(const Row& r) {
  GroupGrant g;
  TROAD_ASSIGN_OR_RETURN(g.id, r.Int(0));
  std::string where = "group grant " + std::to_string(g.id);
  TROAD_ASSIGN_OR_RETURN(g.group, r.Text(1));
  TROAD_ASSIGN_OR_RETURN(std::string service, r.Text(2));
  auto s = ServiceId::Parse(service);
  if (!s || !ValidateIdPart(g.group, "group code")) {
    return Fail(ErrorCode::kDataLoss, "{}: stored identifiers are malformed", where);
  }
  g.service = *s;
  TROAD_ASSIGN_OR_RETURN(std::string rules, r.Text(3));
  TROAD_ASSIGN_OR_RETURN(g.rules, ParseEndpointsJson(rules, where));
  TROAD_ASSIGN_OR_RETURN(g.reason, r.Text(4));
  TROAD_ASSIGN_OR_RETURN(g.granted_by, r.Text(5));
  TROAD_ASSIGN_OR_RETURN(int64_t granted_at, r.Int(6));
  g.granted_at = FromUnixMillis(granted_at);
  g.withdrawn_by = OptionalText(r, 7);
  g.withdrawn_at = OptionalTime(r, 8);
  g.withdrawal_reason = OptionalText(r, 9);
  return g;
}

Status CheckMemberList(std::string_view field, const std::vector<ClientId>& members) {
  if (members.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{}: name at least one subsystem", field);
  }
  if (members.size() > kMaxGroupMembersPerChange) {
    return Fail(ErrorCode::kInvalidArgument, "{}: more than {} entries in one change", field,
                kMaxGroupMembersPerChange);
  }
  return Ok();
}

constexpr std::string_view kCertificateColumns =
    "fingerprint, kind, owner, pem, issued_at, request_id, revoked_at, revoked_by, "
    "revocation_reason";

Result<CertificateInfo> CertificateFromRow(const Row& r) {
  TROAD_ASSIGN_OR_RETURN(std::string fingerprint, r.Text(0));
  TROAD_ASSIGN_OR_RETURN(std::string pem, r.Text(3));
  auto cert = crypto::Certificate::FromPem(pem);
  if (!cert || cert->Sha256Fingerprint() != fingerprint) {
    return Fail(ErrorCode::kDataLoss, "certificate {}: stored PEM does not match its fingerprint",
                fingerprint);
  }
  CertificateInfo c{fingerprint, CertKind::kAuthentication, {}, std::move(*cert), {}, {}, {}, {},
                    {}};
  TROAD_ASSIGN_OR_RETURN(std::string kind, r.Text(1));
  auto k = ParseCertKind(kind);
  if (!k) return Fail(ErrorCode::kDataLoss, "certificate {}: unknown kind", c.fingerprint);
  c.kind = *k;
  TROAD_ASSIGN_OR_RETURN(c.owner, r.Text(2));
  TROAD_ASSIGN_OR_RETURN(int64_t issued_at, r.Int(4));
  c.issued_at = FromUnixMillis(issued_at);
  if (!r.IsNull(5)) {
    TROAD_ASSIGN_OR_RETURN(int64_t request_id, r.Int(5));
    c.request_id = request_id;
  }
  c.revoked_at = OptionalTime(r, 6);
  c.revoked_by = OptionalText(r, 7);
  c.revocation_reason = OptionalText(r, 8);
  return c;
}

}  // namespace

std::string Scope::Matches(std::string_view column, std::vector<store::Value>& params) const {
  std::string prefix = member + "/";
  params.push_back(member);
  // substr counts characters (SQLite and PostgreSQL alike), not bytes.
  int64_t characters = 0;
  for (unsigned char c : prefix) characters += (c & 0xC0) != 0x80;
  params.push_back(characters);
  params.push_back(prefix);
  return fmt::format("({0} = ? OR substr({0}, 1, ?) = ?)", column);
}

std::string_view ApplicationStatusName(ApplicationStatus s) {
  switch (s) {
    case ApplicationStatus::kPending:
      return "pending";
    case ApplicationStatus::kApproved:
      return "approved";
    case ApplicationStatus::kRejected:
      return "rejected";
    case ApplicationStatus::kWithdrawn:
      return "withdrawn";
  }
  return "unknown";
}

std::string_view CertKindName(CertKind k) {
  return k == CertKind::kAuthentication ? "authentication" : "signing";
}

Result<CertKind> ParseCertKind(std::string_view name) {
  if (name == "authentication") return CertKind::kAuthentication;
  if (name == "signing") return CertKind::kSigning;
  return Fail(ErrorCode::kInvalidArgument,
              "certificate kind \"{}\" is neither \"authentication\" nor \"signing\"", name);
}

Registry::Registry(store::Database& db, const Clock& clock, std::string instance)
    : db_(db), clock_(clock), instance_(std::move(instance)) {}

Status Registry::CheckInstance(const ClientId& id, std::string_view what) const {
  if (id.instance != instance_) {
    return Fail(ErrorCode::kInvalidArgument, "{} {}: instance is not {}", what, id.ToString(),
                instance_);
  }
  return Ok();
}

Result<bool> Registry::Exists(std::string_view sql, const std::string& key) {
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, {key}));
  return !rows.empty();
}

Result<int64_t> Registry::Revision() {
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT revision FROM registry_revision"));
  if (rows.size() != 1) return Fail(ErrorCode::kDataLoss, "registry_revision must hold one row");
  return rows[0].Int(0);
}

Status Registry::Touch() {
  TROAD_RETURN_IF_ERROR(db_.Execute("UPDATE registry_revision SET revision = revision + 1"));
  return Ok();
}

// ---- members and subsystems ----

Status Registry::AddMember(const MemberInfo& m) {
  if (m.id.is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument, "member id {} names a subsystem", m.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(CheckInstance(m.id, "member"));
  TROAD_RETURN_IF_ERROR(CheckText("name", m.name, kMaxName, true));
  TROAD_RETURN_IF_ERROR(CheckText("name_en", m.name_en, kMaxName, false));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM members WHERE id = ?", m.id.ToString()));
  if (exists) {
    return Fail(ErrorCode::kAlreadyExists, "member {} is already registered", m.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO members (id, member_class, member_code, name, name_en, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {m.id.ToString(), m.id.member_class, m.id.member_code, m.name, m.name_en,
                   clock_.NowMillis()}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<MemberInfo>> Registry::Members(const Scope& scope) {
  std::string sql = "SELECT id, name, name_en, created_at FROM members";
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE id = ?";
    params.push_back(scope.member);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<MemberInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string id, r.Text(0));
    auto cid = ClientId::Parse(id);
    if (!cid) return Fail(ErrorCode::kDataLoss, "members: stored id \"{}\" is malformed", id);
    MemberInfo m{*cid, {}, {}, {}};
    TROAD_ASSIGN_OR_RETURN(m.name, r.Text(1));
    TROAD_ASSIGN_OR_RETURN(m.name_en, r.Text(2));
    TROAD_ASSIGN_OR_RETURN(int64_t created, r.Int(3));
    m.created_at = FromUnixMillis(created);
    out.push_back(std::move(m));
  }
  return out;
}

Result<MemberInfo> Registry::GetMember(const ClientId& id) {
  TROAD_ASSIGN_OR_RETURN(auto members, Members(Scope{id.Member().ToString()}));
  if (members.empty() || id.is_subsystem()) {
    return Fail(ErrorCode::kNotFound, "member {} is not registered", id.ToString());
  }
  return members[0];
}

Status Registry::AddSubsystem(const SubsystemInfo& s) {
  if (!s.id.is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument, "subsystem id {} has no subsystem code",
                s.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(CheckInstance(s.id, "subsystem"));
  TROAD_RETURN_IF_ERROR(CheckText("name", s.name, kMaxName, true));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool member,
                         Exists("SELECT 1 FROM members WHERE id = ?", s.id.Member().ToString()));
  if (!member) {
    return Fail(ErrorCode::kNotFound, "member {} is not registered", s.id.Member().ToString());
  }
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM subsystems WHERE id = ?", s.id.ToString()));
  if (exists) {
    return Fail(ErrorCode::kAlreadyExists, "subsystem {} is already registered", s.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO subsystems (id, member, code, name, created_at) VALUES (?, ?, ?, ?, ?)",
      {s.id.ToString(), s.id.Member().ToString(), s.id.subsystem, s.name, clock_.NowMillis()}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<SubsystemInfo>> Registry::Subsystems(const Scope& scope) {
  std::string sql = "SELECT id, name, created_at FROM subsystems";
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE member = ?";
    params.push_back(scope.member);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<SubsystemInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string id, r.Text(0));
    auto cid = ClientId::Parse(id);
    if (!cid) return Fail(ErrorCode::kDataLoss, "subsystems: stored id \"{}\" is malformed", id);
    SubsystemInfo s{*cid, {}, {}};
    TROAD_ASSIGN_OR_RETURN(s.name, r.Text(1));
    TROAD_ASSIGN_OR_RETURN(int64_t created, r.Int(2));
    s.created_at = FromUnixMillis(created);
    out.push_back(std::move(s));
  }
  return out;
}

// ---- gateways ----

namespace {
Status CheckGatewayFields(const GatewayInfo& g) {
  if (g.host.empty() || g.port == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "gateway {}: address needs a host and a port other than 0", g.id.ToString());
  }
  if (auto hp = SplitHostPort(JoinHostPort(g.host, g.port)); !hp) {
    return Fail(std::move(hp).error().Context("gateway " + g.id.ToString() + ": address"));
  }
  return Ok();
}
}  // namespace

Status Registry::AddGatewayClients(const GatewayInfo& g) {
  for (const ClientId& c : g.clients) {
    TROAD_ASSIGN_OR_RETURN(bool sub, Exists("SELECT 1 FROM subsystems WHERE id = ?", c.ToString()));
    if (!sub) return Fail(ErrorCode::kNotFound, "subsystem {} is not registered", c.ToString());
    TROAD_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO gateway_clients (gateway, subsystem) VALUES (?, ?) ON CONFLICT DO NOTHING",
        {g.id.ToString(), c.ToString()}));
  }
  return Ok();
}

Status Registry::AddGateway(const GatewayInfo& g) {
  TROAD_RETURN_IF_ERROR(CheckInstance(g.id.owner, "gateway owner"));
  TROAD_RETURN_IF_ERROR(CheckGatewayFields(g));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool member,
                         Exists("SELECT 1 FROM members WHERE id = ?", g.id.owner.ToString()));
  if (!member) {
    return Fail(ErrorCode::kNotFound, "member {} is not registered", g.id.owner.ToString());
  }
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM gateways WHERE id = ?", g.id.ToString()));
  if (exists) {
    return Fail(ErrorCode::kAlreadyExists, "gateway {} is already registered", g.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO gateways (id, member, host, port, created_at) VALUES (?, ?, ?, ?, ?)",
      {g.id.ToString(), g.id.owner.ToString(), g.host, int64_t{g.port}, clock_.NowMillis()}));
  TROAD_RETURN_IF_ERROR(AddGatewayClients(g));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::UpdateGateway(const GatewayInfo& g) {
  TROAD_RETURN_IF_ERROR(CheckGatewayFields(g));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(int64_t changed,
                         db_.Execute("UPDATE gateways SET host = ?, port = ? WHERE id = ?",
                                     {g.host, int64_t{g.port}, g.id.ToString()}));
  if (changed == 0) {
    return Fail(ErrorCode::kNotFound, "gateway {} is not registered", g.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM gateway_clients WHERE gateway = ?", {g.id.ToString()}));
  TROAD_RETURN_IF_ERROR(AddGatewayClients(g));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<GatewayInfo>> Registry::Gateways(const Scope& scope) {
  std::string sql = "SELECT id, host, port, created_at FROM gateways";
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE member = ?";
    params.push_back(scope.member);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  // The clients of the gateways listed (a gateway's id starts with its member's).
  std::string client_sql = "SELECT gateway, subsystem FROM gateway_clients";
  std::vector<Value> client_params;
  if (!scope.member.empty()) client_sql += " WHERE " + scope.Matches("gateway", client_params);
  TROAD_ASSIGN_OR_RETURN(auto client_rows,
                         db_.Query(client_sql + " ORDER BY gateway, subsystem", client_params));
  std::map<std::string, std::vector<ClientId>> clients;
  for (const Row& r : client_rows) {
    TROAD_ASSIGN_OR_RETURN(std::string gw, r.Text(0));
    TROAD_ASSIGN_OR_RETURN(std::string sub, r.Text(1));
    auto cid = ClientId::Parse(sub);
    if (!cid) return Fail(ErrorCode::kDataLoss, "gateway_clients: \"{}\" is malformed", sub);
    clients[gw].push_back(*cid);
  }
  std::vector<GatewayInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string id, r.Text(0));
    auto gid = GatewayId::Parse(id);
    if (!gid) return Fail(ErrorCode::kDataLoss, "gateways: stored id \"{}\" is malformed", id);
    GatewayInfo g{*gid, {}, 0, clients[id], {}};
    TROAD_ASSIGN_OR_RETURN(g.host, r.Text(1));
    TROAD_ASSIGN_OR_RETURN(int64_t port, r.Int(2));
    if (port <= 0 || port > 65535) {
      return Fail(ErrorCode::kDataLoss, "gateways: {} has port {}", id, port);
    }
    g.port = static_cast<uint16_t>(port);
    TROAD_ASSIGN_OR_RETURN(int64_t created, r.Int(3));
    g.created_at = FromUnixMillis(created);
    out.push_back(std::move(g));
  }
  return out;
}

Result<GatewayInfo> Registry::GetGateway(const GatewayId& id) {
  TROAD_ASSIGN_OR_RETURN(auto all, Gateways(Scope{id.owner.ToString()}));
  for (GatewayInfo& g : all) {
    if (g.id == id) return std::move(g);
  }
  return Fail(ErrorCode::kNotFound, "gateway {} is not registered", id.ToString());
}

// ---- services ----

namespace {
Status CheckServiceFields(const ServiceInfo& s) {
  if (s.type != "REST" && s.type != "OPENAPI") {
    return Fail(ErrorCode::kInvalidArgument, "type \"{}\" is neither REST nor OPENAPI", s.type);
  }
  TROAD_RETURN_IF_ERROR(CheckText("description", s.description, kMaxDescription, false));
  TROAD_RETURN_IF_ERROR(CheckText("disabled_notice", s.disabled_notice, kMaxNotice, false));
  if (!s.openapi.empty()) {
    if (s.openapi.size() > kMaxOpenApi) {
      return Fail(ErrorCode::kInvalidArgument, "openapi is larger than {} bytes", kMaxOpenApi);
    }
    auto doc = nlohmann::json::parse(s.openapi, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() ||
        !(doc.contains("openapi") || doc.contains("swagger"))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "openapi is not an OpenAPI document (a JSON object with \"openapi\")");
    }
  }
  if (s.type == "OPENAPI" && s.openapi.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a service of type OPENAPI needs its openapi document");
  }
  return CheckEndpoints("endpoints", s.endpoints);
}
}  // namespace

Status Registry::AddService(const ServiceInfo& s) {
  TROAD_RETURN_IF_ERROR(CheckInstance(s.id.provider, "service provider"));
  TROAD_RETURN_IF_ERROR(CheckServiceFields(s));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool sub,
                         Exists("SELECT 1 FROM subsystems WHERE id = ?", s.id.provider.ToString()));
  if (!sub) {
    return Fail(ErrorCode::kNotFound, "subsystem {} is not registered", s.id.provider.ToString());
  }
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM services WHERE id = ?", s.id.ToString()));
  if (exists) {
    return Fail(ErrorCode::kAlreadyExists, "service {} is already registered", s.id.ToString());
  }
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO services (id, subsystem, type, description, openapi, enabled, "
      "disabled_notice, endpoints, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {s.id.ToString(), s.id.provider.ToString(), s.type, s.description, s.openapi,
       int64_t{s.enabled ? 1 : 0}, s.disabled_notice, EndpointsJson(s.endpoints), now, now}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::UpdateService(const ServiceInfo& s) {
  TROAD_RETURN_IF_ERROR(CheckServiceFields(s));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE services SET type = ?, description = ?, openapi = ?, enabled = ?, "
                  "disabled_notice = ?, endpoints = ?, updated_at = ? WHERE id = ?",
                  {s.type, s.description, s.openapi, int64_t{s.enabled ? 1 : 0}, s.disabled_notice,
                   EndpointsJson(s.endpoints), clock_.NowMillis(), s.id.ToString()}));
  if (changed == 0) {
    return Fail(ErrorCode::kNotFound, "service {} is not registered", s.id.ToString());
  }
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<ServiceInfo>> Registry::Services(const Scope& scope) {
  std::string sql =
      "SELECT id, type, description, openapi, enabled, disabled_notice, endpoints, created_at, "
      "updated_at FROM services";
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE " + scope.Matches("id", params);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<ServiceInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string id, r.Text(0));
    auto sid = ServiceId::Parse(id);
    if (!sid) return Fail(ErrorCode::kDataLoss, "services: stored id \"{}\" is malformed", id);
    ServiceInfo s;
    s.id = *sid;
    TROAD_ASSIGN_OR_RETURN(s.type, r.Text(1));
    TROAD_ASSIGN_OR_RETURN(s.description, r.Text(2));
    TROAD_ASSIGN_OR_RETURN(s.openapi, r.Text(3));
    TROAD_ASSIGN_OR_RETURN(int64_t enabled, r.Int(4));
    s.enabled = enabled != 0;
    TROAD_ASSIGN_OR_RETURN(s.disabled_notice, r.Text(5));
    TROAD_ASSIGN_OR_RETURN(std::string endpoints, r.Text(6));
    TROAD_ASSIGN_OR_RETURN(s.endpoints, ParseEndpointsJson(endpoints, "service " + id));
    TROAD_ASSIGN_OR_RETURN(int64_t created, r.Int(7));
    TROAD_ASSIGN_OR_RETURN(int64_t updated, r.Int(8));
    s.created_at = FromUnixMillis(created);
    s.updated_at = FromUnixMillis(updated);
    out.push_back(std::move(s));
  }
  return out;
}

Result<ServiceInfo> Registry::GetService(const ServiceId& id) {
  TROAD_ASSIGN_OR_RETURN(auto all, Services(Scope{id.provider.Member().ToString()}));
  for (ServiceInfo& s : all) {
    if (s.id == id) return std::move(s);
  }
  return Fail(ErrorCode::kNotFound, "service {} is not registered", id.ToString());
}

// ---- applications and grants ----

Result<int64_t> Registry::Apply(const ClientId& client, const ServiceId& service,
                                const std::vector<globalconf::Endpoint>& rules,
                                std::string_view purpose, std::string_view actor) {
  if (!client.is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument, "client {} is not a subsystem", client.ToString());
  }
  TROAD_RETURN_IF_ERROR(CheckText("purpose", purpose, kMaxPurpose, true));
  TROAD_RETURN_IF_ERROR(CheckEndpoints("rules", rules));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool sub,
                         Exists("SELECT 1 FROM subsystems WHERE id = ?", client.ToString()));
  if (!sub) return Fail(ErrorCode::kNotFound, "subsystem {} is not registered", client.ToString());
  TROAD_ASSIGN_OR_RETURN(bool svc,
                         Exists("SELECT 1 FROM services WHERE id = ?", service.ToString()));
  if (!svc) return Fail(ErrorCode::kNotFound, "service {} is not registered", service.ToString());
  TROAD_ASSIGN_OR_RETURN(
      auto pending, db_.Query("SELECT id FROM applications WHERE client = ? AND service = ? AND "
                              "status = 'pending'",
                              {client.ToString(), service.ToString()}));
  if (!pending.empty()) {
    TROAD_ASSIGN_OR_RETURN(int64_t other, pending[0].Int(0));
    return Fail(ErrorCode::kAlreadyExists,
                "{} already has a pending application ({}) for {}; withdraw it first",
                client.ToString(), other, service.ToString());
  }
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO applications (client, service, rules, purpose, status, applied_by, "
                  "applied_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                  {client.ToString(), service.ToString(), EndpointsJson(rules),
                   std::string(purpose), std::string(actor), clock_.NowMillis()}));
  TROAD_ASSIGN_OR_RETURN(auto id_rows, db_.Query("SELECT MAX(id) FROM applications"));
  TROAD_ASSIGN_OR_RETURN(int64_t id, id_rows.at(0).Int(0));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status Registry::Decide(int64_t id, bool approve, std::string_view reason, std::string_view actor) {
  TROAD_RETURN_IF_ERROR(CheckText("reason", reason, kMaxReason, !approve));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(Application a, GetApplication(id));
  if (a.status != ApplicationStatus::kPending) {
    return Fail(ErrorCode::kFailedPrecondition, "application {} is {}, not pending", id,
                ApplicationStatusName(a.status));
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE applications SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? "
      "WHERE id = ?",
      {std::string(approve ? "approved" : "rejected"), std::string(actor), clock_.NowMillis(),
       std::string(reason), id}));
  if (approve) TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::Withdraw(int64_t id, std::string_view reason, std::string_view actor) {
  TROAD_RETURN_IF_ERROR(CheckText("reason", reason, kMaxReason, true));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(Application a, GetApplication(id));
  if (a.status != ApplicationStatus::kPending && a.status != ApplicationStatus::kApproved) {
    return Fail(ErrorCode::kFailedPrecondition, "application {} is {}: nothing to withdraw", id,
                ApplicationStatusName(a.status));
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE applications SET status = 'withdrawn', withdrawn_by = ?, withdrawn_at = ?, "
      "withdrawal_reason = ? WHERE id = ?",
      {std::string(actor), clock_.NowMillis(), std::string(reason), id}));
  if (a.status == ApplicationStatus::kApproved) TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<Application> Registry::GetApplication(int64_t id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {} FROM applications WHERE id = ?", kApplicationColumns),
                {id}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "application {} does not exist", id);
  return ApplicationFromRow(rows[0]);
}

Result<std::vector<Application>> Registry::Applications(const Scope& scope) {
  std::string sql = fmt::format("SELECT {} FROM applications", kApplicationColumns);
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE " + scope.Matches("client", params);
    sql += " OR " + scope.Matches("service", params);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<Application> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(Application a, ApplicationFromRow(r));
    out.push_back(std::move(a));
  }
  return out;
}

// ---- global groups and the grants made to them ----

Status Registry::CheckGroupFields(const GlobalGroupInfo& g) const {
  TROAD_RETURN_IF_ERROR(ValidateIdPart(g.code, "group code"));
  TROAD_RETURN_IF_ERROR(CheckText("description", g.description, kMaxGroupDescription, true));
  TROAD_RETURN_IF_ERROR(CheckText("description_en", g.description_en, kMaxGroupDescription, false));
  return Ok();
}

Status Registry::InsertGroupMembers(std::string_view code, const std::vector<ClientId>& members) {
  for (const ClientId& m : members) {
    if (!m.is_subsystem()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "members: {} is a member; a global group holds subsystems", m.ToString());
    }
    TROAD_RETURN_IF_ERROR(CheckInstance(m, "subsystem"));
    TROAD_ASSIGN_OR_RETURN(bool sub, Exists("SELECT 1 FROM subsystems WHERE id = ?", m.ToString()));
    if (!sub) return Fail(ErrorCode::kNotFound, "subsystem {} is not registered", m.ToString());
    TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT 1 FROM global_group_members WHERE "
                                                "group_code = ? AND subsystem = ?",
                                                {std::string(code), m.ToString()}));
    if (!rows.empty()) {
      return Fail(ErrorCode::kAlreadyExists, "subsystem {} is already a member of group {}",
                  m.ToString(), code);
    }
    TROAD_RETURN_IF_ERROR(db_.Execute(
        "INSERT INTO global_group_members (group_code, subsystem, added_at) VALUES (?, ?, ?)",
        {std::string(code), m.ToString(), clock_.NowMillis()}));
  }
  return Ok();
}

Status Registry::AddGroup(const GlobalGroupInfo& g) {
  TROAD_RETURN_IF_ERROR(CheckGroupFields(g));
  if (!g.members.empty()) TROAD_RETURN_IF_ERROR(CheckMemberList("members", g.members));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM global_groups WHERE code = ?", g.code));
  if (exists) return Fail(ErrorCode::kAlreadyExists, "global group {} already exists", g.code);
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO global_groups (code, description, description_en, created_at, "
                  "updated_at) VALUES (?, ?, ?, ?, ?)",
                  {g.code, g.description, g.description_en, now, now}));
  TROAD_RETURN_IF_ERROR(InsertGroupMembers(g.code, g.members));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::UpdateGroup(const GlobalGroupInfo& g) {
  TROAD_RETURN_IF_ERROR(CheckGroupFields(g));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE global_groups SET description = ?, description_en = ?, updated_at = ? "
                  "WHERE code = ?",
                  {g.description, g.description_en, clock_.NowMillis(), g.code}));
  if (changed == 0) return Fail(ErrorCode::kNotFound, "global group {} does not exist", g.code);
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::DeleteGroup(std::string_view code) {
  TROAD_RETURN_IF_ERROR(ValidateIdPart(code, "group code"));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM global_groups WHERE code = ?", std::string(code)));
  if (!exists) return Fail(ErrorCode::kNotFound, "global group {} does not exist", code);
  TROAD_ASSIGN_OR_RETURN(auto in_force,
                         db_.Query("SELECT id FROM group_grants WHERE group_code = ? AND "
                                   "withdrawn_at IS NULL ORDER BY id",
                                   {std::string(code)}));
  if (!in_force.empty()) {
    std::string ids;
    for (const Row& r : in_force) {
      TROAD_ASSIGN_OR_RETURN(int64_t id, r.Int(0));
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    }
    return Fail(ErrorCode::kFailedPrecondition,
                "global group {} still has {} grant(s) in force ({}); withdraw them first", code,
                in_force.size(), ids);
  }
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM global_group_members WHERE group_code = ?", {std::string(code)}));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM global_groups WHERE code = ?", {std::string(code)}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::AddGroupMembers(std::string_view code, const std::vector<ClientId>& members) {
  TROAD_RETURN_IF_ERROR(CheckMemberList("members", members));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(int64_t changed,
                         db_.Execute("UPDATE global_groups SET updated_at = ? WHERE code = ?",
                                     {clock_.NowMillis(), std::string(code)}));
  if (changed == 0) return Fail(ErrorCode::kNotFound, "global group {} does not exist", code);
  TROAD_RETURN_IF_ERROR(InsertGroupMembers(code, members));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::RemoveGroupMembers(std::string_view code, const std::vector<ClientId>& members) {
  TROAD_RETURN_IF_ERROR(CheckMemberList("members", members));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(int64_t changed,
                         db_.Execute("UPDATE global_groups SET updated_at = ? WHERE code = ?",
                                     {clock_.NowMillis(), std::string(code)}));
  if (changed == 0) return Fail(ErrorCode::kNotFound, "global group {} does not exist", code);
  for (const ClientId& m : members) {
    TROAD_ASSIGN_OR_RETURN(
        int64_t removed,
        db_.Execute("DELETE FROM global_group_members WHERE group_code = ? AND subsystem = ?",
                    {std::string(code), m.ToString()}));
    if (removed == 0) {
      return Fail(ErrorCode::kNotFound, "{} is not a member of global group {}", m.ToString(),
                  code);
    }
  }
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<GlobalGroupInfo>> Registry::Groups() {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query("SELECT code, description, description_en, created_at, "
                                   "updated_at FROM global_groups ORDER BY code"));
  TROAD_ASSIGN_OR_RETURN(auto member_rows,
                         db_.Query("SELECT group_code, subsystem FROM global_group_members "
                                   "ORDER BY group_code, subsystem"));
  std::map<std::string, std::vector<ClientId>> members;
  for (const Row& r : member_rows) {
    TROAD_ASSIGN_OR_RETURN(std::string code, r.Text(0));
    TROAD_ASSIGN_OR_RETURN(std::string sub, r.Text(1));
    auto cid = ClientId::Parse(sub);
    if (!cid) return Fail(ErrorCode::kDataLoss, "global_group_members: \"{}\" is malformed", sub);
    members[code].push_back(*cid);
  }
  std::vector<GlobalGroupInfo> out;
  for (const Row& r : rows) {
    GlobalGroupInfo g;
    TROAD_ASSIGN_OR_RETURN(g.code, r.Text(0));
    if (!ValidateIdPart(g.code, "group code")) {
      return Fail(ErrorCode::kDataLoss, "global_groups: stored code \"{}\" is malformed", g.code);
    }
    TROAD_ASSIGN_OR_RETURN(g.description, r.Text(1));
    TROAD_ASSIGN_OR_RETURN(g.description_en, r.Text(2));
    TROAD_ASSIGN_OR_RETURN(int64_t created, r.Int(3));
    TROAD_ASSIGN_OR_RETURN(int64_t updated, r.Int(4));
    g.created_at = FromUnixMillis(created);
    g.updated_at = FromUnixMillis(updated);
    g.members = std::move(members[g.code]);
    out.push_back(std::move(g));
  }
  return out;
}

Result<GlobalGroupInfo> Registry::GetGroup(std::string_view code) {
  TROAD_ASSIGN_OR_RETURN(auto all, Groups());
  for (GlobalGroupInfo& g : all) {
    if (g.code == code) return std::move(g);
  }
  return Fail(ErrorCode::kNotFound, "global group {} does not exist", code);
}

Result<int64_t> Registry::GrantToGroup(std::string_view code, const ServiceId& service,
                                       const std::vector<globalconf::Endpoint>& rules,
                                       std::string_view reason, std::string_view actor) {
  TROAD_RETURN_IF_ERROR(ValidateIdPart(code, "group code"));
  TROAD_RETURN_IF_ERROR(CheckText("reason", reason, kMaxReason, true));
  TROAD_RETURN_IF_ERROR(CheckEndpoints("rules", rules));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(bool group,
                         Exists("SELECT 1 FROM global_groups WHERE code = ?", std::string(code)));
  if (!group) return Fail(ErrorCode::kNotFound, "global group {} does not exist", code);
  TROAD_ASSIGN_OR_RETURN(bool svc,
                         Exists("SELECT 1 FROM services WHERE id = ?", service.ToString()));
  if (!svc) return Fail(ErrorCode::kNotFound, "service {} is not registered", service.ToString());
  const std::string rules_json = EndpointsJson(rules);
  // The same decision twice is a mistake; a grant of other rules adds to the first.
  TROAD_ASSIGN_OR_RETURN(
      auto same, db_.Query("SELECT id FROM group_grants WHERE group_code = ? AND service = ? AND "
                           "rules = ? AND withdrawn_at IS NULL",
                           {std::string(code), service.ToString(), rules_json}));
  if (!same.empty()) {
    TROAD_ASSIGN_OR_RETURN(int64_t other, same[0].Int(0));
    return Fail(ErrorCode::kAlreadyExists,
                "global group {} already holds the same grant ({}) for {}", code, other,
                service.ToString());
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO group_grants (group_code, service, rules, reason, granted_by, granted_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {std::string(code), service.ToString(), rules_json, std::string(reason), std::string(actor),
       clock_.NowMillis()}));
  TROAD_ASSIGN_OR_RETURN(auto id_rows, db_.Query("SELECT MAX(id) FROM group_grants"));
  TROAD_ASSIGN_OR_RETURN(int64_t id, id_rows.at(0).Int(0));
  TROAD_RETURN_IF_ERROR(Touch());
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Status Registry::WithdrawGroupGrant(int64_t id, std::string_view reason, std::string_view actor) {
  TROAD_RETURN_IF_ERROR(CheckText("reason", reason, kMaxReason, true));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(GroupGrant g, GetGroupGrant(id));
  if (!g.in_force()) {
    return Fail(ErrorCode::kFailedPrecondition, "group grant {} was withdrawn at {}", id,
                FormatRfc3339(*g.withdrawn_at));
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE group_grants SET withdrawn_by = ?, withdrawn_at = ?, withdrawal_reason = ? "
      "WHERE id = ?",
      {std::string(actor), clock_.NowMillis(), std::string(reason), id}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<GroupGrant> Registry::GetGroupGrant(int64_t id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {} FROM group_grants WHERE id = ?", kGroupGrantColumns), {id}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "group grant {} does not exist", id);
  return GroupGrantFromRow(rows[0]);
}

Result<std::vector<GroupGrant>> Registry::GroupGrants(const Scope& scope) {
  std::string sql = fmt::format("SELECT {} FROM group_grants", kGroupGrantColumns);
  std::vector<Value> params;
  if (!scope.member.empty()) {
    // Parameters are appended in the order the conditions are written.
    sql += " WHERE " + scope.Matches("service", params);
    sql += " OR group_code IN (SELECT group_code FROM global_group_members WHERE ";
    sql += scope.Matches("subsystem", params) + ")";
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY id", params));
  std::vector<GroupGrant> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(GroupGrant g, GroupGrantFromRow(r));
    out.push_back(std::move(g));
  }
  return out;
}

// ---- certificates ----

Status Registry::AddCertificate(CertKind kind, std::string_view owner,
                                const crypto::Certificate& cert,
                                std::optional<int64_t> request_id) {
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  if (kind == CertKind::kAuthentication) {
    TROAD_ASSIGN_OR_RETURN(bool gw,
                           Exists("SELECT 1 FROM gateways WHERE id = ?", std::string(owner)));
    if (!gw) return Fail(ErrorCode::kInvalidArgument, "gateway {} is not registered", owner);
  } else {
    TROAD_ASSIGN_OR_RETURN(bool m,
                           Exists("SELECT 1 FROM members WHERE id = ?", std::string(owner)));
    if (!m) return Fail(ErrorCode::kInvalidArgument, "member {} is not registered", owner);
  }
  std::string fp = cert.Sha256Fingerprint();
  TROAD_ASSIGN_OR_RETURN(bool exists,
                         Exists("SELECT 1 FROM certificates WHERE fingerprint = ?", fp));
  if (exists) return Fail(ErrorCode::kAlreadyExists, "certificate {} is already recorded", fp);
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO certificates (fingerprint, kind, owner, pem, serial, not_before, not_after, "
      "issued_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {fp, std::string(CertKindName(kind)), std::string(owner), cert.ToPem(), cert.SerialHex(),
       ToUnixMillis(cert.NotBefore()), ToUnixMillis(cert.NotAfter()), clock_.NowMillis(),
       NullOr(request_id)}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Status Registry::Revoke(std::string_view fingerprint, std::string_view reason,
                        std::string_view actor) {
  TROAD_RETURN_IF_ERROR(CheckText("reason", reason, kMaxReason, true));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(CertificateInfo c, GetCertificate(fingerprint));
  if (c.revoked_at) {
    return Fail(ErrorCode::kFailedPrecondition, "certificate {} was revoked at {}", fingerprint,
                FormatRfc3339(*c.revoked_at));
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE certificates SET revoked_at = ?, revoked_by = ?, revocation_reason = ? "
      "WHERE fingerprint = ?",
      {clock_.NowMillis(), std::string(actor), std::string(reason), std::string(fingerprint)}));
  TROAD_RETURN_IF_ERROR(Touch());
  return tx.Commit();
}

Result<std::vector<CertificateInfo>> Registry::Certificates(const Scope& scope) {
  std::string sql = fmt::format("SELECT {} FROM certificates", kCertificateColumns);
  std::vector<Value> params;
  if (!scope.member.empty()) {
    sql += " WHERE " + scope.Matches("owner", params);
  }
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY issued_at, rowid", params));
  std::vector<CertificateInfo> out;
  for (const Row& r : rows) {
    TROAD_ASSIGN_OR_RETURN(CertificateInfo c, CertificateFromRow(r));
    out.push_back(std::move(c));
  }
  return out;
}

Result<CertificateInfo> Registry::GetCertificate(std::string_view fingerprint) {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query(fmt::format("SELECT {} FROM certificates WHERE fingerprint = ?",
                                               kCertificateColumns),
                                   {std::string(fingerprint)}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "certificate {} is not known", fingerprint);
  }
  return CertificateFromRow(rows[0]);
}

// ---- the document ----

Result<globalconf::Document> Registry::Snapshot() {
  SystemTime now = clock_.Now();
  globalconf::Document doc;
  TROAD_ASSIGN_OR_RETURN(auto certs, Certificates());
  // Current certificates per owner, oldest first (by notBefore, then in the order they
  // were recorded); revoked ones that still could be presented (not yet expired) go to
  // the revocation list.
  std::map<std::string, std::vector<const CertificateInfo*>> current;
  for (const CertificateInfo& c : certs) {
    bool expired = c.certificate.NotAfter() <= now;
    if (c.revoked_at) {
      if (!expired) doc.revoked_certificates.push_back(c.fingerprint);
    } else if (!expired && c.certificate.NotBefore() <= now) {
      current[c.owner].push_back(&c);
    }
  }
  for (auto& [owner, list] : current) {
    std::stable_sort(list.begin(), list.end(),
                     [](const CertificateInfo* a, const CertificateInfo* b) {
                       return a->certificate.NotBefore() < b->certificate.NotBefore();
                     });
  }
  std::sort(doc.revoked_certificates.begin(), doc.revoked_certificates.end());

  TROAD_ASSIGN_OR_RETURN(auto members, Members());
  for (const MemberInfo& m : members) {
    // Every current signing certificate, newest first: during a renewal's overlap a
    // peer accepts signatures made with either key.
    globalconf::Member gm{m.id, m.name, m.name_en, {}};
    const auto& list = current[m.id.ToString()];
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      if ((*it)->kind == CertKind::kSigning) gm.signing_certificates.push_back((*it)->certificate);
    }
    doc.members.push_back(std::move(gm));
  }
  TROAD_ASSIGN_OR_RETURN(auto subsystems, Subsystems());
  for (const SubsystemInfo& s : subsystems) doc.subsystems.push_back({s.id, s.name});
  TROAD_ASSIGN_OR_RETURN(auto gateways, Gateways());
  for (const GatewayInfo& g : gateways) {
    // A gateway appears once it holds a current authentication certificate. All of them
    // are listed, so that peers accept the gateway with either while a renewal's new
    // certificate replaces the old: the oldest as auth_certificate, the others oldest
    // first. Beyond kMaxAdditionalAuthCertificates others, only the newest are listed.
    std::vector<const CertificateInfo*> auth;
    for (const CertificateInfo* c : current[g.id.ToString()]) {
      if (c->kind == CertKind::kAuthentication) auth.push_back(c);
    }
    if (auth.empty()) continue;
    globalconf::Gateway gateway{g.id, g.host, g.port, auth.front()->certificate, g.clients, {}};
    const size_t first_additional =
        auth.size() - std::min(auth.size() - 1, globalconf::kMaxAdditionalAuthCertificates);
    for (size_t i = first_additional; i < auth.size(); ++i) {
      gateway.additional_auth_certificates.push_back(auth[i]->certificate);
    }
    doc.gateways.push_back(std::move(gateway));
  }
  TROAD_ASSIGN_OR_RETURN(auto services, Services());
  for (const ServiceInfo& s : services) {
    doc.services.push_back(
        globalconf::Service{s.id, s.type, s.enabled, s.disabled_notice, s.endpoints});
  }
  TROAD_ASSIGN_OR_RETURN(auto groups, Groups());
  for (GlobalGroupInfo& g : groups) {
    doc.global_groups.push_back(globalconf::GlobalGroup{std::move(g.code), std::move(g.description),
                                                        std::move(g.description_en),
                                                        std::move(g.members)});
  }
  TROAD_ASSIGN_OR_RETURN(auto applications, Applications());
  for (const Application& a : applications) {
    if (a.status == ApplicationStatus::kApproved) {
      doc.grants.push_back(globalconf::Grant{a.client, a.service, a.rules, ""});
    }
  }
  TROAD_ASSIGN_OR_RETURN(auto group_grants, GroupGrants());
  for (GroupGrant& g : group_grants) {
    if (!g.in_force()) continue;
    doc.grants.push_back(
        globalconf::Grant{ClientId{}, g.service, std::move(g.rules), std::move(g.group)});
  }
  doc.instance = instance_;
  return doc;
}

}  // namespace troad::central
