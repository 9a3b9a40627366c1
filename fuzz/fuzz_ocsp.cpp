// Fuzzes the OCSP response check (src/identity/ocsp.h) with what a responder, or anyone
// on the plain-http path to it, can send back. A CA, a certificate it issued and a
// request with a nonce about that certificate are made at start-up; nothing the fuzzer
// makes is signed by that CA, so every call must fail, with a documented code, and never
// crash or read past its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "crypto/ca.h"
#include "fuzz_check.h"
#include "identity/ocsp.h"

namespace {

struct Fixture {
  std::string ca_der;
  std::string certificate_der;
  troad::identity::OcspOptions options;
  troad::identity::OcspRequest request;
};

const Fixture& Fixed() {
  using namespace troad;
  static const Fixture fixture = [] {
    auto ca_key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "Fuzz Citizen CA";
    auto ca = crypto::CreateSelfSignedCa(*ca_key, req, SystemClock::Get());
    auto key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest citizen;
    citizen.common_name = "Fuzz Citizen";
    citizen.usage = crypto::CertUsage::kSigning;
    auto certificate =
        crypto::IssueCertificate(*ca, *ca_key, key->Public(), citizen, SystemClock::Get());
    Fixture f;
    f.ca_der = ca->ToDer();
    f.certificate_der = certificate->ToDer();
    f.options.responder_url = "http://127.0.0.1:9/ocsp";  // never asked
    f.request = identity::MakeOcspRequest(f.certificate_der, f.ca_der, f.options).value();
    return f;
  }();
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad;
  const Fixture& f = Fixed();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto result = identity::CheckOcspResponse(input, f.request, f.certificate_der, f.ca_der,
                                            SystemClock::Get().Now(), f.options);
  FUZZ_CHECK(!result.has_value());
  FUZZ_CHECK(result.error().code() == ErrorCode::kDataLoss ||
             result.error().code() == ErrorCode::kUnavailable ||
             result.error().code() == ErrorCode::kFailedPrecondition ||
             result.error().code() == ErrorCode::kUnauthenticated);
  return 0;
}
