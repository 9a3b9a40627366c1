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
  // Any RSA or EC key loads, so that a foreign key can be inspected; CheckStrength (and
  // Verify) decide whether it is acceptable. kInvalidArgument says what was malformed.
  static Result<PublicKey> FromPem(std::string_view pem);  // SubjectPublicKeyInfo
  static Result<PublicKey> FromDer(std::string_view der);  // the whole input, no trailing bytes
  // An RSA key from its modulus and public exponent, big-endian unsigned bytes (as in a
  // JWK or a COSE key). kInvalidArgument when OpenSSL refuses them or the key fails
  // CheckStrength; kInternal when OpenSSL cannot allocate.
  static Result<PublicKey> FromRsaComponents(std::string_view n, std::string_view e);
  // A P-256 key from its affine coordinates, 32 big-endian bytes each. kInvalidArgument
  // when a coordinate has another length or the point is not on the curve.
  static Result<PublicKey> FromEcP256Point(std::string_view x, std::string_view y);
  // Takes one reference of `pkey` (EVP_PKEY_up_ref); `pkey` must not be null.
  static PublicKey FromNative(EVP_PKEY* pkey);

  std::string ToPem() const;
  std::string ToDer() const;  // SubjectPublicKeyInfo DER
  KeyType type() const;  // kEcP256 for every EC key: CheckStrength tells if it is P-256
  std::string_view Algorithm() const;  // "ES256" or "RS256"
  // RSA keys shorter than 2048 (or longer than 16384) bits, EC keys other than P-256 and
  // other key types are refused with kInvalidArgument and a message saying why.
  Status CheckStrength() const;

  // kUnauthenticated when the signature does not verify; kInvalidArgument when it is
  // malformed (not DER for ES256, not the modulus length for RS256), `algorithm` does
  // not match the key type, or the key fails CheckStrength.
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
  static Result<PrivateKey> GenerateRsa(int bits);  // 2048..16384, else kInvalidArgument
  // PKCS#8 or traditional (SEC1 / PKCS#1). Encrypted keys and keys that fail
  // CheckStrength are refused (kInvalidArgument): troad never signs with a weak key.
  static Result<PrivateKey> FromPem(std::string_view pem);
  // As FromPem; kNotFound when the file is missing, kIo when it cannot be read.
  static Result<PrivateKey> LoadPemFile(const std::string& path);

  std::string ToPem() const;  // unencrypted PKCS#8
  // Writes ToPem() to `path` with mode 0600 (created atomically via a temp file in the
  // same directory, fsynced, renamed over `path`). kIo names the path and the reason.
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
