// Ledger entries: the digest of one transfer record that a gateway ships to the central
// ledger (docs/protocol.md §12.1). What links the two records of an exchange is in the
// clear (gateway, seq, side, ids, status, fault, times, hashes); everything else of the
// record — the user id and issue among it — is committed to by `record`, the record's
// timestamp-batch leaf (§11), without being disclosed.
//
// Format, byte for byte: kLedgerEntryPrefix ("troad-ledger/1" LF), then one JSON object
// without whitespace whose keys are exactly, in this order,
//
//   gateway seq side message_id request_id client service status fault
//   request_time_ms response_time_ms request_hash response_hash record
//
// strings written as core/json_writer.h writes them (UTF-8; `"`, `\` and control
// characters escaped, \b \f \n \r \t or \u00XX; nothing else escaped), integers in
// canonical decimal. At most kMaxLedgerEntryBytes in all. The ledger's leaf is
// ledger::LeafHash(entry) = SHA-256(0x00 ‖ entry).
//
// Values allowed (Encode refuses others, Parse too):
//   gateway            a gateway id INSTANCE/CLASS/MEMBER/CODE (core/ids.h), as
//                      GatewayId::ToString writes it
//   seq                1 … 2^63 − 1
//   side               "consumer" or "provider"
//   message_id, request_id, client, service, fault
//                      text: at most kMaxLedgerTextBytes bytes of UTF-8 without control
//                      characters (U+0000–U+001F, U+007F); request_id not empty. client
//                      and service are the record's text, not checked as ids: the record
//                      of a refused malformed request holds what the caller sent.
//                      LedgerText makes any record value allowed.
//   status             0 … 999
//   request_time_ms, response_time_ms
//                      0 … 2^63 − 1
//   request_hash, response_hash
//                      "" or base64 (RFC 4648 §4, padded) of 64 bytes (a SHA-512 value)
//   record             64 lower-case hex characters (32 bytes)
//
// One text per entry: ParseLedgerEntry accepts only what EncodeLedgerEntry writes, so
// an entry has one leaf hash and a resent entry is byte-identical.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad::ledger {

inline constexpr std::string_view kLedgerEntryPrefix = "troad-ledger/1\n";
inline constexpr size_t kMaxLedgerEntryBytes = 4096;
// The most bytes of a text value (message_id, request_id, client, service, fault).
inline constexpr size_t kMaxLedgerTextBytes = 255;
inline constexpr std::string_view kLedgerSideConsumer = "consumer";
inline constexpr std::string_view kLedgerSideProvider = "provider";

struct LedgerEntry {
  std::string gateway;  // GatewayId text INSTANCE/CLASS/MEMBER/CODE
  int64_t seq = 0;      // >= 1
  std::string side;     // "consumer" | "provider"
  std::string message_id, request_id, client, service;
  int status = 0;  // 0..999
  std::string fault;
  int64_t request_time_ms = 0, response_time_ms = 0;
  std::string request_hash, response_hash;  // base64 or ""
  std::string record;                       // 64 lower-case hex chars
  bool operator==(const LedgerEntry&) const = default;
};

// The entry's bytes (§12.1). kInvalidArgument when a field is not allowed (names it), or
// when the entry would be longer than kMaxLedgerEntryBytes.
Result<std::string> EncodeLedgerEntry(const LedgerEntry& e);

// Strict parse: only the exact canonical form is accepted (Encode(Parse(x)) == x);
// kInvalidArgument naming what is wrong (the key, or the first byte that differs from
// the canonical form).
Result<LedgerEntry> ParseLedgerEntry(std::string_view bytes);

// ---- Adding entries over HTTP (§12.3, §12.4) ----------------------------------------
// The names both ends of POST /ledger/v1/add-entries use: the gateway's shipper and the
// central's ledger service.

inline constexpr std::string_view kLedgerApiPrefix = "/ledger/v1";
// The bytes a gateway signs with its authentication key: this prefix, then the body.
inline constexpr std::string_view kLedgerAddSignaturePrefix = "troad-ledger-add/1\n";
// Lower-case hex SHA-256 of the signing gateway's authentication certificate (DER).
inline constexpr std::string_view kLedgerCertificateHeader = "X-Troad-Certificate";
// Base64 of the signature over kLedgerAddSignaturePrefix ‖ body.
inline constexpr std::string_view kLedgerSignatureHeader = "X-Troad-Signature";
inline constexpr size_t kMaxLedgerAddEntries = 1000;
inline constexpr size_t kMaxLedgerAddBodyBytes = size_t{8} << 20;
// GET /ledger/v1/entries answers at most this many, GET /ledger/v1/exchange this many.
inline constexpr size_t kMaxLedgerReadEntries = 1000;
inline constexpr size_t kMaxLedgerExchangeEntries = 100;

// `value` as a text field of an entry may hold it: each byte that is not part of valid
// UTF-8 and each control character becomes U+FFFD, and the result is cut after the last
// whole character that fits in kMaxLedgerTextBytes. Values that are allowed already come
// back unchanged. For a gateway building entries from records that hold what a caller
// sent (the record itself keeps the value, and `record` commits to it).
std::string LedgerText(std::string_view value);

}  // namespace troad::ledger
