#include "crypto/csr.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

using internal::BioContents;
using internal::NameToString;
using internal::Bytes;
using internal::Deleter;
using internal::DrainOpenSslErrors;

using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;

// The name fields a Csr reads and compares, in the order the CA writes them.
struct NameField {
  int nid;
  const char* label;
  std::string CsrSubject::*member;
};
constexpr NameField kNameFields[] = {
    {NID_countryName, "C", &CsrSubject::country},
    {NID_organizationName, "O", &CsrSubject::organization},
    {NID_organizationalUnitName, "OU", &CsrSubject::organizational_unit},
    {NID_serialNumber, "serialNumber", &CsrSubject::serial_number_attr},
    {NID_commonName, "CN", &CsrSubject::common_name},
};

Error OpenSslFailure(std::string_view step) {
  return Error(ErrorCode::kInternal, fmt::format("{}: {}", step, DrainOpenSslErrors()));
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// As ca.cpp checks a CertificateRequest's names.
Status CheckSubject(const CsrSubject& s) {
  if (s.common_name.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "certificate request has an empty common name");
  }
  if (s.country.size() != 2 || !std::all_of(s.country.begin(), s.country.end(),
                                            [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Fail(ErrorCode::kInvalidArgument,
                "certificate request country '{}' is not a two-letter ISO 3166 code",
                EscapeForLog(s.country, 20));
  }
  return Ok();
}

Status AddNameEntry(X509_NAME* name, const NameField& field, const std::string& value) {
  if (value.empty()) return Ok();
  if (!IsValidUtf8(value)) {
    return Fail(ErrorCode::kInvalidArgument, "subject {} is not valid UTF-8", field.label);
  }
  // MBSTRING_UTF8: OpenSSL picks the string type the attribute requires and enforces
  // the RFC 5280 length bounds (64 characters for CN, O and OU).
  if (X509_NAME_add_entry_by_NID(name, field.nid, MBSTRING_UTF8, Bytes(value),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "subject {} '{}' is not allowed: {}", field.label,
                EscapeForLog(value, 80), DrainOpenSslErrors());
  }
  return Ok();
}

// The value of `field` in `name`; empty when absent. A field given twice is refused:
// which of the two the applicant meant is not ours to guess.
Result<std::string> ReadNameField(const X509_NAME* name, const NameField& field) {
  int index = X509_NAME_get_index_by_NID(name, field.nid, -1);
  if (index < 0) return std::string();
  if (X509_NAME_get_index_by_NID(name, field.nid, index) >= 0) {
    return Fail(ErrorCode::kInvalidArgument, "CSR subject has more than one {} attribute",
                field.label);
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = data != nullptr ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
  if (len < 0) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "CSR subject {} is not a character string",
                field.label);
  }
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  if (!IsValidUtf8(value) || value.find('\0') != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "CSR subject {} '{}' is not valid text", field.label,
                EscapeForLog(value, 80));
  }
  return value;
}

Result<CsrSubject> ReadSubject(const X509_NAME* name) {
  CsrSubject subject;
  for (const NameField& field : kNameFields) {
    TROAD_ASSIGN_OR_RETURN(subject.*field.member, ReadNameField(name, field));
  }
  return subject;
}

std::string Shown(const std::string& value) {
  return value.empty() ? std::string("(absent)") : "'" + EscapeForLog(value, 80) + "'";
}

}  // namespace

CsrSubject SubjectOf(const CertificateRequest& req) {
  return CsrSubject{req.common_name, req.organization, req.organizational_unit,
                    req.serial_number_attr, req.country};
}

Result<std::string> CreateCsrPem(const PrivateKey& key, const CsrSubject& subject) {
  TROAD_RETURN_IF_ERROR(CheckSubject(subject));
  if (auto strong = key.Public().CheckStrength(); !strong) {
    return Fail(std::move(strong).error().Context("CSR key refused"));
  }
  ERR_clear_error();
  X509ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.native()) != 1) {
    return Fail(OpenSslFailure("cannot start a certificate request"));
  }
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  for (const NameField& field : kNameFields) {
    TROAD_RETURN_IF_ERROR(AddNameEntry(name, field, subject.*field.member));
  }
  // sha256WithRSAEncryption (PKCS#1 v1.5) or ecdsa-with-SHA256, by the key's type.
  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return Fail(OpenSslFailure("cannot sign the certificate request"));
  }
  auto bio = internal::WriteBio();
  if (bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return Fail(OpenSslFailure("cannot write the certificate request"));
  }
  return BioContents(bio.get());
}

// ---- Csr ----

Result<Csr> Csr::FromPem(std::string_view pem) {
  if (pem.size() > kMaxCsrPemSize) {
    return Fail(ErrorCode::kInvalidArgument, "CSR PEM of {} bytes is larger than {} bytes",
                pem.size(), kMaxCsrPemSize);
  }
  // PEM_read_bio would skip any text before the block; a request is the block alone.
  size_t start = pem.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || pem.substr(start).rfind("-----BEGIN ", 0) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "not a PEM certificate request (it does not start with "
                "'-----BEGIN CERTIFICATE REQUEST-----')");
  }
  // From the BEGIN line on: PEM_read_bio does not take one that is indented.
  pem.remove_prefix(start);
  ERR_clear_error();
  auto bio = internal::ReadBio(pem);
  if (bio == nullptr) return Fail(OpenSslFailure("cannot read the CSR PEM"));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "malformed CSR PEM: the block is not valid base64, or is cut short ({})",
                DrainOpenSslErrors());
  }
  std::string label = name;
  bool has_header = header != nullptr && header[0] != '\0';
  std::string der(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (label != PEM_STRING_X509_REQ && label != PEM_STRING_X509_REQ_OLD) {
    return Fail(ErrorCode::kInvalidArgument,
                "not a PEM certificate request: found a '{}' block instead",
                EscapeForLog(label, 40));
  }
  if (has_header) {
    return Fail(ErrorCode::kInvalidArgument,
                "CSR PEM block has headers (encrypted?); a request is plain base64");
  }
  // What PEM_read_bio left unread: only whitespace may follow the END line.
  std::string_view rest = pem.substr(pem.size() - static_cast<size_t>(BIO_pending(bio.get())));
  if (!IsBlank(rest)) {
    return Fail(ErrorCode::kInvalidArgument,
                "CSR PEM block is followed by {} unexpected bytes (one request per input)",
                rest.size());
  }
  return FromDer(der);
}

Result<Csr> Csr::FromDer(std::string_view der) {
  if (der.size() > kMaxCsrSize) {
    return Fail(ErrorCode::kInvalidArgument, "CSR DER of {} bytes is larger than {} bytes",
                der.size(), kMaxCsrSize);
  }
  ERR_clear_error();
  const unsigned char* p = Bytes(der);
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (req == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "malformed CSR DER ({} bytes): {}", der.size(),
                DrainOpenSslErrors());
  }
  if (p != Bytes(der) + der.size()) {
    return Fail(ErrorCode::kInvalidArgument, "CSR DER is followed by {} unexpected bytes",
                Bytes(der) + der.size() - p);
  }
  if (long version = X509_REQ_get_version(req.get()); version != X509_REQ_VERSION_1) {
    return Fail(ErrorCode::kInvalidArgument, "CSR version field is {}; PKCS#10 v1.7 needs 0",
                version);
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "CSR public key cannot be decoded (unsupported algorithm?): {}",
                DrainOpenSslErrors());
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    std::string detail = DrainOpenSslErrors();
    return Fail(ErrorCode::kInvalidArgument,
                "CSR signature does not verify (the request was not made with the key it "
                "carries): {}",
                detail);
  }
  TROAD_ASSIGN_OR_RETURN(CsrSubject subject, ReadSubject(X509_REQ_get_subject_name(req.get())));
  return Csr(std::shared_ptr<X509_REQ>(req.release(), X509_REQ_free), std::string(der),
             std::move(subject));
}

std::string Csr::SubjectString() const {
  return NameToString(X509_REQ_get_subject_name(req_.get()));
}

PublicKey Csr::public_key() const {
  // Non-null: FromDer checked it.
  return PublicKey::FromNative(X509_REQ_get0_pubkey(req_.get()));
}

std::string Csr::ToPem() const {
  auto bio = internal::WriteBio();
  if (bio == nullptr || PEM_write_bio(bio.get(), PEM_STRING_X509_REQ, "", Bytes(der_),
                                      static_cast<long>(der_.size())) <= 0) {
    internal::Die("PEM_write_bio of a certificate request failed");
  }
  return BioContents(bio.get());
}

std::string Csr::Sha256() const { return HexEncode(crypto::Sha256(der_)); }

// ---- Issuing ----

Status CheckCsrSubject(const Csr& csr, const CsrSubject& expected) {
  // CN first: the field an operator reads first when a request is refused.
  for (auto it = std::rbegin(kNameFields); it != std::rend(kNameFields); ++it) {
    const std::string& want = expected.*it->member;
    const std::string& got = csr.subject().*it->member;
    if (want != got) {
      return Fail(ErrorCode::kInvalidArgument,
                  "CSR subject {} is {} but the applicant is entitled to {}", it->label, Shown(got),
                  Shown(want));
    }
  }
  return Ok();
}

Result<Certificate> IssueCertificateFromCsr(const Certificate& ca_cert, const PrivateKey& ca_key,
                                            const Csr& csr, const CertificateRequest& req,
                                            const Clock& clock) {
  PublicKey key = csr.public_key();
  if (auto strong = key.CheckStrength(); !strong) {
    return Fail(std::move(strong).error().Context("CSR key refused"));
  }
  TROAD_RETURN_IF_ERROR(CheckCsrSubject(csr, SubjectOf(req)));
  return IssueCertificate(ca_cert, ca_key, key, req, clock);
}

}  // namespace troad::crypto
