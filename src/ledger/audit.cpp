#include "ledger/audit.h"

#include <fmt/format.h>

#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "ledger/compact_range.h"
#include "ledger/entry.h"
#include "ledger/log.h"
#include "ledger/merkle.h"

namespace troad::ledger {
namespace {

// ledger_node.id = level·2^56 + idx (log.h, NodeStorageId).
constexpr uint64_t kLevelShift = 56;
// The highest level a stored node of a log of at most kMaxLogSize entries can have.
constexpr uint64_t kTopStoredLevel = 56;
// The levels ledger_node holds: kTileHeight, 2·kTileHeight, … kTopStoredLevel.
constexpr size_t kStoredLevels = kTopStoredLevel / kTileHeight;

constexpr std::string_view kSelectEntries =
    "SELECT idx, chunk, leaf_key, leaf_hash, entry FROM ledger_entry WHERE idx >= ? "
    "ORDER BY idx LIMIT ?";
constexpr std::string_view kSelectMaxIndex = "SELECT MAX(idx) FROM ledger_entry";
constexpr std::string_view kSelectNodes =
    "SELECT id, level, idx, hash FROM ledger_node WHERE id >= ? AND id < ? ORDER BY id LIMIT ?";
// Rows outside every stored level: an id below level kTileHeight's, or whose level
// part is not a multiple of kTileHeight.
constexpr std::string_view kSelectStrayNode =
    "SELECT id, level, idx FROM ledger_node WHERE id < ? OR ((id >> 56) % 4) <> 0 "
    "ORDER BY id LIMIT 1";
static_assert(kTileHeight == 4 && kLevelShift == 56, "kSelectStrayNode spells them out");

std::string Hex(const Hash& h) { return HexEncode(std::span<const uint8_t>(h)); }
std::string Base64(const Hash& h) { return Base64Encode(std::span<const uint8_t>(h)); }

// ledger_entry.leaf_key as log.h defines it: the first 8 bytes of the leaf hash,
// big-endian, as a signed 64-bit integer.
int64_t LeafKeyOf(const Hash& h) {
  uint64_t k = 0;
  for (size_t i = 0; i < 8; ++i) k = (k << 8) | h[i];
  return static_cast<int64_t>(k);
}

int64_t FirstIdOf(uint64_t level) { return static_cast<int64_t>(level << kLevelShift); }

// The rows of one level of ledger_node in id order, read a batch at a time.
class NodeCursor {
 public:
  NodeCursor(store::Database& db, uint64_t level, size_t batch)
      : db_(db), level_(level), batch_(batch), next_id_(FirstIdOf(level)) {}

  // The next row, nullopt after the last. Errors: the database's.
  Result<std::optional<store::Row>> Next() {
    if (pos_ == rows_.size()) {
      if (done_) return std::optional<store::Row>();
      TROAD_ASSIGN_OR_RETURN(rows_, db_.Query(kSelectNodes, {next_id_, FirstIdOf(level_ + 1),
                                                             static_cast<int64_t>(batch_)}));
      pos_ = 0;
      done_ = rows_.size() < batch_;
      if (rows_.empty()) return std::optional<store::Row>();
      Result<int64_t> last = rows_.back().Int(0);
      if (!last) return Fail(std::move(last.error()).Context("ledger_node id"));
      next_id_ = *last + 1;
    }
    return std::optional<store::Row>(std::move(rows_[pos_++]));
  }

 private:
  store::Database& db_;
  const uint64_t level_;
  const size_t batch_;
  int64_t next_id_;
  std::vector<store::Row> rows_;
  size_t pos_ = 0;
  bool done_ = false;
};

class Auditor {
 public:
  Auditor(store::Database& db, const AuditOptions& options, AuditReport& report)
      : db_(db),
        options_(options),
        batch_(std::max<size_t>(options.rows_per_read, 1)),
        report_(report) {}

  // Fills the report; an error only when the tables cannot be read.
  Status Run() {
    TROAD_ASSIGN_OR_RETURN(report_.stored_entries, StoredEntries());
    if (report_.checkpoint.size == 0) CompareRoot();
    if (!report_.problem.empty()) return Ok();
    TROAD_RETURN_IF_ERROR(CheckEntries());
    if (!report_.problem.empty()) return Ok();
    report_.stored_entries = range_.size();
    if (report_.checkpoint.size > range_.size()) {
      report_.problem = fmt::format(
          "the checkpoint is of size {}, but ledger_entry holds only {} entries (idx {} … {} "
          "are missing)",
          report_.checkpoint.size, range_.size(), range_.size(), report_.checkpoint.size - 1);
      return Ok();
    }
    report_.beyond_checkpoint = range_.size() - report_.checkpoint.size;
    if (!node_problem_.empty()) {
      report_.problem = node_problem_;
      return Ok();
    }
    return CheckNoOtherNodes();
  }

 private:
  Result<uint64_t> StoredEntries() {
    TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows, db_.Query(kSelectMaxIndex));
    if (rows.empty() || rows[0].size() != 1 || rows[0].IsNull(0)) return uint64_t{0};
    TROAD_ASSIGN_OR_RETURN(int64_t max, rows[0].Int(0));
    return max < 0 ? uint64_t{0} : static_cast<uint64_t>(max) + 1;
  }

  void Progress() {
    if (options_.progress) {
      options_.progress(range_.size(), std::max(report_.stored_entries, range_.size()));
    }
  }

  // Streams ledger_entry in idx order, checking each row and the nodes it completes.
  Status CheckEntries() {
    int64_t from = std::numeric_limits<int64_t>::min();
    for (;;) {
      TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                             db_.Query(kSelectEntries, {from, static_cast<int64_t>(batch_)}));
      for (const store::Row& row : rows) {
        Result<int64_t> idx = row.Int(0);
        if (!idx) return Fail(std::move(idx.error()).Context("ledger_entry idx"));
        from = *idx + 1;
        TROAD_RETURN_IF_ERROR(CheckEntry(row, *idx));
        if (!report_.problem.empty()) return Ok();
      }
      Progress();
      if (rows.size() < batch_) return Ok();
    }
  }

  Status CheckEntry(const store::Row& row, int64_t idx) {
    const uint64_t expected = range_.size();
    if (idx < 0) {
      report_.problem = fmt::format("ledger_entry has a row at idx {}: indices start at 0", idx);
      return Ok();
    }
    if (static_cast<uint64_t>(idx) != expected) {
      report_.problem = fmt::format(
          "ledger_entry idx {} is missing (the next row is idx {}): the entries have a gap",
          expected, idx);
      return Ok();
    }
    if (expected >= kMaxLogSize) {
      report_.problem = fmt::format("ledger_entry idx {}: beyond the {} entries a log can hold",
                                    idx, kMaxLogSize);
      return Ok();
    }
    const std::string where = fmt::format("ledger_entry idx {}", idx);
    Result<int64_t> chunk = row.Int(1);
    Result<int64_t> leaf_key = row.Int(2);
    Result<std::string> leaf_bytes = row.Bytes(3);
    Result<std::string> entry = row.Bytes(4);
    if (!chunk || !leaf_key || !leaf_bytes || !entry) {
      const auto& [column, e] = !chunk        ? std::pair("chunk", &chunk.error())
                                : !leaf_key   ? std::pair("leaf_key", &leaf_key.error())
                                : !leaf_bytes ? std::pair("leaf_hash", &leaf_bytes.error())
                                              : std::pair("entry", &entry.error());
      report_.problem = fmt::format("{}: {}: {}", where, column, e->message());
      return Ok();
    }
    Hash leaf{};
    if (leaf_bytes->size() != leaf.size()) {
      report_.problem =
          fmt::format("{}: leaf_hash is {} bytes, not {}", where, leaf_bytes->size(), leaf.size());
      return Ok();
    }
    std::copy(leaf_bytes->begin(), leaf_bytes->end(), leaf.begin());
    if (entry->size() > kMaxEntryBytes) {
      report_.problem = fmt::format("{}: the entry is {} bytes, more than a log stores ({})", where,
                                    entry->size(), kMaxEntryBytes);
      return Ok();
    }
    if (LeafHash(*entry) != leaf) {
      report_.problem = fmt::format("{}: leaf_hash does not match its entry", where);
      return Ok();
    }
    const auto expected_chunk = static_cast<int64_t>(expected >> kLeafChunkBits);
    if (*chunk != expected_chunk) {
      report_.problem = fmt::format("{}: chunk is {}, not {} (idx >> {})", where, *chunk,
                                    expected_chunk, kLeafChunkBits);
      return Ok();
    }
    if (*leaf_key != LeafKeyOf(leaf)) {
      report_.problem = fmt::format("{}: leaf_key is {}, not {} (the first 8 bytes of leaf_hash)",
                                    where, *leaf_key, LeafKeyOf(leaf));
      return Ok();
    }
    if (auto parsed = ParseLedgerEntry(*entry); !parsed) {
      report_.problem =
          fmt::format("{}: the entry is not a ledger entry: {}", where, parsed.error().message());
      return Ok();
    }
    for (const Node& node : range_.Append(leaf)) {
      if (node.id.level == 0 || node.id.level % kTileHeight != 0) continue;
      TROAD_RETURN_IF_ERROR(CheckNode(node));
    }
    report_.entries = range_.size();
    if (range_.size() == report_.checkpoint.size) CompareRoot();
    // A bad node is only reported once the root has told whether the entries under it
    // or the node itself changed.
    if (report_.problem.empty() && !node_problem_.empty() &&
        range_.size() >= report_.checkpoint.size) {
      report_.problem = node_problem_;
    }
    return Ok();
  }

  void CompareRoot() {
    report_.root = range_.Root();
    if (report_.root == report_.checkpoint.root) return;
    report_.problem =
        fmt::format("the root of the first {} entries is {}, the checkpoint says {}", range_.size(),
                    Base64(report_.root), Base64(report_.checkpoint.root));
    if (!node_problem_.empty()) {
      // The stored tree was written as the entries were appended: where it first
      // disagrees with them is where they changed.
      report_.problem += fmt::format(
          " — entries were changed after they were appended; the first stored subtree that "
          "differs: {}",
          node_problem_);
    }
  }

  // `node` was completed by the entries: the next stored row of its level must be it.
  Status CheckNode(const Node& node) {
    if (!node_problem_.empty()) return Ok();  // one bad node is enough
    const uint64_t level = node.id.level;
    const uint64_t index = node.id.index;
    const size_t slot = level / kTileHeight - 1;
    if (!cursors_[slot]) cursors_[slot] = std::make_unique<NodeCursor>(db_, level, batch_);
    TROAD_ASSIGN_OR_RETURN(std::optional<store::Row> row, cursors_[slot]->Next());
    const std::string where = fmt::format("ledger_node level {} idx {}", level, index);
    const int64_t id = NodeStorageId(node.id);
    Result<int64_t> row_id = row ? row->Int(0) : Result<int64_t>(int64_t{0});
    if (!row_id) return Fail(std::move(row_id.error()).Context("ledger_node id"));
    if (!row || *row_id != id) {
      node_problem_ = fmt::format("{} is missing (ledger_node row id {})", where, id);
      return Ok();
    }
    Result<int64_t> level_column = row->Int(1);
    Result<int64_t> idx_column = row->Int(2);
    Result<std::string> bytes = row->Bytes(3);
    if (!level_column || !idx_column || !bytes) {
      const auto& [column, e] = !level_column ? std::pair("level", &level_column.error())
                                : !idx_column ? std::pair("idx", &idx_column.error())
                                              : std::pair("hash", &bytes.error());
      node_problem_ = fmt::format("{}: {}: {}", where, column, e->message());
      return Ok();
    }
    if (*level_column != static_cast<int64_t>(level) ||
        *idx_column != static_cast<int64_t>(index)) {
      node_problem_ = fmt::format("{}: its level and idx columns say level {} idx {}", where,
                                  *level_column, *idx_column);
      return Ok();
    }
    if (bytes->size() != node.hash.size()) {
      node_problem_ =
          fmt::format("{}: hash is {} bytes, not {}", where, bytes->size(), node.hash.size());
      return Ok();
    }
    if (std::string_view(*bytes) != crypto::DigestView(node.hash)) {
      const uint64_t first = index * kTileWidth;
      const std::string children =
          level == kTileHeight ? fmt::format("the leaf hashes of ledger_entry idx {} … {}",
                                             index << level, ((index + 1) << level) - 1)
                               : fmt::format("its 16 children, ledger_node level {} idx {} … {}",
                                             level - kTileHeight, first, first + kTileWidth - 1);
      node_problem_ = fmt::format("{}: its hash {} is not the root of {} ({})", where,
                                  HexEncode(*bytes), children, Hex(node.hash));
      return Ok();
    }
    ++report_.nodes;
    return Ok();
  }

  // Each level holds no row beyond the ones the entries completed, and no row lies
  // outside the levels.
  Status CheckNoOtherNodes() {
    const uint64_t size = range_.size();
    for (uint64_t level = kTileHeight; level <= kTopStoredLevel; level += kTileHeight) {
      const int64_t first_extra = FirstIdOf(level) + static_cast<int64_t>(size >> level);
      TROAD_ASSIGN_OR_RETURN(
          std::vector<store::Row> rows,
          db_.Query(kSelectNodes, {first_extra, FirstIdOf(level + 1), int64_t{1}}));
      if (rows.empty()) continue;
      TROAD_ASSIGN_OR_RETURN(int64_t id, rows[0].Int(0));
      report_.problem = fmt::format(
          "ledger_node level {} idx {}: a row for a subtree the log's {} entries do not complete",
          level, static_cast<uint64_t>(id) & ((uint64_t{1} << kLevelShift) - 1), size);
      return Ok();
    }
    TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                           db_.Query(kSelectStrayNode, {FirstIdOf(kTileHeight)}));
    if (rows.empty()) return Ok();
    TROAD_ASSIGN_OR_RETURN(int64_t id, rows[0].Int(0));
    const std::string level = rows[0].Int(1) ? std::to_string(*rows[0].Int(1)) : "?";
    const std::string idx = rows[0].Int(2) ? std::to_string(*rows[0].Int(2)) : "?";
    report_.problem = fmt::format(
        "ledger_node row id {} (level {}, idx {}): not a node the log stores (levels {}, {}, …; "
        "id = level·2^56 + idx)",
        id, level, idx, kTileHeight, 2 * kTileHeight);
    return Ok();
  }

  store::Database& db_;
  const AuditOptions& options_;
  const size_t batch_;
  AuditReport& report_;
  CompactRange range_;
  std::unique_ptr<NodeCursor> cursors_[kStoredLevels];
  std::string node_problem_;  // the first bad node, reported once the root is known
};

}  // namespace

Result<AuditReport> AuditLedger(store::Database& db, std::string_view note,
                                const crypto::PublicKey& key, const AuditOptions& options) {
  TROAD_ASSIGN_OR_RETURN(SignedCheckpoint signed_checkpoint, ParseSignedCheckpoint(note));
  AuditReport report;
  report.checkpoint = signed_checkpoint.checkpoint;
  if (Status st = VerifyCheckpointSignature(signed_checkpoint, key); !st) {
    report.problem = "the checkpoint does not verify with the ledger key: " + st.error().message();
    return report;
  }
  if (!options.origin.empty() && report.checkpoint.origin != options.origin) {
    report.problem = fmt::format("the checkpoint is of origin \"{}\", not \"{}\"",
                                 report.checkpoint.origin, options.origin);
    return report;
  }
  // One read transaction: a live database is seen at one moment.
  const bool own_transaction = !db.InTransaction();
  if (own_transaction) TROAD_RETURN_IF_ERROR(db.Execute("BEGIN"));
  Auditor auditor(db, options, report);
  Status st = auditor.Run();
  if (own_transaction) (void)db.Execute("ROLLBACK");
  TROAD_RETURN_IF_ERROR(st);
  return report;
}

Result<AuditReport> AuditLedgerFile(const std::string& path, std::string_view note,
                                    const crypto::PublicKey& key, const AuditOptions& options) {
  store::SqliteOptions sqlite;
  sqlite.read_only = true;
  TROAD_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenSqlite(path, sqlite));
  Result<AuditReport> report = AuditLedger(*db, note, key, options);
  if (!report) return Fail(std::move(report.error()).Context(path));
  return report;
}

}  // namespace troad::ledger
