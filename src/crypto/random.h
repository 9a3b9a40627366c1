// Cryptographically secure randomness (OpenSSL RAND_bytes) and random identifiers.
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace troad::crypto {

// `n` random bytes. Aborts if the system RNG fails (nothing sensible can go on).
//
// Requests of up to 64 bytes are served from a per-thread pool of RAND_bytes output
// refilled 4 KiB at a time: each RAND_bytes call costs a getpid() system call (its
// fork check) and a lock, and the exchange path asks for two ids per message. The
// pool is dropped in a child after fork(), so parent and child never share bytes.
// Use it for identifiers, nonces and serial numbers; keys are made by OpenSSL itself.
std::string RandomBytes(size_t n);
// A secret token: 256 random bits, base64url without padding (43 characters). For
// bearer tokens, session cookies, authorization codes, client secrets.
std::string NewSecretToken();
// A random (version 4) UUID in lower-case 8-4-4-4-12 form.
std::string NewUuid();
// A time-ordered (version 7, RFC 9562 §5.7) UUID: 48 bits of Unix time in
// milliseconds `unix_ms`, then 74 random bits. Ids made later sort later (to the
// millisecond), so an index on them grows at its end instead of at random pages.
std::string NewTimeOrderedUuid(int64_t unix_ms);

}  // namespace troad::crypto
