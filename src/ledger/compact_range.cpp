#include "ledger/compact_range.h"

#include <algorithm>
#include <bit>

namespace troad::ledger {

std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end) {
  std::vector<NodeId> out;
  while (begin < end) {
    // The largest subtree that starts at `begin` (aligned) and does not pass `end`.
    const int aligned = begin == 0 ? 63 : std::countr_zero(begin);
    const int fits = std::bit_width(end - begin) - 1;
    const auto level = static_cast<uint64_t>(std::min(aligned, fits));
    out.push_back(NodeId{level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return out;
}

Result<CompactRange> CompactRange::Create(uint64_t size, std::vector<Hash> hashes) {
  const auto expected = static_cast<size_t>(std::popcount(size));
  if (hashes.size() != expected) {
    return Fail(ErrorCode::kInvalidArgument,
                "a compact range of {} leaves has {} subtree roots, {} given", size, expected,
                hashes.size());
  }
  return CompactRange(size, std::move(hashes));
}

std::vector<Node> CompactRange::Append(const Hash& leaf) {
  std::vector<Node> completed;
  NodeId id{0, size_};
  Hash hash = leaf;
  completed.push_back(Node{id, hash});
  // Each trailing one bit of the old size is a subtree the same size as the one just
  // completed, immediately to its left: they merge into their parent.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    hash = NodeHash(hashes_.back(), hash);
    hashes_.pop_back();
    id = NodeId{id.level + 1, id.index >> 1};
    completed.push_back(Node{id, hash});
  }
  hashes_.push_back(hash);
  ++size_;
  return completed;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) root = NodeHash(hashes_[i], root);
  return root;
}

}  // namespace troad::ledger
