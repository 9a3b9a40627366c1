// MyData's database schema, as numbered migrations (store/migrate.h). Portable SQL
// only (the same scripts run on PostgreSQL); times are Unix milliseconds (INTEGER).
// docs/mydata.md describes the tables as they land.
// Thread-safety: constants.
#pragma once

#include <span>

#include "store/migrate.h"

namespace troad::mydata {

std::span<const store::Migration> MyDataMigrations();

}  // namespace troad::mydata
