#include "globalconf/signed.h"

#include "core/encoding.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "crypto/hash.h"

namespace troad::globalconf {
namespace {

// A signature file is a few hundred bytes; anything far larger is not one.
constexpr size_t kMaxSignatureFile = 64 * 1024;

}  // namespace

std::string KeyId(const crypto::PublicKey& key) {
  return HexEncode(crypto::Sha256(key.ToDer()));
}

Result<std::string> SignDocument(std::string_view document, const crypto::PrivateKey& key) {
  TROAD_ASSIGN_OR_RETURN(std::string signature, key.Sign(document));
  std::string out;
  JsonWriter(out)
      .BeginObject()
      .Member("format", kSignatureFormat)
      .Member("algorithm", key.Algorithm())
      .Member("key_id", KeyId(key.Public()))
      .Member("signature", Base64Encode(signature))
      .EndObject();
  out += '\n';
  return out;
}

Result<DetachedSignature> ParseSignatureFile(std::string_view text) {
  if (text.size() > kMaxSignatureFile) {
    return Fail(ErrorCode::kInvalidArgument, "signature file: {} bytes, more than the {} allowed",
                text.size(), kMaxSignatureFile);
  }
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(text, "signature file", 4));
  JsonErrors errors;
  JsonView root(&doc, "", &errors);
  DetachedSignature sig;
  const std::string format = root.String("format", true, 100);
  sig.algorithm = root.String("algorithm", true, 16);
  sig.key_id = root.String("key_id", true, 64);
  const std::string encoded = root.String("signature", true, 4096);
  if (errors.ok() && format != kSignatureFormat) {
    root.Error("format", fmt::format("\"{}\" is not \"{}\"", EscapeForLog(format), kSignatureFormat));
  }
  if (errors.ok() && sig.algorithm != "ES256" && sig.algorithm != "RS256") {
    root.Error("algorithm", fmt::format("\"{}\" is not ES256 or RS256", EscapeForLog(sig.algorithm)));
  }
  if (errors.ok() && (sig.key_id.size() != 64 ||
                      sig.key_id.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    root.Error("key_id", "not 64 lower-case hex digits (SHA-256 of the key)");
  }
  if (errors.ok()) {
    auto raw = Base64Decode(encoded);
    if (!raw || raw->empty()) {
      root.Error("signature", "not base64");
    } else {
      sig.signature = std::move(*raw);
    }
  }
  if (!errors.ok()) return Fail(errors.ToStatus("signature file").error());
  return sig;
}

std::string_view RejectReasonLabel(RejectReason reason) {
  switch (reason) {
    case RejectReason::kUnsigned:
      return "unsigned";
    case RejectReason::kMalformedSignature:
      return "malformed-signature";
    case RejectReason::kUntrustedKey:
      return "untrusted-key";
    case RejectReason::kBadSignature:
      return "bad-signature";
    case RejectReason::kMalformed:
      return "malformed";
    case RejectReason::kOtherInstance:
      return "other-instance";
    case RejectReason::kOlder:
      return "older";
    case RejectReason::kExpired:
      return "expired";
  }
  return "unknown";
}

Result<std::shared_ptr<const GlobalConf>> VerifySignedDocument(std::string_view document,
                                                               std::string_view signature_file,
                                                               const VerifyOptions& options) {
  return VerifySignedDocument(document, signature_file, options, nullptr);
}

Result<std::shared_ptr<const GlobalConf>> VerifySignedDocument(std::string_view document,
                                                               std::string_view signature_file,
                                                               const VerifyOptions& options,
                                                               RejectReason* reason) {
  RejectReason ignored = RejectReason::kUnsigned;
  RejectReason& why = reason != nullptr ? *reason : ignored;
  if (signature_file.empty()) {
    why = RejectReason::kUnsigned;
    return Fail(ErrorCode::kUnauthenticated,
                "global configuration is unsigned: no signature file came with it");
  }
  auto parsed = ParseSignatureFile(signature_file);
  if (!parsed) {
    why = RejectReason::kMalformedSignature;
    return Fail(std::move(parsed).error());
  }
  const DetachedSignature& sig = *parsed;
  const crypto::PublicKey* key = nullptr;
  for (const crypto::PublicKey& k : options.trusted_keys) {
    if (KeyId(k) == sig.key_id) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) {
    why = RejectReason::kUntrustedKey;
    return Fail(ErrorCode::kUnauthenticated,
                "global configuration is signed by key {}, which the anchor does not trust",
                sig.key_id);
  }
  if (auto st = key->Verify(document, sig.signature, sig.algorithm); !st) {
    why = RejectReason::kBadSignature;
    return Fail(ErrorCode::kUnauthenticated,
                "global configuration signature does not verify with key {}: {}", sig.key_id,
                st.error().message());
  }
  auto parsed_conf = GlobalConf::Parse(document);
  if (!parsed_conf) {
    why = RejectReason::kMalformed;
    return Fail(std::move(parsed_conf).error());
  }
  std::shared_ptr<const GlobalConf> conf = std::move(*parsed_conf);
  if (conf->instance() != options.instance) {
    why = RejectReason::kOtherInstance;
    return Fail(ErrorCode::kInvalidArgument,
                "global configuration is for instance {}, expected {}", conf->instance(),
                options.instance);
  }
  if (conf->version() < options.held_version) {
    why = RejectReason::kOlder;
    return Fail(ErrorCode::kFailedPrecondition,
                "global configuration version {} is older than the one held ({})",
                conf->version(), options.held_version);
  }
  if (conf->IsExpired(options.now)) {
    why = RejectReason::kExpired;
    return Fail(ErrorCode::kFailedPrecondition, "global configuration version {} expired at {}",
                conf->version(), FormatRfc3339(conf->expires_at()));
  }
  return conf;
}

}  // namespace troad::globalconf
