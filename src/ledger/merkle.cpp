#include "ledger/merkle.h"

#include <array>
#include <bit>
#include <cstring>

namespace troad::ledger {
namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

void Proof(std::span<const Hash> leaves, uint64_t index, std::vector<Hash>& out) {
  if (leaves.size() <= 1) return;
  uint64_t k = SplitPoint(leaves.size());
  if (index < k) {
    Proof(leaves.subspan(0, k), index, out);
    out.push_back(RootFromLeaves(leaves.subspan(k)));
  } else {
    Proof(leaves.subspan(k), index - k, out);
    out.push_back(RootFromLeaves(leaves.subspan(0, k)));
  }
}

}  // namespace

Hash LeafHash(std::string_view entry) {
  crypto::Sha256Hasher h;
  h.Update(std::string_view("\x00", 1));
  h.Update(entry);
  return h.Final();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // One-shot over a stack buffer: proofs and appends hash many nodes, and an
  // incremental hasher costs an allocation each.
  std::array<char, 1 + 2 * sizeof(Hash)> input;
  input[0] = '\x01';
  std::memcpy(input.data() + 1, left.data(), left.size());
  std::memcpy(input.data() + 1 + left.size(), right.data(), right.size());
  return crypto::Sha256(std::string_view(input.data(), input.size()));
}

Hash EmptyRoot() { return crypto::Sha256(std::string_view()); }

Hash RootFromLeaves(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  uint64_t k = SplitPoint(leaves.size());
  return NodeHash(RootFromLeaves(leaves.subspan(0, k)), RootFromLeaves(leaves.subspan(k)));
}

std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index) {
  std::vector<Hash> out;
  Proof(leaves, index, out);
  return out;
}

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return Fail(ErrorCode::kInvalidArgument, "leaf index {} is not below tree size {}", index,
                size);
  }
  // RFC 9162 §2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return Fail(ErrorCode::kInvalidArgument, "inclusion proof is longer than the tree allows");
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Fail(ErrorCode::kInvalidArgument, "inclusion proof is shorter than the tree needs");
  }
  return r;
}

MerkleTree::MerkleTree(std::vector<Hash> leaves) {
  levels_.push_back(std::move(leaves));
  while (levels_.back().size() > 1) {
    const std::vector<Hash>& below = levels_.back();
    std::vector<Hash> level;
    level.reserve((below.size() + 1) / 2);
    for (size_t i = 0; i + 1 < below.size(); i += 2)
      level.push_back(NodeHash(below[i], below[i + 1]));
    if (below.size() % 2 == 1) level.push_back(below.back());
    levels_.push_back(std::move(level));
  }
}

std::vector<Hash> MerkleTree::Proof(uint64_t index) const {
  std::vector<Hash> proof;
  for (size_t l = 0; l + 1 < levels_.size(); ++l) {
    const std::vector<Hash>& level = levels_[l];
    uint64_t sibling = index ^ 1;
    if (sibling < level.size()) proof.push_back(level[sibling]);
    index >>= 1;
  }
  return proof;
}

}  // namespace troad::ledger
