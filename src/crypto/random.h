// Cryptographically secure randomness (OpenSSL RAND_bytes) and random identifiers.
// Thread-safety: thread-safe.
#pragma once

#include <string>

namespace troad::crypto {

// `n` random bytes. Aborts if the system RNG fails (nothing sensible can go on).
std::string RandomBytes(size_t n);
// A random (version 4) UUID in lower-case 8-4-4-4-12 form.
std::string NewUuid();

}  // namespace troad::crypto
