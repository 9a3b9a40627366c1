// Test-only: a fresh, migrated MyData database in a temporary directory, with a fake
// clock, for the unit tests of the registries and the API.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core/clock.h"
#include "crypto/test_util.h"
#include "mydata/schema.h"
#include "store/database.h"
#include "store/migrate.h"

namespace troad::mydata::testutil {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::OpenSqlite(dir_.File("mydata.db"));
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(*db_, MyDataMigrations(), clock_));
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{std::chrono::system_clock::from_time_t(1'790'000'000)};
  std::unique_ptr<store::Database> db_;
};

}  // namespace troad::mydata::testutil
