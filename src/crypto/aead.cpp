#include "crypto/aead.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <memory>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/random.h"

namespace troad::crypto {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr std::string_view kMagic = "tr1";

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool ValidKid(std::string_view kid) {
  if (kid.empty() || kid.size() > 32) return false;
  for (char c : kid) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::string> Aes256GcmSeal(std::string_view key, std::string_view plaintext,
                                  std::string_view aad) {
  if (key.size() != kKeyBytes) return Fail(ErrorCode::kInvalidArgument, "AES-256 needs 32 bytes");
  std::string out = RandomBytes(kNonceBytes);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), o) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), o + kNonceBytes, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          o + kNonceBytes + plaintext.size()) != 1) {
    return Fail(ErrorCode::kInternal, "AES-256-GCM sealing failed");
  }
  return out;
}

Result<std::string> Aes256GcmOpen(std::string_view key, std::string_view sealed,
                                  std::string_view aad) {
  if (key.size() != kKeyBytes) return Fail(ErrorCode::kInvalidArgument, "AES-256 needs 32 bytes");
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Fail(ErrorCode::kInvalidArgument, "a sealed value is at least {} bytes",
                kNonceBytes + kTagBytes);
  }
  std::string_view nonce = sealed.substr(0, kNonceBytes);
  std::string_view body = sealed.substr(kNonceBytes, sealed.size() - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string out(body.size(), '\0');
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), o, &len, U(body), static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return Fail(ErrorCode::kInternal, "AES-256-GCM opening failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
    return Fail(ErrorCode::kUnauthenticated,
                "the sealed value does not open: changed, or sealed with another key or for "
                "another record");
  }
  return out;
}

Result<KeyRing> KeyRing::Parse(std::string_view text, std::string_view name) {
  KeyRing ring;
  size_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty()) continue;
    size_t space = line.find(' ');
    std::string_view kid = line.substr(0, space);
    if (space == std::string_view::npos || !ValidKid(kid)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{} line {}: \"<kid> <base64 key>\", the kid 1 to 32 letters, digits, '-' or "
                  "'_'",
                  name, line_no);
    }
    std::string_view encoded = line.substr(space + 1);
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    auto key = Base64Decode(encoded);
    if (!key || key->size() != kKeyBytes) {
      return Fail(ErrorCode::kInvalidArgument, "{} line {}: the key is not base64 of 32 bytes",
                  name, line_no);
    }
    for (const auto& [k, v] : ring.keys_) {
      if (k == kid) {
        return Fail(ErrorCode::kInvalidArgument, "{} line {}: kid {} is there twice", name, line_no,
                    kid);
      }
    }
    ring.keys_.emplace_back(std::string(kid), std::move(*key));
  }
  if (ring.keys_.empty()) return Fail(ErrorCode::kInvalidArgument, "{}: no key", name);
  return ring;
}

Result<KeyRing> KeyRing::Load(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Fail(ErrorCode::kPermissionDenied, "{} may be read by others (mode {:o}): chmod 600 it",
                file, st.st_mode & 0777);
  }
  TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  return Parse(text, file);
}

std::string KeyRing::NewKeyFileText(std::string_view kid) {
  return "# AES-256-GCM keys for personal data at rest (crypto/aead.h): the first seals.\n" +
         std::string(kid) + " " + Base64Encode(RandomBytes(kKeyBytes)) + "\n";
}

Result<std::string> KeyRing::Seal(std::string_view plaintext, std::string_view aad) const {
  const auto& [kid, key] = keys_.front();
  TROAD_ASSIGN_OR_RETURN(std::string sealed, Aes256GcmSeal(key, plaintext, aad));
  std::string out(kMagic);
  out += static_cast<char>(kid.size());
  out += kid;
  out += sealed;
  return out;
}

Result<std::string> KeyRing::Open(std::string_view sealed, std::string_view aad) const {
  if (!sealed.starts_with(kMagic) || sealed.size() < kMagic.size() + 1) {
    return Fail(ErrorCode::kInvalidArgument, "not a sealed value");
  }
  size_t kid_len = static_cast<unsigned char>(sealed[kMagic.size()]);
  if (sealed.size() < kMagic.size() + 1 + kid_len) {
    return Fail(ErrorCode::kInvalidArgument, "not a sealed value");
  }
  std::string_view kid = sealed.substr(kMagic.size() + 1, kid_len);
  for (const auto& [k, key] : keys_) {
    if (k == kid) return Aes256GcmOpen(key, sealed.substr(kMagic.size() + 1 + kid_len), aad);
  }
  return Fail(ErrorCode::kNotFound, "sealed with key \"{}\", which is not in the key file",
              EscapeForLog(kid, 40));
}

}  // namespace troad::crypto
