// WebAuthn registration and assertion verification (W3C WebAuthn Level 2 §7.1, §7.2).
#include "identity/webauthn.h"

#include <cbor.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <utility>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/key.h"
#include "crypto/openssl_util.h"
#include "crypto/random.h"
#include "crypto/x509.h"

namespace troad::identity::webauthn {
namespace {

// Authenticator data (§6.1): rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖
// attested credential data (if AT) ‖ extensions (a CBOR map, if ED).
constexpr size_t kRpIdHashBytes = 32;
constexpr size_t kAuthDataHeaderBytes = kRpIdHashBytes + 1 + 4;
constexpr size_t kAaguidBytes = 16;
constexpr uint8_t kFlagUserPresent = 0x01;
constexpr uint8_t kFlagUserVerified = 0x04;
constexpr uint8_t kFlagBackupEligible = 0x08;
constexpr uint8_t kFlagBackedUp = 0x10;
constexpr uint8_t kFlagAttestedCredentialData = 0x40;
constexpr uint8_t kFlagExtensionData = 0x80;

// COSE (RFC 9052/9053, RFC 8230): key labels, key types, algorithms and curves.
constexpr int64_t kCoseKty = 1;
constexpr int64_t kCoseAlg = 3;
constexpr int64_t kCoseEc2Crv = -1, kCoseEc2X = -2, kCoseEc2Y = -3, kCoseEc2D = -4;
constexpr int64_t kCoseRsaN = -1, kCoseRsaE = -2, kCoseRsaD = -3;
constexpr int64_t kCoseKtyEc2 = 2, kCoseKtyRsa = 3;
constexpr int64_t kCoseCrvP256 = 1;
constexpr int64_t kCoseAlgEs256 = -7, kCoseAlgRs256 = -257;
constexpr size_t kP256CoordinateBytes = 32;

// id-fido-gen-ce-aaguid (§8.2.1): the AAGUID in an attestation certificate.
constexpr const char* kAaguidExtensionOid = "1.3.6.1.4.1.45724.1.1.4";

// Deep enough for any extension output authenticators define (the attestation object
// itself is three levels: map, attStmt map, x5c array); shallow enough that a hostile
// input cannot make libcbor build, nor later free recursively, a deep tree.
constexpr size_t kMaxCborDepth = 16;

using crypto::internal::Deleter;
struct CborDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborPtr = std::unique_ptr<cbor_item_t, CborDeleter>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ---- CBOR ----

// One step of CborItemLength: the item at data[*pos], `depth` levels down.
Status ScanCborItem(std::string_view data, size_t* pos, size_t depth) {
  if (depth > kMaxCborDepth) {
    return Fail(ErrorCode::kInvalidArgument, "CBOR nested deeper than {} levels", kMaxCborDepth);
  }
  auto cut_short = [&] {
    return Fail(ErrorCode::kInvalidArgument, "CBOR is cut short ({} bytes)", data.size());
  };
  if (*pos >= data.size()) return cut_short();
  const size_t start = *pos;
  const auto initial = static_cast<uint8_t>(data[(*pos)++]);
  const int major = initial >> 5;
  const int info = initial & 0x1f;
  uint64_t argument = static_cast<uint64_t>(info);
  if (info >= 24 && info <= 27) {
    const size_t n = size_t{1} << (info - 24);
    if (data.size() - *pos < n) return cut_short();
    argument = 0;
    for (size_t i = 0; i < n; ++i) {
      argument = (argument << 8) | static_cast<uint8_t>(data[*pos + i]);
    }
    *pos += n;
  } else if (info >= 28 && info <= 30) {
    return Fail(ErrorCode::kInvalidArgument, "CBOR: reserved header byte 0x{:02x} at byte {}",
                initial, start);
  }
  const bool indefinite = info == 31;
  auto at_break = [&] { return *pos < data.size() && static_cast<uint8_t>(data[*pos]) == 0xff; };
  switch (major) {
    case 0:  // unsigned integer
    case 1:  // negative integer
      if (indefinite) break;
      return Ok();
    case 2:  // byte string
    case 3:  // text string
      if (indefinite) {
        // Definite chunks of the same type up to a break (RFC 8949 §3.2.3).
        while (!at_break()) {
          if (*pos >= data.size()) return cut_short();
          const auto chunk = static_cast<uint8_t>(data[*pos]);
          if (chunk >> 5 != major || (chunk & 0x1f) == 31) {
            return Fail(ErrorCode::kInvalidArgument,
                        "CBOR: a chunk of the indefinite-length string at byte {} is not a "
                        "definite string of its type",
                        start);
          }
          TROAD_RETURN_IF_ERROR(ScanCborItem(data, pos, depth + 1));
        }
        ++*pos;
        return Ok();
      }
      if (argument > data.size() - *pos) return cut_short();
      *pos += static_cast<size_t>(argument);
      return Ok();
    case 4:    // array
    case 5: {  // map
      const uint64_t per_entry = major == 5 ? 2 : 1;
      if (indefinite) {
        uint64_t items = 0;
        while (!at_break()) {
          if (*pos >= data.size()) return cut_short();
          TROAD_RETURN_IF_ERROR(ScanCborItem(data, pos, depth + 1));
          ++items;
        }
        if (items % per_entry != 0) {
          return Fail(ErrorCode::kInvalidArgument,
                      "CBOR: the map at byte {} has a key without value", start);
        }
        ++*pos;
        return Ok();
      }
      // Each element takes at least one byte: a count beyond what is left is a lie, and
      // believing it would make cbor_load allocate (and zero) room for all of them.
      if (argument > (data.size() - *pos) / per_entry) return cut_short();
      for (uint64_t i = 0; i < argument * per_entry; ++i) {
        TROAD_RETURN_IF_ERROR(ScanCborItem(data, pos, depth + 1));
      }
      return Ok();
    }
    case 6:  // tag
      if (indefinite) break;
      return ScanCborItem(data, pos, depth + 1);
    default:  // 7: simple values, floats, break
      if (indefinite) {
        return Fail(ErrorCode::kInvalidArgument, "CBOR: a break (0xff) at byte {} ends nothing",
                    start);
      }
      if (info == 24 && argument < 32) break;  // RFC 8949 §3.3: not well-formed
      return Ok();
  }
  return Fail(ErrorCode::kInvalidArgument, "CBOR: malformed header byte 0x{:02x} at byte {}",
              initial, start);
}

// The length of the well-formed CBOR item at the start of `data`, nested at most
// kMaxCborDepth deep. This runs before cbor_load, which trusts a definite array's
// count and allocates (and zeroes) its slots before reading them: nine bytes claiming
// 2^28 elements would cost 2 GiB. Here every count must fit in the bytes that are left.
Result<size_t> CborItemLength(std::string_view data, std::string_view what) {
  size_t pos = 0;
  if (auto st = ScanCborItem(data, &pos, 1); !st) {
    return Fail(Invalid(st.error().message()).Context(what));
  }
  return pos;
}

// `data`, which must be exactly one item that CborItemLength accepted, as a libcbor tree.
Result<CborPtr> LoadCbor(std::string_view data, std::string_view what) {
  cbor_load_result result{};
  CborPtr item(cbor_load(reinterpret_cast<cbor_data>(data.data()), data.size(), &result));
  if (item == nullptr || result.error.code != CBOR_ERR_NONE || result.read != data.size()) {
    return Fail(ErrorCode::kInvalidArgument, "{}: libcbor cannot decode it (error {} at byte {})",
                what, static_cast<int>(result.error.code), result.error.position);
  }
  return item;
}

// CTAP2's canonical CBOR (which authenticators must send) has definite lengths only; a
// reader of the fields below need not piece chunks together.
Result<std::string_view> CborText(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_string(item)) return Fail(Invalid(fmt::format("{} is not a text string", what)));
  if (!cbor_string_is_definite(item)) {
    return Fail(Invalid(fmt::format("{} is an indefinite-length string", what)));
  }
  return std::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                          cbor_string_length(item));
}

Result<std::string_view> CborBytes(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_bytestring(item)) {
    return Fail(Invalid(fmt::format("{} is not a byte string", what)));
  }
  if (!cbor_bytestring_is_definite(item)) {
    return Fail(Invalid(fmt::format("{} is an indefinite-length byte string", what)));
  }
  return std::string_view(reinterpret_cast<const char*>(cbor_bytestring_handle(item)),
                          cbor_bytestring_length(item));
}

Result<int64_t> CborInt(const cbor_item_t* item, std::string_view what) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!cbor_isa_uint(item) && !cbor_isa_negint(item)) {
    return Fail(Invalid(fmt::format("{} is not an integer", what)));
  }
  const uint64_t raw = cbor_get_int(item);
  if (raw > kMax) return Fail(Invalid(fmt::format("{} is out of range", what)));
  // A negative integer's header holds -1 - value (RFC 8949 §3.1).
  return cbor_isa_negint(item) ? -1 - static_cast<int64_t>(raw) : static_cast<int64_t>(raw);
}

// The entries of a definite-length map, keyed by what `key` makes of each key; a
// duplicate key is refused (CTAP2 canonical CBOR has none, and two readers could take
// different ones).
template <typename Key, typename KeyReader>
Result<std::map<Key, const cbor_item_t*>> CborMap(const cbor_item_t* item, std::string_view what,
                                                  KeyReader key) {
  if (!cbor_isa_map(item)) return Fail(Invalid(fmt::format("{} is not a map", what)));
  if (!cbor_map_is_definite(item)) {
    return Fail(Invalid(fmt::format("{} is an indefinite-length map", what)));
  }
  std::map<Key, const cbor_item_t*> entries;
  const cbor_pair* pairs = cbor_map_handle(item);
  for (size_t i = 0; i < cbor_map_size(item); ++i) {
    TROAD_ASSIGN_OR_RETURN(Key k, key(pairs[i].key, fmt::format("a key of {}", what)));
    if (!entries.emplace(std::move(k), pairs[i].value).second) {
      return Fail(Invalid(fmt::format("{} has a key twice", what)));
    }
  }
  return entries;
}

Result<std::map<std::string, const cbor_item_t*>> CborTextMap(const cbor_item_t* item,
                                                              std::string_view what) {
  return CborMap<std::string>(
      item, what, [](const cbor_item_t* k, std::string_view key_what) -> Result<std::string> {
        TROAD_ASSIGN_OR_RETURN(std::string_view text, CborText(k, key_what));
        return std::string(text);
      });
}

Result<std::map<int64_t, const cbor_item_t*>> CborIntMap(const cbor_item_t* item,
                                                         std::string_view what) {
  return CborMap<int64_t>(item, what, [](const cbor_item_t* k, std::string_view key_what) {
    return CborInt(k, key_what);
  });
}

// ---- Inputs ----

Result<std::string> DecodeField(std::string_view name, std::string_view text, size_t max_bytes) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "{} is empty", name);
  if (text.size() > (max_bytes * 4 + 2) / 3) {
    return Fail(ErrorCode::kInvalidArgument, "{} is longer than {} bytes", name, max_bytes);
  }
  auto bytes = Base64UrlDecode(text);
  if (!bytes) {
    return Fail(ErrorCode::kInvalidArgument, "{} is not base64url without padding: {}", name,
                bytes.error().message());
  }
  return std::move(*bytes);
}

Status CheckChallenge(std::string_view expected_challenge) {
  if (expected_challenge.size() < kMinChallengeBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "the expected challenge is {} bytes; a WebAuthn challenge has at least {}",
                expected_challenge.size(), kMinChallengeBytes);
  }
  return Ok();
}

// §7.1 steps 5 to 10, §7.2 steps 9 to 14: the collected client data.
Status VerifyClientData(const RelyingParty& rp, std::string_view json,
                        std::string_view expected_type, std::string_view expected_challenge) {
  constexpr std::string_view kWhat = "clientDataJSON";
  TROAD_ASSIGN_OR_RETURN(nlohmann::json client_data, ParseJson(json, kWhat, 4));
  if (!client_data.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "clientDataJSON is not a JSON object");
  }
  auto member = [&](const char* name) -> Result<std::string> {
    auto it = client_data.find(name);
    if (it == client_data.end() || !it->is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "clientDataJSON has no string \"{}\"", name);
    }
    return it->get<std::string>();
  };
  TROAD_ASSIGN_OR_RETURN(std::string type, member("type"));
  if (type != expected_type) {
    return Fail(ErrorCode::kUnauthenticated,
                "clientDataJSON: the ceremony type is \"{}\", expected \"{}\"",
                EscapeForLog(type, 40), expected_type);
  }
  TROAD_ASSIGN_OR_RETURN(std::string challenge_text, member("challenge"));
  auto challenge = Base64UrlDecode(challenge_text);
  if (!challenge) {
    return Fail(ErrorCode::kInvalidArgument,
                "clientDataJSON: \"challenge\" is not base64url without padding: {}",
                challenge.error().message());
  }
  if (!crypto::ConstantTimeEqual(*challenge, expected_challenge)) {
    return Fail(ErrorCode::kUnauthenticated,
                "clientDataJSON: the challenge is not the one issued for this ceremony (an "
                "old, replayed or foreign response)");
  }
  TROAD_ASSIGN_OR_RETURN(std::string origin, member("origin"));
  if (std::find(rp.origins.begin(), rp.origins.end(), origin) == rp.origins.end()) {
    return Fail(ErrorCode::kUnauthenticated,
                "clientDataJSON: origin \"{}\" is not an origin of relying party \"{}\"",
                EscapeForLog(origin, 100), rp.id);
  }
  if (auto it = client_data.find("crossOrigin"); it != client_data.end()) {
    if (!it->is_boolean()) {
      return Fail(ErrorCode::kInvalidArgument, "clientDataJSON: \"crossOrigin\" is not a boolean");
    }
    // A page of another site framed ours and ran the ceremony: not allowed here.
    if (it->get<bool>()) {
      return Fail(ErrorCode::kUnauthenticated,
                  "clientDataJSON: crossOrigin is true (the ceremony ran in a cross-origin "
                  "frame, which this relying party does not allow)");
    }
  }
  return Ok();
}

// ---- Authenticator data ----

struct AuthenticatorData {
  std::string_view rp_id_hash;
  uint8_t flags = 0;
  uint32_t sign_count = 0;
  // With the AT flag only:
  std::string_view aaguid;
  std::string_view credential_id;
  std::string_view credential_key;  // the COSE_Key, CBOR
};

uint32_t BigEndian(std::string_view bytes) {
  uint32_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// Splits authenticator data (§6.1) into its parts; the views point into `data`. Every
// byte must belong to a part: trailing bytes, and extensions that are not one
// well-formed CBOR map, are refused.
Result<AuthenticatorData> ParseAuthenticatorData(std::string_view data, std::string_view what) {
  if (data.size() < kAuthDataHeaderBytes) {
    return Fail(ErrorCode::kInvalidArgument, "{} is {} bytes, shorter than the {} of its header",
                what, data.size(), kAuthDataHeaderBytes);
  }
  AuthenticatorData auth;
  auth.rp_id_hash = data.substr(0, kRpIdHashBytes);
  auth.flags = static_cast<uint8_t>(data[kRpIdHashBytes]);
  auth.sign_count = BigEndian(data.substr(kRpIdHashBytes + 1, 4));
  std::string_view rest = data.substr(kAuthDataHeaderBytes);
  if ((auth.flags & kFlagBackedUp) != 0 && (auth.flags & kFlagBackupEligible) == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: the backed-up flag (BS) is set without backup eligibility (BE)", what);
  }
  if ((auth.flags & kFlagAttestedCredentialData) != 0) {
    if (rest.size() < kAaguidBytes + 2) {
      return Fail(ErrorCode::kInvalidArgument, "{}: the attested credential data is cut short",
                  what);
    }
    auth.aaguid = rest.substr(0, kAaguidBytes);
    const size_t id_length = BigEndian(rest.substr(kAaguidBytes, 2));
    rest.remove_prefix(kAaguidBytes + 2);
    if (id_length == 0 || id_length > kMaxCredentialIdBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: the credential id is {} bytes; it must be 1 to {}", what, id_length,
                  kMaxCredentialIdBytes);
    }
    if (rest.size() < id_length) {
      return Fail(ErrorCode::kInvalidArgument, "{}: the credential id is cut short", what);
    }
    auth.credential_id = rest.substr(0, id_length);
    rest.remove_prefix(id_length);
    TROAD_ASSIGN_OR_RETURN(size_t key_length,
                           CborItemLength(rest, fmt::format("{}: credential public key", what)));
    auth.credential_key = rest.substr(0, key_length);
    rest.remove_prefix(key_length);
  }
  if ((auth.flags & kFlagExtensionData) != 0) {
    const std::string what_extensions = fmt::format("{}: extensions", what);
    TROAD_ASSIGN_OR_RETURN(size_t extensions_length, CborItemLength(rest, what_extensions));
    // Major type 5: a map. The outputs themselves are not used here; they are only
    // checked to be well-formed, so that the data ends where the authenticator meant.
    if (static_cast<uint8_t>(rest[0]) >> 5 != 5) {
      return Fail(ErrorCode::kInvalidArgument, "{} are not a CBOR map", what_extensions);
    }
    rest.remove_prefix(extensions_length);
  }
  if (!rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{} has {} trailing bytes", what, rest.size());
  }
  return auth;
}

// §7.1 steps 13 to 16 (§7.2 steps 15 to 17): the data is for this relying party and
// the user was present (and verified, when required).
Status CheckAuthenticatorData(const AuthenticatorData& auth, const RelyingParty& rp,
                              bool require_user_verification, std::string_view what) {
  if (!crypto::ConstantTimeEqual(auth.rp_id_hash, crypto::DigestView(crypto::Sha256(rp.id)))) {
    return Fail(ErrorCode::kUnauthenticated,
                "{}: the rpIdHash is not SHA-256 of \"{}\" (a credential of another relying "
                "party)",
                what, rp.id);
  }
  if ((auth.flags & kFlagUserPresent) == 0) {
    return Fail(ErrorCode::kUnauthenticated,
                "{}: the user-present flag (UP) is not set: nobody touched the authenticator",
                what);
  }
  if (require_user_verification && (auth.flags & kFlagUserVerified) == 0) {
    return Fail(ErrorCode::kUnauthenticated,
                "{}: the user-verified flag (UV) is not set, and user verification (PIN or "
                "biometric) is required",
                what);
  }
  return Ok();
}

// ---- COSE keys ----

std::string CoseAlgorithmName(int64_t alg) {
  switch (alg) {
    case kCoseAlgEs256:
      return "ES256";
    case kCoseAlgRs256:
      return "RS256";
    case -8:
      return "EdDSA";
    case -35:
      return "ES384";
    case -36:
      return "ES512";
    case -37:
      return "PS256";
    case -258:
      return "RS384";
    case -259:
      return "RS512";
    case -65535:
      return "RS1";
    default:
      return "unknown";
  }
}

Status CheckSupportedAlgorithm(int64_t alg, std::string_view what) {
  if (alg == kCoseAlgEs256 || alg == kCoseAlgRs256) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              "{}: COSE algorithm {} ({}) is not supported; ES256 (-7) and RS256 (-257) are", what,
              alg, CoseAlgorithmName(alg));
}

Result<std::string_view> CoseBytes(const std::map<int64_t, const cbor_item_t*>& key, int64_t label,
                                   std::string_view what) {
  auto it = key.find(label);
  if (it == key.end())
    return Fail(ErrorCode::kInvalidArgument, "{}: label {} is missing", what, label);
  TROAD_ASSIGN_OR_RETURN(std::string_view bytes,
                         CborBytes(it->second, fmt::format("{}: label {}", what, label)));
  if (bytes.empty()) return Fail(ErrorCode::kInvalidArgument, "{}: label {} is empty", what, label);
  return bytes;
}

struct CredentialKey {
  crypto::PublicKey key;
  int64_t alg;
};

// The credential public key (§6.5.1.1): a COSE_Key with "alg", either EC2 P-256 for
// ES256 or RSA for RS256. Private members are refused: a key that travelled with its
// private half is not one to trust.
Result<CredentialKey> ParseCoseKey(std::string_view cbor) {
  constexpr std::string_view kWhat = "credential public key";
  TROAD_ASSIGN_OR_RETURN(CborPtr root, LoadCbor(cbor, kWhat));
  TROAD_ASSIGN_OR_RETURN(auto key, CborIntMap(root.get(), kWhat));
  auto int_member = [&](int64_t label, std::string_view name) -> Result<int64_t> {
    auto it = key.find(label);
    if (it == key.end()) {
      return Fail(ErrorCode::kInvalidArgument, "{}: {} (label {}) is missing", kWhat, name, label);
    }
    return CborInt(it->second, fmt::format("{}: {}", kWhat, name));
  };
  TROAD_ASSIGN_OR_RETURN(int64_t kty, int_member(kCoseKty, "kty"));
  TROAD_ASSIGN_OR_RETURN(int64_t alg, int_member(kCoseAlg, "alg"));
  TROAD_RETURN_IF_ERROR(CheckSupportedAlgorithm(alg, kWhat));
  Result<crypto::PublicKey> public_key = Fail(ErrorCode::kInternal, "unreachable");
  if (alg == kCoseAlgEs256) {
    if (kty != kCoseKtyEc2) {
      return Fail(ErrorCode::kInvalidArgument, "{}: ES256 with key type {}; expected EC2 (2)",
                  kWhat, kty);
    }
    if (key.contains(kCoseEc2D)) {
      return Fail(ErrorCode::kInvalidArgument, "{}: it holds a private key (label -4)", kWhat);
    }
    TROAD_ASSIGN_OR_RETURN(int64_t crv, int_member(kCoseEc2Crv, "crv"));
    if (crv != kCoseCrvP256) {
      return Fail(ErrorCode::kInvalidArgument, "{}: curve {} is not P-256 (1)", kWhat, crv);
    }
    TROAD_ASSIGN_OR_RETURN(std::string_view x, CoseBytes(key, kCoseEc2X, kWhat));
    TROAD_ASSIGN_OR_RETURN(std::string_view y, CoseBytes(key, kCoseEc2Y, kWhat));
    if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: P-256 x and y must be 32 bytes each (they are {} and {})", kWhat, x.size(),
                  y.size());
    }
    public_key = crypto::PublicKey::FromEcP256Point(x, y);
  } else {
    if (kty != kCoseKtyRsa) {
      return Fail(ErrorCode::kInvalidArgument, "{}: RS256 with key type {}; expected RSA (3)",
                  kWhat, kty);
    }
    if (key.contains(kCoseRsaD)) {
      return Fail(ErrorCode::kInvalidArgument, "{}: it holds a private key (label -3)", kWhat);
    }
    TROAD_ASSIGN_OR_RETURN(std::string_view n, CoseBytes(key, kCoseRsaN, kWhat));
    TROAD_ASSIGN_OR_RETURN(std::string_view e, CoseBytes(key, kCoseRsaE, kWhat));
    if (n.size() > kMaxSignatureBytes || e.size() > 8) {
      return Fail(ErrorCode::kInvalidArgument, "{}: RSA n or e is implausibly long", kWhat);
    }
    public_key = crypto::PublicKey::FromRsaComponents(n, e);
  }
  // Both factories refuse keys that fail CheckStrength.
  if (!public_key) return Fail(std::move(public_key).error().Context(kWhat));
  return CredentialKey{std::move(*public_key), alg};
}

// ---- Attestation statements (§8) ----

// §8.2.1's requirements of a packed attestation certificate, those that matter for
// trust decisions: X.509 version 3, not a CA, and its AAGUID extension (if present,
// not critical) equal to the authenticator data's.
Status CheckAttestationCertificate(const crypto::Certificate& cert, std::string_view aaguid) {
  constexpr std::string_view kWhat = "attestationObject: packed attestation certificate";
  X509* x = cert.native();
  if (X509_get_version(x) != X509_VERSION_3) {
    return Fail(ErrorCode::kUnauthenticated, "{} {} is not X.509 version 3", kWhat,
                EscapeForLog(cert.Subject()));
  }
  if (cert.IsCa()) {
    return Fail(ErrorCode::kUnauthenticated, "{} {} is a CA certificate", kWhat,
                EscapeForLog(cert.Subject()));
  }
  Asn1ObjectPtr oid(OBJ_txt2obj(kAaguidExtensionOid, 1));
  if (oid == nullptr) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "cannot make the OID {}", kAaguidExtensionOid);
  }
  const int index = X509_get_ext_by_OBJ(x, oid.get(), -1);
  if (index < 0) return Ok();
  if (X509_get_ext_by_OBJ(x, oid.get(), index) >= 0) {
    return Fail(ErrorCode::kUnauthenticated, "{}: two AAGUID extensions", kWhat);
  }
  X509_EXTENSION* extension = X509_get_ext(x, index);
  if (X509_EXTENSION_get_critical(extension) != 0) {
    return Fail(ErrorCode::kUnauthenticated, "{}: the AAGUID extension is marked critical", kWhat);
  }
  // extnValue holds the DER of an OCTET STRING of 16 bytes.
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(extension);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const unsigned char* end = p + ASN1_STRING_length(value);
  Asn1OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(value)));
  if (inner == nullptr || p != end ||
      ASN1_STRING_length(inner.get()) != static_cast<int>(kAaguidBytes)) {
    ERR_clear_error();
    return Fail(ErrorCode::kUnauthenticated,
                "{}: the AAGUID extension is not an OCTET STRING of 16 bytes", kWhat);
  }
  const std::string_view cert_aaguid(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(inner.get())), kAaguidBytes);
  if (cert_aaguid != aaguid) {
    return Fail(ErrorCode::kUnauthenticated, "{}: its AAGUID {} is not the authenticator's {}",
                kWhat, HexEncode(cert_aaguid), HexEncode(aaguid));
  }
  return Ok();
}

// §8.2: "packed". Fills the attestation type and certificates of `credential`.
Status VerifyPacked(const std::map<std::string, const cbor_item_t*>& statement,
                    std::string_view signed_data, const CredentialKey& credential_key,
                    std::string_view aaguid, Credential* credential) {
  constexpr std::string_view kWhat = "attestationObject: packed attStmt";
  for (const auto& [name, value] : statement) {
    if (name != "alg" && name != "sig" && name != "x5c") {
      return Fail(ErrorCode::kInvalidArgument, "{} has the unknown member \"{}\"{}", kWhat,
                  EscapeForLog(name, 40), name == "ecdaaKeyId" ? " (ECDAA is not supported)" : "");
    }
  }
  auto member = [&](const char* name) -> Result<const cbor_item_t*> {
    auto it = statement.find(name);
    if (it == statement.end()) {
      return Fail(ErrorCode::kInvalidArgument, "{} has no \"{}\"", kWhat, name);
    }
    return it->second;
  };
  TROAD_ASSIGN_OR_RETURN(const cbor_item_t* alg_item, member("alg"));
  TROAD_ASSIGN_OR_RETURN(int64_t alg, CborInt(alg_item, fmt::format("{} alg", kWhat)));
  TROAD_ASSIGN_OR_RETURN(const cbor_item_t* sig_item, member("sig"));
  TROAD_ASSIGN_OR_RETURN(std::string_view sig, CborBytes(sig_item, fmt::format("{} sig", kWhat)));
  if (sig.empty() || sig.size() > kMaxSignatureBytes) {
    return Fail(ErrorCode::kInvalidArgument, "{}: sig is {} bytes; expected 1 to {}", kWhat,
                sig.size(), kMaxSignatureBytes);
  }
  TROAD_RETURN_IF_ERROR(CheckSupportedAlgorithm(alg, kWhat));
  const std::string algorithm = CoseAlgorithmName(alg);

  auto x5c = statement.find("x5c");
  if (x5c == statement.end()) {
    // Self attestation (§8.2 step 3): signed with the credential key itself.
    if (alg != credential_key.alg) {
      return Fail(ErrorCode::kUnauthenticated,
                  "{}: self attestation with alg {} ({}), but the credential key is {} ({})", kWhat,
                  alg, algorithm, credential_key.alg, CoseAlgorithmName(credential_key.alg));
    }
    if (auto st = credential_key.key.Verify(signed_data, sig, algorithm); !st) {
      return Fail(
          Error(st.error().code(), st.error().message())
              .Context(
                  "attestationObject: packed self attestation: the credential key's signature"));
    }
    credential->attestation_type = AttestationType::kSelf;
    return Ok();
  }

  // Basic attestation (§8.2 step 2): signed by the first certificate's key.
  const cbor_item_t* chain = x5c->second;
  if (!cbor_isa_array(chain) || !cbor_array_is_definite(chain)) {
    return Fail(ErrorCode::kInvalidArgument, "{}: x5c is not a definite-length array", kWhat);
  }
  const size_t count = cbor_array_size(chain);
  if (count == 0 || count > kMaxAttestationCertificates) {
    return Fail(ErrorCode::kInvalidArgument, "{}: x5c holds {} certificates; expected 1 to {}",
                kWhat, count, kMaxAttestationCertificates);
  }
  std::vector<crypto::Certificate> certificates;
  for (size_t i = 0; i < count; ++i) {
    const std::string what = fmt::format("{}: x5c[{}]", kWhat, i);
    TROAD_ASSIGN_OR_RETURN(std::string_view der, CborBytes(cbor_array_handle(chain)[i], what));
    auto cert = crypto::Certificate::FromDer(der);
    if (!cert) return Fail(Invalid(cert.error().message()).Context(what));
    certificates.push_back(std::move(*cert));
    credential->attestation_certificates.emplace_back(der);
  }
  TROAD_RETURN_IF_ERROR(CheckAttestationCertificate(certificates.front(), aaguid));
  if (auto st = certificates.front().GetPublicKey().Verify(signed_data, sig, algorithm); !st) {
    return Fail(
        Error(st.error().code(), st.error().message())
            .Context(fmt::format("attestationObject: packed attestation: the signature of {}",
                                 EscapeForLog(certificates.front().Subject()))));
  }
  credential->attestation_type = AttestationType::kBasic;
  return Ok();
}

// ---- Relying party ----

bool IsRpIdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

Status CheckOrigin(std::string_view origin, std::string_view rp_id) {
  std::string_view rest = origin;
  bool https = true;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    https = false;
    rest.remove_prefix(7);
  } else {
    return Fail(ErrorCode::kInvalidArgument, "origin \"{}\" is not http(s)://host[:port]",
                EscapeForLog(origin, 100));
  }
  std::string_view host = rest.substr(0, rest.find(':'));
  if (host.size() < rest.size()) {
    const std::string_view port = rest.substr(host.size() + 1);
    uint32_t number = 0;
    bool digits = !port.empty() && port.size() <= 5 && port.front() != '0';
    for (char c : port) {
      digits = digits && c >= '0' && c <= '9';
      number = number * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!digits || number > 65535) {
      return Fail(ErrorCode::kInvalidArgument,
                  "origin \"{}\": the port is not a number from 1 to 65535 (and no path may "
                  "follow)",
                  EscapeForLog(origin, 100));
    }
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), IsRpIdCharacter)) {
    return Fail(ErrorCode::kInvalidArgument,
                "origin \"{}\" has no lower-case host name, or has a path",
                EscapeForLog(origin, 100));
  }
  if (host != rp_id && !(host.size() > rp_id.size() && host.ends_with(rp_id) &&
                         host[host.size() - rp_id.size() - 1] == '.')) {
    return Fail(ErrorCode::kInvalidArgument, "origin \"{}\" is not on \"{}\" or a subdomain of it",
                EscapeForLog(origin, 100), rp_id);
  }
  // Browsers run WebAuthn only in secure contexts; plain http is one only on localhost.
  if (!https && host != "localhost") {
    return Fail(ErrorCode::kInvalidArgument, "origin \"{}\" is http; only localhost may be",
                EscapeForLog(origin, 100));
  }
  return Ok();
}

}  // namespace

Status ValidateRelyingParty(const RelyingParty& rp) {
  if (rp.id.empty() || rp.id.size() > 253 ||
      !std::all_of(rp.id.begin(), rp.id.end(), IsRpIdCharacter) || rp.id.front() == '.' ||
      rp.id.back() == '.') {
    return Fail(ErrorCode::kInvalidArgument,
                "relying party id \"{}\" is not a lower-case domain name of 1 to 253 bytes",
                EscapeForLog(rp.id, 100));
  }
  if (rp.origins.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "relying party \"{}\" has no origin", rp.id);
  }
  for (const std::string& origin : rp.origins) TROAD_RETURN_IF_ERROR(CheckOrigin(origin, rp.id));
  return Ok();
}

std::string NewChallenge() { return crypto::RandomBytes(kChallengeBytes); }

std::string_view AttestationTypeName(AttestationType type) {
  switch (type) {
    case AttestationType::kNone:
      return "none";
    case AttestationType::kSelf:
      return "self";
    case AttestationType::kBasic:
      return "basic";
  }
  return "unknown";
}

Result<Credential> VerifyRegistration(const RelyingParty& rp, const RegistrationResponse& response,
                                      std::string_view expected_challenge,
                                      bool require_user_verification) {
  TROAD_RETURN_IF_ERROR(ValidateRelyingParty(rp));
  TROAD_RETURN_IF_ERROR(CheckChallenge(expected_challenge));
  TROAD_ASSIGN_OR_RETURN(
      std::string client_data_json,
      DecodeField("clientDataJSON", response.client_data_json, kMaxClientDataJsonBytes));
  TROAD_ASSIGN_OR_RETURN(
      std::string attestation_object,
      DecodeField("attestationObject", response.attestation_object, kMaxAttestationObjectBytes));
  TROAD_RETURN_IF_ERROR(
      VerifyClientData(rp, client_data_json, "webauthn.create", expected_challenge));

  // §7.1 step 12: the attestation object is a map of fmt, attStmt and authData.
  constexpr std::string_view kWhat = "attestationObject";
  TROAD_ASSIGN_OR_RETURN(size_t length, CborItemLength(attestation_object, kWhat));
  if (length != attestation_object.size()) {
    return Fail(ErrorCode::kInvalidArgument, "{} has {} trailing bytes after its CBOR map", kWhat,
                attestation_object.size() - length);
  }
  TROAD_ASSIGN_OR_RETURN(CborPtr root, LoadCbor(attestation_object, kWhat));
  TROAD_ASSIGN_OR_RETURN(auto members, CborTextMap(root.get(), kWhat));
  for (const char* name : {"fmt", "attStmt", "authData"}) {
    if (!members.contains(name)) {
      return Fail(ErrorCode::kInvalidArgument, "{} has no \"{}\"", kWhat, name);
    }
  }
  if (members.size() != 3) {
    return Fail(ErrorCode::kInvalidArgument, "{} has members other than fmt, attStmt, authData",
                kWhat);
  }
  TROAD_ASSIGN_OR_RETURN(std::string_view fmt_name,
                         CborText(members["fmt"], "attestationObject: fmt"));
  TROAD_ASSIGN_OR_RETURN(std::string_view auth_bytes,
                         CborBytes(members["authData"], "attestationObject: authData"));
  TROAD_ASSIGN_OR_RETURN(auto statement,
                         CborTextMap(members["attStmt"], "attestationObject: attStmt"));

  TROAD_ASSIGN_OR_RETURN(AuthenticatorData auth,
                         ParseAuthenticatorData(auth_bytes, "attestationObject: authData"));
  TROAD_RETURN_IF_ERROR(
      CheckAuthenticatorData(auth, rp, require_user_verification, "attestationObject: authData"));
  if ((auth.flags & kFlagAttestedCredentialData) == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "attestationObject: authData has no attested credential data (AT flag not set)");
  }
  TROAD_ASSIGN_OR_RETURN(CredentialKey credential_key, ParseCoseKey(auth.credential_key));

  Credential credential;
  credential.id = std::string(auth.credential_id);
  credential.public_key_der = credential_key.key.ToDer();
  credential.algorithm = CoseAlgorithmName(credential_key.alg);
  credential.sign_count = auth.sign_count;
  credential.aaguid = std::string(auth.aaguid);
  credential.attestation_format = std::string(fmt_name);
  credential.user_verified = (auth.flags & kFlagUserVerified) != 0;
  credential.backup_eligible = (auth.flags & kFlagBackupEligible) != 0;
  credential.backed_up = (auth.flags & kFlagBackedUp) != 0;

  // §7.1 steps 18 to 21: the attestation statement. Browsers send "none" whenever the
  // page asked for attestation "none", whatever the authenticator made.
  if (fmt_name == "none") {
    if (!statement.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "attestationObject: attStmt of format \"none\" is not an empty map");
    }
    credential.attestation_type = AttestationType::kNone;
  } else if (fmt_name == "packed") {
    std::string signed_data(auth_bytes);
    signed_data += crypto::DigestView(crypto::Sha256(client_data_json));
    TROAD_RETURN_IF_ERROR(
        VerifyPacked(statement, signed_data, credential_key, auth.aaguid, &credential));
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "attestationObject: attestation format \"{}\" is not supported (none, packed); "
                "ask for attestation \"none\" to get one that is",
                EscapeForLog(fmt_name, 40));
  }
  return credential;
}

Result<Assertion> VerifyAssertion(const RelyingParty& rp, const AssertionResponse& response,
                                  std::string_view expected_challenge,
                                  bool require_user_verification, const StoredCredential& stored) {
  TROAD_RETURN_IF_ERROR(ValidateRelyingParty(rp));
  TROAD_RETURN_IF_ERROR(CheckChallenge(expected_challenge));
  TROAD_ASSIGN_OR_RETURN(
      std::string client_data_json,
      DecodeField("clientDataJSON", response.client_data_json, kMaxClientDataJsonBytes));
  TROAD_ASSIGN_OR_RETURN(
      std::string authenticator_data,
      DecodeField("authenticatorData", response.authenticator_data, kMaxAuthenticatorDataBytes));
  TROAD_ASSIGN_OR_RETURN(std::string signature,
                         DecodeField("signature", response.signature, kMaxSignatureBytes));

  // The stored key first: a corrupt row is our problem, whatever the page sent.
  auto key = crypto::PublicKey::FromDer(stored.public_key_der);
  if (!key) {
    return Fail(ErrorCode::kDataLoss, "the stored credential key is unreadable: {}",
                key.error().message());
  }
  if (key->Algorithm() != stored.algorithm) {
    return Fail(ErrorCode::kDataLoss, "the stored credential algorithm \"{}\" is not its key's {}",
                EscapeForLog(stored.algorithm, 20), key->Algorithm());
  }

  TROAD_RETURN_IF_ERROR(VerifyClientData(rp, client_data_json, "webauthn.get", expected_challenge));
  TROAD_ASSIGN_OR_RETURN(AuthenticatorData auth,
                         ParseAuthenticatorData(authenticator_data, "authenticatorData"));
  TROAD_RETURN_IF_ERROR(
      CheckAuthenticatorData(auth, rp, require_user_verification, "authenticatorData"));

  // §7.2 steps 19 and 20: the signature over authenticatorData ‖ SHA-256(clientDataJSON).
  std::string signed_data = authenticator_data;
  signed_data += crypto::DigestView(crypto::Sha256(client_data_json));
  if (auto st = key->Verify(signed_data, signature, stored.algorithm); !st) {
    if (st.error().code() == ErrorCode::kUnauthenticated) {
      return Fail(ErrorCode::kUnauthenticated,
                  "the assertion's {} signature does not verify with the stored credential key",
                  stored.algorithm);
    }
    return Fail(Error(st.error().code(), st.error().message()).Context("signature"));
  }

  // §7.2 step 21 (§6.1.1). Only after the signature: an unsigned counter proves nothing.
  if ((auth.sign_count != 0 || stored.sign_count != 0) && auth.sign_count <= stored.sign_count) {
    return Fail(ErrorCode::kFailedPrecondition,
                "the authenticator's signature counter went back (stored {}, received {}): the "
                "credential may have been cloned",
                stored.sign_count, auth.sign_count);
  }
  Assertion assertion;
  assertion.sign_count = auth.sign_count;
  assertion.user_verified = (auth.flags & kFlagUserVerified) != 0;
  assertion.backup_eligible = (auth.flags & kFlagBackupEligible) != 0;
  assertion.backed_up = (auth.flags & kFlagBackedUp) != 0;
  return assertion;
}

}  // namespace troad::identity::webauthn
