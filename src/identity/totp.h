// One-time codes from an authenticator app: HOTP (RFC 4226) and TOTP (RFC 6238), and
// the otpauth:// Key URI an app reads from a QR code to enrol a secret.
//
// The time is always passed in (Unix seconds from the caller's Clock), so tests are
// exact. Secrets are raw bytes; Base32 is only for showing them to people and apps.
// Thread-safety: pure functions, except NewTotpSecret, which reads the system RNG and
// is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad::identity {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

// "SHA1", "SHA256", "SHA512": the names the Key URI format uses.
std::string_view TotpAlgorithmName(TotpAlgorithm algorithm);

// The defaults are what every authenticator app supports; others are for interop.
struct TotpParameters {
  TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
  int digits = 6;     // 6 to 8
  int period_s = 30;  // 15 to 300 seconds

  // kInvalidArgument when digits or period_s is outside its range.
  Status Validate() const;
};

// Bytes in a new secret: 160 bits, as RFC 4226 §4 (R6) recommends.
inline constexpr size_t kTotpSecretBytes = 20;

// A new random secret of kTotpSecretBytes bytes.
std::string NewTotpSecret();

// The HOTP value for `counter` (RFC 4226 §5.3: HMAC, dynamic truncation, modulo
// 10^digits), zero-padded to params.digits. kInvalidArgument for an empty secret or
// invalid parameters.
Result<std::string> HotpCode(std::string_view secret, uint64_t counter,
                             const TotpParameters& params);

// The time step that `unix_seconds` falls in: floor(unix_seconds / period_s), T0 = 0.
// Requires a valid params.period_s.
int64_t TotpStep(int64_t unix_seconds, const TotpParameters& params);

// The code for the step that `unix_seconds` falls in. kInvalidArgument as HotpCode,
// and for a time before 1970 (negative step).
Result<std::string> TotpCode(std::string_view secret, int64_t unix_seconds,
                             const TotpParameters& params);

// Checks a code a person typed against the steps from `window` before to `window`
// after the current one (RFC 6238 §5.2: allow for clock drift and typing time) and
// returns the step it matched; the caller stores it as the new `last_used_step` (-1
// when the secret was never used). Every candidate is computed and compared in
// constant time. Errors, worded for the person and the audit log:
//   kInvalidArgument  the code is not exactly params.digits ASCII digits (the message
//                     says how, with the length but never the code), window outside
//                     0 to 10, invalid params or an empty secret;
//   kAlreadyExists    the code matched, but at a step <= last_used_step: it was
//                     already used, and a code is good only once (RFC 6238 §5.2);
//   kUnauthenticated  the code matches no step in the window.
Result<int64_t> VerifyTotp(std::string_view secret, std::string_view code, int64_t unix_seconds,
                           int64_t last_used_step, const TotpParameters& params, int window = 1);

// The Key URI authenticator apps read (github.com/google/google-authenticator/wiki/
// Key-Uri-Format): otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&
// algorithm=SHA1&digits=6&period=30. Issuer and account are percent-encoded as UTF-8
// (every byte outside RFC 3986's unreserved characters, ':' and space included); an
// empty issuer leaves out both the label prefix and the issuer parameter.
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret,
                       const TotpParameters& params);

}  // namespace troad::identity
