// The identity centre's database schema, as numbered migrations (store/migrate.h).
// Documented table by table in docs/identity.md ("Database"). Portable SQL only (the
// same scripts will run on PostgreSQL); times are Unix milliseconds (INTEGER); secrets
// that only need comparing (client secrets, session and token cookies, codes) are
// stored as SHA-256 hex, never as they are given out.
// Thread-safety: constants.
#pragma once

#include <span>

#include "store/migrate.h"

namespace troad::identity {

std::span<const store::Migration> IdentityMigrations();

}  // namespace troad::identity
