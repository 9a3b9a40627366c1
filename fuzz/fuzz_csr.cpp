// Fuzzes the PKCS#10 parsers the central CA runs on what gateways upload:
// Csr::FromPem and Csr::FromDer. Beyond not crashing: an accepted request keeps its
// exact bytes, survives a PEM round trip, and carries a key that a certificate could
// be issued for (its subject fields are valid UTF-8 without NUL).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "crypto/csr.h"
#include "fuzz_check.h"

namespace {

using troad::crypto::Csr;
using troad::crypto::CsrSubject;

void CheckAccepted(const Csr& csr) {
  FUZZ_CHECK(!csr.ToDer().empty());
  FUZZ_CHECK(csr.ToDer().size() <= troad::crypto::kMaxCsrSize);
  FUZZ_CHECK(csr.Sha256().size() == 64);
  const CsrSubject& s = csr.subject();
  for (const std::string* field : {&s.common_name, &s.organization, &s.organizational_unit,
                                   &s.serial_number_attr, &s.country}) {
    FUZZ_CHECK(troad::IsValidUtf8(*field));
    FUZZ_CHECK(field->find('\0') == std::string::npos);
  }
  auto again = Csr::FromPem(csr.ToPem());
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->ToDer() == csr.ToDer());
  FUZZ_CHECK(again->subject() == s);
  FUZZ_CHECK(!csr.public_key().ToDer().empty());
  (void)csr.public_key().CheckStrength();
  (void)csr.SubjectString();
  (void)troad::crypto::CheckCsrSubject(csr, CsrSubject{"gw1", "MOI", "", "10000001", "TW"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto der = Csr::FromDer(input)) {
    FUZZ_CHECK(der->ToDer() == input);  // whole input, byte for byte
    CheckAccepted(*der);
  }
  if (auto pem = Csr::FromPem(input)) CheckAccepted(*pem);
  return 0;
}
