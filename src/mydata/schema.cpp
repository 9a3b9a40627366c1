#include "mydata/schema.h"

#include "store/signing_keys.h"

namespace troad::mydata {
namespace {

// The catalogue: what a person can have delivered, and from which T-Road service.
constexpr std::string_view kCatalogueSql = R"sql(
CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  service TEXT NOT NULL,
  path TEXT NOT NULL,
  media_type TEXT NOT NULL,
  acr TEXT NOT NULL,
  retention_s INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql";

// Who may ask for what (mydata/service_providers.h); list members are JSON arrays.
// And the audit log: every management call and, later, every transaction step.
constexpr std::string_view kServiceProvidersSql = R"sql(
CREATE TABLE service_providers (
  id TEXT PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  datasets TEXT NOT NULL,
  modes TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  auth_method TEXT NOT NULL,
  jwks TEXT NOT NULL,
  cert_sha256 TEXT NOT NULL,
  notify_url TEXT NOT NULL,
  allowed_sources TEXT NOT NULL,
  purposes TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  actor TEXT NOT NULL,
  subject TEXT NOT NULL,
  remote TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql";

// Transactions (mydata/transactions.h) and the private_key_jwt assertions already used
// by service providers (each jti once, until it expires).
constexpr std::string_view kTransactionsSql = R"sql(
CREATE TABLE transactions (
  id TEXT PRIMARY KEY,
  ref_hash TEXT NOT NULL UNIQUE,
  mode TEXT NOT NULL,
  service_provider TEXT NOT NULL,
  datasets TEXT NOT NULL,
  purpose TEXT NOT NULL,
  return_uri TEXT NOT NULL,
  state TEXT NOT NULL,
  deadline_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX transactions_by_deadline ON transactions (state, deadline_at);
CREATE TABLE client_assertions (
  client TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (client, jti)
);
)sql";

constexpr store::Migration kMigrations[] = {
    {1, "create the dataset catalogue", kCatalogueSql},
    {2, "create service providers and the audit log", kServiceProvidersSql},
    // The keys consent records are signed with (store/signing_keys.h).
    {3, "create the consent signing keys", store::kSigningKeysTableSql},
    {4, "create transactions and used client assertions", kTransactionsSql},
};

}  // namespace

std::span<const store::Migration> MyDataMigrations() { return kMigrations; }

}  // namespace troad::mydata
