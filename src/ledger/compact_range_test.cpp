#include "ledger/compact_range.h"

#include <gtest/gtest.h>

#include <bit>

#include "ledger/reference_test_util.h"

namespace troad::ledger {
namespace {

std::vector<std::string> MakeEntries(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("entry " + std::to_string(i));
  return out;
}

TEST(CompactRangeTest, RangeNodesArePerfectAlignedAndCoverTheRangeExactly) {
  for (uint64_t begin = 0; begin <= 80; ++begin) {
    for (uint64_t end = begin; end <= 80; ++end) {
      const std::vector<NodeId> nodes = RangeNodes(begin, end);
      uint64_t next = begin;
      for (const NodeId& id : nodes) {
        ASSERT_EQ(id.begin(), next) << begin << ".." << end;
        ASSERT_EQ(id.begin() % (uint64_t{1} << id.level), 0u);
        next = id.end();
      }
      ASSERT_EQ(next, end) << begin << ".." << end;
      // The fewest: no two neighbours of the same level could merge into their parent.
      for (size_t i = 0; i + 1 < nodes.size(); ++i) {
        const bool siblings = nodes[i].level == nodes[i + 1].level && nodes[i].index % 2 == 0;
        ASSERT_FALSE(siblings) << begin << ".." << end << " node " << i;
      }
    }
  }
}

TEST(CompactRangeTest, RangeNodesFromZeroFollowTheBitsOfTheSize) {
  for (uint64_t n : {uint64_t{1}, uint64_t{6}, uint64_t{7}, uint64_t{8}, uint64_t{10000019},
                     (uint64_t{1} << 62) + 5, ~uint64_t{0}}) {
    const std::vector<NodeId> nodes = RangeNodes(0, n);
    ASSERT_EQ(nodes.size(), static_cast<size_t>(std::popcount(n))) << n;
    uint64_t remaining = n;
    for (const NodeId& id : nodes) {
      EXPECT_EQ(id.level, static_cast<uint64_t>(std::bit_width(remaining) - 1)) << n;
      remaining -= uint64_t{1} << id.level;
    }
  }
  EXPECT_TRUE(RangeNodes(0, 0).empty());
  EXPECT_TRUE(RangeNodes(7, 7).empty());
}

TEST(CompactRangeTest, RootAndCompletedNodesMatchTheReferenceForEverySize) {
  const std::vector<std::string> entries = MakeEntries(130);
  CompactRange range;
  EXPECT_EQ(range.Root(), reference::ToHash(reference::Mth({})));
  for (size_t n = 0; n < entries.size(); ++n) {
    const std::vector<Node> completed = range.Append(LeafHash(entries[n]));
    // The leaf, then one ancestor per trailing one bit of the old size.
    ASSERT_EQ(completed.size(), 1u + static_cast<size_t>(std::countr_one(n))) << n;
    EXPECT_EQ(completed[0].id, (NodeId{0, n}));
    for (size_t j = 0; j < completed.size(); ++j) {
      const Node& node = completed[j];
      EXPECT_EQ(node.id.level, j);
      EXPECT_EQ(node.id.end(), n + 1) << "a completed node ends at the new leaf";
      const std::span<const std::string> under(entries.data() + node.id.begin(),
                                               node.id.end() - node.id.begin());
      ASSERT_EQ(node.hash, reference::ToHash(reference::Mth(under)))
          << "n=" << n << " level=" << node.id.level;
    }
    ASSERT_EQ(range.size(), n + 1);
    ASSERT_EQ(range.hashes().size(), static_cast<size_t>(std::popcount(n + 1)));
    ASSERT_EQ(range.Root(), reference::ToHash(reference::Mth(std::span(entries.data(), n + 1))))
        << "size " << n + 1;
  }
}

TEST(CompactRangeTest, CreateRebuildsARangeFromItsFrontier) {
  const std::vector<std::string> entries = MakeEntries(45);
  CompactRange grown;
  for (const std::string& e : entries) grown.Append(LeafHash(e));
  auto rebuilt = CompactRange::Create(
      grown.size(), std::vector<Hash>(grown.hashes().begin(), grown.hashes().end()));
  ASSERT_TRUE(rebuilt) << rebuilt.error().ToString();
  EXPECT_EQ(*rebuilt, grown);
  // It keeps growing as the original does.
  rebuilt->Append(LeafHash("next"));
  grown.Append(LeafHash("next"));
  EXPECT_EQ(rebuilt->Root(), grown.Root());
}

TEST(CompactRangeTest, CreateRefusesTheWrongNumberOfHashes) {
  auto wrong = CompactRange::Create(45, std::vector<Hash>(2));  // 45 = 101101b: needs 4
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.error().message().find("4 subtree roots, 2 given"), std::string::npos)
      << wrong.error().message();
  EXPECT_TRUE(CompactRange::Create(0, {}));
}

}  // namespace
}  // namespace troad::ledger
