#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/encoding.h"

namespace troad {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriterTest, WritesNestedDocumentsWithoutWhitespace) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Member("v", 1)
      .Member("type", "request")
      .Member("big", uint64_t{18446744073709551615u})
      .Member("neg", int64_t{-9223372036854775807 - 1})
      .Key("headers")
      .BeginArray();
  w.BeginArray().String("accept").String("application/json").EndArray();
  w.BeginArray().String("x").String("").EndArray();
  w.EndArray().Key("empty").BeginObject().EndObject().Key("none").BeginArray().EndArray();
  w.EndObject();
  EXPECT_EQ(out,
            R"({"v":1,"type":"request","big":18446744073709551615,)"
            R"("neg":-9223372036854775808,"headers":[["accept","application/json"],["x",""]],)"
            R"("empty":{},"none":[]})");
  auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["headers"][0][1], "application/json");
  EXPECT_EQ(parsed["big"].get<uint64_t>(), 18446744073709551615u);
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Quote(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(Quote("/"), R"("/")");  // '/' needs no escape
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesEachInvalidByte) {
  EXPECT_EQ(Quote("內政部 案件"), "\"內政部 案件\"");
  EXPECT_EQ(Quote("😀"), "\"😀\"");
  EXPECT_EQ(Quote("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");
  EXPECT_EQ(Quote("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");  // overlong: two bytes, two
  EXPECT_EQ(Quote("\xe5\x85"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");  // truncated sequence
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // surrogate
}

// Whatever bytes go in, what comes out parses, and valid text comes back unchanged.
TEST(JsonWriterTest, RandomStringsRoundTripThroughAStrictParser) {
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 5000; ++i) {
    std::string s(static_cast<size_t>(len(rng)), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    std::string out;
    JsonWriter(out).BeginObject().Member(s, s).EndObject();
    auto parsed = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(parsed.is_discarded()) << HexEncode(s);
    ASSERT_EQ(parsed.size(), 1u);
    const std::string& value = parsed.begin().value().get_ref<const std::string&>();
    if (IsValidUtf8(s)) {
      EXPECT_EQ(value, s);
      EXPECT_EQ(parsed.begin().key(), s);
    } else {
      EXPECT_TRUE(IsValidUtf8(value));
      EXPECT_NE(value.find("\xef\xbf\xbd"), std::string::npos);
    }
  }
}

}  // namespace
// The eight-bytes-at-a-time scan must find a character that needs escaping wherever
// it sits: every special byte at every offset of strings of several lengths comes out
// as nlohmann's serializer writes it (the same escapes for these bytes).
TEST(JsonWriterTest, EscapesASpecialByteAtAnyOffset) {
  const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\x01'), std::string(1, '\x1f'),
                                  "\x7f", "\xc3\xa9", "\xe4\xb8\xad"};
  for (size_t len : {1u, 7u, 8u, 9u, 16u, 23u, 40u}) {
    for (const std::string& special : specials) {
      for (size_t at = 0; at < len; ++at) {
        std::string text(len, 'a');
        text.replace(at, 1, special);
        std::string out;
        AppendJsonString(out, text);
        EXPECT_EQ(out, nlohmann::json(text).dump()) << "length " << len << " at " << at;
      }
    }
  }
  std::string out;
  AppendJsonString(out, "plain ascii text, thirty-two ch");
  EXPECT_EQ(out, "\"plain ascii text, thirty-two ch\"");
}

}  // namespace troad
