#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace troad::ledger {
namespace {

std::string Hex(const Hash& h) { return HexEncode(std::span<const uint8_t>(h)); }

// The eight leaves of the RFC 6962 test tree (transparency-dev/merkle testonly).
std::vector<Hash> TestLeaves(size_t n) {
  static const std::vector<std::string> kEntries = {
      "",
      std::string("\x00", 1),
      std::string("\x10", 1),
      std::string("\x20\x21", 2),
      std::string("\x30\x31", 2),
      std::string("\x40\x41\x42\x43", 4),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16)};
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash(kEntries[i]));
  return out;
}

TEST(MerkleTest, MatchesRfc6962RootsForEveryPrefix) {
  // Published roots of the first n leaves (transparency-dev/merkle testonly/constants.go).
  const char* kRoots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                          "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                          "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                          "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                          "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                          "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                          "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  for (size_t n = 1; n <= 8; ++n) {
    auto leaves = TestLeaves(n);
    EXPECT_EQ(Hex(RootFromLeaves(leaves)), kRoots[n - 1]) << "n=" << n;
  }
}

TEST(MerkleTest, InclusionProofsVerifyForEveryLeafAndSize) {
  for (size_t n = 1; n <= 33; ++n) {
    std::vector<Hash> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash(std::to_string(i)));
    Hash root = RootFromLeaves(leaves);
    for (size_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(leaves, i);
      auto computed = RootFromInclusionProof(i, n, leaves[i], proof);
      ASSERT_TRUE(computed) << computed.error().ToString();
      EXPECT_EQ(*computed, root) << "n=" << n << " i=" << i;
      // A proof for another leaf, or a tampered proof, gives another root.
      Hash other = LeafHash("not in the tree");
      auto wrong = RootFromInclusionProof(i, n, other, proof);
      ASSERT_TRUE(wrong);
      EXPECT_NE(*wrong, root);
    }
  }
}

TEST(MerkleTest, BottomUpTreeMatchesTheRecursiveDefinition) {
  for (size_t n = 1; n <= 70; ++n) {
    std::vector<Hash> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash("entry " + std::to_string(i)));
    MerkleTree tree(leaves);
    ASSERT_EQ(tree.root(), RootFromLeaves(leaves)) << "n=" << n;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(tree.Proof(i), InclusionProof(leaves, i)) << "n=" << n << " i=" << i;
    }
  }
}

TEST(MerkleTest, RefusesProofsOfTheWrongShape) {
  std::vector<Hash> leaves = TestLeaves(5);
  auto proof = InclusionProof(leaves, 2);
  EXPECT_FALSE(RootFromInclusionProof(5, 5, leaves[2], proof));
  auto longer = proof;
  longer.push_back(leaves[0]);
  EXPECT_FALSE(RootFromInclusionProof(2, 5, leaves[2], longer));
  auto shorter = proof;
  shorter.pop_back();
  EXPECT_FALSE(RootFromInclusionProof(2, 5, leaves[2], shorter));
}

}  // namespace
}  // namespace troad::ledger
