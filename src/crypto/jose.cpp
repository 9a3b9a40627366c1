#include "crypto/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace troad::crypto {

namespace {

using internal::Deleter;
using internal::DrainOpenSslErrors;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

constexpr size_t kP256Bytes = 32;

// The big-endian bytes of `bn`, left-padded with zeros to `width` (0: minimal length).
std::string BnBytes(const BIGNUM* bn, size_t width) {
  const auto n = static_cast<size_t>(BN_num_bytes(bn));
  std::string out(std::max(n, width), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

std::string BnParam(const PublicKey& key, const char* name, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.native(), name, &raw) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr bn(raw);
  return BnBytes(bn.get(), width);
}

// The members RFC 7638 §3.2 requires, in its order (lexicographic).
nlohmann::ordered_json RequiredMembers(const PublicKey& key) {
  nlohmann::ordered_json j;
  if (key.type() == KeyType::kRsa) {
    j["e"] = Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_E, 0));
    j["kty"] = "RSA";
    j["n"] = Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_N, 0));
  } else {
    j["crv"] = "P-256";
    j["kty"] = "EC";
    j["x"] = Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, kP256Bytes));
    j["y"] = Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, kP256Bytes));
  }
  return j;
}

Result<std::string> Member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return Fail(ErrorCode::kInvalidArgument, "JWK: \"{}\" is missing", name);
  if (!it->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "JWK: \"{}\" is not a string", name);
  }
  return it->get<std::string>();
}

Result<std::string> Base64UrlMember(const nlohmann::json& jwk, const char* name) {
  TROAD_ASSIGN_OR_RETURN(std::string text, Member(jwk, name));
  auto bytes = Base64UrlDecode(text);
  if (!bytes) {
    return Fail(ErrorCode::kInvalidArgument, "JWK: \"{}\" is not base64url: {}", name,
                bytes.error().message());
  }
  if (bytes->empty()) return Fail(ErrorCode::kInvalidArgument, "JWK: \"{}\" is empty", name);
  return std::move(*bytes);
}

Result<PublicKey> RsaFromJwk(const nlohmann::json& jwk) {
  TROAD_ASSIGN_OR_RETURN(std::string n, Base64UrlMember(jwk, "n"));
  TROAD_ASSIGN_OR_RETURN(std::string e, Base64UrlMember(jwk, "e"));
  if (n.front() == '\0' || e.front() == '\0') {
    return Fail(ErrorCode::kInvalidArgument,
                "JWK: \"n\" and \"e\" must be minimal big-endian integers (no leading zero "
                "octet, RFC 7518 §6.3.1)");
  }
  auto key = PublicKey::FromRsaComponents(n, e);
  if (!key) return Fail(std::move(key).error().Context("JWK"));
  return key;
}

Result<PublicKey> EcFromJwk(const nlohmann::json& jwk) {
  TROAD_ASSIGN_OR_RETURN(std::string crv, Member(jwk, "crv"));
  if (crv != "P-256") {
    return Fail(ErrorCode::kInvalidArgument, "JWK: curve \"{}\" is not supported (P-256 only)",
                EscapeForLog(crv, 20));
  }
  TROAD_ASSIGN_OR_RETURN(std::string x, Base64UrlMember(jwk, "x"));
  TROAD_ASSIGN_OR_RETURN(std::string y, Base64UrlMember(jwk, "y"));
  if (x.size() != kP256Bytes || y.size() != kP256Bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "JWK: P-256 \"x\" and \"y\" must be 32 bytes each (they are {} and {})", x.size(),
                y.size());
  }
  auto key = PublicKey::FromEcP256Point(x, y);
  if (!key) return Fail(std::move(key).error().Context("JWK"));
  return key;
}

}  // namespace

nlohmann::json PublicJwk(const PublicKey& key) {
  nlohmann::json j;
  const nlohmann::ordered_json members = RequiredMembers(key);  // items() must not outlive it
  for (const auto& [name, value] : members.items()) j[name] = value;
  return j;
}

std::string JwkThumbprint(const PublicKey& key) {
  const std::string canonical = RequiredMembers(key).dump();
  return Base64UrlEncode(DigestView(Sha256(canonical)));
}

Result<PublicKey> PublicKeyFromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Fail(ErrorCode::kInvalidArgument, "JWK: not a JSON object");
  for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(secret)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "JWK: it holds the private member \"{}\": a published key must be public only",
                  secret);
    }
  }
  TROAD_ASSIGN_OR_RETURN(std::string kty, Member(jwk, "kty"));
  Result<PublicKey> key =
      Fail(ErrorCode::kInvalidArgument, "JWK: key type \"{}\" is not supported (EC or RSA)",
           EscapeForLog(kty, 20));
  if (kty == "EC") key = EcFromJwk(jwk);
  if (kty == "RSA") key = RsaFromJwk(jwk);
  if (!key) return key;  // both factories refuse keys that fail CheckStrength
  if (auto use = jwk.find("use"); use != jwk.end() && *use != "sig") {
    return Fail(ErrorCode::kInvalidArgument, "JWK: \"use\" is {}, not \"sig\"",
                EscapeForLog(use->dump(), 40));
  }
  if (auto alg = jwk.find("alg");
      alg != jwk.end() && (!alg->is_string() || alg->get<std::string>() != key->Algorithm())) {
    return Fail(ErrorCode::kInvalidArgument, "JWK: \"alg\" is {}, but this is an {} key",
                EscapeForLog(alg->dump(), 40), key->Algorithm());
  }
  return key;
}

Result<std::string> EcdsaDerToRaw(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "not a DER ECDSA-Sig-Value ({} bytes)", der.size());
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_num_bytes(r) > static_cast<int>(kP256Bytes) ||
      BN_num_bytes(s) > static_cast<int>(kP256Bytes)) {
    return Fail(ErrorCode::kInvalidArgument, "ECDSA signature values longer than P-256's");
  }
  return BnBytes(r, kP256Bytes) + BnBytes(s, kP256Bytes);
}

Result<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256Bytes) {
    return Fail(ErrorCode::kInvalidArgument, "ES256 signature is {} bytes; R‖S is exactly 64",
                raw.size());
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(bytes, kP256Bytes, nullptr));
  BnPtr s(BN_bin2bn(bytes + kP256Bytes, kP256Bytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Fail(ErrorCode::kInternal, "cannot build an ECDSA signature: {}", DrainOpenSslErrors());
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* out = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &out);
  if (len <= 0) {
    return Fail(ErrorCode::kInternal, "cannot encode an ECDSA signature: {}", DrainOpenSslErrors());
  }
  std::string der(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

Result<std::string> SignJws(const PrivateKey& key, nlohmann::json header,
                            std::string_view payload) {
  if (!header.is_object()) header = nlohmann::json::object();
  header["alg"] = std::string(key.Algorithm());
  std::string input = Base64UrlEncode(header.dump());
  input += '.';
  input += Base64UrlEncode(payload);
  TROAD_ASSIGN_OR_RETURN(std::string signature, key.Sign(input));
  if (key.type() != KeyType::kRsa) {
    TROAD_ASSIGN_OR_RETURN(signature, EcdsaDerToRaw(signature));
  }
  input += '.';
  input += Base64UrlEncode(signature);
  return input;
}

Result<Jws> ParseJws(std::string_view compact) {
  if (compact.size() > kMaxJwsBytes) {
    return Fail(ErrorCode::kInvalidArgument, "JWS: {} bytes, more than {}", compact.size(),
                kMaxJwsBytes);
  }
  const size_t first = compact.find('.');
  const size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "JWS: expected three base64url parts separated by '.' (header.payload.signature)");
  }
  auto part = [&](std::string_view text, std::string_view name) -> Result<std::string> {
    auto bytes = Base64UrlDecode(text);
    if (!bytes) {
      return Fail(ErrorCode::kInvalidArgument, "JWS: the {} is not base64url: {}", name,
                  bytes.error().message());
    }
    return std::move(*bytes);
  };
  Jws jws;
  TROAD_ASSIGN_OR_RETURN(std::string header_text, part(compact.substr(0, first), "header"));
  TROAD_ASSIGN_OR_RETURN(jws.payload,
                         part(compact.substr(first + 1, second - first - 1), "payload"));
  TROAD_ASSIGN_OR_RETURN(jws.signature, part(compact.substr(second + 1), "signature"));
  TROAD_ASSIGN_OR_RETURN(jws.header, ParseJson(header_text, "JWS header", 8));
  if (!jws.header.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "JWS: the header is not a JSON object");
  }
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end() || !alg->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "JWS: the header has no string \"alg\"");
  }
  if (jws.header.contains("crit")) {
    return Fail(ErrorCode::kInvalidArgument,
                "JWS: the header has \"crit\"; no extension is understood here");
  }
  jws.signing_input = std::string(compact.substr(0, second));
  return jws;
}

Status VerifyJws(const Jws& jws, const PublicKey& key) {
  const std::string alg = jws.header.value("alg", "");
  if (alg != key.Algorithm()) {
    return Fail(ErrorCode::kInvalidArgument,
                "JWS: algorithm \"{}\" is not accepted with this key (only {})",
                EscapeForLog(alg, 20), key.Algorithm());
  }
  std::string signature = jws.signature;
  if (key.type() != KeyType::kRsa) {
    TROAD_ASSIGN_OR_RETURN(signature, EcdsaRawToDer(signature));
  }
  return key.Verify(jws.signing_input, signature, alg);
}

}  // namespace troad::crypto
