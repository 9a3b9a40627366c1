// Fuzzes the identifier and encoding parsers that every request goes through:
// ClientId / ServiceId / GatewayId::Parse, PercentDecode, Base64Decode (and its URL
// and hex siblings). Beyond not crashing: an accepted identifier prints back as the
// same text, and decoding is canonical (encoding the result gives the input back).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/ids.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto id = ClientId::Parse(input)) {
    FUZZ_CHECK(id->ToString() == input);
    FUZZ_CHECK(*ClientId::Parse(id->ToString()) == *id);
  }
  if (auto id = ServiceId::Parse(input)) {
    FUZZ_CHECK(id->ToString() == input);
    FUZZ_CHECK(id->provider.is_subsystem());
  }
  if (auto id = GatewayId::Parse(input)) {
    FUZZ_CHECK(id->ToString() == input);
    FUZZ_CHECK(!id->owner.is_subsystem());
  }

  auto decoded = PercentDecode(input);
  if (decoded) {
    FUZZ_CHECK(decoded->size() <= input.size());
    // Only an encoded NUL is refused; raw ones pass through as they are.
    FUZZ_CHECK(std::count(decoded->begin(), decoded->end(), '\0') ==
               std::count(input.begin(), input.end(), '\0'));
  }
  (void)PercentDecode(input, /*forbid_nul=*/false);

  if (auto b64 = Base64Decode(input)) FUZZ_CHECK(Base64Encode(*b64) == input);
  if (auto b64url = Base64UrlDecode(input)) FUZZ_CHECK(Base64UrlEncode(*b64url) == input);
  if (auto hex = HexDecode(input)) {
    std::string lower(input);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    FUZZ_CHECK(HexEncode(*hex) == lower);
  }
  (void)EscapeForLog(input);
  (void)IsValidUtf8(input);
  return 0;
}
