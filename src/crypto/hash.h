// SHA-256 and SHA-512, one-shot and incremental (OpenSSL EVP).
// Thread-safety: functions are pure; a Hasher object is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace troad::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Sha512Digest = std::array<uint8_t, 64>;

Sha256Digest Sha256(std::string_view data);
Sha512Digest Sha512(std::string_view data);
// SHA-256 of `data` as 64 lower-case hex digits: how bearer tokens, session cookies,
// codes and secrets are stored, so that a copy of a database holds none usable.
std::string Sha256Hex(std::string_view data);

inline std::string_view DigestView(std::span<const uint8_t> d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Incremental hashing: hash while reading.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  void Update(std::string_view data);
  Sha256Digest Final();  // the hasher may not be updated afterwards
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Sha512Hasher {
 public:
  Sha512Hasher();
  ~Sha512Hasher();
  Sha512Hasher(Sha512Hasher&&) noexcept;
  Sha512Hasher& operator=(Sha512Hasher&&) noexcept;
  void Update(std::string_view data);
  Sha512Digest Final();
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison of two byte strings of equal length (false if lengths differ).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace troad::crypto
