#include "core/encoding.h"

#include <gtest/gtest.h>

#include <cctype>

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

// Every length (all tail shapes), every byte value, both alphabets: decode(encode(x))
// is x; an invalid character is named by its offset, in a whole group or the tail.
TEST(Base64Test, RoundTripsEveryLengthAndNamesTheBadCharacter) {
  std::string data;
  for (int n = 0; n < 300; ++n) {
    SCOPED_TRACE(n);
    const std::string b64 = Base64Encode(std::string_view(data));
    EXPECT_EQ(b64.size(), (data.size() + 2) / 3 * 4);
    auto back = Base64Decode(b64);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, data);
    const std::string url = Base64UrlEncode(std::string_view(data));
    EXPECT_EQ(url.find('='), std::string::npos);
    auto url_back = Base64UrlDecode(url);
    ASSERT_TRUE(url_back) << url_back.error().message();
    EXPECT_EQ(*url_back, data);
    data += static_cast<char>((n * 167 + 13) & 0xff);
  }
  auto bad = Base64Decode("QUJDREVG!0dI");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "invalid base64 character at offset 8");
  auto bad_tail = Base64UrlDecode("QUJD.Q");
  ASSERT_FALSE(bad_tail);
  EXPECT_EQ(bad_tail.error().message(), "invalid base64 character at offset 4");
  EXPECT_FALSE(Base64UrlDecode("QUJDRB"));  // non-zero trailing bits in a 2-character tail
  EXPECT_FALSE(Base64UrlDecode("QUJDREF"));  // and in a 3-character one
  EXPECT_TRUE(Base64UrlDecode("QUJDRA"));
}

TEST(Base64UrlTest, RoundTripsWithoutPadding) {
  std::string data = "\xfb\xff\xfe";
  EXPECT_EQ(Base64UrlEncode(std::string_view(data)), "-__-");
  auto back = Base64UrlDecode("-__-");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(Base64UrlDecode("abcde"));
}

// RFC 4648 §10 test vectors, encoded without padding and decoded with and without it.
TEST(Base32Test, Rfc4648Vectors) {
  struct Vector {
    const char* plain;
    const char* encoded;
    const char* padded;
  };
  const Vector kVectors[] = {{"", "", ""},
                             {"f", "MY", "MY======"},
                             {"fo", "MZXQ", "MZXQ===="},
                             {"foo", "MZXW6", "MZXW6==="},
                             {"foob", "MZXW6YQ", "MZXW6YQ="},
                             {"fooba", "MZXW6YTB", "MZXW6YTB"},
                             {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"}};
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(v.plain);
    EXPECT_EQ(Base32Encode(v.plain), v.encoded);
    for (std::string text : {std::string(v.encoded), std::string(v.padded)}) {
      auto decoded = Base32Decode(text);
      ASSERT_TRUE(decoded) << decoded.error().message();
      EXPECT_EQ(*decoded, v.plain);
      for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto lower = Base32Decode(text);
      ASSERT_TRUE(lower) << lower.error().message();
      EXPECT_EQ(*lower, v.plain);
    }
  }
}

TEST(Base32Test, RoundTripsEveryLength) {
  std::string data;
  for (int n = 0; n < 100; ++n) {
    SCOPED_TRACE(n);
    const std::string b32 = Base32Encode(data);
    EXPECT_EQ(b32.size(), (data.size() * 8 + 4) / 5);
    auto back = Base32Decode(b32);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, data);
    data += static_cast<char>((n * 167 + 13) & 0xff);
  }
}

TEST(Base32Test, RefusesMalformedNamingCharacterAndOffset) {
  auto message = [](std::string_view text) {
    auto r = Base32Decode(text);
    return r ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(message("MZXW6YT1"), "invalid base32 character '1' at offset 7");
  EXPECT_EQ(message("MZXW 6YQ"), "invalid base32 character a space at offset 4");
  EXPECT_EQ(message("MZXW-6YQ"), "invalid base32 character '-' at offset 4");
  EXPECT_EQ(message("MZXW\n6YQ"), "invalid base32 character byte 0x0a at offset 4");
  EXPECT_EQ(message("MZ\xe5\x85\xa7"), "invalid base32 character byte 0xe5 at offset 2");
  EXPECT_EQ(message("MZ=XW6YQ"), "base32 padding '=' at offset 2 is not at the end");
  EXPECT_EQ(message("M"), "base32 length 1 is impossible (length mod 8 is 1)");
  EXPECT_FALSE(Base32Decode("MZX"));
  EXPECT_FALSE(Base32Decode("MZXW6Y"));
  EXPECT_EQ(message("MY="), "base32 padding is wrong: 1 '=' after 2 characters (expected 6)");
  EXPECT_FALSE(Base32Decode("========"));
  EXPECT_FALSE(Base32Decode("MZXW6YTB========"));
  EXPECT_EQ(message("MZ"), "base32 has non-zero trailing bits");  // 'f' would be "MY"
  EXPECT_FALSE(Base32Decode("MZXR"));
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

TEST(RepairUtf8Test, ReplacesEachBadByte) {
  EXPECT_EQ(RepairUtf8("ok"), "ok");
  EXPECT_EQ(RepairUtf8("\xC0\xAE"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '.'
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(RepairUtf8("\xE5\x85"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
  EXPECT_EQ(RepairUtf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");                  // U+1F600
}

TEST(Utf8SequenceAtTest, MeasuresEachSequence) {
  EXPECT_EQ(Utf8SequenceAt("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceAt("\xc2\xa9", 0), 2u);
  EXPECT_EQ(Utf8SequenceAt("內", 0), 3u);
  EXPECT_EQ(Utf8SequenceAt("😀", 0), 4u);
  EXPECT_EQ(Utf8SequenceAt("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF
  EXPECT_EQ(Utf8SequenceAt("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceAt("\xe0\x80\x80", 0), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceAt("\x80", 0), 0u);              // lone continuation
  EXPECT_EQ(Utf8SequenceAt("a\xe5\x85", 1), 0u);         // truncated at the end
}

TEST(EscapeForLogTest, EscapesControlsAndQuotes) {
  EXPECT_EQ(EscapeForLog("a\nb\"c"), "a\\x0ab\\\"c");
  EXPECT_EQ(EscapeForLog("\xff"), "\\xff");
}

TEST(CheckTextTest, SaysWhatIsWrongWithFreeText) {
  EXPECT_TRUE(CheckText("name", "內政部", 300, true, false));
  EXPECT_TRUE(CheckText("name", "", 300, false, false));
  auto message = [](const Status& st) { return st ? std::string() : st.error().message(); };
  EXPECT_EQ(message(CheckText("name", "", 300, true, false)), "name is required");
  EXPECT_EQ(message(CheckText("name", "abcd", 3, false, false)), "name is longer than 3 bytes");
  EXPECT_EQ(message(CheckText("name", "bad \xff", 300, false, false)), "name is not valid UTF-8");
  EXPECT_EQ(message(CheckText("name", "a\nb", 300, false, false)),
            "name contains a control character");
  EXPECT_TRUE(CheckText("reason", "line one\n\tline two", 300, false, true));
  EXPECT_FALSE(CheckText("reason", "bell \x07", 300, false, true));
  EXPECT_FALSE(CheckText("reason", "del \x7f", 300, false, true));
}

TEST(XmlEscapeTest, DropsCharactersXmlCannotCarry) {
  EXPECT_EQ(XmlEscape("a\tb\nc\rd"), "a\tb\nc&#13;d");
  EXPECT_EQ(XmlEscape(std::string("x\0y\x1f", 4)), "xy");
  EXPECT_EQ(XmlEscape("\xEF\xBF\xBF"), "");  // U+FFFF
  EXPECT_EQ(XmlEscape("'"), "&apos;");
  EXPECT_EQ(XmlEscape("\xE5\x85\xA7"), "\xE5\x85\xA7");
}

TEST(PercentEncodeTest, KeepsUnreservedAndEncodesEveryOtherByte) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b:c/d?e&f=g%"), "a%20b%3Ac%2Fd%3Fe%26f%3Dg%25");
  EXPECT_EQ(PercentEncode("\xE6\x88\xB6"), "%E6%88%B6");  // 戶
  auto back = PercentDecode(PercentEncode("x y/戶政"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "x y/戶政");
}

}  // namespace
}  // namespace troad
