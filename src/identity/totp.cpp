// HOTP (RFC 4226), TOTP (RFC 6238) and the otpauth:// Key URI.
#include "identity/totp.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace troad::identity {
namespace {

// Far beyond any real secret (RFC 4226 asks for 16 to 64 bytes); keeps the length an int.
constexpr size_t kMaxSecretBytes = 1024;
// RFC 6238 §5.2 recommends at most one step of drift; ten is generous for a bad clock.
constexpr int kMaxWindow = 10;

const EVP_MD* Digest(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return EVP_sha1();
    case TotpAlgorithm::kSha256:
      return EVP_sha256();
    case TotpAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

Status CheckSecret(std::string_view secret) {
  if (secret.empty()) return Fail(ErrorCode::kInvalidArgument, "the TOTP secret is empty");
  if (secret.size() > kMaxSecretBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the TOTP secret is longer than {} bytes",
                kMaxSecretBytes);
  }
  return Ok();
}

// What is wrong with a typed code, without repeating it: it may be a valid code for
// another account, or a password typed into the wrong field.
Status CheckCodeFormat(std::string_view code, int digits) {
  if (code.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the one-time code is empty; expected {} digits",
                digits);
  }
  bool ascii_digits_only = true;
  bool full_width_digit = false;
  for (size_t i = 0; i < code.size(); ++i) {
    if (code[i] < '0' || code[i] > '9') ascii_digits_only = false;
    // U+FF10 to U+FF19 (FULLWIDTH DIGIT ZERO to NINE) are EF BC 90 to EF BC 99.
    if (i + 2 < code.size() && code.substr(i, 2) == "\xEF\xBC" &&
        static_cast<uint8_t>(code[i + 2]) >= 0x90 && static_cast<uint8_t>(code[i + 2]) <= 0x99) {
      full_width_digit = true;
    }
  }
  if (full_width_digit) {
    return Fail(ErrorCode::kInvalidArgument,
                "the one-time code contains full-width digits; type it with the digits 0-9");
  }
  if (!ascii_digits_only) {
    return Fail(ErrorCode::kInvalidArgument,
                "the one-time code contains a character other than the digits 0-9 ({} bytes "
                "long; expected {} digits)",
                code.size(), digits);
  }
  if (code.size() != static_cast<size_t>(digits)) {
    return Fail(ErrorCode::kInvalidArgument, "the one-time code has {} digits; expected {}",
                code.size(), digits);
  }
  return Ok();
}

}  // namespace

std::string_view TotpAlgorithmName(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return "SHA1";
    case TotpAlgorithm::kSha256:
      return "SHA256";
    case TotpAlgorithm::kSha512:
      return "SHA512";
  }
  return "unknown";
}

Status TotpParameters::Validate() const {
  if (Digest(algorithm) == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "unknown TOTP algorithm {}",
                static_cast<int>(algorithm));
  }
  if (digits < 6 || digits > 8) {
    return Fail(ErrorCode::kInvalidArgument, "TOTP digits {} is outside 6 to 8", digits);
  }
  if (period_s < 15 || period_s > 300) {
    return Fail(ErrorCode::kInvalidArgument, "TOTP period {} s is outside 15 to 300 s", period_s);
  }
  return Ok();
}

std::string NewTotpSecret() { return crypto::RandomBytes(kTotpSecretBytes); }

Result<std::string> HotpCode(std::string_view secret, uint64_t counter,
                             const TotpParameters& params) {
  TROAD_RETURN_IF_ERROR(params.Validate());
  TROAD_RETURN_IF_ERROR(CheckSecret(secret));
  std::array<uint8_t, 8> message{};  // the counter, big-endian (RFC 4226 §5.2)
  for (int i = 7; i >= 0; --i, counter >>= 8) message[i] = static_cast<uint8_t>(counter & 0xff);
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  if (HMAC(Digest(params.algorithm), secret.data(), static_cast<int>(secret.size()), message.data(),
           message.size(), mac.data(), &mac_size) == nullptr ||
      mac_size < 20) {
    return Fail(ErrorCode::kInternal, "HMAC-{} failed", TotpAlgorithmName(params.algorithm));
  }
  // Dynamic truncation (RFC 4226 §5.3): 31 bits at the offset the last nibble names.
  const size_t offset = mac[mac_size - 1] & 0x0f;
  const uint32_t binary = (uint32_t{mac[offset]} & 0x7f) << 24 | uint32_t{mac[offset + 1]} << 16 |
                          uint32_t{mac[offset + 2]} << 8 | uint32_t{mac[offset + 3]};
  uint32_t modulus = 1;
  for (int i = 0; i < params.digits; ++i) modulus *= 10;
  return fmt::format("{:0{}}", binary % modulus, params.digits);
}

int64_t TotpStep(int64_t unix_seconds, const TotpParameters& params) {
  const int64_t period = params.period_s;
  int64_t step = unix_seconds / period;
  if (unix_seconds % period != 0 && unix_seconds < 0) --step;  // floor, not truncation
  return step;
}

Result<std::string> TotpCode(std::string_view secret, int64_t unix_seconds,
                             const TotpParameters& params) {
  TROAD_RETURN_IF_ERROR(params.Validate());
  const int64_t step = TotpStep(unix_seconds, params);
  if (step < 0) {
    return Fail(ErrorCode::kInvalidArgument, "time {} is before 1970: no TOTP step", unix_seconds);
  }
  return HotpCode(secret, static_cast<uint64_t>(step), params);
}

Result<int64_t> VerifyTotp(std::string_view secret, std::string_view code, int64_t unix_seconds,
                           int64_t last_used_step, const TotpParameters& params, int window) {
  TROAD_RETURN_IF_ERROR(params.Validate());
  TROAD_RETURN_IF_ERROR(CheckSecret(secret));
  if (window < 0 || window > kMaxWindow) {
    return Fail(ErrorCode::kInvalidArgument, "TOTP window {} is outside 0 to {} steps", window,
                kMaxWindow);
  }
  TROAD_RETURN_IF_ERROR(CheckCodeFormat(code, params.digits));
  const int64_t now = TotpStep(unix_seconds, params);
  // Every candidate is computed and compared, match or not, so the time taken does not
  // say which step (if any) matched. The earliest unused match wins: it moves
  // last_used_step the least.
  int64_t matched = -1;
  bool matched_used_step = false;
  for (int64_t step = now - window; step <= now + window; ++step) {
    if (step < 0) continue;  // before 1970: no code exists
    TROAD_ASSIGN_OR_RETURN(const std::string expected,
                           HotpCode(secret, static_cast<uint64_t>(step), params));
    const bool match = crypto::ConstantTimeEqual(expected, code);
    if (match && step > last_used_step && matched < 0) matched = step;
    if (match && step <= last_used_step) matched_used_step = true;
  }
  if (matched >= 0) return matched;
  if (matched_used_step) {
    return Fail(ErrorCode::kAlreadyExists,
                "the one-time code was already used; wait for the next one (last used step {})",
                last_used_step);
  }
  return Fail(ErrorCode::kUnauthenticated,
              "the one-time code is wrong or has expired (checked steps {} to {})", now - window,
              now + window);
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret,
                       const TotpParameters& params) {
  std::string uri = "otpauth://totp/";
  if (!issuer.empty()) {
    uri += PercentEncode(issuer);
    uri += ':';
  }
  uri += PercentEncode(account);
  uri += "?secret=";
  uri += Base32Encode(secret);
  if (!issuer.empty()) {
    uri += "&issuer=";
    uri += PercentEncode(issuer);
  }
  uri += fmt::format("&algorithm={}&digits={}&period={}", TotpAlgorithmName(params.algorithm),
                     params.digits, params.period_s);
  return uri;
}

}  // namespace troad::identity
