#include "gateway/signed_part.h"

#include "core/encoding.h"
#include "crypto/hash.h"
#include "gateway/fault.h"
#include "ledger/merkle.h"

namespace troad::gateway {

Result<bool> WantsSignedPart(const http::Request& request) {
  bool wanted = false;
  auto [first, last] = request.equal_range(kHeaderWantSignature);
  for (auto it = first; it != last; ++it) {
    if (it->value() != kWantSignatureValue) {
      return Fail(
          Error(ErrorCode::kInvalidArgument,
                fmt::format("{} must be \"{}\" (or absent), not \"{}\"", kHeaderWantSignature,
                            kWantSignatureValue, EscapeForLog(it->value())))
              .WithFault(std::string(kFaultBadRequest)));
    }
    wanted = true;
  }
  return wanted;
}

Result<ResponseHeader> VerifySignedPart(const SignedPartView& part,
                                        const crypto::Certificate& certificate,
                                        const crypto::TrustStore* trust) {
  auto refused = [](std::string message) {
    return Fail(Error(ErrorCode::kUnauthenticated, std::move(message)));
  };
  TROAD_ASSIGN_OR_RETURN(ResponseHeader h, ParseResponseHeader(part.header));
  if (part.body.size() != h.body_length) {
    return refused(
        fmt::format("body is {} bytes, H.body_length says {}", part.body.size(), h.body_length));
  }
  if (crypto::Sha512(part.body) != h.body_sha512) {
    return refused("body does not match H.body_sha512");
  }
  TROAD_ASSIGN_OR_RETURN(SignaturePart s, ParseSignaturePart(part.signature));
  const std::string fingerprint = certificate.Sha256Fingerprint();
  if (s.certificate_sha256 != fingerprint) {
    return refused(fmt::format("S.cert_sha256 {} is not the SHA-256 of the certificate given ({})",
                               s.certificate_sha256, fingerprint));
  }
  auto root = ledger::RootFromInclusionProof(s.leaf_index, s.batch_size,
                                             ledger::LeafHash(part.header), s.path);
  if (!root) return Fail(std::move(root).error().Context("S.path"));
  if (auto verified = certificate.GetPublicKey().Verify(BatchSignatureInput(s.batch_size, *root),
                                                        s.signature, s.algorithm);
      !verified) {
    return refused(
        "S.sig does not verify with the certificate's key over the Merkle root computed from H "
        "and S.path: " +
        verified.error().message());
  }
  if (trust == nullptr) return h;

  const SystemTime signed_at = FromUnixMillis(h.time_ms);
  if (signed_at < certificate.NotBefore() || signed_at >= certificate.NotAfter()) {
    return refused(fmt::format("certificate was not valid at H.time_ms {} ({} .. {})",
                               FormatRfc3339(signed_at), FormatRfc3339(certificate.NotBefore()),
                               FormatRfc3339(certificate.NotAfter())));
  }
  if (auto chain = trust->Verify(certificate, {}, signed_at); !chain) {
    return refused("certificate does not chain to a trusted CA at H.time_ms: " +
                   chain.error().message());
  }
  const std::string provider = h.service.provider.Member().ToString();
  if (certificate.CommonName() != provider) {
    return refused(
        fmt::format("certificate CN \"{}\" is not the provider member {} that H.service names",
                    EscapeForLog(certificate.CommonName()), provider));
  }
  return h;
}

Result<ResponseHeader> VerifySignedPart(const SignedPartView& part,
                                        std::string_view certificate_der,
                                        const crypto::TrustStore* trust) {
  auto certificate = crypto::Certificate::FromDer(certificate_der);
  if (!certificate) return Fail(std::move(certificate).error().Context("certificate"));
  return VerifySignedPart(part, *certificate, trust);
}

}  // namespace troad::gateway
