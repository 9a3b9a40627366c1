// Password hashing with Argon2id (RFC 9106) through libargon2, stored as the PHC
// string format that the reference implementation and its `argon2` CLI write:
//
//   $argon2id$v=19$m=<memory KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>
//
// salt and hash in standard base64 without padding. We write a 16-byte random salt
// and a 32-byte hash; we accept stored strings within the kPassword* bounds below so
// that a tampered row cannot make a verification allocate gigabytes or loop for
// hours. Only Argon2id version 19 (1.3) is accepted.
//
// Thread-safety: pure functions, safe from any thread. Each hash or verification takes
// `memory_kib` of memory and, with the defaults, some tens of milliseconds of CPU:
// keep it off an event loop thread that serves other requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad::crypto {

// The defaults are OWASP's first Argon2id recommendation (19 MiB, 2 passes, 1 lane).
struct PasswordParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

inline constexpr size_t kPasswordSaltBytes = 16;
inline constexpr size_t kPasswordHashBytes = 32;

// Bounds on hashes we verify (and parameters we hash with).
inline constexpr uint32_t kPasswordMaxMemoryKib = 1024 * 1024;  // 1 GiB
inline constexpr uint32_t kPasswordMaxIterations = 64;
inline constexpr uint32_t kPasswordMaxParallelism = 16;
inline constexpr size_t kPasswordMinSaltBytes = 8;
inline constexpr size_t kPasswordMaxSaltBytes = 64;
inline constexpr size_t kPasswordMinHashBytes = 16;
inline constexpr size_t kPasswordMaxHashBytes = 64;

// The policy of CheckPasswordPolicy.
inline constexpr size_t kPasswordMinCharacters = 12;  // Unicode code points
inline constexpr size_t kPasswordMaxBytes = 1024;

// Hashes `password` with a fresh random salt. kInvalidArgument when `params` are
// outside the bounds above (memory must also be at least 8 KiB per lane). Does not
// apply the password policy: call CheckPasswordPolicy for new passwords.
Result<std::string> HashPassword(std::string_view password, const PasswordParams& params = {});

// Whether `password` matches the PHC string `encoded` (constant-time comparison
// inside argon2_verify). kInvalidArgument, saying what is wrong, when `encoded` is
// not an Argon2id v19 PHC string within the bounds; kResourceExhausted when the
// memory for the verification cannot be allocated.
Result<bool> VerifyPassword(std::string_view password, std::string_view encoded);

// True when `encoded` was not made with exactly `params` and our salt and hash
// lengths (or cannot be parsed), i.e. when a successful login should store a new hash.
bool NeedsRehash(std::string_view encoded, const PasswordParams& params = {});

// The rules for a new password: valid UTF-8, at least kPasswordMinCharacters
// characters, at most kPasswordMaxBytes bytes. kInvalidArgument with a message
// meant for the person choosing it.
Status CheckPasswordPolicy(std::string_view password);

}  // namespace troad::crypto
