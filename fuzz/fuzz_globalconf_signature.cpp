// Fuzzes the global configuration's detached signature file (ParseSignatureFile), which
// a gateway downloads next to the document, and the whole adoption check
// (VerifySignedDocument) with that file over a fixed document. Beyond not crashing: a
// parsed file has a known algorithm, a 64-hex key id and a signature; a random file
// never makes an unsigned document acceptable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "globalconf/signed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::globalconf;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseSignatureFile(input);
  if (parsed) {
    FUZZ_CHECK(parsed->algorithm == "ES256" || parsed->algorithm == "RS256");
    FUZZ_CHECK(parsed->key_id.size() == 64);
    FUZZ_CHECK(!parsed->signature.empty());
  }
  static const troad::crypto::PrivateKey key = *troad::crypto::PrivateKey::GenerateEcP256();
  VerifyOptions options{{key.Public()}, "TW", 0, {}};
  auto verified = VerifySignedDocument("{\"format\":\"troad-globalconf/1\"}", input, options);
  FUZZ_CHECK(!verified);  // nobody can sign with a key made in this process
  return 0;
}
