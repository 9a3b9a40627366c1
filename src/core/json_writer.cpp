#include "core/json_writer.h"

#include <cassert>
#include <charconv>
#include <cstring>

#include "core/encoding.h"

namespace troad {

namespace {

// True when none of the 8 bytes at `p` needs attention in a JSON string: no control
// character, '"', '\\' or byte >= 0x80. Written by hand (the SWAR zero-byte test,
// "Bit Twiddling Hacks"): base64 values and identifiers, most of what troad writes,
// then pass eight bytes per step instead of one.
bool PlainAscii8(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t high = x & kHigh;                           // a byte >= 0x80
  const uint64_t control = (x - 0x20 * kOnes) & ~x & kHigh;  // a byte < 0x20
  const uint64_t special =
      high | control | has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes));
  return special == 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    // Runs of plain ASCII are copied at once, found eight bytes at a time.
    size_t run = i;
    while (run + 8 <= text.size() && PlainAscii8(text.data() + run)) run += 8;
    while (run < text.size()) {
      const auto c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(text.substr(i, run - i));
    i = run;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceAt(text, i);
      if (n == 0) {
        out += kUtf8ReplacementCharacter;  // a byte that is not valid UTF-8
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0x0f];
    }
    ++i;
  }
  out += '"';
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_ += ',';
    has_member_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  assert(!has_member_.empty() && !after_key_);
  has_member_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  assert(!has_member_.empty() && !after_key_);
  has_member_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  assert(!has_member_.empty() && !after_key_);
  BeforeValue();
  AppendJsonString(out_, key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

template <typename Integer>
JsonWriter& JsonWriter::Number(Integer value) {
  BeforeValue();
  char buf[24];  // 20 digits and a sign at most
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) { return Number(value); }
JsonWriter& JsonWriter::Uint(uint64_t value) { return Number(value); }

}  // namespace troad
