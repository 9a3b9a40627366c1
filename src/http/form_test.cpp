#include "http/form.h"

#include <gtest/gtest.h>

namespace troad::http {
namespace {

TEST(FormTest, DecodesPlusAndPercentEscapes) {
  auto form = ParseForm("a=1&b=x+y%21&empty=&flag&&c=%E6%B8%AC");
  ASSERT_TRUE(form) << form.error().ToString();
  EXPECT_EQ(form->Value("a"), "1");
  EXPECT_EQ(form->Value("b"), "x y!");
  EXPECT_TRUE(form->Has("empty"));
  EXPECT_EQ(form->Value("flag"), "");
  EXPECT_EQ(form->Value("c"), "測");
  EXPECT_FALSE(form->Get("missing"));
  EXPECT_EQ(form->size(), 5u);
}

TEST(FormTest, RefusesWhatWouldHideAnAttack) {
  auto twice = ParseForm("redirect_uri=a&redirect_uri=b");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("more than once"), std::string::npos);
  EXPECT_FALSE(ParseForm("a=%zz"));
  EXPECT_FALSE(ParseForm("a=%00"));
  EXPECT_FALSE(ParseForm("a=%ff%fe"));  // not UTF-8
  EXPECT_FALSE(ParseForm("=value"));
  EXPECT_FALSE(ParseForm(std::string_view("a=\0b", 4)));  // raw NUL, not %00
  EXPECT_FALSE(ParseForm("a=line\nbreak"));
  std::string many;
  for (size_t i = 0; i <= kMaxFormFields; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(ParseForm(many));
}

TEST(FormTest, PairsRoundTrip) {
  std::string text =
      FormPair("redirect_uri", "http://localhost:3000/cb?x=1 2") + "&" + FormPair("名", "值&=");
  auto form = ParseForm(text);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->Value("redirect_uri"), "http://localhost:3000/cb?x=1 2");
  EXPECT_EQ(form->Value("名"), "值&=");
}

TEST(FormTest, TargetsSplitIntoPathAndQuery) {
  EXPECT_EQ(PathOf("/authorize?x=1"), "/authorize");
  EXPECT_EQ(QueryOf("/authorize?x=1"), "x=1");
  EXPECT_EQ(QueryOf("/authorize"), "");
}

TEST(FormTest, CookiesAreFoundByExactName) {
  EXPECT_EQ(CookieValue("a=1; troad_idp=tok; b=2", "troad_idp"), "tok");
  EXPECT_EQ(CookieValue("xtroad_idp=no; troad_idp=\"q\"", "troad_idp"), "q");
  EXPECT_FALSE(CookieValue("a=1", "troad_idp"));
  EXPECT_FALSE(CookieValue("", "a"));
}

TEST(FormTest, SetCookieCarriesTheSecurityAttributes) {
  auto c = SetCookie("s", "tok", {.secure = true, .max_age_s = 60});
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, "s=tok; Path=/; SameSite=Lax; Max-Age=60; Secure; HttpOnly");
  EXPECT_FALSE(SetCookie("s", "a;b", {}));
  EXPECT_FALSE(SetCookie("s", "v", {.same_site = "Sometimes"}));
}

TEST(FormTest, SpaceDelimitedParametersSplitIntoTheirItems) {
  EXPECT_EQ(SplitSpaces("openid  national_id "),
            (std::vector<std::string>{"openid", "national_id"}));
  EXPECT_TRUE(SplitSpaces("").empty());
  EXPECT_TRUE(SplitSpaces("   ").empty());
}

}  // namespace
}  // namespace troad::http
