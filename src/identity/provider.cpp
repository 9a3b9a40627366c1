#include "identity/provider.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "http/form.h"
#include "identity/citizen_cert.h"
#include "identity/dual_document.h"
#include "identity/qr.h"
#include "identity/webauthn.h"

namespace troad::identity {
namespace {

constexpr std::string_view kSessionCookie = "troad_idp";
constexpr std::string_view kLangCookie = "troad_lang";
constexpr int64_t kRemoveWindowMs = 10 * 60 * 1000;
constexpr size_t kMaxFormBody = 64 * 1024;

http::Response Json(unsigned status, const nlohmann::json& body) {
  return http::JsonResponse(status, body);
}

http::Response JsonError(unsigned status, std::string_view error, std::string_view description) {
  return Json(status, {{"error", error}, {"error_description", description}});
}

http::Response Redirect(std::string_view location) {
  auto res = http::MakeResponse(303, "", "text/plain");
  res.set(http::bhttp::field::location, location);
  res.set(http::bhttp::field::cache_control, "no-store");
  return res;
}

std::string OriginOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t slash = url.find('/', scheme + 3);
  return std::string(url.substr(0, slash));
}

std::string MaskNationalId(std::string_view id) {
  if (id.size() != 10) return std::string(id);
  return std::string(id.substr(0, 3)) + "****" + std::string(id.substr(7));
}

std::string MaskMobile(std::string_view mobile) {
  if (mobile.size() < 4) return "—";
  return std::string(mobile.size() - 3, '*') + std::string(mobile.substr(mobile.size() - 3));
}

nlohmann::json MethodsToJson(const std::vector<VerifiedMethod>& methods) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : methods) out.push_back({{"method", MethodName(m.method)}, {"at", m.at}});
  return out;
}

Result<std::vector<VerifiedMethod>> MethodsFromJson(const nlohmann::json& methods) {
  if (!methods.is_array()) return Fail(ErrorCode::kDataLoss, "sessions.methods is not an array");
  std::vector<VerifiedMethod> out;
  for (const auto& m : methods) {
    if (!m.is_object() || !m.contains("method") || !m["method"].is_string() || !m.contains("at") ||
        !m["at"].is_number_integer()) {
      return Fail(ErrorCode::kDataLoss, "sessions.methods holds a malformed entry");
    }
    auto method = MethodFromName(m["method"].get<std::string>());
    if (!method) return Fail(ErrorCode::kDataLoss, "sessions.methods names an unknown method");
    out.push_back({*method, m["at"].get<int64_t>()});
  }
  return out;
}

// The methods that count for a request: those completed at or after `not_before`.
std::vector<VerifiedMethod> MethodsSince(const std::vector<VerifiedMethod>& methods,
                                         int64_t not_before) {
  std::vector<VerifiedMethod> out;
  for (const auto& m : methods) {
    if (m.at >= not_before) out.push_back(m);
  }
  return out;
}

std::string L(Locale locale, const char* zh, const char* en) { return Localize(locale, zh, en); }

std::string ExpiredMessage(Locale l) {
  return L(l, "此登入已逾時，或是在其他瀏覽器開啟。請回到原服務重新開始。",
           "This sign-in has expired or was opened in another browser. Go back to the service "
           "and start again.");
}

std::string StaleFormMessage(Locale l) {
  return L(l, "此表單已失效，請重新整理頁面後再試。",
           "This form is no longer valid. Reload the page and try again.");
}

std::string LockMessage(Locale locale, int64_t until_ms) {
  std::string when = FormatRfc3339(FromUnixMillis(until_ms)).substr(11, 5);
  return locale == Locale::kEn
             ? fmt::format(
                   "Too many failed attempts. Try again after {} (UTC), or use another "
                   "way to verify.",
                   when)
             : fmt::format("失敗次數過多，請於 {}（UTC）後再試，或改用其他驗證方式。", when);
}

// The body of a POSTed form: application/x-www-form-urlencoded (else kFailedPrecondition),
// at most kMaxFormBody (else kResourceExhausted), well-formed (else kInvalidArgument).
Result<http::Form> ReadForm(const http::Request& req) {
  if (!req[http::bhttp::field::content_type].starts_with("application/x-www-form-urlencoded")) {
    return Fail(ErrorCode::kFailedPrecondition,
                "expected a form (application/x-www-form-urlencoded)");
  }
  if (req.body().size() > kMaxFormBody) {
    return Fail(ErrorCode::kResourceExhausted, "the form is larger than {} bytes", kMaxFormBody);
  }
  return http::ParseForm(req.body());
}

}  // namespace

// A stored authorization request and the earliest method time it accepts.
struct Provider::Pending {
  std::string id;
  std::string session;
  AuthorizationRequest request;
  int64_t not_before = 0;
  int64_t expires_at = 0;
  bool account() const { return request.client_id.empty(); }
  std::string client_name;
};

struct Provider::Session {
  std::string id;     // SHA-256 hex of the cookie
  std::string token;  // the cookie value; set only for a session made by this request
  std::string csrf;
  std::string person;
  std::string claimed_national_id;
  std::vector<VerifiedMethod> methods;
  std::string challenge;
  std::string challenge_kind;
  int64_t challenge_expires_at = 0;
  int64_t expires_at = 0;
};

struct Provider::Call {
  const http::Request& req;
  const std::string& remote;
  std::string path;
  http::Form query;
  Locale locale = Locale::kZhTw;
  std::vector<std::string> set_cookies;
  const LookupAnswer* answer = nullptr;  // Serve's second step
  std::optional<Lookup> lookup;          // what a method asked for in the first
};

Provider::Provider(store::Database& db, const Clock& clock, ProviderOptions options, SmsSender& sms,
                   const CitizenCertVerifier* certificates, DualDocumentChecker* dual_document)
    : db_(db),
      clock_(clock),
      options_(std::move(options)),
      sms_(sms),
      accounts_(db, clock),
      clients_(db, clock),
      keys_(db, clock, options_.keys),
      rp_{options_.rp_id, {OriginOf(options_.issuer)}} {
  auto sms_method = std::make_unique<SmsMethod>(
      db, clock, sms_, SmsMethodOptions{options_.sms_code_lifetime, options_.sms_max_attempts});
  sms_method_ = sms_method.get();
  methods_[Method::kSms] = std::move(sms_method);
  methods_[Method::kTotp] = MakeTotpMethod(accounts_);
  methods_[Method::kPasskey] = MakePasskeyMethod(accounts_, rp_);
  if (certificates != nullptr) {
    methods_[Method::kCitizenCertificate] =
        MakeCitizenCertificateMethod(accounts_, *certificates, clock_, options_.citizen_ocsp);
  }
  if (dual_document != nullptr) {
    methods_[Method::kDualDocument] = MakeDualDocumentMethod(accounts_, *dual_document);
  }
}

Provider::~Provider() = default;

http::Response Provider::Handle(const http::Request& req, const std::string& remote) {
  Served served = Serve(req, remote, nullptr);
  if (served.lookup) {
    LookupAnswer answer{served.lookup->key, served.lookup->run()};
    served = Serve(req, remote, &answer);
  }
  return std::move(served.response);
}

Provider::Served Provider::Serve(const http::Request& req, const std::string& remote,
                                 const LookupAnswer* answer) {
  Call call{req,    remote,      std::string(http::PathOf(req.target())), {}, Locale::kZhTw, {},
            answer, std::nullopt};
  auto query = http::ParseForm(http::QueryOf(req.target()));
  std::string lang;
  if (query) {
    call.query = std::move(*query);
    lang = call.query.Value("lang");
  }
  auto cookie = req[http::bhttp::field::cookie];
  if (lang.empty()) {
    lang =
        http::CookieValue(std::string_view(cookie.data(), cookie.size()), kLangCookie).value_or("");
  } else if (lang == "en" || lang == "zh-TW") {
    auto c = http::SetCookie(kLangCookie, lang, {.http_only = false, .max_age_s = 365 * 86400});
    if (c) call.set_cookies.push_back(*c);
  }
  auto accept = req[http::bhttp::field::accept_language];
  call.locale = ChooseLocale(lang, call.query.Value("ui_locales"),
                             std::string_view(accept.data(), accept.size()));
  http::Response res;
  if (!query) {
    res = http::MakeResponse(400, RenderError(call.locale, "400", query.error().message()),
                             "text/html; charset=utf-8");
  } else {
    res = Dispatch(call);
    // The method's question goes to the caller; nothing was written yet.
    if (call.lookup) return {std::move(res), std::move(call.lookup)};
  }
  for (const auto& c : call.set_cookies) res.insert(http::bhttp::field::set_cookie, c);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (res[http::bhttp::field::content_type].starts_with("text/html")) {
    res.set("Content-Security-Policy",
            fmt::format("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                        "data:; connect-src 'self' {}; form-action 'self' *; "
                        "frame-ancestors 'none'; base-uri 'none'",
                        OriginOf(options_.card_component_url)));
    res.set("X-Frame-Options", "DENY");
    res.set(http::bhttp::field::cache_control, "no-store");
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return {std::move(res), std::nullopt};
}

http::Response Provider::Dispatch(Call& call) {
  const auto method = call.req.method();
  const bool get = method == http::bhttp::verb::get || method == http::bhttp::verb::head;
  const bool post = method == http::bhttp::verb::post;
  const std::string& p = call.path;
  if (p == "/.well-known/openid-configuration" && get) {
    auto res = Json(200, DiscoveryDocument(options_.issuer));
    res.set(http::bhttp::field::cache_control, "public, max-age=300");
    return res;
  }
  if (p == "/jwks" && get) {
    auto jwks = keys_.Jwks();
    if (!jwks) return JsonError(500, "server_error", jwks.error().message());
    auto res = Json(200, *jwks);
    res.set(http::bhttp::field::cache_control, "public, max-age=300");
    return res;
  }
  if (p == "/healthz" && get) return http::MakeResponse(200, "ok\n", "text/plain");
  if (p == "/static/idp.js" && get) {
    auto res = http::MakeResponse(200, std::string(IdpScript()), "text/javascript; charset=utf-8");
    res.set(http::bhttp::field::cache_control, "public, max-age=3600");
    return res;
  }
  if (p == "/static/idp.css" && get) {
    auto res = http::MakeResponse(200, std::string(IdpStylesheet()), "text/css; charset=utf-8");
    res.set(http::bhttp::field::cache_control, "public, max-age=3600");
    return res;
  }
  if (p == "/authorize" && get) return Authorize(call);
  if (p == "/signin" && get) return SignInPage(call);
  if (p == "/token") {
    if (!post) return JsonError(405, "invalid_request", "the token endpoint takes POST");
    return Token(call);
  }
  if (p == "/userinfo" && (get || post)) return UserInfo(call);
  if (p == "/" && get) return Redirect("/account");
  if (p == "/account" && get) return Account(call, "");
  if (p.starts_with("/api/")) return Management(call);
  for (std::string_view prefix : {"/signin/passkey/", "/account/passkey/"}) {
    if (post && p.starts_with(prefix)) {
      std::string_view step = std::string_view(p).substr(prefix.size());
      if (step == "begin" || step == "finish") {
        return Passkey(call, step, prefix == "/account/passkey/");
      }
    }
  }
  if (post && p.starts_with("/signin/")) return SignInForm(call, p.substr(8));
  if (post && p.starts_with("/account/")) return Account(call, p.substr(9));
  if (get || post) {
    return http::MakeResponse(404, RenderError(call.locale, "404", "No such page."),
                              "text/html; charset=utf-8");
  }
  return http::MakeResponse(405, "method not allowed\n", "text/plain");
}

// ---------------------------------------------------------------------------------
// Sessions, rate limits, audit.

Result<Provider::Session> Provider::LoadSession(Call& call) {
  auto header = call.req[http::bhttp::field::cookie];
  auto token = http::CookieValue(std::string_view(header.data(), header.size()), kSessionCookie);
  if (!token || token->empty() || token->size() > 100) {
    return Fail(ErrorCode::kNotFound, "no session");
  }
  std::string id = crypto::Sha256Hex(*token);
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query("SELECT csrf, person, claimed_national_id, methods, challenge, "
                                   "challenge_kind, challenge_expires_at, expires_at FROM sessions "
                                   "WHERE id = ?",
                                   {id}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "no session");
  Session s;
  s.id = id;
  const auto& row = rows[0];
  TROAD_ASSIGN_OR_RETURN(s.csrf, row.Text(0));
  if (!row.IsNull(1)) {
    TROAD_ASSIGN_OR_RETURN(s.person, row.Text(1));
  }
  TROAD_ASSIGN_OR_RETURN(s.claimed_national_id, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(std::string methods, row.Text(3));
  auto parsed = ParseJson(methods, "sessions.methods", 4);
  if (!parsed) return Fail(ErrorCode::kDataLoss, "sessions.methods is not JSON");
  TROAD_ASSIGN_OR_RETURN(s.methods, MethodsFromJson(*parsed));
  TROAD_ASSIGN_OR_RETURN(s.challenge, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(s.challenge_kind, row.Text(5));
  TROAD_ASSIGN_OR_RETURN(s.challenge_expires_at, row.Int(6));
  TROAD_ASSIGN_OR_RETURN(s.expires_at, row.Int(7));
  if (s.expires_at <= clock_.NowMillis()) return Fail(ErrorCode::kNotFound, "session expired");
  return s;
}

Result<Provider::Session> Provider::NewSession() {
  Session s;
  s.token = crypto::NewSecretToken();
  s.id = crypto::Sha256Hex(s.token);
  s.csrf = crypto::NewSecretToken();
  int64_t now = clock_.NowMillis();
  s.expires_at = now + options_.session_lifetime.count() * 1000;
  // Expired sessions and requests are swept as new ones are made.
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM sessions WHERE expires_at < ?", {now}));
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM auth_requests WHERE expires_at < ?", {now}));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO sessions (id, csrf, person, claimed_national_id, methods, challenge, "
      "challenge_kind, challenge_expires_at, created_at, expires_at) "
      "VALUES (?, ?, NULL, '', '[]', '', '', 0, ?, ?)",
      {s.id, s.csrf, now, s.expires_at}));
  return s;
}

Status Provider::SaveSession(const Session& s) {
  store::Value person = s.person.empty() ? store::Value(nullptr) : store::Value(s.person);
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE sessions SET person = ?, claimed_national_id = ?, methods = ?, challenge = ?, "
      "challenge_kind = ?, challenge_expires_at = ? WHERE id = ?",
      {person, s.claimed_national_id, MethodsToJson(s.methods).dump(), s.challenge,
       s.challenge_kind, s.challenge_expires_at, s.id}));
  return Ok();
}

void Provider::Audit(const Call& call, std::string_view event, std::string_view outcome,
                     std::string_view person, std::string_view client, std::string_view method,
                     std::string_view reason) {
  auto st = db_.Execute(
      "INSERT INTO audit (at, event, outcome, person, client, method, remote, reason) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {clock_.NowMillis(), std::string(event), std::string(outcome), std::string(person),
       std::string(client), std::string(method), call.remote, std::string(reason)});
  if (!st) spdlog::error("audit: {}", st.error().message());
  auto level = outcome == "refused" || outcome == "locked" || outcome == "failed"
                   ? spdlog::level::warn
                   : spdlog::level::info;
  spdlog::log(level, "{} {} person={} client={} method={} remote={} {}", event, outcome, person,
              client, method, call.remote, reason);
}

std::optional<int64_t> Provider::LockedUntil(std::string_view scope, std::string_view key,
                                             int max) {
  int64_t window = options_.failure_window.count() * 1000;
  auto rows = db_.Query(
      "SELECT at FROM failures WHERE scope = ? AND key = ? AND at >= ? ORDER BY at DESC "
      "LIMIT 1 OFFSET ?",
      {std::string(scope), std::string(key), clock_.NowMillis() - window, int64_t{max - 1}});
  if (!rows || rows->empty()) return std::nullopt;
  auto at = (*rows)[0].Int(0);
  if (!at) return std::nullopt;
  return *at + window;
}

void Provider::RecordFailure(std::string_view scope, std::string_view key) {
  int64_t now = clock_.NowMillis();
  auto st = db_.Execute("INSERT INTO failures (scope, key, at) VALUES (?, ?, ?)",
                        {std::string(scope), std::string(key), now});
  if (!st) spdlog::error("recording a failed attempt: {}", st.error().message());
  (void)db_.Execute("DELETE FROM failures WHERE at < ?",
                    {now - options_.failure_window.count() * 1000});
}

// ---------------------------------------------------------------------------------
// Pages and shared steps.

http::Response Provider::ErrorPage(Call& call, unsigned status, std::string_view message) {
  std::string title = call.locale == Locale::kEn ? "Cannot continue" : "無法繼續";
  return http::MakeResponse(status, RenderError(call.locale, title, message),
                            "text/html; charset=utf-8");
}

http::Response Provider::WithSessionCookie(Call& call, const Session& session, http::Response res) {
  if (!session.token.empty()) {
    auto cookie = http::SetCookie(kSessionCookie, session.token,
                                  {.secure = options_.issuer.starts_with("https://"),
                                   .max_age_s = options_.session_lifetime.count()});
    if (cookie) call.set_cookies.push_back(*cookie);
  }
  return res;
}

bool Provider::CsrfOk(Call& call, const Session& session, std::string_view given) {
  // A form posted from another site carries its own Origin: refused even before the
  // token is compared (defence in depth for browsers that send Origin).
  auto origin = call.req[http::bhttp::field::origin];
  if (!origin.empty() && std::string_view(origin.data(), origin.size()) != "null" &&
      std::string_view(origin.data(), origin.size()) != OriginOf(options_.issuer)) {
    return false;
  }
  return !given.empty() && crypto::ConstantTimeEqual(given, session.csrf);
}

Result<Provider::Pending> Provider::LoadRequest(const Session& session, std::string_view id) {
  if (id.empty() || id.size() > 100) return Fail(ErrorCode::kNotFound, "no sign-in request");
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT session, request, expires_at FROM "
                                              "auth_requests WHERE id = ?",
                                              {std::string(id)}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "no sign-in request");
  Pending p;
  p.id = std::string(id);
  TROAD_ASSIGN_OR_RETURN(p.session, rows[0].Text(0));
  TROAD_ASSIGN_OR_RETURN(std::string stored, rows[0].Text(1));
  TROAD_ASSIGN_OR_RETURN(p.expires_at, rows[0].Int(2));
  if (p.session != session.id) {
    return Fail(ErrorCode::kPermissionDenied, "the sign-in request belongs to another browser");
  }
  if (p.expires_at <= clock_.NowMillis()) {
    return Fail(ErrorCode::kDeadlineExceeded, "the sign-in request has expired");
  }
  auto json = ParseJson(stored, "auth_requests.request", 8);
  if (!json || !json->is_object() || !json->contains("request") || !json->contains("not_before")) {
    return Fail(ErrorCode::kDataLoss, "auth_requests.request is malformed");
  }
  TROAD_ASSIGN_OR_RETURN(p.request, AuthorizationRequest::FromJson((*json)["request"]));
  p.not_before = (*json)["not_before"].get<int64_t>();
  if (!p.account()) {
    TROAD_ASSIGN_OR_RETURN(Client c, clients_.Get(p.request.client_id));
    p.client_name = c.name;
  }
  return p;
}

http::Response Provider::ShowSignIn(Call& call, Session& session, const Pending& pending,
                                    std::vector<Notice> notices, bool sms_sent) {
  SignInModel m;
  m.locale = call.locale;
  m.csrf = session.csrf;
  m.request_id = pending.id;
  m.client_name = pending.account() ? (call.locale == Locale::kEn ? "My account" : "我的帳號")
                                    : pending.client_name;
  m.national_id = session.claimed_national_id;
  for (const auto& v : MethodsSince(session.methods, pending.not_before)) {
    std::string label = MethodLabel(call.locale, MethodName(v.method));
    if (std::find(m.done.begin(), m.done.end(), label) == m.done.end()) m.done.push_back(label);
  }
  if (!pending.request.acr_values.empty()) {
    m.requirement = AcrLabel(call.locale, pending.request.acr_values.front());
  }
  m.sms_sent = sms_sent;
  auto* certificate = MethodFor(Method::kCitizenCertificate);
  m.certificate = certificate != nullptr;
  m.dual_document = MethodFor(Method::kDualDocument) != nullptr;
  m.card_component_url = options_.card_component_url;
  if (certificate != nullptr && !m.national_id.empty()) {
    // A fresh challenge for the card component each time the page is shown.
    session.challenge = certificate->NewChallenge();
    session.challenge_kind = std::string(certificate->challenge_kind());
    session.challenge_expires_at = clock_.NowMillis() + 5 * 60 * 1000;
    if (auto st = SaveSession(session); !st) {
      return ErrorPage(call, 500, st.error().message());
    }
    m.certificate_challenge = session.challenge;
  }
  m.notices = std::move(notices);
  bool any_error =
      std::any_of(m.notices.begin(), m.notices.end(), [](const Notice& n) { return n.error; });
  return WithSessionCookie(
      call, session,
      http::MakeResponse(any_error ? 400 : 200, RenderSignIn(m), "text/html; charset=utf-8"));
}

Result<std::string> Provider::IssueCode(const Session& session, const Pending& pending,
                                        const std::vector<VerifiedMethod>& methods,
                                        const std::string& acr) {
  std::string code = crypto::NewSecretToken();
  int64_t now = clock_.NowMillis();
  int64_t auth_time = 0;
  for (const auto& m : methods) auth_time = std::max(auth_time, m.at);
  nlohmann::json grant = {{"request", pending.request.ToJson()},
                          {"methods", MethodsToJson(methods)},
                          {"auth_time", auth_time / 1000},
                          {"acr", acr},
                          {"session", session.id}};
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO codes (hash, client, person, grant_data, used_at, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, NULL, ?, ?)",
      {crypto::Sha256Hex(code), pending.request.client_id, session.person, grant.dump(), now,
       now + options_.code_lifetime.count() * 1000}));
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM auth_requests WHERE id = ?", {pending.id}));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return code;
}

http::Response Provider::BackToClient(
    std::string_view redirect_uri, std::string_view state,
    std::vector<std::pair<std::string, std::string>> params) const {
  if (!state.empty()) params.emplace_back("state", state);
  params.emplace_back("iss", options_.issuer);
  return Redirect(RedirectWith(redirect_uri, params));
}

Status Provider::StoreRequest(const Pending& pending) {
  nlohmann::json stored = {{"request", pending.request.ToJson()},
                           {"not_before", pending.not_before}};
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO auth_requests (id, session, client, request, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {pending.id, pending.session, pending.request.client_id, stored.dump(), clock_.NowMillis(),
       pending.expires_at}));
  return Ok();
}

http::Response Provider::Progress(Call& call, Session& session, const Pending& pending,
                                  std::vector<Notice> notices) {
  auto methods = MethodsSince(session.methods, pending.not_before);
  auto acr = AcrMet(methods, pending.request.acr_values);
  if (!acr || session.person.empty()) return ShowSignIn(call, session, pending, std::move(notices));
  if (pending.account()) {
    (void)db_.Execute("DELETE FROM auth_requests WHERE id = ?", {pending.id});
    return WithSessionCookie(call, session, Redirect("/account"));
  }
  auto code = IssueCode(session, pending, methods, *acr);
  if (!code) return ErrorPage(call, 500, code.error().message());
  Audit(call, "authorize", "ok", session.person, pending.request.client_id, "", *acr);
  return WithSessionCookie(
      call, session,
      BackToClient(pending.request.redirect_uri, pending.request.state, {{"code", *code}}));
}

// ---------------------------------------------------------------------------------
// GET /authorize

http::Response Provider::Authorize(Call& call) {
  std::optional<Client> client;
  if (std::string id = call.query.Value("client_id"); !id.empty()) {
    auto found = clients_.Get(id);
    if (found) {
      client = std::move(*found);
    } else if (found.error().code() != ErrorCode::kNotFound) {
      return ErrorPage(call, 500, found.error().message());
    }
  }
  auto request = ValidateAuthorizationRequest(call.query, client);
  if (!request) {
    const auto& e = request.error();
    Audit(call, "authorize", "refused", "", call.query.Value("client_id").substr(0, 64), "",
          e.description);
    if (!e.redirect) return ErrorPage(call, 400, e.description);
    std::string state = call.query.Value("state");
    return BackToClient(call.query.Value("redirect_uri"), state.size() <= 512 ? state : "",
                        {{"error", e.error}, {"error_description", e.description}});
  }
  if (request->ui_locales.find("en") == 0) call.locale = Locale::kEn;
  auto session = LoadSession(call);
  if (!session && session.error().code() != ErrorCode::kNotFound) {
    return ErrorPage(call, 500, session.error().message());
  }
  if (!session) {
    session = NewSession();
    if (!session) return ErrorPage(call, 500, session.error().message());
  }
  int64_t now = clock_.NowMillis();
  int64_t not_before = 0;
  // prompt=login: only methods completed after this request count.
  if (request->prompt == "login") not_before = now + 1;
  if (request->max_age_s) not_before = std::max(not_before, now - *request->max_age_s * 1000);
  Pending pending;
  pending.id = crypto::NewSecretToken().substr(0, 32);
  pending.session = session->id;
  pending.request = *request;
  pending.not_before = not_before;
  pending.expires_at = now + options_.request_lifetime.count() * 1000;
  pending.client_name = client->name;
  // Already signed in well enough (single sign-on), or prompt=none: no page.
  if (!session->person.empty() &&
      AcrMet(MethodsSince(session->methods, not_before), request->acr_values)) {
    return Progress(call, *session, pending, {});
  }
  if (request->prompt == "none") {
    Audit(call, "authorize", "refused", session->person, request->client_id, "",
          "prompt=none but the person is not signed in well enough");
    return WithSessionCookie(call, *session,
                             BackToClient(request->redirect_uri, request->state,
                                          {{"error", "login_required"},
                                           {"error_description", "the person must sign in"}}));
  }
  if (auto st = StoreRequest(pending); !st) return ErrorPage(call, 500, st.error().message());
  std::string target = "/signin?r=" + pending.id;
  if (call.locale == Locale::kEn) target += "&lang=en";
  return WithSessionCookie(call, *session, Redirect(target));
}

http::Response Provider::SignInPage(Call& call) {
  auto session = LoadSession(call);
  if (!session) return ErrorPage(call, 400, ExpiredMessage(call.locale));
  auto pending = LoadRequest(*session, call.query.Value("r"));
  if (!pending) return ErrorPage(call, 400, ExpiredMessage(call.locale));
  return ShowSignIn(call, *session, *pending, {});
}

// ---------------------------------------------------------------------------------
// POST /signin/…

VerificationMethod* Provider::MethodFor(Method method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : it->second.get();
}

std::optional<int64_t> Provider::Locked(const Call& call, std::string_view client,
                                        std::string_view method, std::string_view national_id) {
  for (auto [scope, key, max] :
       {std::tuple{std::string_view("account"), national_id, options_.max_failures_per_account},
        std::tuple{std::string_view("remote"), std::string_view(call.remote),
                   options_.max_failures_per_remote}}) {
    if (key.empty()) continue;
    if (auto until = LockedUntil(scope, key, max)) {
      Audit(
          call, "signin", "locked", "", client, method,
          fmt::format("too many failures for this {}", scope == "account" ? "account" : "address"));
      return until;
    }
  }
  return std::nullopt;
}

Result<Attempt> Provider::NewAttempt(const Call& call, const Session& session) {
  Attempt attempt;
  attempt.locale = call.locale;
  attempt.session = session.id;
  attempt.claimed_national_id = session.claimed_national_id;
  if (!attempt.claimed_national_id.empty()) {
    auto person = accounts_.FindByNationalId(attempt.claimed_national_id);
    if (person) {
      attempt.person = std::move(*person);
    } else if (person.error().code() != ErrorCode::kNotFound) {
      return Fail(std::move(person).error());
    }
  }
  return attempt;
}

Verdict Provider::Try(Call& call, Session& session, const Pending& pending,
                      VerificationMethod& method, const http::Form& input) {
  const std::string& client = pending.request.client_id;
  const std::string_view name = MethodName(method.method());
  auto locked = [&](int64_t until) {
    Verdict v = Verdict::Refused("locked", LockMessage(call.locale, until), false);
    v.locked_until = until;
    return v;
  };
  if (auto until = Locked(call, client, name, session.claimed_national_id)) return locked(*until);

  auto made = NewAttempt(call, session);
  if (!made) return Verdict::Internal(made.error().message());
  Attempt& attempt = *made;
  attempt.input = &input;
  attempt.answer = call.answer;
  attempt.proved_in_session = attempt.person && session.person == attempt.person->id &&
                              !MethodsSince(session.methods, pending.not_before).empty();
  const bool challenged = !method.challenge_kind().empty();
  if (challenged && session.challenge_kind == method.challenge_kind() &&
      session.challenge_expires_at > clock_.NowMillis()) {
    attempt.challenge = session.challenge;
  }

  Verdict v = method.Verify(attempt);
  if (challenged && v.kind != Verdict::Kind::kLookup) {
    // One challenge, one attempt: whatever the outcome, it is spent. (Not while a lookup
    // runs, when nothing is written: the second step spends it, and of two racing
    // attempts only the first finds it there.)
    session.challenge.clear();
    session.challenge_kind.clear();
    if (auto st = SaveSession(session); !st) return Verdict::Internal(st.error().message());
  }
  switch (v.kind) {
    case Verdict::Kind::kLookup:
      if (!v.lookup) return Verdict::Internal(fmt::format("{}: a lookup without work", name));
      if (call.answer != nullptr) {
        // The answer was for other input: the session or the form changed meanwhile.
        v = Verdict::Unavailable("the attempt changed while the lookup ran",
                                 L(call.locale, "資料已變更，請再試一次。",
                                   "Something changed meanwhile. Please try again."));
        Audit(call, "signin", "failed", "", client, name, v.reason);
        return v;
      }
      call.lookup = std::move(v.lookup);
      return v;
    case Verdict::Kind::kInternal:
      return v;
    case Verdict::Kind::kUnavailable:
      Audit(call, "signin", "failed", v.person_id, client, name, v.reason);
      return v;
    case Verdict::Kind::kRefused:
      if (v.counts) {
        RecordFailure("remote", call.remote);
        if (!session.claimed_national_id.empty()) {
          RecordFailure("account", session.claimed_national_id);
        }
      }
      Audit(call, "signin", "refused", v.person_id, client, name, v.reason);
      return v;
    case Verdict::Kind::kVerified:
      break;
  }
  // A passkey names its owner, who may not be the person claimed: their lock applies too.
  if (v.national_id != session.claimed_national_id) {
    if (auto until = Locked(call, client, name, v.national_id)) return locked(*until);
  }
  for (const auto& change : v.account_changes) {
    Audit(call, "account", "ok", v.person_id, client, name, change);
  }
  // What this browser proved so far was for someone else.
  if (session.person != v.person_id) session.methods.clear();
  session.person = v.person_id;
  session.claimed_national_id = v.national_id;
  session.methods.push_back({method.method(), clock_.NowMillis()});
  session.challenge.clear();
  session.challenge_kind.clear();
  if (auto st = SaveSession(session); !st) return Verdict::Internal(st.error().message());
  Audit(call, "signin", "ok", v.person_id, client, name, "");
  return v;
}

http::Response Provider::ShowVerdict(Call& call, Session& session, const Pending& pending,
                                     Method method, const Verdict& verdict) {
  switch (verdict.kind) {
    case Verdict::Kind::kVerified:
      return Progress(call, session, pending,
                      {{false, L(call.locale, "驗證成功：", "Verified: ") +
                                   MethodLabel(call.locale, MethodName(method))}});
    case Verdict::Kind::kLookup:  // Serve hands the lookup to its caller; no page yet
    case Verdict::Kind::kInternal:
      return ErrorPage(call, 500, verdict.reason);
    case Verdict::Kind::kRefused:
    case Verdict::Kind::kUnavailable:
      break;
  }
  return ShowSignIn(call, session, pending, {{true, verdict.message}}, verdict.keep_prompt);
}

http::Response Provider::SignInForm(Call& call, std::string_view step) {
  auto form = ReadForm(call.req);
  if (!form) {
    ErrorCode code = form.error().code();
    return ErrorPage(call,
                     code == ErrorCode::kFailedPrecondition  ? 415
                     : code == ErrorCode::kResourceExhausted ? 413
                                                             : 400,
                     form.error().message());
  }
  auto session = LoadSession(call);
  if (!session) return ErrorPage(call, 400, ExpiredMessage(call.locale));
  if (!CsrfOk(call, *session, form->Value("csrf"))) {
    Audit(call, "signin", "refused", session->person, "", std::string(step),
          "CSRF token or Origin does not match");
    return ErrorPage(call, 403, StaleFormMessage(call.locale));
  }
  auto pending = LoadRequest(*session, form->Value("r"));
  if (!pending) return ErrorPage(call, 400, ExpiredMessage(call.locale));
  const std::string client = pending->request.client_id;
  Locale l = call.locale;

  if (step == "cancel") {
    (void)db_.Execute("DELETE FROM auth_requests WHERE id = ?", {pending->id});
    Audit(call, "signin", "cancelled", session->person, client, "", "the person cancelled");
    if (pending->account()) return Redirect("/account");
    return BackToClient(
        pending->request.redirect_uri, pending->request.state,
        {{"error", "access_denied"}, {"error_description", "the person cancelled the sign-in"}});
  }

  if (step == "identify") {
    std::string id = form->Value("national_id");
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    id.erase(std::remove(id.begin(), id.end(), ' '), id.end());
    // An empty id is "Use another ID": start over.
    if (auto st = id.empty() ? Ok() : ValidateNationalId(id); !st) {
      return ShowSignIn(call, *session, *pending,
                        {{true, L(l, "身分證統一編號格式不正確：", "The ID number is not valid: ") +
                                    st.error().message()}});
    }
    if (id != session->claimed_national_id) {
      // Another person: what this browser proved so far was for someone else.
      session->claimed_national_id = id;
      session->person.clear();
      session->methods.clear();
    }
    if (auto st = SaveSession(*session); !st) return ErrorPage(call, 500, st.error().message());
    return ShowSignIn(call, *session, *pending, {});
  }

  if (session->claimed_national_id.empty()) return ShowSignIn(call, *session, *pending, {});
  if (step == "sms/send") return SendSmsCode(call, *session, *pending);
  std::optional<Method> method = step == "totp"         ? std::optional(Method::kTotp)
                                 : step == "sms/verify" ? std::optional(Method::kSms)
                                 : step == "certificate"
                                     ? std::optional(Method::kCitizenCertificate)
                                 : step == "dual-document" ? std::optional(Method::kDualDocument)
                                                           : std::nullopt;
  VerificationMethod* verifier = method ? MethodFor(*method) : nullptr;
  if (verifier == nullptr) return ErrorPage(call, 404, "No such page.");
  Verdict verdict = Try(call, *session, *pending, *verifier, *form);
  return ShowVerdict(call, *session, *pending, *method, verdict);
}

http::Response Provider::SendSmsCode(Call& call, Session& session, const Pending& pending) {
  const Locale l = call.locale;
  const std::string& client = pending.request.client_id;
  const std::string& national_id = session.claimed_national_id;
  if (auto until = Locked(call, client, "sms", national_id)) {
    return ShowSignIn(call, session, pending, {{true, LockMessage(l, *until)}});
  }
  auto attempt = NewAttempt(call, session);
  if (!attempt) return ErrorPage(call, 500, attempt.error().message());
  const std::string person_id = attempt->person ? attempt->person->id : "";
  if (LockedUntil("sms", national_id, options_.sms_max_sends)) {
    Audit(call, "sms", "refused", person_id, client, "sms",
          "SMS send limit reached for this national id");
    return ShowSignIn(call, session, pending,
                      {{true, L(l, "簡訊寄送次數已達上限，請稍後再試或改用其他方式。",
                                "Too many codes were sent. Try later or use another way.")}});
  }
  RecordFailure("sms", national_id);  // counts sends, not failures
  auto st = sms_method_->Send(*attempt);
  if (!st && st.error().code() == ErrorCode::kUnavailable) {
    Audit(call, "sms", "failed", person_id, client, "sms", st.error().message());
    return ShowSignIn(call, session, pending,
                      {{true, L(l, "簡訊暫時無法寄出，請稍後再試或改用其他方式。",
                                "The text message could not be sent. Try later or use "
                                "another way.")}});
  }
  if (!st && st.error().code() != ErrorCode::kNotFound) {
    return ErrorPage(call, 500, st.error().message());
  }
  // The page says the same whether or not a code went out: it must not reveal who has a
  // registered mobile number.
  Audit(call, "sms", st ? "sent" : "not sent", person_id, client, "sms",
        st ? "" : st.error().message());
  return ShowSignIn(call, session, pending,
                    {{false, L(l, "若此身分已登記手機號碼，驗證碼已寄出，5 分鐘內有效。",
                               "If a mobile number is registered for this ID, a code has been "
                               "sent. It is valid for 5 minutes.")}},
                    true);
}

// ---------------------------------------------------------------------------------
// POST /token, /userinfo

http::Response Provider::Token(Call& call) {
  auto form = ReadForm(call.req);
  if (!form) return JsonError(400, "invalid_request", form.error().message());
  auto authorization = call.req[http::bhttp::field::authorization];
  std::string_view auth_header(authorization.data(), authorization.size());
  auto client = clients_.Authenticate(
      auth_header, form->Value("client_id"), form->Value("client_assertion_type"),
      form->Value("client_assertion"), options_.issuer + "/token", options_.issuer);
  if (!client) {
    Audit(call, "token", "refused", "", form->Value("client_id").substr(0, 64), "",
          client.error().message());
    auto res = JsonError(401, "invalid_client", "client authentication failed");
    if (auth_header.starts_with("Basic")) {
      res.set(http::bhttp::field::www_authenticate, "Basic realm=\"troad idp\"");
    }
    return res;
  }
  auto refuse = [&](std::string_view error, const std::string& reason, std::string_view person) {
    Audit(call, "token", "refused", person, client->id, "", reason);
    return JsonError(400, error, reason);
  };
  if (form->Value("grant_type") != "authorization_code") {
    return refuse("unsupported_grant_type", "grant_type must be authorization_code", "");
  }
  std::string code = form->Value("code");
  if (code.empty() || code.size() > 100) return refuse("invalid_request", "code is missing", "");
  std::string code_hash = crypto::Sha256Hex(code);
  auto rows = db_.Query(
      "SELECT client, person, grant_data, used_at, expires_at FROM codes "
      "WHERE hash = ?",
      {code_hash});
  if (!rows) return JsonError(500, "server_error", rows.error().message());
  if (rows->empty()) return refuse("invalid_grant", "the code is unknown or has expired", "");
  const auto& row = (*rows)[0];
  auto code_client = row.Text(0);
  auto person_id = row.Text(1);
  auto grant_text = row.Text(2);
  auto expires = row.Int(4);
  if (!code_client || !person_id || !grant_text || !expires) {
    return JsonError(500, "server_error", "codes row is malformed");
  }
  if (!row.IsNull(3)) {
    // A second redemption: the code leaked. RFC 6749 §4.1.2: refuse, and revoke what
    // the first redemption gave.
    (void)db_.Execute("UPDATE access_tokens SET revoked = 1 WHERE code = ?", {code_hash});
    return refuse("invalid_grant", "the code was already used; its tokens are revoked", *person_id);
  }
  if (*code_client != client->id) {
    return refuse("invalid_grant", "the code was issued to another client", *person_id);
  }
  if (*expires <= clock_.NowMillis()) {
    return refuse("invalid_grant", "the code has expired", *person_id);
  }
  auto grant = ParseJson(*grant_text, "codes.grant_data", 8);
  if (!grant || !grant->is_object()) return JsonError(500, "server_error", "grant is malformed");
  auto request = AuthorizationRequest::FromJson((*grant)["request"]);
  if (!request) return JsonError(500, "server_error", request.error().message());
  if (form->Value("redirect_uri") != request->redirect_uri) {
    return refuse("invalid_grant", "redirect_uri differs from the authorization request",
                  *person_id);
  }
  if (auto st = VerifyPkce(form->Value("code_verifier"), request->code_challenge); !st) {
    return refuse("invalid_grant", st.error().message(), *person_id);
  }
  // Mark used first, conditionally: of two concurrent redemptions only one wins.
  auto used = db_.Execute("UPDATE codes SET used_at = ? WHERE hash = ? AND used_at IS NULL",
                          {clock_.NowMillis(), code_hash});
  if (!used) return JsonError(500, "server_error", used.error().message());
  if (*used == 0) return refuse("invalid_grant", "the code was already used", *person_id);
  auto person = accounts_.Get(*person_id);
  if (!person) return JsonError(500, "server_error", person.error().message());
  auto methods = MethodsFromJson((*grant)["methods"]);
  if (!methods) return JsonError(500, "server_error", methods.error().message());

  int64_t now_s = clock_.NowMillis() / 1000;
  int64_t lifetime = options_.token_lifetime.count();
  nlohmann::json claims = {{"iss", options_.issuer},
                           {"sub", SubjectFor(*client, person->id, options_.subject_salt)},
                           {"aud", client->id},
                           {"azp", client->id},
                           {"iat", now_s},
                           {"exp", now_s + lifetime},
                           {"auth_time", (*grant)["auth_time"]},
                           {"acr", (*grant)["acr"]},
                           {"amr", AmrOf(*methods)}};
  if (!request->nonce.empty()) claims["nonce"] = request->nonce;
  if (request->HasScope("profile")) claims["name"] = person->name;
  if (request->HasScope("national_id") && client->national_id_allowed) {
    claims["national_id"] = person->national_id;
  }
  auto id_token = keys_.SignJwt(claims);
  if (!id_token) return JsonError(500, "server_error", id_token.error().message());
  std::string access_token = crypto::NewSecretToken();
  auto st = db_.Execute(
      "INSERT INTO access_tokens (hash, code, client, person, scope, revoked, created_at, "
      "expires_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
      {crypto::Sha256Hex(access_token), code_hash, client->id, person->id, request->scope,
       clock_.NowMillis(), (now_s + lifetime) * 1000});
  if (!st) return JsonError(500, "server_error", st.error().message());
  Audit(call, "token", "ok", person->id, client->id, "", (*grant)["acr"].get<std::string>());
  auto res = Json(200, {{"access_token", access_token},
                        {"token_type", "Bearer"},
                        {"expires_in", lifetime},
                        {"scope", request->scope},
                        {"id_token", *id_token}});
  res.set(http::bhttp::field::pragma, "no-cache");
  return res;
}

http::Response Provider::UserInfo(Call& call) {
  auto unauthorized = [](std::string_view error, std::string_view description) {
    auto res = http::MakeResponse(401, "", "text/plain");
    res.set(http::bhttp::field::www_authenticate,
            fmt::format("Bearer error=\"{}\", error_description=\"{}\"", error, description));
    return res;
  };
  auto authorization = call.req[http::bhttp::field::authorization];
  std::string_view header(authorization.data(), authorization.size());
  if (!header.starts_with("Bearer ") || header.size() > 200) {
    return unauthorized("invalid_request", "an access token is required (Bearer)");
  }
  std::string hash = crypto::Sha256Hex(header.substr(7));
  auto rows = db_.Query(
      "SELECT client, person, scope, revoked, expires_at FROM access_tokens "
      "WHERE hash = ?",
      {hash});
  if (!rows) return JsonError(500, "server_error", rows.error().message());
  if (rows->empty()) return unauthorized("invalid_token", "the access token is unknown");
  const auto& row = (*rows)[0];
  auto client_id = row.Text(0);
  auto person_id = row.Text(1);
  auto scope = row.Text(2);
  auto revoked = row.Int(3);
  auto expires = row.Int(4);
  if (!client_id || !person_id || !scope || !revoked || !expires) {
    return JsonError(500, "server_error", "access_tokens row is malformed");
  }
  if (*revoked != 0) return unauthorized("invalid_token", "the access token was revoked");
  if (*expires <= clock_.NowMillis()) {
    return unauthorized("invalid_token", "the access token has expired");
  }
  auto client = clients_.Get(*client_id);
  auto person = accounts_.Get(*person_id);
  if (!client || !person) return unauthorized("invalid_token", "the grant no longer exists");
  AuthorizationRequest scopes;
  scopes.scope = *scope;
  nlohmann::json out = {{"sub", SubjectFor(*client, person->id, options_.subject_salt)}};
  if (scopes.HasScope("profile")) out["name"] = person->name;
  if (scopes.HasScope("national_id") && client->national_id_allowed) {
    out["national_id"] = person->national_id;
  }
  return Json(200, out);
}

// ---------------------------------------------------------------------------------
// /account

http::Response Provider::Account(Call& call, std::string_view step) {
  Locale l = call.locale;
  auto session = LoadSession(call);
  bool signed_in = session && !session->person.empty() && !session->methods.empty();
  if (!signed_in) {
    if (!step.empty()) return Redirect("/account");
    // Sign in for the account page itself: a request with no client.
    if (!session) {
      session = NewSession();
      if (!session) return ErrorPage(call, 500, session.error().message());
    }
    Pending pending;
    pending.id = crypto::NewSecretToken().substr(0, 32);
    pending.session = session->id;
    pending.request.redirect_uri = "/account";
    pending.expires_at = clock_.NowMillis() + options_.request_lifetime.count() * 1000;
    if (auto st = StoreRequest(pending); !st) return ErrorPage(call, 500, st.error().message());
    return WithSessionCookie(call, *session, Redirect("/signin?r=" + pending.id));
  }
  auto person = accounts_.Get(session->person);
  if (!person) return ErrorPage(call, 500, person.error().message());
  AccountModel m;
  m.locale = l;
  m.csrf = session->csrf;
  m.name = person->name;
  m.masked_national_id = MaskNationalId(person->national_id);
  m.masked_mobile = MaskMobile(person->mobile);
  {
    std::vector<VerifiedMethod> recent =
        MethodsSince(session->methods, clock_.NowMillis() - kRemoveWindowMs);
    m.can_remove = MeetsAcr(recent, kAcrMfa);
  }
  unsigned status = 200;
  if (!step.empty()) {
    auto form = ReadForm(call.req);
    if (!form) return ErrorPage(call, 400, form.error().message());
    if (!CsrfOk(call, *session, form->Value("csrf"))) {
      Audit(call, "account", "refused", person->id, "", std::string(step),
            "CSRF token or Origin does not match");
      return ErrorPage(call, 403, StaleFormMessage(l));
    }
    auto refuse_removal = [&]() {
      Audit(call, "account", "refused", person->id, "", std::string(step),
            "removing a method needs two methods within 10 minutes");
      m.notices.push_back({true, L(l, "移除驗證方式前，需在 10 分鐘內以兩種不同方式驗證。",
                                   "To remove a way to verify, verify with two different ways "
                                   "within 10 minutes first.")});
      status = 403;
    };
    if (step == "signout") {
      (void)db_.Execute("DELETE FROM sessions WHERE id = ?", {session->id});
      Audit(call, "signout", "ok", person->id, "", "", "");
      auto cookie = http::SetCookie(kSessionCookie, "", {.max_age_s = 0});
      if (cookie) call.set_cookies.push_back(*cookie);
      return http::MakeResponse(
          200,
          RenderError(l, L(l, "已登出", "Signed out"), L(l, "您已登出。", "You are signed out.")),
          "text/html; charset=utf-8");
    } else if (step == "totp/begin") {
      auto secret = accounts_.BeginTotp(person->id);
      if (!secret) {
        m.notices.push_back({true, secret.error().message()});
        status = 409;
      } else {
        std::string uri = OtpauthUri("troad", MaskNationalId(person->national_id), *secret, {});
        auto svg = QrSvg(uri);
        if (!svg) return ErrorPage(call, 500, svg.error().message());
        m.totp_enrol_svg = *svg;
        m.totp_enrol_secret_base32 = Base32Encode(*secret);
      }
    } else if (step == "totp/confirm") {
      auto st = accounts_.ConfirmTotp(person->id, form->Value("code"));
      if (st) {
        Audit(call, "account", "ok", person->id, "", "totp", "authenticator app added");
        m.notices.push_back(
            {false, L(l, "已設定驗證器 App。", "The authenticator app is set up.")});
      } else {
        Audit(call, "account", "refused", person->id, "", "totp", st.error().message());
        m.notices.push_back({true, L(l, "驗證碼不正確，請重新設定。",
                                     "The code is not right. Set the app up again.")});
        status = 400;
      }
    } else if (step == "totp/remove") {
      if (!m.can_remove) {
        refuse_removal();
      } else if (auto st = accounts_.RemoveTotp(person->id); st) {
        Audit(call, "account", "ok", person->id, "", "totp", "authenticator app removed");
        m.notices.push_back(
            {false, L(l, "已移除驗證器 App。", "The authenticator app is removed.")});
      } else {
        m.notices.push_back({true, st.error().message()});
        status = 404;
      }
    } else if (step == "passkey/remove") {
      if (!m.can_remove) {
        refuse_removal();
      } else if (auto st = accounts_.RemovePasskey(person->id, form->Value("id")); st) {
        Audit(call, "account", "ok", person->id, "", "passkey", "passkey removed");
        m.notices.push_back({false, L(l, "已移除通行密鑰。", "The passkey is removed.")});
      } else {
        m.notices.push_back({true, st.error().message()});
        status = 404;
      }
    } else {
      return ErrorPage(call, 404, "No such page.");
    }
  }
  auto linked = accounts_.Methods(person->id);
  auto passkeys = accounts_.Passkeys(person->id);
  if (!linked || !passkeys) return ErrorPage(call, 500, "reading the account failed");
  m.totp = linked->totp;
  m.certificates = linked->certificates;
  for (const auto& pk : *passkeys) {
    m.passkeys.push_back(
        {pk.id, pk.label, FormatRfc3339(FromUnixMillis(pk.created_at)).substr(0, 10)});
  }
  return http::MakeResponse(status, RenderAccount(m), "text/html; charset=utf-8");
}

// ---------------------------------------------------------------------------------
// /api/v1 (management)

http::Response Provider::Management(Call& call) {
  auto authorization = call.req[http::bhttp::field::authorization];
  std::string_view header(authorization.data(), authorization.size());
  if (options_.management_token_sha256.empty()) {
    return JsonError(404, "not_found", "the management API is disabled (no management token)");
  }
  if (!header.starts_with("Bearer ") ||
      !crypto::ConstantTimeEqual(crypto::Sha256Hex(header.substr(7)),
                                 options_.management_token_sha256)) {
    Audit(call, "management", "refused", "", "", "", "wrong or missing management token");
    auto res = JsonError(401, "unauthorized", "a valid management token is required (Bearer)");
    res.set(http::bhttp::field::www_authenticate, "Bearer realm=\"troad idp management\"");
    return res;
  }
  const auto method = call.req.method();
  const std::string& p = call.path;
  auto body = [&]() -> Result<nlohmann::json> {
    return ParseJson(call.req.body(), "request body", 16);
  };
  auto fail = [&](const Error& e) {
    return JsonError(HttpStatusFor(e.code()), std::string(ErrorCodeName(e.code())), e.message());
  };
  auto audit = [&](std::string_view what, std::string_view subject) {
    Audit(call, "management", "ok", "", subject, "", what);
  };
  if (p == "/api/v1/clients" && method == http::bhttp::verb::get) {
    auto list = clients_.List();
    if (!list) return fail(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : *list) out.push_back(ClientToJson(c));
    return Json(200, {{"clients", out}});
  }
  if (p == "/api/v1/clients" && method == http::bhttp::verb::post) {
    auto json = body();
    if (!json) return fail(json.error());
    auto nc = ClientFromJson(*json);
    if (!nc) return fail(nc.error());
    auto secret = clients_.Add(*nc);
    if (!secret) return fail(secret.error());
    auto c = clients_.Get(nc->id);
    if (!c) return fail(c.error());
    audit("client registered", nc->id);
    nlohmann::json out = ClientToJson(*c);
    if (!secret->empty()) out["client_secret"] = *secret;
    return Json(201, out);
  }
  if (p.starts_with("/api/v1/clients/")) {
    std::string rest = p.substr(16);
    std::string id = rest.substr(0, rest.find('/'));
    std::string action = rest.size() > id.size() ? rest.substr(id.size() + 1) : "";
    if (action.empty() && method == http::bhttp::verb::get) {
      auto c = clients_.Get(id);
      if (!c) return fail(c.error());
      return Json(200, ClientToJson(*c));
    }
    if (method == http::bhttp::verb::post && (action == "disable" || action == "enable")) {
      if (auto st = clients_.SetEnabled(id, action == "enable"); !st) return fail(st.error());
      audit("client " + action + "d", id);
      auto c = clients_.Get(id);
      if (!c) return fail(c.error());
      return Json(200, ClientToJson(*c));
    }
    if (method == http::bhttp::verb::post && action == "secret") {
      auto secret = clients_.RotateSecret(id);
      if (!secret) return fail(secret.error());
      audit("client secret rotated", id);
      return Json(200, {{"id", id}, {"client_secret", *secret}});
    }
  }
  if (p == "/api/v1/persons" && method == http::bhttp::verb::post) {
    auto json = body();
    if (!json) return fail(json.error());
    JsonErrors errors;
    JsonView in(&*json, "", &errors);
    std::string national_id = in.String("national_id", true, 10);
    std::string name = in.String("name", true, 200);
    std::string mobile = in.String("mobile", false, 16);
    if (auto st = errors.ToStatus("person"); !st) return fail(st.error());
    auto person = accounts_.AddPerson(national_id, name, mobile);
    if (!person) return fail(person.error());
    audit("person registered", "");
    return Json(201, {{"id", person->id},
                      {"national_id", person->national_id},
                      {"name", person->name},
                      {"mobile", person->mobile}});
  }
  if (p == "/api/v1/keys/rotate" && method == http::bhttp::verb::post) {
    auto kid = keys_.Rotate();
    if (!kid) return fail(kid.error());
    audit("signing key rotated", *kid);
    return Json(200, {{"kid", *kid}});
  }
  if (p == "/api/v1/audit" && method == http::bhttp::verb::get) {
    auto rows = db_.Query(
        "SELECT id, at, event, outcome, person, client, method, remote, reason FROM audit "
        "ORDER BY id DESC LIMIT 500");
    if (!rows) return fail(rows.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : *rows) {
      nlohmann::json e;
      auto id = row.Int(0);
      auto at = row.Int(1);
      if (!id || !at) return fail(Error(ErrorCode::kDataLoss, "audit row is malformed"));
      e["id"] = *id;
      e["at"] = FormatRfc3339(FromUnixMillis(*at));
      const char* names[] = {"event", "outcome", "person", "client", "method", "remote", "reason"};
      for (size_t i = 0; i < 7; ++i) e[names[i]] = row.Text(i + 2).value_or("");
      out.push_back(std::move(e));
    }
    return Json(200, {{"entries", out}});
  }
  return JsonError(404, "not_found", "no such management resource");
}

// ---------------------------------------------------------------------------------
// Passkeys: registration on /account; sign-in through the passkey method

http::Response Provider::Passkey(Call& call, std::string_view step, bool account) {
  Locale l = call.locale;
  auto error = [&](unsigned status, const std::string& message) {
    return Json(status, {{"message", message}});
  };
  if (!call.req[http::bhttp::field::content_type].starts_with("application/json")) {
    return error(415, "expected JSON");
  }
  auto body = ParseJson(call.req.body(), "request", 8);
  if (!body || !body->is_object()) return error(400, "the request is not a JSON object");
  auto str = [&](const char* name) {
    auto it = body->find(name);
    return it != body->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto session = LoadSession(call);
  if (!session) {
    return error(400, L(l, "登入已逾時，請重新開始。", "The sign-in has expired. Start again."));
  }
  if (!CsrfOk(call, *session, str("csrf"))) {
    Audit(call, account ? "account" : "signin", "refused", session->person, "", "passkey",
          "CSRF token or Origin does not match");
    return error(403,
                 L(l, "此頁面已失效，請重新整理。", "This page is no longer valid. Reload it."));
  }
  const webauthn::RelyingParty& rp = rp_;
  int64_t now = clock_.NowMillis();
  constexpr int64_t kCeremonyMs = 5 * 60 * 1000;

  if (account) {
    if (session->person.empty() || session->methods.empty()) {
      return error(403, L(l, "請先登入。", "Sign in first."));
    }
    auto person = accounts_.Get(session->person);
    auto existing = accounts_.Passkeys(session->person);
    if (!person || !existing) return error(500, "reading the account failed");
    if (step == "begin") {
      std::string challenge = webauthn::NewChallenge();
      session->challenge = Base64UrlEncode(challenge);
      session->challenge_kind = "passkey-create";
      session->challenge_expires_at = now + kCeremonyMs;
      if (auto st = SaveSession(*session); !st) return error(500, st.error().message());
      nlohmann::json exclude = nlohmann::json::array();
      for (const auto& pk : *existing) exclude.push_back(pk.id);
      return Json(200, {{"challenge", session->challenge},
                        {"rp", {{"id", rp.id}, {"name", "troad"}}},
                        {"user",
                         {{"id", Base64UrlEncode(person->id)},
                          {"name", MaskNationalId(person->national_id)},
                          {"displayName", person->name}}},
                        {"timeout", kCeremonyMs},
                        {"excludeCredentials", exclude}});
    }
    // finish
    auto challenge = Base64UrlDecode(session->challenge);
    bool live = session->challenge_kind == "passkey-create" && challenge && !challenge->empty() &&
                session->challenge_expires_at > now;
    session->challenge.clear();
    session->challenge_kind.clear();
    if (auto st = SaveSession(*session); !st) return error(500, st.error().message());
    if (!live) return error(400, L(l, "操作逾時，請再試一次。", "This took too long. Try again."));
    auto cred = webauthn::VerifyRegistration(rp, {str("clientDataJSON"), str("attestationObject")},
                                             *challenge, true);
    if (!cred) {
      Audit(call, "account", "refused", person->id, "", "passkey", cred.error().message());
      return error(400, L(l, "無法新增通行密鑰：", "The passkey could not be added: ") +
                            cred.error().message());
    }
    identity::Passkey pk;
    pk.id = Base64UrlEncode(cred->id);
    if (!str("id").empty() && str("id") != pk.id) {
      return error(400, "the credential id does not match the authenticator data");
    }
    pk.public_key_der = cred->public_key_der;
    pk.algorithm = cred->algorithm;
    pk.sign_count = cred->sign_count;
    pk.label = str("label").substr(0, 100);
    if (pk.label.empty()) pk.label = L(l, "通行密鑰", "Passkey");
    if (auto st = accounts_.AddPasskey(person->id, pk); !st) {
      return error(st.error().code() == ErrorCode::kAlreadyExists ? 409 : 400,
                   st.error().message());
    }
    Audit(call, "account", "ok", person->id, "", "passkey",
          fmt::format("passkey added ({} attestation)", cred->attestation_format));
    return Json(200, {{"message", L(l, "已新增通行密鑰。", "The passkey is added.")}});
  }

  auto pending = LoadRequest(*session, str("r"));
  if (!pending) {
    return error(400, L(l, "登入已逾時，請回到原服務重新開始。",
                        "The sign-in has expired. Go back to the service and start again."));
  }
  VerificationMethod& passkey = *MethodFor(Method::kPasskey);
  if (step == "begin") {
    // A locked address gets no ceremony; `finish` is checked in Try, like every method.
    if (auto until = LockedUntil("remote", call.remote, options_.max_failures_per_remote)) {
      Audit(call, "signin", "locked", "", pending->request.client_id, "passkey",
            "too many failures for this address");
      return error(429, LockMessage(l, *until));
    }
    session->challenge = passkey.NewChallenge();
    session->challenge_kind = std::string(passkey.challenge_kind());
    session->challenge_expires_at = now + kCeremonyMs;
    if (auto st = SaveSession(*session); !st) return error(500, st.error().message());
    nlohmann::json allow = nlohmann::json::array();
    if (!session->claimed_national_id.empty()) {
      if (auto person = accounts_.FindByNationalId(session->claimed_national_id)) {
        if (auto list = accounts_.Passkeys(person->id)) {
          for (const auto& pk : *list) allow.push_back(pk.id);
        }
      }
    }
    return Json(200, {{"challenge", session->challenge},
                      {"rpId", rp.id},
                      {"timeout", kCeremonyMs},
                      {"userVerification", "required"},
                      {"allowCredentials", allow}});
  }
  // finish
  http::Form input;
  for (const char* field : {"id", "clientDataJSON", "authenticatorData", "signature"}) {
    if (auto st = input.Add(field, str(field)); !st) return error(400, st.error().message());
  }
  Verdict verdict = Try(call, *session, *pending, passkey, input);
  switch (verdict.kind) {
    case Verdict::Kind::kVerified: {
      auto res = ShowVerdict(call, *session, *pending, Method::kPasskey, verdict);
      std::string location = res.result_int() == 303
                                 ? std::string(res[http::bhttp::field::location])
                                 : "/signin?r=" + pending->id;
      return Json(200, {{"redirect", location}});
    }
    case Verdict::Kind::kRefused:
      return error(verdict.locked_until != 0 ? 429 : 400, verdict.message);
    case Verdict::Kind::kUnavailable:
      return error(503, verdict.message);
    case Verdict::Kind::kLookup:
    case Verdict::Kind::kInternal:
      break;
  }
  return error(500, verdict.reason);
}

}  // namespace troad::identity
