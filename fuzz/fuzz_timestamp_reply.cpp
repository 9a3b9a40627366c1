// Fuzzes what a gateway runs on a TSA's answer and `troad verify-log` on stored tokens:
// ParseTimestampReply, InspectTimestampToken and VerifyTimestampToken. Each input is
// read as a reply and as a token. To reach the signature checks, the certificates a
// token carries are trusted, so that a seed signed by a real TSA verifies until a
// mutation breaks it. Beyond not crashing: errors have the documented codes and
// readable messages; a verified token says what Inspect reads and names a trusted
// certificate; no token verifies against a TSA certificate made in this process.
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/timestamp.h"
#include "fuzz_check.h"

namespace {

using namespace troad;
using namespace troad::crypto;

// A timestamping certificate whose key never leaves this process.
const Certificate& OwnTsaCertificate() {
  static const Certificate* cert = [] {
    FakeClock clock(*ParseRfc3339("2026-03-01T08:00:00Z"));
    PrivateKey ca_key = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = "fuzz root";
    req.validity = std::chrono::hours(24 * 365 * 50);
    Certificate ca = *CreateSelfSignedCa(ca_key, req, clock);
    PrivateKey key = *PrivateKey::GenerateEcP256();
    req.common_name = "fuzz TSA";
    req.usage = CertUsage::kTimestamping;
    return new Certificate(*IssueCertificate(ca, ca_key, key.Public(), req, clock));
  }();
  return *cert;
}

// The certificates a DER token carries (none if it is not a SignedData).
std::vector<Certificate> CarriedCertificates(std::string_view token) {
  std::vector<Certificate> out;
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(token.size()));
  if (p7 != nullptr && PKCS7_type_is_signed(p7) && p7->d.sign != nullptr &&
      p7->d.sign->cert != nullptr) {
    for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) {
      out.push_back(Certificate::FromNative(sk_X509_value(p7->d.sign->cert, i)));
    }
  }
  PKCS7_free(p7);
  ERR_clear_error();
  return out;
}

// Messages end up in logs: valid UTF-8, one line.
void CheckMessage(const Error& error) {
  FUZZ_CHECK(IsValidUtf8(error.message()));
  for (char c : error.message()) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
}

void CheckToken(std::string_view token) {
  auto inspected = InspectTimestampToken(token);
  if (!inspected) {
    FUZZ_CHECK(inspected.error().code() == ErrorCode::kInvalidArgument);
    CheckMessage(inspected.error());
  }
  const Sha256Digest imprint = inspected ? inspected->imprint : Sha256Digest{};
  const std::optional<uint64_t> nonce = inspected ? inspected->nonce : std::nullopt;

  std::vector<Certificate> carried = CarriedCertificates(token);
  auto verified = VerifyTimestampToken(token, imprint, carried, nonce);
  if (verified) {
    FUZZ_CHECK(inspected);
    FUZZ_CHECK(verified->imprint == inspected->imprint);
    FUZZ_CHECK(verified->nonce == inspected->nonce);
    FUZZ_CHECK(verified->gen_time == inspected->gen_time);
    FUZZ_CHECK(verified->serial_hex == inspected->serial_hex);
    FUZZ_CHECK(verified->policy == inspected->policy);
    FUZZ_CHECK(verified->tsa_certificate_sha256 == inspected->tsa_certificate_sha256);
    bool named = false;
    for (const Certificate& c : carried) {
      named = named || c.Sha256Fingerprint() == verified->tsa_certificate_sha256;
    }
    FUZZ_CHECK(named);
  } else {
    FUZZ_CHECK(verified.error().code() == ErrorCode::kInvalidArgument ||
               verified.error().code() == ErrorCode::kUnauthenticated);
    CheckMessage(verified.error());
  }
  FUZZ_CHECK(!VerifyTimestampToken(token, imprint, {OwnTsaCertificate()}, nonce));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto token = ParseTimestampReply(input);
  if (token) {
    FUZZ_CHECK(!token->empty());
    CheckToken(*token);
  } else {
    FUZZ_CHECK(token.error().code() == ErrorCode::kInvalidArgument ||
               token.error().code() == ErrorCode::kUnavailable);
    CheckMessage(token.error());
  }
  CheckToken(input);
  return 0;
}
