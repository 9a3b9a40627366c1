#include "crypto/ca.h"

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "core/encoding.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"

namespace troad::crypto {
namespace {

using internal::Deleter;
using internal::DrainOpenSslErrors;

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using BitStringPtr = std::unique_ptr<ASN1_BIT_STRING, Deleter<ASN1_BIT_STRING_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, Deleter<AUTHORITY_KEYID_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
struct EkuFree {
  void operator()(EXTENDED_KEY_USAGE* eku) const { sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free); }
};
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree>;

constexpr std::chrono::seconds kBackdate{60};  // tolerate peers whose clocks run behind
constexpr std::chrono::seconds kMaxValidity = std::chrono::hours(24 * 366 * 100);

// keyUsage bit numbers (RFC 5280 §4.2.1.3).
constexpr int kDigitalSignature = 0;
constexpr int kNonRepudiation = 1;
constexpr int kKeyCertSign = 5;
constexpr int kCrlSign = 6;

Error OpenSslFailure(std::string_view step) {
  return Error(ErrorCode::kInternal, fmt::format("{}: {}", step, DrainOpenSslErrors()));
}

bool IsDnsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '*';
}

Status CheckRequest(const CertificateRequest& req) {
  if (req.common_name.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "certificate request has an empty common name");
  }
  if (req.country.size() != 2 || !std::all_of(req.country.begin(), req.country.end(),
                                              [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate request country '{}' is not a two-letter ISO 3166 code",
                EscapeForLog(req.country, 20));
  }
  if (req.validity <= std::chrono::seconds::zero() || req.validity > kMaxValidity) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate validity of {} s is outside 1 s .. 100 years", req.validity.count());
  }
  for (const std::string& dns : req.dns_names) {
    if (dns.empty() || dns.size() > 253 || !std::all_of(dns.begin(), dns.end(), IsDnsNameChar)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "subjectAltName DNS name '{}' is not an ASCII host name", EscapeForLog(dns, 80));
    }
  }
  return Ok();
}

Status AddNameEntry(X509_NAME* name, int nid, const char* label, const std::string& value) {
  if (value.empty()) return Ok();
  if (!IsValidUtf8(value)) {
    return Fail(ErrorCode::kInvalidArgument, "subject {} is not valid UTF-8", label);
  }
  // MBSTRING_UTF8: OpenSSL picks the string type the attribute requires and enforces
  // the RFC 5280 length bounds (64 characters for CN, O and OU).
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "subject {} '{}' is not allowed: {}", label,
                EscapeForLog(value, 80), DrainOpenSslErrors());
  }
  return Ok();
}

Status SetSubject(X509* x, const CertificateRequest& req) {
  X509_NAME* name = X509_get_subject_name(x);
  TROAD_RETURN_IF_ERROR(AddNameEntry(name, NID_countryName, "C", req.country));
  TROAD_RETURN_IF_ERROR(AddNameEntry(name, NID_organizationName, "O", req.organization));
  TROAD_RETURN_IF_ERROR(
      AddNameEntry(name, NID_organizationalUnitName, "OU", req.organizational_unit));
  TROAD_RETURN_IF_ERROR(
      AddNameEntry(name, NID_serialNumber, "serialNumber", req.serial_number_attr));
  TROAD_RETURN_IF_ERROR(AddNameEntry(name, NID_commonName, "CN", req.common_name));
  return Ok();
}

// RFC 5280 §4.1.2.2: positive, at most 20 octets; 128 random bits make it unguessable.
Status SetRandomSerial(X509* x) {
  std::string bytes;
  do {
    bytes = RandomBytes(16);
  } while (bytes.find_first_not_of('\0') == std::string::npos);
  BignumPtr bn(BN_bin2bn(internal::Bytes(bytes), static_cast<int>(bytes.size()), nullptr));
  Asn1IntegerPtr serial(bn != nullptr ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (serial == nullptr || X509_set_serialNumber(x, serial.get()) != 1) {
    return Fail(OpenSslFailure("cannot set the serial number"));
  }
  return Ok();
}

Status AddExtension(X509* x, int nid, void* value, bool critical, std::string_view what) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return Fail(OpenSslFailure(fmt::format("cannot add the {} extension", what)));
  }
  return Ok();
}

Status AddUsageExtensions(X509* x, CertUsage usage) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  BitStringPtr ku(ASN1_BIT_STRING_new());
  if (bc == nullptr || ku == nullptr) return Fail(OpenSslFailure("out of memory"));
  bc->ca = usage == CertUsage::kCa ? 1 : 0;
  auto set_bits = [&](std::initializer_list<int> bits) {
    for (int bit : bits) {
      if (ASN1_BIT_STRING_set_bit(ku.get(), bit, 1) != 1) return false;
    }
    return true;
  };
  bool ok = false;
  switch (usage) {
    case CertUsage::kCa:
      ok = set_bits({kKeyCertSign, kCrlSign});
      break;
    case CertUsage::kAuthentication:
      ok = set_bits({kDigitalSignature});
      break;
    case CertUsage::kSigning:
    case CertUsage::kTimestamping:
      ok = set_bits({kDigitalSignature, kNonRepudiation});
      break;
  }
  if (!ok) return Fail(OpenSslFailure("cannot build keyUsage"));
  TROAD_RETURN_IF_ERROR(AddExtension(x, NID_basic_constraints, bc.get(), true, "basicConstraints"));
  TROAD_RETURN_IF_ERROR(AddExtension(x, NID_key_usage, ku.get(), true, "keyUsage"));
  if (usage == CertUsage::kAuthentication) {
    EkuPtr eku(sk_ASN1_OBJECT_new_null());
    if (eku == nullptr || sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) <= 0 ||
        sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth)) <= 0) {
      return Fail(OpenSslFailure("cannot build extendedKeyUsage"));
    }
    TROAD_RETURN_IF_ERROR(AddExtension(x, NID_ext_key_usage, eku.get(), false, "extendedKeyUsage"));
  }
  if (usage == CertUsage::kTimestamping) {
    EkuPtr eku(sk_ASN1_OBJECT_new_null());
    if (eku == nullptr || sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_time_stamp)) <= 0) {
      return Fail(OpenSslFailure("cannot build extendedKeyUsage"));
    }
    TROAD_RETURN_IF_ERROR(AddExtension(x, NID_ext_key_usage, eku.get(), true, "extendedKeyUsage"));
  }
  return Ok();
}

// Key identifier as RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
Result<OctetStringPtr> KeyIdOf(const X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  OctetStringPtr id(ASN1_OCTET_STRING_new());
  if (id == nullptr || X509_pubkey_digest(x, EVP_sha1(), md, &len) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1) {
    return Fail(OpenSslFailure("cannot compute a key identifier"));
  }
  return id;
}

Status AddKeyIdentifiers(X509* x, X509* issuer) {
  TROAD_ASSIGN_OR_RETURN(OctetStringPtr ski, KeyIdOf(x));
  TROAD_RETURN_IF_ERROR(
      AddExtension(x, NID_subject_key_identifier, ski.get(), false, "subjectKeyIdentifier"));
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (akid == nullptr) return Fail(OpenSslFailure("out of memory"));
  if (issuer == nullptr) {
    akid->keyid = ski.release();
  } else if (const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(issuer); id != nullptr) {
    akid->keyid = ASN1_OCTET_STRING_dup(id);
  } else {  // a CA from elsewhere without an SKI: derive it the same way
    TROAD_ASSIGN_OR_RETURN(OctetStringPtr derived, KeyIdOf(issuer));
    akid->keyid = derived.release();
  }
  if (akid->keyid == nullptr) return Fail(OpenSslFailure("cannot copy the issuer key id"));
  return AddExtension(x, NID_authority_key_identifier, akid.get(), false, "authorityKeyIdentifier");
}

Status AddSubjectAltNames(X509* x, const CertificateRequest& req) {
  if (req.dns_names.empty() && req.ip_addresses.empty()) return Ok();
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (names == nullptr) return Fail(OpenSslFailure("out of memory"));
  auto push = [&](int type, void* value) {
    GeneralNamePtr name(GENERAL_NAME_new());
    if (name == nullptr) return false;
    GENERAL_NAME_set0_value(name.get(), type, value);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) return false;
    name.release();
    return true;
  };
  for (const std::string& dns : req.dns_names) {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (s == nullptr || ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size())) != 1 ||
        !push(GEN_DNS, s)) {
      ASN1_IA5STRING_free(s);
      return Fail(OpenSslFailure("cannot build subjectAltName"));
    }
  }
  for (const std::string& ip : req.ip_addresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) {
      ERR_clear_error();
      return Fail(ErrorCode::kInvalidArgument,
                  "subjectAltName IP address '{}' is not an IPv4 or IPv6 address",
                  EscapeForLog(ip, 80));
    }
    if (!push(GEN_IPADD, octets)) {
      ASN1_OCTET_STRING_free(octets);
      return Fail(OpenSslFailure("cannot build subjectAltName"));
    }
  }
  return AddExtension(x, NID_subject_alt_name, names.get(), false, "subjectAltName");
}

Status SetTime(ASN1_TIME* field, SystemTime t) {
  if (ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(t)) == nullptr) {
    return Fail(OpenSslFailure("cannot set the validity period"));
  }
  return Ok();
}

// Everything but the issuer-dependent parts and the signature.
Result<X509Ptr> BuildCertificate(const PublicKey& subject_key, const CertificateRequest& req,
                                 CertUsage usage, SystemTime not_before, SystemTime not_after) {
  TROAD_RETURN_IF_ERROR(CheckRequest(req));
  if (auto strong = subject_key.CheckStrength(); !strong) {
    return Fail(std::move(strong).error().Context("subject key refused"));
  }
  ERR_clear_error();
  X509Ptr x(X509_new());
  if (x == nullptr || X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(x.get(), subject_key.native()) != 1) {
    return Fail(OpenSslFailure("cannot start a certificate"));
  }
  TROAD_RETURN_IF_ERROR(SetRandomSerial(x.get()));
  TROAD_RETURN_IF_ERROR(SetSubject(x.get(), req));
  TROAD_RETURN_IF_ERROR(SetTime(X509_getm_notBefore(x.get()), not_before));
  TROAD_RETURN_IF_ERROR(SetTime(X509_getm_notAfter(x.get()), not_after));
  TROAD_RETURN_IF_ERROR(AddUsageExtensions(x.get(), usage));
  TROAD_RETURN_IF_ERROR(AddSubjectAltNames(x.get(), req));
  return x;
}

Result<Certificate> SignCertificate(X509Ptr x, const PrivateKey& key) {
  // sha256WithRSAEncryption (PKCS#1 v1.5) or ecdsa-with-SHA256, by the key's type.
  if (X509_sign(x.get(), key.native(), EVP_sha256()) <= 0) {
    return Fail(OpenSslFailure("cannot sign the certificate"));
  }
  return Certificate::FromNative(x.get());  // takes its own reference
}

}  // namespace

Result<Certificate> CreateSelfSignedCa(const PrivateKey& key, const CertificateRequest& req,
                                       const Clock& clock) {
  SystemTime now = clock.Now();
  TROAD_ASSIGN_OR_RETURN(X509Ptr x, BuildCertificate(key.Public(), req, CertUsage::kCa,
                                                     now - kBackdate, now + req.validity));
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) != 1) {
    return Fail(OpenSslFailure("cannot set the issuer name"));
  }
  TROAD_RETURN_IF_ERROR(AddKeyIdentifiers(x.get(), nullptr));
  return SignCertificate(std::move(x), key);
}

Result<Certificate> IssueCertificate(const Certificate& ca_cert, const PrivateKey& ca_key,
                                     const PublicKey& subject_key, const CertificateRequest& req,
                                     const Clock& clock) {
  if (!ca_cert.IsCa()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "issuer {} is not a CA certificate (no basicConstraints CA:TRUE)",
                ca_cert.Subject());
  }
  if ((X509_get_key_usage(ca_cert.native()) & KU_KEY_CERT_SIGN) == 0) {
    return Fail(ErrorCode::kFailedPrecondition,
                "issuer {} may not sign certificates (keyUsage lacks keyCertSign)",
                ca_cert.Subject());
  }
  if (X509_check_private_key(ca_cert.native(), ca_key.native()) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "the CA private key does not belong to the CA certificate {}", ca_cert.Subject());
  }
  SystemTime now = clock.Now();
  SystemTime ca_not_after = ca_cert.NotAfter();
  if (now >= ca_not_after) {
    return Fail(ErrorCode::kFailedPrecondition, "CA certificate {} expired at {}",
                ca_cert.Subject(), FormatRfc3339(ca_not_after));
  }
  // A certificate cannot outlive its issuer in path validation, so it is cut short.
  SystemTime not_after = std::min(now + req.validity, ca_not_after);
  TROAD_ASSIGN_OR_RETURN(X509Ptr x,
                         BuildCertificate(subject_key, req, req.usage, now - kBackdate, not_after));
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(ca_cert.native())) != 1) {
    return Fail(OpenSslFailure("cannot set the issuer name"));
  }
  TROAD_RETURN_IF_ERROR(AddKeyIdentifiers(x.get(), ca_cert.native()));
  return SignCertificate(std::move(x), ca_key);
}

}  // namespace troad::crypto
