#include "ledger/proof.h"

#include <algorithm>
#include <bit>

#include "core/encoding.h"

namespace troad::ledger {
namespace {

// Largest power of two strictly less than n (n >= 2): where RFC 9162 splits a tree.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::string Hex(const Hash& h) { return HexEncode(std::span<const uint8_t>(h)); }

}  // namespace

NodeReader LeafNodeReader(std::span<const Hash> leaves) {
  return [leaves](const NodeId& id) -> Result<Hash> {
    const uint64_t n = leaves.size();
    if (id.level >= 64 || (uint64_t{1} << id.level) > n || id.index >= n >> id.level) {
      return Fail(ErrorCode::kInvalidArgument,
                  "node (level {}, index {}) is not within the {} leaves", id.level, id.index, n);
    }
    return RootFromLeaves(leaves.subspan(id.begin(), uint64_t{1} << id.level));
  };
}

Result<Hash> SubtreeRoot(uint64_t begin, uint64_t end, const NodeReader& read) {
  if (begin >= end) {
    return Fail(ErrorCode::kInvalidArgument, "subtree [{}, {}) is empty", begin, end);
  }
  if (begin % std::bit_floor(end - begin) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "[{}, {}) is not a subtree of an RFC 9162 tree (it starts at a leaf that is "
                "not a multiple of {})",
                begin, end, std::bit_floor(end - begin));
  }
  // An aligned range decomposes into perfect subtrees of decreasing size, and the RFC
  // 9162 split of such a range falls exactly after the first one: fold right to left.
  const std::vector<NodeId> nodes = RangeNodes(begin, end);
  TROAD_ASSIGN_OR_RETURN(Hash root, read(nodes.back()));
  for (size_t i = nodes.size() - 1; i-- > 0;) {
    TROAD_ASSIGN_OR_RETURN(Hash left, read(nodes[i]));
    root = NodeHash(left, root);
  }
  return root;
}

Result<std::vector<Hash>> SubtreeRoots(std::span<const Subtree> subtrees, const NodeReader& read) {
  std::vector<Hash> out;
  out.reserve(subtrees.size());
  for (const Subtree& s : subtrees) {
    TROAD_ASSIGN_OR_RETURN(Hash root, SubtreeRoot(s.begin, s.end, read));
    out.push_back(root);
  }
  return out;
}

std::vector<NodeId> NodesToRead(std::span<const Subtree> subtrees) {
  std::vector<NodeId> out;
  for (const Subtree& s : subtrees) {
    for (const NodeId& id : RangeNodes(s.begin, s.end)) out.push_back(id);
  }
  return out;
}

Result<std::vector<Subtree>> InclusionProofSubtrees(uint64_t index, uint64_t size) {
  if (index >= size) {
    return Fail(ErrorCode::kInvalidArgument, "leaf index {} is not below tree size {}", index,
                size);
  }
  // RFC 9162 §2.1.3.1 PATH(m, D[n]), unrolled: descend towards the leaf, collecting
  // the sibling at each split; the proof lists them from the leaf up.
  std::vector<Subtree> out;
  uint64_t begin = 0;
  uint64_t end = size;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    if (index - begin < k) {
      out.push_back(Subtree{begin + k, end});
      end = begin + k;
    } else {
      out.push_back(Subtree{begin, begin + k});
      begin += k;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<Subtree>> ConsistencyProofSubtrees(uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return Fail(ErrorCode::kInvalidArgument, "old tree size {} is larger than new tree size {}",
                old_size, new_size);
  }
  std::vector<Subtree> out;
  if (old_size == 0 || old_size == new_size) return out;
  // RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), unrolled: descend while the old tree is not
  // a whole subtree, collecting the sibling at each split (added after the subproof).
  uint64_t m = old_size;
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool whole_old_tree = true;  // b: the subtree reached is the old tree itself
  while (m != end - begin) {
    const uint64_t k = SplitPoint(end - begin);
    if (m <= k) {
      out.push_back(Subtree{begin + k, end});
      end = begin + k;
    } else {
      out.push_back(Subtree{begin, begin + k});
      m -= k;
      begin += k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) out.push_back(Subtree{begin, end});
  std::reverse(out.begin(), out.end());
  return out;
}

size_t InclusionProofLength(uint64_t index, uint64_t size) {
  if (index >= size) return 0;
  size_t length = 0;
  for (uint64_t n = size; n > 1; ++length) {
    const uint64_t k = SplitPoint(n);
    if (index < k) {
      n = k;
    } else {
      index -= k;
      n -= k;
    }
  }
  return length;
}

size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size) {
  if (old_size == 0 || old_size >= new_size) return 0;
  size_t length = 0;
  bool whole_old_tree = true;
  for (uint64_t m = old_size, n = new_size; m != n; ++length) {
    const uint64_t k = SplitPoint(n);
    if (m <= k) {
      n = k;
    } else {
      m -= k;
      n -= k;
      whole_old_tree = false;
    }
  }
  return whole_old_tree ? length : length + 1;
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read) {
  TROAD_ASSIGN_OR_RETURN(std::vector<Subtree> subtrees, InclusionProofSubtrees(index, size));
  return SubtreeRoots(subtrees, read);
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const NodeReader& read) {
  TROAD_ASSIGN_OR_RETURN(std::vector<Subtree> subtrees,
                         ConsistencyProofSubtrees(old_size, new_size));
  return SubtreeRoots(subtrees, read);
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  if (index >= size) {
    return Fail(ErrorCode::kInvalidArgument, "leaf index {} is not below tree size {}", index,
                size);
  }
  const size_t expected = InclusionProofLength(index, size);
  if (proof.size() != expected) {
    return Fail(ErrorCode::kInvalidArgument,
                "inclusion proof of leaf {} in a tree of {} leaves has {} hashes, expected {}",
                index, size, proof.size(), expected);
  }
  TROAD_ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return Fail(ErrorCode::kUnauthenticated,
                "inclusion proof of leaf {} in a tree of {} leaves leads to root {}, not to the "
                "expected root {}",
                index, size, Hex(computed), Hex(root));
  }
  return Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, std::span<const Hash> proof,
                         const Hash& old_root, const Hash& new_root) {
  if (old_size > new_size) {
    return Fail(ErrorCode::kInvalidArgument,
                "old tree size {} is larger than new tree size {}: a log cannot shrink", old_size,
                new_size);
  }
  const size_t expected = ConsistencyProofLength(old_size, new_size);
  if (proof.size() != expected) {
    return Fail(ErrorCode::kInvalidArgument,
                "consistency proof from {} to {} leaves has {} hashes, expected {}", old_size,
                new_size, proof.size(), expected);
  }
  if (old_size == 0) {
    if (old_root != EmptyRoot()) {
      return Fail(ErrorCode::kUnauthenticated,
                  "old root {} for tree size 0 is not the root of the empty tree", Hex(old_root));
    }
    return Ok();
  }
  if (old_size == new_size) {
    if (old_root != new_root) {
      return Fail(ErrorCode::kUnauthenticated,
                  "two different roots for the same tree size {}: old {}, new {}", old_size,
                  Hex(old_root), Hex(new_root));
    }
    return Ok();
  }
  // RFC 9162 §2.1.4.2. When the old tree is a perfect subtree its root is not in the
  // proof (the verifier has it); start from it instead of proof[0].
  size_t next = 0;
  Hash fr = std::has_single_bit(old_size) ? old_root : proof[next++];
  Hash sr = fr;
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "consistency proof from {} to {} leaves has more hashes than the trees need",
                  old_size, new_size);
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "consistency proof from {} to {} leaves has fewer hashes than the trees need",
                old_size, new_size);
  }
  if (fr != old_root) {
    return Fail(ErrorCode::kUnauthenticated,
                "consistency proof from {} to {} leaves leads to old root {}, not to the "
                "expected old root {}",
                old_size, new_size, Hex(fr), Hex(old_root));
  }
  if (sr != new_root) {
    return Fail(ErrorCode::kUnauthenticated,
                "consistency proof from {} to {} leaves leads to new root {}, not to the "
                "expected new root {}",
                old_size, new_size, Hex(sr), Hex(new_root));
  }
  return Ok();
}

}  // namespace troad::ledger
