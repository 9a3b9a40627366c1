// JOSE, the parts an OpenID Connect provider and its relying parties need: JSON Web
// Keys for public keys (RFC 7517, with RFC 7518 §6 members), their thumbprints (RFC
// 7638), and JSON Web Signatures in the compact serialisation (RFC 7515) with ES256 and
// RS256 (RFC 7518 §3.3, §3.4). Written here rather than taken from a library, on
// purpose: Debian 12's libjwt (1.10) cannot import JWKs, and cjose (0.6.2) would bring a
// second JSON library (jansson) into its API and OpenSSL 1.1 key calls deprecated in 3;
// what is needed is only encoding around OpenSSL's cryptography (crypto/key.h), about
// three hundred lines, tested against the RFCs' examples.
//
// Deliberately absent: "none", HMAC algorithms, embedded keys ("jwk", "x5c", "jku"
// headers are ignored, never trusted) and every other algorithm. A verifier names the
// key; the token never chooses it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"
#include "crypto/key.h"

namespace troad::crypto {

// The public JWK of `key`: {"kty":"EC","crv":"P-256","x":…,"y":…} or
// {"kty":"RSA","n":…,"e":…}, coordinates and integers base64url without padding,
// EC coordinates left-padded to 32 bytes (RFC 7518 §6.2.1.2). The caller adds "kid",
// "use", "alg".
nlohmann::json PublicJwk(const PublicKey& key);

// The RFC 7638 thumbprint of `key`: base64url(SHA-256 of the required members in
// lexicographic order, no whitespace). A stable "kid".
std::string JwkThumbprint(const PublicKey& key);

// The public key a JWK describes: EC P-256 ("crv":"P-256", 32-byte "x" and "y" on the
// curve) or RSA (2048 bits or more, as CheckStrength requires). Refused with
// kInvalidArgument and the reason: not an object, another "kty" or curve, a member
// missing, not base64url or of the wrong length, a point not on the curve, a weak key,
// and a JWK holding private members ("d", "p", …: a private key published by mistake
// must not be used, even its public half). "use" other than "sig" and "alg" other than
// the key's algorithm are refused too.
Result<PublicKey> PublicKeyFromJwk(const nlohmann::json& jwk);

// A compact JWS, parsed but not yet verified.
struct Jws {
  nlohmann::json header;      // a JSON object with a string "alg"
  std::string payload;        // the decoded payload bytes
  std::string signing_input;  // BASE64URL(header) '.' BASE64URL(payload), as received
  std::string signature;      // the decoded signature: raw R‖S for ES256
};

// The largest compact JWS ParseJws reads: ID tokens and client assertions are a few
// kilobytes.
inline constexpr size_t kMaxJwsBytes = 64 * 1024;

// Signs `payload` with `key` (alg ES256 or RS256, from the key) and returns
// header.payload.signature. `header` holds the other header members ("kid", "typ");
// its "alg", if any, is replaced.
Result<std::string> SignJws(const PrivateKey& key, nlohmann::json header, std::string_view payload);

// Splits and decodes a compact JWS. kInvalidArgument, naming the part, when it is longer
// than kMaxJwsBytes, has not exactly three parts, a part is not base64url, the header is
// not a JSON object with a string "alg", or the header has "crit" (no extension is
// understood here, RFC 7515 §4.1.11).
Result<Jws> ParseJws(std::string_view compact);

// Checks `jws`'s signature with `key`: the header's "alg" must be the key's algorithm
// (ES256 for a P-256 key, RS256 for RSA). kInvalidArgument for another alg ("none",
// "HS256", … named), a signature of the wrong length; kUnauthenticated when it does not
// verify.
Status VerifyJws(const Jws& jws, const PublicKey& key);

// ES256 signatures in JOSE are R‖S, 32 bytes each (RFC 7518 §3.4); OpenSSL speaks DER.
Result<std::string> EcdsaDerToRaw(std::string_view der);
Result<std::string> EcdsaRawToDer(std::string_view raw);

}  // namespace troad::crypto
