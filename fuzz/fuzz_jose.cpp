// Fuzzes the JOSE parsers the identity centre and MyData apply to their clients' input:
// compact JWS (crypto::ParseJws), client assertions (crypto::ParseClientAssertion) and
// JWKs (registered client keys, crypto::PublicKeyFromJwk). Beyond not crashing: a parsed JWS has an object header with
// a string "alg" and signs exactly the first two segments it was given; an accepted JWK
// gives a key that passes CheckStrength and whose JWK imports back to the same key.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crypto/client_assertion.h"
#include "crypto/jose.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto jws = crypto::ParseJws(input)) {
    FUZZ_CHECK(jws->header.is_object());
    FUZZ_CHECK(jws->header["alg"].is_string());
    FUZZ_CHECK(input.starts_with(jws->signing_input));
  }
  if (auto assertion = crypto::ParseClientAssertion(input)) {
    FUZZ_CHECK(!assertion->client_id.empty());
    FUZZ_CHECK(assertion->claims.is_object());
    FUZZ_CHECK(assertion->claims["sub"] == assertion->client_id);
  }
  auto json = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    if (auto key = crypto::PublicKeyFromJwk(json)) {
      FUZZ_CHECK(key->CheckStrength().has_value());
      auto again = crypto::PublicKeyFromJwk(crypto::PublicJwk(*key));
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(again->ToDer() == key->ToDer());
    }
  }
  return 0;
}
