// Asymmetric keys and signatures (OpenSSL 3 EVP).
//
// troad signs with ECDSA P-256 + SHA-256 ("ES256") by default and also signs and
// verifies RSA PKCS#1 v1.5 + SHA-256 ("RS256") for existing government PKI.
// Signatures are in the form OpenSSL produces: DER ECDSA-Sig-Value for ES256, the
// raw modulus-length block for RS256.
//
// Thread-safety: a key object is immutable after creation; Sign and Verify may be
// called from several threads at once (each call makes its own EVP_MD_CTX).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace troad::crypto {

enum class KeyType { kEcP256, kRsa };

class PublicKey {
 public:
  static Result<PublicKey> FromPem(std::string_view pem);  // SubjectPublicKeyInfo
  static Result<PublicKey> FromDer(std::string_view der);
  // Takes one reference of `pkey` (EVP_PKEY_up_ref).
  static PublicKey FromNative(EVP_PKEY* pkey);

  std::string ToPem() const;
  std::string ToDer() const;  // SubjectPublicKeyInfo DER
  KeyType type() const;
  std::string_view Algorithm() const;  // "ES256" or "RS256"
  // RSA keys shorter than 2048 bits and EC keys other than P-256 are refused.
  Status CheckStrength() const;

  // kUnauthenticated when the signature does not verify; kInvalidArgument when it is
  // malformed or `algorithm` does not match the key type.
  Status Verify(std::string_view data, std::string_view signature,
                std::string_view algorithm) const;
  EVP_PKEY* native() const { return key_.get(); }

 private:
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> GenerateEcP256();
  static Result<PrivateKey> GenerateRsa(int bits);
  static Result<PrivateKey> FromPem(std::string_view pem);  // PKCS#8 or traditional
  static Result<PrivateKey> LoadPemFile(const std::string& path);

  std::string ToPem() const;  // unencrypted PKCS#8
  // Writes ToPem() to `path` with mode 0600 (created atomically via a temp file).
  Status SavePemFile(const std::string& path) const;
  PublicKey Public() const;
  KeyType type() const;
  std::string_view Algorithm() const;  // "ES256" or "RS256"
  Result<std::string> Sign(std::string_view data) const;
  EVP_PKEY* native() const { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace troad::crypto
