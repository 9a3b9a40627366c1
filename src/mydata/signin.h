// MyData as an OpenID Connect relying party of `troad idp` (docs/mydata.md, "Identity"):
// the decisions, as plain functions on values — what the idp's discovery document must
// offer, the authorization request (code flow, PKCE S256, state, nonce, acr_values),
// the private_key_jwt client assertion for the token endpoint (RFC 7523), the checks on
// the ID token, and whether the assurance achieved is enough for the datasets asked
// for. The HTTP calls that use them live with the process.
//
// Assurance: a dataset names the weakest sign-in its provider accepts (an idp acr:
// urn:troad:loa:N, one method of at least level N, or urn:troad:mfa). The ID token's
// "amr" says which methods were used (RFC 8176 values, docs/identity.md): sms and kba
// are level 1, otp level 2, hwk and sc level 3, and "mfa" means two different methods.
// A person's first use of MyData needs two different methods, later uses one.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "crypto/key.h"

namespace troad::mydata {

struct IdpMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// Reads the idp's discovery document (OpenID Connect Discovery §3). kInvalidArgument
// naming the member when: the issuer is not exactly `expected_issuer` (§4.3), an
// endpoint is not https (or http to a loopback host) or lies outside the issuer's origin,
// or the provider does not offer the code flow, PKCE S256, ES256 ID tokens or
// private_key_jwt — everything MyData relies on.
Result<IdpMetadata> IdpMetadataFromDiscovery(const nlohmann::json& discovery,
                                             std::string_view expected_issuer);

// One sign-in in progress: kept (server-side, bound to the browser) until the idp sends
// the person back.
struct SignInStart {
  std::string state;          // 256 bits, base64url
  std::string nonce;          // 256 bits, base64url
  std::string code_verifier;  // RFC 7636: 43 characters of base64url
  std::string url;            // where to send the person
};

// The authorization request: response_type=code, scope "openid national_id", PKCE S256,
// acr_values = `acr`, ui_locales = `locale` ("zh-TW" or "en").
SignInStart StartSignIn(const IdpMetadata& idp, std::string_view client_id,
                        std::string_view redirect_uri, std::string_view acr,
                        std::string_view locale);

// The client assertion for the token endpoint: a JWT signed with `key` (header kid =
// `kid`), iss = sub = client_id, aud = the token endpoint, a random jti, iat = now and
// exp = now + 60 s (RFC 7523 §3).
Result<std::string> MakeClientAssertion(const crypto::PrivateKey& key, std::string_view kid,
                                        std::string_view client_id, std::string_view token_endpoint,
                                        int64_t now_s);

struct IdToken {
  std::string subject;      // "sub": pairwise, this client's own subject for the person
  std::string national_id;  // "national_id" (MyData is entitled to it)
  std::string name;         // "name", when released
  std::string acr;
  std::vector<std::string> amr;
  int64_t auth_time = 0;  // Unix seconds
};

// Checks an ID token (OpenID Connect Core §3.1.3.7): an ES256 JWS by a key of `jwks`
// (by "kid"), iss = `issuer`, aud holds `client_id` (and azp, if present, is it), exp in
// the future and iat not in the future (60 s of clock skew either way), nonce =
// `nonce`, a sub, an acr and an amr, and a well-formed national id. kUnauthenticated
// naming the check that failed; kInvalidArgument for a token that is not a JWS at all.
Result<IdToken> VerifyIdToken(std::string_view jwt, const nlohmann::json& jwks,
                              std::string_view issuer, std::string_view client_id,
                              std::string_view nonce, int64_t now_s);

// What a sign-in must achieve: a method of at least `level`, and two different methods
// when `two_methods`.
struct Assurance {
  int level = 1;
  bool two_methods = false;
};

// For datasets needing `acrs` (idp acr values): the highest level among them; two
// methods when any asks for urn:troad:mfa or this is the person's `first_use`.
Assurance RequiredAssurance(const std::vector<std::string>& acrs, bool first_use);

// The level (1–3) the methods of `amr` reach: the strongest method used; 0 for none.
int AssuranceLevel(const std::vector<std::string>& amr);

bool AssuranceMeets(const std::vector<std::string>& amr, const Assurance& needed);

// What to ask the idp for next: "urn:troad:mfa" while two methods are needed and not
// used, then "urn:troad:loa:N" while the level is not reached (the idp's step-up adds a
// method to the same session); "" when `amr` meets `needed`.
std::string NextAcr(const std::vector<std::string>& amr, const Assurance& needed);

}  // namespace troad::mydata
