// RFC 7523 client assertions (OpenID Connect Core §9 "private_key_jwt"): the JWT a client
// signs with one of its registered keys to prove who it is, at the idp's token endpoint
// and at MyData's service-provider API. The checks that need no storage live here; the
// caller finds the client's keys by the assertion's issuer, and remembers each `jti`
// until `exp` so that an assertion is accepted once.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/jose.h"

namespace troad::crypto {

inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct ClientAssertion {
  Jws jws;
  nlohmann::json claims;  // a JSON object
  std::string client_id;  // iss = sub
};

// Parses the assertion and reads who it claims to be (not yet verified): iss and sub
// must both be the client id. kUnauthenticated "client_assertion: …" naming what is wrong.
Result<ClientAssertion> ParseClientAssertion(std::string_view assertion);

struct VerifiedAssertion {
  std::string jti;
  int64_t exp = 0;  // Unix seconds: remember the jti until then
};

// Checks a parsed assertion: signed (ES256 or RS256) by a key of `jwks` ({"keys":[…]},
// the one named by "kid" if the header has one), aud one of `audiences` (alone or in an
// array), exp present, not past (30 s of skew) and at most `max_lifetime_s` ahead, nbf
// (if any) not in the future, and a jti of 1 to 200 bytes. kUnauthenticated
// "client_assertion: …" naming the check that failed.
Result<VerifiedAssertion> VerifyClientAssertion(const ClientAssertion& assertion,
                                                const nlohmann::json& jwks,
                                                std::span<const std::string> audiences,
                                                int64_t now_s, int64_t max_lifetime_s = 300);

}  // namespace troad::crypto
