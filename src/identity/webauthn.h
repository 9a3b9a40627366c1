// WebAuthn (FIDO2) for the identity centre, the relying party's side: checking a new
// credential (registration, W3C WebAuthn Level 2 §7.1) and a sign-in with it
// (authentication assertion, §7.2). Pure functions on the values the page sends back;
// the caller issues and keeps the challenge (one per ceremony, used once), stores
// credentials, looks them up by credential id and checks that they belong to the user.
//
// Supported: credential keys ES256 (COSE -7, P-256) and RS256 (COSE -257, RSA 2048
// bits and up); attestation formats "none" and "packed" (self attestation, or basic
// attestation with an x5c certificate chain). Anything else is refused by name. Token
// Binding (Level 2's clientData.tokenBinding, dropped in Level 3) is ignored.
//
// Every binary field comes as the page sends it: base64url without padding, as
// PublicKeyCredential.toJSON() writes response.clientDataJSON, attestationObject,
// authenticatorData and signature.
//
// Errors, worded for a person and the audit log (never a key, challenge or signature):
//   kInvalidArgument     a field is malformed: not base64url, too long, bad JSON or
//                        CBOR, a missing member, an unsupported algorithm or format;
//                        the message names the field and what is wrong;
//   kUnauthenticated     the response is well formed but does not verify: another
//                        ceremony type, challenge, origin or relying party, a user
//                        presence or verification flag missing, a bad signature;
//   kFailedPrecondition  the signature counter went back (a possibly cloned
//                        authenticator): the message starts "the authenticator's
//                        signature counter went back", so the caller can audit it;
//   kDataLoss            the stored credential passed to VerifyAssertion is corrupt.
//
// Thread-safety: pure functions, except NewChallenge, which reads the system RNG and is
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad::identity::webauthn {

// Limits on what the page sends, in decoded bytes: far above what authenticators make
// (a clientDataJSON is about 200 bytes, an attestation object with a certificate chain
// a few kilobytes), and small enough that parsing a hostile one costs little.
inline constexpr size_t kMaxClientDataJsonBytes = 4 * 1024;
inline constexpr size_t kMaxAttestationObjectBytes = 64 * 1024;
inline constexpr size_t kMaxAuthenticatorDataBytes = 16 * 1024;
inline constexpr size_t kMaxSignatureBytes = 2048;  // RSA-16384, the largest key accepted
// §5.8.3 ("at most 1023 bytes"); CTAP2 authenticators use 16 to 128.
inline constexpr size_t kMaxCredentialIdBytes = 1023;
// Most certificates taken in a packed attestation's x5c.
inline constexpr size_t kMaxAttestationCertificates = 8;
// Bytes in a challenge from NewChallenge; §13.4.3 asks for at least 16, and challenges
// shorter than kMinChallengeBytes are refused as a caller's mistake.
inline constexpr size_t kChallengeBytes = 32;
inline constexpr size_t kMinChallengeBytes = 16;

// The relying party: parsed once from configuration, shared by all requests.
struct RelyingParty {
  std::string id;  // the RP ID: a registrable domain, "idp.example.tw" or "localhost"
  // The exact origins the pages are served from ("https://idp.example.tw",
  // "http://localhost:4600"), compared byte for byte with clientData.origin.
  std::vector<std::string> origins;
};

// kInvalidArgument when the id is empty, not lower case or longer than 253 bytes, or
// when there is no origin, or an origin is not "https://host[:port]" (or
// "http://localhost[:port]") with a host that is the id or a subdomain of it (§5.1.4.1
// would make browsers refuse such an origin anyway). The Verify functions call it too.
Status ValidateRelyingParty(const RelyingParty& rp);

// A new challenge: kChallengeBytes random bytes. The caller keeps it with the session,
// sends base64url(challenge) to the page, and passes it to one Verify call only.
std::string NewChallenge();

// What the page sends after navigator.credentials.create(), base64url-encoded.
struct RegistrationResponse {
  std::string client_data_json;    // response.clientDataJSON
  std::string attestation_object;  // response.attestationObject
};

// How much the attestation proves about the authenticator's make (§6.5.3).
enum class AttestationType {
  kNone,   // fmt "none": nothing
  kSelf,   // "packed" signed with the credential key itself: nothing beyond the key
  kBasic,  // "packed" with x5c: signed by an attestation certificate, not yet trusted
};
// "none", "self", "basic".
std::string_view AttestationTypeName(AttestationType type);

// A verified new credential, for the caller to store.
struct Credential {
  std::string id;              // raw credential id bytes, from the authenticator data
  std::string public_key_der;  // SubjectPublicKeyInfo DER
  std::string algorithm;       // "ES256" or "RS256"
  uint32_t sign_count = 0;
  std::string aaguid;              // 16 raw bytes; all zero when the browser hides the make
  std::string attestation_format;  // "none" or "packed"
  AttestationType attestation_type = AttestationType::kNone;
  // kBasic only: the x5c certificates as DER, the attestation certificate first. Whether
  // to trust them (chain to a FIDO Metadata Service root, an allowed AAGUID) is policy,
  // left to the caller; VerifyRegistration only checks that the leaf signed this
  // registration and meets §8.2.1 (version 3, not a CA, its AAGUID extension if any).
  std::vector<std::string> attestation_certificates;
  bool user_verified = false;    // UV: PIN or biometric checked by the authenticator
  bool backup_eligible = false;  // BE: a multi-device (synced) credential
  bool backed_up = false;        // BS: currently backed up
};

// Verifies a registration (§7.1): clientData type "webauthn.create", the challenge
// (compared in constant time), an origin of `rp` and no crossOrigin; the attestation
// object's authenticator data for SHA-256(rp.id), user presence, user verification
// when `require_user_verification`, and an attested credential (id of at most
// kMaxCredentialIdBytes, ES256 or RS256 key); then the attestation statement.
// `expected_challenge` is the raw challenge issued for this ceremony. Errors as at the
// top of this file; a malformed `rp` or a challenge shorter than kMinChallengeBytes is
// kInvalidArgument.
Result<Credential> VerifyRegistration(const RelyingParty& rp, const RegistrationResponse& response,
                                      std::string_view expected_challenge,
                                      bool require_user_verification);

// What the page sends after navigator.credentials.get(), base64url-encoded. The caller
// has already found the stored credential by the response's rawId and checked that it
// is allowed for this sign-in and that userHandle, if sent, is its user (§7.2 steps 5
// and 6).
struct AssertionResponse {
  std::string client_data_json;    // response.clientDataJSON
  std::string authenticator_data;  // response.authenticatorData
  std::string signature;           // response.signature
};

// The parts of a stored Credential that an assertion needs.
struct StoredCredential {
  std::string public_key_der;  // Credential::public_key_der
  std::string algorithm;       // Credential::algorithm
  uint32_t sign_count = 0;     // the last counter seen (Credential or Assertion)
};

// A verified sign-in. The caller stores sign_count back with the credential.
struct Assertion {
  uint32_t sign_count = 0;
  bool user_verified = false;
  bool backup_eligible = false;
  bool backed_up = false;
};

// Verifies an assertion (§7.2): clientData type "webauthn.get", challenge, origin and
// crossOrigin as VerifyRegistration; authenticator data for SHA-256(rp.id), user
// presence, user verification when required; the signature over authenticatorData ‖
// SHA-256(clientDataJSON) with the stored key (ES256 signatures are DER, as
// authenticators make them). Then the counter (§6.1.1): when the stored or the new
// one is non-zero, the new one must be greater, else kFailedPrecondition (see the top
// of this file); authenticators that keep no counter send zero every time, and that
// is accepted. kDataLoss when `stored` holds no valid key for its algorithm.
Result<Assertion> VerifyAssertion(const RelyingParty& rp, const AssertionResponse& response,
                                  std::string_view expected_challenge,
                                  bool require_user_verification, const StoredCredential& stored);

}  // namespace troad::identity::webauthn
