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

constexpr store::Migration kMigrations[] = {
    {1, "create the dataset catalogue", kCatalogueSql},
    {2, "create service providers and the audit log", kServiceProvidersSql},
    // The keys consent records are signed with (store/signing_keys.h).
    {3, "create the consent signing keys", store::kSigningKeysTableSql},
};

}  // namespace

std::span<const store::Migration> MyDataMigrations() { return kMigrations; }

}  // namespace troad::mydata
