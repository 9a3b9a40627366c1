#include "central/ledger_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "core/thread.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "store/database.h"
#include "store/migrate.h"

namespace troad::central {

namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using ledger::Hash;
using ledger::LedgerEntry;

namespace {

constexpr store::Migration kServiceMigrations[] = {
    {ledger::kFirstExtraMigration, "ledger service: gateway sequence numbers and request ids",
     R"sql(
CREATE TABLE ledger_gateway_seq (
  gateway TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  idx     INTEGER NOT NULL,
  PRIMARY KEY (gateway, seq)
);
CREATE TABLE ledger_request (
  request_id TEXT    NOT NULL,
  idx        INTEGER NOT NULL,
  PRIMARY KEY (request_id, idx)
);
)sql"},
};

constexpr std::string_view kInsertSeq =
    "INSERT INTO ledger_gateway_seq (gateway, seq, idx) VALUES (?, ?, ?)";
constexpr std::string_view kInsertRequest =
    "INSERT INTO ledger_request (request_id, idx) VALUES (?, ?)";
constexpr std::string_view kSelectMaxSeq =
    "SELECT MAX(seq) FROM ledger_gateway_seq WHERE gateway = ?";
constexpr std::string_view kSelectHeld =
    "SELECT s.idx, e.entry FROM ledger_gateway_seq s JOIN ledger_entry e ON e.idx = s.idx "
    "WHERE s.gateway = ? AND s.seq = ?";
constexpr std::string_view kSelectExchange =
    "SELECT idx FROM ledger_request WHERE request_id = ? ORDER BY idx LIMIT ?";

constexpr std::string_view kJson = "application/json";
constexpr uint64_t kMaxNumber = (uint64_t{1} << 63) - 1;

// ---- Answers ------------------------------------------------------------------------

http::Response Answer(unsigned status, std::string body, std::string_view content_type,
                      const http::Request& req) {
  return http::MakeResponse(status, std::move(body), content_type, req.version(), req.keep_alive());
}

http::Response ErrorAnswer(unsigned status, std::string_view message, const http::Request& req) {
  std::string body;
  JsonWriter(body).BeginObject().Member("error", message).EndObject();
  return Answer(status, std::move(body), kJson, req);
}

// The status of an error of ours: a request that conflicts with the ledger's state
// (kFailedPrecondition, kAlreadyExists) is 409.
unsigned StatusFor(const Error& e) {
  if (e.code() == ErrorCode::kFailedPrecondition) return 409;
  return static_cast<unsigned>(HttpStatusFor(e.code()));
}

http::Response ErrorAnswer(const Error& e, const http::Request& req) {
  return ErrorAnswer(StatusFor(e), e.message(), req);
}

// A failure of the database or the key: logged in full, answered 500.
http::Response InternalError(std::string_view doing, const Error& e, const http::Request& req) {
  spdlog::error("ledger: {}: {}", doing, e.ToString());
  return ErrorAnswer(500, fmt::format("the ledger failed while {}", doing), req);
}

http::Response MethodNotAllowed(std::string_view allow, const http::Request& req) {
  auto res = ErrorAnswer(405, fmt::format("this ledger route takes {}", allow), req);
  res.set(bhttp::field::allow, allow);
  return res;
}

std::string B64(const Hash& h) { return Base64Encode(std::span<const uint8_t>(h)); }

void WriteHashes(JsonWriter& w, std::span<const Hash> hashes) {
  w.BeginArray();
  for (const Hash& h : hashes) w.String(B64(h));
  w.EndArray();
}

// The answer to a proof route: {"<a>":n,"<b>":m,"proof":["<b64>",…]}.
http::Response ProofAnswer(std::pair<std::string_view, uint64_t> a,
                           std::pair<std::string_view, uint64_t> b, std::span<const Hash> proof,
                           const http::Request& req) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Member(a.first, a.second).Member(b.first, b.second).Key("proof");
  WriteHashes(w, proof);
  w.EndObject();
  return Answer(200, std::move(out), kJson, req);
}

// {"entries":[{"index":i,"entry":"<b64>"},…]}
std::string EntriesJson(std::span<const ledger::LogEntry> entries) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("entries").BeginArray();
  for (const ledger::LogEntry& e : entries) {
    w.BeginObject().Member("index", e.index).Member("entry", Base64Encode(e.bytes)).EndObject();
  }
  w.EndArray().EndObject();
  return body;
}

// ---- Query strings --------------------------------------------------------------------

using Params = std::map<std::string, std::string, std::less<>>;

// The parameters of `query` ("a=1&b=x%2By"): each one of `allowed`, each at most once.
Result<Params> ParseQuery(std::string_view query, std::initializer_list<std::string_view> allowed) {
  Params out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    Result<std::string> key = PercentDecode(pair.substr(0, eq));
    Result<std::string> value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) {
      return Fail(ErrorCode::kInvalidArgument, "query: malformed percent-encoding in \"{}\"",
                  EscapeForLog(pair, 80));
    }
    if (std::find(allowed.begin(), allowed.end(), *key) == allowed.end()) {
      std::string takes;
      for (std::string_view a : allowed) takes += (takes.empty() ? "" : ", ") + std::string(a);
      return Fail(ErrorCode::kInvalidArgument,
                  "query: unknown parameter \"{}\" (this request takes {})", EscapeForLog(*key, 40),
                  takes.empty() ? "none" : takes);
    }
    if (!out.emplace(std::move(*key), std::move(*value)).second) {
      return Fail(ErrorCode::kInvalidArgument, "query: parameter \"{}\" is given twice",
                  EscapeForLog(pair.substr(0, eq), 40));
    }
  }
  return out;
}

// A canonical decimal number 0 … 2^63 − 1; `fallback` when the parameter is absent (an
// error naming it when there is none).
Result<uint64_t> Number(const Params& params, std::string_view key,
                        std::optional<uint64_t> fallback = std::nullopt) {
  auto it = params.find(key);
  if (it == params.end()) {
    if (fallback) return *fallback;
    return Fail(ErrorCode::kInvalidArgument, "query: {} is required", key);
  }
  const std::string& text = it->second;
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (text.size() > 1 && text[0] == '0')) {
    return Fail(ErrorCode::kInvalidArgument,
                "query: {} \"{}\" is not a canonical decimal number (digits, no sign, no "
                "leading zero)",
                key, EscapeForLog(text, 40));
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > kMaxNumber) {
    return Fail(ErrorCode::kInvalidArgument, "query: {} {} is larger than 2^63 - 1", key,
                EscapeForLog(text, 40));
  }
  return value;
}

// A tree size named by the caller: at most the log's size.
Result<uint64_t> TreeSize(const Params& params, std::string_view key, uint64_t log_size) {
  TROAD_ASSIGN_OR_RETURN(uint64_t size, Number(params, key, log_size));
  if (size > log_size) {
    return Fail(ErrorCode::kInvalidArgument, "query: {} {} is beyond the ledger's size {}", key,
                size, log_size);
  }
  return size;
}

// ---- add-entries ------------------------------------------------------------------------

// The body of an add-entries request, its entries not yet parsed.
struct AddBody {
  std::string gateway;
  uint64_t known_size = 0;
  std::vector<std::string> entries;  // the entries' bytes, base64-decoded
};

Result<AddBody> ParseAddBody(std::string_view body) {
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(body, "add-entries body", 2));
  if (!doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "add-entries body: expected a JSON object");
  }
  for (const auto& item : doc.items()) {
    if (item.key() != "gateway" && item.key() != "known_size" && item.key() != "entries") {
      return Fail(ErrorCode::kInvalidArgument,
                  "add-entries body: unknown member \"{}\" (it has gateway, known_size, entries)",
                  EscapeForLog(item.key(), 40));
    }
  }
  JsonErrors errors;
  JsonView root(&doc, "", &errors);
  AddBody out;
  out.gateway = root.String("gateway", true, 1024);
  out.known_size = static_cast<uint64_t>(
      root.Int("known_size", true, 0, 0, std::numeric_limits<int64_t>::max()));
  std::vector<JsonView> entries = root.Array("entries", true);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("add-entries body"));
  if (Result<GatewayId> id = GatewayId::Parse(out.gateway); !id || id->ToString() != out.gateway) {
    return Fail(ErrorCode::kInvalidArgument,
                "add-entries body: gateway \"{}\" is not a gateway id{}",
                EscapeForLog(out.gateway, 100), id ? "" : ": " + id.error().message());
  }
  if (entries.empty() || entries.size() > ledger::kMaxLedgerAddEntries) {
    return Fail(ErrorCode::kInvalidArgument,
                "add-entries body: entries has {} elements; send 1 … {} at a time", entries.size(),
                ledger::kMaxLedgerAddEntries);
  }
  out.entries.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string text = entries[i].AsString();
    TROAD_RETURN_IF_ERROR(errors.ToStatus("add-entries body"));
    Result<std::string> bytes = Base64Decode(text);
    if (!bytes) {
      return Fail(ErrorCode::kInvalidArgument, "add-entries body: entries[{}] is not base64: {}", i,
                  bytes.error().message());
    }
    out.entries.push_back(std::move(*bytes));
  }
  return out;
}

// Parses the entries and checks that each names `gateway` and their seqs increase.
Result<std::vector<LedgerEntry>> ParseEntries(const AddBody& body) {
  std::vector<LedgerEntry> out;
  out.reserve(body.entries.size());
  for (size_t i = 0; i < body.entries.size(); ++i) {
    Result<LedgerEntry> e = ledger::ParseLedgerEntry(body.entries[i]);
    if (!e) return Fail(std::move(e.error()).Context(fmt::format("entries[{}]", i)));
    if (e->gateway != body.gateway) {
      return Fail(ErrorCode::kInvalidArgument,
                  "entries[{}] (seq {}) names gateway {}, not the submitting gateway {}", i, e->seq,
                  e->gateway, body.gateway);
    }
    if (!out.empty() && e->seq <= out.back().seq) {
      return Fail(ErrorCode::kInvalidArgument,
                  "entries[{}] has seq {}, not above the seq {} of entries[{}]: seqs must "
                  "strictly increase",
                  i, e->seq, out.back().seq, i - 1);
    }
    out.push_back(std::move(*e));
  }
  return out;
}

// The index of each of `entries` that the ledger holds already for `gateway` (nullopt
// for the others). Only seqs up to the gateway's highest held one are looked up, one by
// one: a gateway ships in seq order, so usually none is. kAlreadyExists naming the entry
// when a held seq has other bytes than `bytes`; database errors are passed on.
Result<std::vector<std::optional<uint64_t>>> HeldIndices(store::Database& db,
                                                         const std::string& gateway,
                                                         std::span<const LedgerEntry> entries,
                                                         std::span<const std::string> bytes) {
  std::vector<std::optional<uint64_t>> out(entries.size());
  TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> max_rows, db.Query(kSelectMaxSeq, {gateway}));
  int64_t max_held = 0;
  if (!max_rows.empty() && !max_rows[0].IsNull(0)) {
    TROAD_ASSIGN_OR_RETURN(max_held, max_rows[0].Int(0));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const int64_t seq = entries[i].seq;
    if (seq > max_held) break;  // seqs increase
    TROAD_ASSIGN_OR_RETURN(std::vector<store::Row> rows, db.Query(kSelectHeld, {gateway, seq}));
    if (rows.empty()) continue;
    TROAD_ASSIGN_OR_RETURN(int64_t idx, rows[0].Int(0));
    TROAD_ASSIGN_OR_RETURN(std::string held, rows[0].Bytes(1));
    if (idx < 0) {
      return Fail(ErrorCode::kDataLoss, "ledger_gateway_seq names index {} for seq {} of {}", idx,
                  seq, gateway);
    }
    if (held != bytes[i]) {
      return Fail(ErrorCode::kAlreadyExists,
                  "entries[{}]: the ledger holds another entry for seq {} of gateway {} (at "
                  "index {})",
                  i, seq, gateway, idx);
    }
    out[i] = static_cast<uint64_t>(idx);
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A gateway's authentication certificate.
struct Signer {
  std::string gateway;  // GatewayId text
  crypto::Certificate certificate;
};

// Whose certificate `fingerprint` is, if it is a current, unrevoked authentication
// certificate of a gateway of `conf`: kPermissionDenied saying why not.
Result<Signer> GatewaySigner(const globalconf::GlobalConf& conf, const std::string& fingerprint,
                             SystemTime now) {
  const globalconf::CertificateOwner* owner = conf.OwnerOf(fingerprint);
  if (owner == nullptr) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} is not in the published global configuration", fingerprint);
  }
  if (owner->kind != globalconf::CertificateOwner::Kind::kGatewayAuthentication) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} is {}'s signing certificate, not a gateway authentication "
                "certificate",
                fingerprint, owner->owner);
  }
  Result<GatewayId> id = GatewayId::Parse(owner->owner);
  if (!id || conf.FindGateway(*id) == nullptr) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} belongs to {}, which is not a gateway of the global "
                "configuration",
                fingerprint, owner->owner);
  }
  if (conf.IsRevoked(fingerprint)) {
    return Fail(ErrorCode::kPermissionDenied, "certificate {} of gateway {} is revoked",
                fingerprint, owner->owner);
  }
  const crypto::Certificate& cert = owner->certificate;
  if (now < cert.NotBefore() || now >= cert.NotAfter()) {
    return Fail(ErrorCode::kPermissionDenied,
                "certificate {} of gateway {} is not valid now ({} .. {})", fingerprint,
                owner->owner, FormatRfc3339(cert.NotBefore()), FormatRfc3339(cert.NotAfter()));
  }
  if (Status chain = conf.trust().Verify(cert, {}, now); !chain) {
    return Fail(ErrorCode::kPermissionDenied, "certificate {} of gateway {}: {}", fingerprint,
                owner->owner, chain.error().message());
  }
  return Signer{owner->owner, cert};
}

}  // namespace

struct LedgerService::Call {
  const http::Request& req;
  std::string_view route;  // the path after "/ledger/v1/"
  std::string_view query;  // after '?', or empty
};

LedgerService::LedgerService(std::unique_ptr<ledger::Log> log, crypto::PrivateKey key,
                             std::string origin, const Clock& clock, ConfSource conf)
    : log_(std::move(log)),
      key_(std::move(key)),
      origin_(std::move(origin)),
      clock_(clock),
      conf_(std::move(conf)),
      size_(log_->Size()) {
  asio::post(worker_, [] { LowerThreadPriority("ledger worker"); });
}

asio::awaitable<http::Response> LedgerService::Serve(const http::Request& req) {
  co_return co_await asio::co_spawn(
      worker_, [this, &req]() -> asio::awaitable<http::Response> { co_return Handle(req); },
      asio::use_awaitable);
}

Result<std::unique_ptr<LedgerService>> LedgerService::Create(const LedgerOptions& options,
                                                             const std::string& db_path,
                                                             const Clock& clock, ConfSource conf) {
  if (options.key_file.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "[ledger] key is not set: the ledger needs its key");
  }
  if (!conf) {
    return Fail(ErrorCode::kInvalidArgument, "the ledger needs a global configuration source");
  }
  Result<crypto::PrivateKey> key = crypto::PrivateKey::LoadPemFile(options.key_file);
  if (!key) {
    return Fail(std::move(key.error()).Context(fmt::format("[ledger] key {}", options.key_file)));
  }
  if (key->type() != crypto::KeyType::kEcP256) {
    return Fail(ErrorCode::kInvalidArgument,
                "[ledger] key {} is not an ECDSA P-256 key (checkpoints are signed ES256)",
                options.key_file);
  }
  ledger::Checkpoint probe;
  probe.origin = options.origin;
  if (Result<std::string> text = ledger::CheckpointText(probe); !text) {
    return Fail(std::move(text.error()).Context("[ledger] origin"));
  }
  Result<std::unique_ptr<store::Database>> db = store::OpenSqlite(db_path);  // synchronous=FULL
  if (!db) return Fail(std::move(db.error()).Context(fmt::format("ledger database {}", db_path)));
  Result<std::unique_ptr<ledger::Log>> log =
      ledger::Log::Open(std::move(*db), clock, kServiceMigrations);
  if (!log) return Fail(std::move(log.error()).Context(fmt::format("ledger database {}", db_path)));
  spdlog::info("ledger {}: {} entries in {}", options.origin, (*log)->Size(), db_path);
  return std::unique_ptr<LedgerService>(
      new LedgerService(std::move(*log), std::move(*key), options.origin, clock, std::move(conf)));
}

http::Response LedgerService::Handle(const http::Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  Call call{req, {}, q == std::string_view::npos ? std::string_view() : target.substr(q + 1)};
  const std::string prefix = std::string(ledger::kLedgerApiPrefix) + "/";
  if (!path.starts_with(prefix)) {
    return ErrorAnswer(404, fmt::format("no ledger route {}", EscapeForLog(path, 100)), req);
  }
  call.route = path.substr(prefix.size());
  if (call.route == "add-entries") {
    add_requests_.fetch_add(1, std::memory_order_relaxed);
    http::Response res = AddEntries(call);
    if (res.result_int() >= 400) add_refusals_.fetch_add(1, std::memory_order_relaxed);
    return res;
  }
  return Route(call);
}

http::Response LedgerService::Route(Call& call) {
  using Handler = http::Response (LedgerService::*)(Call&);
  static constexpr std::pair<std::string_view, Handler> kRoutes[] = {
      {"checkpoint", &LedgerService::GetCheckpoint},
      {"proof", &LedgerService::GetProof},
      {"proof-by-hash", &LedgerService::GetProofByHash},
      {"consistency", &LedgerService::GetConsistency},
      {"entries", &LedgerService::GetEntries},
      {"exchange", &LedgerService::GetExchange},
  };
  for (const auto& [name, handler] : kRoutes) {
    if (call.route != name) continue;
    if (call.req.method() != bhttp::verb::get) return MethodNotAllowed("GET", call.req);
    return (this->*handler)(call);
  }
  return ErrorAnswer(
      404,
      fmt::format("no ledger route {}/{}", ledger::kLedgerApiPrefix, EscapeForLog(call.route, 100)),
      call.req);
}

Result<std::string> LedgerService::LatestCheckpoint() {
  const uint64_t size = log_->Size();
  if (checkpoint_ && checkpoint_size_ == size) return *checkpoint_;
  ledger::Checkpoint c;
  c.origin = origin_;
  c.size = size;
  c.root = log_->Root();
  // Never earlier than the last one, should the clock step back.
  c.timestamp_ms = std::max(clock_.NowMillis(), checkpoint_time_ms_);
  TROAD_ASSIGN_OR_RETURN(std::string note, ledger::SignCheckpoint(c, key_));
  checkpoint_ = note;
  checkpoint_size_ = size;
  checkpoint_time_ms_ = c.timestamp_ms;
  return note;
}

http::Response LedgerService::AddEntries(Call& call) {
  const http::Request& req = call.req;
  if (req.method() != bhttp::verb::post) return MethodNotAllowed("POST", req);
  if (!call.query.empty()) {
    return ErrorAnswer(400, "add-entries takes no query parameters", req);
  }
  const auto ctype = req[bhttp::field::content_type];
  std::string_view media(ctype.data(), ctype.size());
  media = media.substr(0, media.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!boost::beast::iequals(media, kJson)) {
    return ErrorAnswer(415, "add-entries takes Content-Type: application/json", req);
  }
  const std::string& body = req.body();
  if (body.empty()) return ErrorAnswer(400, "add-entries: the body is empty", req);
  if (body.size() > ledger::kMaxLedgerAddBodyBytes) {
    return ErrorAnswer(413,
                       fmt::format("add-entries: the body is {} bytes, more than {}", body.size(),
                                   ledger::kMaxLedgerAddBodyBytes),
                       req);
  }
  const std::shared_ptr<const globalconf::GlobalConf> conf = conf_();
  if (!conf) {
    return ErrorAnswer(503, "no global configuration is published yet: try again later", req);
  }

  // Who signs.
  const auto fp_field = req[ledger::kLedgerCertificateHeader];
  const std::string fingerprint(fp_field.data(), fp_field.size());
  if (fingerprint.size() != 64 || !IsLowerHex(fingerprint)) {
    return ErrorAnswer(400,
                       fmt::format("{} must be the lower-case hex SHA-256 of the gateway's "
                                   "authentication certificate (64 characters)",
                                   ledger::kLedgerCertificateHeader),
                       req);
  }
  const auto sig_field = req[ledger::kLedgerSignatureHeader];
  if (sig_field.empty()) {
    return ErrorAnswer(400, fmt::format("{} is missing", ledger::kLedgerSignatureHeader), req);
  }
  Result<std::string> signature =
      Base64Decode(std::string_view(sig_field.data(), sig_field.size()));
  if (!signature || signature->empty()) {
    return ErrorAnswer(400,
                       fmt::format("{} is not base64: {}", ledger::kLedgerSignatureHeader,
                                   signature ? "empty" : signature.error().message()),
                       req);
  }
  // The signature is checked before the body is parsed: nothing of an unauthenticated
  // body is read.
  Result<Signer> signer = GatewaySigner(*conf, fingerprint, clock_.Now());
  if (!signer) return ErrorAnswer(signer.error(), req);
  const crypto::PublicKey signer_key = signer->certificate.GetPublicKey();
  std::string signed_bytes(ledger::kLedgerAddSignaturePrefix);
  signed_bytes += body;
  if (Status ok = signer_key.Verify(signed_bytes, *signature, signer_key.Algorithm()); !ok) {
    return ErrorAnswer(401,
                       fmt::format("{} does not verify with certificate {} of gateway {}: {}",
                                   ledger::kLedgerSignatureHeader, fingerprint, signer->gateway,
                                   ok.error().message()),
                       req);
  }
  Result<AddBody> parsed = ParseAddBody(body);
  if (!parsed) return ErrorAnswer(parsed.error(), req);
  AddBody& add = *parsed;
  if (add.gateway != signer->gateway) {
    return ErrorAnswer(403,
                       fmt::format("certificate {} is gateway {}'s, not gateway {}'s: a gateway "
                                   "adds only its own entries",
                                   fingerprint, signer->gateway, add.gateway),
                       req);
  }

  Result<std::vector<LedgerEntry>> entries = ParseEntries(add);
  if (!entries) return ErrorAnswer(entries.error(), req);
  const uint64_t before = log_->Size();
  if (add.known_size > before) {
    spdlog::warn(
        "ledger: gateway {} says it accepted a checkpoint of size {}, but the ledger "
        "holds {} entries",
        add.gateway, add.known_size, before);
    return ErrorAnswer(409,
                       fmt::format("known_size {} is larger than the ledger ({} entries): the "
                                   "ledger does not hold what it signed for",
                                   add.known_size, before),
                       req);
  }

  Result<std::vector<std::optional<uint64_t>>> held =
      HeldIndices(log_->database(), add.gateway, *entries, add.entries);
  if (!held) {
    if (held.error().code() != ErrorCode::kAlreadyExists) {
      return InternalError("reading the entries held", held.error(), req);
    }
    spdlog::warn("ledger: gateway {}: {}", add.gateway, held.error().message());
    return ErrorAnswer(409, held.error().message(), req);
  }
  std::vector<std::optional<uint64_t>>& index = *held;
  std::vector<size_t> fresh;  // the entries to append
  for (size_t i = 0; i < index.size(); ++i) {
    if (!index[i]) fresh.push_back(i);
  }

  if (!fresh.empty()) {
    std::vector<std::string> batch;
    batch.reserve(fresh.size());
    for (size_t i : fresh) batch.push_back(add.entries[i]);
    const ledger::AppendHook record = [&](store::Database& tx_db, uint64_t first) -> Status {
      for (size_t k = 0; k < fresh.size(); ++k) {
        const LedgerEntry& e = (*entries)[fresh[k]];
        const auto idx = static_cast<int64_t>(first + k);
        TROAD_RETURN_IF_ERROR(tx_db.Execute(kInsertSeq, {add.gateway, e.seq, idx}));
        TROAD_RETURN_IF_ERROR(tx_db.Execute(kInsertRequest, {e.request_id, idx}));
      }
      return Ok();
    };
    Result<uint64_t> first = log_->AppendBatch(batch, record);
    if (!first) return InternalError("appending entries", first.error(), req);
    for (size_t k = 0; k < fresh.size(); ++k) index[fresh[k]] = *first + k;
    size_.store(log_->Size(), std::memory_order_relaxed);
    entries_added_.fetch_add(fresh.size(), std::memory_order_relaxed);
  }

  // The signed promise: a checkpoint that includes every index, and its proofs.
  Result<std::string> note = LatestCheckpoint();
  if (!note) return InternalError("signing a checkpoint", note.error(), req);
  const uint64_t size = checkpoint_size_;
  std::vector<Hash> consistency;
  if (add.known_size > 0) {
    Result<std::vector<Hash>> proof = log_->ConsistencyProof(add.known_size, size);
    if (!proof) return InternalError("making a consistency proof", proof.error(), req);
    consistency = std::move(*proof);
  }
  const uint64_t last = *index.back();
  Result<std::vector<Hash>> inclusion = log_->InclusionProof(last, size);
  if (!inclusion) return InternalError("making an inclusion proof", inclusion.error(), req);

  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("entries").BeginArray();
  for (size_t i = 0; i < entries->size(); ++i) {
    w.BeginObject().Member("seq", (*entries)[i].seq).Member("index", *index[i]).EndObject();
  }
  w.EndArray().Member("checkpoint", *note);
  if (add.known_size > 0) {
    w.Key("consistency");
    WriteHashes(w, consistency);
  }
  w.Key("inclusion").BeginObject().Member("index", last).Key("proof");
  WriteHashes(w, *inclusion);
  w.EndObject().EndObject();
  if (!fresh.empty()) {
    spdlog::debug("ledger: gateway {} added {} entries ({} resent), size {}", add.gateway,
                  fresh.size(), entries->size() - fresh.size(), size);
  }
  auto res = Answer(200, std::move(out), kJson, req);
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

http::Response LedgerService::GetCheckpoint(Call& call) {
  Result<Params> params = ParseQuery(call.query, {});
  if (!params) return ErrorAnswer(params.error(), call.req);
  Result<std::string> note = LatestCheckpoint();
  if (!note) return InternalError("signing a checkpoint", note.error(), call.req);
  auto res = Answer(200, std::move(*note), "text/plain; charset=utf-8", call.req);
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

http::Response LedgerService::GetProof(Call& call) {
  const uint64_t log_size = log_->Size();
  Result<Params> params = ParseQuery(call.query, {"index", "size"});
  if (!params) return ErrorAnswer(params.error(), call.req);
  Result<uint64_t> index = Number(*params, "index");
  if (!index) return ErrorAnswer(index.error(), call.req);
  Result<uint64_t> size = TreeSize(*params, "size", log_size);
  if (!size) return ErrorAnswer(size.error(), call.req);
  if (*index >= *size) {
    return ErrorAnswer(400, fmt::format("query: index {} is not below size {}", *index, *size),
                       call.req);
  }
  Result<std::vector<Hash>> proof = log_->InclusionProof(*index, *size);
  if (!proof) return InternalError("making an inclusion proof", proof.error(), call.req);
  return ProofAnswer({"index", *index}, {"size", *size}, *proof, call.req);
}

http::Response LedgerService::GetProofByHash(Call& call) {
  const uint64_t log_size = log_->Size();
  Result<Params> params = ParseQuery(call.query, {"hash", "size"});
  if (!params) return ErrorAnswer(params.error(), call.req);
  auto it = params->find("hash");
  if (it == params->end()) return ErrorAnswer(400, "query: hash is required", call.req);
  Result<std::string> bytes = Base64Decode(it->second);
  Hash leaf{};
  if (!bytes || bytes->size() != leaf.size() || Base64Encode(*bytes) != it->second) {
    return ErrorAnswer(400,
                       fmt::format("query: hash \"{}\" is not the base64 (padded, '+' as %2B) "
                                   "of a 32-byte leaf hash",
                                   EscapeForLog(it->second, 60)),
                       call.req);
  }
  std::copy(bytes->begin(), bytes->end(), leaf.begin());
  Result<uint64_t> size = TreeSize(*params, "size", log_size);
  if (!size) return ErrorAnswer(size.error(), call.req);
  Result<uint64_t> index = log_->LeafIndex(leaf);
  if (!index) {
    if (index.error().code() != ErrorCode::kNotFound) {
      return InternalError("looking up a leaf hash", index.error(), call.req);
    }
    return ErrorAnswer(404, fmt::format("no entry of the ledger has leaf hash {}", it->second),
                       call.req);
  }
  if (*index >= *size) {
    return ErrorAnswer(404,
                       fmt::format("the first entry with leaf hash {} is at index {}, not "
                                   "within the tree of size {}",
                                   it->second, *index, *size),
                       call.req);
  }
  Result<std::vector<Hash>> proof = log_->InclusionProof(*index, *size);
  if (!proof) return InternalError("making an inclusion proof", proof.error(), call.req);
  return ProofAnswer({"index", *index}, {"size", *size}, *proof, call.req);
}

http::Response LedgerService::GetConsistency(Call& call) {
  const uint64_t log_size = log_->Size();
  Result<Params> params = ParseQuery(call.query, {"first", "second"});
  if (!params) return ErrorAnswer(params.error(), call.req);
  Result<uint64_t> first = Number(*params, "first");
  if (!first) return ErrorAnswer(first.error(), call.req);
  Result<uint64_t> second = TreeSize(*params, "second", log_size);
  if (!second) return ErrorAnswer(second.error(), call.req);
  if (*first > *second) {
    return ErrorAnswer(400, fmt::format("query: first {} is above second {}", *first, *second),
                       call.req);
  }
  Result<std::vector<Hash>> proof = log_->ConsistencyProof(*first, *second);
  if (!proof) return InternalError("making a consistency proof", proof.error(), call.req);
  return ProofAnswer({"first", *first}, {"second", *second}, *proof, call.req);
}

http::Response LedgerService::GetEntries(Call& call) {
  const uint64_t log_size = log_->Size();
  Result<Params> params = ParseQuery(call.query, {"start", "end"});
  if (!params) return ErrorAnswer(params.error(), call.req);
  Result<uint64_t> start = Number(*params, "start");
  if (!start) return ErrorAnswer(start.error(), call.req);
  Result<uint64_t> end = Number(*params, "end");
  if (!end) return ErrorAnswer(end.error(), call.req);
  if (*start > *end || *end > log_size) {
    return ErrorAnswer(400,
                       fmt::format("query: start {} and end {} are not a range within the "
                                   "ledger's {} entries (start ≤ end ≤ size)",
                                   *start, *end, log_size),
                       call.req);
  }
  Result<std::vector<ledger::LogEntry>> entries =
      log_->Entries(*start, *end, ledger::kMaxLedgerReadEntries);
  if (!entries) return InternalError("reading entries", entries.error(), call.req);
  return Answer(200, EntriesJson(*entries), kJson, call.req);
}

http::Response LedgerService::GetExchange(Call& call) {
  Result<Params> params = ParseQuery(call.query, {"request_id"});
  if (!params) return ErrorAnswer(params.error(), call.req);
  auto it = params->find("request_id");
  if (it == params->end()) return ErrorAnswer(400, "query: request_id is required", call.req);
  if (Status ok = CheckText("query: request_id", it->second, ledger::kMaxLedgerTextBytes,
                            /*required=*/true, /*multiline=*/false);
      !ok) {
    return ErrorAnswer(ok.error(), call.req);
  }
  Result<std::vector<store::Row>> rows = log_->database().Query(
      kSelectExchange, {it->second, static_cast<int64_t>(ledger::kMaxLedgerExchangeEntries)});
  if (!rows) return InternalError("looking up a request id", rows.error(), call.req);
  std::vector<ledger::LogEntry> entries;
  entries.reserve(rows->size());
  for (const store::Row& row : *rows) {
    Result<int64_t> idx = row.Int(0);
    if (!idx || *idx < 0 || static_cast<uint64_t>(*idx) >= log_->Size()) {
      return InternalError(
          "looking up a request id",
          idx ? Error(ErrorCode::kDataLoss,
                      fmt::format("ledger_request names index {}, outside the log", *idx))
              : idx.error(),
          call.req);
    }
    const auto i = static_cast<uint64_t>(*idx);
    Result<std::vector<ledger::LogEntry>> one = log_->Entries(i, i + 1);
    if (!one || one->size() != 1) {
      return InternalError("reading an entry",
                           one ? Error(ErrorCode::kDataLoss, "entry missing") : one.error(),
                           call.req);
    }
    entries.push_back(std::move((*one)[0]));
  }
  return Answer(200, EntriesJson(entries), kJson, call.req);
}

}  // namespace troad::central
