#include "crypto/password.h"

#include <argon2.h>

#include <charconv>
#include <cstring>

#include "core/encoding.h"
#include "crypto/random.h"

namespace troad::crypto {
namespace {

constexpr std::string_view kPrefix = "$argon2id$v=19$";

// A stored hash taken apart.
struct Phc {
  PasswordParams params;
  std::string salt;
  std::string hash;
};

Status CheckParams(const PasswordParams& p, std::string_view what) {
  if (p.parallelism < 1 || p.parallelism > kPasswordMaxParallelism) {
    return Fail(ErrorCode::kInvalidArgument, "{}: parallelism {} is not within 1..{}", what,
                p.parallelism, kPasswordMaxParallelism);
  }
  if (p.iterations < 1 || p.iterations > kPasswordMaxIterations) {
    return Fail(ErrorCode::kInvalidArgument, "{}: iterations {} is not within 1..{}", what,
                p.iterations, kPasswordMaxIterations);
  }
  const uint32_t min_memory = 8 * p.parallelism;  // Argon2: two blocks per lane and slice
  if (p.memory_kib < min_memory || p.memory_kib > kPasswordMaxMemoryKib) {
    return Fail(ErrorCode::kInvalidArgument, "{}: memory {} KiB is not within {}..{} KiB", what,
                p.memory_kib, min_memory, kPasswordMaxMemoryKib);
  }
  return Ok();
}

// Reads "<name>=<decimal>" followed by `end` from the front of `text`.
Result<uint32_t> ReadParam(std::string_view& text, char name, char end) {
  if (text.size() < 2 || text[0] != name || text[1] != '=') {
    return Fail(ErrorCode::kInvalidArgument, "password hash: expected parameter '{}='", name);
  }
  text.remove_prefix(2);
  const size_t stop = text.find(end);
  const std::string_view digits = text.substr(0, stop);
  uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (stop == std::string_view::npos || digits.empty() || ec != std::errc() ||
      ptr != digits.data() + digits.size() || (digits.size() > 1 && digits[0] == '0')) {
    return Fail(ErrorCode::kInvalidArgument,
                "password hash: parameter '{}' is not a decimal number below 2^32 followed by "
                "'{}'",
                name, end);
  }
  text.remove_prefix(stop + 1);
  return value;
}

// PHC strings use standard base64 without padding.
Result<std::string> DecodeB64(std::string_view text, std::string_view what, size_t min,
                              size_t max) {
  if (text.find('=') != std::string_view::npos || text.size() % 4 == 1) {
    return Fail(ErrorCode::kInvalidArgument, "password hash: {} is not unpadded base64", what);
  }
  std::string padded(text);
  padded.append((4 - text.size() % 4) % 4, '=');
  auto bytes = Base64Decode(padded);
  if (!bytes) {
    return Fail(ErrorCode::kInvalidArgument, "password hash: {} is not unpadded base64 ({})", what,
                bytes.error().message());
  }
  if (bytes->size() < min || bytes->size() > max) {
    return Fail(ErrorCode::kInvalidArgument, "password hash: {} of {} bytes is not within {}..{}",
                what, bytes->size(), min, max);
  }
  return bytes;
}

Result<Phc> ParsePhc(std::string_view text) {
  if (!text.starts_with(kPrefix)) {
    if (text.starts_with("$argon2i$") || text.starts_with("$argon2d$")) {
      return Fail(ErrorCode::kInvalidArgument, "password hash: only Argon2id is accepted, not {}",
                  text.substr(1, text.find('$', 1) - 1));
    }
    if (text.starts_with("$argon2id$")) {
      return Fail(ErrorCode::kInvalidArgument,
                  "password hash: only Argon2 version 19 ('$v=19$') is accepted");
    }
    return Fail(
        ErrorCode::kInvalidArgument,
        "password hash: not an Argon2id PHC string ('$argon2id$v=19$m=…,t=…,p=…$salt$hash')");
  }
  text.remove_prefix(kPrefix.size());
  Phc phc;
  TROAD_ASSIGN_OR_RETURN(phc.params.memory_kib, ReadParam(text, 'm', ','));
  TROAD_ASSIGN_OR_RETURN(phc.params.iterations, ReadParam(text, 't', ','));
  TROAD_ASSIGN_OR_RETURN(phc.params.parallelism, ReadParam(text, 'p', '$'));
  TROAD_RETURN_IF_ERROR(CheckParams(phc.params, "password hash"));
  const size_t dollar = text.find('$');
  if (dollar == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "password hash: no '$' between salt and hash");
  }
  TROAD_ASSIGN_OR_RETURN(phc.salt, DecodeB64(text.substr(0, dollar), "salt", kPasswordMinSaltBytes,
                                             kPasswordMaxSaltBytes));
  TROAD_ASSIGN_OR_RETURN(phc.hash, DecodeB64(text.substr(dollar + 1), "hash", kPasswordMinHashBytes,
                                             kPasswordMaxHashBytes));
  return phc;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  TROAD_RETURN_IF_ERROR(CheckParams(params, "password hashing parameters"));
  const std::string salt = RandomBytes(kPasswordSaltBytes);
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                        kPasswordSaltBytes, kPasswordHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kPasswordHashBytes, encoded.data(), encoded.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Fail(ErrorCode::kResourceExhausted, "hashing a password: {}", argon2_error_message(rc));
  }
  if (rc != ARGON2_OK) {
    return Fail(ErrorCode::kInternal, "hashing a password: {}", argon2_error_message(rc));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

Result<bool> VerifyPassword(std::string_view password, std::string_view encoded) {
  TROAD_RETURN_IF_ERROR(ParsePhc(encoded));  // bounds first: the row is input
  const std::string terminated(encoded);
  const int rc = argon2_verify(terminated.c_str(), password.data(), password.size(), Argon2_id);
  switch (rc) {
    case ARGON2_OK:
      return true;
    case ARGON2_VERIFY_MISMATCH:
      return false;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
      return Fail(ErrorCode::kResourceExhausted, "verifying a password: {}",
                  argon2_error_message(rc));
    default:
      return Fail(ErrorCode::kInvalidArgument, "password hash: {}", argon2_error_message(rc));
  }
}

bool NeedsRehash(std::string_view encoded, const PasswordParams& params) {
  auto phc = ParsePhc(encoded);
  return !phc || phc->params.memory_kib != params.memory_kib ||
         phc->params.iterations != params.iterations ||
         phc->params.parallelism != params.parallelism || phc->salt.size() != kPasswordSaltBytes ||
         phc->hash.size() != kPasswordHashBytes;
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() > kPasswordMaxBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the password is longer than {} bytes",
                kPasswordMaxBytes);
  }
  if (!IsValidUtf8(password)) {
    return Fail(ErrorCode::kInvalidArgument, "the password is not valid UTF-8 text");
  }
  size_t characters = 0;
  for (char c : password) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;  // not a continuation
  }
  if (characters < kPasswordMinCharacters) {
    return Fail(ErrorCode::kInvalidArgument, "the password has {} characters; it needs at least {}",
                characters, kPasswordMinCharacters);
  }
  return Ok();
}

}  // namespace troad::crypto
