// Compact ranges: the fewest perfect subtrees that cover a range of leaves.
//
// A perfect subtree is 2^level leaves starting at a multiple of 2^level; its root is
// the same in every tree that contains all its leaves, so a store can write it once
// and read it for any later tree size. The leaves [0, n) are covered by one perfect
// subtree per set bit of n, largest (leftmost) first; that list, the "frontier", is
// all an append-only log needs in memory to append a leaf and to compute its root:
// O(log n) hashes, however long the log (transparency-dev/merkle calls it a compact
// range, docs/compact_ranges.md there).
//
// Thread-safety: RangeNodes is pure; a CompactRange is a value (const use from
// several threads is safe, mutation needs one thread at a time).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "ledger/merkle.h"

namespace troad::ledger {

// The perfect subtree over leaves [index·2^level, (index+1)·2^level). Level 0 is one
// leaf, whose hash is the leaf hash.
struct NodeId {
  uint64_t level = 0;
  uint64_t index = 0;

  // First leaf covered. Requires level < 64 and no overflow (true of every node of a
  // tree of at most 2^64 − 1 leaves).
  uint64_t begin() const { return index << level; }
  // One past the last leaf covered (same requirement).
  uint64_t end() const { return (index + 1) << level; }
  bool operator==(const NodeId&) const = default;
};

struct Node {
  NodeId id;
  Hash hash;
  bool operator==(const Node&) const = default;
};

// The perfect subtrees covering [begin, end), left to right: the fewest there are
// (at most 2·64). Requires begin <= end; empty when they are equal.
std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end);

// The frontier of [0, size): the roots of RangeNodes(0, size), left to right.
class CompactRange {
 public:
  CompactRange() = default;  // the empty range [0, 0)

  // The range [0, size) from the hashes of RangeNodes(0, size), left to right (as a
  // store kept them). kInvalidArgument when their number is not popcount(size).
  static Result<CompactRange> Create(uint64_t size, std::vector<Hash> hashes);

  // The number of leaves covered.
  uint64_t size() const { return size_; }
  // The roots of RangeNodes(0, size()), left to right.
  std::span<const Hash> hashes() const { return hashes_; }

  // Appends one leaf hash. Returns the perfect subtrees this append completed, smallest
  // first: the leaf itself (level 0), then each ancestor whose last leaf it was; a store
  // persists them so that any later proof can read them. Requires size() < 2^64 − 1.
  std::vector<Node> Append(const Hash& leaf);

  // The RFC 9162 root of [0, size()): the frontier folded right to left with NodeHash;
  // EmptyRoot() when size() is 0.
  Hash Root() const;

  bool operator==(const CompactRange&) const = default;

 private:
  CompactRange(uint64_t size, std::vector<Hash> hashes) : size_(size), hashes_(std::move(hashes)) {}

  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace troad::ledger
