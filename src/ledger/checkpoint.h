// Signed tree heads ("checkpoints"): a log's size and root at a moment, signed by the
// log's key, so that anyone holding the public key can check inclusion and
// consistency proofs against it and two differing heads of the same log prove
// misbehaviour.
//
// Format: a C2SP signed note (c2sp.org/signed-note) whose text is a C2SP
// tlog-checkpoint body (c2sp.org/tlog-checkpoint) with one extension line, the
// timestamp. Byte for byte (every line ends with one LF, 0x0A; no CR, no tab, no
// other spaces than the ones shown):
//
//   <origin> LF              the log's name: 1 to kMaxOriginBytes bytes of printable
//                            ASCII (0x21–0x7E) except '+' (0x2B), e.g. "ledger.troad.tw/v1"
//   <size> LF                the tree size: ASCII decimal digits, no sign, no leading
//                            zero unless the size is 0, at most 2^63 − 1
//   <root> LF                the RFC 9162 root of the first <size> leaves: base64
//                            (RFC 4648 §4, with padding) of 32 bytes, 44 characters
//   "timestamp " <ms> LF     when the log signed: milliseconds since 1970-01-01T00:00:00Z,
//                            written as <size> is, at most 2^63 − 1
//   LF                       a blank line: the end of the note text
//   "— " <origin> " " <sig> LF
//                            one signature line: U+2014 EM DASH (E2 80 94), a space,
//                            the key name (the origin again), a space, and
//                            base64(key id ‖ signature)
//
// The note text is the first four lines, from the first byte of <origin> through the
// LF after <ms>; it is what is signed. The key id is 4 bytes, the first four of
// SHA-256 over the log key's SubjectPublicKeyInfo DER (signed-note signature type
// 0x02, ECDSA); the signature is the DER ECDSA-Sig-Value of ECDSA P-256 over SHA-256
// of the note text (ES256, crypto/key.h). Exactly one signature line, nothing after
// it, at most kMaxCheckpointBytes in all. Parsing accepts only this form, so a
// checkpoint has exactly one text: parse, then format, gives the same bytes.
//
// Example (key id and signature shortened):
//
//   ledger.troad.tw/v1
//   8
//   XcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=
//   timestamp 1767225600000
//
//   — ledger.troad.tw/v1 q9x2AzBEAiB…
//
// Thread-safety: pure functions (signing uses the key object, which is thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/key.h"
#include "ledger/merkle.h"

namespace troad::ledger {

inline constexpr size_t kMaxOriginBytes = 255;
inline constexpr size_t kMaxCheckpointBytes = 2048;
inline constexpr std::string_view kCheckpointTimestampPrefix = "timestamp ";
inline constexpr std::string_view kSignatureLinePrefix = "\xE2\x80\x94 ";  // EM DASH, space
inline constexpr uint64_t kMaxCheckpointNumber = (uint64_t{1} << 63) - 1;

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  int64_t timestamp_ms = 0;
  bool operator==(const Checkpoint&) const = default;
};

// A parsed signed checkpoint, not yet verified.
struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string text;       // the note text: the bytes the signature covers
  uint32_t key_id = 0;    // big-endian value of the 4-byte key id
  std::string signature;  // DER ECDSA-Sig-Value
};

// Whether `origin` may be a checkpoint's origin (above); kInvalidArgument says why not.
Status CheckOrigin(std::string_view origin);

// The note text of `checkpoint`. kInvalidArgument when the origin is not allowed, the
// size is above 2^63 − 1 or the timestamp is negative.
Result<std::string> CheckpointText(const Checkpoint& checkpoint);

// Parses note text (four lines, as above). kInvalidArgument names the line and what
// is wrong with it.
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// The signed-note key id of `key` (its SPKI DER hashed).
uint32_t CheckpointKeyId(const crypto::PublicKey& key);

// The whole signed note for `checkpoint`. kInvalidArgument when the checkpoint is not
// allowed (CheckpointText) or `key` is not ECDSA P-256; a signing failure is passed on.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const crypto::PrivateKey& key);

// Parses a signed note strictly, without verifying the signature: kInvalidArgument for
// anything but the form above (extra or missing lines, CR, bad base64, a size or
// timestamp that is not canonical decimal or too large, a key name that is not the
// origin, more than one signature, more than kMaxCheckpointBytes).
Result<SignedCheckpoint> ParseSignedCheckpoint(std::string_view note);

// The note text and signature line of `signed_checkpoint` (the inverse of
// ParseSignedCheckpoint). Requires signed_checkpoint.text to be the note text of
// signed_checkpoint.checkpoint.
std::string FormatSignedCheckpoint(const SignedCheckpoint& signed_checkpoint);

// Checks the signature of a parsed checkpoint. kUnauthenticated when the key id is
// not `key`'s or the signature does not verify; kInvalidArgument when the signature
// is not DER or `key` is not ECDSA P-256.
Status VerifyCheckpointSignature(const SignedCheckpoint& signed_checkpoint,
                                 const crypto::PublicKey& key);

// Parses and verifies: the checkpoint, only if `note` is well formed and signed by
// `key`. Errors as ParseSignedCheckpoint and VerifyCheckpointSignature.
Result<Checkpoint> VerifyCheckpoint(std::string_view note, const crypto::PublicKey& key);

}  // namespace troad::ledger
