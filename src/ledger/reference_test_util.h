// Test-only: a naive RFC 9162 Merkle tree written straight from the RFC text — MTH
// (§2.1.1), PATH (§2.1.3.1), PROOF and SUBPROOF (§2.1.4.1) — recursive, over the
// entries themselves, hashing with crypto::Sha256 of concatenated bytes. It shares no
// code with troad_ledger, so the fast code is checked against something independent.
// Not part of troad_ledger.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "ledger/merkle.h"

namespace troad::ledger::reference {

using Entries = std::span<const std::string>;

inline std::string Sha256(std::string_view bytes) {
  return std::string(crypto::DigestView(crypto::Sha256(bytes)));
}

// "the largest power of two smaller than n" (n > 1).
inline uint64_t K(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]).
inline std::string Mth(Entries d) {
  const uint64_t n = d.size();
  if (n == 0) return Sha256("");
  if (n == 1) return Sha256(std::string(1, '\x00') + d[0]);
  const uint64_t k = K(n);
  return Sha256(std::string(1, '\x01') + Mth(d.subspan(0, k)) + Mth(d.subspan(k)));
}

// PATH(m, D[n]).
inline std::vector<std::string> Path(uint64_t m, Entries d) {
  const uint64_t n = d.size();
  if (n == 1) return {};
  const uint64_t k = K(n);
  std::vector<std::string> out;
  if (m < k) {
    out = Path(m, d.subspan(0, k));
    out.push_back(Mth(d.subspan(k)));
  } else {
    out = Path(m - k, d.subspan(k));
    out.push_back(Mth(d.subspan(0, k)));
  }
  return out;
}

// SUBPROOF(m, D[n], b).
inline std::vector<std::string> Subproof(uint64_t m, Entries d, bool b) {
  const uint64_t n = d.size();
  if (m == n) {
    if (b) return {};
    return {Mth(d)};
  }
  const uint64_t k = K(n);
  std::vector<std::string> out;
  if (m <= k) {
    out = Subproof(m, d.subspan(0, k), b);
    out.push_back(Mth(d.subspan(k)));
  } else {
    out = Subproof(m - k, d.subspan(k), false);
    out.push_back(Mth(d.subspan(0, k)));
  }
  return out;
}

// PROOF(m, D[n]) for 0 < m < n.
inline std::vector<std::string> Proof(uint64_t m, Entries d) { return Subproof(m, d, true); }

inline Hash ToHash(const std::string& bytes) {
  Hash h{};
  std::memcpy(h.data(), bytes.data(), std::min(bytes.size(), h.size()));
  return h;
}

inline std::vector<Hash> ToHashes(const std::vector<std::string>& list) {
  std::vector<Hash> out;
  for (const std::string& s : list) out.push_back(ToHash(s));
  return out;
}

}  // namespace troad::ledger::reference
