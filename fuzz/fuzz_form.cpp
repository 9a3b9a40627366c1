// Fuzzes what the identity centre reads from browsers and relying parties before
// anything else: query strings and form bodies (http::ParseForm) and Cookie headers
// (http::CookieValue). Beyond not crashing: every accepted field re-encodes (FormPair)
// into a form that parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto form = http::ParseForm(input)) {
    FUZZ_CHECK(form->size() <= http::kMaxFormFields);
    std::string again;
    for (const auto& [name, value] : form->fields()) {
      FUZZ_CHECK(!name.empty());
      if (!again.empty()) again += '&';
      again += http::FormPair(name, value);
    }
    auto reparsed = http::ParseForm(again);
    FUZZ_CHECK(reparsed.has_value());
    FUZZ_CHECK(reparsed->fields() == form->fields());
  }
  (void)http::QueryOf(input);
  (void)http::PathOf(input);
  if (auto v = http::CookieValue(input, "troad_idp")) FUZZ_CHECK(v->size() <= input.size());
  return 0;
}
