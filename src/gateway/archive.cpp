#include "gateway/archive.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/hash.h"
#include "gateway/verify_log.h"
#include "ledger/merkle.h"

// Why a line format and not a container (libzip): the file's SHA-256 is the link of
// the chain, so the bytes hashed must be the bytes read, with one reading. A ZIP has
// two directories (local headers and the central one) that may disagree, and a
// parser we would trust with tampered input; these lines are split on LF and nothing
// else. They can be written in one stream and fsynced, read with head, grep, base64
// and `openssl ts -verify` on a machine without troad, and a closed file compresses
// well with any tool for cold storage (verify the decompressed copy).

namespace troad::gateway {

namespace fs = std::filesystem;

namespace {

// A decimal number as the format writes it: digits only, no sign, no leading zero
// (except 0 itself), within int64.
std::optional<int64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsLowerHex(std::string_view text, size_t size) {
  return text.size() == size && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A field written between spaces: not empty, no space or control character.
bool IsToken(std::string_view text) {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
}

// Splits `line` at single spaces into at most `max` fields (the last takes the rest).
std::vector<std::string_view> Fields(std::string_view line, size_t max) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max) {
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) break;
    out.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  out.push_back(line);
  return out;
}

// The seq a record line's JSON starts with ({"seq":N,…, as RecordEntry writes it).
std::optional<int64_t> LeadingSeq(std::string_view json) {
  constexpr std::string_view kStart = "{\"seq\":";
  if (json.substr(0, kStart.size()) != kStart) return std::nullopt;
  json.remove_prefix(kStart.size());
  const size_t comma = json.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  return ParseDecimal(json.substr(0, comma));
}

// Names a record line for a problem, as well as its (possibly altered) JSON allows.
std::string NameRecordLine(std::string_view json, int64_t line) {
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_object() && j.contains("seq") && j["seq"].is_number_integer()) {
    auto text = [&j](const char* key) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    return fmt::format("record seq {} (message id \"{}\", request id {}; line {})",
                       j["seq"].get<int64_t>(), EscapeForLog(text("message_id"), 200),
                       EscapeForLog(text("request_id"), 100), line);
  }
  return fmt::format("the record on line {}", line);
}

// Reads a file line by line (LF), hashing every byte read.
class LineReader {
 public:
  enum class Got { kLine, kEnd, kUnterminated, kTooLong, kError };

  explicit LineReader(std::FILE* file) : file_(file), buffer_(1 << 16) {}
  ~LineReader() { std::fclose(file_); }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, without its LF, into *line.
  Got Next(std::string* line) {
    line->clear();
    for (;;) {
      if (pos_ == len_) {
        len_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
        pos_ = 0;
        if (len_ == 0) {
          if (std::ferror(file_)) return Got::kError;
          return line->empty() ? Got::kEnd : Got::kUnterminated;
        }
        hasher_.Update(std::string_view(buffer_.data(), len_));
      }
      const char* start = buffer_.data() + pos_;
      const void* lf = std::memchr(start, '\n', len_ - pos_);
      const size_t n = lf ? static_cast<size_t>(static_cast<const char*>(lf) - start) : len_ - pos_;
      if (line->size() + n > kArchiveMaxLineBytes) return Got::kTooLong;
      line->append(start, n);
      pos_ += n;
      if (lf) {
        ++pos_;
        ++number_;
        return Got::kLine;
      }
    }
  }
  // Line number of the last line returned (1 for the first).
  int64_t number() const { return number_; }
  // SHA-256 of every byte read; only once Next returned kEnd.
  std::string Sha256Hex() { return HexEncode(hasher_.Final()); }

 private:
  std::FILE* file_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t len_ = 0;
  int64_t number_ = 0;
  crypto::Sha256Hasher hasher_;
};

Result<std::string> Sha256OfFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Fail(ErrorCode::kIo, "cannot open {}: {}", path, std::strerror(errno));
  crypto::Sha256Hasher hasher;
  std::vector<char> buffer(1 << 16);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) {
    hasher.Update(std::string_view(buffer.data(), n));
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Fail(ErrorCode::kIo, "cannot read {}", path);
  return HexEncode(hasher.Final());
}

// An archive file in a directory listing.
struct Listed {
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  std::string name;
};

// The archive files in `dir`, in seq order; with `temporaries`, the names of
// <archive name>.tmp files.
Result<std::vector<Listed>> ListArchives(const std::string& dir,
                                         std::vector<std::string>* temporaries = nullptr) {
  std::vector<Listed> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot list {}: {}", dir, ec.message());
  // Iterated with error codes: Asio-style, no exceptions from the file system.
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot list {}: {}", dir, ec.message());
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec)) continue;
    if (auto range = ParseArchiveFileName(name)) {
      out.push_back(Listed{range->first, range->second, name});
    } else if (temporaries && name.size() > kArchiveTempSuffix.size() &&
               name.ends_with(kArchiveTempSuffix) &&
               ParseArchiveFileName(name.substr(0, name.size() - kArchiveTempSuffix.size()))) {
      temporaries->push_back(name);
    }
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list {}: {}", dir, ec.message());
  std::sort(out.begin(), out.end(), [](const Listed& a, const Listed& b) {
    return std::tie(a.first_seq, a.last_seq) < std::tie(b.first_seq, b.last_seq);
  });
  return out;
}

}  // namespace

std::string ArchiveFileName(int64_t first_seq, int64_t last_seq) {
  return fmt::format("{}{:0{}}-{:0{}}{}", kArchiveFilePrefix, first_seq, kArchiveSeqDigits,
                     last_seq, kArchiveSeqDigits, kArchiveFileSuffix);
}

std::optional<std::pair<int64_t, int64_t>> ParseArchiveFileName(std::string_view name) {
  const size_t size =
      kArchiveFilePrefix.size() + 2 * kArchiveSeqDigits + 1 + kArchiveFileSuffix.size();
  if (name.size() != size || !name.starts_with(kArchiveFilePrefix) ||
      !name.ends_with(kArchiveFileSuffix)) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kArchiveFilePrefix.size());
  std::array<int64_t, 2> seqs{};
  for (size_t i = 0; i < 2; ++i) {
    std::string_view d = digits.substr(i * (kArchiveSeqDigits + 1), kArchiveSeqDigits);
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
    if (ec != std::errc() || end != d.data() + d.size() ||
        v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    seqs[i] = static_cast<int64_t>(v);
  }
  if (seqs[0] < 1 || seqs[1] < seqs[0] || ArchiveFileName(seqs[0], seqs[1]) != name) {
    return std::nullopt;
  }
  return std::make_pair(seqs[0], seqs[1]);
}

// ---- ArchiveEncoder ------------------------------------------------------------------

struct ArchiveEncoder::State {
  Sink sink;
  crypto::Sha256Hasher hasher;
  ArchiveHeader header;
  bool begun = false;
  bool finished = false;
  int64_t next_seq = 0;
  int64_t batches = 0;
};

ArchiveEncoder::ArchiveEncoder(Sink sink) : state_(std::make_unique<State>()) {
  state_->sink = std::move(sink);
}

ArchiveEncoder::~ArchiveEncoder() = default;

Status ArchiveEncoder::Put(std::string_view bytes) {
  state_->hasher.Update(bytes);
  return state_->sink(bytes);
}

Status ArchiveEncoder::Begin(const ArchiveHeader& h) {
  if (state_->begun) return Fail(ErrorCode::kInternal, "archive: Begin called twice");
  if (h.first_seq < 1 || h.last_seq < h.first_seq || h.records != h.last_seq - h.first_seq + 1 ||
      h.batches < 1 || h.batches > h.records) {
    return Fail(ErrorCode::kInvalidArgument,
                "archive header: records {}..{} ({} records, {} batches) is not a valid range",
                h.first_seq, h.last_seq, h.records, h.batches);
  }
  if (!IsToken(h.gateway)) {
    return Fail(ErrorCode::kInvalidArgument, "archive header: gateway \"{}\" is not one word",
                EscapeForLog(h.gateway, 100));
  }
  const bool first = h.previous_file == kArchiveNoPrevious;
  if ((first && h.previous_sha256 != kArchiveNoHash) ||
      (!first && (!ParseArchiveFileName(h.previous_file) || !IsLowerHex(h.previous_sha256, 64)))) {
    return Fail(ErrorCode::kInvalidArgument, "archive header: previous \"{}\" \"{}\" is not valid",
                EscapeForLog(h.previous_file, 100), EscapeForLog(h.previous_sha256, 100));
  }
  state_->header = h;
  state_->begun = true;
  state_->next_seq = h.first_seq;
  return Put(fmt::format("{}\ngateway {}\nrange {} {}\ncount {} {}\nprevious {} {}\n",
                         kArchiveMagic, h.gateway, h.first_seq, h.last_seq, h.records, h.batches,
                         h.previous_file, h.previous_sha256));
}

Status ArchiveEncoder::Batch(const TimestampBatch& b, const std::vector<TransferRecord>& records) {
  State& s = *state_;
  if (!s.begun || s.finished) return Fail(ErrorCode::kInternal, "archive: Batch out of order");
  const std::string which = fmt::format("batch of records {}..{}", b.first_seq, b.last_seq);
  if (b.first_seq != s.next_seq || b.last_seq < b.first_seq || b.last_seq > s.header.last_seq ||
      s.batches >= s.header.batches) {
    return Fail(ErrorCode::kInvalidArgument, "archive: {} does not follow record {} in {}..{}",
                which, s.next_seq - 1, s.header.first_seq, s.header.last_seq);
  }
  const int64_t size = b.last_seq - b.first_seq + 1;
  if (b.size != size || static_cast<int64_t>(records.size()) != size ||
      b.leaves.size() != static_cast<size_t>(size) * sizeof(ledger::Hash)) {
    return Fail(ErrorCode::kInvalidArgument,
                "archive: {} has size {}, {} records and {} bytes of leaves", which, b.size,
                records.size(), b.leaves.size());
  }
  if (!IsLowerHex(b.root_hex, 64) || !IsToken(b.tsa_certificate_sha256) || b.token.empty() ||
      std::any_of(b.tsa_url.begin(), b.tsa_url.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Fail(ErrorCode::kInvalidArgument, "archive: {} has a malformed root, token or authority",
                which);
  }
  TROAD_RETURN_IF_ERROR(
      Put(fmt::format("batch {} {} {} {} {} {} {}\nleaves {}\ntoken {}\n", b.first_seq, b.last_seq,
                      b.root_hex, b.gen_time_ms, b.created_ms, b.tsa_certificate_sha256, b.tsa_url,
                      Base64Encode(b.leaves), Base64Encode(b.token))));
  std::string line;
  for (size_t i = 0; i < records.size(); ++i) {
    const TransferRecord& r = records[i];
    const std::string entry = RecordEntry(r);
    if (r.seq != b.first_seq + static_cast<int64_t>(i) || !entry.starts_with(kRecordEntryPrefix) ||
        entry.find('\n', kRecordEntryPrefix.size()) != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "archive: record {} of {} has seq {}", i + 1, which,
                  r.seq);
    }
    // A record that no longer matches its stamped leaf is not archived: the file
    // would not verify, and the live log still shows where it went wrong.
    const ledger::Hash leaf = ledger::LeafHash(entry);
    if (std::memcmp(leaf.data(), b.leaves.data() + i * sizeof(ledger::Hash), sizeof leaf) != 0) {
      return Fail(ErrorCode::kDataLoss,
                  "record seq {} no longer matches the leaf its {} stamped (troad verify-log "
                  "names it); it is not archived",
                  r.seq, which);
    }
    line.assign("record ");
    line.append(entry, kRecordEntryPrefix.size());
    line.push_back('\n');
    TROAD_RETURN_IF_ERROR(Put(line));
  }
  s.next_seq = b.last_seq + 1;
  ++s.batches;
  return Ok();
}

Result<std::string> ArchiveEncoder::Finish() {
  State& s = *state_;
  if (!s.begun || s.finished || s.batches != s.header.batches ||
      s.next_seq != s.header.last_seq + 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "archive: finished after {} of {} batches, at record {} of {}..{}", s.batches,
                s.header.batches, s.next_seq - 1, s.header.first_seq, s.header.last_seq);
  }
  TROAD_RETURN_IF_ERROR(Put("end\n"));
  s.finished = true;
  return HexEncode(s.hasher.Final());
}

// ---- Verification --------------------------------------------------------------------

Result<ArchiveFileReport> VerifyArchiveFile(
    const std::string& path, const std::vector<crypto::Certificate>& tsa_certificates,
    const std::function<void(int64_t)>& progress) {
  const std::string name = fs::path(path).filename().string();
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, "cannot open {}: {}", path,
                std::strerror(errno));
  }
  LineReader in(file);
  ArchiveFileReport report;
  auto problem = [&](std::string message) -> Result<ArchiveFileReport> {
    report.problem = fmt::format("archive {}: {}", name, message);
    return report;
  };
  std::string line;
  // The next line, which must be `keyword`, a space and the rest (into *rest), or
  // exactly `keyword` when `rest` is null. Returns the problem ("" when fine); `what`
  // names the line expected.
  auto expect = [&](std::string_view keyword, std::string_view what,
                    std::string_view* rest) -> Result<std::string> {
    switch (in.Next(&line)) {
      case LineReader::Got::kLine:
        break;
      case LineReader::Got::kError:
        return Fail(ErrorCode::kIo, "cannot read {}", path);
      case LineReader::Got::kTooLong:
        return fmt::format("line {} is longer than {} bytes", in.number() + 1,
                           kArchiveMaxLineBytes);
      case LineReader::Got::kEnd:
      case LineReader::Got::kUnterminated:
        return fmt::format("it ends at line {}, where {} was due: the file was cut short",
                           in.number() + 1, what);
    }
    const std::string_view l = line;
    if (rest == nullptr) {
      if (l == keyword) return std::string();
    } else if (l.size() > keyword.size() && l.starts_with(keyword) && l[keyword.size()] == ' ') {
      *rest = l.substr(keyword.size() + 1);
      return std::string();
    }
    return fmt::format("line {} is not {}", in.number(), what);
  };
#define TROAD_EXPECT_LINE(keyword, what, rest)                             \
  do {                                                                     \
    TROAD_ASSIGN_OR_RETURN(std::string bad_, expect(keyword, what, rest)); \
    if (!bad_.empty()) return problem(std::move(bad_));                    \
  } while (0)

  const auto named = ParseArchiveFileName(name);
  if (!named) return problem("not an archive file name (records-<first>-<last>.archive)");

  // Header.
  TROAD_EXPECT_LINE(kArchiveMagic, fmt::format("\"{}\"", kArchiveMagic), nullptr);
  std::string_view rest;
  ArchiveHeader& h = report.header;
  TROAD_EXPECT_LINE("gateway", "the gateway line", &rest);
  h.gateway = std::string(rest);
  TROAD_EXPECT_LINE("range", "the range line", &rest);
  {
    auto f = Fields(rest, 3);
    auto first = f.size() == 2 ? ParseDecimal(f[0]) : std::nullopt;
    auto last = f.size() == 2 ? ParseDecimal(f[1]) : std::nullopt;
    if (!first || !last || *first < 1 || *last < *first) {
      return problem(fmt::format("line {}: range \"{}\" is not two seqs", in.number(),
                                 EscapeForLog(rest, 100)));
    }
    h.first_seq = *first;
    h.last_seq = *last;
  }
  if (h.first_seq != named->first || h.last_seq != named->second) {
    return problem(fmt::format(
        "its name says records {}..{}, but it holds records {}..{} (renamed, or swapped with "
        "another file)",
        named->first, named->second, h.first_seq, h.last_seq));
  }
  TROAD_EXPECT_LINE("count", "the count line", &rest);
  {
    auto f = Fields(rest, 3);
    auto records = f.size() == 2 ? ParseDecimal(f[0]) : std::nullopt;
    auto batches = f.size() == 2 ? ParseDecimal(f[1]) : std::nullopt;
    if (!records || !batches || *records != h.last_seq - h.first_seq + 1 || *batches < 1 ||
        *batches > *records) {
      return problem(fmt::format("line {}: count \"{}\" does not fit records {}..{}", in.number(),
                                 EscapeForLog(rest, 100), h.first_seq, h.last_seq));
    }
    h.records = *records;
    h.batches = *batches;
  }
  TROAD_EXPECT_LINE("previous", "the previous line", &rest);
  {
    auto f = Fields(rest, 3);
    const bool ok = f.size() == 2 && ((f[0] == kArchiveNoPrevious && f[1] == kArchiveNoHash) ||
                                      (ParseArchiveFileName(f[0]) && IsLowerHex(f[1], 64)));
    if (!ok) {
      return problem(fmt::format("line {}: previous \"{}\" is not a file name and SHA-256",
                                 in.number(), EscapeForLog(rest, 200)));
    }
    h.previous_file = std::string(f[0]);
    h.previous_sha256 = std::string(f[1]);
  }

  // Batches, each followed by its records.
  int64_t next_seq = h.first_seq;
  std::vector<ledger::Hash> leaves;
  for (int64_t k = 0; k < h.batches; ++k) {
    TROAD_EXPECT_LINE("batch", fmt::format("batch {} of {}", k + 1, h.batches), &rest);
    TimestampBatch b;
    {
      auto f = Fields(rest, 7);
      std::optional<int64_t> first, last, gen_time, created;
      if (f.size() == 7) {
        first = ParseDecimal(f[0]);
        last = ParseDecimal(f[1]);
        gen_time = ParseDecimal(f[3]);
        created = ParseDecimal(f[4]);
      }
      if (!first || !last || !gen_time || !created || !IsLowerHex(f[2], 64) || !IsToken(f[5])) {
        return problem(fmt::format("line {}: malformed batch line \"{}\"", in.number(),
                                   EscapeForLog(rest, 200)));
      }
      b.first_seq = *first;
      b.last_seq = *last;
      b.size = b.last_seq - b.first_seq + 1;
      b.root_hex = std::string(f[2]);
      b.gen_time_ms = *gen_time;
      b.created_ms = *created;
      b.tsa_certificate_sha256 = std::string(f[5]);
      b.tsa_url = std::string(f[6]);
    }
    const std::string which = fmt::format("batch of records {}..{}", b.first_seq, b.last_seq);
    if (b.first_seq != next_seq || b.last_seq < b.first_seq || b.last_seq > h.last_seq ||
        (k + 1 == h.batches && b.last_seq != h.last_seq)) {
      return problem(
          fmt::format("line {}: the {} does not follow record {} within the file's range {}..{}",
                      in.number(), which, next_seq - 1, h.first_seq, h.last_seq));
    }
    TROAD_EXPECT_LINE("leaves", "the leaves line", &rest);
    auto decoded = Base64Decode(rest);
    if (!decoded) {
      return problem(fmt::format("line {}: leaves are not base64: {}", in.number(),
                                 decoded.error().message()));
    }
    b.leaves = std::move(*decoded);
    TROAD_EXPECT_LINE("token", "the token line", &rest);
    decoded = Base64Decode(rest);
    if (!decoded) {
      return problem(
          fmt::format("line {}: token is not base64: {}", in.number(), decoded.error().message()));
    }
    b.token = std::move(*decoded);
    if (std::string bad = CheckBatchStamp(b, which, tsa_certificates, &leaves); !bad.empty()) {
      return problem(std::move(bad));
    }
    std::string entry(kRecordEntryPrefix);
    for (int64_t i = 0; i < b.size; ++i) {
      TROAD_EXPECT_LINE("record", fmt::format("record seq {}", next_seq), &rest);
      entry.resize(kRecordEntryPrefix.size());
      entry.append(rest);
      if (ledger::LeafHash(entry) != leaves[static_cast<size_t>(i)]) {
        return problem(fmt::format("{} was altered after its {} was timestamped",
                                   NameRecordLine(rest, in.number()), which));
      }
      // The bytes are the stamped ones, so the seq in them is the record's.
      const auto seq = LeadingSeq(rest);
      if (!seq || *seq != next_seq) {
        return problem(fmt::format("line {} holds record seq {}, where seq {} was due", in.number(),
                                   seq ? std::to_string(*seq) : "?", next_seq));
      }
      ++next_seq;
      ++report.records;
    }
    if (progress) progress(report.records);
  }
  TROAD_EXPECT_LINE("end", "the end line", nullptr);
  switch (in.Next(&line)) {
    case LineReader::Got::kEnd:
      break;
    case LineReader::Got::kError:
      return Fail(ErrorCode::kIo, "cannot read {}", path);
    default:
      return problem(fmt::format("bytes follow the end line (line {})", in.number()));
  }
#undef TROAD_EXPECT_LINE
  report.sha256_hex = in.Sha256Hex();
  return report;
}

Result<ArchiveChainReport> VerifyArchiveChain(
    const std::string& dir, const std::optional<ArchiveHead>& head,
    const std::vector<crypto::Certificate>& tsa_certificates,
    const std::function<void(int64_t)>& progress) {
  ArchiveChainReport report;
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot look at {}: {}", dir, ec.message());
  if (!exists) {
    if (head) {
      report.problem = fmt::format(
          "the live log records {} archive files holding records up to {} (the last {}), but "
          "the archive directory {} does not exist",
          head->files, head->last_seq, head->file, dir);
    }
    return report;
  }
  TROAD_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListArchives(dir));
  std::vector<Listed> chain, after;
  for (Listed& l : listed) {
    (head && l.first_seq <= head->last_seq ? chain : after).push_back(std::move(l));
  }
  if (head && chain.empty()) {
    report.problem = fmt::format(
        "the live log records {} archive files holding records up to {} (the last {}), but {} "
        "holds none of them",
        head->files, head->last_seq, head->file, dir);
    return report;
  }

  std::string prev_name(kArchiveNoPrevious), prev_hash(kArchiveNoHash);
  int64_t prev_last = 0;
  for (const Listed& l : chain) {
    const std::string path = (fs::path(dir) / l.name).string();
    const int64_t before = report.records;
    std::function<void(int64_t)> file_progress;
    if (progress) file_progress = [&](int64_t n) { progress(before + n); };
    TROAD_ASSIGN_OR_RETURN(ArchiveFileReport file,
                           VerifyArchiveFile(path, tsa_certificates, file_progress));
    if (!file.problem.empty()) {
      report.problem = std::move(file.problem);
      return report;
    }
    const ArchiveHeader& h = file.header;
    if (prev_last == 0) {
      if (h.previous_file != kArchiveNoPrevious) {
        report.problem = fmt::format(
            "archive {} follows {} (sha256 {}), which is not in {}: the first archives were "
            "deleted or moved",
            l.name, h.previous_file, h.previous_sha256, dir);
        return report;
      }
      if (h.first_seq != 1) {
        report.problem =
            fmt::format("records 1..{} are in no archive: {} is the first archive of the chain",
                        h.first_seq - 1, l.name);
        return report;
      }
    } else {
      if (h.first_seq > prev_last + 1) {
        report.problem = fmt::format(
            "records {}..{} are in no archive: {} follows {}, and {}, which it names as its "
            "predecessor, is not in {}: an archive was deleted",
            prev_last + 1, h.first_seq - 1, l.name, prev_name, h.previous_file, dir);
        return report;
      }
      if (h.first_seq <= prev_last) {
        report.problem = fmt::format("archive {} overlaps {}: both hold record {}", l.name,
                                     prev_name, h.first_seq);
        return report;
      }
      if (h.previous_file != prev_name || h.previous_sha256 != prev_hash) {
        report.problem = fmt::format(
            "archive {} names {} (sha256 {}) as its predecessor, but the archive before it is "
            "{} with SHA-256 {}: that file was altered or replaced",
            l.name, h.previous_file, h.previous_sha256, prev_name, prev_hash);
        return report;
      }
    }
    prev_name = l.name;
    prev_hash = file.sha256_hex;
    prev_last = h.last_seq;
    ++report.files;
    report.records += file.records;
    report.last_seq = h.last_seq;
  }

  if (head) {
    if (prev_name != head->file || prev_last != head->last_seq) {
      report.problem = fmt::format(
          "the archives in {} end with {} (records up to {}), but the live log's last archive is "
          "{} (records up to {}): archives at the end of the chain were removed",
          dir, prev_name, prev_last, head->file, head->last_seq);
      return report;
    }
    if (prev_hash != head->sha256_hex) {
      report.problem = fmt::format(
          "archive {} was altered or replaced: its SHA-256 is {}, the live log recorded {}",
          head->file, prev_hash, head->sha256_hex);
      return report;
    }
    if (report.files != head->files || report.records != head->records) {
      report.problem = fmt::format(
          "the archive chain holds {} files and {} records, but the live log's head counts {} "
          "and {}",
          report.files, report.records, head->files, head->records);
      return report;
    }
  }

  // Files after the head must continue the chain from it, each from the one before.
  for (const Listed& l : after) {
    const std::string path = (fs::path(dir) / l.name).string();
    TROAD_ASSIGN_OR_RETURN(ArchiveFileReport file, VerifyArchiveFile(path, tsa_certificates));
    if (!file.problem.empty()) {
      report.problem = std::move(file.problem);
      return report;
    }
    if (file.header.previous_file != prev_name || file.header.previous_sha256 != prev_hash ||
        file.header.first_seq != prev_last + 1) {
      report.problem = fmt::format(
          "archive {} is not recorded by the live log and does not follow {}: it does not "
          "belong to this log",
          l.name,
          prev_name == kArchiveNoPrevious ? std::string("the start of the chain") : prev_name);
      return report;
    }
    prev_name = l.name;
    prev_hash = file.sha256_hex;
    prev_last = file.header.last_seq;
    report.pending.push_back(l.name);
    report.pending_records += file.records;
  }
  return report;
}

// ---- Archiver ------------------------------------------------------------------------

namespace {

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close gives (data not written back on some
  // file systems).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, "cannot write {}: {}", path, std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

}  // namespace

Archiver::Archiver(MessageLog& log, Options options, const Clock& clock)
    : log_(log), options_(std::move(options)), clock_(clock) {}

Result<std::unique_ptr<Archiver>> Archiver::Create(MessageLog& log, Options options,
                                                   const Clock& clock) {
  if (options.retention.max_age.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "archiver: max_age must be positive");
  }
  if (options.retention.max_records_per_file < 1) {
    return Fail(ErrorCode::kInvalidArgument, "archiver: max_records_per_file must be at least 1");
  }
  if (options.retention.archive_dir.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "archiver: no archive directory");
  }
  if (!IsToken(options.gateway_id)) {
    return Fail(ErrorCode::kInvalidArgument, "archiver: gateway id \"{}\" is not one word",
                EscapeForLog(options.gateway_id, 100));
  }
  std::error_code ec;
  fs::create_directories(options.retention.archive_dir, ec);
  if (ec) {
    return Fail(ErrorCode::kIo, "cannot create the archive directory {}: {}",
                options.retention.archive_dir, ec.message());
  }
  std::unique_ptr<Archiver> a(new Archiver(log, std::move(options), clock));
  TROAD_ASSIGN_OR_RETURN(a->reader_, MessageLogReader::Open(log.path()));
  return a;
}

Archiver::~Archiver() { Stop(); }

void Archiver::Start() {
  // A first pass at once, then one every interval.
  thread_.Start(std::chrono::milliseconds{0}, [this] {
    auto files = RunOnce();
    if (!files) {
      spdlog::error("archiver: {} (retried in {} s)", files.error().message(),
                    options_.retention.interval.count());
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention.interval);
  });
}

void Archiver::Stop() { thread_.Stop(); }

void Archiver::Kick() { thread_.Kick(); }

Result<int64_t> Archiver::RunOnce() {
  int64_t files = 0;
  while (!thread_.Stopping()) {
    auto written = WriteNext();
    if (!written) {
      failures_.fetch_add(1);
      return Fail(std::move(written).error());
    }
    if (!*written) break;
    if (auto st = Remove(**written); !st) {
      failures_.fetch_add(1);
      return Fail(std::move(st).error().Context(
          fmt::format("{} is written, but its records stay in the live log", (*written)->file)));
    }
    ++files;
  }
  return files;
}

Result<std::vector<TimestampBatch>> Archiver::Select(
    const std::optional<ArchiveHead>& head, std::optional<std::pair<int64_t, int64_t>> exact) {
  // Every record was numbered from 1 on: the next file starts right after the head.
  const int64_t start = head ? head->last_seq + 1 : 1;
  const int64_t cutoff_ms =
      clock_.NowMillis() -
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention.max_age).count();
  // The newest record stays, so that SQLite never numbers a new one at or below an
  // archived seq (it takes the highest left + 1).
  TROAD_ASSIGN_OR_RETURN(const int64_t max_seq, reader_->LastSeq());
  int64_t shipped_limit = std::numeric_limits<int64_t>::max();
  if (options_.require_shipped && options_.require_shipped()) {
    TROAD_ASSIGN_OR_RETURN(auto shipped, reader_->ShippedSeq());
    shipped_limit = shipped.value_or(0);
  }
  std::vector<TimestampBatch> out;
  int64_t records = 0;
  int64_t next = start;
  for (;;) {
    TROAD_ASSIGN_OR_RETURN(auto batches, reader_->BatchesFrom(next, 32));
    if (batches.empty()) break;
    for (TimestampBatch& b : batches) {
      if (b.first_seq != next) {
        return Fail(
            ErrorCode::kDataLoss,
            "the live log's batch of records {}..{} does not start at record {}, after "
            "the {}: troad verify-log names what is wrong; nothing is archived meanwhile",
            b.first_seq, b.last_seq, next,
            out.empty() ? (head ? "last archived record" : "start of the log") : "batch before it");
      }
      if (exact) {
        if (b.last_seq > exact->second) {
          return Fail(ErrorCode::kFailedPrecondition,
                      "records {}..{} do not end at a batch boundary in the live log", exact->first,
                      exact->second);
        }
      } else {
        const bool old = b.gen_time_ms <= cutoff_ms;
        const bool allowed = b.last_seq < max_seq && b.last_seq <= shipped_limit;
        const bool fits =
            out.empty() || records + b.size <= options_.retention.max_records_per_file;
        if (!old || !allowed || !fits) return out;
      }
      next = b.last_seq + 1;
      records += b.size;
      out.push_back(std::move(b));
      if (exact && next == exact->second + 1) return out;
    }
  }
  if (exact) {
    return Fail(ErrorCode::kFailedPrecondition, "records {}..{} are no longer in the live log",
                exact->first, exact->second);
  }
  return out;
}

Result<std::string> Archiver::Encode(const std::optional<ArchiveHead>& head,
                                     const std::vector<TimestampBatch>& batches,
                                     const ArchiveEncoder::Sink& sink) {
  ArchiveHeader header;
  header.gateway = options_.gateway_id;
  header.first_seq = batches.front().first_seq;
  header.last_seq = batches.back().last_seq;
  header.records = header.last_seq - header.first_seq + 1;
  header.batches = static_cast<int64_t>(batches.size());
  if (head) {
    header.previous_file = head->file;
    header.previous_sha256 = head->sha256_hex;
  }
  ArchiveEncoder encoder(sink);
  TROAD_RETURN_IF_ERROR(encoder.Begin(header));
  for (const TimestampBatch& b : batches) {
    TROAD_ASSIGN_OR_RETURN(auto records, reader_->RecordRange(b.first_seq, b.last_seq));
    TROAD_RETURN_IF_ERROR(encoder.Batch(b, records));
  }
  return encoder.Finish();
}

Result<std::optional<Archiver::Written>> Archiver::WriteNext() {
  const std::string& dir = options_.retention.archive_dir;
  TROAD_ASSIGN_OR_RETURN(const std::optional<ArchiveHead> head, reader_->LastArchive());
  std::vector<std::string> temporaries;
  TROAD_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListArchives(dir, &temporaries));
  // A .tmp file is a write a crash interrupted: never renamed, so never counted.
  for (const std::string& name : temporaries) {
    std::error_code ec;
    fs::remove(fs::path(dir) / name, ec);
    spdlog::warn("archiver: removed {}/{}, left by an interrupted write{}", dir, name,
                 ec ? ": " + ec.message() : "");
  }
  std::vector<Listed> after;
  for (Listed& l : listed) {
    if (!head || l.first_seq > head->last_seq) after.push_back(std::move(l));
  }
  if (after.size() > 1) {
    return Fail(ErrorCode::kFailedPrecondition,
                "{} holds {} archive files after the chain's head ({}): an operator must move "
                "away those that do not belong to this log",
                dir, after.size(), head ? head->file : "none");
  }

  auto written = std::make_optional<Written>();
  written->previous = head;
  if (after.size() == 1) {
    // A file whose records are still live: left by a pass stopped after writing it.
    // Only the file this pass would write itself may stand in for it.
    const Listed& l = after[0];
    const std::string path = (fs::path(dir) / l.name).string();
    auto batches = Select(head, std::make_pair(l.first_seq, l.last_seq));
    Result<std::string> expected =
        batches ? Encode(head, *batches, [](std::string_view) { return Ok(); })
                : Result<std::string>(Fail(batches.error()));
    TROAD_ASSIGN_OR_RETURN(std::string actual, Sha256OfFile(path));
    if (!expected || *expected != actual) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "{} is not the archive of the live records {}..{} after {}{}: it is left alone, "
                  "and nothing more is archived until an operator moves it away",
                  path, l.first_seq, l.last_seq, head ? head->file : "the start of the log",
                  expected ? "" : " (" + expected.error().message() + ")");
    }
    written->file = l.name;
    written->sha256_hex = actual;
    written->first_seq = l.first_seq;
    written->last_seq = l.last_seq;
    written->records = l.last_seq - l.first_seq + 1;
    written->batches = static_cast<int64_t>(batches->size());
    written->recovered = true;
    spdlog::info("archiver: {} was written before an interruption; removing its records now",
                 l.name);
    return written;
  }

  TROAD_ASSIGN_OR_RETURN(std::vector<TimestampBatch> batches, Select(head, std::nullopt));
  if (batches.empty()) return std::optional<Written>();
  const int64_t first = batches.front().first_seq;
  const int64_t last = batches.back().last_seq;
  written->file = ArchiveFileName(first, last);
  const std::string path = (fs::path(dir) / written->file).string();
  const std::string temp = path + std::string(kArchiveTempSuffix);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kIo, "cannot create {}: {}", temp, std::strerror(errno));
  }
  std::string buffer;
  auto flush = [&]() -> Status {
    TROAD_RETURN_IF_ERROR(WriteAll(fd.get(), buffer, temp));
    buffer.clear();
    return Ok();
  };
  auto sha = Encode(head, batches, [&](std::string_view bytes) -> Status {
    buffer.append(bytes);
    return buffer.size() >= (size_t{1} << 20) ? flush() : Ok();
  });
  Status st = sha ? flush() : Status(Fail(sha.error()));
  if (st && ::fsync(fd.get()) != 0) {
    st = Fail(ErrorCode::kIo, "cannot fsync {}: {}", temp, std::strerror(errno));
  }
  if (st && fd.Close() != 0) {
    st = Fail(ErrorCode::kIo, "cannot close {}: {}", temp, std::strerror(errno));
  }
  if (st && ::rename(temp.c_str(), path.c_str()) != 0) {
    st = Fail(ErrorCode::kIo, "cannot rename {} to {}: {}", temp, path, std::strerror(errno));
  }
  if (!st) {
    ::unlink(temp.c_str());
    return Fail(std::move(st).error());
  }
  // The rename must be durable before any row goes.
  TROAD_RETURN_IF_ERROR(SyncDirectory(dir));
  written->sha256_hex = *sha;
  written->first_seq = first;
  written->last_seq = last;
  written->records = last - first + 1;
  written->batches = static_cast<int64_t>(batches.size());
  return written;
}

Status Archiver::Remove(const Written& w) {
  ArchiveHead next;
  next.file = w.file;
  next.sha256_hex = w.sha256_hex;
  next.last_seq = w.last_seq;
  next.files = (w.previous ? w.previous->files : 0) + 1;
  next.records = (w.previous ? w.previous->records : 0) + w.records;
  next.updated_ms = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(log_.RemoveArchived(w.previous, next, w.first_seq));
  records_archived_.fetch_add(static_cast<uint64_t>(w.records));
  files_.fetch_add(1);
  last_archive_ms_.store(next.updated_ms);
  spdlog::info("archiver: records {}..{} ({} batches) moved from the live log to {}", w.first_seq,
               w.last_seq, w.batches, w.file);
  return Ok();
}

}  // namespace troad::gateway
