// OCSP (RFC 6960) for citizen certificates with OpenSSL 3's OCSP API. No I/O here: the
// POST to the responder is ocsp_query.cpp, so that the fuzz build needs no HTTP client.
#include "identity/ocsp.h"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/encoding.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"
#include "crypto/x509.h"

namespace troad::identity {
namespace {

using crypto::internal::Bytes;
using crypto::internal::Deleter;
using crypto::internal::DrainOpenSslErrors;
using crypto::internal::NameToString;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, Deleter<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
struct X509StackFree {
  void operator()(STACK_OF(X509) * sk) const { sk_X509_free(sk); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;  // does not own its certs
struct StringStackFree {
  void operator()(STACK_OF(OPENSSL_STRING) * sk) const { X509_email_free(sk); }
};
using StringStackPtr = std::unique_ptr<STACK_OF(OPENSSL_STRING), StringStackFree>;

// The certificate asked about, its issuer, and the CertID that names the one by the other.
struct Subject {
  crypto::Certificate certificate;
  crypto::Certificate issuer;
  OcspCertIdPtr id;
};

Result<Subject> ReadSubject(std::string_view certificate_der, std::string_view issuer_der) {
  auto certificate = crypto::Certificate::FromDer(certificate_der);
  if (!certificate) return Fail(std::move(certificate).error().Context("the certificate to check"));
  auto issuer = crypto::Certificate::FromDer(issuer_der);
  if (!issuer) return Fail(std::move(issuer).error().Context("the issuer's certificate"));
  // The CertID names the certificate by its issuer's name and key: with another CA's it
  // would ask about a certificate that does not exist, and "unknown" would mislead.
  if (X509_check_issued(issuer->native(), certificate->native()) != X509_V_OK ||
      X509_verify(certificate->native(), X509_get0_pubkey(issuer->native())) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "certificate {} (serial {}) was not issued by {}: its issuer is {}",
                certificate->Subject(), certificate->SerialHex(), issuer->Subject(),
                certificate->Issuer());
  }
  // SHA-1, as RFC 5019 §2.1.1 requires and every responder understands: the hashes only
  // name the issuer, whose own key the answer's signature is then checked against.
  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), certificate->native(), issuer->native()));
  if (id == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot make the OCSP CertID of {}: {}",
                certificate->Subject(), DrainOpenSslErrors());
  }
  return Subject{std::move(*certificate), std::move(*issuer), std::move(id)};
}

// The certificate's authorityInfoAccess OCSP URL: the first http:// one when there are
// several (QueryOcsp speaks nothing else), else the first.
Result<std::string> AiaOcspUrl(const crypto::Certificate& certificate) {
  StringStackPtr urls(X509_get1_ocsp(certificate.native()));
  ERR_clear_error();
  const int count = urls != nullptr ? sk_OPENSSL_STRING_num(urls.get()) : 0;
  if (count <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate {} (serial {}) names no OCSP responder (its authorityInfoAccess has "
                "no OCSP URL), and no responder URL is configured",
                certificate.Subject(), certificate.SerialHex());
  }
  for (int i = 0; i < count; ++i) {
    std::string_view url = sk_OPENSSL_STRING_value(urls.get(), i);
    if (url.starts_with("http://")) return std::string(url);
  }
  return std::string(sk_OPENSSL_STRING_value(urls.get(), 0));
}

std::optional<int64_t> UnixSeconds(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_GENERALIZEDTIME_check(t) != 1 || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string UnixText(int64_t seconds) {
  return FormatRfc3339(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(seconds)));
}

// RFC 5280 §5.3.1 reason names; a hold is how MOICA suspends a card.
std::string ReasonText(int reason) {
  if (reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD) {
    return "certificateHold: the card is suspended";
  }
  const std::string_view name = OCSP_crl_reason_str(reason);
  if (name == "(UNKNOWN)") return fmt::format("reason code {}", reason);
  return std::string(name);
}

// What responseStatus says when it is not successful, and the code that fits it. These
// answers are unsigned (RFC 6960 §2.3): anyone on the path can send one, so none of
// them is ever taken for an answer about the certificate.
Error RefusalError(int status) {
  switch (status) {
    case OCSP_RESPONSE_STATUS_TRYLATER:
    case OCSP_RESPONSE_STATUS_INTERNALERROR:
      return Error(
          ErrorCode::kUnavailable,
          fmt::format("the OCSP responder answered responseStatus {} ({}): it cannot answer "
                      "now; ask again later",
                      status == OCSP_RESPONSE_STATUS_TRYLATER ? "tryLater" : "internalError",
                      status));
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
      return Error(
          ErrorCode::kFailedPrecondition,
          fmt::format("the OCSP responder answered responseStatus malformedRequest ({}): it "
                      "could not read our request",
                      status));
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
      return Error(
          ErrorCode::kFailedPrecondition,
          fmt::format("the OCSP responder answered responseStatus unauthorized ({}): it does "
                      "not answer for this CA, or not for us",
                      status));
    case OCSP_RESPONSE_STATUS_SIGREQUIRED:
      return Error(
          ErrorCode::kFailedPrecondition,
          fmt::format("the OCSP responder answered responseStatus sigRequired ({}): it wants "
                      "signed requests, which troad does not send",
                      status));
    default:
      return Error(
          ErrorCode::kDataLoss,
          fmt::format("the OCSP response has responseStatus {}, which RFC 6960 does not define",
                      status));
  }
}

Result<OcspResponsePtr> ParseResponse(std::string_view der) {
  if (der.empty()) return Fail(ErrorCode::kDataLoss, "the OCSP response is empty");
  if (der.size() > kMaxOcspResponseBytes) {
    return Fail(ErrorCode::kDataLoss,
                "the OCSP response is {} bytes long, more than the {} accepted", der.size(),
                kMaxOcspResponseBytes);
  }
  const unsigned char* p = Bytes(der);
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (response == nullptr) {
    return Fail(ErrorCode::kDataLoss, "the OCSP response is not a DER OCSPResponse ({} bytes): {}",
                der.size(), DrainOpenSslErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kDataLoss, "the OCSP response's DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  return response;
}

// The request as MakeOcspRequest made it: it must be about `subject` alone.
Result<OcspRequestPtr> ParseRequest(const OcspRequest& request, const Subject& subject) {
  const unsigned char* p = Bytes(request.der);
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request.der.size())));
  if (req == nullptr || p != Bytes(request.der) + request.der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the OCSP request is not a DER OCSPRequest (make it with MakeOcspRequest): {}",
                DrainOpenSslErrors());
  }
  OCSP_ONEREQ* one =
      OCSP_request_onereq_count(req.get()) == 1 ? OCSP_request_onereq_get0(req.get(), 0) : nullptr;
  if (one == nullptr || OCSP_id_cmp(OCSP_onereq_get0_id(one), subject.id.get()) != 0) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "the OCSP request is not about certificate {} (serial {}) of {} alone",
                subject.certificate.Subject(), subject.certificate.SerialHex(),
                subject.issuer.Subject());
  }
  return req;
}

// Whether the issuer signed `basic`, itself or through a responder certificate it issued
// for that (RFC 6960 §4.2.2.2), valid at `now`. The store holds the issuer alone, as a
// trust anchor even when it is an intermediate CA: no other CA, and never OpenSSL's
// default paths, can vouch for an answer about its certificates. Whether a responder
// certificate was itself revoked is not asked: RFC 6960 §4.2.2.2.1 leaves that to the CA,
// which keeps such certificates short-lived (id-pkix-ocsp-nocheck).
Status VerifySigner(OCSP_BASICRESP* basic, const Subject& subject, SystemTime now) {
  X509StorePtr store(X509_STORE_new());
  X509StackPtr issuer_only(sk_X509_new_null());
  if (store == nullptr || issuer_only == nullptr ||
      X509_STORE_add_cert(store.get(), subject.issuer.native()) != 1 ||
      sk_X509_push(issuer_only.get(), subject.issuer.native()) <= 0) {
    return Fail(ErrorCode::kInternal, "cannot set up OCSP signature verification: {}",
                DrainOpenSslErrors());
  }
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  // Sets X509_V_FLAG_USE_CHECK_TIME: the responder's certificate is judged at `now`.
  X509_VERIFY_PARAM_set_time(
      param, std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(now)));

  // Named in the messages below; OCSP_basic_verify finds it the same way (`issuer_only`
  // first, so an answer the issuer signed need not carry its certificate).
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic, &signer, issuer_only.get()) != 1 || signer == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kUnauthenticated,
                "the OCSP response is not signed by the issuer {}, and does not carry the "
                "certificate of the responder that signed it",
                subject.issuer.Subject());
  }
  const std::string signer_name = NameToString(X509_get_subject_name(signer));
  // OCSP_NOEXPLICIT: an anchor is never trusted for OCSP signing on its own say-so (an
  // "aux" trust setting); the signer must be the issuer or authorised by it.
  if (OCSP_basic_verify(basic, issuer_only.get(), store.get(), OCSP_NOEXPLICIT) > 0) {
    ERR_clear_error();
    return Ok();
  }
  const char* data = nullptr;
  int data_flags = 0;
  const unsigned long last = ERR_peek_last_error_data(&data, &data_flags);  // OCSP's own
  // For a chain that does not verify, why: "Verify error:unable to get local issuer ...".
  const std::string why =
      data != nullptr && (data_flags & ERR_TXT_STRING) != 0 ? std::string(data) : "";
  const std::string detail = DrainOpenSslErrors();
  const int reason = ERR_GET_LIB(last) == ERR_LIB_OCSP ? ERR_GET_REASON(last) : 0;
  if (reason == OCSP_R_SIGNATURE_FAILURE) {
    return Fail(ErrorCode::kUnauthenticated,
                "the OCSP response's signature does not verify with the key of {}: it was "
                "altered or forged",
                signer_name);
  }
  if (reason == OCSP_R_MISSING_OCSPSIGNING_USAGE) {
    return Fail(ErrorCode::kUnauthenticated,
                "the OCSP response is signed by {}, a certificate of {} without extendedKeyUsage "
                "OCSPSigning: the issuer did not authorise it to answer (RFC 6960 §4.2.2.2)",
                signer_name, subject.issuer.Subject());
  }
  if (reason == OCSP_R_CERTIFICATE_VERIFY_ERROR) {
    return Fail(ErrorCode::kUnauthenticated,
                "the OCSP response is signed by {}, which is neither the issuer {} nor a "
                "responder certificate it issued that is valid now ({})",
                signer_name, subject.issuer.Subject(), why.empty() ? detail : why);
  }
  return Fail(ErrorCode::kUnauthenticated,
              "the OCSP response is signed by {}, which is not authorised to answer for {}'s "
              "certificates ({})",
              signer_name, subject.issuer.Subject(), detail);
}

// The nonce rule of OcspOptions::nonce, once the signature holds.
Status CheckNonce(OCSP_REQUEST* req, OCSP_BASICRESP* basic, const OcspOptions& options) {
  const int nonce = OCSP_check_nonce(req, basic);
  ERR_clear_error();
  switch (nonce) {
    case 1:  // the same in both
    case 2:  // in neither: options.nonce is off (checked by the caller)
    case 3:  // in the response only: we did not ask for one, so it proves nothing either way
      return Ok();
    case -1:
      if (!options.nonce) return Ok();
      return Fail(ErrorCode::kUnauthenticated,
                  "the OCSP response carries no nonce, though the request did: it may be an old "
                  "answer replayed (turn nonces off only for a responder that never echoes them)");
    default:
      return Fail(ErrorCode::kUnauthenticated,
                  "the OCSP response's nonce is not the request's: it answers another request "
                  "(replayed or misdirected)");
  }
}

// RFC 6960 §3.2 (5) and (6), judged at `now` rather than the system clock, which is why
// OCSP_check_validity (it reads time()) is not used.
Status CheckFreshness(int64_t this_update, std::optional<int64_t> next_update, int64_t now,
                      const OcspOptions& options) {
  const int64_t skew = options.max_skew.count();
  if (this_update > now + skew) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the OCSP answer is not yet valid: its thisUpdate is {}, now is {} (more than {} "
                "s ahead: is a clock wrong?)",
                UnixText(this_update), UnixText(now), skew);
  }
  if (next_update.has_value()) {
    if (*next_update < this_update) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "the OCSP answer is never valid: its nextUpdate {} is before its thisUpdate {}",
                  UnixText(*next_update), UnixText(this_update));
    }
    if (*next_update < now - skew) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "the OCSP answer is out of date: its nextUpdate was {}, now is {}",
                  UnixText(*next_update), UnixText(now));
    }
    return Ok();
  }
  if (this_update + options.max_age.count() < now - skew) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the OCSP answer is out of date: it has no nextUpdate, and its thisUpdate {} is "
                "more than {} s before now, {}",
                UnixText(this_update), options.max_age.count(), UnixText(now));
  }
  return Ok();
}

}  // namespace

Result<OcspRequest> MakeOcspRequest(std::string_view certificate_der, std::string_view issuer_der,
                                    const OcspOptions& options) {
  ERR_clear_error();
  TROAD_ASSIGN_OR_RETURN(Subject subject, ReadSubject(certificate_der, issuer_der));
  OcspRequest out;
  if (!options.responder_url.empty()) {
    out.url = options.responder_url;
  } else {
    TROAD_ASSIGN_OR_RETURN(out.url, AiaOcspUrl(subject.certificate));
  }

  OcspRequestPtr req(OCSP_REQUEST_new());
  OcspCertIdPtr id(OCSP_CERTID_dup(subject.id.get()));
  if (req == nullptr || id == nullptr || OCSP_request_add0_id(req.get(), id.get()) == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot build an OCSP request: {}", DrainOpenSslErrors());
  }
  id.release();  // the request owns it now
  if (options.nonce) {
    out.nonce = crypto::RandomBytes(kOcspNonceBytes);
    if (OCSP_request_add1_nonce(req.get(), const_cast<unsigned char*>(Bytes(out.nonce)),
                                static_cast<int>(out.nonce.size())) != 1) {
      return Fail(ErrorCode::kInternal, "cannot add a nonce to the OCSP request: {}",
                  DrainOpenSslErrors());
    }
  }
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0 || der == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot encode the OCSP request: {}", DrainOpenSslErrors());
  }
  out.der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<OcspAnswer> CheckOcspResponse(std::string_view response_der, const OcspRequest& request,
                                     std::string_view certificate_der, std::string_view issuer_der,
                                     SystemTime now, const OcspOptions& options) {
  ERR_clear_error();
  TROAD_ASSIGN_OR_RETURN(const Subject subject, ReadSubject(certificate_der, issuer_der));
  TROAD_ASSIGN_OR_RETURN(const OcspRequestPtr req, ParseRequest(request, subject));
  if (options.nonce && OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1) < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "the OCSP request carries no nonce, but nonces are required: make it with the "
                "same options");
  }

  TROAD_ASSIGN_OR_RETURN(const OcspResponsePtr response, ParseResponse(response_der));
  const int status = OCSP_response_status(response.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return Fail(RefusalError(status));
  OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (basic == nullptr) {
    return Fail(ErrorCode::kDataLoss,
                "the OCSP response is successful, but holds no valid BasicOCSPResponse: {}",
                DrainOpenSslErrors());
  }

  // Nothing in the answer counts before its signature does.
  TROAD_RETURN_IF_ERROR(VerifySigner(basic.get(), subject, now));
  TROAD_RETURN_IF_ERROR(CheckNonce(req.get(), basic.get(), options));

  int cert_status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), subject.id.get(), &cert_status, &reason, &revoked_at,
                            &this_update, &next_update) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kUnauthenticated,
                "the OCSP response has no answer for certificate {} (serial {}) of {}; it answers "
                "for {} other certificate(s)",
                subject.certificate.Subject(), subject.certificate.SerialHex(),
                subject.issuer.Subject(), OCSP_resp_count(basic.get()));
  }
  const std::optional<int64_t> this_s = UnixSeconds(this_update);
  const std::optional<int64_t> next_s =
      next_update != nullptr ? UnixSeconds(next_update) : std::nullopt;
  if (!this_s.has_value() || (next_update != nullptr && !next_s.has_value())) {
    return Fail(ErrorCode::kDataLoss, "the OCSP answer's {} is not a valid GeneralizedTime",
                this_s.has_value() ? "nextUpdate" : "thisUpdate");
  }
  const int64_t now_s =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(now));
  TROAD_RETURN_IF_ERROR(CheckFreshness(*this_s, next_s, now_s, options));

  OcspAnswer answer;
  answer.this_update = *this_s;
  answer.next_update = next_s.value_or(0);
  switch (cert_status) {
    case V_OCSP_CERTSTATUS_GOOD:
      answer.status = OcspStatus::kGood;
      answer.detail = "good";
      break;
    case V_OCSP_CERTSTATUS_REVOKED: {
      answer.status = OcspStatus::kRevoked;
      const std::optional<int64_t> at = UnixSeconds(revoked_at);
      answer.detail =
          fmt::format("revoked at {}", at.has_value() ? UnixText(*at) : "(an unreadable time)");
      if (reason != OCSP_REVOKED_STATUS_NOSTATUS) {
        answer.detail += fmt::format(" ({})", ReasonText(reason));
      }
      break;
    }
    default:
      answer.status = OcspStatus::kUnknown;
      answer.detail = fmt::format("unknown to the responder: serial {} of {}",
                                  subject.certificate.SerialHex(), subject.issuer.Subject());
      break;
  }
  return answer;
}

}  // namespace troad::identity
