// OCSP (RFC 6960) revocation checks for citizen certificates: a request for one
// certificate, the question put to its CA's responder over plain HTTP, and the judgement
// of the signed answer — by the issuer or its delegated responder, for this certificate,
// to this request (nonce), and fresh.
//
// MakeOcspRequest and CheckOcspResponse are pure (the time is passed in), so tests are
// exact and the response parser can be fuzzed; QueryOcsp is the thin I/O between them.
// Revoked and unknown are answers, not errors: an error means there is no trustworthy
// answer, and the caller must not treat that as "good".
//
// Thread-safety: the functions share no state; any of them may be called from several
// threads at once. QueryOcsp blocks its thread for up to options.timeout: call it off
// the event loop and the database thread (the sign-in method asks it as a Lookup).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace troad::identity {

// RFC 6960 Appendix A.1: the media types of a request and a response sent by HTTP POST.
inline constexpr std::string_view kOcspRequestContentType = "application/ocsp-request";
inline constexpr std::string_view kOcspResponseContentType = "application/ocsp-response";

// Responses larger than this are refused: an answer about one certificate, with the
// responder's certificate, is a few KiB.
inline constexpr size_t kMaxOcspResponseBytes = 64 * 1024;

// Random bytes in a request's nonce: RFC 8954 §2.1 asks for 32.
inline constexpr size_t kOcspNonceBytes = 32;

struct OcspOptions {
  // Overrides the certificate's authorityInfoAccess OCSP URL (a local relay, say):
  // "http://host:port/path". Empty: the certificate's own.
  std::string responder_url;
  // The whole exchange with the responder, connecting included.
  std::chrono::milliseconds timeout{5000};
  // The clock difference allowed between us and the responder when judging thisUpdate
  // and nextUpdate.
  std::chrono::seconds max_skew{300};
  // An answer without nextUpdate ("newer information is always available") is taken as
  // fresh this long after its thisUpdate.
  std::chrono::seconds max_age{24 * 3600};
  // Put a nonce in the request and require the same one in the response, so that an
  // old answer cannot be replayed. Off only for a responder that serves pre-signed
  // answers without nonces (the RFC 5019 profile); freshness is then all that counts.
  bool nonce = true;
};

enum class OcspStatus { kGood, kRevoked, kUnknown };

struct OcspAnswer {
  OcspStatus status = OcspStatus::kUnknown;
  // For the audit log and the person: "good", "revoked at 2026-05-01T10:00:00.000Z
  // (keyCompromise)", "unknown to the responder: serial 1a2b of CN=...".
  std::string detail;
  int64_t this_update = 0;  // Unix seconds
  int64_t next_update = 0;  // Unix seconds; 0 when the answer has none
};

struct OcspRequest {
  std::string der;    // the DER OCSPRequest: one certificate, SHA-1 CertID, unsigned
  std::string nonce;  // the raw nonce the request carries (kOcspNonceBytes); empty: none
  std::string url;    // where to send it: options.responder_url, else the AIA OCSP URL
};

// A request about `certificate_der`, issued by `issuer_der` (both DER), with a fresh
// nonce when options.nonce. Pure but for the nonce's randomness. kInvalidArgument,
// saying which: a certificate that does not parse; an issuer that did not issue the
// certificate; no responder URL (none configured and none in the certificate's
// authorityInfoAccess).
Result<OcspRequest> MakeOcspRequest(std::string_view certificate_der, std::string_view issuer_der,
                                    const OcspOptions& options);

// Judges `response_der`, the responder's answer to `request` (made by MakeOcspRequest
// for the same certificate and issuer), at `now`. Pure. Accepted only when all hold:
// responseStatus is successful; the BasicOCSPResponse is signed by the issuer itself or
// by a responder certificate the issuer issued with extendedKeyUsage id-kp-OCSPSigning
// (RFC 6960 §4.2.2.2), valid at `now` — only the issuer is trusted, never OpenSSL's
// default paths; the nonce is the request's (a response without one is accepted only
// when !options.nonce); it answers for exactly this certificate's CertID; and
// thisUpdate/nextUpdate make it fresh at `now` (options.max_skew, options.max_age).
// Errors:
//   kInvalidArgument    ours: the certificates do not parse or do not belong together,
//                       `request` does not parse or is about another certificate, or
//                       options.nonce and the request carries no nonce;
//   kDataLoss           the response is empty, larger than kMaxOcspResponseBytes, not a
//                       DER OCSPResponse, or not a BasicOCSPResponse;
//   kUnavailable        responseStatus tryLater or internalError: ask again later;
//   kFailedPrecondition responseStatus malformedRequest, unauthorized or sigRequired
//                       (named); or the answer is stale or not yet valid at `now`;
//   kUnauthenticated    a signature that does not verify, a signer that is neither the
//                       issuer nor its authorised responder, a nonce missing or not the
//                       request's, no answer for this certificate.
Result<OcspAnswer> CheckOcspResponse(std::string_view response_der, const OcspRequest& request,
                                     std::string_view certificate_der, std::string_view issuer_der,
                                     SystemTime now, const OcspOptions& options);

// Asks the responder about `certificate_der` (issued by `issuer_der`) and judges the
// answer at `now`: MakeOcspRequest, an HTTP POST of it (plain http only), then
// CheckOcspResponse, whose errors it returns with the URL in front. Besides theirs:
// kInvalidArgument for a responder URL that does not parse or is https (OCSP answers
// are signed, so RFC 6960 responders speak plain http, and checking a TLS certificate
// would itself need a revocation check); kUnavailable, with the reason, when the
// responder cannot be reached, does not answer within options.timeout, answers other
// than HTTP 200 with an application/ocsp-response, or sends more than
// kMaxOcspResponseBytes.
Result<OcspAnswer> QueryOcsp(std::string_view certificate_der, std::string_view issuer_der,
                             const OcspOptions& options, SystemTime now);

}  // namespace troad::identity
