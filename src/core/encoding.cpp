#include "core/encoding.h"

#include <array>

namespace troad {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Both directions write into a buffer sized up front, a whole group (3 bytes, 4
// characters) per step: these run over every signature, hash and ledger entry.
std::string Encode(std::span<const uint8_t> in, const char* alphabet, bool pad) {
  const size_t full = in.size() / 3;
  const size_t rest = in.size() - full * 3;
  std::string out(full * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1), '=');
  char* o = out.data();
  const uint8_t* p = in.data();
  for (size_t g = 0; g < full; ++g, p += 3, o += 4) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    o[0] = alphabet[(v >> 18) & 63];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
  }
  if (rest > 0) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (rest == 2 ? uint32_t{p[1]} << 8 : 0);
    o[0] = alphabet[(v >> 18) & 63];
    o[1] = alphabet[(v >> 12) & 63];
    if (rest == 2) o[2] = alphabet[(v >> 6) & 63];
  }
  return out;
}

// Each character's value in `alphabet`, -1 for the others; with `lower_too`, an upper
// case letter's lower case twin has its value.
std::array<int8_t, 256> ReverseTable(std::string_view alphabet, bool lower_too = false) {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  for (size_t i = 0; i < alphabet.size(); ++i) {
    const auto c = static_cast<uint8_t>(alphabet[i]);
    table[c] = static_cast<int8_t>(i);
    if (lower_too && c >= 'A' && c <= 'Z') table[c - 'A' + 'a'] = static_cast<int8_t>(i);
  }
  return table;
}

Result<std::string> Decode(std::string_view text, const char* alphabet, bool padded) {
  static const auto kStdRev = ReverseTable(kStd);
  static const auto kUrlRev = ReverseTable(kUrl);
  const auto& rev = alphabet == kStd ? kStdRev : kUrlRev;
  if (padded) {
    if (text.size() % 4 != 0) {
      return Fail(ErrorCode::kInvalidArgument, "base64 length {} is not a multiple of 4",
                  text.size());
    }
    size_t pad = 0;
    while (pad < 2 && !text.empty() && text.back() == '=') {
      text.remove_suffix(1);
      ++pad;
    }
  } else if (text.size() % 4 == 1) {
    return Fail(ErrorCode::kInvalidArgument, "base64url length {} is impossible", text.size());
  }
  // Whole groups of four characters, then the 2 or 3 of a short last group.
  const size_t groups = text.size() / 4;
  const size_t tail = text.size() % 4;  // 0, 2 or 3 (1 is refused above)
  std::string out(groups * 3 + (tail == 0 ? 0 : tail - 1), '\0');
  char* o = out.data();
  auto invalid_at = [&](size_t from) {
    size_t i = from;
    while (rev[static_cast<uint8_t>(text[i])] >= 0) ++i;
    return Fail(ErrorCode::kInvalidArgument, "invalid base64 character at offset {}", i);
  };
  const char* t = text.data();
  for (size_t g = 0; g < groups; ++g, t += 4, o += 3) {
    const int8_t a = rev[static_cast<uint8_t>(t[0])], b = rev[static_cast<uint8_t>(t[1])];
    const int8_t c = rev[static_cast<uint8_t>(t[2])], d = rev[static_cast<uint8_t>(t[3])];
    if ((a | b | c | d) < 0) return invalid_at(g * 4);
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>(v >> 8);
    o[2] = static_cast<char>(v);
  }
  if (tail > 0) {
    const int8_t a = rev[static_cast<uint8_t>(t[0])], b = rev[static_cast<uint8_t>(t[1])];
    const int8_t c = tail == 3 ? rev[static_cast<uint8_t>(t[2])] : int8_t{0};
    if ((a | b | c) < 0) return invalid_at(groups * 4);
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
    o[0] = static_cast<char>(v >> 16);
    if (tail == 3) o[1] = static_cast<char>(v >> 8);
    // Leftover bits must be zero (canonical encoding).
    if ((tail == 2 && (v & 0xffff) != 0) || (tail == 3 && (v & 0xff) != 0)) {
      return Fail(ErrorCode::kInvalidArgument, "base64 has non-zero trailing bits");
    }
  }
  return out;
}

// RFC 4648 §6. The decoder also takes lower case: people type secrets in by hand.
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// One byte of refused input as an error message shows it: printable ASCII quoted,
// anything else (a control character, a byte of UTF-8) by its value.
std::string DescribeByte(char c) {
  const auto b = static_cast<uint8_t>(c);
  if (b == ' ') return "a space";
  if (b > 0x20 && b < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", b);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> data) { return Encode(data, kStd, true); }
std::string Base64Encode(std::string_view data) { return Encode(AsBytes(data), kStd, true); }
Result<std::string> Base64Decode(std::string_view text) { return Decode(text, kStd, true); }
std::string Base64UrlEncode(std::span<const uint8_t> data) { return Encode(data, kUrl, false); }
std::string Base64UrlEncode(std::string_view data) { return Encode(AsBytes(data), kUrl, false); }
Result<std::string> Base64UrlDecode(std::string_view text) { return Decode(text, kUrl, false); }

std::string Base32Encode(std::string_view data) {
  // Each character carries 5 bits; a short last group ends with zero bits.
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = ((buffer << 8) | c) & 0xfffu;  // at most 4 + 8 bits are pending
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kBase32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  static const auto kRev = ReverseTable(kBase32, /*lower_too=*/true);
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  std::string out;
  out.reserve(end * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < end; ++i) {
    const int8_t v = kRev[static_cast<uint8_t>(text[i])];
    if (v < 0) {
      if (text[i] == '=') {
        return Fail(ErrorCode::kInvalidArgument,
                    "base32 padding '=' at offset {} is not at the end", i);
      }
      return Fail(ErrorCode::kInvalidArgument, "invalid base32 character {} at offset {}",
                  DescribeByte(text[i]), i);
    }
    buffer = ((buffer << 5) | static_cast<uint32_t>(v)) & 0xfffu;  // at most 7 + 5 bits
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(buffer >> bits);
    }
  }
  // A last group of 8 characters is 5 bytes; 2, 4, 5 or 7 characters are 1 to 4 bytes.
  const size_t tail = end % 8;
  if (tail == 1 || tail == 3 || tail == 6) {
    return Fail(ErrorCode::kInvalidArgument, "base32 length {} is impossible (length mod 8 is {})",
                end, tail);
  }
  if (end < text.size() && (tail == 0 || text.size() % 8 != 0)) {
    return Fail(ErrorCode::kInvalidArgument,
                "base32 padding is wrong: {} '=' after {} characters (expected {})",
                text.size() - end, end, tail == 0 ? 0 : 8 - tail);
  }
  // Leftover bits must be zero (canonical encoding).
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "base32 has non-zero trailing bits");
  }
  return out;
}

std::string HexEncode(std::span<const uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}
std::string HexEncode(std::string_view data) { return HexEncode(AsBytes(data)); }

Result<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return Fail(ErrorCode::kInvalidArgument, "hex length is odd");
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument, "invalid hex digit at offset {}", i);
    }
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text, bool forbid_nul) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return Fail(ErrorCode::kInvalidArgument, "truncated percent-escape at offset {}", i);
    }
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument, "invalid percent-escape at offset {}", i);
    }
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0' && forbid_nul) {
      return Fail(ErrorCode::kInvalidArgument, "encoded NUL at offset {}", i);
    }
    out += c;
    i += 2;
  }
  return out;
}

size_t Utf8SequenceAt(std::string_view text, size_t i, uint32_t* code_point) {
  auto lead = static_cast<uint8_t>(text[i]);
  size_t length = 0;
  uint32_t cp = 0;
  if (lead < 0x80) {
    length = 1;
    cp = lead;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07u;
  } else {
    return 0;  // a stray continuation byte, or a lead byte that can only be overlong
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    auto b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (length == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  if (code_point != nullptr) *code_point = cp;
  return length;
}

Status CheckText(std::string_view what, std::string_view text, size_t max_bytes, bool required,
                 bool multiline) {
  if (required && text.empty()) return Fail(ErrorCode::kInvalidArgument, "{} is required", what);
  if (text.size() > max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "{} is longer than {} bytes", what, max_bytes);
  }
  if (!IsValidUtf8(text)) return Fail(ErrorCode::kInvalidArgument, "{} is not valid UTF-8", what);
  for (unsigned char c : text) {
    bool allowed = multiline && (c == '\t' || c == '\n');
    if ((c < 0x20 && !allowed) || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument, "{} contains a control character", what);
    }
  }
  return Ok();
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = Utf8SequenceAt(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string RepairUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachUtf8(text, [&](std::string_view sequence, uint32_t) { out.append(sequence); });
  return out;
}

std::string EscapeForLog(std::string_view text, size_t max) {
  std::string out;
  bool utf8_ok = IsValidUtf8(text);
  for (size_t i = 0; i < text.size() && out.size() < max; ++i) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8_ok)) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max && text.size() > max) out += "…";
  return out;
}

namespace {

bool IsXmlChar(uint32_t cp) {
  if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
  return cp != 0xFFFE && cp != 0xFFFF;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachUtf8(text, [&](std::string_view sequence, uint32_t cp) {
    if (!IsXmlChar(cp)) return;
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        // A literal CR would be normalised away by an XML parser.
        out += "&#13;";
        break;
      default:
        out.append(sequence);
    }
  });
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace troad
