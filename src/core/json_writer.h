// Writes JSON text straight into a string, for documents on the hot path whose shape
// is fixed (the gateways' message headers and signature parts). Building an
// nlohmann::json tree first cost an allocation per key and value and a second pass to
// dump it. Written by hand because it is this small; reading JSON stays with
// nlohmann (core/json.h).
//
// Output: no whitespace; strings as UTF-8 with `"`, `\` and control characters
// escaped (\b \f \n \r \t, else \u00XX); each byte that is not part of valid UTF-8
// becomes U+FFFD, so the result is always valid JSON. Keys are written in the order
// given. The writer trusts its caller to nest correctly (checked in debug builds).
//
// Thread-safety: one writer, one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troad {

// Appends `text` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view text);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The key of the next member of the current object.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);

  // Shorthands for one object member.
  JsonWriter& Member(std::string_view key, std::string_view value) {
    return Key(key).String(value);
  }
  JsonWriter& Member(std::string_view key, const char* value) {
    return Key(key).String(value);
  }
  JsonWriter& Member(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Member(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, unsigned value) { return Key(key).Uint(value); }

 private:
  void BeforeValue();
  template <typename Integer>
  JsonWriter& Number(Integer value);

  std::string& out_;
  // One entry per open object or array: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace troad
