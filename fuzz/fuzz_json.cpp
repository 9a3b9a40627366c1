// Fuzzes troad::ParseJson (core/json.h), which every JSON document from outside goes
// through: simdjson parses it and the result is rebuilt as nlohmann values, with
// nlohmann's own parser as the fallback. Beyond not crashing:
//   - ParseJson accepts exactly what nlohmann's parser accepts (within the depth
//     limit), and makes the same value: the fast path changes nothing a reader sees;
//   - numbers keep nlohmann's types (non-negative integers are number_unsigned).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "fuzz_check.h"

namespace {

bool SameTypes(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !SameTypes(*it, *other)) return false;
    }
  } else if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameTypes(a[i], b[i])) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr size_t kDepth = 64;
  auto ours = troad::ParseJson(input, "fuzz", kDepth);
  nlohmann::json theirs = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!ours) {
    // Refused: malformed for nlohmann too, or nested deeper than the limit.
    FUZZ_CHECK(theirs.is_discarded() ||
               ours.error().message().find("nested deeper") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(!theirs.is_discarded());
  FUZZ_CHECK(*ours == theirs);
  // "-0" is the one text whose integer type may differ (signed 0 vs unsigned 0):
  // same value, same dump; skip the type comparison when the input has one.
  if (input.find("-0") == std::string_view::npos) FUZZ_CHECK(SameTypes(*ours, theirs));
  return 0;
}
