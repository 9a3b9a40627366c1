#include "identity/dual_document.h"

#include <gtest/gtest.h>

namespace troad::identity {
namespace {

const nlohmann::json kHousehold = {
    {"national_id", "A123456789"}, {"name", "林志明"}, {"household_id", "H0000001"}};
const nlohmann::json kInsured = {
    {"national_id", "A123456789"}, {"card_number", "000012345678"}, {"card_status", "valid"}};

TEST(DualDocumentTest, MatchingNumbersGiveThePerson) {
  auto p = CompareRegistryRecords(kHousehold, kInsured, "A123456789", "000012345678", "H0000001");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->national_id, "A123456789");
  EXPECT_EQ(p->name, "林志明");
}

TEST(DualDocumentTest, EitherNumberWrongOrALostCardIsRefusedWithTheReason) {
  auto household =
      CompareRegistryRecords(kHousehold, kInsured, "A123456789", "000012345678", "H0000002");
  ASSERT_FALSE(household);
  EXPECT_EQ(household.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(household.error().message().find("household"), std::string::npos);
  auto card =
      CompareRegistryRecords(kHousehold, kInsured, "A123456789", "000012345679", "H0000001");
  ASSERT_FALSE(card);
  EXPECT_NE(card.error().message().find("health card number"), std::string::npos);
  nlohmann::json lost = kInsured;
  lost["card_status"] = "reported_lost";
  auto reported =
      CompareRegistryRecords(kHousehold, lost, "A123456789", "000012345678", "H0000001");
  ASSERT_FALSE(reported);
  EXPECT_NE(reported.error().message().find("reported_lost"), std::string::npos);
}

TEST(DualDocumentTest, MalformedAnswersAreDataLoss) {
  nlohmann::json bad = kInsured;
  bad.erase("card_number");
  auto r = CompareRegistryRecords(kHousehold, bad, "A123456789", "000012345678", "H0000001");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(CompareRegistryRecords(nlohmann::json::array(), kInsured, "A123456789", "000012345678",
                                   "H0000001")
                .error()
                .code(),
            ErrorCode::kDataLoss);
}

TEST(DualDocumentTest, NumbersAreValidated) {
  EXPECT_TRUE(ValidateHealthCardNumber("000012345678"));
  EXPECT_FALSE(ValidateHealthCardNumber("00001234567"));
  EXPECT_FALSE(ValidateHealthCardNumber("00001234567x"));
  EXPECT_TRUE(ValidateHouseholdNumber("H0000001"));
  EXPECT_FALSE(ValidateHouseholdNumber("h0000001"));
  EXPECT_FALSE(ValidateHouseholdNumber(""));
  EXPECT_FALSE(ValidateHouseholdNumber("H0000001/../x"));
}

TEST(DualDocumentTest, TheCheckerRefusesIncompleteOptions) {
  DualDocumentOptions o;
  o.gateway = "http://127.0.0.1:8083";
  o.client = "TW/GOV/MODA";  // a member, not a subsystem
  o.household_service = "TW/GOV/MOI/household/registry";
  o.nhi_service = "TW/GOV/NHIA/cards/insured";
  auto c = MakeTRoadDualDocumentChecker(o);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("[dual_document] client"), std::string::npos);
  o.client = "TW/GOV/MODA/idp";
  o.nhi_service = "not a service";
  c = MakeTRoadDualDocumentChecker(o);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("nhi_service"), std::string::npos);
  o.nhi_service = "TW/GOV/NHIA/cards/insured";
  EXPECT_TRUE(MakeTRoadDualDocumentChecker(o));
}

}  // namespace
}  // namespace troad::identity
