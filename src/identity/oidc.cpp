#include "identity/oidc.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace troad::identity {
namespace {

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kSms:
      return "sms";
    case Method::kDualDocument:
      return "dual_document";
    case Method::kTotp:
      return "totp";
    case Method::kPasskey:
      return "passkey";
    case Method::kCitizenCertificate:
      return "citizen_certificate";
  }
  return "unknown";
}

std::optional<Method> MethodFromName(std::string_view name) {
  for (Method m : kAllMethods) {
    if (MethodName(m) == name) return m;
  }
  return std::nullopt;
}

int MethodLevel(Method method) {
  switch (method) {
    case Method::kSms:
    case Method::kDualDocument:
      return 1;
    case Method::kTotp:
      return 2;
    case Method::kPasskey:
    case Method::kCitizenCertificate:
      return 3;
  }
  return 0;
}

std::vector<std::string> MethodAmr(Method method) {
  switch (method) {
    case Method::kSms:
      return {"sms"};
    case Method::kDualDocument:
      return {"kba"};
    case Method::kTotp:
      return {"otp"};
    case Method::kPasskey:
      return {"hwk", "user"};
    case Method::kCitizenCertificate:
      return {"sc", "pin"};
  }
  return {};
}

std::string AcrForLevel(int level) { return fmt::format("urn:troad:loa:{}", level); }

Status ValidateAcr(std::string_view acr) {
  if (acr == kAcrMfa) return Ok();
  for (int level = 1; level <= 3; ++level) {
    if (acr == AcrForLevel(level)) return Ok();
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unknown acr value \"{}\" (known: urn:troad:loa:1, urn:troad:loa:2, "
              "urn:troad:loa:3, urn:troad:mfa)",
              EscapeForLog(acr, 80));
}

bool MeetsAcr(const std::vector<VerifiedMethod>& methods, std::string_view acr) {
  if (acr == kAcrMfa) {
    std::set<Method> distinct;
    for (const auto& m : methods) distinct.insert(m.method);
    return distinct.size() >= 2;
  }
  for (int level = 1; level <= 3; ++level) {
    if (acr == AcrForLevel(level)) {
      return std::any_of(methods.begin(), methods.end(), [level](const VerifiedMethod& m) {
        return MethodLevel(m.method) >= level;
      });
    }
  }
  return false;
}

std::optional<std::string> AcrMet(const std::vector<VerifiedMethod>& methods,
                                  const std::vector<std::string>& wanted) {
  if (!wanted.empty()) {
    for (const auto& acr : wanted) {
      if (MeetsAcr(methods, acr)) return acr;
    }
    return std::nullopt;
  }
  if (MeetsAcr(methods, kAcrMfa)) return std::string(kAcrMfa);
  for (int level = 3; level >= 1; --level) {
    if (MeetsAcr(methods, AcrForLevel(level))) return AcrForLevel(level);
  }
  return std::nullopt;
}

std::vector<std::string> AmrOf(const std::vector<VerifiedMethod>& methods) {
  std::vector<std::string> amr;
  std::set<Method> distinct;
  for (const auto& m : methods) {
    distinct.insert(m.method);
    for (auto& value : MethodAmr(m.method)) {
      if (std::find(amr.begin(), amr.end(), value) == amr.end()) amr.push_back(std::move(value));
    }
  }
  if (distinct.size() >= 2) amr.push_back("mfa");
  return amr;
}

nlohmann::json AuthorizationRequest::ToJson() const {
  nlohmann::json j = {{"client_id", client_id},  {"redirect_uri", redirect_uri},
                      {"scope", scope},          {"state", state},
                      {"nonce", nonce},          {"code_challenge", code_challenge},
                      {"prompt", prompt},        {"acr_values", acr_values},
                      {"ui_locales", ui_locales}};
  if (max_age_s) j["max_age"] = *max_age_s;
  return j;
}

Result<AuthorizationRequest> AuthorizationRequest::FromJson(const nlohmann::json& j) {
  try {
    AuthorizationRequest r;
    r.client_id = j.at("client_id").get<std::string>();
    r.redirect_uri = j.at("redirect_uri").get<std::string>();
    r.scope = j.at("scope").get<std::string>();
    r.state = j.at("state").get<std::string>();
    r.nonce = j.at("nonce").get<std::string>();
    r.code_challenge = j.at("code_challenge").get<std::string>();
    r.prompt = j.at("prompt").get<std::string>();
    r.acr_values = j.at("acr_values").get<std::vector<std::string>>();
    r.ui_locales = j.at("ui_locales").get<std::string>();
    if (j.contains("max_age")) r.max_age_s = j.at("max_age").get<int64_t>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    // A stored row we wrote ourselves; a mismatch means it was altered.
    return Fail(ErrorCode::kDataLoss, "stored authorization request: {}", e.what());
  }
}

bool AuthorizationRequest::HasScope(std::string_view wanted) const {
  for (const auto& s : http::SplitSpaces(scope)) {
    if (s == wanted) return true;
  }
  return false;
}

tl::expected<AuthorizationRequest, AuthorizationError> ValidateAuthorizationRequest(
    const http::Form& query, const std::optional<Client>& client) {
  auto shown = [](std::string description) {
    return tl::unexpected(AuthorizationError{false, "invalid_request", std::move(description)});
  };
  std::string client_id = query.Value("client_id");
  if (client_id.empty()) return shown("the request has no client_id");
  if (!client) return shown("the service asking you to sign in is not registered here");
  if (!client->enabled) return shown("the service asking you to sign in is disabled");
  std::string redirect_uri = query.Value("redirect_uri");
  if (redirect_uri.empty()) return shown("the request has no redirect_uri");
  if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), redirect_uri) ==
      client->redirect_uris.end()) {
    return shown("the redirect_uri is not one the service registered");
  }
  // From here on the redirect URI is trusted: errors go back to the service.
  auto back = [](std::string error, std::string description) {
    return tl::unexpected(AuthorizationError{true, std::move(error), std::move(description)});
  };
  AuthorizationRequest r;
  r.client_id = client_id;
  r.redirect_uri = redirect_uri;
  r.state = query.Value("state");
  if (r.state.size() > 512) return back("invalid_request", "state is longer than 512 bytes");
  if (query.Has("request"))
    return back("request_not_supported", "request objects are not supported");
  if (query.Has("request_uri")) {
    return back("request_uri_not_supported", "request_uri is not supported");
  }
  if (query.Value("response_type") != "code") {
    return back("unsupported_response_type", "response_type must be code");
  }
  if (auto mode = query.Get("response_mode"); mode && *mode != "query") {
    return back("invalid_request", "response_mode must be query");
  }
  r.scope = query.Value("scope");
  if (!r.HasScope("openid")) return back("invalid_scope", "scope must include openid");
  for (const auto& s : http::SplitSpaces(r.scope)) {
    if (s != "openid" && s != "profile" && s != "national_id") {
      return back("invalid_scope", fmt::format("unknown scope \"{}\"", EscapeForLog(s, 40)));
    }
  }
  if (r.HasScope("national_id") && !client->national_id_allowed) {
    return back("invalid_scope", "this service may not receive national ids");
  }
  r.nonce = query.Value("nonce");
  if (r.nonce.size() > 512) return back("invalid_request", "nonce is longer than 512 bytes");
  r.code_challenge = query.Value("code_challenge");
  if (r.code_challenge.empty()) {
    return back("invalid_request", "PKCE is required: code_challenge is missing");
  }
  if (query.Value("code_challenge_method") != "S256") {
    return back("invalid_request", "code_challenge_method must be S256");
  }
  if (r.code_challenge.size() != 43 ||
      !std::all_of(r.code_challenge.begin(), r.code_challenge.end(), Unreserved)) {
    return back("invalid_request", "code_challenge is not a base64url SHA-256 (43 characters)");
  }
  r.prompt = query.Value("prompt");
  if (!r.prompt.empty() && r.prompt != "none" && r.prompt != "login" && r.prompt != "consent") {
    return back("invalid_request", "prompt must be none, login or consent");
  }
  if (auto max_age = query.Get("max_age")) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(max_age->data(), max_age->data() + max_age->size(), v);
    if (ec != std::errc() || p != max_age->data() + max_age->size() || v < 0 ||
        v > 366LL * 24 * 3600) {
      return back("invalid_request", "max_age must be a whole number of seconds");
    }
    r.max_age_s = v;
  }
  r.acr_values = http::SplitSpaces(query.Value("acr_values"));
  if (r.acr_values.size() > 8) return back("invalid_request", "too many acr_values");
  for (const auto& acr : r.acr_values) {
    if (auto st = ValidateAcr(acr); !st) return back("invalid_request", st.error().message());
  }
  r.ui_locales = query.Value("ui_locales").substr(0, 100);
  return r;
}

std::string RedirectWith(std::string_view redirect_uri,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out(redirect_uri);
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    out += sep;
    out += http::FormPair(name, value);
    sep = '&';
  }
  return out;
}

Status VerifyPkce(std::string_view verifier, std::string_view challenge) {
  if (verifier.size() < 43 || verifier.size() > 128 ||
      !std::all_of(verifier.begin(), verifier.end(), Unreserved)) {
    return Fail(ErrorCode::kInvalidArgument,
                "code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)");
  }
  std::string computed = Base64UrlEncode(crypto::DigestView(crypto::Sha256(verifier)));
  if (!crypto::ConstantTimeEqual(computed, challenge)) {
    return Fail(ErrorCode::kUnauthenticated, "code_verifier does not match the code_challenge");
  }
  return Ok();
}

std::string SubjectFor(const Client& client, std::string_view person_id, std::string_view salt) {
  if (!client.pairwise) return std::string(person_id);
  std::string input;
  input.append(salt).append(1, '\0').append(client.id).append(1, '\0').append(person_id);
  return Base64UrlEncode(crypto::DigestView(crypto::Sha256(input)));
}

nlohmann::json DiscoveryDocument(std::string_view issuer) {
  std::string iss(issuer);
  return {
      {"issuer", iss},
      {"authorization_endpoint", iss + "/authorize"},
      {"token_endpoint", iss + "/token"},
      {"userinfo_endpoint", iss + "/userinfo"},
      {"jwks_uri", iss + "/jwks"},
      {"response_types_supported", {"code"}},
      {"response_modes_supported", {"query"}},
      {"grant_types_supported", {"authorization_code"}},
      {"subject_types_supported", {"pairwise", "public"}},
      {"id_token_signing_alg_values_supported", {"ES256"}},
      {"token_endpoint_auth_methods_supported", {"client_secret_basic", "private_key_jwt"}},
      {"token_endpoint_auth_signing_alg_values_supported", {"ES256", "RS256"}},
      {"code_challenge_methods_supported", {"S256"}},
      {"scopes_supported", {"openid", "profile", "national_id"}},
      {"claims_supported",
       {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "name",
        "national_id"}},
      {"acr_values_supported",
       {"urn:troad:loa:1", "urn:troad:loa:2", "urn:troad:loa:3", std::string(kAcrMfa)}},
      {"prompt_values_supported", {"none", "login", "consent"}},
      {"ui_locales_supported", {"zh-TW", "en"}},
      {"claims_parameter_supported", false},
      {"request_parameter_supported", false},
      {"request_uri_parameter_supported", false},
      {"authorization_response_iss_parameter_supported", true},
  };
}

}  // namespace troad::identity
