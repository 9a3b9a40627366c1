// RFC 3161 time-stamp protocol (TSP): requests, replies and tokens (OpenSSL 3's TS_*).
//
// Three users: a gateway's timestamper asks an authority to timestamp the Merkle root
// of a batch of transfer records (EncodeTimestampRequest, then ParseTimestampReply and
// VerifyTimestampToken); the central's timestamping authority answers such requests
// (TimestampAuthority); `troad verify-log` re-checks stored tokens offline
// (VerifyTimestampToken). Tokens are the DER TimeStampToken (a CMS SignedData), which
// is what a gateway stores and what `openssl ts -verify -in token.der -token_in`
// accepts.
//
// Thread-safety: functions are pure; TimestampAuthority::Respond may be called from
// several threads at once (serial numbers come from a counter under a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/hash.h"
#include "crypto/key.h"
#include "crypto/x509.h"

namespace troad::crypto {

// The content types of RFC 3161 over HTTP (§3.4).
inline constexpr std::string_view kTimestampQueryContentType = "application/timestamp-query";
inline constexpr std::string_view kTimestampReplyContentType = "application/timestamp-reply";

// troad's default TSA policy (an OID under the private-enterprise arc reserved for
// examples; operators set their own with [tsa] policy).
inline constexpr std::string_view kDefaultTimestampPolicy = "1.3.6.1.4.1.32473.1.3161";

struct TimestampRequest {
  Sha256Digest imprint{};         // the SHA-256 digest being timestamped
  std::optional<uint64_t> nonce;  // echoed in the token when set
  std::string policy;             // requested policy OID (dotted); empty = the TSA's default
  bool cert_req = true;           // ask the TSA to include its certificate in the token
};

// DER TimeStampReq for `request` (messageImprint with SHA-256). kInvalidArgument when
// `request.policy` is neither empty nor a dotted OID.
Result<std::string> EncodeTimestampRequest(const TimestampRequest& request);
// Parses a DER TimeStampReq. kInvalidArgument says what is wrong: not DER, trailing
// bytes, version not 1, a hash algorithm other than SHA-256, an imprint of the wrong
// length, a nonce longer than 64 bits, extensions (none are supported).
Result<TimestampRequest> DecodeTimestampRequest(std::string_view der);

// What a verified token says.
struct TimestampInfo {
  SystemTime gen_time;     // genTime, to the precision the TSA gave
  std::string serial_hex;  // serialNumber, lower-case hex, no leading zeros
  std::string policy;      // dotted OID
  Sha256Digest imprint{};
  std::optional<uint64_t> nonce;
  std::string tsa_certificate_sha256;  // fingerprint of the certificate that signed it
};

// The token out of a DER TimeStampResp. An answer whose status is not granted (0) or
// grantedWithMods (1) is kUnavailable with the status, the failure info names and the
// TSA's status text ("rejection: badAlg: unsupported algorithm"); a malformed answer
// is kInvalidArgument.
Result<std::string> ParseTimestampReply(std::string_view der);

// Verifies a DER TimeStampToken: the CMS signature by a certificate in `tsa_certificates`
// (found by the SignerInfo's issuer and serial, among the certificates the token
// carries — which must then equal one of them — and `tsa_certificates`; the token's
// ESSCertID(v2) must name it too), that certificate carries the critical
// timeStamping EKU and was valid at genTime, the imprint equals `imprint`, and — when
// `nonce` is set — the nonce matches. kUnauthenticated with the reason on any
// mismatch; kInvalidArgument when `token` does not parse (or is not for a SHA-256
// imprint, or has a nonce beyond 64 bits) or `tsa_certificates` is empty.
Result<TimestampInfo> VerifyTimestampToken(std::string_view token, const Sha256Digest& imprint,
                                           const std::vector<Certificate>& tsa_certificates,
                                           std::optional<uint64_t> nonce = std::nullopt);

// Reads the fields of a token without verifying anything (for listings and for
// telling an operator which token failed); tsa_certificate_sha256 is that of the
// certificate the token carries for its signer, empty when it carries none.
// kInvalidArgument when it does not parse.
Result<TimestampInfo> InspectTimestampToken(std::string_view token);

// An RFC 3161 timestamping authority: signs TimeStampTokens with its key and
// certificate (which must be a timestamping certificate: Certificate::
// IsTimestampingCertificate). Tokens carry that certificate only (when the request
// asks for it), never its issuers. genTime is clock.Now() to the millisecond.
class TimestampAuthority {
 public:
  struct Options {
    std::string policy = std::string(kDefaultTimestampPolicy);
    // accuracy (RFC 3161 §2.4.2), in milliseconds; 0 leaves it out.
    uint32_t accuracy_ms = 1000;
    // Serial numbers continue from here (the central persists the last one it issued
    // so that serials never repeat across restarts). At least 1: 0 means "none".
    uint64_t first_serial = 1;
  };
  // kInvalidArgument when the certificate is not a timestamping certificate or does
  // not belong to `key`, the policy is not a dotted OID, or first_serial is 0.
  static Result<std::unique_ptr<TimestampAuthority>> Create(PrivateKey key, Certificate certificate,
                                                            Options options, const Clock& clock);

  // The DER TimeStampResp answering the DER TimeStampReq `request_der`. Never fails
  // for bad input: a malformed or unsupported request gets a rejection reply
  // (status 2 with badDataFormat / badAlg / unacceptedPolicy / unacceptedExtension and
  // a status text saying what was wrong), as RFC 3161 §2.4.2 asks; so does a request
  // the TSA cannot serve (systemFailure: its certificate is not valid at clock.Now(),
  // or serial numbers are exhausted). kInternal only if signing itself fails.
  // `serial` receives the serial number used (0 for a rejection).
  Result<std::string> Respond(std::string_view request_der, uint64_t* serial = nullptr);

  const Certificate& certificate() const { return certificate_; }
  // The last serial number issued (first_serial - 1 before the first token).
  uint64_t last_serial() const;

 private:
  TimestampAuthority(PrivateKey key, Certificate certificate, Options options, const Clock& clock);
  PrivateKey key_;
  Certificate certificate_;
  Options options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  uint64_t next_serial_;  // guarded by mu_
};

}  // namespace troad::crypto
