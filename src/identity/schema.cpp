#include "identity/schema.h"

namespace troad::identity {
namespace {

// People, the methods linked to them, and the relying parties (OpenID Connect clients).
constexpr std::string_view kAccountsSql = R"sql(
CREATE TABLE persons (
  id TEXT PRIMARY KEY,
  national_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  mobile TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE totp_credentials (
  person TEXT PRIMARY KEY REFERENCES persons(id),
  secret BLOB NOT NULL,
  last_used_step INTEGER NOT NULL,
  confirmed INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  person TEXT NOT NULL REFERENCES persons(id),
  public_key BLOB NOT NULL,
  algorithm TEXT NOT NULL,
  sign_count INTEGER NOT NULL,
  aaguid TEXT NOT NULL,
  attestation_format TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX passkeys_person ON passkeys (person);
CREATE TABLE citizen_certificates (
  issuer TEXT NOT NULL,
  card_id TEXT NOT NULL,
  person TEXT NOT NULL REFERENCES persons(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, card_id)
);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'private_key_jwt')),
  secret_hash TEXT NOT NULL,
  jwks TEXT NOT NULL,
  subject_type TEXT NOT NULL CHECK (subject_type IN ('public', 'pairwise')),
  national_id_allowed INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  private_key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('current', 'retired')),
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
)sql";

// Sign-in state: browser sessions, authorization requests in progress, one-time
// codes sent by SMS, authorization codes and access tokens, used client-assertion ids,
// failed attempts (rate limits) and the audit log.
constexpr std::string_view kSessionsSql = R"sql(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  csrf TEXT NOT NULL,
  person TEXT REFERENCES persons(id),
  claimed_national_id TEXT NOT NULL,
  methods TEXT NOT NULL,
  challenge TEXT NOT NULL,
  challenge_kind TEXT NOT NULL,
  challenge_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE auth_requests (
  id TEXT PRIMARY KEY,
  session TEXT NOT NULL,
  client TEXT NOT NULL,
  request TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE sms_codes (
  session TEXT PRIMARY KEY,
  person TEXT NOT NULL REFERENCES persons(id),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE codes (
  hash TEXT PRIMARY KEY,
  client TEXT NOT NULL REFERENCES clients(id),
  person TEXT NOT NULL REFERENCES persons(id),
  grant_data TEXT NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE access_tokens (
  hash TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  client TEXT NOT NULL REFERENCES clients(id),
  person TEXT NOT NULL REFERENCES persons(id),
  scope TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_code ON access_tokens (code);
CREATE TABLE client_assertions (
  client TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (client, jti)
);
CREATE TABLE failures (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX failures_key ON failures (scope, key, at);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  person TEXT NOT NULL,
  client TEXT NOT NULL,
  method TEXT NOT NULL,
  remote TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql";

constexpr store::Migration kMigrations[] = {
    {1, "create persons, methods, clients and signing keys", kAccountsSql},
    {2, "create sessions, codes, tokens, rate limits and the audit log", kSessionsSql},
};

}  // namespace

std::span<const store::Migration> IdentityMigrations() { return kMigrations; }

}  // namespace troad::identity
