#include "core/encoding.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {{"", ""},
                                                          {"f", "Zg=="},
                                                          {"fo", "Zm8="},
                                                          {"foo", "Zm9v"},
                                                          {"foob", "Zm9vYg=="},
                                                          {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(std::string_view(plain)), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RefusesMalformed) {
  EXPECT_FALSE(Base64Decode("Zg="));
  EXPECT_FALSE(Base64Decode("Z!=="));
  EXPECT_FALSE(Base64Decode("Zh=="));  // non-zero trailing bits
}

TEST(Base64UrlTest, RoundTripsWithoutPadding) {
  std::string data = "\xfb\xff\xfe";
  EXPECT_EQ(Base64UrlEncode(std::string_view(data)), "-__-");
  auto back = Base64UrlDecode("-__-");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(Base64UrlDecode("abcde"));
}

TEST(HexTest, RoundTrips) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\xab", 2)), "00ab");
  auto back = HexDecode("00AB");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, std::string("\x00\xab", 2));
  EXPECT_FALSE(HexDecode("0"));
  EXPECT_FALSE(HexDecode("zz"));
}

TEST(PercentDecodeTest, DecodesAndRefusesBadEscapes) {
  auto v = PercentDecode("a%2Fb%e5%85%a7");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "a/b\xe5\x85\xa7");
  EXPECT_FALSE(PercentDecode("a%2"));
  EXPECT_FALSE(PercentDecode("a%"));
  EXPECT_FALSE(PercentDecode("a%zz"));
  EXPECT_FALSE(PercentDecode("a%00"));
  EXPECT_TRUE(PercentDecode("a%00", /*forbid_nul=*/false));
  auto plus = PercentDecode("a+b");
  ASSERT_TRUE(plus);
  EXPECT_EQ(*plus, "a+b");
}

TEST(Utf8Test, ValidatesSequences) {
  EXPECT_TRUE(IsValidUtf8("內政部"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe5\x85"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(EscapeForLogTest, EscapesControlsAndQuotes) {
  EXPECT_EQ(EscapeForLog("a\nb\"c"), "a\\x0ab\\\"c");
  EXPECT_EQ(EscapeForLog("\xff"), "\\xff");
}

}  // namespace
}  // namespace troad
