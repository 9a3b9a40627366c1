// Fuzzes the citizen-certificate verifier (src/identity/citizen_cert.h) with what a
// card component returns: a CMS SignedData, DER or base64. A CA made at start-up is
// the only trust anchor, so nothing the fuzzer makes can verify: every call must fail,
// with a documented code, and never crash or read past its input.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/clock.h"
#include "crypto/ca.h"
#include "fuzz_check.h"
#include "identity/citizen_cert.h"

namespace {

const troad::identity::CitizenCertVerifier& Verifier() {
  using namespace troad;
  static std::unique_ptr<identity::CitizenCertVerifier> verifier = [] {
    auto key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "Fuzz Citizen CA";
    auto ca = crypto::CreateSelfSignedCa(*key, req, SystemClock::Get());
    identity::CitizenCaConfig config;
    config.ca_certificates_pem = ca->ToPem();
    return std::move(identity::CitizenCertVerifier::Create(config).value());
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto result = Verifier().Verify(input, "troad-idp:challenge", SystemClock::Get().Now());
  FUZZ_CHECK(!result.has_value());
  FUZZ_CHECK(result.error().code() == ErrorCode::kInvalidArgument ||
             result.error().code() == ErrorCode::kUnauthenticated ||
             result.error().code() == ErrorCode::kFailedPrecondition);
  return 0;
}
