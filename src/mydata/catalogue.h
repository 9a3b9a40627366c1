// The MyData catalogue: the datasets a person can have delivered (docs/mydata.md,
// "Roles and registries"). A dataset is one person's records as one data provider's
// T-Road service returns them: the household register's members, a labour-insurance
// history, a vehicle licence. The operator maintains the catalogue (management API,
// CLI); MyData reaches each dataset only through its own gateway, as
//   GET {gateway}/r1/{service}{path with {nationalId} filled in}
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "store/database.h"

namespace troad::mydata {

// The placeholder a dataset's path must hold exactly once.
inline constexpr std::string_view kNationalIdPlaceholder = "{nationalId}";

struct Dataset {
  // Lower-case letters, digits, '.', '-' and '_', 3 to 64 characters, starting with a
  // letter: "household.members".
  std::string id;
  std::string name_zh;  // shown to people: 1 to 400 bytes of UTF-8, no control characters
  std::string name_en;
  ServiceId service;  // the provider's T-Road service, "TW/GOV/MOI/household/registry"
  // Appended to the service: starts with '/', holds kNationalIdPlaceholder once, no
  // "." or ".." segments, no '#', at most 500 bytes. "/persons/{nationalId}".
  std::string path;
  std::string media_type = "application/json";  // what the provider answers with
  // The weakest sign-in its provider accepts: "urn:troad:loa:1" … "urn:troad:loa:3", or
  // "urn:troad:mfa" (two different methods) — the idp's acr values (docs/identity.md).
  std::string acr = "urn:troad:loa:1";
  // How long a package holding it may be kept for collection: 1 minute to 30 days.
  std::chrono::seconds retention{8 * 3600};
  bool enabled = true;
  int64_t created_at = 0;  // set by the catalogue
  int64_t updated_at = 0;
};

// kInvalidArgument naming the field and what is wrong with it.
Status ValidateDataset(const Dataset& dataset);

// {"id","name":{"zh-TW","en"},"service","path","media_type","acr","retention_s",
//  "enabled"} — the management API's shape, both ways.
nlohmann::json DatasetToJson(const Dataset& dataset);
// kInvalidArgument naming the member that is missing, of the wrong type or invalid.
Result<Dataset> DatasetFromJson(const nlohmann::json& json);

// The path to ask for one person's dataset: `national_id` (a capital letter and nine
// digits; kInvalidArgument otherwise) put in place of the placeholder.
Result<std::string> DatasetPathFor(const Dataset& dataset, std::string_view national_id);

class Catalogue {
 public:
  Catalogue(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kInvalidArgument (ValidateDataset); kAlreadyExists when the id is taken.
  Status Add(const Dataset& dataset);
  // Replaces everything but the id and created_at. kNotFound, kInvalidArgument.
  Status Update(const Dataset& dataset);
  Result<Dataset> Get(std::string_view id);
  // By id; disabled datasets only when asked for.
  Result<std::vector<Dataset>> List(bool include_disabled);
  // A disabled dataset cannot be asked for in new transactions. kNotFound.
  Status SetEnabled(std::string_view id, bool enabled);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace troad::mydata
