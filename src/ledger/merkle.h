// RFC 9162 (Certificate Transparency v2) Merkle tree hashing for in-memory trees:
// leaf hash SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right), the
// tree of n leaves split at the largest power of two below n (RFC 9162 §2.1.1),
// inclusion proofs (§2.1.3) and their verification.
//
// Gateways use it for batch signatures (one signature over the root of many message
// hashes, each message carrying its inclusion path); the ledger builds on the same
// functions: proof.h (proofs from any node store, consistency proofs, verification
// against a root), compact_range.h, checkpoint.h and the storage-backed log.h.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "crypto/hash.h"

namespace troad::ledger {

using Hash = crypto::Sha256Digest;

// SHA-256(0x00 ‖ entry).
Hash LeafHash(std::string_view entry);
// SHA-256(0x01 ‖ left ‖ right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree, MTH({}) = SHA-256 of nothing (RFC 9162 §2.1.1).
Hash EmptyRoot();

// Root of the tree over `leaves` (leaf hashes). Requires !leaves.empty().
Hash RootFromLeaves(std::span<const Hash> leaves);

// The inclusion proof of leaf `index` in the tree over `leaves`.
// Requires index < leaves.size().
std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index);

// Computes the root implied by `leaf` at `index` of a tree of `size` leaves and
// `proof` (RFC 9162 §2.1.3.2). kInvalidArgument when index >= size or the proof has
// the wrong length for that position.
Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf,
                                    std::span<const Hash> proof);

// A whole tree built once, bottom up, so that every leaf's proof costs O(log n)
// (the recursive InclusionProof above costs O(n) per leaf). Used to sign a batch.
// Same tree shape as RFC 9162: an unpaired last node moves up a level unchanged.
class MerkleTree {
 public:
  // Requires !leaves.empty().
  explicit MerkleTree(std::vector<Hash> leaves);
  const Hash& root() const { return levels_.back()[0]; }
  uint64_t size() const { return levels_[0].size(); }
  // Requires index < size().
  std::vector<Hash> Proof(uint64_t index) const;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[0] = leaves, back() = {root}
};

}  // namespace troad::ledger
