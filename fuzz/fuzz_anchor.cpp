// Fuzzes the configuration anchor (ParseAnchor), the file a gateway is given to find and
// trust the central. Beyond not crashing: a parsed anchor has at least one key, an
// https URL without a trailing '/', a CA certificate, and writes back to text that
// parses to the same anchor.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "globalconf/anchor.h"
#include "globalconf/signed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::globalconf;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto anchor = ParseAnchor(input);
  if (!anchor) return 0;
  FUZZ_CHECK(!anchor->configuration_keys.empty());
  FUZZ_CHECK(anchor->configuration_keys.size() <= kMaxConfigurationKeys);
  FUZZ_CHECK(anchor->central_url.rfind("https://", 0) == 0);
  FUZZ_CHECK(anchor->central_url.back() != '/');
  FUZZ_CHECK(anchor->ca_certificate.IsCa());
  const std::string text = WriteAnchor(*anchor);
  auto again = ParseAnchor(text);
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->instance == anchor->instance);
  FUZZ_CHECK(again->central_url == anchor->central_url);
  FUZZ_CHECK(again->configuration_keys.size() == anchor->configuration_keys.size());
  for (size_t i = 0; i < anchor->configuration_keys.size(); ++i) {
    FUZZ_CHECK(KeyId(again->configuration_keys[i]) == KeyId(anchor->configuration_keys[i]));
  }
  FUZZ_CHECK(again->ca_certificate.Sha256Fingerprint() ==
             anchor->ca_certificate.Sha256Fingerprint());
  FUZZ_CHECK(WriteAnchor(*again) == text);
  return 0;
}
