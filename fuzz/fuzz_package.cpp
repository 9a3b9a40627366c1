// Fuzzes what `troad mydata package verify` reads from whoever hands it a package: the
// ZIP and its manifest (mydata::ReadPackage), with and without a password. Beyond not
// crashing: a package that reads has at least one part, its consent record, and every
// part's files; and building it again reads back to the same contents.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "mydata/package.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view password : {std::string_view(), std::string_view("fuzz password")}) {
    auto read = mydata::ReadPackage(input, password);
    if (!read) continue;
    FUZZ_CHECK(!read->parts.empty());
    FUZZ_CHECK(!read->consent_jws.empty());
    // Built again (when it is a package we would build), it reads back the same.
    if (auto again = mydata::BuildPackage(*read)) {
      auto reread = mydata::ReadPackage(*again);
      FUZZ_CHECK(reread.has_value());
      FUZZ_CHECK(reread->parts.size() == read->parts.size());
      for (size_t i = 0; i < read->parts.size(); ++i) {
        FUZZ_CHECK(reread->parts[i].body == read->parts[i].body);
        FUZZ_CHECK(reread->parts[i].response_signature == read->parts[i].response_signature);
      }
    }
  }
  return 0;
}
