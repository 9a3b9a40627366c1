// The central's database schema: every table, as numbered migrations (store/migrate.h).
// Documented column by column in docs/central.md ("Database"). Portable SQL only (the
// same scripts will run on PostgreSQL); times are Unix milliseconds (INTEGER).
// Thread-safety: constants.
#pragma once

#include <span>

#include "store/migrate.h"

namespace troad::central {

std::span<const store::Migration> CentralMigrations();

}  // namespace troad::central
