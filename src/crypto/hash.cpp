#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/encoding.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {
namespace {

using internal::Die;
using internal::EvpMdCtxPtr;

// Fetched once: EVP_sha256() would fetch the implementation again on every init.
const EVP_MD* Md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) Die("the OpenSSL default provider has no SHA-2");
  return md;
}
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = Md("SHA2-256");
  return md;
}
const EVP_MD* Sha512Md() {
  static const EVP_MD* md = Md("SHA2-512");
  return md;
}

template <typename Digest>
Digest OneShot(const EVP_MD* md, std::string_view data) {
  Digest out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 ||
      len != out.size()) {
    Die("EVP_Digest failed");
  }
  return out;
}

EvpMdCtxPtr NewCtx(const EVP_MD* md) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    Die("EVP_DigestInit_ex failed");
  }
  return ctx;
}

void UpdateCtx(EVP_MD_CTX* ctx, std::string_view data) {
  if (ctx == nullptr) Die("hasher used after it was moved from");
  if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    Die("EVP_DigestUpdate failed (was the hasher updated after Final?)");
  }
}

template <typename Digest>
Digest FinalCtx(EVP_MD_CTX* ctx) {
  if (ctx == nullptr) Die("hasher used after it was moved from");
  Digest out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    Die("EVP_DigestFinal_ex failed (was Final called twice?)");
  }
  return out;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) { return OneShot<Sha256Digest>(Sha256Md(), data); }
Sha512Digest Sha512(std::string_view data) { return OneShot<Sha512Digest>(Sha512Md(), data); }

struct Sha256Hasher::Impl {
  EvpMdCtxPtr ctx = NewCtx(Sha256Md());
};
Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {}
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;
void Sha256Hasher::Update(std::string_view data) {
  UpdateCtx(impl_ ? impl_->ctx.get() : nullptr, data);
}
Sha256Digest Sha256Hasher::Final() {
  return FinalCtx<Sha256Digest>(impl_ ? impl_->ctx.get() : nullptr);
}

struct Sha512Hasher::Impl {
  EvpMdCtxPtr ctx = NewCtx(Sha512Md());
};
Sha512Hasher::Sha512Hasher() : impl_(std::make_unique<Impl>()) {}
Sha512Hasher::~Sha512Hasher() = default;
Sha512Hasher::Sha512Hasher(Sha512Hasher&&) noexcept = default;
Sha512Hasher& Sha512Hasher::operator=(Sha512Hasher&&) noexcept = default;
void Sha512Hasher::Update(std::string_view data) {
  UpdateCtx(impl_ ? impl_->ctx.get() : nullptr, data);
}
Sha512Digest Sha512Hasher::Final() {
  return FinalCtx<Sha512Digest>(impl_ ? impl_->ctx.get() : nullptr);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  // The length is not secret (digests and MACs have fixed sizes); the contents are.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(DigestView(Sha256(data))); }

}  // namespace troad::crypto
