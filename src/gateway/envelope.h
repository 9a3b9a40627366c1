// The gateway-to-gateway message format (docs/protocol.md is the byte-level
// specification; the constants here mirror it).
//
// A consumer gateway sends one HTTP/1.1 request over mutually authenticated TLS 1.3:
//   POST /troad/v1/exchange
//   Content-Type: application/vnd.troad.envelope
//   body = envelope
// and the provider gateway answers 200 with an envelope of the same shape (or, when
// it refuses before it can sign, a plain X-Road fault: see protocol.md §5).
//
//   envelope = magic "TRD1"
//              u32be len(H) ‖ H      H: the message header, UTF-8 JSON
//              u32be len(S) ‖ S      S: the signature part, UTF-8 JSON
//              payload               the original body, exactly H.body_length bytes
//
// The signature covers H only; H carries the SHA-512 of the payload, so the payload
// is covered through it. The receiver parses the exact bytes it verified; nothing is
// re-serialised, so no canonical JSON is needed.
//
// Thread-safety: pure functions on values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "crypto/hash.h"

namespace troad::gateway {

inline constexpr std::string_view kEnvelopeMagic = "TRD1";
inline constexpr std::string_view kExchangePath = "/troad/v1/exchange";
inline constexpr std::string_view kEnvelopeContentType = "application/vnd.troad.envelope";
inline constexpr uint32_t kMaxHeaderPartBytes = 256 * 1024;
inline constexpr uint32_t kMaxSignaturePartBytes = 64 * 1024;
inline constexpr int kProtocolVersion = 1;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// H of a request (protocol.md §3.1).
struct RequestHeader {
  std::string id;          // X-Road-Id
  std::string request_id;  // X-Road-Request-Id: a UUID the consumer gateway assigns
  ClientId client;
  ServiceId service;
  std::string method;      // HTTP method, upper case
  std::string path;        // the part of the r1 path after the service code, raw; "" or "/…"
  std::string query;       // without '?'; may be empty
  std::string user_id;
  std::string issue;
  std::string represented_party;  // "CLASS/CODE" as sent in X-Road-Represented-Party, or ""
  GatewayId consumer_gateway;
  GatewayId provider_gateway;
  int64_t time_ms = 0;     // consumer's clock, Unix milliseconds
  uint64_t body_length = 0;
  crypto::Sha512Digest body_sha512{};
  HeaderList headers;      // pass-through headers, names lower case
};

// H of a response (protocol.md §3.2).
struct ResponseHeader {
  std::string id;
  std::string request_id;
  std::string request_hash;  // base64, the X-Road-Request-Hash of the request
  ClientId client;
  ServiceId service;
  unsigned status = 200;     // the backend's HTTP status
  int64_t time_ms = 0;       // provider's clock
  uint64_t body_length = 0;
  crypto::Sha512Digest body_sha512{};
  HeaderList headers;
};

// S (protocol.md §4): a batch signature. The signer signed
//   "troad-batch-signature/1" 0x00 ‖ u64be(batch_size) ‖ root
// where root is the RFC 9162 Merkle root over the leaf hashes SHA-256(0x00 ‖ H) of
// the batch, and `path` is this H's inclusion proof.
struct SignaturePart {
  std::string algorithm;           // "ES256" or "RS256"
  std::string certificate_sha256;  // the signing certificate, lower-case hex
  uint64_t batch_size = 1;
  uint64_t leaf_index = 0;
  std::vector<crypto::Sha256Digest> path;
  std::string signature;           // raw signature bytes
};

std::string SerializeRequestHeader(const RequestHeader& h);
Result<RequestHeader> ParseRequestHeader(std::string_view json);
std::string SerializeResponseHeader(const ResponseHeader& h);
Result<ResponseHeader> ParseResponseHeader(std::string_view json);
std::string SerializeSignaturePart(const SignaturePart& s);
Result<SignaturePart> ParseSignaturePart(std::string_view json);

// The bytes of the batch signature input for a root (S above).
std::string BatchSignatureInput(uint64_t batch_size, const crypto::Sha256Digest& root);

struct EnvelopeView {
  std::string_view header;     // H
  std::string_view signature;  // S
  std::string_view payload;
};

// magic ‖ len(H) ‖ H ‖ len(S) ‖ S (append the payload after it).
std::string EncodeEnvelopePrefix(std::string_view header, std::string_view signature);
// Splits an envelope; views point into `data`. Checks magic and lengths against
// the limits; does not parse H or S.
Result<EnvelopeView> DecodeEnvelope(std::string_view data);

// X-Road-Request-Hash: base64(SHA-512(SHA-512(H) ‖ SHA-512(payload))).
std::string ComputeRequestHash(std::string_view header_bytes, const crypto::Sha512Digest& body);

}  // namespace troad::gateway
