#include "crypto/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "crypto/openssl_util.h"

namespace troad::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    // RAND_bytes takes an int length; larger requests are served in pieces.
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1) {
      internal::Die("RAND_bytes failed: the system random number generator is unusable");
    }
    done += static_cast<size_t>(chunk);
  }
  return out;
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  // RFC 9562 §5.4: version 4 in the high nibble of byte 6, variant 10xx in byte 8.
  b[6] = static_cast<char>((static_cast<uint8_t>(b[6]) & 0x0f) | 0x40);
  b[8] = static_cast<char>((static_cast<uint8_t>(b[8]) & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto v = static_cast<uint8_t>(b[i]);
    out += kHex[v >> 4];
    out += kHex[v & 0x0f];
  }
  return out;
}

}  // namespace troad::crypto
