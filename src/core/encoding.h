// Text encodings used on the wire and in storage: base64 (RFC 4648 §4 and §5),
// base32 (§6), lower-case hex, percent-decoding of URI path segments (RFC 3986), UTF-8 checks.
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

// RFC 4648 §6 alphabet (A–Z, 2–7) without padding, as authenticator apps show and read
// TOTP secrets (the otpauth:// Key URI format).
std::string Base32Encode(std::string_view data);
// Accepts upper or lower case and optional '=' padding at the end (then the whole text
// must be a multiple of 8 characters). kInvalidArgument naming the character and its
// offset for anything outside the alphabet (spaces included) or '=' before the end;
// also refuses an impossible length (1, 3 or 6 characters in the last group) and
// non-zero trailing bits (not a canonical encoding).
Result<std::string> Base32Decode(std::string_view text);

std::string HexEncode(std::span<const uint8_t> data);
std::string HexEncode(std::string_view data);
Result<std::string> HexDecode(std::string_view text);

// Decodes %XX escapes. Rejects a '%' not followed by two hex digits and, when
// `forbid_nul` is set, an encoded NUL. '+' is left as is (path segments, not forms).
Result<std::string> PercentDecode(std::string_view text, bool forbid_nul = true);

// `text` percent-encoded for a path segment, a query value or a URI label: RFC 3986
// unreserved characters stay as they are, every other byte (UTF-8 included) is %XX.
std::string PercentEncode(std::string_view text);

// `text` as XML 1.0 character data or attribute value: UTF-8 repaired, & < > " '
// escaped, CR as &#13;, and characters XML 1.0 cannot carry (most C0 controls, U+FFFE,
// U+FFFF) dropped.
std::string XmlEscape(std::string_view text);

bool IsValidUtf8(std::string_view text);

// Checks free text from outside (a name, a purpose, a reason): at most `max_bytes`,
// valid UTF-8, no control character (tab and newline allowed when `multiline`), not
// empty when `required`. kInvalidArgument "<what> is required" / "is longer than N
// bytes" / "is not valid UTF-8" / "contains a control character".
Status CheckText(std::string_view what, std::string_view text, size_t max_bytes, bool required,
                 bool multiline);
// Length (1–4) of the well-formed UTF-8 sequence at text[i], and its code point in
// `*code_point` if given; 0 when the bytes there are not one (RFC 3629: stray
// continuation, overlong form, surrogate, above U+10FFFF). `i` must be < text.size().
size_t Utf8SequenceAt(std::string_view text, size_t i, uint32_t* code_point = nullptr);

inline constexpr std::string_view kUtf8ReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Calls f(sequence, code_point) for each character of `text` in order; each byte that
// is not part of valid UTF-8 comes as U+FFFD (kUtf8ReplacementCharacter, 0xFFFD).
template <typename F>
void ForEachUtf8(std::string_view text, F&& f) {
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    const size_t length = Utf8SequenceAt(text, i, &cp);
    if (length == 0) {
      f(kUtf8ReplacementCharacter, uint32_t{0xFFFD});
      ++i;
    } else {
      f(text.substr(i, length), cp);
      i += length;
    }
  }
}

// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string RepairUtf8(std::string_view text);

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
