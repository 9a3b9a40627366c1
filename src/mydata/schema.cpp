#include "mydata/schema.h"

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

constexpr store::Migration kMigrations[] = {
    {1, "create the dataset catalogue", kCatalogueSql},
};

}  // namespace

std::span<const store::Migration> MyDataMigrations() { return kMigrations; }

}  // namespace troad::mydata
