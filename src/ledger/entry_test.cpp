#include "ledger/entry.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "ledger/merkle.h"

namespace troad::ledger {
namespace {

std::string Sha512Base64(std::string_view what) {
  return Base64Encode(crypto::DigestView(crypto::Sha512(what)));
}

LedgerEntry Sample() {
  LedgerEntry e;
  e.gateway = "TW/GOV/00000002/gw1";
  e.seq = 7;
  e.side = "consumer";
  e.message_id = "TW-3f0c";
  e.request_id = "019a1b2c-3d4e-7f00-8123-456789abcdef";
  e.client = "TW/GOV/00000002/LI";
  e.service = "TW/GOV/00000001/HR/household";
  e.status = 200;
  e.fault = "";
  e.request_time_ms = 1767225600000;
  e.response_time_ms = 1767225600012;
  e.request_hash = Sha512Base64("request");
  e.response_hash = Sha512Base64("response");
  e.record = HexEncode(crypto::DigestView(LeafHash("troad-record/1\n{}")));
  return e;
}

std::string SampleBytes() {
  const LedgerEntry e = Sample();
  return "troad-ledger/1\n{\"gateway\":\"TW/GOV/00000002/gw1\",\"seq\":7,\"side\":\"consumer\","
         "\"message_id\":\"TW-3f0c\",\"request_id\":\"019a1b2c-3d4e-7f00-8123-456789abcdef\","
         "\"client\":\"TW/GOV/00000002/LI\",\"service\":\"TW/GOV/00000001/HR/household\","
         "\"status\":200,\"fault\":\"\",\"request_time_ms\":1767225600000,"
         "\"response_time_ms\":1767225600012,\"request_hash\":\"" +
         e.request_hash + "\",\"response_hash\":\"" + e.response_hash + "\",\"record\":\"" +
         e.record + "\"}";
}

// `bytes` with the first occurrence of `from` replaced by `to`.
std::string Replace(std::string bytes, std::string_view from, std::string_view to) {
  const size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  return bytes;
}

TEST(LedgerEntryTest, EncodesTheDocumentedBytes) {
  auto bytes = EncodeLedgerEntry(Sample());
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_EQ(*bytes, SampleBytes());
  auto parsed = ParseLedgerEntry(*bytes);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, Sample());
}

TEST(LedgerEntryTest, EscapedAndNonAsciiTextRoundTrips) {
  LedgerEntry e = Sample();
  e.message_id = "say \"hi\" \\ 戶政/é";
  e.fault = "Server.ServerProxy.AccessDenied";
  e.side = "provider";
  e.client = "";
  e.service = "";
  e.request_hash = "";
  e.status = 0;
  e.request_time_ms = 0;
  auto bytes = EncodeLedgerEntry(e);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_NE(bytes->find(R"("message_id":"say \"hi\" \\ 戶政/é")"), std::string::npos) << *bytes;
  auto parsed = ParseLedgerEntry(*bytes);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, e);
}

TEST(LedgerEntryTest, EncodeRefusesValuesThatAreNotAllowed) {
  struct Case {
    std::string name;
    std::function<void(LedgerEntry&)> change;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {"gateway of three parts", [](LedgerEntry& e) { e.gateway = "TW/GOV/00000002"; }, "gateway"},
      {"gateway with a bad part", [](LedgerEntry& e) { e.gateway = "TW/GOV/0:2/gw1"; }, "gateway"},
      {"seq 0", [](LedgerEntry& e) { e.seq = 0; }, "seq 0"},
      {"negative seq", [](LedgerEntry& e) { e.seq = -3; }, "seq -3"},
      {"side", [](LedgerEntry& e) { e.side = "both"; }, "side"},
      {"long message id", [](LedgerEntry& e) { e.message_id = std::string(256, 'x'); },
       "message_id is longer than 255"},
      {"empty request id", [](LedgerEntry& e) { e.request_id = ""; }, "request_id is required"},
      {"control character", [](LedgerEntry& e) { e.client = "a\tb"; }, "client contains a control"},
      {"delete character", [](LedgerEntry& e) { e.service = "a\x7f"; },
       "service contains a control"},
      {"invalid UTF-8", [](LedgerEntry& e) { e.fault = "\xff"; }, "fault is not valid UTF-8"},
      {"status above 999", [](LedgerEntry& e) { e.status = 1000; }, "status 1000"},
      {"negative status", [](LedgerEntry& e) { e.status = -1; }, "status -1"},
      {"negative request time", [](LedgerEntry& e) { e.request_time_ms = -1; }, "request_time_ms"},
      {"negative response time", [](LedgerEntry& e) { e.response_time_ms = -1; },
       "response_time_ms"},
      {"hash not base64", [](LedgerEntry& e) { e.request_hash = "not base64!"; }, "request_hash"},
      {"hash of 32 bytes",
       [](LedgerEntry& e) { e.response_hash = Base64Encode(std::string(32, 'a')); },
       "response_hash"},
      {"hash not canonical",
       [](LedgerEntry& e) {
         // 64 zero bytes end in "AA=="; the last 'A' carries four unused bits, and
         // setting one gives other text for the same bytes.
         e.request_hash = Base64Encode(std::string(64, '\0'));
         e.request_hash[85] = 'B';
       },
       "request_hash"},
      {"record upper case", [](LedgerEntry& e) { e.record = std::string(64, 'A'); }, "record"},
      {"record short", [](LedgerEntry& e) { e.record.pop_back(); }, "record"},
  };
  for (const Case& c : cases) {
    LedgerEntry e = Sample();
    c.change(e);
    auto bytes = EncodeLedgerEntry(e);
    ASSERT_FALSE(bytes) << c.name;
    EXPECT_EQ(bytes.error().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(bytes.error().message().find(c.expected), std::string::npos)
        << c.name << ": " << bytes.error().message();
  }
}

TEST(LedgerEntryTest, TheLargestValuesFitOrAreRefusedAsTooLong) {
  LedgerEntry e = Sample();
  e.message_id = e.request_id = e.client = e.service = e.fault = std::string(255, 'x');
  auto bytes = EncodeLedgerEntry(e);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_LE(bytes->size(), kMaxLedgerEntryBytes);
  EXPECT_EQ(*ParseLedgerEntry(*bytes), e);

  // Quotes are escaped: twice the bytes. With the longest gateway id of quotes the
  // entry passes 4 KiB.
  const std::string part(255, '"');
  e.gateway = part + "/" + part + "/" + part + "/" + part;
  e.message_id = e.request_id = e.client = e.service = e.fault = part;
  bytes = EncodeLedgerEntry(e);
  ASSERT_FALSE(bytes);
  EXPECT_NE(bytes.error().message().find("more than 4096"), std::string::npos)
      << bytes.error().message();
}

TEST(LedgerEntryTest, ParseAcceptsOnlyTheCanonicalForm) {
  const std::string good = SampleBytes();
  ASSERT_TRUE(ParseLedgerEntry(good));
  struct Case {
    std::string name;
    std::string bytes;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {"no prefix", good.substr(kLedgerEntryPrefix.size()), "troad-ledger/1"},
      {"CRLF prefix", Replace(good, "troad-ledger/1\n", "troad-ledger/1\r\n"), "troad-ledger/1"},
      {"other version", Replace(good, "troad-ledger/1", "troad-ledger/2"), "troad-ledger/1"},
      {"trailing newline", good + "\n", "differs at byte"},
      {"trailing bytes", good + "{}", "malformed JSON"},
      {"space after colon", Replace(good, "\"seq\":7", "\"seq\": 7"), "differs at byte"},
      {"keys out of order",
       Replace(good, "\"seq\":7,\"side\":\"consumer\"", "\"side\":\"consumer\",\"seq\":7"),
       "differs at byte"},
      {"escaped slash", Replace(good, "TW/GOV/00000002/gw1", "TW\\/GOV/00000002/gw1"),
       "differs at byte"},
      {"escaped letter", Replace(good, "TW-3f0c", "\\u0054W-3f0c"), "differs at byte"},
      {"number with fraction", Replace(good, "\"seq\":7", "\"seq\":7.0"),
       "seq: expected an integer"},
      {"number with exponent", Replace(good, "\"status\":200", "\"status\":2e2"),
       "status: expected an integer"},
      {"leading zero", Replace(good, "\"seq\":7", "\"seq\":07"), "malformed JSON"},
      {"negative zero", Replace(good, "\"status\":200", "\"status\":-0"), "differs at byte"},
      {"seq too large", Replace(good, "\"seq\":7", "\"seq\":9223372036854775808"), "seq"},
      {"seq zero", Replace(good, "\"seq\":7", "\"seq\":0"), "seq"},
      {"status out of range", Replace(good, "\"status\":200", "\"status\":1000"), "status"},
      {"string for a number", Replace(good, "\"seq\":7", "\"seq\":\"7\""),
       "seq: expected an integer"},
      {"null for a string", Replace(good, "\"fault\":\"\"", "\"fault\":null"),
       "fault: expected a string"},
      {"missing key", Replace(good, "\"fault\":\"\",", ""), "has no key \"fault\""},
      {"unknown key", Replace(good, "\"fault\":\"\",", "\"fault\":\"\",\"user_id\":\"u\","),
       "unknown key \"user_id\""},
      {"repeated key", Replace(good, "\"fault\":\"\",", "\"fault\":\"x\",\"fault\":\"\","),
       "differs at byte"},
      {"nested value", Replace(good, "\"fault\":\"\"", "\"fault\":{}"), "nested deeper"},
      {"array", std::string(kLedgerEntryPrefix) + "[]", "not a JSON object"},
      {"escaped control character", Replace(good, "TW-3f0c", "TW\\u0001"),
       "message_id contains a control character"},
      {"raw newline in a string", Replace(good, "TW-3f0c", "TW\n"), "malformed JSON"},
      {"invalid UTF-8", Replace(good, "TW-3f0c", "TW\xff"), "malformed JSON"},
      {"lone surrogate", Replace(good, "TW-3f0c", "TW\\ud800"), "malformed JSON"},
      {"upper-case record", Replace(good, Sample().record, std::string(64, 'A')), "record"},
      {"too long", good + std::string(kMaxLedgerEntryBytes, ' '), "more than 4096"},
      {"empty", "", "troad-ledger/1"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseLedgerEntry(c.bytes);
    ASSERT_FALSE(parsed) << c.name;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(parsed.error().message().find(c.expected), std::string::npos)
        << c.name << ": " << parsed.error().message();
  }
}

TEST(LedgerEntryTest, LedgerTextMakesAnyValueAllowed) {
  EXPECT_EQ(LedgerText("TW-3f0c 戶政"), "TW-3f0c 戶政");
  EXPECT_EQ(LedgerText(""), "");
  EXPECT_EQ(LedgerText("a\tb\x7f"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(LedgerText("a\xff"), "a\xEF\xBF\xBD");
  EXPECT_EQ(LedgerText(std::string(1024, 'x')), std::string(255, 'x'));
  // 254 bytes and a three-byte character: the character does not fit and is left out
  // whole, and so is everything after it.
  EXPECT_EQ(LedgerText(std::string(254, 'x') + "戶x"), std::string(254, 'x'));

  for (const std::string& value : {std::string(1024, '\xff'), std::string(300, '\n'),
                                   std::string(100, 'x') + "\x80\x80", std::string("\xE6\x88")}) {
    LedgerEntry e = Sample();
    e.message_id = LedgerText(value);
    e.client = LedgerText(value);
    auto bytes = EncodeLedgerEntry(e);
    ASSERT_TRUE(bytes) << bytes.error().ToString();
    EXPECT_EQ(*ParseLedgerEntry(*bytes), e);
  }
}

TEST(LedgerEntryTest, TheLeafHashIsOverTheWholeEntry) {
  const std::string bytes = SampleBytes();
  EXPECT_EQ(LeafHash(bytes), crypto::Sha256(std::string(1, '\0') + bytes));
}

}  // namespace
}  // namespace troad::ledger
