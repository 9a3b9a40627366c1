#include "core/config.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

TEST(ConfigTest, ReadsTypedValuesWithDefaults) {
  auto doc = TomlDocument::Parse(R"(
[server]
address = "127.0.0.1"
port = 8080
tls = true
names = ["a", "b"]
[[item]]
id = "x"
[[item]]
id = "y"
)",
                                 "test.toml");
  ASSERT_TRUE(doc) << doc.error().ToString();
  auto server = (*doc)->Root().Section("server");
  EXPECT_EQ(server.String("address"), "127.0.0.1");
  EXPECT_EQ(server.Int("port", 0, 1, 65535), 8080);
  EXPECT_TRUE(server.Bool("tls", false));
  EXPECT_EQ(server.StringList("names"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(server.Int("missing", 7, 0, 10), 7);
  auto items = (*doc)->Root().SectionList("item");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].RequiredString("id"), "y");
  items[0].RequiredString("id");
  EXPECT_TRUE((*doc)->Finish());
}

TEST(ConfigTest, QuotedStringsReadBackUnchanged) {
  for (std::string value : {"plain", "", "a \"quoted\" word", "C:\\path\\to", "two\nlines",
                            "tab\there", "內政部戶政司", "it's"}) {
    std::string text = "k = " + TomlQuote(value) + "\n";
    auto doc = TomlDocument::Parse(text, "quoted.toml");
    ASSERT_TRUE(doc) << text << ": " << doc.error().ToString();
    EXPECT_EQ((*doc)->Root().String("k"), value) << text;
    EXPECT_TRUE((*doc)->Finish()) << text;
  }
}

TEST(ConfigTest, ReportsUnknownKeysByPath) {
  auto doc = TomlDocument::Parse("[server]\nprot = 1\n", "gw.toml");
  ASSERT_TRUE(doc);
  (*doc)->Root().Section("server").Int("port", 1, 1, 2);
  auto st = (*doc)->Finish();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("server.prot"), std::string::npos) << st.error().message();
}

TEST(ConfigTest, ReportsTypeAndRangeErrors) {
  auto doc = TomlDocument::Parse("port = 70000\nname = 3\n", "gw.toml");
  ASSERT_TRUE(doc);
  (*doc)->Root().Int("port", 1, 1, 65535);
  (*doc)->Root().String("name");
  auto st = (*doc)->Finish();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("gw.toml: port: 70000 is out of range"), std::string::npos)
      << st.error().message();
  EXPECT_NE(st.error().message().find("name: expected a string"), std::string::npos);
}

TEST(ConfigTest, ReportsSyntaxErrorWithLine) {
  auto doc = TomlDocument::Parse("a = \n", "bad.toml");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message().find("bad.toml:1:"), std::string::npos) << doc.error().message();
}

TEST(TomlDocumentTest, ResolvesFilesRelativeToTheConfigurationsFolder) {
  auto doc = TomlDocument::Parse("", "/etc/troad/gateway.toml");
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)->ResolvePath("keys/auth.key"), "/etc/troad/keys/auth.key");
  EXPECT_EQ((*doc)->ResolvePath("../shared/ca.crt"), "/etc/shared/ca.crt");
  EXPECT_EQ((*doc)->ResolvePath("/srv/a/../b.pem"), "/srv/b.pem");
  EXPECT_EQ((*doc)->ResolvePath(""), "");
}

}  // namespace
}  // namespace troad
