#include "ledger/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace troad::ledger {
namespace {

constexpr std::string_view kEs256 = "ES256";
constexpr size_t kKeyIdBytes = 4;
// A DER ECDSA P-256 signature is at most 72 bytes; leave room, refuse nonsense.
constexpr size_t kMaxSignatureBytes = 256;


// Canonical decimal: digits only, no leading zero unless the number is 0, at most
// kMaxCheckpointNumber.
Result<uint64_t> ParseNumber(std::string_view what, std::string_view text) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "checkpoint {} is empty", what);
  if (text.size() > 1 && text[0] == '0') {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint {} \"{}\" has a leading zero", what,
                EscapeForLog(text, 40));
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint {} \"{}\" is not decimal digits", what,
                EscapeForLog(text, 40));
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > kMaxCheckpointNumber) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint {} \"{}\" is larger than 2^63 - 1", what,
                EscapeForLog(text, 40));
  }
  return value;
}

// Splits off the next line (without its LF). kInvalidArgument when no LF is left.
Result<std::string_view> NextLine(std::string_view& rest, std::string_view what) {
  const size_t lf = rest.find('\n');
  if (lf == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint {} line is missing or has no newline",
                what);
  }
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf + 1);
  return line;
}

// Standard base64 that is exactly what Base64Encode writes for the decoded bytes.
Result<std::string> DecodeCanonicalBase64(std::string_view what, std::string_view text) {
  Result<std::string> bytes = Base64Decode(text);
  if (!bytes) return Fail(std::move(bytes.error()).Context(fmt::format("checkpoint {}", what)));
  if (Base64Encode(*bytes) != text) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint {} is not canonical base64", what);
  }
  return bytes;
}

std::string SignatureLine(std::string_view origin, uint32_t key_id, std::string_view signature) {
  std::string blob;
  blob.reserve(kKeyIdBytes + signature.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    blob.push_back(static_cast<char>((key_id >> shift) & 0xFF));
  }
  blob.append(signature);
  return fmt::format("{}{} {}\n", kSignatureLinePrefix, origin, Base64Encode(blob));
}

}  // namespace

Status CheckOrigin(std::string_view origin) {
  if (origin.empty()) return Fail(ErrorCode::kInvalidArgument, "checkpoint origin is empty");
  if (origin.size() > kMaxOriginBytes) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint origin is longer than {} bytes",
                kMaxOriginBytes);
  }
  for (size_t i = 0; i < origin.size(); ++i) {
    const auto c = static_cast<unsigned char>(origin[i]);
    if (c < 0x21 || c > 0x7E || c == '+') {
      return Fail(ErrorCode::kInvalidArgument,
                  "checkpoint origin has byte 0x{:02x} at offset {} (allowed: printable ASCII "
                  "other than space and '+')",
                  c, i);
    }
  }
  return Ok();
}

Result<std::string> CheckpointText(const Checkpoint& checkpoint) {
  TROAD_RETURN_IF_ERROR(CheckOrigin(checkpoint.origin));
  if (checkpoint.size > kMaxCheckpointNumber) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint size {} is larger than 2^63 - 1",
                checkpoint.size);
  }
  if (checkpoint.timestamp_ms < 0) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint timestamp {} is negative",
                checkpoint.timestamp_ms);
  }
  return fmt::format("{}\n{}\n{}\n{}{}\n", checkpoint.origin, checkpoint.size,
                     Base64Encode(std::span<const uint8_t>(checkpoint.root)),
                     kCheckpointTimestampPrefix, checkpoint.timestamp_ms);
}

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  if (text.size() > kMaxCheckpointBytes) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint text is longer than {} bytes",
                kMaxCheckpointBytes);
  }
  std::string_view rest = text;
  Checkpoint out;

  TROAD_ASSIGN_OR_RETURN(std::string_view origin, NextLine(rest, "origin"));
  TROAD_RETURN_IF_ERROR(CheckOrigin(origin));
  out.origin = std::string(origin);

  TROAD_ASSIGN_OR_RETURN(std::string_view size, NextLine(rest, "size"));
  TROAD_ASSIGN_OR_RETURN(out.size, ParseNumber("size", size));

  TROAD_ASSIGN_OR_RETURN(std::string_view root, NextLine(rest, "root hash"));
  TROAD_ASSIGN_OR_RETURN(std::string root_bytes, DecodeCanonicalBase64("root hash", root));
  if (root_bytes.size() != out.root.size()) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint root hash is {} bytes, not {}",
                root_bytes.size(), out.root.size());
  }
  std::memcpy(out.root.data(), root_bytes.data(), out.root.size());

  TROAD_ASSIGN_OR_RETURN(std::string_view timestamp, NextLine(rest, "timestamp"));
  if (!timestamp.starts_with(kCheckpointTimestampPrefix)) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint line 4 does not start with \"timestamp \"");
  }
  timestamp.remove_prefix(kCheckpointTimestampPrefix.size());
  TROAD_ASSIGN_OR_RETURN(uint64_t ms, ParseNumber("timestamp", timestamp));
  out.timestamp_ms = static_cast<int64_t>(ms);

  if (!rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint text has {} bytes after the timestamp line (extra lines are not "
                "allowed)",
                rest.size());
  }
  return out;
}

uint32_t CheckpointKeyId(const crypto::PublicKey& key) {
  const crypto::Sha256Digest digest = crypto::Sha256(key.ToDer());
  return (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) |
         uint32_t{digest[3]};
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const crypto::PrivateKey& key) {
  if (key.Algorithm() != kEs256) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoints are signed with ECDSA P-256, not {}",
                key.Algorithm());
  }
  const crypto::PublicKey public_key = key.Public();
  TROAD_RETURN_IF_ERROR(public_key.CheckStrength());
  TROAD_ASSIGN_OR_RETURN(std::string text, CheckpointText(checkpoint));
  TROAD_ASSIGN_OR_RETURN(std::string signature, key.Sign(text));
  return text + "\n" + SignatureLine(checkpoint.origin, CheckpointKeyId(public_key), signature);
}

Result<SignedCheckpoint> ParseSignedCheckpoint(std::string_view note) {
  if (note.size() > kMaxCheckpointBytes) {
    return Fail(ErrorCode::kInvalidArgument, "signed checkpoint is longer than {} bytes",
                kMaxCheckpointBytes);
  }
  // The note text has no blank line, so the first one ends it.
  const size_t blank = note.find("\n\n");
  if (blank == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "signed checkpoint has no blank line between text and signature");
  }
  SignedCheckpoint out;
  out.text = std::string(note.substr(0, blank + 1));
  TROAD_ASSIGN_OR_RETURN(out.checkpoint, ParseCheckpointText(out.text));

  std::string_view rest = note.substr(blank + 2);
  TROAD_ASSIGN_OR_RETURN(std::string_view line, NextLine(rest, "signature"));
  if (!rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "signed checkpoint has {} bytes after its signature line (one signature only)",
                rest.size());
  }
  if (!line.starts_with(kSignatureLinePrefix)) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint signature line does not start with an em dash and a space");
  }
  line.remove_prefix(kSignatureLinePrefix.size());
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint signature line has no space between key name and signature");
  }
  if (line.substr(0, space) != out.checkpoint.origin) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint is signed by key name \"{}\", not by its origin \"{}\"",
                EscapeForLog(line.substr(0, space), 80), out.checkpoint.origin);
  }
  TROAD_ASSIGN_OR_RETURN(std::string blob,
                         DecodeCanonicalBase64("signature", line.substr(space + 1)));
  if (blob.size() <= kKeyIdBytes || blob.size() > kKeyIdBytes + kMaxSignatureBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "checkpoint signature is {} bytes; expected a 4-byte key id and a signature of "
                "at most {} bytes",
                blob.size(), kMaxSignatureBytes);
  }
  for (size_t i = 0; i < kKeyIdBytes; ++i) {
    out.key_id = (out.key_id << 8) | static_cast<unsigned char>(blob[i]);
  }
  out.signature = blob.substr(kKeyIdBytes);
  return out;
}

std::string FormatSignedCheckpoint(const SignedCheckpoint& signed_checkpoint) {
  return signed_checkpoint.text + "\n" +
         SignatureLine(signed_checkpoint.checkpoint.origin, signed_checkpoint.key_id,
                       signed_checkpoint.signature);
}

Status VerifyCheckpointSignature(const SignedCheckpoint& signed_checkpoint,
                                 const crypto::PublicKey& key) {
  const uint32_t want = CheckpointKeyId(key);
  if (signed_checkpoint.key_id != want) {
    return Fail(ErrorCode::kUnauthenticated,
                "checkpoint of {} is signed by key id {:08x}, not by the log key {:08x}",
                signed_checkpoint.checkpoint.origin, signed_checkpoint.key_id, want);
  }
  Status verified = key.Verify(signed_checkpoint.text, signed_checkpoint.signature, kEs256);
  if (!verified) {
    return Fail(
        std::move(verified.error())
            .Context(fmt::format("checkpoint of {} at size {}", signed_checkpoint.checkpoint.origin,
                                 signed_checkpoint.checkpoint.size)));
  }
  return Ok();
}

Result<Checkpoint> VerifyCheckpoint(std::string_view note, const crypto::PublicKey& key) {
  TROAD_ASSIGN_OR_RETURN(SignedCheckpoint parsed, ParseSignedCheckpoint(note));
  TROAD_RETURN_IF_ERROR(VerifyCheckpointSignature(parsed, key));
  return std::move(parsed.checkpoint);
}

}  // namespace troad::ledger
