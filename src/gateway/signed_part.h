// The provider's signed part of a response, handed to the information system that
// asked for it, and its verification by anyone, later and offline (docs/protocol.md §1
// "The provider's signature"). A caller such as MyData keeps the body with H, S and the
// signing certificate, so that a third party can check that the data provider's
// gateway answered exactly this body without trusting the caller.
//
// On the consumer port:
//   request   X-Road-Want-Signature: 1
//   response  X-Road-Response-Header:      base64(H)        exactly the bytes received
//             X-Road-Response-Signature:   base64(S)        exactly the bytes received
//             X-Road-Response-Certificate: base64(DER of the certificate S names)
//
// Thread-safety: constants and pure functions.
#pragma once

#include <string_view>

#include "core/result.h"
#include "crypto/x509.h"
#include "gateway/envelope.h"
#include "http/types.h"

namespace troad::gateway {

// Request header asking for the signed part; its only value is kWantSignatureValue.
// The consumer gateway consumes it: it never reaches the provider or H's headers.
inline constexpr std::string_view kHeaderWantSignature = "X-Road-Want-Signature";
inline constexpr std::string_view kWantSignatureValue = "1";
// Response headers carrying the part (base64, RFC 4648 §4, padded). Only a verified
// response from the provider carries them; the gateways' faults never do.
inline constexpr std::string_view kHeaderResponseHeader = "X-Road-Response-Header";
inline constexpr std::string_view kHeaderResponseSignature = "X-Road-Response-Signature";
inline constexpr std::string_view kHeaderResponseCertificate = "X-Road-Response-Certificate";

// Whether the information system's request asks for the signed part: false when the
// request has no X-Road-Want-Signature, true when every X-Road-Want-Signature it has
// is "1". Any other value: kInvalidArgument with fault BadRequest, naming the header
// and the value allowed.
Result<bool> WantsSignedPart(const http::Request& request);

// A response as an information system received it with its signed part.
struct SignedPartView {
  std::string_view body;       // the response body
  std::string_view header;     // H (protocol.md §3 "Response"), exactly as received
  std::string_view signature;  // S (protocol.md §4), exactly as received
};

// Checks, in this order, that
//   1. H is a response header                               kInvalidArgument
//   2. the body has H.body_length bytes and SHA-512 H.body_sha512  kUnauthenticated
//   3. S is a signature part                                kInvalidArgument
//   4. S.cert_sha256 is the SHA-256 of `certificate`         kUnauthenticated
//   5. the inclusion path leads from H's leaf to a root      kInvalidArgument
//   6. S.sig verifies over that root with the certificate's public key  kUnauthenticated
// and, when `trust` is not null, that `certificate`
//   7. was valid at H.time_ms, chains to one of `trust`'s anchors with every certificate
//      of the chain valid at H.time_ms, and is a member signing certificate of the
//      provider H.service names (subject CN = the member id, docs/central.md)
//                                                           kUnauthenticated
// Each error message names the check that failed. Without `trust` only the
// cryptography is checked: the certificate itself is then taken on the caller's word.
// Revocation is not checked here (a global configuration's revoked_certificates says
// which certificates are revoked). Returns H, parsed.
Result<ResponseHeader> VerifySignedPart(const SignedPartView& part,
                                        const crypto::Certificate& certificate,
                                        const crypto::TrustStore* trust = nullptr);
// The same with the certificate as DER (X-Road-Response-Certificate, base64-decoded);
// malformed DER is kInvalidArgument.
Result<ResponseHeader> VerifySignedPart(const SignedPartView& part,
                                        std::string_view certificate_der,
                                        const crypto::TrustStore* trust = nullptr);

}  // namespace troad::gateway
