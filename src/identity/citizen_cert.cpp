// Citizen certificate (MOICA) sign-in: CMS SignedData over a challenge, checked against
// configured CAs and CRLs with OpenSSL 3.
#include "identity/citizen_cert.h"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"
#include "crypto/x509.h"

namespace troad::identity {
namespace {

using crypto::internal::BioContents;
using crypto::internal::BioPtr;
using crypto::internal::Bytes;
using crypto::internal::Deleter;
using crypto::internal::ReadBio;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using Asn1EnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, Deleter<ASN1_ENUMERATED_free>>;
struct X509StackFree {
  void operator()(STACK_OF(X509) * sk) const { sk_X509_pop_free(sk, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;  // owns its certificates
struct CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * sk) const { sk_X509_CRL_pop_free(sk, X509_CRL_free); }
};
using CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree>;  // owns its CRLs

// Random bytes in a challenge: 256 bits, never guessed nor repeated.
constexpr size_t kChallengeRandomBytes = 32;
// Of the signed content, this much goes into a "different challenge" message.
constexpr size_t kShownContentBytes = 80;

// Empties this thread's OpenSSL error queue into "library: reason; ..." (at most three),
// so that stale errors never leak into a later call's message.
std::string DrainOpenSslErrors() {
  std::string out;
  int kept = 0;
  while (unsigned long e = ERR_get_error()) {
    if (kept++ >= 3) continue;
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += std::string(lib != nullptr ? lib : "OpenSSL") + ": " +
           (reason != nullptr ? reason : "unknown reason");
  }
  return out.empty() ? std::string("no detail from OpenSSL") : out;
}

// RFC 2253 with UTF-8 kept, as crypto::Certificate::Subject() prints names.
std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  unsigned long flags = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
  if (name == nullptr || bio == nullptr || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    ERR_clear_error();
    return "(unprintable name)";
  }
  return BioContents(bio.get());
}

std::optional<SystemTime> AsnTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string TimeText(const std::optional<SystemTime>& t) {
  return t.has_value() ? FormatRfc3339(*t) : std::string("(unreadable time)");
}

// RFC 5280 §5.3.1 CRLReason names; a hold is how MOICA suspends a card.
std::string ReasonText(long reason) {
  switch (reason) {
    case 0:
      return "unspecified";
    case 1:
      return "keyCompromise";
    case 2:
      return "cACompromise";
    case 3:
      return "affiliationChanged";
    case 4:
      return "superseded";
    case 5:
      return "cessationOfOperation";
    case 6:
      return "certificateHold (the card is suspended)";
    case 9:
      return "privilegeWithdrawn";
    case 10:
      return "aACompromise";
    default:
      return fmt::format("reason code {}", reason);
  }
}

// ---- Reading the message ----

// The DER of `message`: as is when it starts like DER (a SEQUENCE, 0x30), else
// base64-decoded after dropping whitespace (components and forms wrap base64 lines).
// Unambiguous for real messages: base64 of a SEQUENCE starts with 'M', never '0' (0x30).
Result<std::string> MessageDer(std::string_view message) {
  if (message.empty()) return Fail(ErrorCode::kInvalidArgument, "the signed message is empty");
  if (message.size() > kMaxCitizenSignedMessageBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message is {} bytes long, more than the {} accepted", message.size(),
                kMaxCitizenSignedMessageBytes);
  }
  constexpr unsigned char kSequence = 0x30;
  if (static_cast<unsigned char>(message[0]) == kSequence) return std::string(message);
  std::string compact;
  compact.reserve(message.size());
  for (char c : message) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  }
  auto der = Base64Decode(compact);
  if (!der) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message is neither DER (it does not start with a SEQUENCE) nor "
                "base64 ({})",
                der.error().message());
  }
  if (der->empty() || static_cast<unsigned char>((*der)[0]) != kSequence) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message is base64, but not of DER (it does not start with a "
                "SEQUENCE)");
  }
  return std::move(*der);
}

Result<CmsPtr> ParseSignedData(std::string_view der) {
  const unsigned char* p = Bytes(der);
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (cms == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message is not a DER CMS ContentInfo ({} bytes): {}", der.size(),
                DrainOpenSslErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message's DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  const ASN1_OBJECT* type = CMS_get0_type(cms.get());
  if (OBJ_obj2nid(type) != NID_pkcs7_signed) {
    const char* name = OBJ_nid2sn(OBJ_obj2nid(type));
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message is CMS content of type {}, not SignedData",
                name != nullptr ? name : "(unknown)");
  }
  return cms;
}

// ---- Chain verification ----

// One problem X509_verify_cert reported, copied out while its objects are at hand.
struct ChainProblem {
  int error = X509_V_OK;
  int depth = 0;
  std::string subject;  // of the certificate concerned
  std::string issuer;
  std::string serial_hex;
  std::optional<SystemTime> not_before;
  std::optional<SystemTime> not_after;
  // For a CRL problem: the CRL's issuer and times.
  std::string crl_issuer;
  std::optional<SystemTime> crl_last_update;
  std::optional<SystemTime> crl_next_update;
  // For a revocation: when and why, from the CRL entry.
  std::optional<SystemTime> revoked_at;
  std::optional<long> reason;
};

struct VerifyState {
  bool require_crl = false;
  std::vector<ChainProblem> problems;
};

bool IsTrustError(int error) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return true;
    default:
      return false;
  }
}

bool IsCrlError(int error) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return true;
    default:
      return false;
  }
}

// Which problem to report when there are several, lowest first: a certificate from
// elsewhere says the most, then revocation (final), then expiry, then anything else
// about the chain; the state of our CRLs comes last, as it is no fault of the citizen.
int Rank(int error) {
  if (IsTrustError(error)) return 0;
  if (error == X509_V_ERR_CERT_REVOKED) return 1;
  if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) return 2;
  if (IsCrlError(error)) return 4;
  return 3;
}

// Records each problem and lets verification go on (returns 1), so that all are known
// and the most telling one is reported; Verify refuses if any was recorded. A missing
// CRL is no problem for a CA certificate, nor for the signer's unless CRLs are required.
int CollectProblems(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* state = static_cast<VerifyState*>(X509_STORE_CTX_get_app_data(ctx));
  ChainProblem problem;
  problem.error = X509_STORE_CTX_get_error(ctx);
  problem.depth = X509_STORE_CTX_get_error_depth(ctx);
  if (problem.error == X509_V_ERR_UNABLE_TO_GET_CRL && (problem.depth > 0 || !state->require_crl)) {
    return 1;
  }
  if (X509* cert = X509_STORE_CTX_get_current_cert(ctx)) {
    crypto::Certificate c = crypto::Certificate::FromNative(cert);
    problem.subject = c.Subject();
    problem.issuer = c.Issuer();
    problem.serial_hex = c.SerialHex();
    problem.not_before = AsnTime(X509_get0_notBefore(cert));
    problem.not_after = AsnTime(X509_get0_notAfter(cert));
    if (X509_CRL* crl = X509_STORE_CTX_get0_current_crl(ctx)) {
      problem.crl_issuer = NameText(X509_CRL_get_issuer(crl));
      problem.crl_last_update = AsnTime(X509_CRL_get0_lastUpdate(crl));
      problem.crl_next_update = AsnTime(X509_CRL_get0_nextUpdate(crl));
    }
    if (problem.error == X509_V_ERR_CERT_REVOKED) {
      // When and why, from the entry. OpenSSL forgets the current CRL once it has judged a
      // stale one's times, so the issuer's CRLs are searched again.
      CrlStackPtr crls(X509_STORE_CTX_get1_crls(ctx, X509_get_issuer_name(cert)));
      for (int i = 0; crls != nullptr && i < sk_X509_CRL_num(crls.get()); ++i) {
        X509_REVOKED* entry = nullptr;
        if (X509_CRL_get0_by_cert(sk_X509_CRL_value(crls.get(), i), &entry, cert) != 1 ||
            entry == nullptr) {
          continue;
        }
        problem.revoked_at = AsnTime(X509_REVOKED_get0_revocationDate(entry));
        Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
        if (reason != nullptr) problem.reason = ASN1_ENUMERATED_get(reason.get());
        break;
      }
    }
  }
  ERR_clear_error();
  state->problems.push_back(std::move(problem));
  return 1;
}

Error DescribeProblem(const ChainProblem& p, const crypto::Certificate& signer, SystemTime now) {
  const std::string what = X509_verify_cert_error_string(p.error);
  const bool leaf = p.depth == 0;
  auto unauthenticated = [](std::string message) {
    return Error(ErrorCode::kUnauthenticated, std::move(message));
  };
  if (IsTrustError(p.error)) {
    if (p.error == X509_V_ERR_CERT_SIGNATURE_FAILURE && leaf) {
      return unauthenticated(fmt::format(
          "signed by a certificate from another CA: {} names {} as its issuer, but that CA's "
          "signature on it does not verify (a forged certificate?)",
          signer.Subject(), signer.Issuer()));
    }
    return unauthenticated(fmt::format(
        "signed by a certificate from another CA: {} (serial {}) was issued by {}, which is "
        "not a trusted citizen CA ({}{})",
        signer.Subject(), signer.SerialHex(), signer.Issuer(), what,
        leaf ? "" : " at " + p.subject));
  }
  if (p.error == X509_V_ERR_CERT_REVOKED) {
    const std::string when =
        p.revoked_at.has_value() ? ", revoked at " + FormatRfc3339(*p.revoked_at) : "";
    const std::string why = p.reason.has_value() ? ", reason " + ReasonText(*p.reason) : "";
    if (leaf) {
      return unauthenticated(
          fmt::format("the certificate was revoked: serial {} ({}) issued by {}{}{}", p.serial_hex,
                      p.subject, p.issuer, when, why));
    }
    return unauthenticated(fmt::format(
        "the certificate's CA {} (serial {}) was revoked{}{}: it can no longer vouch for {}",
        p.subject, p.serial_hex, when, why, signer.Subject()));
  }
  if (p.error == X509_V_ERR_CERT_HAS_EXPIRED) {
    return unauthenticated(
        fmt::format("{} has expired: {} (serial {}) was valid until {}, now is {}",
                    leaf ? "the certificate" : "the certificate's CA", p.subject, p.serial_hex,
                    TimeText(p.not_after), FormatRfc3339(now)));
  }
  if (p.error == X509_V_ERR_CERT_NOT_YET_VALID) {
    return unauthenticated(
        fmt::format("{} is not yet valid: {} (serial {}) is valid from {}, now is {}",
                    leaf ? "the certificate" : "the certificate's CA", p.subject, p.serial_hex,
                    TimeText(p.not_before), FormatRfc3339(now)));
  }
  if (p.error == X509_V_ERR_UNABLE_TO_GET_CRL) {
    return Error(ErrorCode::kFailedPrecondition,
                 fmt::format("no CRL of {} is configured, and a CRL is required to check "
                             "whether certificate {} (serial {}) was revoked",
                             p.issuer, p.subject, p.serial_hex));
  }
  if (p.error == X509_V_ERR_CRL_HAS_EXPIRED) {
    return Error(ErrorCode::kFailedPrecondition,
                 fmt::format("the CRL of {} is out of date: its nextUpdate was {}, now is {}; "
                             "revocation cannot be checked until a fresh CRL is loaded",
                             p.crl_issuer, TimeText(p.crl_next_update), FormatRfc3339(now)));
  }
  if (p.error == X509_V_ERR_CRL_NOT_YET_VALID) {
    return Error(ErrorCode::kFailedPrecondition,
                 fmt::format("the CRL of {} is not yet valid: its lastUpdate is {}, now is {} "
                             "(is a clock wrong?)",
                             p.crl_issuer, TimeText(p.crl_last_update), FormatRfc3339(now)));
  }
  if (IsCrlError(p.error)) {
    return Error(ErrorCode::kFailedPrecondition,
                 fmt::format("the CRL of {} cannot be used to check {}: {}",
                             p.crl_issuer.empty() ? p.issuer : p.crl_issuer, p.subject, what));
  }
  return unauthenticated(fmt::format("the certificate chain of {} does not verify: {} ({})",
                                     signer.Subject(), what, p.subject));
}

// The citizen's certificate's card id: its subject's serialNumber, else its serial.
Result<std::string> CardId(X509* cert, const crypto::Certificate& signer) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
  if (index < 0) return signer.SerialHex();
  if (X509_NAME_get_index_by_NID(name, NID_serialNumber, index) >= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate {} has several subject serialNumber attributes: its card id is "
                "ambiguous",
                signer.Subject());
  }
  unsigned char* utf8 = nullptr;
  const int len =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (len < 0 || utf8 == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "certificate {}'s subject serialNumber cannot be read as text", signer.Subject());
  }
  std::string id(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  // X.520's upper bound for serialNumber is 64 characters.
  TROAD_RETURN_IF_ERROR(CheckText("the certificate's subject serialNumber", id, 64,
                                  /*required=*/true, /*multiline=*/false));
  return id;
}

// ---- Configuration ----

// Every CRL in `bytes`: PEM with one or more "X509 CRL" blocks, or a single DER CRL.
Result<std::vector<X509CrlPtr>> ParseCrls(std::string_view bytes, size_t index) {
  std::vector<X509CrlPtr> out;
  if (bytes.empty()) return Fail(ErrorCode::kInvalidArgument, "CRL {} is empty", index);
  if (bytes.find("-----BEGIN") != std::string_view::npos) {
    BioPtr bio = ReadBio(bytes);
    if (bio == nullptr) return Fail(ErrorCode::kInvalidArgument, "CRL {} is too large", index);
    while (X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
      out.push_back(std::move(crl));
    }
    const unsigned long last = ERR_peek_last_error();
    const bool clean_end =
        ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
    if (!clean_end || out.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "CRL {} is PEM, but {} ({})", index,
                  out.empty() ? "holds no valid X509 CRL block"
                              : fmt::format("its block {} is malformed", out.size() + 1),
                  DrainOpenSslErrors());
    }
    ERR_clear_error();
    return out;
  }
  const unsigned char* p = Bytes(bytes);
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
  if (crl == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "CRL {} is neither PEM nor a DER CRL: {}", index,
                DrainOpenSslErrors());
  }
  if (p != Bytes(bytes) + bytes.size()) {
    return Fail(ErrorCode::kInvalidArgument, "CRL {}'s DER is followed by {} unexpected bytes",
                index, Bytes(bytes) + bytes.size() - p);
  }
  out.push_back(std::move(crl));
  return out;
}

}  // namespace

std::string NewCitizenChallenge() {
  return std::string(kCitizenChallengePrefix) +
         Base64UrlEncode(crypto::RandomBytes(kChallengeRandomBytes));
}

Result<std::unique_ptr<CitizenCertVerifier>> CitizenCertVerifier::Create(
    const CitizenCaConfig& config) {
  ERR_clear_error();
  auto cas = crypto::Certificate::ChainFromPem(config.ca_certificates_pem);
  if (!cas) return Fail(std::move(cas).error().Context("citizen CA certificates"));
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (store == nullptr) return Fail(ErrorCode::kInternal, "cannot allocate a certificate store");
  for (size_t i = 0; i < cas->size(); ++i) {
    const crypto::Certificate& ca = (*cas)[i];
    if (!ca.IsCa()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "citizen CA certificate {} ({}) is not a CA certificate (no basicConstraints "
                  "CA:TRUE)",
                  i + 1, ca.Subject());
    }
    if (X509_STORE_add_cert(store.get(), ca.native()) != 1) {
      return Fail(ErrorCode::kInternal, "cannot add citizen CA {}: {}", ca.Subject(),
                  DrainOpenSslErrors());
    }
  }
  // Each intermediate must lead to a configured root, or every sign-in through it would
  // fail: better said once at start-up. Times are judged at Verify.
  for (size_t i = 0; i < cas->size(); ++i) {
    const crypto::Certificate& ca = (*cas)[i];
    if (X509_self_signed(ca.native(), 0) == 1) continue;
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), store.get(), ca.native(), nullptr) != 1) {
      return Fail(ErrorCode::kInternal, "cannot start certificate verification: {}",
                  DrainOpenSslErrors());
    }
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx.get()) != 1) {
      const int error = X509_STORE_CTX_get_error(ctx.get());
      ERR_clear_error();
      return Fail(ErrorCode::kInvalidArgument,
                  "citizen CA certificate {} ({}) does not chain to a configured root "
                  "certificate ({}): add its issuer {} to the citizen CA certificates",
                  i + 1, ca.Subject(), X509_verify_cert_error_string(error), ca.Issuer());
    }
  }
  size_t crl_count = 0;
  for (size_t i = 0; i < config.crls.size(); ++i) {
    TROAD_ASSIGN_OR_RETURN(std::vector<X509CrlPtr> crls, ParseCrls(config.crls[i], i + 1));
    for (const X509CrlPtr& crl : crls) {
      // Checked here so that a wrong file is found at start-up, not at a citizen's sign-in.
      const X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
      auto by = std::find_if(cas->begin(), cas->end(), [&](const crypto::Certificate& ca) {
        return X509_NAME_cmp(X509_get_subject_name(ca.native()), issuer) == 0 &&
               X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.native())) == 1;
      });
      ERR_clear_error();
      if (by == cas->end()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "CRL {} (issuer {}) was not issued by any configured citizen CA, or its "
                    "signature does not verify",
                    i + 1, NameText(issuer));
      }
      if (X509_STORE_add_crl(store.get(), crl.get()) != 1) {
        return Fail(ErrorCode::kInternal, "cannot add CRL {}: {}", i + 1, DrainOpenSslErrors());
      }
      ++crl_count;
    }
  }
  if (config.require_crl && crl_count == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "CRLs are required, but none is configured: no citizen certificate could be "
                "checked");
  }
  const bool check_crls = config.require_crl || crl_count > 0;
  return std::unique_ptr<CitizenCertVerifier>(
      new CitizenCertVerifier(std::move(*cas), std::move(store), config.require_crl, check_crls));
}

Result<CitizenCertificate> CitizenCertVerifier::Verify(std::string_view signed_message,
                                                       std::string_view expected_challenge,
                                                       SystemTime now) const {
  ERR_clear_error();
  if (expected_challenge.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the expected challenge is empty");
  }
  TROAD_ASSIGN_OR_RETURN(const std::string der, MessageDer(signed_message));
  TROAD_ASSIGN_OR_RETURN(CmsPtr cms, ParseSignedData(der));

  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  const int signer_count = signers != nullptr ? sk_CMS_SignerInfo_num(signers) : 0;
  if (signer_count != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message has {} signers; a citizen certificate sign-in has exactly one",
                std::max(signer_count, 0));
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);
  // Finds the signer's certificate among those the message carries (the only place a
  // citizen's certificate can come from: we are not configured with them).
  CMS_set1_signers_certs(cms.get(), nullptr, 0);
  ERR_clear_error();
  X509* signer_x509 = nullptr;
  X509_ALGOR* digest = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, &signer_x509, &digest, nullptr);
  if (signer_x509 == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message does not carry its signer's certificate; the card "
                "component must include it");
  }
  const crypto::Certificate signer = crypto::Certificate::FromNative(signer_x509);
  const ASN1_OBJECT* digest_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest);
  const int digest_nid = OBJ_obj2nid(digest_oid);
  if (digest_nid != NID_sha256 && digest_nid != NID_sha384 && digest_nid != NID_sha512) {
    const char* name = OBJ_nid2sn(digest_nid);
    return Fail(ErrorCode::kInvalidArgument,
                "the signed message uses digest {}; only SHA-256, SHA-384 and SHA-512 are "
                "accepted",
                name != nullptr ? name : "(unknown)");
  }

  // 1. Did this certificate's key sign it? The signature covers the signed attributes,
  // which hold the content's digest; without them it covers the content (step 4).
  const bool has_signed_attributes = CMS_signed_get_attr_count(si) >= 0;
  if (has_signed_attributes && CMS_SignerInfo_verify(si) != 1) {
    return Fail(ErrorCode::kUnauthenticated,
                "the signature does not match: it does not verify with the key of {} (serial "
                "{}); the message was altered or forged ({})",
                signer.Subject(), signer.SerialHex(), DrainOpenSslErrors());
  }

  // 2. Is the certificate a citizen's, good now? Only the configured CAs and CRLs count;
  // certificates the message carries may only fill in intermediates.
  X509StackPtr carried(CMS_get1_certs(cms.get()));
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store_.get(), signer_x509, carried.get()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot start certificate verification: {}",
                DrainOpenSslErrors());
  }
  VerifyState state;
  state.require_crl = require_crl_;
  X509_STORE_CTX_set_app_data(ctx.get(), &state);
  X509_STORE_CTX_set_verify_cb(ctx.get(), CollectProblems);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // No X509_V_FLAG_PARTIAL_CHAIN: paths run up to a configured root. A chain cut short
  // at a configured intermediate would leave that CA's revocation unchecked (OpenSSL
  // would even judge the root's CRL with the intermediate's key and fail).
  if (check_crls_) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  // Sets X509_V_FLAG_USE_CHECK_TIME: certificates and CRLs are judged at `now`.
  X509_VERIFY_PARAM_set_time(
      param, std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(now)));
  const int verified = X509_verify_cert(ctx.get());
  // The root vouches for all its CAs; only the configured ones issue citizens'
  // certificates. Said first: whatever else is wrong, this certificate is not ours.
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  X509* issuer_x509 =
      chain != nullptr && sk_X509_num(chain) >= 2 ? sk_X509_value(chain, 1) : nullptr;
  if (issuer_x509 != nullptr &&
      std::none_of(cas_.begin(), cas_.end(), [&](const crypto::Certificate& ca) {
        return X509_cmp(ca.native(), issuer_x509) == 0;
      })) {
    ERR_clear_error();
    return Fail(ErrorCode::kUnauthenticated,
                "signed by a certificate from another CA: {} (serial {}) was issued by {}, "
                "which is not a configured citizen CA",
                signer.Subject(), signer.SerialHex(), NameText(X509_get_subject_name(issuer_x509)));
  }
  if (!state.problems.empty()) {
    std::stable_sort(state.problems.begin(), state.problems.end(),
                     [](const ChainProblem& a, const ChainProblem& b) {
                       return std::make_pair(Rank(a.error), a.depth) <
                              std::make_pair(Rank(b.error), b.depth);
                     });
    ERR_clear_error();
    return Fail(DescribeProblem(state.problems.front(), signer, now));
  }
  if (verified != 1 || issuer_x509 == nullptr) {
    return Fail(ErrorCode::kInternal, "verification of certificate {} could not run: {}",
                signer.Subject(), DrainOpenSslErrors());
  }
  const crypto::Certificate issuer = crypto::Certificate::FromNative(issuer_x509);

  // 3. Is it a citizen's signing certificate? (MOICA cards also hold an encryption one.)
  if (X509_check_ca(signer_x509) != 0) {
    return Fail(ErrorCode::kUnauthenticated,
                "the message is signed with CA certificate {}, not a citizen's certificate",
                signer.Subject());
  }
  if ((X509_get_extension_flags(signer_x509) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(signer_x509) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    return Fail(ErrorCode::kUnauthenticated,
                "certificate {} (serial {}) is not for signing: its keyUsage allows neither "
                "digitalSignature nor nonRepudiation (the card's encryption certificate?)",
                signer.Subject(), signer.SerialHex());
  }

  // 4. Is what it signed this sign-in's challenge? CMS_verify digests the content (the
  // one carried, or the challenge when detached) and checks it against the signature;
  // the signer's certificate was judged above, hence CMS_NO_SIGNER_CERT_VERIFY.
  const bool detached = CMS_is_detached(cms.get()) == 1;
  BioPtr content_in = detached ? ReadBio(expected_challenge) : nullptr;
  BioPtr content_out(detached ? nullptr : BIO_new(BIO_s_mem()));
  if (detached ? content_in == nullptr : content_out == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot allocate a buffer for the signed content");
  }
  if (CMS_verify(cms.get(), nullptr, store_.get(), content_in.get(), content_out.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
    const std::string detail = DrainOpenSslErrors();
    if (!detached) {
      return Fail(ErrorCode::kUnauthenticated,
                  "the signature does not match: the signed content was altered after signing "
                  "({})",
                  detail);
    }
    if (has_signed_attributes) {
      return Fail(ErrorCode::kUnauthenticated,
                  "{} signed a different challenge: the signature is good, but not over this "
                  "sign-in's challenge (a replayed or misdirected signature)",
                  signer.Subject());
    }
    // Without signed attributes the signature covers the content directly, so a
    // different challenge and an altered signature look the same.
    return Fail(ErrorCode::kUnauthenticated,
                "the signature does not match this sign-in's challenge: {} signed a different "
                "challenge, or the signature was altered ({})",
                signer.Subject(), detail);
  }
  if (!detached) {
    const std::string content = BioContents(content_out.get());
    if (content.size() != expected_challenge.size() ||
        CRYPTO_memcmp(content.data(), expected_challenge.data(), content.size()) != 0) {
      return Fail(ErrorCode::kUnauthenticated,
                  "{} signed a different challenge: the signature is good, but over \"{}\" "
                  "({} bytes), not this sign-in's challenge (a replayed or misdirected "
                  "signature)",
                  signer.Subject(), EscapeForLog(content, kShownContentBytes), content.size());
    }
  }

  CitizenCertificate out;
  out.subject = signer.Subject();
  out.serial_hex = signer.SerialHex();
  out.issuer = signer.Issuer();
  TROAD_ASSIGN_OR_RETURN(out.card_id, CardId(signer_x509, signer));
  out.not_after = std::chrono::system_clock::to_time_t(signer.NotAfter());
  out.certificate_der = signer.ToDer();
  out.issuer_certificate_der = issuer.ToDer();
  ERR_clear_error();
  return out;
}

}  // namespace troad::identity
