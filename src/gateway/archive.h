// Retention of the message log: the archiver moves whole timestamped batches whose
// records are older than [retention] max_age out of the live log into archive files
// that chain to each other by SHA-256 and verify offline (docs/protocol.md §11.1); the
// live log keeps the chain's head (table archive_state). Also the offline check of
// those files that `troad verify-log` runs (VerifyArchiveChain).
//
// One archive file is made in two steps, crash-safely: the file is written, fsynced
// and renamed into place (WriteNext); only then are its records and batches removed
// from the live log and the head advanced, in one transaction (Remove). A file left by
// a crash between the two is found on the next pass: it is recognised because it is
// byte for byte the file that pass would write (archive files are a function of the
// live log's rows and the head), and only its removal is done.
//
// Thread-safety: an Archiver's Start/Stop/Kick from one thread, the counters from any;
// RunOnce/WriteNext/Remove from one thread at a time (the archiver's own, or a test's
// while it is not started). The free functions are pure or read only their files.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/x509.h"
#include "gateway/background_thread.h"
#include "gateway/config.h"
#include "gateway/message_log.h"

namespace troad::gateway {

// The archive file format (docs/protocol.md §11.1). A text file of LF-terminated
// lines; see the protocol for the grammar.
inline constexpr std::string_view kArchiveMagic = "troad-archive/1";
// File names: records-<first seq>-<last seq>.archive, seqs in 20 decimal digits with
// leading zeros, so that names sort in seq order.
inline constexpr std::string_view kArchiveFilePrefix = "records-";
inline constexpr std::string_view kArchiveFileSuffix = ".archive";
inline constexpr int kArchiveSeqDigits = 20;
// A file being written is <name>.tmp until it is complete and durable.
inline constexpr std::string_view kArchiveTempSuffix = ".tmp";
// The first file of a chain names this predecessor, with kArchiveNoHash.
inline constexpr std::string_view kArchiveNoPrevious = "-";
inline constexpr std::string_view kArchiveNoHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// A record line holds a record entry (RecordEntry) without this first line.
inline constexpr std::string_view kRecordEntryPrefix = "troad-record/1\n";
// Lines longer than this are refused when reading (a batch of 1,000,000 records has
// a leaves line of 43 MB).
inline constexpr size_t kArchiveMaxLineBytes = size_t{64} << 20;

// "records-00000000000000000001-00000000000000001000.archive" for 1..1000.
std::string ArchiveFileName(int64_t first_seq, int64_t last_seq);
// The seq range an archive file name gives; nullopt for any other name (a .tmp file
// included).
std::optional<std::pair<int64_t, int64_t>> ParseArchiveFileName(std::string_view name);

// What an archive file says about itself before its batches.
struct ArchiveHeader {
  std::string gateway;  // the gateway whose log this was
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  int64_t records = 0;  // = last_seq - first_seq + 1
  int64_t batches = 0;
  std::string previous_file = std::string(kArchiveNoPrevious);
  std::string previous_sha256 = std::string(kArchiveNoHash);
};

// Writes one archive file's bytes in order through `sink`, hashing them: Begin, then
// Batch for each batch in seq order, then Finish. Validates what it is given
// (kInvalidArgument: a field that would break the line format, a batch out of order,
// records that are not the batch's); errors of the sink are passed on.
class ArchiveEncoder {
 public:
  using Sink = std::function<Status(std::string_view)>;
  explicit ArchiveEncoder(Sink sink);
  ~ArchiveEncoder();
  ArchiveEncoder(const ArchiveEncoder&) = delete;
  ArchiveEncoder& operator=(const ArchiveEncoder&) = delete;

  Status Begin(const ArchiveHeader& header);
  // `records`: every record of the batch, in seq order.
  Status Batch(const TimestampBatch& batch, const std::vector<TransferRecord>& records);
  // Writes the last line; returns the lower-case hex SHA-256 of the whole file.
  Result<std::string> Finish();

 private:
  Status Put(std::string_view bytes);
  struct State;
  std::unique_ptr<State> state_;
};

// One archive file, checked on its own: the first problem, or what it holds.
struct ArchiveFileReport {
  ArchiveHeader header;
  std::string sha256_hex;  // of the whole file
  int64_t records = 0;     // records verified
  std::string problem;     // "" when every line verified
};

// Reads the archive file at `path` and checks everything in it offline: its name
// against its range, every batch's leaves against its root and its token against
// `tsa_certificates` (as the live check does), every record against its leaf, seqs
// contiguous, counts as announced, nothing after the end line. `progress` (may be
// null) is told the records verified so far. kIo only when the file cannot be read;
// a file that reads but does not verify is a report with `problem` set.
Result<ArchiveFileReport> VerifyArchiveFile(
    const std::string& path, const std::vector<crypto::Certificate>& tsa_certificates,
    const std::function<void(int64_t)>& progress = nullptr);

struct ArchiveChainReport {
  int64_t files = 0;     // files verified, up to the head
  int64_t records = 0;   // records in them
  int64_t last_seq = 0;  // the last one's last seq (0: none)
  // Verified files after the head, whose records are still live (see below).
  std::vector<std::string> pending;
  int64_t pending_records = 0;
  std::string problem;  // the first problem, naming the file (and record); "" when none
};

// Checks every archive file in `dir` (VerifyArchiveFile) and that they form one chain
// from the first file (previous "-") to `head`, the head the live log records: each
// file names the one before it and its SHA-256, seqs continue from file to file, and
// the last is `head` (name, SHA-256, seq, counts). So a file deleted, altered, swapped
// with another or cut off the end is named. Files after the head that continue the
// chain from it are not a problem: a pass interrupted before removing their records
// from the live log (the gateway finishes it), or files the running archiver wrote
// after `head` was read; they are verified and reported as `pending`. Files whose
// names are not archive names are ignored. kIo when `dir` cannot be listed.
Result<ArchiveChainReport> VerifyArchiveChain(
    const std::string& dir, const std::optional<ArchiveHead>& head,
    const std::vector<crypto::Certificate>& tsa_certificates,
    const std::function<void(int64_t)>& progress = nullptr);

class Archiver {
 public:
  struct Options {
    RetentionOptions retention;  // max_age > 0
    std::string gateway_id;      // written into each file
    // Whether records must have been shipped to the central ledger (seq <=
    // ledger_state.shipped_seq) before they may leave the live log; asked on every
    // pass. Null: never required.
    std::function<bool()> require_shipped;
  };

  // One archive file written and durable, its records not yet removed.
  struct Written {
    std::string file;  // name inside the archive directory
    std::string sha256_hex;
    int64_t first_seq = 0;
    int64_t last_seq = 0;
    int64_t records = 0;
    int64_t batches = 0;
    std::optional<ArchiveHead> previous;  // the head it follows
    bool recovered = false;               // it was already there, left by an interrupted pass
  };

  // Creates the archive directory. kInvalidArgument for options that cannot work
  // (max_age 0, max_records_per_file < 1); kIo when the directory cannot be made.
  static Result<std::unique_ptr<Archiver>> Create(MessageLog& log, Options options,
                                                  const Clock& clock);
  ~Archiver();

  // A thread (nice +10) runs a pass at once, then every `interval` or when kicked.
  void Start();
  // Finishes the file in progress, then stops the thread.
  void Stop();
  void Kick();

  // One pass: archive files are written and their records removed until no batch
  // qualifies. Returns the files made. A failure leaves the live log as it was for the
  // file that failed (counted in failures()).
  Result<int64_t> RunOnce();
  // The first step of one file: the next archive file, written durably and renamed into
  // place, or nullopt when no batch qualifies. When a file after the head is already
  // there (a pass stopped after writing it) it is checked to be exactly the file that
  // would be written for its range and returned (recovered) instead; any other file
  // there is kFailedPrecondition and stops archiving until an operator moves it.
  Result<std::optional<Written>> WriteNext();
  // The second step: removes `written`'s records and batches from the live log and
  // makes it the chain's head (MessageLog::RemoveArchived).
  Status Remove(const Written& written);

  uint64_t records_archived() const { return records_archived_.load(); }
  uint64_t files_written() const { return files_.load(); }
  uint64_t failures() const { return failures_.load(); }
  // Unix ms of the last file completed; 0 before the first.
  int64_t last_archive_ms() const { return last_archive_ms_.load(); }

 private:
  Archiver(MessageLog& log, Options options, const Clock& clock);
  // The batches of the next file: from the head on, those that qualify (or, for
  // `exact`, precisely the range given).
  Result<std::vector<TimestampBatch>> Select(const std::optional<ArchiveHead>& head,
                                             std::optional<std::pair<int64_t, int64_t>> exact);
  // Encodes the file for `batches` after `head` through `sink`; returns its SHA-256.
  Result<std::string> Encode(const std::optional<ArchiveHead>& head,
                             const std::vector<TimestampBatch>& batches,
                             const ArchiveEncoder::Sink& sink);

  MessageLog& log_;
  Options options_;
  const Clock& clock_;
  std::unique_ptr<MessageLogReader> reader_;

  BackgroundThread thread_{"archiver"};

  std::atomic<uint64_t> records_archived_{0};
  std::atomic<uint64_t> files_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<int64_t> last_archive_ms_{0};
};

}  // namespace troad::gateway
