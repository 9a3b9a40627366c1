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

// ParseJson's fast path (simdjson) must make exactly what nlohmann's parser makes —
// values and number types — and refuse exactly what it refuses.
TEST(JsonTest, ParsesLikeNlohmann) {
  const char* texts[] = {
      R"({"a":[1,-2,3.5e2,true,false,null,"x"],"b":{"c":""},"n":9223372036854775807})",
      R"({"a":1,"a":2})",                        // the last of a repeated key wins
      R"([18446744073709551615,18446744073709551616,-9223372036854775809])",  // beyond 64 bits
      R"(["\u00e9\ud83d\ude00","a\/b\n\t"])",   // escapes (\u goes to nlohmann)
      R"(  7  )", R"("just a string")", R"([])", R"({})", R"(0.1)", R"(1e-400)",
      "\"caf\xc3\xa9\"",
  };
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    auto ours = ParseJson(text, "doc");
    ASSERT_TRUE(ours) << ours.error().message();
    nlohmann::json theirs = nlohmann::json::parse(text);
    EXPECT_EQ(*ours, theirs);
    EXPECT_EQ(ours->dump(), theirs.dump());
  }
  auto doc = ParseJson(R"({"u":5,"i":-5,"f":5.0})", "doc");
  ASSERT_TRUE(doc);
  EXPECT_TRUE((*doc)["u"].is_number_unsigned());
  EXPECT_TRUE((*doc)["i"].is_number_integer() && !(*doc)["i"].is_number_unsigned());
  EXPECT_TRUE((*doc)["f"].is_number_float());

  for (const char* bad : {"[1,]", "01", "tru", "\"\xff\"", "\"\\ud800\"", "{\"a\" 1}", "", "1 2",
                          "1e400"}) {
    SCOPED_TRACE(bad);
    auto ours = ParseJson(bad, "doc");
    ASSERT_FALSE(ours);
    EXPECT_TRUE(nlohmann::json::parse(bad, nullptr, false).is_discarded());
    EXPECT_NE(ours.error().message().find("doc: malformed JSON"), std::string::npos);
  }
}

// A large document (past the size where a thread keeps its parser) parses the same.
TEST(JsonTest, ParsesLargeDocuments) {
  std::string text = R"({"entries":[)";
  for (int i = 0; i < 2000; ++i) text += (i ? ",\"" : "\"") + std::string(300, 'Q') + "\"";
  text += "]}";
  ASSERT_GT(text.size(), 256u * 1024);
  for (int round = 0; round < 2; ++round) {
    auto doc = ParseJson(text, "doc");
    ASSERT_TRUE(doc);
    ASSERT_EQ((*doc)["entries"].size(), 2000u);
    EXPECT_EQ((*doc)["entries"][1999], std::string(300, 'Q'));
  }
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
