// Fuzzes what MyData's operator sends to register a dataset or a service provider (the
// management API's bodies and `troad mydata dataset|sp add --file`):
// mydata::DatasetFromJson and mydata::ServiceProviderFromJson. Beyond not crashing: an
// accepted registration is valid, and its JSON reads back to the same registration.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fuzz_check.h"
#include "mydata/catalogue.h"
#include "mydata/service_providers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  if (auto d = mydata::DatasetFromJson(json)) {
    FUZZ_CHECK(mydata::ValidateDataset(*d).has_value());
    auto again = mydata::DatasetFromJson(mydata::DatasetToJson(*d));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(mydata::DatasetToJson(*again) == mydata::DatasetToJson(*d));
  }
  if (auto sp = mydata::ServiceProviderFromJson(json)) {
    FUZZ_CHECK(mydata::ValidateServiceProvider(*sp).has_value());
    auto again = mydata::ServiceProviderFromJson(mydata::ServiceProviderToJson(*sp));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(mydata::ServiceProviderToJson(*again) == mydata::ServiceProviderToJson(*sp));
  }
  return 0;
}
