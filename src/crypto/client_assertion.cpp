#include "crypto/client_assertion.h"

#include <algorithm>

#include "core/json.h"

namespace troad::crypto {
namespace {

tl::unexpected<Error> Refused(std::string_view what) {
  return tl::unexpected<Error>(
      Error(ErrorCode::kUnauthenticated, "client_assertion" + std::string(what)));
}

}  // namespace

Result<ClientAssertion> ParseClientAssertion(std::string_view assertion) {
  auto jws = ParseJws(assertion);
  if (!jws) return Refused(": " + jws.error().message());
  auto claims = ParseJson(jws->payload, "client_assertion claims", 8);
  if (!claims || !claims->is_object()) return Refused(": the claims are not a JSON object");
  auto str = [&](const char* name) -> std::string {
    auto it = claims->find(name);
    return it != claims->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string iss = str("iss");
  if (iss.empty() || str("sub") != iss) return Refused(": iss and sub must be the client id");
  return ClientAssertion{std::move(*jws), std::move(*claims), std::move(iss)};
}

Result<VerifiedAssertion> VerifyClientAssertion(const ClientAssertion& a,
                                                const nlohmann::json& jwks,
                                                std::span<const std::string> audiences,
                                                int64_t now_s, int64_t max_lifetime_s) {
  const nlohmann::json& claims = a.claims;
  std::string kid = a.jws.header.contains("kid") && a.jws.header["kid"].is_string()
                        ? a.jws.header["kid"].get<std::string>()
                        : std::string();
  bool verified = false;
  if (auto keys = jwks.find("keys"); keys != jwks.end() && keys->is_array()) {
    for (const auto& jwk : *keys) {
      if (!kid.empty() && jwk.value("kid", std::string()) != kid) continue;
      auto key = PublicKeyFromJwk(jwk);
      if (key && VerifyJws(a.jws, *key)) {
        verified = true;
        break;
      }
    }
  }
  if (!verified) {
    return Refused(": the signature does not verify with any registered key of " + a.client_id);
  }
  auto matches = [&](const nlohmann::json& v) {
    return v.is_string() &&
           std::find(audiences.begin(), audiences.end(), v.get<std::string>()) != audiences.end();
  };
  bool aud_ok = false;
  if (auto it = claims.find("aud"); it != claims.end()) {
    aud_ok = it->is_array() ? std::any_of(it->begin(), it->end(), matches) : matches(*it);
  }
  if (!aud_ok) {
    std::string names;
    for (const auto& aud : audiences) names += (names.empty() ? "" : " or ") + aud;
    return Refused(": aud must be " + names);
  }
  auto exp_it = claims.find("exp");
  if (exp_it == claims.end() || !exp_it->is_number_integer()) return Refused(": exp is missing");
  int64_t exp = exp_it->get<int64_t>();
  if (exp < now_s - 30) return Refused(" has expired");
  if (exp > now_s + max_lifetime_s) {
    return Refused(": exp is more than " + std::to_string(max_lifetime_s) + " s ahead");
  }
  if (auto nbf = claims.find("nbf");
      nbf != claims.end() && nbf->is_number_integer() && nbf->get<int64_t>() > now_s + 30) {
    return Refused(" is not valid yet (nbf)");
  }
  auto jti = claims.find("jti");
  if (jti == claims.end() || !jti->is_string() || jti->get<std::string>().empty() ||
      jti->get<std::string>().size() > 200) {
    return Refused(": jti is missing or too long");
  }
  return VerifiedAssertion{jti->get<std::string>(), exp};
}

}  // namespace troad::crypto
