#include "core/json.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

TEST(JsonTest, ReadsNestedValuesAndNamesThePathOfAnError) {
  auto doc = ParseJson(R"({"a":{"b":[{"c":"x"},{"c":5}]},"n":7})", "doc");
  ASSERT_TRUE(doc);
  JsonErrors errors;
  JsonView root(&*doc, "", &errors);
  EXPECT_EQ(root.Int("n", true, 0, 0, 10), 7);
  auto items = root.Object("a").Array("b");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].String("c"), "x");
  items[1].String("c");
  auto st = errors.ToStatus("doc");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "doc: a.b[1].c: expected a string");
}

TEST(JsonTest, ReportsMissingAndOutOfRange) {
  auto doc = ParseJson(R"({"n":70000})", "doc");
  ASSERT_TRUE(doc);
  JsonErrors errors;
  JsonView root(&*doc, "", &errors);
  root.Int("n", true, 0, 1, 65535);
  EXPECT_FALSE(errors.ok());
  JsonErrors errors2;
  JsonView root2(&*doc, "", &errors2);
  root2.String("missing");
  EXPECT_EQ(errors2.ToStatus("x").error().message(), "x: missing: is required");
}

TEST(JsonTest, RefusesMalformedAndTooDeep) {
  EXPECT_FALSE(ParseJson("{", "doc"));
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']'), "doc", 64));
  EXPECT_TRUE(ParseJson(std::string(10, '[') + std::string(10, ']'), "doc", 64));
}

TEST(JsonTest, MalformedSaysWhereAndWhy) {
  auto r = ParseJson("{\"a\": 1,\n \"b\": }", "request body");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message();
  EXPECT_EQ(m.rfind("request body: malformed JSON: ", 0), 0u) << m;
  EXPECT_NE(m.find("line 2, column 7"), std::string::npos) << m;
  EXPECT_EQ(m.find("[json.exception"), std::string::npos) << m;
}

}  // namespace
}  // namespace troad
