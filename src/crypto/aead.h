// AES-256-GCM (NIST SP 800-38D) for personal data at rest, and a ring of keys so that the
// key can be replaced without losing what the old one sealed.
//
// A sealed value is   "tr1" ‖ len(kid) (1 byte) ‖ kid ‖ nonce (12 bytes, random) ‖
//                     ciphertext ‖ tag (16 bytes)
// with the associated data bound in the tag (e.g. the row's id, so that a sealed value
// cannot be moved to another row). 96-bit random nonces are safe for up to 2^32 values
// per key (SP 800-38D §8.3); rotate long before that.
//
// The key file holds one key per line, "<kid> <base64 of 32 bytes>", the first line the
// current key (it seals); every line opens. Rotation: put a new line first, restart;
// drop an old line only when nothing sealed with it is kept any more. '#' starts a
// comment. The file must be readable by its owner only.
//
// Thread-safety: a KeyRing is immutable after Load; Seal and Open may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad::crypto {

// 32-byte key, random 12-byte nonce: nonce ‖ ciphertext ‖ tag.
Result<std::string> Aes256GcmSeal(std::string_view key, std::string_view plaintext,
                                  std::string_view aad);
// kUnauthenticated when the tag does not verify (changed data, another key or aad);
// kInvalidArgument when too short.
Result<std::string> Aes256GcmOpen(std::string_view key, std::string_view sealed,
                                  std::string_view aad);

class KeyRing {
 public:
  // kInvalidArgument naming the line: a kid that is not 1–32 letters, digits, '-' or
  // '_', a key that is not base64 of 32 bytes, a repeated kid, no key at all. kIo when
  // the file cannot be read; kPermissionDenied when others may read it.
  static Result<KeyRing> Load(const std::string& file);
  static Result<KeyRing> Parse(std::string_view text, std::string_view name);
  // A new key file's text with one fresh random key named `kid`.
  static std::string NewKeyFileText(std::string_view kid);

  const std::string& current_kid() const { return keys_.front().first; }
  Result<std::string> Seal(std::string_view plaintext, std::string_view aad) const;
  // kNotFound for a kid not in the ring (its key was dropped), kUnauthenticated for a
  // value that does not open, kInvalidArgument for one that is not a sealed value.
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  std::vector<std::pair<std::string, std::string>> keys_;  // kid, key; first is current
};

}  // namespace troad::crypto
