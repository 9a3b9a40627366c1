// Text encodings used on the wire and in storage: base64 (RFC 4648 §4 and §5),
// lower-case hex, percent-decoding of URI path segments (RFC 3986), UTF-8 checks.
//
// Written by hand: these are a few dozen lines each, and the libraries at hand either
// hide them in detail namespaces (Beast) or would pull OpenSSL into core.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad {

std::string Base64Encode(std::span<const uint8_t> data);
std::string Base64Encode(std::string_view data);
// Standard alphabet with padding; rejects anything else with a reason.
Result<std::string> Base64Decode(std::string_view text);

// URL-safe alphabet, no padding (RFC 4648 §5), as JOSE uses it.
std::string Base64UrlEncode(std::span<const uint8_t> data);
std::string Base64UrlEncode(std::string_view data);
Result<std::string> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::span<const uint8_t> data);
std::string HexEncode(std::string_view data);
Result<std::string> HexDecode(std::string_view text);

// Decodes %XX escapes. Rejects a '%' not followed by two hex digits and, when
// `forbid_nul` is set, an encoded NUL. '+' is left as is (path segments, not forms).
Result<std::string> PercentDecode(std::string_view text, bool forbid_nul = true);

bool IsValidUtf8(std::string_view text);
// Length of the valid UTF-8 sequence that starts at text[i] (1 for ASCII), or 0 if the
// bytes there are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF). `i` must be < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Makes untrusted text safe to put in a log line or error message: control
// characters and invalid UTF-8 become \xNN, and the result is cut to `max` bytes.
std::string EscapeForLog(std::string_view text, size_t max = 200);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace troad
