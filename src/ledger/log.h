// A storage-backed, append-only RFC 9162 transparency log on a store::Database.
//
// Each entry is stored with its leaf hash, and the perfect subtrees an append
// completes are stored in the same transaction as the entries that completed them
// (those whose level is a multiple of kTileHeight; the others are hashed from the
// ones below when needed). So any root, inclusion proof or consistency proof, for the
// current size or any earlier one, reads O(log n) rows (proof.h), and opening the log
// reads only what its frontier needs (compact_range.h), never all the leaves: memory
// stays flat however long the log grows.
//
// Schema (portable SQL, applied by store::Migrate; the database is the log's own,
// since its schema_migrations table records the ledger's migrations):
//
//   ledger_entry (
//     idx       INTEGER PRIMARY KEY,  leaf index: 0, 1, 2, … without gaps
//     chunk     INTEGER NOT NULL,     idx >> kLeafChunkBits
//     leaf_key  INTEGER NOT NULL,     the first 8 bytes of leaf_hash, big-endian, as a
//                                     signed integer
//     leaf_hash BLOB NOT NULL,        LeafHash(entry), 32 bytes
//     entry     BLOB NOT NULL)        the entry's bytes, at most kMaxEntryBytes
//   index ledger_entry_leaf_key on (chunk, leaf_key), for LeafIndex
//   ledger_node (
//     id    INTEGER PRIMARY KEY,      NodeStorageId: level·2^56 + idx
//     level INTEGER NOT NULL,         the perfect subtree over leaves [idx·2^level,
//     idx   INTEGER NOT NULL,         (idx+1)·2^level); level is 4, 8, 12, …
//     hash  BLOB NOT NULL)            its root, 32 bytes
//   ledger_extra_migrations (         (migration 2) the caller's own migrations
//     version    INTEGER PRIMARY KEY, kFirstExtraMigration, +1, … without gaps
//     name       TEXT NOT NULL,
//     applied_at TEXT NOT NULL)       RFC 3339
//
// A caller may keep tables of its own in the log's database (the central's ledger
// service keeps its per-gateway sequence numbers there): Open applies its migrations,
// numbered from kFirstExtraMigration, and AppendBatch runs its writes in the append's
// transaction, so that its rows and the entries commit or roll back together.
// store::Migrate records versions 1, 2, 3, … without gaps in schema_migrations, which
// holds the log's own; the caller's are recorded the same way in their own table.
//
// Tiles (as in C2SP tlog-tiles, with height 4). Level-0 nodes are the leaf hashes of
// ledger_entry. A node at level 4k + r (r < 4) is hashed from the 2^r nodes under it
// at level 4k, which lie in one "tile" of kTileWidth (16) adjacent rows: adjacent
// idx in ledger_entry, adjacent id in ledger_node, since ids put a level's nodes
// together. A proof reads each tile it needs with one range scan, several tiles to a
// statement: about one tile per four levels of the tree, where a row per level would
// cost a random page read each. Storing one level in four also writes a fifteenth of
// the node rows. The upper levels' few tiles share a handful of pages, which stay in
// the database's cache.
//
// Why the leaf-hash index leads with `chunk`: an index on the hash alone takes each
// append's keys at random places, so at scale every entry dirties a page of its own
// (4 KiB written to the WAL and again at the checkpoint): measured, that kept appends
// under 30,000 entries/s on the way to 10^6 entries. With `chunk` first, a batch's
// keys fall into the few pages of the current chunk. The price is on lookups: one
// index seek per chunk (611 at 10^7 entries), all in one statement.
//
// Everything read back is checked (lengths, positions, an entry against its leaf
// hash); a row that does not fit is kDataLoss naming the table and row. A row changed
// behind the log's back that still fits changes the proofs the log serves, and those
// then fail verification against a checkpoint signed before the change.
//
// Thread-safety: like the Database it owns, a Log is used from one thread at a time.
// One writer per database: AppendBatch refuses to write when another writer has
// appended since this Log read the state.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ledger/compact_range.h"
#include "ledger/merkle.h"
#include "ledger/proof.h"
#include "store/database.h"
#include "store/migrate.h"

namespace troad::ledger {

inline constexpr size_t kMaxEntryBytes = size_t{1} << 20;
inline constexpr size_t kMaxEntriesPerRead = 1000;
// ledger_node holds the subtrees whose level is a positive multiple of kTileHeight.
inline constexpr uint64_t kTileHeight = 4;
inline constexpr uint64_t kTileWidth = uint64_t{1} << kTileHeight;  // nodes per tile
// ledger_entry.chunk = idx >> kLeafChunkBits: entries per chunk of the leaf-hash index.
inline constexpr int kLeafChunkBits = 14;
// The most entries a log holds: every node's level·2^56 + idx stays below 2^63 (an
// SQL INTEGER), and indices below 2^63.
inline constexpr uint64_t kMaxLogSize = uint64_t{1} << 57;

// The version of a caller's first extra migration (Log::Open); the next are +1, +2, ….
inline constexpr int kFirstExtraMigration = 1000;

// ledger_node.id of the node (level, index): level·2^56 + index. Requires the node's
// leaves to be below kMaxLogSize (so level <= 57 and index < 2^56 for level >= 1).
int64_t NodeStorageId(const NodeId& id);

struct LogEntry {
  uint64_t index = 0;
  Hash leaf_hash{};
  std::string bytes;
  bool operator==(const LogEntry&) const = default;
};

// Writes of a caller's own rows in an append's transaction: called with the log's
// database and the index of the batch's first entry, after the entries are written and
// before the commit. An error rolls the whole append back and is passed on.
using AppendHook = std::function<Status(store::Database& db, uint64_t first_index)>;

class Log {
 public:
  // Applies the ledger's migrations to `db`, then the caller's `extra_migrations`
  // (versions kFirstExtraMigration, +1, … without gaps), and recovers the tree state
  // from its frontier nodes. With no extra migrations the caller's tables are left
  // alone (a reader that does not know them may open the log); a caller that passes
  // some must pass every one the database has applied. Errors: the migration's
  // (kInternal for a list that is not numbered so; kFailedPrecondition when the
  // database has applied more extra migrations than the list holds), kIo from the
  // database, kDataLoss when a frontier node is missing or malformed.
  static Result<std::unique_ptr<Log>> Open(std::unique_ptr<store::Database> db, const Clock& clock,
                                           std::span<const store::Migration> extra_migrations = {});

  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // The number of entries.
  uint64_t Size() const { return range_.size(); }
  // The root at the current size, from memory (EmptyRoot() when empty).
  Hash Root() const { return range_.Root(); }
  // The frontier at the current size.
  const CompactRange& Frontier() const { return range_; }

  // Appends `entries` in one transaction (entries, completed subtrees and whatever
  // `in_transaction` writes) and returns the index of the first one; the log and the
  // database are unchanged when it fails. An empty batch writes nothing, does not call
  // `in_transaction` and returns Size(). kInvalidArgument: an entry is longer than
  // kMaxEntryBytes. kResourceExhausted: the log would pass kMaxLogSize.
  // kFailedPrecondition: a transaction is already open on the database (the log could
  // not know whether its writes are kept), or another writer appended (reopen).
  // Database errors and the hook's are passed on.
  Result<uint64_t> AppendBatch(std::span<const std::string> entries,
                               const AppendHook& in_transaction = {});

  // The log's database: for reads, and for the caller's own tables (written through
  // AppendBatch's hook, so that they commit with the entries). Never write the log's
  // own tables, and leave no transaction open (AppendBatch refuses to run in one).
  store::Database& database() { return *db_; }

  // The root of the first `size` leaves, for any size <= Size(): O(log n) reads.
  // kInvalidArgument when size > Size().
  Result<Hash> Root(uint64_t size);

  // The inclusion proof of leaf `index` in the tree of `size` leaves: O(log n) reads.
  // kInvalidArgument unless index < size <= Size().
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size);

  // The consistency proof from `old_size` to `new_size` leaves: O(log n) reads.
  // kInvalidArgument unless old_size <= new_size <= Size().
  Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size);

  // Entries [begin, min(end, begin + limit, begin + kMaxEntriesPerRead)), in order, each
  // checked against its stored leaf hash (kDataLoss when they differ).
  // kInvalidArgument unless begin <= end <= Size().
  Result<std::vector<LogEntry>> Entries(uint64_t begin, uint64_t end,
                                        size_t limit = kMaxEntriesPerRead);

  // The lowest index whose leaf hash is `leaf_hash`: one index seek per 2^kLeafChunkBits
  // entries, in one statement. kNotFound when no entry of the log has it.
  Result<uint64_t> LeafIndex(const Hash& leaf_hash);

  // The root of a perfect subtree that lies within the log: from memory when it is on
  // the frontier, else from its tile (one range read). kInvalidArgument for a node
  // beyond Size(); kDataLoss when a row it needs is missing or malformed.
  Result<Hash> ReadNode(const NodeId& id);

 private:
  Log(std::unique_ptr<store::Database> db, CompactRange range)
      : db_(std::move(db)), range_(std::move(range)) {}

  // The number of entries stored (the highest idx + 1).
  static Result<uint64_t> StoredSize(store::Database& db);
  // Complete tiles of stored nodes (levels 4, 8, …) read before, by the NodeStorageId
  // of their first node. A complete tile never changes, and the upper levels' few tiles
  // lie on nearly every proof's path. Bounded by kTileCacheTiles (emptied when full),
  // so memory stays flat.
  using TileCache = std::unordered_map<int64_t, std::array<Hash, kTileWidth>>;
  static constexpr size_t kTileCacheTiles = 4096;  // ≈ 2.5 MB

  // Reads nodes from their tiles, several tiles per statement, in the order given;
  // complete node tiles from and into `cache` when one is given.
  static Result<std::vector<Hash>> ReadStoredNodes(store::Database& db,
                                                   std::span<const NodeId> ids,
                                                   TileCache* cache = nullptr);
  // As ReadNode, for several nodes at once.
  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids);
  // The roots of `subtrees` of the log, their nodes read ahead in a few statements.
  Result<std::vector<Hash>> RootsOf(std::span<const Subtree> subtrees);

  std::unique_ptr<store::Database> db_;
  CompactRange range_;
  TileCache tile_cache_;
};

}  // namespace troad::ledger
