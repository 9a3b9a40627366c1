// Fuzzes what the central's TSA runs on every request from outside:
// DecodeTimestampRequest and TimestampAuthority::Respond. Beyond not crashing: Respond
// always answers with a TimeStampResp; it grants exactly the requests Decode accepts
// (asking for no policy or the TSA's own), with a fresh serial, and the token it grants
// verifies for the request's imprint and nonce at the TSA's clock; an accepted request
// survives an encode/decode round trip.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/clock.h"
#include "crypto/ca.h"
#include "crypto/timestamp.h"
#include "fuzz_check.h"

namespace {

using namespace troad;
using namespace troad::crypto;

// One TSA for the whole run: a CA and a timestamping certificate made at start-up.
struct Tsa {
  FakeClock clock{*ParseRfc3339("2026-03-01T08:00:00.125Z")};
  std::optional<Certificate> certificate;
  std::unique_ptr<TimestampAuthority> authority;
};

Tsa& GetTsa() {
  static Tsa* tsa = [] {
    auto* t = new Tsa;
    PrivateKey ca_key = *PrivateKey::GenerateEcP256();
    CertificateRequest req;
    req.common_name = "fuzz root";
    Certificate ca = *CreateSelfSignedCa(ca_key, req, t->clock);
    PrivateKey key = *PrivateKey::GenerateEcP256();
    req.common_name = "fuzz TSA";
    req.usage = CertUsage::kTimestamping;
    t->certificate = *IssueCertificate(ca, ca_key, key.Public(), req, t->clock);
    t->authority = std::move(*TimestampAuthority::Create(key, *t->certificate, {}, t->clock));
    return t;
  }();
  return *tsa;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Tsa& tsa = GetTsa();

  auto decoded = DecodeTimestampRequest(input);
  if (decoded) {
    auto encoded = EncodeTimestampRequest(*decoded);
    FUZZ_CHECK(encoded);
    auto again = DecodeTimestampRequest(*encoded);
    FUZZ_CHECK(again);
    FUZZ_CHECK(again->imprint == decoded->imprint);
    FUZZ_CHECK(again->nonce == decoded->nonce);
    FUZZ_CHECK(again->policy == decoded->policy);
    FUZZ_CHECK(again->cert_req == decoded->cert_req);
  } else {
    FUZZ_CHECK(decoded.error().code() == ErrorCode::kInvalidArgument);
  }

  const uint64_t before = tsa.authority->last_serial();
  uint64_t serial = 0;
  auto reply = tsa.authority->Respond(input, &serial);
  FUZZ_CHECK(reply);  // never an error for bad input
  auto token = ParseTimestampReply(*reply);
  const bool grantable =
      decoded && (decoded->policy.empty() || decoded->policy == kDefaultTimestampPolicy);
  FUZZ_CHECK(token.has_value() == grantable);
  if (!grantable) {
    FUZZ_CHECK(token.error().code() == ErrorCode::kUnavailable);
    FUZZ_CHECK(serial == 0);
    FUZZ_CHECK(tsa.authority->last_serial() == before);
    return 0;
  }
  FUZZ_CHECK(serial == before + 1);
  auto info = VerifyTimestampToken(*token, decoded->imprint, {*tsa.certificate}, decoded->nonce);
  FUZZ_CHECK(info);
  FUZZ_CHECK(info->imprint == decoded->imprint);
  FUZZ_CHECK(info->nonce == decoded->nonce);
  FUZZ_CHECK(info->policy == kDefaultTimestampPolicy);
  FUZZ_CHECK(info->serial_hex == fmt::format("{:x}", serial));
  FUZZ_CHECK(info->gen_time == tsa.clock.Now());
  FUZZ_CHECK(info->tsa_certificate_sha256 == tsa.certificate->Sha256Fingerprint());
  return 0;
}
