// Schema migrations: an ordered list of numbered SQL scripts, each applied once, in
// its own transaction, recorded in the table `schema_migrations(version, name,
// applied_at)`. A database whose recorded versions are ahead of the program's list
// is refused (an older binary must not write to a newer schema).
// Thread-safety: none; run at start-up.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "store/database.h"

namespace troad::store {

struct Migration {
  int version;             // 1, 2, 3, … without gaps
  std::string_view name;   // "create message log"
  std::string_view sql;    // portable SQL, may contain several statements
};

Status Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock);

// Opens the SQLite database `file` (creating it and its folder), makes it readable and
// writable by its owner only — for databases that hold keys — and applies `migrations`.
Result<std::unique_ptr<Database>> OpenPrivateSqlite(const std::string& file,
                                                    std::span<const Migration> migrations,
                                                    const Clock& clock);

}  // namespace troad::store
