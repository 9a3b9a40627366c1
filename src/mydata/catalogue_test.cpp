#include "mydata/catalogue.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"
#include "mydata/test_util.h"

namespace troad::mydata {
namespace {

Dataset Household() {
  Dataset d;
  d.id = "household.members";
  d.name_zh = "戶籍資料（戶內人口）";
  d.name_en = "Household register: members";
  d.service = ServiceId::Parse("TW/GOV/MOI/household/registry").value();
  d.path = "/persons/{nationalId}";
  d.acr = "urn:troad:loa:2";
  return d;
}

class CatalogueTest : public testutil::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    catalogue_ = std::make_unique<Catalogue>(*db_, clock_);
  }

  std::unique_ptr<Catalogue> catalogue_;
};

TEST_F(CatalogueTest, ADatasetIsKeptAsRegisteredAndListed) {
  ASSERT_TRUE(catalogue_->Add(Household()));
  auto got = catalogue_->Get("household.members");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->name_zh, "戶籍資料（戶內人口）");
  EXPECT_EQ(got->service.ToString(), "TW/GOV/MOI/household/registry");
  EXPECT_EQ(got->acr, "urn:troad:loa:2");
  EXPECT_EQ(got->retention, std::chrono::hours(8)) << "8 hours unless the operator says";
  EXPECT_EQ(got->created_at, clock_.NowMillis());
  auto again = catalogue_->Add(Household());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  Dataset insured = Household();
  insured.id = "nhi.card";
  insured.service = ServiceId::Parse("TW/GOV/NHIA/cards/insured").value();
  insured.path = "/insured/{nationalId}";
  ASSERT_TRUE(catalogue_->Add(insured));
  ASSERT_TRUE(catalogue_->SetEnabled("nhi.card", false));
  auto enabled = catalogue_->List(false);
  ASSERT_TRUE(enabled);
  ASSERT_EQ(enabled->size(), 1u);
  EXPECT_EQ((*enabled)[0].id, "household.members");
  EXPECT_EQ(catalogue_->List(true)->size(), 2u);
  EXPECT_EQ(catalogue_->SetEnabled("no.such", true).error().code(), ErrorCode::kNotFound);
}

TEST_F(CatalogueTest, AnUpdateChangesEverythingButTheId) {
  ASSERT_TRUE(catalogue_->Add(Household()));
  clock_.Advance(std::chrono::minutes(5));
  Dataset changed = Household();
  changed.acr = "urn:troad:mfa";
  changed.retention = std::chrono::hours(1);
  ASSERT_TRUE(catalogue_->Update(changed));
  auto got = catalogue_->Get("household.members").value();
  EXPECT_EQ(got.acr, "urn:troad:mfa");
  EXPECT_EQ(got.retention, std::chrono::hours(1));
  EXPECT_LT(got.created_at, got.updated_at);
  changed.id = "no.such";
  EXPECT_EQ(catalogue_->Update(changed).error().code(), ErrorCode::kNotFound);
}

TEST_F(CatalogueTest, BadRegistrationsAreRefusedNamingTheField) {
  struct Case {
    const char* what;
    void (*change)(Dataset&);
    const char* field;
  };
  const Case cases[] = {
      {"short id", [](Dataset& d) { d.id = "ab"; }, "id:"},
      {"capital id", [](Dataset& d) { d.id = "Household"; }, "id:"},
      {"empty name", [](Dataset& d) { d.name_en.clear(); }, "name en:"},
      {"control in name", [](Dataset& d) { d.name_zh = "戶籍\n資料"; }, "name zh-TW:"},
      {"no placeholder", [](Dataset& d) { d.path = "/persons"; }, "path:"},
      {"two placeholders", [](Dataset& d) { d.path = "/persons/{nationalId}/{nationalId}"; },
       "path:"},
      {"relative path", [](Dataset& d) { d.path = "persons/{nationalId}"; }, "path:"},
      {"dot-dot", [](Dataset& d) { d.path = "/a/../admin/{nationalId}"; }, "path:"},
      {"fragment", [](Dataset& d) { d.path = "/persons/{nationalId}#x"; }, "path:"},
      {"media type", [](Dataset& d) { d.media_type = "json"; }, "media_type:"},
      {"acr", [](Dataset& d) { d.acr = "urn:troad:loa:4"; }, "acr:"},
      {"retention", [](Dataset& d) { d.retention = std::chrono::days(31); }, "retention_s:"},
  };
  for (const auto& c : cases) {
    Dataset d = Household();
    c.change(d);
    auto st = catalogue_->Add(d);
    ASSERT_FALSE(st) << c.what;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_TRUE(st.error().message().starts_with(c.field))
        << c.what << ": " << st.error().message();
  }
  EXPECT_TRUE(catalogue_->List(true)->empty()) << "nothing refused was stored";
}

TEST_F(CatalogueTest, ARowChangedBehindItsBackIsNotActedOn) {
  ASSERT_TRUE(catalogue_->Add(Household()));
  ASSERT_TRUE(db_->Execute("UPDATE datasets SET path = '/persons/../../admin'"));
  auto got = catalogue_->Get("household.members");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(catalogue_->List(true));
}

TEST(DatasetJsonTest, TheManagementShapeGoesBothWays) {
  auto json = DatasetToJson(Household());
  EXPECT_EQ(json["name"]["en"], "Household register: members");
  EXPECT_EQ(json["retention_s"], 8 * 3600);
  auto back = DatasetFromJson(json);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(DatasetToJson(*back), json);

  json.erase("service");
  EXPECT_EQ(DatasetFromJson(json).error().message(), "service: required");
  json["service"] = "TW/GOV/MOI";
  EXPECT_TRUE(DatasetFromJson(json).error().message().starts_with("service:"));
  json["service"] = "TW/GOV/MOI/household/registry";
  json["retention_s"] = "8h";
  EXPECT_TRUE(DatasetFromJson(json).error().message().starts_with("retention_s:"));
  EXPECT_FALSE(DatasetFromJson(nlohmann::json::array()));
}

TEST(DatasetJsonTest, ThePathForAPersonTakesOnlyANationalId) {
  auto path = DatasetPathFor(Household(), "F131232289");
  ASSERT_TRUE(path) << path.error().ToString();
  EXPECT_EQ(*path, "/persons/F131232289");
  for (const char* bad :
       {"", "f131232289", "F13123228", "F1312322890", "F13123228/", "../x12345"}) {
    auto refused = DatasetPathFor(Household(), bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace troad::mydata
