// Fuzzes what MyData reads back of a consent record: the signed JWS an auditor or a
// service provider hands in (mydata::VerifyConsent, against a fixed JWKS) and the
// record's JSON (mydata::ConsentFromJson). Beyond not crashing: an accepted record is
// valid, and its JSON reads back to the same record.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crypto/jose.h"
#include "fuzz_check.h"
#include "mydata/consent.h"

namespace {

const nlohmann::json& Jwks() {
  static const nlohmann::json jwks = [] {
    auto key = troad::crypto::PrivateKey::GenerateEcP256().value();
    nlohmann::json jwk = troad::crypto::PublicJwk(key.Public());
    jwk["kid"] = "mydata-1";
    return nlohmann::json{{"keys", nlohmann::json::array({jwk})}};
  }();
  return jwks;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Nobody but the test holds the key, so nothing may verify.
  FUZZ_CHECK(!mydata::VerifyConsent(input, Jwks()).has_value());
  auto json = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    if (auto record = mydata::ConsentFromJson(json)) {
      FUZZ_CHECK(mydata::ValidateConsent(*record).has_value());
      auto again = mydata::ConsentFromJson(mydata::ConsentToJson(*record));
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(mydata::ConsentToJson(*again) == mydata::ConsentToJson(*record));
    }
  }
  return 0;
}
