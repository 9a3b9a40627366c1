#include "identity/clients.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/client_assertion.h"
#include "crypto/hash.h"
#include "crypto/jose.h"
#include "crypto/random.h"
#include "store/client_assertions.h"

namespace troad::identity {
namespace {

constexpr size_t kMaxRedirectUris = 20;
constexpr int64_t kMaxAssertionLifetimeS = 300;
constexpr std::string_view kJwtBearer = crypto::kJwtBearerAssertionType;
constexpr std::string_view kColumns =
    "id, name, redirect_uris, auth_method, jwks, subject_type, national_id_allowed, enabled, "
    "created_at";

Status ValidateClientId(std::string_view id) {
  if (id.size() < 3 || id.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "client id must be 3 to 64 characters");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Fail(ErrorCode::kInvalidArgument,
                  "client id may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return Ok();
}

Result<Client> ClientFromRow(const store::Row& row) {
  Client c;
  TROAD_ASSIGN_OR_RETURN(c.id, row.Text(0));
  TROAD_ASSIGN_OR_RETURN(c.name, row.Text(1));
  TROAD_ASSIGN_OR_RETURN(std::string uris, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(std::string method, row.Text(3));
  TROAD_ASSIGN_OR_RETURN(std::string jwks, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(std::string subject, row.Text(5));
  TROAD_ASSIGN_OR_RETURN(int64_t national, row.Int(6));
  TROAD_ASSIGN_OR_RETURN(int64_t enabled, row.Int(7));
  TROAD_ASSIGN_OR_RETURN(c.created_at, row.Int(8));
  auto parsed_uris = ParseJson(uris, "clients.redirect_uris");
  if (!parsed_uris || !parsed_uris->is_array()) {
    return Fail(ErrorCode::kDataLoss, "client {}: redirect_uris is not a JSON array", c.id);
  }
  for (const auto& u : *parsed_uris) {
    if (!u.is_string()) return Fail(ErrorCode::kDataLoss, "client {}: redirect_uris", c.id);
    c.redirect_uris.push_back(u.get<std::string>());
  }
  auto parsed_jwks = ParseJson(jwks, "clients.jwks");
  if (!parsed_jwks) return Fail(ErrorCode::kDataLoss, "client {}: jwks is not JSON", c.id);
  c.jwks = std::move(*parsed_jwks);
  c.auth_method = method == "private_key_jwt" ? ClientAuthMethod::kPrivateKeyJwt
                                              : ClientAuthMethod::kClientSecretBasic;
  c.pairwise = subject == "pairwise";
  c.national_id_allowed = national != 0;
  c.enabled = enabled != 0;
  return c;
}

// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
Result<std::string> FormDecode(std::string_view text) {
  std::string plus(text);
  for (char& c : plus) {
    if (c == '+') c = ' ';
  }
  return PercentDecode(plus);
}

}  // namespace

std::string_view ClientAuthMethodName(ClientAuthMethod method) {
  return method == ClientAuthMethod::kPrivateKeyJwt ? "private_key_jwt" : "client_secret_basic";
}

nlohmann::json ClientToJson(const Client& client) {
  return {{"id", client.id},
          {"name", client.name},
          {"redirect_uris", client.redirect_uris},
          {"token_endpoint_auth_method", ClientAuthMethodName(client.auth_method)},
          {"jwks", client.jwks},
          {"subject_type", client.pairwise ? "pairwise" : "public"},
          {"national_id_allowed", client.national_id_allowed},
          {"enabled", client.enabled},
          {"created_at", FormatRfc3339(FromUnixMillis(client.created_at))}};
}

Result<NewClient> ClientFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Fail(ErrorCode::kInvalidArgument, "client: expected an object");
  JsonErrors errors;
  JsonView in(&json, "", &errors);
  NewClient c;
  c.id = in.String("id", true, 64);
  c.name = in.String("name", true, 200);
  c.redirect_uris = in.StringArray("redirect_uris", true);
  std::string method = in.String("token_endpoint_auth_method", false, 40);
  if (method == "private_key_jwt") {
    c.auth_method = ClientAuthMethod::kPrivateKeyJwt;
  } else if (method.empty() || method == "client_secret_basic") {
    c.auth_method = ClientAuthMethod::kClientSecretBasic;
  } else {
    in.Error("token_endpoint_auth_method", "must be client_secret_basic or private_key_jwt");
  }
  if (auto it = json.find("jwks"); it != json.end()) c.jwks = *it;
  std::string subject = in.String("subject_type", false, 20);
  if (subject == "public") {
    c.pairwise = false;
  } else if (!subject.empty() && subject != "pairwise") {
    in.Error("subject_type", "must be pairwise or public");
  }
  c.national_id_allowed = in.Bool("national_id_allowed", false);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("client"));
  return c;
}

Result<std::string> ClientRegistry::Add(const NewClient& c) {
  TROAD_RETURN_IF_ERROR(ValidateClientId(c.id));
  TROAD_RETURN_IF_ERROR(CheckText("client name", c.name, 200, true, false));
  if (c.redirect_uris.empty() || c.redirect_uris.size() > kMaxRedirectUris) {
    return Fail(ErrorCode::kInvalidArgument, "a client needs 1 to {} redirect URIs",
                kMaxRedirectUris);
  }
  for (const auto& uri : c.redirect_uris) TROAD_RETURN_IF_ERROR(ValidateRedirectUri(uri));
  std::string secret;
  std::string secret_hash;
  if (c.auth_method == ClientAuthMethod::kPrivateKeyJwt) {
    if (!c.jwks.is_object() || !c.jwks.contains("keys") || !c.jwks["keys"].is_array() ||
        c.jwks["keys"].empty() || c.jwks["keys"].size() > 10) {
      return Fail(ErrorCode::kInvalidArgument,
                  "private_key_jwt needs a JWKS {{\"keys\":[…]}} with 1 to 10 keys");
    }
    for (const auto& jwk : c.jwks["keys"]) {
      auto key = crypto::PublicKeyFromJwk(jwk);
      if (!key) return Fail(ErrorCode::kInvalidArgument, "jwks: {}", key.error().message());
    }
  } else {
    if (!c.jwks.empty() && !(c.jwks.is_object() && c.jwks.empty())) {
      return Fail(ErrorCode::kInvalidArgument, "a client_secret_basic client has no JWKS");
    }
    secret = crypto::NewSecretToken();
    secret_hash = crypto::Sha256Hex(secret);
  }
  int64_t now = clock_.NowMillis();
  auto existing = db_.Query("SELECT id FROM clients WHERE id = ?", {c.id});
  if (!existing) return Fail(existing.error());
  if (!existing->empty()) {
    return Fail(ErrorCode::kAlreadyExists, "client {} is already registered", c.id);
  }
  auto changed = db_.Execute(
      "INSERT INTO clients (id, name, redirect_uris, auth_method, secret_hash, jwks, "
      "subject_type, national_id_allowed, enabled, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
      {c.id, c.name, nlohmann::json(c.redirect_uris).dump(),
       std::string(ClientAuthMethodName(c.auth_method)), secret_hash,
       (c.auth_method == ClientAuthMethod::kPrivateKeyJwt ? c.jwks : nlohmann::json::object())
           .dump(),
       std::string(c.pairwise ? "pairwise" : "public"), int64_t{c.national_id_allowed}, now, now});
  if (!changed) return Fail(changed.error());
  return secret;
}

Result<Client> ClientRegistry::Get(std::string_view id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {} FROM clients WHERE id = ?", kColumns), {std::string(id)}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "no client \"{}\" is registered", EscapeForLog(id, 64));
  }
  return ClientFromRow(rows[0]);
}

Result<std::vector<Client>> ClientRegistry::List() {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query(fmt::format("SELECT {} FROM clients ORDER BY id", kColumns)));
  std::vector<Client> out;
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(Client c, ClientFromRow(row));
    out.push_back(std::move(c));
  }
  return out;
}

Status ClientRegistry::SetEnabled(std::string_view id, bool enabled) {
  TROAD_ASSIGN_OR_RETURN(int64_t n,
                         db_.Execute("UPDATE clients SET enabled = ?, updated_at = ? WHERE id = ?",
                                     {int64_t{enabled}, clock_.NowMillis(), std::string(id)}));
  if (n == 0) {
    return Fail(ErrorCode::kNotFound, "no client \"{}\" is registered", EscapeForLog(id, 64));
  }
  return Ok();
}

Result<std::string> ClientRegistry::RotateSecret(std::string_view id) {
  TROAD_ASSIGN_OR_RETURN(Client c, Get(id));
  if (c.auth_method != ClientAuthMethod::kClientSecretBasic) {
    return Fail(ErrorCode::kFailedPrecondition,
                "client {} authenticates with private_key_jwt and has no secret", c.id);
  }
  std::string secret = crypto::NewSecretToken();
  TROAD_RETURN_IF_ERROR(
      db_.Execute("UPDATE clients SET secret_hash = ?, updated_at = ? WHERE id = ?",
                  {crypto::Sha256Hex(secret), clock_.NowMillis(), c.id}));
  return secret;
}

Result<Client> ClientRegistry::Authenticate(std::string_view authorization,
                                            std::string_view form_client_id,
                                            std::string_view assertion_type,
                                            std::string_view assertion,
                                            std::string_view token_endpoint,
                                            std::string_view issuer) {
  bool basic = !authorization.empty();
  bool jwt = !assertion_type.empty() || !assertion.empty();
  if (basic && jwt) {
    return Fail(ErrorCode::kUnauthenticated,
                "the request uses two client authentication methods (RFC 6749 §2.3)");
  }
  if (jwt) {
    if (assertion_type != kJwtBearer) {
      return Fail(ErrorCode::kUnauthenticated, "client_assertion_type must be {}", kJwtBearer);
    }
    return AuthenticateAssertion(form_client_id, assertion, token_endpoint, issuer);
  }
  if (!basic) {
    return Fail(ErrorCode::kUnauthenticated,
                "no client authentication (Authorization: Basic or client_assertion)");
  }
  if (!authorization.starts_with("Basic ")) {
    return Fail(ErrorCode::kUnauthenticated, "the Authorization header is not Basic");
  }
  auto decoded = Base64Decode(authorization.substr(6));
  if (!decoded) return Fail(ErrorCode::kUnauthenticated, "the Basic credentials are not base64");
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return Fail(ErrorCode::kUnauthenticated, "the Basic credentials have no ':'");
  }
  auto id = FormDecode(std::string_view(*decoded).substr(0, colon));
  auto secret = FormDecode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) {
    return Fail(ErrorCode::kUnauthenticated, "the Basic credentials are not form-encoded");
  }
  if (!form_client_id.empty() && form_client_id != *id) {
    return Fail(ErrorCode::kUnauthenticated, "client_id differs from the Basic credentials");
  }
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {}, secret_hash FROM clients WHERE id = ?", kColumns), {*id}));
  // Hash either way, so an unknown client costs the same as a wrong secret.
  std::string given = crypto::Sha256Hex(*secret);
  if (rows.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "unknown client \"{}\"", EscapeForLog(*id, 64));
  }
  TROAD_ASSIGN_OR_RETURN(Client c, ClientFromRow(rows[0]));
  TROAD_ASSIGN_OR_RETURN(std::string stored, rows[0].Text(9));
  if (c.auth_method != ClientAuthMethod::kClientSecretBasic) {
    return Fail(ErrorCode::kUnauthenticated,
                "client {} is registered for private_key_jwt, not client_secret_basic", c.id);
  }
  if (stored.empty() || !crypto::ConstantTimeEqual(given, stored)) {
    return Fail(ErrorCode::kUnauthenticated, "wrong client secret for {}", c.id);
  }
  if (!c.enabled) return Fail(ErrorCode::kUnauthenticated, "client {} is disabled", c.id);
  return c;
}

Result<Client> ClientRegistry::AuthenticateAssertion(std::string_view form_client_id,
                                                     std::string_view assertion,
                                                     std::string_view token_endpoint,
                                                     std::string_view issuer) {
  TROAD_ASSIGN_OR_RETURN(auto parsed, crypto::ParseClientAssertion(assertion));
  if (!form_client_id.empty() && form_client_id != parsed.client_id) {
    return Fail(ErrorCode::kUnauthenticated, "client_id differs from the client_assertion's iss");
  }
  auto found = Get(parsed.client_id);
  if (!found) {
    return Fail(ErrorCode::kUnauthenticated, "unknown client \"{}\"",
                EscapeForLog(parsed.client_id, 64));
  }
  const Client& c = *found;
  if (c.auth_method != ClientAuthMethod::kPrivateKeyJwt) {
    return Fail(ErrorCode::kUnauthenticated,
                "client {} is registered for client_secret_basic, not private_key_jwt", c.id);
  }
  if (!c.enabled) return Fail(ErrorCode::kUnauthenticated, "client {} is disabled", c.id);
  // aud: the issuer or the token endpoint, alone or in an array.
  const std::string audiences[] = {std::string(issuer), std::string(token_endpoint)};
  TROAD_ASSIGN_OR_RETURN(auto verified, crypto::VerifyClientAssertion(parsed, c.jwks, audiences,
                                                                      clock_.NowMillis() / 1000,
                                                                      kMaxAssertionLifetimeS));
  TROAD_RETURN_IF_ERROR(
      store::AcceptJtiOnce(db_, c.id, verified.jti, verified.exp, clock_.NowMillis()));
  return c;
}

}  // namespace troad::identity
