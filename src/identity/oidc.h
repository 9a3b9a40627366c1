// OpenID Connect's decisions, as plain functions on values: which methods a sign-in
// used and what assurance they give (acr, amr), what an authorization request asks
// for and whether it is well-formed, PKCE, subjects, ID-token claims and the discovery
// document. provider.h applies them to HTTP.
//
// Assurance (documented for relying parties in docs/identity.md, "Assurance"):
//   method               level  amr (RFC 8176)
//   sms                  1      sms
//   dual_document        1      kba
//   totp                 2      otp
//   passkey              3      hwk, user (user verification)
//   citizen_certificate  3      sc, pin
// acr values: urn:troad:loa:1, urn:troad:loa:2, urn:troad:loa:3 (one method of at least
// that level) and urn:troad:mfa (two different methods, any levels). A relying party
// lists acceptable values in acr_values, best first; the sign-in is not finished until
// one is met (step-up adds a method to the same session), and the ID token's acr is
// the first value met.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/form.h"
#include "identity/clients.h"

namespace troad::identity {

enum class Method { kSms, kDualDocument, kTotp, kPasskey, kCitizenCertificate };
inline constexpr Method kAllMethods[] = {Method::kPasskey, Method::kCitizenCertificate,
                                         Method::kTotp, Method::kSms, Method::kDualDocument};

std::string_view MethodName(Method method);  // "sms", "passkey", …
std::optional<Method> MethodFromName(std::string_view name);
int MethodLevel(Method method);
std::vector<std::string> MethodAmr(Method method);

// A method someone completed, and when (Unix ms).
struct VerifiedMethod {
  Method method;
  int64_t at = 0;
};

inline constexpr std::string_view kAcrMfa = "urn:troad:mfa";
std::string AcrForLevel(int level);  // "urn:troad:loa:<level>"
// kInvalidArgument for an acr value this provider does not know.
Status ValidateAcr(std::string_view acr);
// Whether `methods` meet `acr`.
bool MeetsAcr(const std::vector<VerifiedMethod>& methods, std::string_view acr);
// The first of `wanted` that `methods` meet; with `wanted` empty, the best they meet
// (urn:troad:mfa for two methods, else the highest level). nullopt when none is met.
std::optional<std::string> AcrMet(const std::vector<VerifiedMethod>& methods,
                                  const std::vector<std::string>& wanted);
// The amr of `methods` (each value once, "mfa" added for two different methods).
std::vector<std::string> AmrOf(const std::vector<VerifiedMethod>& methods);

// An authorization request (OpenID Connect Core §3.1.2.1), as validated.
struct AuthorizationRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string scope;  // space-separated, contains "openid"
  std::string state;
  std::string nonce;
  std::string code_challenge;  // S256 only
  std::string prompt;          // "", "none", "login" or "consent"
  std::optional<int64_t> max_age_s;
  std::vector<std::string> acr_values;
  std::string ui_locales;

  nlohmann::json ToJson() const;
  static Result<AuthorizationRequest> FromJson(const nlohmann::json& json);
  bool HasScope(std::string_view scope) const;
};

// Why an authorization request is refused. When `redirect` is false the client or
// redirect URI could not be trusted and the refusal is shown to the person (never
// redirected: RFC 6749 §4.1.2.1); otherwise it goes back to the redirect URI as
// error=`error`&error_description=`description`&state.
struct AuthorizationError {
  bool redirect = false;
  std::string error;        // "invalid_request", "unsupported_response_type", …
  std::string description;  // for the person and the audit log
};

// Validates the request against `client` (which the caller looked up by client_id;
// nullopt when unknown). PKCE with S256 is required; "request" and "request_uri"
// objects, response modes other than query and response types other than "code" are
// refused.
tl::expected<AuthorizationRequest, AuthorizationError> ValidateAuthorizationRequest(
    const http::Form& query, const std::optional<Client>& client);

// The URL the browser goes back to: redirect_uri with code or error, state and iss
// (RFC 9207) appended as query parameters.
std::string RedirectWith(std::string_view redirect_uri,
                         const std::vector<std::pair<std::string, std::string>>& params);

// RFC 7636 §4.1 and §4.6: the verifier is 43 to 128 unreserved characters and
// BASE64URL(SHA256(verifier)) equals the challenge. kInvalidArgument (malformed) or
// kUnauthenticated (mismatch).
Status VerifyPkce(std::string_view verifier, std::string_view challenge);

// The subject a client sees for a person: the person's id for public clients; for
// pairwise clients BASE64URL(SHA-256(salt ‖ client id ‖ person id)) (Core §8.1, with
// the client id as the sector, since redirect URIs are per client here).
std::string SubjectFor(const Client& client, std::string_view person_id, std::string_view salt);

// The discovery document (OpenID Connect Discovery 1.0 §3) for `issuer`.
nlohmann::json DiscoveryDocument(std::string_view issuer);

}  // namespace troad::identity
