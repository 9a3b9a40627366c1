// OpenSSL helpers for the code that calls OpenSSL directly — troad_crypto, and the
// libraries above it that need more of OpenSSL than crypto's types offer (identity's
// CMS and COSE handling): owning pointers for OpenSSL objects, memory BIOs, the
// thread-local OpenSSL error queue as text, and reading a small file whole. Not part of
// any public interface: nothing outside src/ includes it.
// Thread-safety: pure helpers; the error queue they read is per thread.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace troad::crypto::internal {

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

// Takes every error queued by the last OpenSSL calls on this thread and returns them as
// "library: reason; ..." (at most three), so stale errors never leak into later calls.
// OpenSSL 3's generic "DECODER routines: unsupported" is dropped when there is more
// specific news, as it only says that no decoder accepted the input.
inline std::string DrainOpenSslErrors() {
  std::string out;
  std::string generic;
  int kept = 0;
  while (unsigned long e = ERR_get_error()) {
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    std::string text = std::string(lib != nullptr ? lib : "OpenSSL") + ": " +
                       (reason != nullptr ? reason : "unknown reason");
    if (ERR_GET_LIB(e) == ERR_LIB_OSSL_DECODER) {
      generic = text;
      continue;
    }
    if (kept++ >= 3) continue;
    if (!out.empty()) out += "; ";
    out += text;
  }
  if (out.empty()) out = generic;
  return out.empty() ? std::string("no detail from OpenSSL") : out;
}

// True when the newest queued error says a PEM input had no BEGIN line of the wanted
// type: the input was not PEM at all, or held other kinds of block.
inline bool LastErrorIsNoPemStartLine() {
  unsigned long e = ERR_peek_last_error();
  return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

// A read-only BIO over `data` (which must outlive it); null if `data` is too large.
inline BioPtr ReadBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

inline BioPtr WriteBio() { return BioPtr(BIO_new(BIO_s_mem())); }

inline std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // what BIO_get_mem_data expands to
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(n));
}

// A name (a certificate's or a request's subject) as RFC 2253, but with UTF-8 left as is
// rather than \XX-escaped: member names are Chinese.
inline std::string NameToString(const X509_NAME* name) {
  auto bio = WriteBio();
  unsigned long flags = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
  if (bio == nullptr || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    ERR_clear_error();
    return "(unprintable name)";
  }
  return BioContents(bio.get());
}

// Why OpenSSL could not read a `labels` object (e.g. "CERTIFICATE") from `pem`, for an
// error message: the PEM armour itself is broken, or its DER contents are. Call right
// after the failed read; it drains the error queue.
inline std::string ExplainPemFailure(std::string_view pem,
                                     std::initializer_list<std::string_view> labels) {
  std::string detail = DrainOpenSslErrors();
  BioPtr bio = ReadBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  std::string found;
  while (bio != nullptr && PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1) {
    std::string block = name;
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (std::find(labels.begin(), labels.end(), block) != labels.end()) {
      found = block;
      break;
    }
  }
  ERR_clear_error();
  if (!found.empty()) {
    return "the '" + found + "' PEM block does not hold valid DER (" + detail + ")";
  }
  return "the PEM block is not valid base64, or is cut short (" + detail + ")";
}

inline const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Always-true invariants of our own (OpenSSL failing to allocate or to run a digest it
// ships): report on stderr and abort, as nothing sensible can go on.
[[noreturn]] inline void Die(const char* what) {
  std::string detail = DrainOpenSslErrors();
  std::fprintf(stderr, "troad: fatal: %s (%s)\n", what, detail.c_str());
  std::abort();
}

}  // namespace troad::crypto::internal
