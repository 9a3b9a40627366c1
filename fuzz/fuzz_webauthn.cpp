// Fuzzes the WebAuthn verifiers (src/identity/webauthn.h) with what a browser sends:
// the input is split at its first NUL into clientDataJSON and the attestation object
// (registration) or the authenticator data (assertion, signature fixed), all
// base64url-encoded as the page sends them. Beyond not crashing: nothing random
// verifies, so every call must fail, and with one of the documented codes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "crypto/key.h"
#include "fuzz_check.h"
#include "identity/webauthn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  using namespace troad::identity::webauthn;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view first = input.substr(0, nul);
  std::string_view second = nul == std::string_view::npos ? "" : input.substr(nul + 1);
  static const RelyingParty rp{"localhost", {"http://localhost:4600"}};
  static const std::string challenge(32, 'c');
  auto code_ok = [](ErrorCode code) {
    return code == ErrorCode::kInvalidArgument || code == ErrorCode::kUnauthenticated;
  };
  auto reg =
      VerifyRegistration(rp, {Base64UrlEncode(first), Base64UrlEncode(second)}, challenge, true);
  if (!reg) FUZZ_CHECK(code_ok(reg.error().code()));
  // A stored key that is valid, made once.
  static const std::string spki = crypto::PrivateKey::GenerateEcP256()->Public().ToDer();
  auto assertion = VerifyAssertion(rp, {Base64UrlEncode(first), Base64UrlEncode(second), "MEUCIQ"},
                                   challenge, true, {spki, "ES256", 0});
  if (!assertion) {
    FUZZ_CHECK(code_ok(assertion.error().code()) ||
               assertion.error().code() == ErrorCode::kFailedPrecondition);
  }
  return 0;
}
