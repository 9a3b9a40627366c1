#include "ledger/proof.h"

#include <gtest/gtest.h>

#include <random>

#include "core/encoding.h"
#include "ledger/reference_test_util.h"

namespace troad::ledger {
namespace {

Hash FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes && bytes->size() == 32) << hex;
  return reference::ToHash(bytes ? *bytes : std::string());
}

std::vector<Hash> FromHex(std::initializer_list<std::string_view> list) {
  std::vector<Hash> out;
  for (std::string_view h : list) out.push_back(FromHex(h));
  return out;
}

std::string Hex(const Hash& h) { return HexEncode(std::span<const uint8_t>(h)); }

// The published RFC 6962 test tree and proofs: transparency-dev/merkle,
// proof/verify_test.go (`leaves`, `roots`, `inclusionProofs`, `consistencyProofs`;
// there the leaf of an inclusion vector is counted from 1, here from 0). The same
// eight leaves and values appear in google/certificate-transparency's Merkle tree
// tests.
const std::vector<std::string>& PublishedEntries() {
  static const std::vector<std::string> kEntries = {
      "",
      std::string("\x00", 1),
      std::string("\x10", 1),
      std::string("\x20\x21", 2),
      std::string("\x30\x31", 2),
      std::string("\x40\x41\x42\x43", 4),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16)};
  return kEntries;
}

// Roots of the first 1..8 published leaves.
constexpr std::string_view kPublishedRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

struct InclusionVector {
  uint64_t index;
  uint64_t size;
  std::vector<Hash> proof;
};

std::vector<InclusionVector> PublishedInclusionProofs() {
  return {
      {0, 1, {}},
      {0, 8,
       FromHex({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       FromHex({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, FromHex({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       FromHex({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
}

struct ConsistencyVector {
  uint64_t old_size;
  uint64_t new_size;
  std::vector<Hash> proof;
};

std::vector<ConsistencyVector> PublishedConsistencyProofs() {
  return {
      {1, 1, {}},
      {1, 8,
       FromHex({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       FromHex({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       FromHex({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7,
       FromHex({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
}

std::vector<Hash> LeafHashes(const std::vector<std::string>& entries) {
  std::vector<Hash> out;
  for (const std::string& e : entries) out.push_back(LeafHash(e));
  return out;
}

std::vector<std::string> MakeEntries(size_t n, std::string_view prefix = "entry ") {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::string(prefix) + std::to_string(i));
  return out;
}

// Every perfect subtree of `leaves`, computed once: levels[l][i] is node (l, i).
class NodeTable {
 public:
  explicit NodeTable(std::vector<Hash> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() >= 2) {
      const std::vector<Hash>& below = levels_.back();
      std::vector<Hash> level;
      for (size_t i = 0; i + 1 < below.size(); i += 2) {
        level.push_back(NodeHash(below[i], below[i + 1]));
      }
      levels_.push_back(std::move(level));
    }
  }
  NodeReader Reader() const {
    return [this](const NodeId& id) -> Result<Hash> {
      if (id.level >= levels_.size() || id.index >= levels_[id.level].size()) {
        return Fail(ErrorCode::kNotFound, "no node ({}, {})", id.level, id.index);
      }
      return levels_[id.level][id.index];
    };
  }

 private:
  std::vector<std::vector<Hash>> levels_;
};

Hash Flip(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

TEST(ProofTest, PublishedRootsForEveryPrefix) {
  const auto& entries = PublishedEntries();
  const std::vector<Hash> leaves = LeafHashes(entries);
  for (size_t n = 1; n <= 8; ++n) {
    auto root = SubtreeRoot(0, n, LeafNodeReader(leaves));
    ASSERT_TRUE(root) << root.error().ToString();
    EXPECT_EQ(Hex(*root), kPublishedRoots[n - 1]) << "n=" << n;
    EXPECT_EQ(Hex(reference::ToHash(reference::Mth(std::span(entries.data(), n)))),
              kPublishedRoots[n - 1])
        << "reference, n=" << n;
  }
  EXPECT_EQ(Hex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ProofTest, PublishedInclusionProofsAreGeneratedAndVerify) {
  const auto& entries = PublishedEntries();
  const std::vector<Hash> leaves = LeafHashes(entries);
  for (const InclusionVector& v : PublishedInclusionProofs()) {
    SCOPED_TRACE(::testing::Message() << "leaf " << v.index << " of " << v.size);
    auto proof = InclusionProof(v.index, v.size, LeafNodeReader(leaves));
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(*proof, v.proof);
    EXPECT_EQ(reference::ToHashes(reference::Path(v.index, std::span(entries.data(), v.size))),
              v.proof);
    const Hash root = FromHex(kPublishedRoots[v.size - 1]);
    Status ok = VerifyInclusion(v.index, v.size, leaves[v.index], v.proof, root);
    EXPECT_TRUE(ok) << ok.error().ToString();
  }
}

TEST(ProofTest, PublishedConsistencyProofsAreGeneratedAndVerify) {
  const auto& entries = PublishedEntries();
  const std::vector<Hash> leaves = LeafHashes(entries);
  for (const ConsistencyVector& v : PublishedConsistencyProofs()) {
    SCOPED_TRACE(::testing::Message() << v.old_size << " -> " << v.new_size);
    auto proof = ConsistencyProof(v.old_size, v.new_size, LeafNodeReader(leaves));
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(*proof, v.proof);
    if (v.old_size < v.new_size) {
      EXPECT_EQ(
          reference::ToHashes(reference::Proof(v.old_size, std::span(entries.data(), v.new_size))),
          v.proof);
    }
    Status ok =
        VerifyConsistency(v.old_size, v.new_size, v.proof, FromHex(kPublishedRoots[v.old_size - 1]),
                          FromHex(kPublishedRoots[v.new_size - 1]));
    EXPECT_TRUE(ok) << ok.error().ToString();
  }
}

// The probes of transparency-dev/merkle's verifierCheck: wrong index, wrong size,
// wrong leaf or root, hashes added, removed or changed.
TEST(ProofTest, PublishedInclusionProofsRejectEveryCorruption) {
  const std::vector<Hash> leaves = LeafHashes(PublishedEntries());
  const Hash some = FromHex("abacaba000000000000000000000000000000000000000000060061e00123456");
  for (const InclusionVector& v : PublishedInclusionProofs()) {
    SCOPED_TRACE(::testing::Message() << "leaf " << v.index << " of " << v.size);
    const Hash root = FromHex(kPublishedRoots[v.size - 1]);
    const Hash& leaf = leaves[v.index];
    auto rejects = [](Status s) { return !s; };
    EXPECT_TRUE(rejects(VerifyInclusion(v.index - 1, v.size, leaf, v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index + 1, v.size, leaf, v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index ^ 2, v.size, leaf, v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size * 2, leaf, v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size / 2, leaf, v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, LeafHash("WrongLeaf"), v.proof, root)));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, v.proof, EmptyRoot())));
    EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, v.proof, some)));
    for (const Hash& extra : {Hash{}, root}) {
      std::vector<Hash> longer = v.proof;
      longer.push_back(extra);
      EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, longer, root)));
      std::vector<Hash> preceded = v.proof;
      preceded.insert(preceded.begin(), extra);
      EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, preceded, root)));
    }
    if (!v.proof.empty()) {
      std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
      EXPECT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, shorter, root)));
    }
    for (size_t i = 0; i < v.proof.size(); ++i) {
      for (size_t bit = 0; bit < 256; ++bit) {
        std::vector<Hash> flipped = v.proof;
        flipped[i] = Flip(flipped[i], bit);
        ASSERT_TRUE(rejects(VerifyInclusion(v.index, v.size, leaf, flipped, root)))
            << "hash " << i << " bit " << bit;
      }
    }
  }
}

TEST(ProofTest, PublishedConsistencyProofsRejectEveryCorruption) {
  for (const ConsistencyVector& v : PublishedConsistencyProofs()) {
    if (v.proof.empty()) continue;
    SCOPED_TRACE(::testing::Message() << v.old_size << " -> " << v.new_size);
    const Hash root1 = FromHex(kPublishedRoots[v.old_size - 1]);
    const Hash root2 = FromHex(kPublishedRoots[v.new_size - 1]);
    const uint64_t m = v.old_size;
    const uint64_t n = v.new_size;
    auto rejects = [](Status s) { return !s; };
    EXPECT_TRUE(rejects(VerifyConsistency(m - 1, n, v.proof, root1, root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m + 1, n, v.proof, root1, root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m ^ 2, n, v.proof, root1, root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n * 2, v.proof, root1, root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n / 2, v.proof, root1, root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n, v.proof, LeafHash("WrongRoot"), root2)));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n, v.proof, root1, LeafHash("WrongRoot"))));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n, v.proof, root2, root1)));
    EXPECT_TRUE(rejects(VerifyConsistency(m, n, {}, root1, root2)));
    for (const Hash& extra : {Hash{}, root1, root2, v.proof[0]}) {
      std::vector<Hash> longer = v.proof;
      longer.push_back(extra);
      EXPECT_TRUE(rejects(VerifyConsistency(m, n, longer, root1, root2)));
      std::vector<Hash> preceded = v.proof;
      preceded.insert(preceded.begin(), extra);
      EXPECT_TRUE(rejects(VerifyConsistency(m, n, preceded, root1, root2)));
    }
    std::vector<Hash> shorter(v.proof.begin(), v.proof.end() - 1);
    EXPECT_TRUE(rejects(VerifyConsistency(m, n, shorter, root1, root2)));
    for (size_t i = 0; i < v.proof.size(); ++i) {
      for (size_t bit = 0; bit < 256; ++bit) {
        std::vector<Hash> flipped = v.proof;
        flipped[i] = Flip(flipped[i], bit);
        ASSERT_TRUE(rejects(VerifyConsistency(m, n, flipped, root1, root2)))
            << "hash " << i << " bit " << bit;
      }
    }
  }
}

TEST(ProofTest, InclusionProofsMatchTheReferenceForEveryLeafOfEverySizeUpTo130) {
  const std::vector<std::string> entries = MakeEntries(130);
  const NodeTable table(LeafHashes(entries));
  const NodeReader read = table.Reader();
  for (uint64_t n = 1; n <= entries.size(); ++n) {
    const std::span<const std::string> tree(entries.data(), n);
    const Hash root = reference::ToHash(reference::Mth(tree));
    auto computed_root = SubtreeRoot(0, n, read);
    ASSERT_TRUE(computed_root) << computed_root.error().ToString();
    ASSERT_EQ(*computed_root, root) << "n=" << n;
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(i, n, read);
      ASSERT_TRUE(proof) << proof.error().ToString();
      ASSERT_EQ(*proof, reference::ToHashes(reference::Path(i, tree))) << "i=" << i << " n=" << n;
      ASSERT_EQ(proof->size(), InclusionProofLength(i, n));
      Status ok = VerifyInclusion(i, n, LeafHash(entries[i]), *proof, root);
      ASSERT_TRUE(ok) << ok.error().ToString();
    }
  }
}

TEST(ProofTest, ConsistencyProofsMatchTheReferenceForEveryPairOfSizesUpTo130) {
  const std::vector<std::string> entries = MakeEntries(130);
  const NodeTable table(LeafHashes(entries));
  const NodeReader read = table.Reader();
  std::vector<Hash> roots;  // roots[n] = root of the first n entries
  for (uint64_t n = 0; n <= entries.size(); ++n) {
    roots.push_back(reference::ToHash(reference::Mth(std::span(entries.data(), n))));
  }
  for (uint64_t n = 0; n <= entries.size(); ++n) {
    const std::span<const std::string> tree(entries.data(), n);
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, read);
      ASSERT_TRUE(proof) << proof.error().ToString();
      const std::vector<Hash> expected =
          (m == 0 || m == n) ? std::vector<Hash>{} : reference::ToHashes(reference::Proof(m, tree));
      ASSERT_EQ(*proof, expected) << "m=" << m << " n=" << n;
      ASSERT_EQ(proof->size(), ConsistencyProofLength(m, n));
      Status ok = VerifyConsistency(m, n, *proof, roots[m], roots[n]);
      ASSERT_TRUE(ok) << "m=" << m << " n=" << n << ": " << ok.error().ToString();
    }
  }
}

TEST(ProofTest, ProofsOfRandomLargerTreesMatchTheReference) {
  std::mt19937_64 rng(20260101);
  const std::vector<std::string> entries = MakeEntries(3000, "large ");
  const NodeTable table(LeafHashes(entries));
  const NodeReader read = table.Reader();
  for (int round = 0; round < 40; ++round) {
    const uint64_t n = 131 + rng() % (entries.size() - 130);
    const uint64_t i = rng() % n;
    const uint64_t m = 1 + rng() % n;
    const std::span<const std::string> tree(entries.data(), n);
    const Hash root = reference::ToHash(reference::Mth(tree));
    auto inclusion = InclusionProof(i, n, read);
    ASSERT_TRUE(inclusion) << inclusion.error().ToString();
    ASSERT_EQ(*inclusion, reference::ToHashes(reference::Path(i, tree))) << i << "/" << n;
    ASSERT_TRUE(VerifyInclusion(i, n, LeafHash(entries[i]), *inclusion, root));
    auto consistency = ConsistencyProof(m, n, read);
    ASSERT_TRUE(consistency) << consistency.error().ToString();
    if (m < n) {
      ASSERT_EQ(*consistency, reference::ToHashes(reference::Proof(m, tree))) << m << "/" << n;
    }
    const Hash old_root = reference::ToHash(reference::Mth(std::span(entries.data(), m)));
    ASSERT_TRUE(VerifyConsistency(m, n, *consistency, old_root, root));
  }
}

TEST(ProofTest, EverySingleBitFlipIsRejected) {
  const std::vector<std::string> entries = MakeEntries(17);
  const std::vector<Hash> leaves = LeafHashes(entries);
  const NodeTable table(leaves);
  const NodeReader read = table.Reader();
  std::vector<Hash> roots{EmptyRoot()};
  for (uint64_t n = 1; n <= entries.size(); ++n) roots.push_back(*SubtreeRoot(0, n, read));
  for (uint64_t n = 1; n <= entries.size(); ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = *InclusionProof(i, n, read);
      for (size_t h = 0; h < proof.size(); ++h) {
        for (size_t bit = 0; bit < 256; ++bit) {
          std::vector<Hash> flipped = proof;
          flipped[h] = Flip(flipped[h], bit);
          Status s = VerifyInclusion(i, n, leaves[i], flipped, roots[n]);
          ASSERT_FALSE(s) << "inclusion " << i << "/" << n << " hash " << h << " bit " << bit;
          ASSERT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
        }
      }
      for (size_t bit = 0; bit < 256; bit += 7) {
        ASSERT_FALSE(VerifyInclusion(i, n, Flip(leaves[i], bit), proof, roots[n]));
        ASSERT_FALSE(VerifyInclusion(i, n, leaves[i], proof, Flip(roots[n], bit)));
      }
    }
    for (uint64_t m = 1; m < n; ++m) {
      const std::vector<Hash> proof = *ConsistencyProof(m, n, read);
      for (size_t h = 0; h < proof.size(); ++h) {
        for (size_t bit = 0; bit < 256; ++bit) {
          std::vector<Hash> flipped = proof;
          flipped[h] = Flip(flipped[h], bit);
          Status s = VerifyConsistency(m, n, flipped, roots[m], roots[n]);
          ASSERT_FALSE(s) << "consistency " << m << "->" << n << " hash " << h << " bit " << bit;
          ASSERT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
        }
      }
      for (size_t bit = 0; bit < 256; bit += 7) {
        ASSERT_FALSE(VerifyConsistency(m, n, proof, Flip(roots[m], bit), roots[n]));
        ASSERT_FALSE(VerifyConsistency(m, n, proof, roots[m], Flip(roots[n], bit)));
      }
    }
  }
}

TEST(ProofTest, ProofsAreRejectedForAnyOtherIndexOrSize) {
  const std::vector<std::string> entries = MakeEntries(40);
  const std::vector<Hash> leaves = LeafHashes(entries);
  const NodeTable table(leaves);
  const NodeReader read = table.Reader();
  std::vector<Hash> roots{EmptyRoot()};
  for (uint64_t n = 1; n <= entries.size(); ++n) roots.push_back(*SubtreeRoot(0, n, read));
  for (uint64_t n = 1; n <= entries.size(); ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = *InclusionProof(i, n, read);
      for (uint64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        ASSERT_FALSE(VerifyInclusion(j, n, leaves[i], proof, roots[n]))
            << i << "/" << n << " as " << j;
        ASSERT_FALSE(VerifyInclusion(j, n, leaves[j], proof, roots[n]))
            << i << "/" << n << " as " << j;
      }
      // Against the root of the size claimed: a tree head binds its size.
      for (uint64_t other = i + 1; other <= entries.size(); ++other) {
        if (other == n) continue;
        ASSERT_FALSE(VerifyInclusion(i, other, leaves[i], proof, roots[other]))
            << i << "/" << n << " as size " << other;
      }
    }
    for (uint64_t m = 1; m < n; ++m) {
      const std::vector<Hash> proof = *ConsistencyProof(m, n, read);
      for (uint64_t other = 1; other <= entries.size(); ++other) {
        if (other != m && other <= n) {
          ASSERT_FALSE(VerifyConsistency(other, n, proof, roots[other], roots[n]))
              << m << "->" << n << " as old size " << other;
        }
        if (other != n && other >= m) {
          ASSERT_FALSE(VerifyConsistency(m, other, proof, roots[m], roots[other]))
              << m << "->" << n << " as new size " << other;
        }
      }
    }
  }
}

TEST(ProofTest, VerifiersSayWhichCheckFailed) {
  const std::vector<Hash> leaves = LeafHashes(PublishedEntries());
  const Hash root8 = FromHex(kPublishedRoots[7]);
  const Hash root6 = FromHex(kPublishedRoots[5]);
  const InclusionVector v = PublishedInclusionProofs()[2];  // leaf 5 of 8

  Status s = VerifyInclusion(8, 8, leaves[5], v.proof, root8);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(), "leaf index 8 is not below tree size 8");

  s = VerifyInclusion(5, 8, leaves[5], std::span(v.proof).first(2), root8);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(),
            "inclusion proof of leaf 5 in a tree of 8 leaves has 2 hashes, expected 3");

  s = VerifyInclusion(5, 8, leaves[4], v.proof, root8);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(s.error().message().find("not to the expected root " + Hex(root8)), std::string::npos)
      << s.error().message();

  const ConsistencyVector c = PublishedConsistencyProofs()[2];  // 6 -> 8
  s = VerifyConsistency(8, 6, c.proof, root8, root6);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(),
            "old tree size 8 is larger than new tree size 6: a log cannot shrink");

  s = VerifyConsistency(6, 8, std::span(c.proof).first(1), root6, root8);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(), "consistency proof from 6 to 8 leaves has 1 hashes, expected 3");

  s = VerifyConsistency(6, 8, c.proof, FromHex(kPublishedRoots[4]), root8);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(s.error().message().find("expected old root"), std::string::npos)
      << s.error().message();

  s = VerifyConsistency(6, 8, c.proof, root6, FromHex(kPublishedRoots[6]));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(s.error().message().find("expected new root"), std::string::npos)
      << s.error().message();
}

TEST(ProofTest, TrivialConsistencyCases) {
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  // The empty tree is extended by every tree, with an empty proof.
  EXPECT_TRUE(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()));
  EXPECT_TRUE(VerifyConsistency(0, 5, {}, EmptyRoot(), b));
  Status s = VerifyConsistency(0, 5, {}, a, b);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(VerifyConsistency(0, 5, std::vector<Hash>{a}, EmptyRoot(), b));
  // A tree of the same size only by itself.
  EXPECT_TRUE(VerifyConsistency(3, 3, {}, a, a));
  s = VerifyConsistency(3, 3, {}, a, b);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(VerifyConsistency(3, 3, std::vector<Hash>{a}, a, a));
  // Time does not run backwards, and a growing tree needs a proof.
  EXPECT_FALSE(VerifyConsistency(1, 0, {}, a, b));
  EXPECT_FALSE(VerifyConsistency(1, 2, {}, a, b));
  EXPECT_TRUE(ConsistencyProofSubtrees(5, 5)->empty());
  EXPECT_TRUE(ConsistencyProofSubtrees(0, 5)->empty());
  EXPECT_FALSE(ConsistencyProofSubtrees(6, 5));
  EXPECT_FALSE(InclusionProofSubtrees(5, 5));
}

TEST(ProofTest, SubtreeRootAndLeafReaderRefuseWhatIsNotThere) {
  const std::vector<Hash> leaves = LeafHashes(MakeEntries(6));
  const NodeReader read = LeafNodeReader(leaves);
  EXPECT_FALSE(SubtreeRoot(3, 3, read));
  auto unaligned = SubtreeRoot(1, 4, read);  // 3 leaves starting at 1: no RFC subtree
  ASSERT_FALSE(unaligned);
  EXPECT_EQ(unaligned.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(SubtreeRoot(4, 6, read));
  EXPECT_TRUE(SubtreeRoot(4, 5, read));
  auto beyond = SubtreeRoot(4, 8, read);  // node (2, 1) needs leaves 4..7
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(read(NodeId{3, 0}));
  EXPECT_FALSE(read(NodeId{0, 6}));
  EXPECT_FALSE(read(NodeId{64, 0}));
  EXPECT_TRUE(read(NodeId{2, 0}));
  // A reader's own error is passed on unchanged.
  NodeReader failing = [](const NodeId&) -> Result<Hash> {
    return Fail(ErrorCode::kIo, "disk on fire");
  };
  auto failed = InclusionProof(3, 6, failing);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kIo);
  EXPECT_EQ(failed.error().message(), "disk on fire");
}

TEST(ProofTest, TheLargestSizesDoNotOverflow) {
  const uint64_t max = ~uint64_t{0};
  EXPECT_EQ(InclusionProofLength(max - 1, max), 63u);  // 2^64 - 1 = 2^63 + 2^62 + … + 1
  EXPECT_EQ(InclusionProofLength(0, max), 64u);
  EXPECT_EQ(InclusionProofLength(0, uint64_t{1} << 63), 63u);
  EXPECT_EQ(ConsistencyProofLength(max - 1, max), ConsistencyProofSubtrees(max - 1, max)->size());
  EXPECT_EQ(ConsistencyProofLength(1, max), ConsistencyProofSubtrees(1, max)->size());
  const NodeReader constant = [](const NodeId& id) -> Result<Hash> {
    EXPECT_LT(id.level, 64u);
    return LeafHash("x");
  };
  for (uint64_t index : {uint64_t{0}, max / 3, max - 2, max - 1}) {
    auto subtrees = InclusionProofSubtrees(index, max);
    ASSERT_TRUE(subtrees);
    EXPECT_EQ(subtrees->size(), InclusionProofLength(index, max));
    auto proof = InclusionProof(index, max, constant);
    ASSERT_TRUE(proof) << proof.error().ToString();
    Status s = VerifyInclusion(index, max, LeafHash("y"), *proof, EmptyRoot());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  }
  for (uint64_t old_size : {uint64_t{1}, uint64_t{1} << 63, max / 3, max - 1}) {
    auto proof = ConsistencyProof(old_size, max, constant);
    ASSERT_TRUE(proof) << proof.error().ToString();
    Status s = VerifyConsistency(old_size, max, *proof, EmptyRoot(), EmptyRoot());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace troad::ledger
