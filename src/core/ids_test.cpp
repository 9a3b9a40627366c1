#include "core/ids.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

TEST(ClientIdTest, ParsesMemberAndSubsystem) {
  auto member = ClientId::Parse("TW/GOV/MOI");
  ASSERT_TRUE(member) << member.error().ToString();
  EXPECT_FALSE(member->is_subsystem());
  EXPECT_EQ(member->ToString(), "TW/GOV/MOI");

  auto sub = ClientId::Parse("TW/GOV/MOI/household");
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->subsystem, "household");
  EXPECT_EQ(sub->Member(), *member);
}

TEST(ClientIdTest, AcceptsTraditionalChineseParts) {
  auto id = ClientId::Parse("TW/GOV/內政部/戶政");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->member_code, "內政部");
}

TEST(ClientIdTest, RefusesWrongShapes) {
  for (const char* bad : {"", "TW", "TW/GOV", "TW/GOV/MOI/a/b", "TW//MOI", "TW/GOV/MOI/"}) {
    auto id = ClientId::Parse(bad);
    EXPECT_FALSE(id) << bad;
    if (!id) {
      EXPECT_EQ(id.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(ClientIdTest, RefusesForbiddenCharacters) {
  for (std::string bad : std::initializer_list<std::string>{
           "TW/GOV/M:OI", "TW/GOV/M;OI", "TW/GOV/M%OI", "TW/GOV/M\\OI",
           std::string("TW/GOV/M\x01OI"), std::string("TW/GOV/M\xff")}) {
    auto id = ClientId::Parse(bad);
    EXPECT_FALSE(id) << bad;
  }
  auto id = ClientId::Parse("TW/GOV/M;OI");
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message().find("forbidden character ';'"), std::string::npos)
      << id.error().message();
}

TEST(ClientIdTest, RefusesOverlongPart) {
  std::string code(kMaxIdPartLength + 1, 'a');
  EXPECT_FALSE(ClientId::Parse("TW/GOV/" + code));
  EXPECT_TRUE(ClientId::Parse("TW/GOV/" + std::string(kMaxIdPartLength, 'a')));
}

TEST(ServiceIdTest, ParsesAndPrints) {
  auto id = ServiceId::Parse("TW/GOV/MOI/household/getRecord");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->provider.ToString(), "TW/GOV/MOI/household");
  EXPECT_EQ(id->service_code, "getRecord");
  EXPECT_EQ(id->ToString(), "TW/GOV/MOI/household/getRecord");
  EXPECT_FALSE(ServiceId::Parse("TW/GOV/MOI/household"));
  EXPECT_FALSE(ServiceId::Parse("TW/GOV/MOI//getRecord"));
}

TEST(GatewayIdTest, ParsesAndPrints) {
  auto id = GatewayId::Parse("TW/GOV/MOI/gw1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->owner.ToString(), "TW/GOV/MOI");
  EXPECT_EQ(id->code, "gw1");
  EXPECT_FALSE(GatewayId::Parse("TW/GOV/MOI"));
}

}  // namespace
}  // namespace troad
