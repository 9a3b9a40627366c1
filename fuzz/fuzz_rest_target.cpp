// Fuzzes what a local information system sends to the consumer port: the request
// target (ParseConsumerTarget) and the service path access rules are matched against
// (NormalizeRestPath). Beyond not crashing: an accepted target's path passes
// CheckRestPath, and a normalised path that is itself a valid raw path normalises to
// itself (xroad_rest.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gateway/xroad_rest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::gateway;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto target = ParseConsumerTarget(input);
  if (target && target->kind == ConsumerTarget::Kind::kRestService) {
    FUZZ_CHECK(CheckRestPath(target->rest.path).has_value());
    FUZZ_CHECK(target->rest.path.empty() || target->rest.path.front() == '/');
    FUZZ_CHECK(NormalizeRestPath(target->rest.path).has_value());
  }

  auto normalized = NormalizeRestPath(input);
  if (normalized) {
    FUZZ_CHECK(!normalized->empty() && normalized->front() == '/');
    FUZZ_CHECK(normalized->find("//") == std::string::npos);
    if (CheckRestPath(*normalized)) {
      auto twice = NormalizeRestPath(*normalized);
      FUZZ_CHECK(twice.has_value() && *twice == *normalized);
    }
  }
  return 0;
}
