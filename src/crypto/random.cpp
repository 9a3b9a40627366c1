#include "crypto/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstring>

#include "core/encoding.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

void Fill(char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    // RAND_bytes takes an int length; larger requests are served in pieces.
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out + done), chunk) != 1) {
      internal::Die("RAND_bytes failed: the system random number generator is unusable");
    }
    done += static_cast<size_t>(chunk);
  }
}

// Bumped in the child of every fork(): a pool filled before the fork must not be
// used by both processes.
std::atomic<uint64_t> fork_generation{0};

void AfterForkInChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

[[maybe_unused]] const bool kAtForkRegistered = [] {
  return pthread_atfork(nullptr, nullptr, &AfterForkInChild) == 0;
}();

constexpr size_t kPoolBytes = 4096;
constexpr size_t kPooledMax = 64;

struct Pool {
  std::array<char, kPoolBytes> bytes;
  size_t used = kPoolBytes;  // empty until first use
  uint64_t generation = 0;

  void Take(char* out, size_t n) {
    const uint64_t now = fork_generation.load(std::memory_order_relaxed);
    if (generation != now || kPoolBytes - used < n) {
      Fill(bytes.data(), bytes.size());
      used = 0;
      generation = now;
    }
    std::memcpy(out, bytes.data() + used, n);
    // Bytes handed out are wiped from the pool so that a later memory dump cannot
    // tie them to what was given out next.
    std::memset(bytes.data() + used, 0, n);
    used += n;
  }
};

// 8-4-4-4-12 lower-case hex.
std::string FormatUuid(const std::string& b) {
  std::string hex = HexEncode(b);
  for (size_t at : {8, 13, 18, 23}) hex.insert(at, 1, '-');
  return hex;
}

// RFC 9562 §5.4 / §5.7: version in the high nibble of byte 6, variant 10xx in byte 8.
void SetVersionAndVariant(std::string& b, uint8_t version) {
  b[6] = static_cast<char>((static_cast<uint8_t>(b[6]) & 0x0f) | (version << 4));
  b[8] = static_cast<char>((static_cast<uint8_t>(b[8]) & 0x3f) | 0x80);
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n <= kPooledMax) {
    thread_local Pool pool;
    pool.Take(out.data(), n);
  } else {
    Fill(out.data(), n);
  }
  return out;
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  SetVersionAndVariant(b, 4);
  return FormatUuid(b);
}

std::string NewTimeOrderedUuid(int64_t unix_ms) {
  std::string b = RandomBytes(16);
  const auto ms = static_cast<uint64_t>(std::max<int64_t>(unix_ms, 0));
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  SetVersionAndVariant(b, 7);
  return FormatUuid(b);
}

std::string NewSecretToken() { return Base64UrlEncode(RandomBytes(32)); }

}  // namespace troad::crypto
