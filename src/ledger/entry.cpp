#include "ledger/entry.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/json_writer.h"

namespace troad::ledger {
namespace {

// The keys of §12.1, in the order an entry writes them.
constexpr std::string_view kKeyOrder[] = {
    "gateway",          "seq",          "side",          "message_id", "request_id",
    "client",           "service",      "status",        "fault",      "request_time_ms",
    "response_time_ms", "request_hash", "response_hash", "record"};

constexpr size_t kSha512Bytes = 64;
constexpr size_t kRecordHexChars = 64;
constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, "ledger entry " + std::move(message));
}

Status CheckHash(std::string_view key, std::string_view value) {
  if (value.empty()) return Ok();
  Result<std::string> bytes = Base64Decode(value);
  if (!bytes || bytes->size() != kSha512Bytes || Base64Encode(*bytes) != value) {
    return Fail(Invalid(
        fmt::format("{} \"{}\" is neither \"\" nor the base64 (padded) of a 64-byte SHA-512 value",
                    key, EscapeForLog(value, 100))));
  }
  return Ok();
}

Status Validate(const LedgerEntry& e) {
  Result<GatewayId> gateway = GatewayId::Parse(e.gateway);
  if (!gateway) {
    return Fail(Invalid(fmt::format("gateway \"{}\" is not a gateway id: {}",
                                    EscapeForLog(e.gateway, 100), gateway.error().message())));
  }
  if (gateway->ToString() != e.gateway) {
    return Fail(Invalid(fmt::format("gateway \"{}\" is not written as {}",
                                    EscapeForLog(e.gateway, 100), gateway->ToString())));
  }
  if (e.seq < 1) return Fail(Invalid(fmt::format("seq {} is not positive", e.seq)));
  if (e.side != kLedgerSideConsumer && e.side != kLedgerSideProvider) {
    return Fail(Invalid(
        fmt::format("side \"{}\" is neither consumer nor provider", EscapeForLog(e.side, 40))));
  }
  const std::pair<std::string_view, const std::string*> texts[] = {{"message_id", &e.message_id},
                                                                   {"request_id", &e.request_id},
                                                                   {"client", &e.client},
                                                                   {"service", &e.service},
                                                                   {"fault", &e.fault}};
  for (const auto& [key, value] : texts) {
    TROAD_RETURN_IF_ERROR(CheckText(fmt::format("ledger entry {}", key), *value,
                                    kMaxLedgerTextBytes, key == "request_id",
                                    /*multiline=*/false));
  }
  if (e.status < 0 || e.status > 999) {
    return Fail(Invalid(fmt::format("status {} is not within 0 … 999", e.status)));
  }
  if (e.request_time_ms < 0) {
    return Fail(Invalid(fmt::format("request_time_ms {} is negative", e.request_time_ms)));
  }
  if (e.response_time_ms < 0) {
    return Fail(Invalid(fmt::format("response_time_ms {} is negative", e.response_time_ms)));
  }
  TROAD_RETURN_IF_ERROR(CheckHash("request_hash", e.request_hash));
  TROAD_RETURN_IF_ERROR(CheckHash("response_hash", e.response_hash));
  const bool hex = e.record.size() == kRecordHexChars &&
                   std::all_of(e.record.begin(), e.record.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  if (!hex) {
    return Fail(Invalid(fmt::format("record \"{}\" is not 64 lower-case hex characters",
                                    EscapeForLog(e.record, 100))));
  }
  return Ok();
}

// The bytes of a valid entry.
std::string Write(const LedgerEntry& e) {
  std::string out(kLedgerEntryPrefix);
  out.reserve(512);
  JsonWriter w(out);
  w.BeginObject()
      .Member("gateway", e.gateway)
      .Member("seq", e.seq)
      .Member("side", e.side)
      .Member("message_id", e.message_id)
      .Member("request_id", e.request_id)
      .Member("client", e.client)
      .Member("service", e.service)
      .Member("status", e.status)
      .Member("fault", e.fault)
      .Member("request_time_ms", e.request_time_ms)
      .Member("response_time_ms", e.response_time_ms)
      .Member("request_hash", e.request_hash)
      .Member("response_hash", e.response_hash)
      .Member("record", e.record)
      .EndObject();
  return out;
}

Status ReadString(const nlohmann::json& object, std::string_view key, std::string& out) {
  const nlohmann::json& v = object.at(std::string(key));
  if (!v.is_string()) return Fail(Invalid(fmt::format("{}: expected a string", key)));
  out = v.get<std::string>();
  return Ok();
}

Result<int64_t> ReadInt(const nlohmann::json& object, std::string_view key, int64_t min,
                        int64_t max) {
  const nlohmann::json& v = object.at(std::string(key));
  if (!v.is_number_integer()) return Fail(Invalid(fmt::format("{}: expected an integer", key)));
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxInt)) {
    return Fail(Invalid(fmt::format("{}: {} is out of range [{}, {}]", key, v.dump(), min, max)));
  }
  const auto n = v.get<int64_t>();
  if (n < min || n > max) {
    return Fail(Invalid(fmt::format("{}: {} is out of range [{}, {}]", key, n, min, max)));
  }
  return n;
}

}  // namespace

Result<std::string> EncodeLedgerEntry(const LedgerEntry& e) {
  TROAD_RETURN_IF_ERROR(Validate(e));
  std::string out = Write(e);
  if (out.size() > kMaxLedgerEntryBytes) {
    return Fail(Invalid(fmt::format("of seq {} would be {} bytes, more than {}", e.seq, out.size(),
                                    kMaxLedgerEntryBytes)));
  }
  return out;
}

Result<LedgerEntry> ParseLedgerEntry(std::string_view bytes) {
  if (bytes.size() > kMaxLedgerEntryBytes) {
    return Fail(
        Invalid(fmt::format("is {} bytes, more than {}", bytes.size(), kMaxLedgerEntryBytes)));
  }
  if (!bytes.starts_with(kLedgerEntryPrefix)) {
    return Fail(Invalid("does not start with \"troad-ledger/1\" and a newline"));
  }
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc,
                         ParseJson(bytes.substr(kLedgerEntryPrefix.size()), "ledger entry",
                                   /*max_depth=*/1));
  if (!doc.is_object()) return Fail(Invalid("is not a JSON object"));
  for (const auto& item : doc.items()) {
    if (std::find(std::begin(kKeyOrder), std::end(kKeyOrder), item.key()) == std::end(kKeyOrder)) {
      return Fail(Invalid(fmt::format("has an unknown key \"{}\"", EscapeForLog(item.key(), 60))));
    }
  }
  for (std::string_view key : kKeyOrder) {
    if (!doc.contains(std::string(key))) {
      return Fail(Invalid(fmt::format("has no key \"{}\"", key)));
    }
  }

  LedgerEntry e;
  TROAD_RETURN_IF_ERROR(ReadString(doc, "gateway", e.gateway));
  TROAD_ASSIGN_OR_RETURN(e.seq, ReadInt(doc, "seq", 1, kMaxInt));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "side", e.side));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "message_id", e.message_id));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "request_id", e.request_id));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "client", e.client));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "service", e.service));
  TROAD_ASSIGN_OR_RETURN(int64_t status, ReadInt(doc, "status", 0, 999));
  e.status = static_cast<int>(status);
  TROAD_RETURN_IF_ERROR(ReadString(doc, "fault", e.fault));
  TROAD_ASSIGN_OR_RETURN(e.request_time_ms, ReadInt(doc, "request_time_ms", 0, kMaxInt));
  TROAD_ASSIGN_OR_RETURN(e.response_time_ms, ReadInt(doc, "response_time_ms", 0, kMaxInt));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "request_hash", e.request_hash));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "response_hash", e.response_hash));
  TROAD_RETURN_IF_ERROR(ReadString(doc, "record", e.record));
  TROAD_RETURN_IF_ERROR(Validate(e));

  // Everything else — key order, whitespace, escapes, number forms, repeated keys — is
  // caught by writing the values back.
  const std::string canonical = Write(e);
  if (canonical != bytes) {
    const auto [a, b] =
        std::mismatch(canonical.begin(), canonical.end(), bytes.begin(), bytes.end());
    const auto at = static_cast<size_t>(a - canonical.begin());
    return Fail(Invalid(fmt::format(
        "is not in its canonical form (docs/protocol.md §12.1: keys in order, no whitespace, "
        "only the necessary escapes, canonical numbers): it differs at byte {}, \"{}\" where "
        "\"{}\" belongs",
        at, EscapeForLog(bytes.substr(std::min(at, bytes.size()), 16), 40),
        EscapeForLog(std::string_view(canonical).substr(at, 16), 40))));
  }
  return e;
}

std::string LedgerText(std::string_view value) {
  std::string out;
  out.reserve(std::min(value.size(), kMaxLedgerTextBytes));
  bool full = false;
  ForEachUtf8(value, [&](std::string_view sequence, uint32_t code_point) {
    if (full) return;
    if (code_point < 0x20 || code_point == 0x7F) sequence = kUtf8ReplacementCharacter;
    if (out.size() + sequence.size() > kMaxLedgerTextBytes) {
      full = true;
      return;
    }
    out.append(sequence);
  });
  return out;
}

}  // namespace troad::ledger
