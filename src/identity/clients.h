// Relying parties: the services that send people here to sign in (OpenID Connect
// clients), registered by the operator (`troad idp client add` or the management API).
//
// A client authenticates at the token endpoint in exactly one way, chosen when it is
// registered:
//  - client_secret_basic (RFC 6749 §2.3.1): a 256-bit random secret made here and shown
//    once; only its SHA-256 is stored (a random secret needs no slow hash).
//  - private_key_jwt (OpenID Connect Core §9): a JWT the client signs with a key from
//    its registered JWKS; `aud` must be the issuer or the token endpoint, it lives at
//    most five minutes, and its `jti` is accepted once.
// Redirect URIs are matched exactly, byte for byte (no prefixes, no wildcards: RFC 9700
// §4.1.3); https, or http only to a loopback host.
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/net.h"  // ValidateRedirectUri
#include "core/result.h"
#include "store/database.h"

namespace troad::identity {

enum class ClientAuthMethod { kClientSecretBasic, kPrivateKeyJwt };
std::string_view ClientAuthMethodName(ClientAuthMethod method);

struct Client {
  std::string id;    // letters, digits, '-', '_', '.'; 3 to 64 characters
  std::string name;  // shown to people on the sign-in page
  std::vector<std::string> redirect_uris;
  ClientAuthMethod auth_method = ClientAuthMethod::kClientSecretBasic;
  nlohmann::json jwks = nlohmann::json::object();  // {"keys":[…]} for private_key_jwt
  // "pairwise": each client sees its own subject for a person (OpenID Connect Core §8.1),
  // so two services cannot link their users; "public": one subject everywhere.
  bool pairwise = true;
  // Whether the national id may be released (scope "national_id").
  bool national_id_allowed = false;
  bool enabled = true;
  int64_t created_at = 0;
};

// What a client registration asks for; validated by ClientRegistry::Add.
struct NewClient {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  ClientAuthMethod auth_method = ClientAuthMethod::kClientSecretBasic;
  nlohmann::json jwks = nlohmann::json::object();
  bool pairwise = true;
  bool national_id_allowed = false;
};

// The client's registration as JSON (never the secret).
nlohmann::json ClientToJson(const Client& client);

// Reads a registration from JSON (the management API's body):
// {"id","name","redirect_uris":[…],"token_endpoint_auth_method","jwks","subject_type",
//  "national_id_allowed"}. kInvalidArgument naming the member.
Result<NewClient> ClientFromJson(const nlohmann::json& json);

class ClientRegistry {
 public:
  ClientRegistry(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Registers a client. Returns the secret for client_secret_basic (empty for
  // private_key_jwt). kAlreadyExists when the id is taken; kInvalidArgument says what
  // is wrong with the registration.
  Result<std::string> Add(const NewClient& client);
  Result<Client> Get(std::string_view id);
  Result<std::vector<Client>> List();
  // Disabled clients can no longer start sign-ins or redeem codes.
  Status SetEnabled(std::string_view id, bool enabled);
  // A new secret for a client_secret_basic client; the old one stops working.
  Result<std::string> RotateSecret(std::string_view id);

  // Token-endpoint client authentication. `authorization` is the Authorization header
  // ("" when absent), `assertion_type` / `assertion` the client_assertion parameters,
  // `form_client_id` the client_id parameter, `token_endpoint` the URL the request was
  // sent to, `issuer` the provider's issuer. Exactly one method must be used, and it
  // must be the client's registered one. kUnauthenticated with the reason (for the
  // audit log and the invalid_client error), never distinguishing an unknown client
  // from a wrong secret in what it returns to the caller's caller.
  Result<Client> Authenticate(std::string_view authorization, std::string_view form_client_id,
                              std::string_view assertion_type, std::string_view assertion,
                              std::string_view token_endpoint, std::string_view issuer);

 private:
  Result<Client> AuthenticateAssertion(std::string_view form_client_id, std::string_view assertion,
                                       std::string_view token_endpoint, std::string_view issuer);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace troad::identity
