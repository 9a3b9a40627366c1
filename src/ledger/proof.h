// RFC 9162 inclusion (§2.1.3) and consistency (§2.1.4) proofs: generation from any
// source of perfect-subtree hashes (a store, or leaf hashes in memory) and pure
// verification.
//
// A proof is a list of subtree roots. Every subtree of an RFC 9162 tree is a range
// [begin, end) whose root is a fold of the perfect subtrees it decomposes into
// (compact_range.h), so a proof needs O(log n) perfect-subtree reads for any tree
// size, not only the current one.
//
// Verifiers answer kInvalidArgument when the question is malformed (an index not
// below the size, an old size above the new one, a proof of the wrong length for
// those sizes) and kUnauthenticated when the proof is well formed but does not lead
// to the root it was checked against. Either way, the message says which check failed.
//
// Thread-safety: pure functions; a NodeReader is called from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/result.h"
#include "ledger/compact_range.h"
#include "ledger/merkle.h"

namespace troad::ledger {

// Returns the root of a perfect subtree; an error (kNotFound, kDataLoss, kIo, …) is
// passed on to the caller of the proof function unchanged.
using NodeReader = std::function<Result<Hash>(const NodeId&)>;

// Reads nodes by hashing the 2^level leaf hashes under them: O(2^level) per node, for
// tests and small trees. kInvalidArgument for a node beyond the leaves. `leaves`
// must outlive the reader.
NodeReader LeafNodeReader(std::span<const Hash> leaves);

// A range [begin, end) of leaves whose root a proof contains.
struct Subtree {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const Subtree&) const = default;
};

// MTH(D[begin:end]): the RFC 9162 root of leaves [begin, end), read as the perfect
// subtrees of RangeNodes(begin, end). Requires begin < end and begin a multiple of
// bit_floor(end − begin) — true of every subtree of a tree that starts at leaf 0 —
// else kInvalidArgument.
Result<Hash> SubtreeRoot(uint64_t begin, uint64_t end, const NodeReader& read);

// The roots of `subtrees`, each as SubtreeRoot computes it.
Result<std::vector<Hash>> SubtreeRoots(std::span<const Subtree> subtrees, const NodeReader& read);

// The perfect subtrees SubtreeRoots reads for `subtrees`, each once: a store can fetch
// them all in one query first. Requires the subtrees' preconditions of SubtreeRoot.
std::vector<NodeId> NodesToRead(std::span<const Subtree> subtrees);

// The subtrees whose roots form the inclusion proof of leaf `index` in the tree of
// `size` leaves, in proof order (RFC 9162 §2.1.3.1, lowest first). kInvalidArgument
// when index >= size.
Result<std::vector<Subtree>> InclusionProofSubtrees(uint64_t index, uint64_t size);

// The subtrees whose roots form the consistency proof from the tree of `old_size`
// leaves to the tree of `new_size` leaves (RFC 9162 §2.1.4.1), in proof order. Empty
// when old_size is 0 or old_size == new_size. kInvalidArgument when old_size > new_size.
Result<std::vector<Subtree>> ConsistencyProofSubtrees(uint64_t old_size, uint64_t new_size);

// The number of hashes in those proofs (no allocation). Requires index < size, and
// old_size <= new_size respectively; 0 otherwise.
size_t InclusionProofLength(uint64_t index, uint64_t size);
size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size);

// The inclusion proof of leaf `index` in the tree of `size` leaves, from `read`.
// Errors: as InclusionProofSubtrees, or the reader's.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read);

// The consistency proof from `old_size` to `new_size` leaves, from `read`. Errors: as
// ConsistencyProofSubtrees, or the reader's.
Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const NodeReader& read);

// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is
// `root` (RFC 9162 §2.1.3.2). kInvalidArgument: index >= size, or the proof does not
// have InclusionProofLength(index, size) hashes. kUnauthenticated: the proof leads to
// another root.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);

// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
// `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2). The empty tree (whose
// root is EmptyRoot()) is extended by every tree, and a tree of the same size only
// by itself; both take an empty proof. kInvalidArgument: old_size > new_size, or the
// proof does not have ConsistencyProofLength(old_size, new_size) hashes.
// kUnauthenticated: the proof does not lead to old_root (for old_size) or to
// new_root (for new_size), or the roots of two trees of the same size differ.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, std::span<const Hash> proof,
                         const Hash& old_root, const Hash& new_root);

}  // namespace troad::ledger
