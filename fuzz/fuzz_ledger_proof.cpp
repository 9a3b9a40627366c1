// Fuzzes the Merkle proof verifiers and proof shapes (ledger/proof.h) with tree sizes,
// indices and hashes decoded from the input. The first byte picks a mode:
//   raw (even): any 64-bit sizes and indices, any hashes. Nothing may crash, overflow
//     or allocate without bound; the proof shapes agree with the proof lengths and
//     are subtrees the store can read; a verifier that accepts was given a proof of
//     the length the sizes call for.
//   tree (odd): a real tree of up to 64 leaves, the honest proof for an index or a pair
//     of sizes, then up to 16 changes read from the input (bits flipped in a hash, the
//     leaf or a root; hashes dropped, inserted or swapped; another index, size or
//     leaf). A verifier must accept exactly when what it is given is the honest proof,
//     leaf and roots for what is claimed (for a one-leaf tree, an empty old tree or
//     two trees of one size, anything consistent with that).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "ledger/proof.h"

namespace {

using troad::ledger::Hash;

constexpr uint64_t kMaxLeaves = 64;

// Reads the input front to back; past its end every read is zero.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return v;
  }
  Hash H() {
    Hash h{};
    for (uint8_t& b : h) b = U8();
    return h;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void CheckShape(const std::vector<troad::ledger::Subtree>& subtrees, uint64_t size) {
  for (const auto& s : subtrees) {
    FUZZ_CHECK(s.begin < s.end && s.end <= size);
    FUZZ_CHECK(s.begin % std::bit_floor(s.end - s.begin) == 0);
  }
}

void Raw(Input& in) {
  using namespace troad::ledger;
  const uint64_t a = in.U64();
  const uint64_t b = in.U64();
  const Hash leaf = in.H();
  const Hash r1 = in.H();
  const Hash r2 = in.H();
  std::vector<Hash> proof(in.U8() % 80);
  for (Hash& h : proof) h = in.H();

  auto inclusion = InclusionProofSubtrees(a, b);
  FUZZ_CHECK(inclusion.has_value() == (a < b));
  if (inclusion) {
    FUZZ_CHECK(inclusion->size() == InclusionProofLength(a, b));
    FUZZ_CHECK(inclusion->size() <= 64);
    CheckShape(*inclusion, b);
  }
  auto consistency = ConsistencyProofSubtrees(a, b);
  FUZZ_CHECK(consistency.has_value() == (a <= b));
  if (consistency) {
    FUZZ_CHECK(consistency->size() == ConsistencyProofLength(a, b));
    FUZZ_CHECK(consistency->size() <= 65);
    CheckShape(*consistency, b);
  }
  const std::vector<NodeId> nodes = RangeNodes(std::min(a, b), std::max(a, b));
  FUZZ_CHECK(nodes.size() <= 128);

  if (VerifyInclusion(a, b, leaf, proof, r1)) {
    FUZZ_CHECK(a < b && proof.size() == InclusionProofLength(a, b));
  }
  if (VerifyConsistency(a, b, proof, r1, r2)) {
    FUZZ_CHECK(a <= b && proof.size() == ConsistencyProofLength(a, b));
  }
}

struct Tree {
  std::vector<Hash> leaves;
  troad::ledger::NodeReader read;

  Tree() {
    for (uint64_t i = 0; i < kMaxLeaves; ++i) {
      leaves.push_back(troad::ledger::LeafHash("leaf " + std::to_string(i)));
    }
    read = troad::ledger::LeafNodeReader(leaves);
  }
  Hash Root(uint64_t n) const {
    return n == 0 ? troad::ledger::EmptyRoot()
                  : troad::ledger::RootFromLeaves(std::span(leaves).first(n));
  }
};

// Changes `proof` as the input asks (op 0–3: flip a bit, drop, insert, swap).
void ChangeProof(Input& in, uint8_t op, std::vector<Hash>& proof) {
  switch (op) {
    case 0:
      if (!proof.empty()) {
        Hash& h = proof[in.U8() % proof.size()];
        h[in.U8() % h.size()] ^= static_cast<uint8_t>(1u << (in.U8() % 8));
      }
      break;
    case 1:
      if (!proof.empty()) proof.erase(proof.begin() + in.U8() % proof.size());
      break;
    case 2: {
      const size_t at = in.U8() % (proof.size() + 1);
      proof.insert(proof.begin() + static_cast<ptrdiff_t>(at), in.H());
      break;
    }
    default:
      if (proof.size() >= 2) {
        std::swap(proof[in.U8() % proof.size()], proof[in.U8() % proof.size()]);
      }
      break;
  }
}

void Flip(Input& in, std::optional<size_t>& bit) { bit = in.U8() % 256; }

Hash Flipped(Hash h, const std::optional<size_t>& bit) {
  if (bit) h[*bit / 8] ^= static_cast<uint8_t>(1u << (*bit % 8));
  return h;
}

void InclusionTree(Input& in, const Tree& tree) {
  using namespace troad::ledger;
  uint64_t size = 1 + in.U8() % kMaxLeaves;
  uint64_t index = in.U8() % size;
  uint64_t leaf_index = index;
  std::vector<Hash> proof = *InclusionProof(index, size, tree.read);
  std::optional<size_t> leaf_flip, root_flip;
  for (int i = 0; i < 16 && !in.done(); ++i) {
    const uint8_t op = in.U8() % 9;
    if (op < 4) {
      ChangeProof(in, op, proof);
    } else if (op == 4) {
      index = in.U8() % kMaxLeaves;
    } else if (op == 5) {
      size = 1 + in.U8() % kMaxLeaves;
    } else if (op == 6) {
      leaf_index = in.U8() % kMaxLeaves;
    } else if (op == 7) {
      Flip(in, leaf_flip);
    } else {
      Flip(in, root_flip);
    }
  }
  const Hash leaf = Flipped(tree.leaves[leaf_index], leaf_flip);
  const Hash root = Flipped(tree.Root(size), root_flip);
  const bool accepted = VerifyInclusion(index, size, leaf, proof, root).has_value();
  bool honest = false;
  if (size == 1) {
    honest = index == 0 && proof.empty() && leaf == root;  // the root is the one leaf
  } else if (index < size) {
    honest = leaf == tree.leaves[index] && root == tree.Root(size) &&
             proof == *InclusionProof(index, size, tree.read);
  }
  FUZZ_CHECK(accepted == honest);
}

void ConsistencyTree(Input& in, const Tree& tree) {
  using namespace troad::ledger;
  uint64_t new_size = 1 + in.U8() % kMaxLeaves;
  uint64_t old_size = in.U8() % (new_size + 1);
  std::vector<Hash> proof = *ConsistencyProof(old_size, new_size, tree.read);
  std::optional<size_t> old_flip, new_flip;
  for (int i = 0; i < 16 && !in.done(); ++i) {
    const uint8_t op = in.U8() % 8;
    if (op < 4) {
      ChangeProof(in, op, proof);
    } else if (op == 4) {
      old_size = in.U8() % (kMaxLeaves + 1);
    } else if (op == 5) {
      new_size = in.U8() % (kMaxLeaves + 1);
    } else if (op == 6) {
      Flip(in, old_flip);
    } else {
      Flip(in, new_flip);
    }
  }
  const Hash old_root = Flipped(tree.Root(old_size), old_flip);
  const Hash new_root = Flipped(tree.Root(new_size), new_flip);
  const bool accepted =
      VerifyConsistency(old_size, new_size, proof, old_root, new_root).has_value();
  bool honest = false;
  if (old_size == 0 && old_size <= new_size) {
    // Every tree extends the empty one, whatever its root.
    honest = proof.empty() && old_root == EmptyRoot();
  } else if (old_size == new_size) {
    honest = proof.empty() && old_root == new_root;  // any tree extends itself
  } else if (old_size < new_size) {
    honest = old_root == tree.Root(old_size) && new_root == tree.Root(new_size) &&
             proof == *ConsistencyProof(old_size, new_size, tree.read);
  }
  FUZZ_CHECK(accepted == honest);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tree tree;
  Input in(data, size);
  const uint8_t mode = in.U8();
  if ((mode & 1) == 0) {
    Raw(in);
  } else if ((mode & 2) == 0) {
    InclusionTree(in, tree);
  } else {
    ConsistencyTree(in, tree);
  }
  return 0;
}
