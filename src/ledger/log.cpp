#include "ledger/log.h"

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <cstring>

#include "core/encoding.h"
#include "ledger/proof.h"
#include "store/migrate.h"

namespace troad::ledger {
namespace {

constexpr store::Migration kMigrations[] = {
    {1, "ledger entries and perfect subtrees", R"sql(
CREATE TABLE ledger_entry (
  idx       INTEGER PRIMARY KEY,
  chunk     INTEGER NOT NULL,
  leaf_key  INTEGER NOT NULL,
  leaf_hash BLOB    NOT NULL,
  entry     BLOB    NOT NULL
);
CREATE INDEX ledger_entry_leaf_key ON ledger_entry (chunk, leaf_key);
CREATE TABLE ledger_node (
  id    INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL
);
)sql"},
    {2, "the caller's own migrations", R"sql(
CREATE TABLE ledger_extra_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL
);
)sql"},
};

constexpr std::string_view kInsertEntry =
    "INSERT INTO ledger_entry (idx, chunk, leaf_key, leaf_hash, entry) VALUES (?, ?, ?, ?, ?)";
constexpr std::string_view kInsertNode =
    "INSERT INTO ledger_node (id, level, idx, hash) VALUES (?, ?, ?, ?)";
constexpr std::string_view kSelectMaxIndex = "SELECT MAX(idx) FROM ledger_entry";
// ledger_node.id = level << kLevelShift | idx.
constexpr uint64_t kLevelShift = 56;
// The highest level of a node in a log of at most kMaxLogSize entries.
constexpr uint64_t kMaxLevel = std::bit_width(kMaxLogSize) - 1;

// Tiles are read this many to a statement (unused places are empty ranges).
constexpr size_t kTilesPerStatement = 8;

// "<select> WHERE <key> >= ? AND <key> < ?", kTilesPerStatement times, UNION ALL.
std::string RangesSql(std::string_view select, std::string_view key) {
  std::string sql;
  for (size_t i = 0; i < kTilesPerStatement; ++i) {
    if (i > 0) sql += " UNION ALL ";
    sql += fmt::format("{} WHERE {} >= ? AND {} < ?", select, key, key);
  }
  return sql;
}
const std::string& SelectLeafTiles() {
  static const std::string sql = RangesSql("SELECT idx, leaf_hash FROM ledger_entry", "idx");
  return sql;
}
const std::string& SelectNodeTiles() {
  static const std::string sql = RangesSql("SELECT id, level, idx, hash FROM ledger_node", "id");
  return sql;
}
constexpr std::string_view kSelectEntries =
    "SELECT idx, leaf_hash, entry FROM ledger_entry WHERE idx >= ? AND idx < ? ORDER BY idx";
// One index seek per chunk, in a single statement: the chunks 0..? joined with the
// entries of each that have the leaf key.
constexpr std::string_view kSelectLeafIndex = R"sql(
WITH RECURSIVE chunks (c) AS (SELECT 0 UNION ALL SELECT c + 1 FROM chunks WHERE c < ?)
SELECT ledger_entry.idx, ledger_entry.leaf_hash
FROM chunks JOIN ledger_entry ON ledger_entry.chunk = chunks.c AND ledger_entry.leaf_key = ?
WHERE ledger_entry.idx < ?
ORDER BY ledger_entry.idx)sql";

// ledger_entry.leaf_key: the first 8 bytes of the leaf hash, big-endian, as a signed
// 64-bit integer. Indexing it instead of the 32-byte hash makes the index less than
// half the size; a lookup compares the whole hash of each candidate.
int64_t LeafKey(const Hash& h) {
  uint64_t k = 0;
  for (size_t i = 0; i < 8; ++i) k = (k << 8) | h[i];
  return static_cast<int64_t>(k);
}

store::Blob ToBlob(const Hash& h) { return store::Blob{std::string(crypto::DigestView(h))}; }

Error BadHashLength(const std::string& bytes, std::string_view where) {
  return Error(ErrorCode::kDataLoss,
               fmt::format("{}: stored hash is {} bytes, not 32", where, bytes.size()));
}

// A stored hash: exactly 32 bytes, else kDataLoss naming where it came from.
Result<Hash> ToHash(const std::string& bytes, std::string_view where) {
  Hash h;
  if (bytes.size() != h.size()) return Fail(BadHashLength(bytes, where));
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

Error RowError(Error e, std::string_view where) { return std::move(e).Context(where); }

// kTileWidth adjacent stored nodes of one level: [index·16, index·16 + 16) at `level`
// (a multiple of kTileHeight), and the hashes read for them.
struct Tile {
  uint64_t level = 0;
  uint64_t index = 0;
  std::array<Hash, kTileWidth> hashes{};
  std::bitset<kTileWidth> present;
};

uint64_t BaseLevel(uint64_t level) { return level - level % kTileHeight; }

// The tile holding the stored nodes under `id`: a node at level b + r (b a multiple
// of kTileHeight, r < kTileHeight) has 2^r nodes under it at level b, aligned, so
// within one tile.
std::pair<uint64_t, uint64_t> TileOf(const NodeId& id) {
  const uint64_t b = BaseLevel(id.level);
  return {b, (id.index << (id.level - b)) / kTileWidth};
}

// The row holding a node, for error messages.
std::string NodeWhere(const NodeId& id) {
  if (id.level == 0) return fmt::format("ledger_entry row {}", id.index);
  return fmt::format("ledger_node row {} (level {}, idx {})", NodeStorageId(id), id.level,
                     id.index);
}

// Applies the caller's migrations as store::Migrate applies the log's own: each once, in
// order, in its own transaction, recorded in ledger_extra_migrations.
Status MigrateExtra(store::Database& db, std::span<const store::Migration> migrations,
                    const Clock& clock) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != kFirstExtraMigration + static_cast<int>(i)) {
      return Fail(ErrorCode::kInternal,
                  "extra ledger migration list is broken: entry {} (\"{}\") has version {}, "
                  "expected {}",
                  i, migrations[i].name, migrations[i].version,
                  kFirstExtraMigration + static_cast<int>(i));
    }
  }
  for (;;) {
    // Read inside the write transaction, so that two processes cannot both apply one.
    TROAD_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(db));
    TROAD_ASSIGN_OR_RETURN(
        std::vector<store::Row> rows,
        db.Query("SELECT version FROM ledger_extra_migrations ORDER BY version"));
    int64_t expected = kFirstExtraMigration;
    for (const store::Row& row : rows) {
      Result<int64_t> version = row.Int(0);
      if (!version) return Fail(std::move(version.error()).Context("ledger_extra_migrations"));
      if (*version != expected) {
        return Fail(ErrorCode::kDataLoss,
                    "ledger_extra_migrations records version {} but not version {}", *version,
                    expected);
      }
      ++expected;
    }
    const size_t applied = rows.size();
    if (applied > migrations.size()) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "the ledger database has applied extra migrations up to version {}, newer "
                  "than this program's {}",
                  expected - 1, kFirstExtraMigration + static_cast<int>(migrations.size()) - 1);
    }
    if (applied == migrations.size()) return Ok();
    const store::Migration& m = migrations[applied];
    auto context = [&m] {
      return fmt::format("extra ledger migration {} ({})", m.version, m.name);
    };
    if (Status st = db.ExecuteScript(m.sql); !st) {
      return Fail(std::move(st.error()).Context(context()));
    }
    Result<int64_t> recorded = db.Execute(
        "INSERT INTO ledger_extra_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        {int64_t{m.version}, std::string(m.name), FormatRfc3339(clock.Now())});
    if (!recorded) return Fail(std::move(recorded.error()).Context(context()));
    if (Status st = tx.Commit(); !st) return Fail(std::move(st.error()).Context(context()));
  }
}

}  // namespace

int64_t NodeStorageId(const NodeId& id) {
  return static_cast<int64_t>((id.level << kLevelShift) | id.index);
}

Result<std::unique_ptr<Log>> Log::Open(std::unique_ptr<store::Database> db, const Clock& clock,
                                       std::span<const store::Migration> extra_migrations) {
  TROAD_RETURN_IF_ERROR(store::Migrate(*db, kMigrations, clock));
  if (!extra_migrations.empty()) TROAD_RETURN_IF_ERROR(MigrateExtra(*db, extra_migrations, clock));
  TROAD_ASSIGN_OR_RETURN(uint64_t size, StoredSize(*db));
  TROAD_ASSIGN_OR_RETURN(std::vector<Hash> frontier, ReadStoredNodes(*db, RangeNodes(0, size)));
  TROAD_ASSIGN_OR_RETURN(CompactRange range, CompactRange::Create(size, std::move(frontier)));
  return std::unique_ptr<Log>(new Log(std::move(db), std::move(range)));
}

Result<uint64_t> Log::StoredSize(store::Database& db) {
  TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows, db.Query(kSelectMaxIndex));
  if (rows.empty() || rows[0].size() != 1 || rows[0].IsNull(0)) return uint64_t{0};
  Result<int64_t> max = rows[0].Int(0);
  if (!max) return Fail(RowError(std::move(max.error()), "ledger_entry MAX(idx)"));
  if (*max < 0 || static_cast<uint64_t>(*max) >= kMaxLogSize) {
    return Fail(ErrorCode::kDataLoss, "ledger_entry has an entry at index {}, outside the log",
                *max);
  }
  return static_cast<uint64_t>(*max) + 1;
}

Result<std::vector<Hash>> Log::ReadStoredNodes(store::Database& db, std::span<const NodeId> ids,
                                               TileCache* cache) {
  // The distinct tiles the nodes need, sorted by (level, index).
  std::vector<std::pair<uint64_t, uint64_t>> keys;
  keys.reserve(ids.size());
  for (const NodeId& id : ids) keys.push_back(TileOf(id));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<Tile> tiles(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    tiles[i].level = keys[i].first;
    tiles[i].index = keys[i].second;
  }
  auto find = [&](uint64_t level, uint64_t index) -> Tile* {
    auto it = std::lower_bound(keys.begin(), keys.end(), std::pair(level, index));
    if (it == keys.end() || *it != std::pair(level, index)) return nullptr;
    return &tiles[static_cast<size_t>(it - keys.begin())];
  };

  auto cache_key = [](const Tile& t) {
    return NodeStorageId(NodeId{t.level, t.index * kTileWidth});
  };
  if (cache != nullptr) {
    for (Tile& t : tiles) {
      if (t.level == 0) continue;
      if (auto it = cache->find(cache_key(t)); it != cache->end()) {
        t.hashes = it->second;
        t.present.set();
      }
    }
  }

  // Leaf tiles come from ledger_entry, the others from ledger_node; each statement
  // reads kTilesPerStatement tiles.
  for (const bool leaves : {true, false}) {
    std::vector<Tile*> wanted;
    for (Tile& t : tiles) {
      if ((t.level == 0) == leaves && !t.present.all()) wanted.push_back(&t);
    }
    for (size_t chunk = 0; chunk < wanted.size(); chunk += kTilesPerStatement) {
      std::vector<store::Value> params(2 * kTilesPerStatement, int64_t{0});
      for (size_t k = 0; k < kTilesPerStatement && chunk + k < wanted.size(); ++k) {
        const Tile& t = *wanted[chunk + k];
        const NodeId first{t.level, t.index * kTileWidth};
        const int64_t begin = leaves ? static_cast<int64_t>(first.index) : NodeStorageId(first);
        params[2 * k] = begin;
        params[2 * k + 1] = begin + static_cast<int64_t>(kTileWidth);
      }
      TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                             db.Query(leaves ? SelectLeafTiles() : SelectNodeTiles(), params));
      for (const store::Row& row : rows) {
        Result<int64_t> key = row.Int(0);
        if (!key || *key < 0) {
          return Fail(ErrorCode::kDataLoss, "{} has a row whose {} is not a positive integer",
                      leaves ? "ledger_entry" : "ledger_node", leaves ? "idx" : "id");
        }
        const auto k = static_cast<uint64_t>(*key);
        const NodeId id = leaves ? NodeId{0, k}
                                 : NodeId{k >> kLevelShift, k & ((uint64_t{1} << kLevelShift) - 1)};
        Tile* tile = find(id.level, id.index / kTileWidth);
        if (tile == nullptr) continue;  // not asked for (the ranges asked for are tiles)
        auto where = [&] { return NodeWhere(id); };  // formatted only for errors
        if (!leaves) {
          Result<int64_t> level = row.Int(1);
          if (!level) return Fail(RowError(std::move(level.error()), where()));
          Result<int64_t> index = row.Int(2);
          if (!index) return Fail(RowError(std::move(index.error()), where()));
          if (*level != static_cast<int64_t>(id.level) ||
              *index != static_cast<int64_t>(id.index)) {
            return Fail(ErrorCode::kDataLoss, "{} says it is level {}, idx {}", where(), *level,
                        *index);
          }
        }
        Result<std::string> bytes = row.Bytes(leaves ? 1 : 3);
        if (!bytes) return Fail(RowError(std::move(bytes.error()), where()));
        const size_t slot = id.index % kTileWidth;
        if (bytes->size() != tile->hashes[slot].size()) return Fail(BadHashLength(*bytes, where()));
        std::memcpy(tile->hashes[slot].data(), bytes->data(), tile->hashes[slot].size());
        tile->present.set(slot);
      }
    }
  }

  if (cache != nullptr) {
    for (const Tile& t : tiles) {
      if (t.level == 0 || !t.present.all()) continue;
      if (cache->size() >= kTileCacheTiles) cache->clear();
      cache->try_emplace(cache_key(t), t.hashes);
    }
  }

  // Each node is its stored self, or the hash of the 2^r stored nodes under it.
  std::vector<Hash> out;
  out.reserve(ids.size());
  for (const NodeId& id : ids) {
    auto [level, index] = TileOf(id);
    const Tile& tile = *find(level, index);
    const uint64_t width = uint64_t{1} << (id.level - level);
    const uint64_t first = (id.index * width) % kTileWidth;
    for (uint64_t slot = first; slot < first + width; ++slot) {
      if (!tile.present[slot]) {
        const NodeId missing{level, index * kTileWidth + slot};
        return Fail(
            ErrorCode::kDataLoss, "{} is missing: {}", NodeWhere(missing),
            level == 0 ? "the log's entries have a gap" : "the log's stored tree is incomplete");
      }
    }
    out.push_back(RootFromLeaves(std::span(tile.hashes).subspan(first, width)));
  }
  return out;
}

Result<std::vector<Hash>> Log::ReadNodes(std::span<const NodeId> ids) {
  const uint64_t size = range_.size();
  std::vector<Hash> out(ids.size());
  std::vector<NodeId> stored;
  std::vector<size_t> stored_at;
  for (size_t i = 0; i < ids.size(); ++i) {
    const NodeId& id = ids[i];
    if (id.level > kMaxLevel || id.index >= (size >> id.level)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "node (level {}, index {}) is not within the {} leaves", id.level, id.index,
                  size);
    }
    // Frontier nodes are in memory: a node whose level is a set bit of the size and
    // which ends where the size's bits from that level up end.
    if (((size >> id.level) & 1) != 0 && id.end() == (size >> id.level) << id.level) {
      out[i] = range_.hashes()[static_cast<size_t>(std::popcount(size >> id.level >> 1))];
    } else {
      stored.push_back(id);
      stored_at.push_back(i);
    }
  }
  TROAD_ASSIGN_OR_RETURN(std::vector<Hash> read, ReadStoredNodes(*db_, stored, &tile_cache_));
  for (size_t k = 0; k < read.size(); ++k) out[stored_at[k]] = read[k];
  return out;
}

Result<Hash> Log::ReadNode(const NodeId& id) {
  TROAD_ASSIGN_OR_RETURN(std::vector<Hash> read, ReadNodes(std::span(&id, 1)));
  return read[0];
}

Result<std::vector<Hash>> Log::RootsOf(std::span<const Subtree> subtrees) {
  // Every node the subtrees need, read at once, then looked up while folding.
  const std::vector<NodeId> ids = NodesToRead(subtrees);
  TROAD_ASSIGN_OR_RETURN(std::vector<Hash> hashes, ReadNodes(ids));
  auto key = [](const NodeId& id) { return std::pair(id.level, id.index); };
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return key(ids[a]) < key(ids[b]); });
  const NodeReader prefetched = [&](const NodeId& id) -> Result<Hash> {
    auto it = std::lower_bound(order.begin(), order.end(), id,
                               [&](size_t a, const NodeId& b) { return key(ids[a]) < key(b); });
    if (it == order.end() || !(ids[*it] == id)) {
      return Fail(ErrorCode::kInternal, "node (level {}, index {}) was not read ahead", id.level,
                  id.index);
    }
    return hashes[*it];
  };
  return SubtreeRoots(subtrees, prefetched);
}

Result<uint64_t> Log::AppendBatch(std::span<const std::string> entries,
                                  const AppendHook& in_transaction) {
  const uint64_t first = range_.size();
  if (entries.empty()) return first;
  if (db_->InTransaction()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "cannot append to the ledger inside another transaction: the log must know "
                "that its writes are committed");
  }
  if (entries.size() > kMaxLogSize - first) {
    return Fail(ErrorCode::kResourceExhausted,
                "appending {} entries to a log of {} would pass the limit of {} entries",
                entries.size(), first, kMaxLogSize);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > kMaxEntryBytes) {
      return Fail(ErrorCode::kInvalidArgument, "entry {} of the batch is {} bytes, more than {}", i,
                  entries[i].size(), kMaxEntryBytes);
    }
  }

  CompactRange next = range_;
  std::vector<Hash> leaves;
  leaves.reserve(entries.size());
  std::vector<Node> nodes;  // completed subtrees to store
  nodes.reserve(entries.size());
  for (const std::string& entry : entries) {
    leaves.push_back(LeafHash(entry));
    for (const Node& node : next.Append(leaves.back())) {
      if (node.id.level > 0 && node.id.level % kTileHeight == 0) nodes.push_back(node);
    }
  }

  TROAD_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(*db_));
  TROAD_ASSIGN_OR_RETURN(uint64_t stored, StoredSize(*db_));
  if (stored != first) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the ledger database holds {} entries but this log expected {}: another writer "
                "appended; reopen the log",
                stored, first);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t index = first + i;
    TROAD_RETURN_IF_ERROR(db_->Execute(
        kInsertEntry, {static_cast<int64_t>(index), static_cast<int64_t>(index >> kLeafChunkBits),
                       LeafKey(leaves[i]), ToBlob(leaves[i]), store::Blob{entries[i]}}));
  }
  for (const Node& node : nodes) {
    TROAD_RETURN_IF_ERROR(
        db_->Execute(kInsertNode, {NodeStorageId(node.id), static_cast<int64_t>(node.id.level),
                                   static_cast<int64_t>(node.id.index), ToBlob(node.hash)}));
  }
  if (in_transaction) TROAD_RETURN_IF_ERROR(in_transaction(*db_, first));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  range_ = std::move(next);
  return first;
}

Result<Hash> Log::Root(uint64_t size) {
  if (size > range_.size()) {
    return Fail(ErrorCode::kInvalidArgument, "tree size {} is beyond the log's size {}", size,
                range_.size());
  }
  if (size == range_.size()) return range_.Root();
  if (size == 0) return EmptyRoot();
  const Subtree whole{0, size};
  TROAD_ASSIGN_OR_RETURN(std::vector<Hash> roots, RootsOf(std::span(&whole, 1)));
  return roots[0];
}

Result<std::vector<Hash>> Log::InclusionProof(uint64_t index, uint64_t size) {
  if (size > range_.size()) {
    return Fail(ErrorCode::kInvalidArgument, "tree size {} is beyond the log's size {}", size,
                range_.size());
  }
  TROAD_ASSIGN_OR_RETURN(std::vector<Subtree> subtrees, InclusionProofSubtrees(index, size));
  return RootsOf(subtrees);
}

Result<std::vector<Hash>> Log::ConsistencyProof(uint64_t old_size, uint64_t new_size) {
  if (new_size > range_.size()) {
    return Fail(ErrorCode::kInvalidArgument, "tree size {} is beyond the log's size {}", new_size,
                range_.size());
  }
  TROAD_ASSIGN_OR_RETURN(std::vector<Subtree> subtrees,
                         ConsistencyProofSubtrees(old_size, new_size));
  return RootsOf(subtrees);
}

Result<std::vector<LogEntry>> Log::Entries(uint64_t begin, uint64_t end, size_t limit) {
  if (begin > end || end > range_.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "entries [{}, {}) are not a range within the log's {} entries", begin, end,
                range_.size());
  }
  const uint64_t count = std::min<uint64_t>({end - begin, limit, kMaxEntriesPerRead});
  std::vector<LogEntry> out;
  if (count == 0) return out;
  TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                         db_->Query(kSelectEntries, {static_cast<int64_t>(begin),
                                                     static_cast<int64_t>(begin + count)}));
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    const uint64_t expected = begin + out.size();
    const std::string where = fmt::format("ledger_entry row {}", expected);
    Result<int64_t> index = row.Int(0);
    if (!index) return Fail(RowError(std::move(index.error()), where));
    if (*index != static_cast<int64_t>(expected)) {
      return Fail(ErrorCode::kDataLoss, "{} is missing: the log's entries have a gap", where);
    }
    Result<std::string> leaf = row.Bytes(1);
    if (!leaf) return Fail(RowError(std::move(leaf.error()), where));
    TROAD_ASSIGN_OR_RETURN(Hash leaf_hash, ToHash(*leaf, where));
    Result<std::string> bytes = row.Bytes(2);
    if (!bytes) return Fail(RowError(std::move(bytes.error()), where));
    if (LeafHash(*bytes) != leaf_hash) {
      return Fail(ErrorCode::kDataLoss, "{}: the entry does not hash to its stored leaf hash",
                  where);
    }
    out.push_back(LogEntry{expected, leaf_hash, std::move(*bytes)});
  }
  if (out.size() != count) {
    return Fail(ErrorCode::kDataLoss,
                "ledger_entry row {} is missing: the log's entries have a gap", begin + out.size());
  }
  return out;
}

Result<uint64_t> Log::LeafIndex(const Hash& leaf_hash) {
  const uint64_t size = range_.size();
  std::vector<store::Row> rows;
  if (size > 0) {
    TROAD_ASSIGN_OR_RETURN(
        rows, db_->Query(kSelectLeafIndex, {static_cast<int64_t>((size - 1) >> kLeafChunkBits),
                                            LeafKey(leaf_hash), static_cast<int64_t>(size)}));
  }
  // Rows whose hash merely starts with the same 8 bytes are skipped.
  for (const store::Row& row : rows) {
    Result<int64_t> index = row.Int(0);
    if (!index) return Fail(RowError(std::move(index.error()), "ledger_entry idx"));
    const std::string where = fmt::format("ledger_entry row {}", *index);
    Result<std::string> bytes = row.Bytes(1);
    if (!bytes) return Fail(RowError(std::move(bytes.error()), where));
    TROAD_ASSIGN_OR_RETURN(Hash stored, ToHash(*bytes, where));
    if (stored != leaf_hash) continue;
    if (*index < 0) {
      return Fail(ErrorCode::kDataLoss, "ledger_entry has a row at negative index {}", *index);
    }
    return static_cast<uint64_t>(*index);
  }
  return Fail(ErrorCode::kNotFound, "no entry of the log has leaf hash {}",
              HexEncode(std::span<const uint8_t>(leaf_hash)));
}

}  // namespace troad::ledger
