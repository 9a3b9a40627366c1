// The signed global configuration: the document (docs/protocol.md §8) and a detached
// signature file made by the central's configuration key, and the one check every
// gateway runs before it adopts a new copy. Wire format of the signature file:
// docs/protocol.md §9. Anyone can verify a copy with the openssl command line:
//
//   jq -r .signature globalconf.sig | base64 -d > globalconf.sig.der
//   openssl dgst -sha256 -verify conf-key.pem -signature globalconf.sig.der globalconf.json
//
// The signature covers the document's exact bytes (no canonicalisation: the bytes
// served are the bytes signed, and the gateway keeps those bytes as its last good copy).
// Thread-safety: free functions, no shared state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"
#include "globalconf/model.h"

namespace troad::globalconf {

inline constexpr std::string_view kSignatureFormat = "troad-globalconf-signature/1";

// The parsed signature file.
struct DetachedSignature {
  std::string algorithm;  // "ES256" or "RS256" (as crypto::PublicKey::Verify)
  std::string key_id;     // lower-case hex SHA-256 of the key's SubjectPublicKeyInfo DER
  std::string signature;  // raw bytes: DER ECDSA-Sig-Value for ES256
};

// The key id of a configuration key: lower-case hex SHA-256 of its SPKI DER (what
// `openssl pkey -pubin -outform DER | sha256sum` prints).
std::string KeyId(const crypto::PublicKey& key);

// Signs `document` (its exact bytes) and returns the signature file's text.
Result<std::string> SignDocument(std::string_view document, const crypto::PrivateKey& key);

// Parses a signature file; kInvalidArgument says which field is wrong.
Result<DetachedSignature> ParseSignatureFile(std::string_view text);

// What the verifier holds: the keys it trusts (from the anchor) and what it had.
struct VerifyOptions {
  std::vector<crypto::PublicKey> trusted_keys;
  std::string instance;      // the document must be for this instance
  int64_t held_version = 0;  // a document older than this is refused (0: none held)
  SystemTime now{};          // an expired document is refused
};

// Which check of VerifySignedDocument refused a copy. RejectReasonLabel gives the short
// label gateways put in logs and metrics (troad_gateway_globalconf_rejected_total).
enum class RejectReason {
  kUnsigned,            // "unsigned": no signature file
  kMalformedSignature,  // "malformed-signature": the signature file is not one
  kUntrustedKey,        // "untrusted-key": signed by a key the anchor does not list
  kBadSignature,        // "bad-signature": the signature does not verify
  kMalformed,           // "malformed": signed, but not a valid document
  kOtherInstance,       // "other-instance"
  kOlder,               // "older": older than the copy held
  kExpired,             // "expired"
};
std::string_view RejectReasonLabel(RejectReason reason);

// Checks, in this order, and refuses with a message saying which failed:
//   no signature file (kUnauthenticated, "unsigned"), a malformed signature file
//   (kInvalidArgument), a key id no trusted key has (kUnauthenticated), a signature
//   that does not verify (kUnauthenticated), a malformed document (kInvalidArgument,
//   naming the JSON path), another instance (kInvalidArgument), a version older than
//   held (kFailedPrecondition), an expired document (kFailedPrecondition).
// The signature is checked before the document is parsed: unsigned bytes are never
// interpreted.
Result<std::shared_ptr<const GlobalConf>> VerifySignedDocument(std::string_view document,
                                                               std::string_view signature_file,
                                                               const VerifyOptions& options);
// The same; on refusal also sets `*reason` (when not null) to the check that failed.
Result<std::shared_ptr<const GlobalConf>> VerifySignedDocument(std::string_view document,
                                                               std::string_view signature_file,
                                                               const VerifyOptions& options,
                                                               RejectReason* reason);

}  // namespace troad::globalconf
