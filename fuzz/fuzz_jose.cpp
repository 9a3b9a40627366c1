// Fuzzes the JOSE parsers the identity centre applies to relying parties' input:
// compact JWS (client assertions, crypto::ParseJws) and JWKs (registered client keys,
// crypto::PublicKeyFromJwk). Beyond not crashing: a parsed JWS has an object header with
// a string "alg" and signs exactly the first two segments it was given; an accepted JWK
// gives a key that passes CheckStrength and whose JWK imports back to the same key.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

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
