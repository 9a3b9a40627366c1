#include "mydata/signin.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/encoding.h"
#include "core/json.h"
#include "core/net.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/random.h"
#include "http/form.h"
#include "mydata/validate.h"

namespace troad::mydata {
namespace {

constexpr int64_t kSkewS = 60;
constexpr int64_t kAssertionLifetimeS = 60;
constexpr std::string_view kAcrMfa = "urn:troad:mfa";

// The origin of an http(s) URL: scheme and authority.
std::string_view OriginOf(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  size_t end = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, end);
}

bool Contains(const nlohmann::json& doc, const char* member, std::string_view value) {
  auto it = doc.find(member);
  if (it == doc.end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const nlohmann::json& v) { return v.is_string() && v == value; });
}

tl::unexpected<Error> Unauthenticated(std::string_view what) {
  return tl::unexpected<Error>(
      Error(ErrorCode::kUnauthenticated, fmt::format("ID token: {}", what)));
}

int MethodLevel(std::string_view amr) {
  if (amr == "hwk" || amr == "sc") return 3;
  if (amr == "otp") return 2;
  if (amr == "sms" || amr == "kba") return 1;
  return 0;  // "mfa", "user", "pin": not methods of their own
}

}  // namespace

Result<IdpMetadata> IdpMetadataFromDiscovery(const nlohmann::json& doc,
                                             std::string_view expected_issuer) {
  if (!doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "discovery document: not a JSON object");
  }
  JsonErrors errors;
  JsonView in(&doc, "", &errors);
  IdpMetadata m;
  m.issuer = in.String("issuer", true, 2000);
  m.authorization_endpoint = in.String("authorization_endpoint", true, 2000);
  m.token_endpoint = in.String("token_endpoint", true, 2000);
  m.jwks_uri = in.String("jwks_uri", true, 2000);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("discovery document"));
  if (m.issuer != expected_issuer) {
    // OpenID Connect Discovery §4.3: the issuer must be exactly the one asked; otherwise
    // another provider could answer for it.
    return Fail(ErrorCode::kInvalidArgument, "discovery document: issuer is \"{}\", not \"{}\"",
                EscapeForLog(m.issuer, 100), expected_issuer);
  }
  for (auto [name, url] :
       {std::pair{"authorization_endpoint", &m.authorization_endpoint},
        std::pair{"token_endpoint", &m.token_endpoint}, std::pair{"jwks_uri", &m.jwks_uri}}) {
    if (auto st = ValidateRedirectUri(*url); !st) {
      return Fail(ErrorCode::kInvalidArgument, "discovery document: {}: {}", name,
                  st.error().message());
    }
    if (OriginOf(*url) != OriginOf(m.issuer)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "discovery document: {} {} is not at the issuer's origin {}", name,
                  EscapeForLog(*url, 100), OriginOf(m.issuer));
    }
  }
  const std::pair<const char*, const char*> needed[] = {
      {"response_types_supported", "code"},
      {"code_challenge_methods_supported", "S256"},
      {"id_token_signing_alg_values_supported", "ES256"},
      {"token_endpoint_auth_methods_supported", "private_key_jwt"},
  };
  for (const auto& [member, value] : needed) {
    if (!Contains(doc, member, value)) {
      return Fail(ErrorCode::kInvalidArgument, "discovery document: {} does not offer \"{}\"",
                  member, value);
    }
  }
  return m;
}

SignInStart StartSignIn(const IdpMetadata& idp, std::string_view client_id,
                        std::string_view redirect_uri, std::string_view acr,
                        std::string_view locale) {
  SignInStart s;
  s.state = crypto::NewSecretToken();
  s.nonce = crypto::NewSecretToken();
  s.code_verifier = crypto::NewSecretToken();
  std::string challenge = Base64UrlEncode(crypto::Sha256(s.code_verifier));
  std::string query;
  for (const auto& [name, value] :
       {std::pair<std::string_view, std::string_view>{"response_type", "code"},
        {"client_id", client_id},
        {"redirect_uri", redirect_uri},
        {"scope", "openid national_id"},
        {"state", s.state},
        {"nonce", s.nonce},
        {"code_challenge", challenge},
        {"code_challenge_method", "S256"},
        {"acr_values", acr},
        {"ui_locales", locale}}) {
    if (!query.empty()) query += '&';
    query += http::FormPair(name, value);
  }
  s.url = idp.authorization_endpoint +
          (idp.authorization_endpoint.find('?') == std::string::npos ? "?" : "&") + query;
  return s;
}

Result<std::string> MakeClientAssertion(const crypto::PrivateKey& key, std::string_view kid,
                                        std::string_view client_id, std::string_view token_endpoint,
                                        int64_t now_s) {
  nlohmann::json claims = {{"iss", client_id},      {"sub", client_id},
                           {"aud", token_endpoint}, {"jti", crypto::NewSecretToken()},
                           {"iat", now_s},          {"exp", now_s + kAssertionLifetimeS}};
  return crypto::SignJws(key, {{"typ", "JWT"}, {"kid", kid}}, claims.dump());
}

Result<IdToken> VerifyIdToken(std::string_view jwt, const nlohmann::json& jwks,
                              std::string_view issuer, std::string_view client_id,
                              std::string_view nonce, int64_t now_s) {
  auto jws = crypto::ParseJws(jwt);
  if (!jws) return Fail(ErrorCode::kInvalidArgument, "ID token: {}", jws.error().message());
  // The key is chosen by kid from the idp's set; the token never brings its own.
  auto kid = jws->header.find("kid");
  if (kid == jws->header.end() || !kid->is_string()) return Unauthenticated("no kid");
  const nlohmann::json* jwk = nullptr;
  if (auto keys = jwks.find("keys"); keys != jwks.end() && keys->is_array()) {
    for (const auto& k : *keys) {
      if (k.is_object() && k.value("kid", "") == kid->get<std::string>()) jwk = &k;
    }
  }
  if (jwk == nullptr) {
    return Unauthenticated(fmt::format("kid \"{}\" is not in the idp's JWKS",
                                       EscapeForLog(kid->get<std::string>(), 80)));
  }
  nlohmann::json public_jwk = *jwk;
  public_jwk.erase("kid");
  auto key = crypto::PublicKeyFromJwk(public_jwk);
  if (!key) return Unauthenticated("the idp's key: " + key.error().message());
  if (jws->header.value("alg", "") != "ES256") return Unauthenticated("alg must be ES256");
  if (auto st = crypto::VerifyJws(*jws, *key); !st) {
    return Unauthenticated("signature: " + st.error().message());
  }
  auto claims = ParseJson(jws->payload, "ID token claims", 8);
  if (!claims || !claims->is_object()) return Unauthenticated("the claims are not a JSON object");
  const nlohmann::json& c = *claims;
  auto string = [&](const char* name) -> std::string {
    auto it = c.find(name);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* name) -> std::optional<int64_t> {
    auto it = c.find(name);
    if (it == c.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  if (string("iss") != issuer) return Unauthenticated("iss is not the idp");
  auto aud = c.find("aud");
  bool audience = aud != c.end() && ((aud->is_string() && *aud == client_id) ||
                                     (aud->is_array() && Contains(c, "aud", client_id)));
  if (!audience) return Unauthenticated("aud does not name MyData");
  if (c.contains("azp") && string("azp") != client_id) return Unauthenticated("azp is another");
  auto exp = number("exp");
  auto iat = number("iat");
  if (!exp || *exp + kSkewS < now_s) return Unauthenticated("expired (exp)");
  if (!iat || *iat - kSkewS > now_s) return Unauthenticated("issued in the future (iat)");
  // The nonce binds the token to this browser's sign-in: a token from another sign-in
  // (replayed or injected) is refused.
  if (nonce.empty() || !crypto::ConstantTimeEqual(string("nonce"), nonce)) {
    return Unauthenticated("nonce does not match this sign-in");
  }
  IdToken t;
  t.subject = string("sub");
  if (t.subject.empty() || t.subject.size() > 255) return Unauthenticated("no sub");
  t.acr = string("acr");
  if (!IsIdpAcr(t.acr)) return Unauthenticated("acr is not one of the idp's");
  if (auto amr = c.find("amr"); amr != c.end() && amr->is_array()) {
    for (const auto& v : *amr) {
      if (v.is_string()) t.amr.push_back(v.get<std::string>());
    }
  }
  if (t.amr.empty()) return Unauthenticated("no amr");
  t.national_id = string("national_id");
  if (t.national_id.size() != 10 || t.national_id[0] < 'A' || t.national_id[0] > 'Z' ||
      !std::all_of(t.national_id.begin() + 1, t.national_id.end(),
                   [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return Unauthenticated("no national_id (scope national_id) or a malformed one");
  }
  t.name = string("name");
  t.auth_time = number("auth_time").value_or(0);
  return t;
}

Assurance RequiredAssurance(const std::vector<std::string>& acrs, bool first_use) {
  Assurance a;
  a.two_methods = first_use;
  for (const auto& acr : acrs) {
    if (acr == kAcrMfa) {
      a.two_methods = true;
    } else if (acr.size() == 15 && acr.starts_with("urn:troad:loa:")) {
      a.level = std::max(a.level, acr.back() - '0');
    }
  }
  return a;
}

int AssuranceLevel(const std::vector<std::string>& amr) {
  int level = 0;
  for (const auto& m : amr) level = std::max(level, MethodLevel(m));
  return level;
}

bool AssuranceMeets(const std::vector<std::string>& amr, const Assurance& needed) {
  return NextAcr(amr, needed).empty();
}

std::string NextAcr(const std::vector<std::string>& amr, const Assurance& needed) {
  if (needed.two_methods && std::find(amr.begin(), amr.end(), "mfa") == amr.end()) {
    return std::string(kAcrMfa);
  }
  if (AssuranceLevel(amr) < needed.level) return fmt::format("urn:troad:loa:{}", needed.level);
  return "";
}

}  // namespace troad::mydata
