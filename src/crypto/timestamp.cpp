#include "crypto/timestamp.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>
#include <string_view>

#include "core/encoding.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

using internal::Bytes;
using internal::Deleter;

using TsReqPtr = std::unique_ptr<TS_REQ, Deleter<TS_REQ_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, Deleter<TS_RESP_free>>;
using TsRespCtxPtr = std::unique_ptr<TS_RESP_CTX, Deleter<TS_RESP_CTX_free>>;
using TsVerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, Deleter<TS_VERIFY_CTX_free>>;
using TsMsgImprintPtr = std::unique_ptr<TS_MSG_IMPRINT, Deleter<TS_MSG_IMPRINT_free>>;
using TstInfoPtr = std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, Deleter<X509_ALGOR_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
struct X509StackFree {
  void operator()(STACK_OF(X509) * sk) const { sk_X509_pop_free(sk, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;  // owns its certificates

// RFC 3161 genTime precision: milliseconds, as Clock and FormatRfc3339 keep.
constexpr int kClockPrecisionDigits = 3;
constexpr size_t kSha256Size = std::tuple_size_v<Sha256Digest>;
// A TSA's status text is shown to operators; more than this is cut.
constexpr size_t kMaxStatusTextBytes = 512;

// One queued OpenSSL error: which library and reason (to tell the TS verification
// failures apart) and its text, with the detail OpenSSL attaches ("Verify
// error:certificate has expired"), which DrainOpenSslErrors leaves out.
struct OpenSslError {
  int lib = 0;
  int reason = 0;
  std::string text;
};

std::vector<OpenSslError> TakeOpenSslErrors() {
  std::vector<OpenSslError> errors;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    std::string text = std::string(lib != nullptr ? lib : "OpenSSL") + ": " +
                       (reason != nullptr ? reason : "unknown reason");
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      text += std::string(" (") + data + ")";
    }
    errors.push_back({ERR_GET_LIB(e), ERR_GET_REASON(e), std::move(text)});
  }
  return errors;
}

// At most three errors, innermost first, as "library: reason (detail); ...".
std::string DescribeErrors(const std::vector<OpenSslError>& errors) {
  std::string out;
  for (size_t i = 0; i < errors.size() && i < 3; ++i) {
    if (!out.empty()) out += "; ";
    out += errors[i].text;
  }
  return out.empty() ? std::string("no detail from OpenSSL") : out;
}

std::string DrainErrors() { return DescribeErrors(TakeOpenSslErrors()); }

bool HasError(const std::vector<OpenSslError>& errors, int lib, int reason) {
  for (const OpenSslError& e : errors) {
    if (e.lib == lib && e.reason == reason) return true;
  }
  return false;
}

// Dotted form of `obj` ("1.3.6.1.4.1.32473.1.3161"); empty if OpenSSL cannot print it.
std::string DottedOid(const ASN1_OBJECT* obj) {
  if (obj == nullptr) return {};
  int len = OBJ_obj2txt(nullptr, 0, obj, 1);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(static_cast<size_t>(len) + 1, '\0');
  if (OBJ_obj2txt(out.data(), len + 1, obj, 1) != len) {
    ERR_clear_error();
    return {};
  }
  out.resize(static_cast<size_t>(len));
  return out;
}

// A name for an OID in messages: OpenSSL's long name of a digest ("sha1"), the short
// name of anything else ("nsComment"), else the dotted form.
std::string ObjectName(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    const bool digest = EVP_get_digestbynid(nid) != nullptr;
    if (const char* name = digest ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid)) return name;
  }
  std::string dotted = DottedOid(obj);
  return dotted.empty() ? std::string("(unprintable OID)") : dotted;
}

// Lower-case hex without leading zeros ("-" first if negative), as serials are shown.
std::string IntegerHex(const ASN1_INTEGER* value) {
  BignumPtr bn(ASN1_INTEGER_to_BN(value, nullptr));
  char* hex = bn != nullptr ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) {
    ERR_clear_error();
    return "(unprintable)";
  }
  std::string digits(hex);
  OPENSSL_free(hex);
  std::string sign;
  if (!digits.empty() && digits[0] == '-') {
    sign = "-";
    digits.erase(0, 1);
  }
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty()) return "0";
  for (char& c : digits) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return sign + digits;
}

// A nonce as troad keeps it: a non-negative INTEGER of at most 64 bits. `what` names
// where it came from for the message.
Result<uint64_t> NonceValue(const ASN1_INTEGER* nonce, std::string_view what) {
  if (ASN1_STRING_type(nonce) == V_ASN1_NEG_INTEGER) {
    return Fail(ErrorCode::kInvalidArgument, "{} nonce is negative (-0x{})", what,
                IntegerHex(nonce).substr(1));
  }
  uint64_t value = 0;
  if (ASN1_INTEGER_get_uint64(&value, nonce) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "{} nonce 0x{} is longer than 64 bits: troad's nonces are 64-bit", what,
                IntegerHex(nonce));
  }
  return value;
}

// Free text from a peer (a TSA's status strings), made safe for a log line: control
// characters and broken UTF-8 become '?', and it is cut at kMaxStatusTextBytes.
std::string SanitizeText(std::string_view text) {
  std::string out;
  ForEachUtf8(text, [&](std::string_view sequence, uint32_t cp) {
    if (out.size() >= kMaxStatusTextBytes) return;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xFFFD) {
      out += '?';
    } else {
      out += sequence;
    }
  });
  if (out.size() >= kMaxStatusTextBytes) out += "…";
  return out;
}

// ---- Requests ----

// A TS_REQ for `request`, as EncodeTimestampRequest sends it.
Result<TsReqPtr> BuildRequest(const TimestampRequest& request) {
  TsReqPtr req(TS_REQ_new());
  TsMsgImprintPtr imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr algorithm(X509_ALGOR_new());
  if (req == nullptr || imprint == nullptr || algorithm == nullptr) {
    internal::Die("cannot allocate a TimeStampReq");
  }
  // SHA-256 with NULL parameters, as `openssl ts -query` writes it.
  if (X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(request.imprint.data()),
                             static_cast<int>(request.imprint.size())) != 1 ||
      TS_REQ_set_version(req.get(), 1) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), request.cert_req ? 1 : 0) != 1) {
    internal::Die("cannot fill in a TimeStampReq");
  }
  if (!request.policy.empty()) {
    Asn1ObjectPtr policy(OBJ_txt2obj(request.policy.c_str(), 1));
    if (policy == nullptr) {
      ERR_clear_error();
      return Fail(ErrorCode::kInvalidArgument,
                  "timestamp policy '{}' is not a dotted OID (such as {})", request.policy,
                  kDefaultTimestampPolicy);
    }
    if (TS_REQ_set_policy_id(req.get(), policy.get()) != 1) {
      internal::Die("cannot set a TimeStampReq policy");
    }
  }
  if (request.nonce.has_value()) {
    Asn1IntegerPtr nonce(ASN1_INTEGER_new());
    if (nonce == nullptr || ASN1_INTEGER_set_uint64(nonce.get(), *request.nonce) != 1 ||
        TS_REQ_set_nonce(req.get(), nonce.get()) != 1) {
      internal::Die("cannot set a TimeStampReq nonce");
    }
  }
  return req;
}

// DecodeTimestampRequest, also saying which RFC 3161 PKIFailureInfo bit (TS_INFO_*) a
// TSA answers the problem with.
Result<TimestampRequest> DecodeRequest(std::string_view der, int* failure_info) {
  ERR_clear_error();
  *failure_info = TS_INFO_BAD_DATA_FORMAT;
  if (der.empty()) return Fail(ErrorCode::kInvalidArgument, "timestamp request is empty");
  if (der.size() > static_cast<size_t>(LONG_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp request is too large");
  }
  const unsigned char* p = Bytes(der);
  TsReqPtr req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (req == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request is not a DER TimeStampReq ({} bytes): {}", der.size(),
                DrainErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  if (long version = TS_REQ_get_version(req.get()); version != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request has version {}; only version 1 is defined", version);
  }

  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(req.get());
  const ASN1_OBJECT* algorithm = nullptr;
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&algorithm, &param_type, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  if (OBJ_obj2nid(algorithm) != NID_sha256) {
    *failure_info = TS_INFO_BAD_ALG;
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request's imprint uses hash algorithm {}: only SHA-256 is accepted",
                ObjectName(algorithm));
  }
  if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL) {
    *failure_info = TS_INFO_BAD_ALG;
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request's SHA-256 algorithm identifier has parameters (ASN.1 type "
                "{}); they must be absent or NULL",
                param_type);
  }
  const ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(imprint);
  if (static_cast<size_t>(ASN1_STRING_length(hashed)) != kSha256Size) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request's SHA-256 imprint is {} bytes long instead of {}",
                ASN1_STRING_length(hashed), kSha256Size);
  }

  TimestampRequest out;
  std::copy_n(ASN1_STRING_get0_data(hashed), kSha256Size, out.imprint.begin());
  if (const ASN1_INTEGER* nonce = TS_REQ_get_nonce(req.get())) {
    TROAD_ASSIGN_OR_RETURN(out.nonce, NonceValue(nonce, "timestamp request's"));
  }
  if (const ASN1_OBJECT* policy = TS_REQ_get_policy_id(req.get())) {
    out.policy = DottedOid(policy);
    if (out.policy.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "timestamp request's policy OID cannot be decoded");
    }
  }
  out.cert_req = TS_REQ_get_cert_req(req.get()) != 0;
  if (int count = TS_REQ_get_ext_count(req.get()); count > 0) {
    *failure_info = TS_INFO_UNACCEPTED_EXTENSION;
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp request carries {} extension(s) (the first is {}); none are supported",
                count, ObjectName(X509_EXTENSION_get_object(TS_REQ_get_ext(req.get(), 0))));
  }
  return out;
}

// ---- Replies ----

// DER tag-length-value with a definite length.
std::string DerTlv(unsigned char tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  const size_t n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    std::string length;
    for (size_t rest = n; rest != 0; rest >>= 8) {
      length.insert(length.begin(), static_cast<char>(rest & 0xff));
    }
    out += static_cast<char>(0x80 | length.size());
    out += length;
  }
  out += content;
  return out;
}

// TimeStampResp { PKIStatusInfo { rejection, { text }, failInfo } } (RFC 3161 §2.4.2),
// encoded by hand: OpenSSL's TS_STATUS_INFO has no setters for the text and failure
// info outside TS_RESP_create_response.
std::string RejectionReply(int failure_bit, std::string_view text) {
  constexpr unsigned char kInteger = 0x02, kBitString = 0x03, kUtf8String = 0x0c, kSequence = 0x30;
  const std::string status = DerTlv(kInteger, std::string(1, TS_STATUS_REJECTION));
  const std::string free_text = DerTlv(kSequence, DerTlv(kUtf8String, text));
  // A named bit list in DER: bits up to the last one set, unused bits counted first.
  std::string bits(static_cast<size_t>(failure_bit / 8) + 1, '\0');
  bits.back() = static_cast<char>(0x80 >> (failure_bit % 8));
  const std::string fail_info =
      DerTlv(kBitString, std::string(1, static_cast<char>(7 - failure_bit % 8)) + bits);
  return DerTlv(kSequence, DerTlv(kSequence, status + free_text + fail_info));
}

struct NamedBit {
  int bit;
  std::string_view name;
};
constexpr NamedBit kFailureInfoNames[] = {
    {TS_INFO_BAD_ALG, "badAlg"},
    {TS_INFO_BAD_REQUEST, "badRequest"},
    {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
    {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
    {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
    {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
    {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
    {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
};

// "rejection: badAlg: unsupported algorithm": the status, the failure info names and
// the TSA's text, each part only when present.
std::string DescribeStatus(const TS_STATUS_INFO* info) {
  static constexpr std::string_view kStatusNames[] = {
      "granted", "grantedWithMods",   "rejection",
      "waiting", "revocationWarning", "revocationNotification"};
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  ERR_clear_error();
  std::string out = status >= 0 && status < static_cast<long>(std::size(kStatusNames))
                        ? std::string(kStatusNames[status])
                        : fmt::format("unknown status {}", status);
  if (const ASN1_BIT_STRING* fail = TS_STATUS_INFO_get0_failure_info(info)) {
    std::string names;
    for (int bit = 0; bit < ASN1_STRING_length(fail) * 8; ++bit) {
      if (ASN1_BIT_STRING_get_bit(fail, bit) != 1) continue;
      if (!names.empty()) names += ", ";
      auto known = std::find_if(std::begin(kFailureInfoNames), std::end(kFailureInfoNames),
                                [bit](const NamedBit& n) { return n.bit == bit; });
      names += known != std::end(kFailureInfoNames) ? std::string(known->name)
                                                    : fmt::format("failure bit {}", bit);
    }
    if (!names.empty()) out += ": " + names;
  }
  if (const STACK_OF(ASN1_UTF8STRING)* texts = TS_STATUS_INFO_get0_text(info)) {
    std::string joined;
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
      const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(texts, i);
      if (!joined.empty()) joined += "; ";
      joined += std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s)));
    }
    if (!joined.empty()) out += ": " + SanitizeText(joined);
  }
  return out;
}

bool IsGranted(const TS_STATUS_INFO* info) {
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  ERR_clear_error();
  return status == TS_STATUS_GRANTED || status == TS_STATUS_GRANTED_WITH_MODS;
}

// ---- Tokens ----

// genTime (GeneralizedTime, UTC, optional fraction of a second) as a SystemTime.
Result<SystemTime> ParseGenTime(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) return Fail(ErrorCode::kInvalidArgument, "timestamp token has no genTime");
  const std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                              static_cast<size_t>(ASN1_STRING_length(t)));
  // YYYYMMDDhhmmss[.f+]Z; RFC 3161 §2.4.2 requires the Z.
  auto digits = [&](size_t from, size_t to) {
    return to <= text.size() && std::all_of(text.begin() + static_cast<ptrdiff_t>(from),
                                            text.begin() + static_cast<ptrdiff_t>(to),
                                            [](char c) { return c >= '0' && c <= '9'; });
  };
  size_t end = 14;
  bool shape = digits(0, 14);
  std::string_view fraction;
  if (shape && end < text.size() && text[end] == '.') {
    size_t first = end + 1;
    end = first;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    fraction = text.substr(first, end - first);
    shape = !fraction.empty();
  }
  shape = shape && end + 1 == text.size() && text[end] == 'Z';
  std::tm tm{};
  if (!shape || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token's genTime '{}' is not a UTC time YYYYMMDDhhmmss[.fff]Z",
                SanitizeText(text));
  }
  const time_t secs = timegm(&tm);
  // SystemTime counts nanoseconds in 64 bits: years 1678 to 2262.
  constexpr time_t kMaxSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count() - 1;
  if (secs >= kMaxSeconds || secs <= -kMaxSeconds) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp token's genTime '{}' is out of range",
                text);
  }
  int64_t nanos = 0;
  for (size_t i = 0; i < 9; ++i) {
    nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
}

struct ParsedToken {
  Pkcs7Ptr pkcs7;
  TstInfoPtr tst_info;
  PKCS7_SIGNER_INFO* signer_info = nullptr;  // owned by pkcs7
  TimestampInfo info;                        // all but tsa_certificate_sha256
};

Result<ParsedToken> ParseToken(std::string_view der) {
  ERR_clear_error();
  if (der.empty()) return Fail(ErrorCode::kInvalidArgument, "timestamp token is empty");
  if (der.size() > static_cast<size_t>(LONG_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp token is too large");
  }
  ParsedToken parsed;
  const unsigned char* p = Bytes(der);
  parsed.pkcs7.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (parsed.pkcs7 == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token is not a DER CMS ContentInfo ({} bytes): {}", der.size(),
                DrainErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  if (!PKCS7_type_is_signed(parsed.pkcs7.get())) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token is CMS content of type {}, not SignedData",
                ObjectName(parsed.pkcs7->type));
  }
  parsed.tst_info.reset(PKCS7_to_TS_TST_INFO(parsed.pkcs7.get()));
  if (parsed.tst_info == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token's SignedData does not hold a TSTInfo: {}", DrainErrors());
  }
  STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(parsed.pkcs7.get());
  if (signers == nullptr || sk_PKCS7_SIGNER_INFO_num(signers) != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token has {} signatures; RFC 3161 allows exactly one",
                signers == nullptr ? 0 : sk_PKCS7_SIGNER_INFO_num(signers));
  }
  parsed.signer_info = sk_PKCS7_SIGNER_INFO_value(signers, 0);

  TS_TST_INFO* tst = parsed.tst_info.get();
  if (long version = TS_TST_INFO_get_version(tst); version != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "timestamp token's TSTInfo has version {}, not 1",
                version);
  }
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
  const ASN1_OBJECT* algorithm = nullptr;
  X509_ALGOR_get0(&algorithm, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  if (OBJ_obj2nid(algorithm) != NID_sha256) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token is for a {} imprint; troad timestamps SHA-256 imprints only",
                ObjectName(algorithm));
  }
  const ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(imprint);
  if (static_cast<size_t>(ASN1_STRING_length(hashed)) != kSha256Size) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp token's SHA-256 imprint is {} bytes long instead of {}",
                ASN1_STRING_length(hashed), kSha256Size);
  }
  std::copy_n(ASN1_STRING_get0_data(hashed), kSha256Size, parsed.info.imprint.begin());
  parsed.info.serial_hex = IntegerHex(TS_TST_INFO_get_serial(tst));
  parsed.info.policy = DottedOid(TS_TST_INFO_get_policy_id(tst));
  if (parsed.info.policy.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp token's policy OID cannot be decoded");
  }
  if (const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst)) {
    TROAD_ASSIGN_OR_RETURN(parsed.info.nonce, NonceValue(nonce, "timestamp token's"));
  }
  TROAD_ASSIGN_OR_RETURN(parsed.info.gen_time, ParseGenTime(TS_TST_INFO_get_time(tst)));
  return parsed;
}

// The signer's certificate among those the token carries; null when it carries none
// that matches the SignerInfo's issuer and serial.
X509* CarriedSigner(const ParsedToken& parsed) {
  STACK_OF(X509)* carried = parsed.pkcs7->d.sign->cert;
  if (carried == nullptr) return nullptr;
  PKCS7_ISSUER_AND_SERIAL* id = parsed.signer_info->issuer_and_serial;
  return X509_find_by_issuer_and_serial(carried, id->issuer, id->serial);
}

// Why TS_RESP_verify_token refused, in the caller's terms.
Error VerificationFailure(const std::vector<OpenSslError>& errors, const ParsedToken& parsed,
                          const Sha256Digest& imprint, std::optional<uint64_t> nonce,
                          const Certificate& signer) {
  const std::string detail = DescribeErrors(errors);
  auto fail = [](std::string message) {
    return Error(ErrorCode::kUnauthenticated, std::move(message));
  };
  if (HasError(errors, ERR_LIB_TS, TS_R_SIGNATURE_FAILURE)) {
    return fail(fmt::format(
        "timestamp token's signature by {} does not verify (altered after signing?): {}",
        signer.Subject(), detail));
  }
  if (HasError(errors, ERR_LIB_TS, TS_R_CERTIFICATE_VERIFY_ERROR)) {
    return fail(fmt::format("TSA certificate {} is not acceptable at genTime {}: {}",
                            signer.Subject(), FormatRfc3339(parsed.info.gen_time), detail));
  }
  const bool ess = std::any_of(errors.begin(), errors.end(),
                               [](const OpenSslError& e) { return e.lib == ERR_LIB_ESS; });
  if (ess || HasError(errors, ERR_LIB_TS, TS_R_ESS_SIGNING_CERTIFICATE_ERROR)) {
    return fail(fmt::format(
        "timestamp token's signingCertificate attribute does not identify TSA certificate "
        "{}: {}",
        signer.Subject(), detail));
  }
  if (HasError(errors, ERR_LIB_TS, TS_R_MESSAGE_IMPRINT_MISMATCH)) {
    return fail(fmt::format("timestamp token is for imprint {}, not the expected {}",
                            HexEncode(parsed.info.imprint), HexEncode(imprint)));
  }
  if (HasError(errors, ERR_LIB_TS, TS_R_NONCE_NOT_RETURNED)) {
    return fail(
        fmt::format("timestamp token carries no nonce; the request's was {}", nonce.value_or(0)));
  }
  if (HasError(errors, ERR_LIB_TS, TS_R_NONCE_MISMATCH)) {
    return fail(fmt::format("timestamp token's nonce {} does not match the request's {}",
                            parsed.info.nonce.value_or(0), nonce.value_or(0)));
  }
  if (HasError(errors, ERR_LIB_TS, TS_R_TSA_NAME_MISMATCH)) {
    return fail(
        fmt::format("timestamp token names a TSA other than its signer {}", signer.Subject()));
  }
  return fail(fmt::format("timestamp token does not verify: {}", detail));
}

// Per-call state for TS_RESP_create_response's callbacks.
struct IssueState {
  SystemTime now;
  uint64_t serial = 0;
};

ASN1_INTEGER* SerialCallback(TS_RESP_CTX* ctx, void* data) {
  const auto* state = static_cast<const IssueState*>(data);
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  if (serial == nullptr || ASN1_INTEGER_set_uint64(serial, state->serial) != 1) {
    ASN1_INTEGER_free(serial);
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    return nullptr;
  }
  return serial;  // TS_RESP_create_response frees it
}

int TimeCallback(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  const auto* state = static_cast<const IssueState*>(data);
  const int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(state->now.time_since_epoch()).count();
  const int64_t seconds = micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000;
  *sec = static_cast<long>(seconds);
  *usec = static_cast<long>(micros - seconds * 1'000'000);
  return 1;
}

}  // namespace

// ---- Requests ----

Result<std::string> EncodeTimestampRequest(const TimestampRequest& request) {
  ERR_clear_error();
  TROAD_ASSIGN_OR_RETURN(TsReqPtr req, BuildRequest(request));
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) internal::Die("i2d_TS_REQ failed");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<TimestampRequest> DecodeTimestampRequest(std::string_view der) {
  int failure_info = 0;
  return DecodeRequest(der, &failure_info);
}

// ---- Replies and tokens ----

Result<std::string> ParseTimestampReply(std::string_view der) {
  ERR_clear_error();
  if (der.empty()) return Fail(ErrorCode::kInvalidArgument, "timestamp reply is empty");
  if (der.size() > static_cast<size_t>(LONG_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp reply is too large");
  }
  const unsigned char* p = Bytes(der);
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (resp == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp reply is not a DER TimeStampResp ({} bytes): {}", der.size(),
                DrainErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "timestamp reply DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  const TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
  if (!IsGranted(status)) {
    return Fail(ErrorCode::kUnavailable, "TSA did not grant the timestamp: {}",
                DescribeStatus(status));
  }
  // d2i_TS_RESP has checked that a granted reply holds a token with a TSTInfo.
  unsigned char* token = nullptr;
  int len = i2d_PKCS7(TS_RESP_get_token(resp.get()), &token);
  if (len <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "timestamp reply's token cannot be encoded: {}",
                DrainErrors());
  }
  std::string out(reinterpret_cast<const char*>(token), static_cast<size_t>(len));
  OPENSSL_free(token);
  return out;
}

Result<TimestampInfo> InspectTimestampToken(std::string_view token) {
  TROAD_ASSIGN_OR_RETURN(ParsedToken parsed, ParseToken(token));
  if (X509* signer = CarriedSigner(parsed)) {
    parsed.info.tsa_certificate_sha256 = Certificate::FromNative(signer).Sha256Fingerprint();
  }
  ERR_clear_error();
  return std::move(parsed.info);
}

Result<TimestampInfo> VerifyTimestampToken(std::string_view token, const Sha256Digest& imprint,
                                           const std::vector<Certificate>& tsa_certificates,
                                           std::optional<uint64_t> nonce) {
  TROAD_ASSIGN_OR_RETURN(ParsedToken parsed, ParseToken(token));
  if (tsa_certificates.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "no trusted TSA certificates to verify the timestamp token against");
  }

  // Which trusted certificate signed it, told before any cryptography so that the
  // message can name it.
  const Certificate* signer = nullptr;
  if (X509* carried = CarriedSigner(parsed)) {
    for (const Certificate& c : tsa_certificates) {
      if (X509_cmp(carried, c.native()) == 0) signer = &c;
    }
    if (signer == nullptr) {
      Certificate other = Certificate::FromNative(carried);
      return Fail(ErrorCode::kUnauthenticated,
                  "timestamp token is signed by {} (certificate SHA-256 {}), which is not one "
                  "of the {} trusted TSA certificates",
                  other.Subject(), other.Sha256Fingerprint(), tsa_certificates.size());
    }
  } else {
    PKCS7_ISSUER_AND_SERIAL* id = parsed.signer_info->issuer_and_serial;
    for (const Certificate& c : tsa_certificates) {
      if (X509_NAME_cmp(X509_get_issuer_name(c.native()), id->issuer) == 0 &&
          ASN1_INTEGER_cmp(X509_get0_serialNumber(c.native()), id->serial) == 0) {
        signer = &c;
        break;
      }
    }
    if (signer == nullptr) {
      return Fail(ErrorCode::kUnauthenticated,
                  "timestamp token's signer (certificate serial {} from {}) is not one of the "
                  "{} trusted TSA certificates, and the token does not carry its certificate",
                  IntegerHex(id->serial), internal::NameToString(id->issuer),
                  tsa_certificates.size());
    }
  }
  if (!signer->IsTimestampingCertificate()) {
    return Fail(ErrorCode::kUnauthenticated,
                "certificate {} may not sign timestamps: it lacks the critical timeStamping "
                "extendedKeyUsage",
                signer->Subject());
  }
  const SystemTime gen_time = parsed.info.gen_time;
  if (gen_time < signer->NotBefore() || gen_time > signer->NotAfter()) {
    return Fail(ErrorCode::kUnauthenticated,
                "timestamp token's genTime {} is outside the validity of TSA certificate {} "
                "({} to {})",
                FormatRfc3339(gen_time), signer->Subject(), FormatRfc3339(signer->NotBefore()),
                FormatRfc3339(signer->NotAfter()));
  }

  // OpenSSL checks the rest: the signature, the ESSCertID(v2), the certificate's
  // purpose and validity at genTime (it is its own trust anchor: partial chain), the
  // TSA name if given, the version, the imprint and the nonce. The expected imprint
  // and nonce travel in a TS_REQ because OpenSSL 3.0 has no setter for the nonce.
  TimestampRequest expected;
  expected.imprint = imprint;
  expected.nonce = nonce;
  TROAD_ASSIGN_OR_RETURN(TsReqPtr req, BuildRequest(expected));
  TsVerifyCtxPtr ctx(TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr));
  X509StorePtr store(X509_STORE_new());
  X509StackPtr certs(sk_X509_new_null());
  if (ctx == nullptr || store == nullptr || certs == nullptr) {
    internal::Die("cannot allocate a timestamp verification context");
  }
  if (X509_STORE_add_cert(store.get(), signer->native()) != 1 ||
      X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1) {
    internal::Die("cannot set up a certificate store");
  }
  X509_VERIFY_PARAM_set_time(
      X509_STORE_get0_param(store.get()),
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(gen_time)));
  if (X509_up_ref(signer->native()) != 1) internal::Die("X509_up_ref failed");
  if (sk_X509_push(certs.get(), signer->native()) <= 0) {
    X509_free(signer->native());
    internal::Die("cannot collect the TSA certificate");
  }
  TS_VERIFY_CTX_set_store(ctx.get(), store.release());  // the context owns both now
  TS_VERIFY_CTX_set_certs(ctx.get(), certs.release());
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_SIGNER);
  if (TS_RESP_verify_token(ctx.get(), parsed.pkcs7.get()) != 1) {
    return Fail(VerificationFailure(TakeOpenSslErrors(), parsed, imprint, nonce, *signer));
  }
  ERR_clear_error();
  parsed.info.tsa_certificate_sha256 = signer->Sha256Fingerprint();
  return std::move(parsed.info);
}

// ---- TimestampAuthority ----

Result<std::unique_ptr<TimestampAuthority>> TimestampAuthority::Create(PrivateKey key,
                                                                       Certificate certificate,
                                                                       Options options,
                                                                       const Clock& clock) {
  ERR_clear_error();
  if (!certificate.IsTimestampingCertificate()) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate {} cannot sign timestamps: a TSA certificate needs a critical "
                "extendedKeyUsage of timeStamping only (and, if keyUsage is present, "
                "digitalSignature or nonRepudiation only)",
                certificate.Subject());
  }
  if (X509_check_private_key(certificate.native(), key.native()) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "the TSA key does not belong to certificate {}",
                certificate.Subject());
  }
  Asn1ObjectPtr policy(OBJ_txt2obj(options.policy.c_str(), 1));
  if (options.policy.empty() || policy == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "TSA policy '{}' is not a dotted OID (such as {})",
                options.policy, kDefaultTimestampPolicy);
  }
  options.policy = DottedOid(policy.get());  // the form requests are compared in
  if (options.first_serial == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "TSA serial numbers start at 1 or above (0 stands for a rejection)");
  }
  return std::unique_ptr<TimestampAuthority>(
      new TimestampAuthority(std::move(key), std::move(certificate), std::move(options), clock));
}

TimestampAuthority::TimestampAuthority(PrivateKey key, Certificate certificate, Options options,
                                       const Clock& clock)
    : key_(std::move(key)),
      certificate_(std::move(certificate)),
      options_(std::move(options)),
      clock_(clock),
      next_serial_(options_.first_serial) {}

uint64_t TimestampAuthority::last_serial() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_serial_ - 1;  // wraps to UINT64_MAX once every serial has been used
}

Result<std::string> TimestampAuthority::Respond(std::string_view request_der, uint64_t* serial) {
  if (serial != nullptr) *serial = 0;
  int failure_info = 0;
  auto request = DecodeRequest(request_der, &failure_info);
  if (!request) return RejectionReply(failure_info, request.error().message());
  if (!request->policy.empty() && request->policy != options_.policy) {
    return RejectionReply(TS_INFO_UNACCEPTED_POLICY,
                          fmt::format("policy {} is not offered: this TSA timestamps under {}",
                                      request->policy, options_.policy));
  }

  // The serial and the time are taken together, so that serials follow genTime.
  IssueState state;
  bool exhausted = false;
  bool valid = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state.now = clock_.Now();
    valid = state.now >= certificate_.NotBefore() && state.now <= certificate_.NotAfter();
    exhausted = next_serial_ == 0;
    if (valid && !exhausted) state.serial = next_serial_++;
  }
  if (!valid) {
    return RejectionReply(
        TS_INFO_SYSTEM_FAILURE,
        fmt::format("the TSA cannot timestamp now ({}): its certificate is valid from {} to {}",
                    FormatRfc3339(state.now), FormatRfc3339(certificate_.NotBefore()),
                    FormatRfc3339(certificate_.NotAfter())));
  }
  if (exhausted) {
    return RejectionReply(TS_INFO_SYSTEM_FAILURE, "the TSA has used up its serial numbers");
  }

  ERR_clear_error();
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  Asn1ObjectPtr policy(OBJ_txt2obj(options_.policy.c_str(), 1));
  if (ctx == nullptr || policy == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot set up the TSA: {}", DrainErrors());
  }
  const uint32_t accuracy_s = options_.accuracy_ms / 1000;
  const uint32_t accuracy_ms = options_.accuracy_ms % 1000;
  if (TS_RESP_CTX_set_signer_cert(ctx.get(), certificate_.native()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx.get(), key_.native()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_def_policy(ctx.get(), policy.get()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_clock_precision_digits(ctx.get(), kClockPrecisionDigits) != 1 ||
      (options_.accuracy_ms != 0 &&
       TS_RESP_CTX_set_accuracy(ctx.get(), static_cast<int>(accuracy_s),
                                static_cast<int>(accuracy_ms), 0) != 1)) {
    return Fail(ErrorCode::kInternal, "cannot set up the TSA with certificate {}: {}",
                certificate_.Subject(), DrainErrors());
  }
  // The token names the TSA (its certificate's subject), which verifiers compare with
  // the signer and `openssl ts -reply -text` shows.
  TS_RESP_CTX_add_flags(ctx.get(), TS_TSA_NAME);
  TS_RESP_CTX_set_serial_cb(ctx.get(), SerialCallback, &state);
  TS_RESP_CTX_set_time_cb(ctx.get(), TimeCallback, &state);

  internal::BioPtr in = internal::ReadBio(request_der);
  if (in == nullptr) return Fail(ErrorCode::kInternal, "cannot read the timestamp request");
  TsRespPtr resp(TS_RESP_create_response(ctx.get(), in.get()));
  if (resp == nullptr) {
    return Fail(ErrorCode::kInternal, "cannot make timestamp token {}: {}", state.serial,
                DrainErrors());
  }
  const TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
  if (!IsGranted(status)) {
    // The request was checked above, so this is a failure of ours (signing).
    return Fail(ErrorCode::kInternal, "cannot make timestamp token {}: {} ({})", state.serial,
                DescribeStatus(status), DrainErrors());
  }
  unsigned char* der = nullptr;
  int len = i2d_TS_RESP(resp.get(), &der);
  if (len <= 0) internal::Die("i2d_TS_RESP failed");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ERR_clear_error();
  if (serial != nullptr) *serial = state.serial;
  return out;
}

}  // namespace troad::crypto
