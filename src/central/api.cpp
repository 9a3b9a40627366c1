#include "central/api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/json.h"
#include "core/net.h"

namespace troad::central {
namespace {

using nlohmann::ordered_json;
namespace bhttp = http::bhttp;

constexpr size_t kMaxListedRequests = 1000;
// A renewal's signature, base64: an RSA-16384 signature is 2048 bytes (2732 in base64);
// an ES256 one at most 72.
constexpr size_t kMaxRenewalSignatureBase64 = 4096;

http::Response JsonResponse(unsigned status, const ordered_json& body) {
  return http::MakeResponse(
      status, body.dump(2, ' ', false, ordered_json::error_handler_t::replace), "application/json");
}

// The API's statuses (docs/central.md): HttpStatusFor, except that a wrong state is a
// conflict (409, not 412, which is about conditional headers) and a lockout is "too
// many requests" (429, not 413, which is about a body).
unsigned ApiStatusFor(ErrorCode code) {
  if (code == ErrorCode::kFailedPrecondition) return 409;
  if (code == ErrorCode::kResourceExhausted) return 429;
  return static_cast<unsigned>(HttpStatusFor(code));
}

http::Response ErrorResponse(const Error& e) {
  ordered_json body = {{"error", {{"code", ErrorCodeName(e.code())}, {"message", e.message()}}}};
  auto r = JsonResponse(ApiStatusFor(e.code()), body);
  if (e.code() == ErrorCode::kUnauthenticated) r.set(bhttp::field::www_authenticate, "Bearer");
  return r;
}

std::string Time(SystemTime t) { return FormatRfc3339(t); }
ordered_json OptionalTime(const std::optional<SystemTime>& t) {
  return t ? ordered_json(FormatRfc3339(*t)) : ordered_json(nullptr);
}

ordered_json EndpointsJson(const std::vector<globalconf::Endpoint>& eps) {
  ordered_json out = ordered_json::array();
  for (const auto& e : eps) out.push_back({{"method", e.method}, {"path", e.path}});
  return out;
}

ordered_json ToJson(const MemberInfo& m) {
  return {{"id", m.id.ToString()},
          {"name", m.name},
          {"name_en", m.name_en},
          {"created_at", Time(m.created_at)}};
}
ordered_json ToJson(const SubsystemInfo& s) {
  return {{"id", s.id.ToString()}, {"name", s.name}, {"created_at", Time(s.created_at)}};
}
ordered_json ToJson(const GatewayInfo& g) {
  ordered_json clients = ordered_json::array();
  for (const ClientId& c : g.clients) clients.push_back(c.ToString());
  return {{"id", g.id.ToString()},
          {"address", JoinHostPort(g.host, g.port)},
          {"clients", clients},
          {"created_at", Time(g.created_at)}};
}
ordered_json ToJson(const ServiceInfo& s) {
  return {{"id", s.id.ToString()},
          {"type", s.type},
          {"description", s.description},
          {"enabled", s.enabled},
          {"disabled_notice", s.disabled_notice},
          {"endpoints", EndpointsJson(s.endpoints)},
          {"has_openapi", !s.openapi.empty()},
          {"created_at", Time(s.created_at)},
          {"updated_at", Time(s.updated_at)}};
}
ordered_json ToJson(const Application& a) {
  return {{"id", a.id},
          {"client", a.client.ToString()},
          {"service", a.service.ToString()},
          {"rules", EndpointsJson(a.rules)},
          {"purpose", a.purpose},
          {"status", ApplicationStatusName(a.status)},
          {"applied_by", a.applied_by},
          {"applied_at", Time(a.applied_at)},
          {"decided_by", a.decided_by},
          {"decided_at", OptionalTime(a.decided_at)},
          {"decision_reason", a.decision_reason},
          {"withdrawn_by", a.withdrawn_by},
          {"withdrawn_at", OptionalTime(a.withdrawn_at)},
          {"withdrawal_reason", a.withdrawal_reason}};
}
ordered_json ToJson(const GlobalGroupInfo& g) {
  ordered_json members = ordered_json::array();
  for (const ClientId& c : g.members) members.push_back(c.ToString());
  return {{"code", g.code},
          {"description", g.description},
          {"description_en", g.description_en},
          {"members", members},
          {"created_at", Time(g.created_at)},
          {"updated_at", Time(g.updated_at)}};
}
ordered_json ToJson(const GroupGrant& g) {
  return {{"id", g.id},
          {"group", g.group},
          {"service", g.service.ToString()},
          {"rules", EndpointsJson(g.rules)},
          {"reason", g.reason},
          {"in_force", g.in_force()},
          {"granted_by", g.granted_by},
          {"granted_at", Time(g.granted_at)},
          {"withdrawn_by", g.withdrawn_by},
          {"withdrawn_at", OptionalTime(g.withdrawn_at)},
          {"withdrawal_reason", g.withdrawal_reason}};
}
ordered_json ToJson(const CertificateInfo& c) {
  return {{"fingerprint", c.fingerprint},
          {"kind", CertKindName(c.kind)},
          {"owner", c.owner},
          {"subject", c.certificate.Subject()},
          {"serial", c.certificate.SerialHex()},
          {"not_before", Time(c.certificate.NotBefore())},
          {"not_after", Time(c.certificate.NotAfter())},
          {"issued_at", Time(c.issued_at)},
          {"revoked_at", OptionalTime(c.revoked_at)},
          {"revoked_by", c.revoked_by},
          {"revocation_reason", c.revocation_reason},
          {"pem", c.certificate.ToPem()}};
}
ordered_json ToJson(const CertificateRequestInfo& q) {
  return {{"id", q.id},
          {"kind", CertKindName(q.kind)},
          {"owner", q.owner},
          {"subject", q.subject},
          {"status", RequestStatusName(q.status)},
          {"submitted_at", Time(q.submitted_at)},
          {"submitted_by", q.submitted_by},
          {"submitted_from", q.submitted_from},
          {"decided_by", q.decided_by},
          {"decided_at", OptionalTime(q.decided_at)},
          {"decision_reason", q.decision_reason},
          {"certificate_fingerprint", q.certificate_fingerprint},
          {"renewal_of", q.renewal_of}};
}
ordered_json ToJson(const AdminInfo& a) {
  return {{"username", a.username},
          {"role", RoleName(a.role)},
          {"member", a.member},
          {"display_name", a.display_name},
          {"created_at", Time(a.created_at)},
          {"disabled", a.disabled}};
}

template <typename T>
ordered_json List(const std::vector<T>& items) {
  ordered_json out = ordered_json::array();
  for (const T& i : items) out.push_back(ToJson(i));
  return out;
}

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// "a=1&b=x%20y" → {a: 1, b: x y}; a later key replaces an earlier one.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!key || !value) {
      return Fail(ErrorCode::kInvalidArgument, "query string: malformed percent-encoding");
    }
    out[*key] = std::move(*value);
  }
  return out;
}

Result<int64_t> ParseId(std::string_view text, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "{} \"{}\" is not a positive integer", what,
                EscapeForLog(text));
  }
  return v;
}

// Reads endpoint lists ("endpoints", "rules") of a request body.
std::vector<globalconf::Endpoint> ReadEndpoints(JsonView& parent, const std::string& key) {
  std::vector<globalconf::Endpoint> out;
  for (JsonView& e : parent.Array(key)) out.push_back({e.String("method"), e.String("path")});
  return out;
}

}  // namespace

struct Api::Call {
  const http::Request& req;
  std::string remote;
  std::string method;
  std::vector<std::string> segments;  // of the path, without the query
  std::map<std::string, std::string> query;
  std::optional<Principal> principal;

  Actor actor() const {
    return principal ? Actor::Of(*principal, remote) : Actor::Local("anonymous");
  }
  std::string name() const { return principal ? principal->username : "anonymous"; }
  bool Is(std::string_view m, std::initializer_list<std::string_view> path) const {
    if (method != m || segments.size() != path.size()) return false;
    size_t i = 0;
    for (std::string_view p : path) {
      if (p != "*" && segments[i] != p) return false;
      ++i;
    }
    return true;
  }
};

Api::Api(Registry& registry, CertificateAuthority& ca, AdminStore& admins, Publisher& publisher)
    : registry_(registry), ca_(ca), admins_(admins), publisher_(publisher) {}

http::Response Api::Handle(const http::Request& request, const std::string& remote) {
  std::string_view target = request.target();
  size_t q = target.find('?');
  Call call{request, remote,      std::string(request.method_string()), Split(target.substr(0, q)),
            {},      std::nullopt};
  if (q != std::string_view::npos) {
    auto query = ParseQuery(target.substr(q + 1));
    if (!query) return ErrorResponse(query.error());
    call.query = std::move(*query);
  }
  for (const std::string& s : call.segments) {
    if (s == "." || s == "..") {
      return ErrorResponse(Error(ErrorCode::kInvalidArgument, "path: dot segments are refused"));
    }
  }
  auto response = Dispatch(call);
  response.keep_alive(request.keep_alive());
  if (response[bhttp::field::cache_control].empty()) {
    response.set(bhttp::field::cache_control, "no-store");
  }
  return response;
}

http::Response Api::Globalconf(Call& call) {
  auto current = publisher_.Current();
  if (call.Is("GET", {"globalconf", "v1", "document"})) {
    if (current == nullptr) {
      return ErrorResponse(Error(ErrorCode::kUnavailable, "no configuration published yet"));
    }
    std::string etag = "\"" + current->sha256 + "\"";
    if (call.req[bhttp::field::if_none_match] == etag) {
      http::Response r{bhttp::status::not_modified, call.req.version()};
      r.set(bhttp::field::etag, etag);
      r.set(bhttp::field::cache_control, "no-cache");
      return r;
    }
    auto r = http::MakeResponse(200, current->document, "application/json");
    r.set(bhttp::field::etag, etag);
    r.set(bhttp::field::cache_control, "no-cache");
    r.set("X-Troad-Globalconf-Version", std::to_string(current->version));
    return r;
  }
  if (call.Is("GET", {"globalconf", "v1", "signatures", "*"})) {
    auto sig = publisher_.SignatureFor(call.segments[3]);
    if (!sig) {
      return ErrorResponse(
          Error(ErrorCode::kNotFound, "no recently published configuration has this SHA-256"));
    }
    auto r = http::MakeResponse(200, *sig, "application/json");
    r.set(bhttp::field::cache_control, "public, max-age=86400, immutable");
    return r;
  }
  return ErrorResponse(Error(ErrorCode::kNotFound, "no such resource"));
}

http::Response Api::Renewal(Call& call, JsonView& in, JsonErrors& errors) {
  const bool status_query = call.segments.size() == 4;
  std::string kind_text, owner, csr;
  int64_t id = 0;
  if (status_query) {
    id = in.Int("id", true, 0, 1, std::numeric_limits<int64_t>::max());
  } else {
    kind_text = in.String("kind", true, 40);
    owner = in.String("owner", true, 512);
    csr = in.String("csr", true, crypto::kMaxCsrPemSize);
  }
  std::string fingerprint = in.String("current_certificate_sha256", true, 64);
  std::string signature_text = in.String("signature", true, kMaxRenewalSignatureBase64);
  std::optional<CertKind> kind;
  if (!kind_text.empty()) {
    if (auto k = ParseCertKind(kind_text)) {
      kind = *k;
    } else {
      in.Error("kind", k.error().message());
    }
  }
  if (!fingerprint.empty() &&
      (fingerprint.size() != 64 ||
       fingerprint.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    in.Error("current_certificate_sha256", "must be 64 lower-case hex digits (SHA-256 of the DER)");
  }
  std::string signature;
  if (!signature_text.empty()) {
    if (auto decoded = Base64Decode(signature_text)) {
      signature = std::move(*decoded);
    } else {
      in.Error("signature", "must be standard base64 with padding: " + decoded.error().message());
    }
  }

  // Who asks, for the audit log: the owner named (for a status query, the owner of the
  // certificate named), under the member it belongs to.
  if (status_query && errors.ok()) {
    if (auto cert = registry_.GetCertificate(fingerprint)) owner = cert->owner;
  }
  std::string member;
  if (auto gw = GatewayId::Parse(owner)) {
    member = gw->owner.ToString();
  } else if (auto c = ClientId::Parse(owner)) {
    member = c->Member().ToString();
  }
  // An owner that is no id at all is logged escaped and cut short.
  const std::string target = member.empty() ? EscapeForLog(owner, 100) : owner;
  Actor actor = Actor::Local(std::string(kRenewalSubmitterPrefix) + target);
  actor.remote = call.remote;
  const std::string action = status_query ? "certificate.renew-status" : "certificate.renew";
  ordered_json detail = {{"current_certificate_sha256", fingerprint}};
  if (status_query) detail["request"] = id;
  if (kind) detail["kind"] = CertKindName(*kind);
  auto refuse = [&](const Error& e) {
    ordered_json why = detail;
    why["error"] = e.message();
    const bool denied =
        e.code() == ErrorCode::kPermissionDenied || e.code() == ErrorCode::kUnauthenticated;
    const bool ours = ApiStatusFor(e.code()) >= 500;
    if (auto st = admins_.Audit(actor, action, target,
                                ours     ? "failed"
                                : denied ? "denied"
                                         : "refused",
                                why.dump(), member);
        !st) {
      spdlog::error("audit log: {}", st.error().ToString());
    }
    auto r = ErrorResponse(e);
    r.erase(bhttp::field::www_authenticate);  // not a bearer-token resource
    return r;
  };
  if (!errors.ok()) return refuse(errors.ToStatus("request body").error());

  auto reply = [&](const RenewalOutcome& out, unsigned status) {
    ordered_json body = {{"request", ToJson(out.request)}};
    if (out.certificate) body["certificate"] = out.certificate->certificate.ToPem();
    body["ca_certificate"] = ca_.ca_certificate().ToPem();
    return JsonResponse(status, body);
  };
  if (status_query) {
    auto out = ca_.RenewalStatus(id, fingerprint, signature);
    if (!out) return refuse(out.error());
    return reply(*out, 200);
  }
  auto out = ca_.Renew(RenewalRequest{*kind, owner, fingerprint, csr, signature}, call.remote);
  if (!out) return refuse(out.error());
  detail["request"] = out->request.id;
  detail["status"] = RequestStatusName(out->request.status);
  if (out->certificate) detail["fingerprint"] = out->certificate->fingerprint;
  if (auto st = admins_.Audit(actor, action, target, "ok", detail.dump(), member); !st) {
    spdlog::error("audit log: {}", st.error().ToString());
  }
  if (out->certificate && on_change_) on_change_();
  return reply(*out, out->certificate ? 201 : 202);
}

http::Response Api::Dispatch(Call& call) {
  if (!call.segments.empty() && call.segments[0] == "globalconf") return Globalconf(call);
  if (call.Is("GET", {"api", "openapi.json"})) {
    return http::MakeResponse(200, std::string(OpenApiDocument()), "application/json");
  }
  if (call.segments.size() < 3 || call.segments[0] != "api" || call.segments[1] != "v1") {
    return ErrorResponse(Error(ErrorCode::kNotFound, "no such resource"));
  }

  // Bodies of POST requests are JSON objects.
  nlohmann::json body = nlohmann::json::object();
  if (call.method == "POST" && !call.req.body().empty()) {
    auto parsed = ParseJson(call.req.body(), "request body");
    if (!parsed) return ErrorResponse(parsed.error());
    if (!parsed->is_object()) {
      return ErrorResponse(Error(ErrorCode::kInvalidArgument, "request body: expected an object"));
    }
    body = std::move(*parsed);
  }
  JsonErrors errors;
  JsonView in(&body, "", &errors);
  auto bad_input = [&]() -> std::optional<http::Response> {
    if (errors.ok()) return std::nullopt;
    return ErrorResponse(errors.ToStatus("request body").error());
  };
  const std::string& what = call.segments[2];

  // ---- without a session ----
  if (call.Is("POST", {"api", "v1", "login"})) {
    std::string user = in.String("username", true, 200);
    std::string password = in.String("password", true, 4096);
    if (auto r = bad_input()) return *r;
    auto session = admins_.Login(user, password, call.remote);
    if (!session) return ErrorResponse(session.error());
    return JsonResponse(200, {{"token", session->token},
                              {"expires_at", Time(session->expires_at)},
                              {"username", session->principal.username},
                              {"role", RoleName(session->principal.role)},
                              {"member", session->principal.member}});
  }
  if (call.Is("POST", {"api", "v1", "renewal"}) ||
      call.Is("POST", {"api", "v1", "renewal", "status"})) {
    return Renewal(call, in, errors);
  }
  if (what == "enrollment" && call.method == "POST" && call.segments.size() <= 4) {
    std::string gateway_text = in.String("gateway", true, 512);
    std::string code = in.String("code", true, 200);
    if (auto r = bad_input()) return *r;
    auto gateway = GatewayId::Parse(gateway_text);
    if (!gateway) return ErrorResponse(gateway.error());
    // The gateway, from where it called; its member's administrators see the entries.
    std::string submitter = "enrollment:" + gateway->ToString();
    Actor gateway_actor = Actor::Local(submitter);
    gateway_actor.remote = call.remote;
    const std::string gateway_member = gateway->owner.ToString();
    auto enrollment = ca_.CheckEnrollmentCode(code, *gateway);
    if (!enrollment) {
      (void)admins_.Audit(gateway_actor, "enrollment.refused", gateway_text, "refused", "{}",
                          gateway_member);
      return ErrorResponse(enrollment.error());
    }
    if (call.Is("POST", {"api", "v1", "enrollment"})) {
      auto gw = registry_.GetGateway(*gateway);
      if (!gw) return ErrorResponse(gw.error());
      struct Wanted {
        CertKind kind;
        std::string owner, csr;
      };
      std::vector<Wanted> wanted;
      for (JsonView& r : in.Array("requests", true)) {
        std::string kind = r.String("kind");
        std::string owner = r.String("owner", true, 512);
        std::string csr = r.String("csr", true, crypto::kMaxCsrPemSize);
        auto k = ParseCertKind(kind);
        if (!kind.empty() && !k) r.Error("kind", k.error().message());
        if (!k) continue;
        // A gateway gets its own authentication certificate and signing certificates
        // for its owner and for the members whose subsystems it serves.
        bool allowed = *k == CertKind::kAuthentication ? owner == gateway->ToString()
                                                       : owner == gateway->owner.ToString();
        for (const ClientId& c : gw->clients) {
          if (*k == CertKind::kSigning && owner == c.Member().ToString()) allowed = true;
        }
        if (!allowed && !owner.empty()) {
          r.Error("owner", fmt::format("gateway {} may not request a {} certificate for {}",
                                       gateway->ToString(), kind, owner));
        } else if (!csr.empty()) {
          // Submit checks these too; checking every request first submits all or none.
          if (auto st = ca_.CheckCsr(*k, owner, csr); !st) r.Error("csr", st.error().message());
        }
        wanted.push_back({*k, owner, csr});
      }
      if (wanted.empty() && errors.ok()) in.Error("requests", "is empty");
      if (auto r = bad_input()) {
        const std::string why = errors.ToStatus("request body").error().message();
        (void)admins_.Audit(gateway_actor, "certificate-request.submit", gateway_text, "refused",
                            ordered_json({{"error", why}}).dump(), gateway_member);
        return *r;
      }
      ordered_json out = ordered_json::array();
      for (const Wanted& w : wanted) {
        auto id = ca_.Submit(w.kind, w.owner, w.csr, submitter, call.remote, *enrollment);
        if (!id) return ErrorResponse(id.error());
        (void)admins_.Audit(gateway_actor, "certificate-request.submit", w.owner, "ok",
                            ordered_json({{"request", *id}, {"kind", CertKindName(w.kind)}}).dump(),
                            gateway_member);
        out.push_back(ToJson(*ca_.GetRequest(*id)));
      }
      return JsonResponse(202, {{"requests", out}});
    }
    if (call.Is("POST", {"api", "v1", "enrollment", "status"})) {
      ordered_json out = ordered_json::array();
      (void)in.Array("ids", true);  // records "ids" missing or not an array
      if (auto r = bad_input()) return *r;
      const nlohmann::json& ids = body["ids"];
      for (const auto& idj : ids) {
        if (!idj.is_number_integer()) {
          return ErrorResponse(Error(ErrorCode::kInvalidArgument, "ids: expected integers"));
        }
        auto q = ca_.GetRequest(idj.get<int64_t>());
        if (!q || q->enrollment_id != *enrollment) {
          return ErrorResponse(
              Error(ErrorCode::kNotFound, fmt::format("certificate request {} is not one of this "
                                                      "enrollment's",
                                                      idj.get<int64_t>())));
        }
        ordered_json item = ToJson(*q);
        if (q->status == RequestStatus::kApproved) {
          auto cert = registry_.GetCertificate(q->certificate_fingerprint);
          if (!cert) return ErrorResponse(cert.error());
          item["certificate"] = cert->certificate.ToPem();
        }
        out.push_back(std::move(item));
      }
      return JsonResponse(200,
                          {{"requests", out}, {"ca_certificate", ca_.ca_certificate().ToPem()}});
    }
    return ErrorResponse(Error(ErrorCode::kNotFound, "no such resource"));
  }

  // ---- everything else needs a session ----
  std::string_view auth = call.req[bhttp::field::authorization];
  if (!auth.starts_with("Bearer ")) {
    return ErrorResponse(Error(ErrorCode::kUnauthenticated,
                               "log in first: POST /api/v1/login, then send Authorization: "
                               "Bearer <token>"));
  }
  auto principal = admins_.Authenticate(auth.substr(7));
  if (!principal) return ErrorResponse(principal.error());
  call.principal = *principal;
  const Principal& who = *call.principal;
  Scope scope{who.role == Role::kOperator ? "" : who.member};

  auto audit = [&](std::string_view action, std::string_view target, std::string_view outcome,
                   const ordered_json& detail, std::string_view member) {
    if (auto st = admins_.Audit(call.actor(), action, target, outcome, detail.dump(), member);
        !st) {
      spdlog::error("audit log: {}", st.error().ToString());
    }
  };
  // The member an id belongs to: the audit log is filtered by it. Service ids have
  // five parts, which ClientId does not parse.
  auto member_of = [](std::string_view id) {
    if (auto c = ClientId::Parse(id)) return c->Member().ToString();
    if (auto s = ServiceId::Parse(id)) return s->provider.Member().ToString();
    return std::string(id);
  };
  // Refuses (and audits) an action on `id` the administrator may not take.
  auto may_act = [&](std::string_view action,
                     std::string_view id) -> std::optional<http::Response> {
    if (who.CanActFor(id)) return std::nullopt;
    audit(action, id, "denied", ordered_json::object(), member_of(id));
    return ErrorResponse(Error(ErrorCode::kPermissionDenied,
                               fmt::format("{} ({}) may not act for {}", who.username,
                                           who.member.empty() ? "operator" : who.member, id)));
  };
  auto operator_only = [&](std::string_view action,
                           std::string_view target) -> std::optional<http::Response> {
    if (who.role == Role::kOperator) return std::nullopt;
    audit(action, target, "denied", ordered_json::object(), who.member);
    return ErrorResponse(Error(ErrorCode::kPermissionDenied,
                               fmt::format("{} is reserved for central operators", action)));
  };
  // The result of a change: audited (under `member`'s entries), published, answered.
  auto done_for = [&](std::string_view member, const Status& st, std::string_view action,
                      std::string_view target, const ordered_json& detail, unsigned status,
                      const ordered_json& reply) -> http::Response {
    audit(action, target, st ? "ok" : "failed",
          st ? detail : ordered_json({{"error", st.error().message()}}), member);
    if (!st) return ErrorResponse(st.error());
    if (on_change_) on_change_();
    return JsonResponse(status, reply);
  };
  // The same, audited under the member `target` belongs to.
  auto done = [&](const Status& st, std::string_view action, std::string_view target,
                  const ordered_json& detail, unsigned status,
                  const ordered_json& reply) -> http::Response {
    return done_for(member_of(target), st, action, target, detail, status, reply);
  };

  if (call.Is("POST", {"api", "v1", "logout"})) {
    (void)admins_.Logout(auth.substr(7), call.remote);
    return JsonResponse(200, {{"logged_out", true}});
  }
  if (call.Is("GET", {"api", "v1", "me"})) {
    return JsonResponse(
        200, {{"username", who.username}, {"role", RoleName(who.role)}, {"member", who.member}});
  }

  // Members.
  if (call.Is("GET", {"api", "v1", "members"})) {
    auto r = registry_.Members(scope);
    return r ? JsonResponse(200, {{"members", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "members"})) {
    std::string id = in.String("id", true, 512);
    std::string name = in.String("name", true, 1000);
    std::string name_en = in.String("name_en", false, 1000);
    if (auto r = bad_input()) return *r;
    if (auto r = operator_only("member.create", id)) return *r;
    auto cid = ClientId::Parse(id);
    if (!cid) return ErrorResponse(std::move(cid).error().Context("id"));
    auto st = registry_.AddMember({*cid, name, name_en, {}});
    return done(st, "member.create", id, {{"name", name}, {"name_en", name_en}}, 201, {{"id", id}});
  }

  // Subsystems.
  if (call.Is("GET", {"api", "v1", "subsystems"})) {
    auto r = registry_.Subsystems(scope);
    return r ? JsonResponse(200, {{"subsystems", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "subsystems"})) {
    std::string id = in.String("id", true, 512);
    std::string name = in.String("name", true, 1000);
    if (auto r = bad_input()) return *r;
    if (auto r = may_act("subsystem.create", id)) return *r;
    auto cid = ClientId::Parse(id);
    if (!cid) return ErrorResponse(std::move(cid).error().Context("id"));
    auto st = registry_.AddSubsystem({*cid, name, {}});
    return done(st, "subsystem.create", id, {{"name", name}}, 201, {{"id", id}});
  }

  // Gateways.
  if (call.Is("GET", {"api", "v1", "gateways"})) {
    auto r = registry_.Gateways(scope);
    return r ? JsonResponse(200, {{"gateways", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "gateways"}) ||
      call.Is("POST", {"api", "v1", "gateways", "update"})) {
    bool create = call.segments.size() == 3;
    std::string id = in.String("id", true, 512);
    std::string address = in.String("address", true, 300);
    std::vector<std::string> clients = in.StringArray("clients");
    if (auto r = bad_input()) return *r;
    std::string action = create ? "gateway.create" : "gateway.update";
    if (auto r = may_act(action, id)) return *r;
    auto gid = GatewayId::Parse(id);
    if (!gid) return ErrorResponse(std::move(gid).error().Context("id"));
    auto hp = SplitHostPort(address);
    if (!hp) return ErrorResponse(std::move(hp).error().Context("address"));
    GatewayInfo g{*gid, hp->first, hp->second, {}, {}};
    for (const std::string& c : clients) {
      auto cid = ClientId::Parse(c);
      if (!cid) return ErrorResponse(std::move(cid).error().Context("clients"));
      if (auto r = may_act(action, c)) return *r;
      g.clients.push_back(*cid);
    }
    auto st = create ? registry_.AddGateway(g) : registry_.UpdateGateway(g);
    return done(st, action, id, {{"address", address}, {"clients", clients}}, create ? 201 : 200,
                {{"id", id}});
  }
  if (call.Is("POST", {"api", "v1", "gateways", "enrollment-codes"})) {
    std::string id = in.String("gateway", true, 512);
    if (auto r = bad_input()) return *r;
    if (auto r = may_act("gateway.enrollment-code", id)) return *r;
    auto gid = GatewayId::Parse(id);
    if (!gid) return ErrorResponse(std::move(gid).error().Context("gateway"));
    auto code = ca_.CreateEnrollmentCode(*gid, who.username);
    audit("gateway.enrollment-code", id, code ? "ok" : "failed", ordered_json::object(),
          gid->owner.ToString());
    if (!code) return ErrorResponse(code.error());
    return JsonResponse(201, {{"gateway", id}, {"code", *code}});
  }

  // Services.
  if (call.Is("GET", {"api", "v1", "services"})) {
    auto r = registry_.Services(scope);
    return r ? JsonResponse(200, {{"services", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "services"}) ||
      call.Is("POST", {"api", "v1", "services", "update"})) {
    bool create = call.segments.size() == 3;
    ServiceInfo s;
    std::string id = in.String("id", true, 512);
    s.type = in.String("type", false, 20);
    if (s.type.empty()) s.type = "REST";
    s.description = in.String("description", false, 20'000);
    s.enabled = in.Bool("enabled", true);
    s.disabled_notice = in.String("disabled_notice", false, 2000);
    s.endpoints = ReadEndpoints(in, "endpoints");
    if (body.contains("openapi")) {
      if (body["openapi"].is_object()) {
        s.openapi = body["openapi"].dump();
      } else {
        in.Error("openapi", "expected the OpenAPI document as a JSON object");
      }
    }
    if (auto r = bad_input()) return *r;
    std::string action = create ? "service.create" : "service.update";
    if (auto r = may_act(action, id)) return *r;
    auto sid = ServiceId::Parse(id);
    if (!sid) return ErrorResponse(std::move(sid).error().Context("id"));
    s.id = *sid;
    auto st = create ? registry_.AddService(s) : registry_.UpdateService(s);
    return done(
        st, action, id,
        {{"type", s.type}, {"enabled", s.enabled}, {"endpoints", EndpointsJson(s.endpoints)}},
        create ? 201 : 200, {{"id", id}});
  }

  // Access applications and grants.
  if (call.Is("GET", {"api", "v1", "applications"})) {
    auto r = registry_.Applications(scope);
    return r ? JsonResponse(200, {{"applications", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "applications"})) {
    std::string client = in.String("client", true, 512);
    std::string service = in.String("service", true, 512);
    std::string purpose = in.String("purpose", true, 4000);
    auto rules = ReadEndpoints(in, "rules");
    if (auto r = bad_input()) return *r;
    if (auto r = may_act("application.create", client)) return *r;
    auto cid = ClientId::Parse(client);
    if (!cid) return ErrorResponse(std::move(cid).error().Context("client"));
    auto sid = ServiceId::Parse(service);
    if (!sid) return ErrorResponse(std::move(sid).error().Context("service"));
    auto id = registry_.Apply(*cid, *sid, rules, purpose, who.username);
    Status st = id ? Status() : Status(tl::unexpected(id.error()));
    return done(st, "application.create", client,
                {{"service", service}, {"purpose", purpose}, {"application", id ? *id : 0}}, 201,
                id ? ToJson(*registry_.GetApplication(*id)) : ordered_json());
  }
  if (call.Is("POST", {"api", "v1", "applications", "*", "*"})) {
    const std::string& verb = call.segments[4];
    if (verb != "approve" && verb != "reject" && verb != "withdraw") {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    auto id = ParseId(call.segments[3], "application id");
    if (!id) return ErrorResponse(id.error());
    std::string reason = in.String("reason", verb != "approve", 4000);
    if (auto r = bad_input()) return *r;
    auto app = registry_.GetApplication(*id);
    if (!app) return ErrorResponse(app.error());
    std::string provider = app->service.ToString();
    std::string action = "application." + verb;
    Status st;
    if (verb == "approve" || verb == "reject") {
      // The provider decides.
      if (auto r = may_act(action, provider)) return *r;
      st = registry_.Decide(*id, verb == "approve", reason, who.username);
    } else if (verb == "withdraw") {
      // The applicant withdraws its application; the provider withdraws its grant.
      if (!who.CanActFor(app->client.ToString())) {
        if (auto r = may_act(action, provider)) return *r;
      }
      st = registry_.Withdraw(*id, reason, who.username);
    } else {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    ordered_json detail = {
        {"application", *id}, {"client", app->client.ToString()}, {"reason", reason}};
    return done(st, action, provider, detail, 200,
                st ? ToJson(*registry_.GetApplication(*id)) : ordered_json());
  }

  // Global groups: kept by operators, read by everyone (they are published in the
  // global configuration anyway). Group changes are central-wide: audited without a
  // member.
  if (call.Is("GET", {"api", "v1", "groups"})) {
    auto r = registry_.Groups();
    return r ? JsonResponse(200, {{"groups", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "groups"}) ||
      call.Is("POST", {"api", "v1", "groups", "update"})) {
    bool create = call.segments.size() == 3;
    GlobalGroupInfo g;
    g.code = in.String("code", true, 512);
    g.description = in.String("description", true, 2000);
    g.description_en = in.String("description_en", false, 2000);
    std::vector<std::string> members;
    if (create) members = in.StringArray("members");
    if (auto r = bad_input()) return *r;
    std::string action = create ? "group.create" : "group.update";
    if (auto r = operator_only(action, g.code)) return *r;
    for (size_t i = 0; i < members.size(); ++i) {
      auto cid = ClientId::Parse(members[i]);
      if (!cid) return ErrorResponse(std::move(cid).error().Context(fmt::format("members[{}]", i)));
      g.members.push_back(*cid);
    }
    auto st = create ? registry_.AddGroup(g) : registry_.UpdateGroup(g);
    ordered_json detail = {{"description", g.description}, {"description_en", g.description_en}};
    if (create) detail["members"] = members;
    return done_for("", st, action, g.code, detail, create ? 201 : 200,
                    st ? ToJson(*registry_.GetGroup(g.code)) : ordered_json());
  }
  if (call.Is("POST", {"api", "v1", "groups", "delete"})) {
    std::string code = in.String("code", true, 512);
    if (auto r = bad_input()) return *r;
    if (auto r = operator_only("group.delete", code)) return *r;
    auto before = registry_.GetGroup(code);
    auto st = registry_.DeleteGroup(code);
    ordered_json detail = ordered_json::object();
    if (before) detail["members"] = ToJson(*before)["members"];
    return done_for("", st, "group.delete", code, detail, 200, {{"code", code}, {"deleted", true}});
  }
  if (call.Is("POST", {"api", "v1", "groups", "members", "*"})) {
    const std::string& verb = call.segments[4];
    if (verb != "add" && verb != "remove") {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    std::string code = in.String("group", true, 512);
    std::vector<std::string> members = in.StringArray("members", true);
    if (auto r = bad_input()) return *r;
    std::string action = "group.member-" + verb;
    if (auto r = operator_only(action, code)) return *r;
    std::vector<ClientId> ids;
    for (size_t i = 0; i < members.size(); ++i) {
      auto cid = ClientId::Parse(members[i]);
      if (!cid) return ErrorResponse(std::move(cid).error().Context(fmt::format("members[{}]", i)));
      ids.push_back(*cid);
    }
    auto st = verb == "add" ? registry_.AddGroupMembers(code, ids)
                            : registry_.RemoveGroupMembers(code, ids);
    return done_for("", st, action, code, {{"members", members}}, 200,
                    st ? ToJson(*registry_.GetGroup(code)) : ordered_json());
  }

  // Grants to global groups: the provider's administrator decides alone (no
  // application), with a reason; audited under the provider's member.
  if (call.Is("GET", {"api", "v1", "groups", "grants"})) {
    auto r = registry_.GroupGrants(scope);
    return r ? JsonResponse(200, {{"grants", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "groups", "grants"})) {
    std::string group = in.String("group", true, 512);
    std::string service = in.String("service", true, 512);
    std::string reason = in.String("reason", true, 4000);
    auto rules = ReadEndpoints(in, "rules");
    if (auto r = bad_input()) return *r;
    if (auto r = may_act("group-grant.create", service)) return *r;
    auto sid = ServiceId::Parse(service);
    if (!sid) return ErrorResponse(std::move(sid).error().Context("service"));
    auto id = registry_.GrantToGroup(group, *sid, rules, reason, who.username);
    Status st = id ? Status() : Status(tl::unexpected(id.error()));
    return done(st, "group-grant.create", service,
                {{"group", group},
                 {"rules", EndpointsJson(rules)},
                 {"reason", reason},
                 {"grant", id ? *id : 0}},
                201, id ? ToJson(*registry_.GetGroupGrant(*id)) : ordered_json());
  }
  if (call.Is("POST", {"api", "v1", "groups", "grants", "*", "*"})) {
    const std::string& verb = call.segments[5];
    if (verb != "withdraw") {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    auto id = ParseId(call.segments[4], "group grant id");
    if (!id) return ErrorResponse(id.error());
    std::string reason = in.String("reason", true, 4000);
    if (auto r = bad_input()) return *r;
    auto grant = registry_.GetGroupGrant(*id);
    if (!grant) return ErrorResponse(grant.error());
    const std::string service = grant->service.ToString();
    if (auto r = may_act("group-grant.withdraw", service)) return *r;
    auto st = registry_.WithdrawGroupGrant(*id, reason, who.username);
    return done(st, "group-grant.withdraw", service,
                {{"grant", *id}, {"group", grant->group}, {"reason", reason}}, 200,
                st ? ToJson(*registry_.GetGroupGrant(*id)) : ordered_json());
  }

  // Certificates and their requests.
  if (call.Is("GET", {"api", "v1", "certificate-requests"})) {
    auto r = ca_.Requests(scope);
    return r ? JsonResponse(200, {{"certificate_requests", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "certificate-requests", "*", "*"})) {
    const std::string& verb = call.segments[4];
    if (verb != "approve" && verb != "reject") {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    auto id = ParseId(call.segments[3], "certificate request id");
    if (!id) return ErrorResponse(id.error());
    std::string reason = in.String("reason", verb == "reject", 4000);
    if (auto r = bad_input()) return *r;
    std::string action = "certificate-request." + verb;
    auto q = ca_.GetRequest(*id);
    if (!q) return ErrorResponse(q.error());
    if (auto r = operator_only(action, q->owner)) return *r;
    ordered_json detail = {{"request", *id}, {"kind", CertKindName(q->kind)}};
    if (verb == "approve") {
      auto cert = ca_.Approve(*id, who.username);
      if (cert) detail["fingerprint"] = cert->fingerprint;
      Status st = cert ? Status() : Status(tl::unexpected(cert.error()));
      return done(st, action, q->owner, detail, 200, cert ? ToJson(*cert) : ordered_json());
    }
    if (verb == "reject") {
      detail["reason"] = reason;
      auto st = ca_.Reject(*id, reason, who.username);
      return done(st, action, q->owner, detail, 200,
                  st ? ToJson(*ca_.GetRequest(*id)) : ordered_json());
    }
    return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
  }
  if (call.Is("GET", {"api", "v1", "certificates"})) {
    auto r = registry_.Certificates(scope);
    return r ? JsonResponse(200, {{"certificates", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "certificates", "*", "revoke"})) {
    std::string reason = in.String("reason", true, 4000);
    if (auto r = bad_input()) return *r;
    auto cert = registry_.GetCertificate(call.segments[3]);
    if (!cert) return ErrorResponse(cert.error());
    // A member may revoke its own certificates (a lost key); operators any.
    if (auto r = may_act("certificate.revoke", cert->owner)) return *r;
    auto st = registry_.Revoke(cert->fingerprint, reason, who.username);
    return done(st, "certificate.revoke", cert->owner,
                {{"fingerprint", cert->fingerprint}, {"reason", reason}}, 200,
                {{"fingerprint", cert->fingerprint}, {"revoked", true}});
  }

  // The global configuration as published.
  if (call.Is("GET", {"api", "v1", "globalconf"})) {
    auto current = publisher_.Current();
    if (current == nullptr) return JsonResponse(200, {{"published", false}});
    return JsonResponse(200, {{"published", true},
                              {"version", current->version},
                              {"sha256", current->sha256},
                              {"issued_at", Time(current->issued_at)},
                              {"expires_at", Time(current->expires_at)}});
  }

  // Administrators.
  if (call.Is("GET", {"api", "v1", "admins"})) {
    auto r = admins_.List(call.actor());
    return r ? JsonResponse(200, {{"admins", List(*r)}}) : ErrorResponse(r.error());
  }
  if (call.Is("POST", {"api", "v1", "admins"})) {
    NewAdmin a;
    a.username = in.String("username", true, 200);
    a.password = in.String("password", true, 4096);
    std::string role = in.String("role", true, 40);
    a.member = in.String("member", false, 512);
    a.display_name = in.String("display_name", false, 1000);
    if (auto r = bad_input()) return *r;
    auto parsed_role = ParseRole(role);
    if (!parsed_role) return ErrorResponse(std::move(parsed_role).error().Context("role"));
    a.role = *parsed_role;
    auto created = admins_.CreateAdmin(a, call.actor());
    return created ? JsonResponse(201, ToJson(*created)) : ErrorResponse(created.error());
  }
  if (call.Is("POST", {"api", "v1", "admins", "*", "*"})) {
    const std::string& user = call.segments[3];
    const std::string& verb = call.segments[4];
    Status st;
    if (verb == "disable") {
      st = admins_.Disable(user, call.actor());
    } else if (verb == "enable") {
      st = admins_.Enable(user, call.actor());
    } else if (verb == "password") {
      std::string password = in.String("password", true, 4096);
      std::string current = in.String("current_password", false, 4096);
      if (auto r = bad_input()) return *r;
      st = admins_.ChangePassword(
          user, password, call.actor(),
          current.empty() ? std::nullopt : std::optional<std::string_view>(current));
    } else {
      return ErrorResponse(Error(ErrorCode::kNotFound, "no such action: " + verb));
    }
    return st ? JsonResponse(200, {{"username", user}, {"done", verb}}) : ErrorResponse(st.error());
  }

  // The audit log.
  if (call.Is("GET", {"api", "v1", "audit"}) || call.Is("GET", {"api", "v1", "audit", "export"})) {
    AuditFilter filter;
    auto time_param = [&](const char* key) -> Result<std::optional<SystemTime>> {
      auto it = call.query.find(key);
      if (it == call.query.end()) return std::optional<SystemTime>();
      auto t = ParseRfc3339(it->second);
      if (!t) return Fail(std::move(t).error().Context(key));
      return std::optional<SystemTime>(*t);
    };
    auto from = time_param("from");
    if (!from) return ErrorResponse(from.error());
    auto to = time_param("to");
    if (!to) return ErrorResponse(to.error());
    filter.from = *from;
    filter.to = *to;
    if (call.query.count("actor")) filter.actor = call.query["actor"];
    filter.member = who.role == Role::kOperator ? call.query["member"] : who.member;
    if (call.query.count("after_id")) {
      auto a = ParseId(call.query["after_id"], "after_id");
      if (!a) return ErrorResponse(a.error());
      filter.after_id = *a;
    }
    if (call.query.count("limit")) {
      auto l = ParseId(call.query["limit"], "limit");
      if (!l) return ErrorResponse(l.error());
      filter.limit = static_cast<int>(std::min<int64_t>(*l, kMaxListedRequests));
    }
    if (call.segments.size() == 4) {
      auto lines = admins_.ExportAuditJsonLines(filter);
      if (!lines) return ErrorResponse(lines.error());
      audit("audit.export", filter.member, "ok", ordered_json::object(), filter.member);
      auto r = http::MakeResponse(200, std::move(*lines), "application/x-ndjson; charset=utf-8");
      r.set(bhttp::field::content_disposition, "attachment; filename=\"troad-audit.jsonl\"");
      return r;
    }
    auto entries = admins_.ListAudit(filter);
    if (!entries) return ErrorResponse(entries.error());
    ordered_json out = ordered_json::array();
    for (const AuditEntry& e : *entries) {
      out.push_back(ordered_json::parse(AuditJsonLine(e), nullptr, false));
    }
    return JsonResponse(200, {{"entries", out}});
  }

  return ErrorResponse(
      Error(ErrorCode::kNotFound,
            fmt::format("no such resource: {} {}", call.method, EscapeForLog(call.req.target()))));
}

}  // namespace troad::central
