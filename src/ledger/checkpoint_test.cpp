#include "ledger/checkpoint.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace troad::ledger {
namespace {

constexpr std::string_view kOrigin = "ledger.troad.tw/v1";
// The root of the eight RFC 6962 test leaves (see proof_test.cpp).
constexpr std::string_view kRootBase64 = "XcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=";

Checkpoint Sample() {
  Checkpoint c;
  c.origin = std::string(kOrigin);
  c.size = 8;
  auto root = Base64Decode(kRootBase64);
  EXPECT_TRUE(root && root->size() == 32);
  std::copy(root->begin(), root->end(), c.root.begin());
  c.timestamp_ms = 1767225600000;
  return c;
}

const crypto::PrivateKey& LogKey() {
  static const crypto::PrivateKey key = *crypto::PrivateKey::GenerateEcP256();
  return key;
}

// A signature line that parses (its signature is not a real one).
std::string FakeSignatureLine(std::string_view name = kOrigin) {
  return "\xE2\x80\x94 " + std::string(name) + " " + Base64Encode(std::string(74, '\x30')) + "\n";
}

std::string Text(std::string_view origin, std::string_view size, std::string_view root,
                 std::string_view timestamp_line) {
  return std::string(origin) + "\n" + std::string(size) + "\n" + std::string(root) + "\n" +
         std::string(timestamp_line) + "\n";
}

std::string ValidText() { return Text(kOrigin, "8", kRootBase64, "timestamp 1767225600000"); }

TEST(CheckpointTest, TextIsTheDocumentedBytes) {
  auto text = CheckpointText(Sample());
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_EQ(*text,
            "ledger.troad.tw/v1\n"
            "8\n"
            "XcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n"
            "timestamp 1767225600000\n");
  auto parsed = ParseCheckpointText(*text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, Sample());
}

TEST(CheckpointTest, SignParseVerifyRoundTrip) {
  auto note = SignCheckpoint(Sample(), LogKey());
  ASSERT_TRUE(note) << note.error().ToString();
  // Note text, blank line, one signature line naming the origin.
  const std::string prefix = *CheckpointText(Sample()) + "\n\xE2\x80\x94 ledger.troad.tw/v1 ";
  ASSERT_EQ(note->substr(0, prefix.size()), prefix);
  ASSERT_EQ(note->back(), '\n');

  auto parsed = ParseSignedCheckpoint(*note);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->checkpoint, Sample());
  EXPECT_EQ(parsed->key_id, CheckpointKeyId(LogKey().Public()));
  EXPECT_EQ(FormatSignedCheckpoint(*parsed), *note);

  auto verified = VerifyCheckpoint(*note, LogKey().Public());
  ASSERT_TRUE(verified) << verified.error().ToString();
  EXPECT_EQ(*verified, Sample());
}

TEST(CheckpointTest, KeyIdIsTheFirstFourBytesOfTheSpkiHash) {
  const crypto::PublicKey key = LogKey().Public();
  const crypto::Sha256Digest d = crypto::Sha256(key.ToDer());
  EXPECT_EQ(CheckpointKeyId(key),
            (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3]);
}

TEST(CheckpointTest, VerifyRefusesOtherKeysAndChangedText) {
  auto note = SignCheckpoint(Sample(), LogKey());
  ASSERT_TRUE(note);

  auto other = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(other);
  auto wrong_key = VerifyCheckpoint(*note, other->Public());
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(wrong_key.error().message().find("key id"), std::string::npos);

  // Same key id, another key's signature.
  auto forged = ParseSignedCheckpoint(*note);
  ASSERT_TRUE(forged);
  forged->signature = *other->Sign(forged->text);
  Status s = VerifyCheckpointSignature(*forged, LogKey().Public());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);

  // A changed size, root or timestamp keeps its form but loses the signature.
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\n8\n", "\n9\n"}, {"XcnaeacG", "XcnaeacH"}, {"1767225600000", "1767225600001"}}) {
    std::string changed = *note;
    changed.replace(changed.find(from), from.size(), to);
    ASSERT_TRUE(ParseSignedCheckpoint(changed)) << to;
    auto result = VerifyCheckpoint(changed, LogKey().Public());
    ASSERT_FALSE(result) << to;
    EXPECT_EQ(result.error().code(), ErrorCode::kUnauthenticated) << to;
  }

  // Bytes that are not a DER signature, under the right key id.
  auto garbage = ParseSignedCheckpoint(*note);
  garbage->signature = std::string(64, 'x');
  s = VerifyCheckpointSignature(*garbage, LogKey().Public());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(CheckpointTest, SigningRefusesRsaKeysAndBadCheckpoints) {
  auto rsa = crypto::PrivateKey::GenerateRsa(2048);
  ASSERT_TRUE(rsa);
  auto signed_rsa = SignCheckpoint(Sample(), *rsa);
  ASSERT_FALSE(signed_rsa);
  EXPECT_EQ(signed_rsa.error().code(), ErrorCode::kInvalidArgument);

  Checkpoint bad = Sample();
  bad.origin = "has space";
  EXPECT_FALSE(SignCheckpoint(bad, LogKey()));
  bad = Sample();
  bad.size = uint64_t{1} << 63;
  EXPECT_FALSE(SignCheckpoint(bad, LogKey()));
  bad = Sample();
  bad.timestamp_ms = -1;
  EXPECT_FALSE(SignCheckpoint(bad, LogKey()));
  bad = Sample();
  bad.origin = std::string(kMaxOriginBytes + 1, 'a');
  EXPECT_FALSE(SignCheckpoint(bad, LogKey()));
  bad.origin = std::string(kMaxOriginBytes, 'a');
  EXPECT_TRUE(SignCheckpoint(bad, LogKey()));
}

TEST(CheckpointTest, LimitsOfTheNumbersAreExact) {
  auto parse_size = [](std::string_view size) {
    return ParseCheckpointText(Text(kOrigin, size, kRootBase64, "timestamp 0"));
  };
  auto max = parse_size("9223372036854775807");
  ASSERT_TRUE(max) << max.error().ToString();
  EXPECT_EQ(max->size, (uint64_t{1} << 63) - 1);
  EXPECT_EQ(parse_size("0")->size, 0u);
  EXPECT_FALSE(parse_size("9223372036854775808"));   // 2^63
  EXPECT_FALSE(parse_size("18446744073709551615"));  // 2^64 - 1
  EXPECT_FALSE(parse_size("18446744073709551616"));  // 2^64
  EXPECT_FALSE(parse_size("999999999999999999999999"));
  auto ts = ParseCheckpointText(Text(kOrigin, "8", kRootBase64, "timestamp 9223372036854775807"));
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->timestamp_ms, INT64_MAX);
}

struct BadNote {
  std::string name;
  std::string note;
  std::string error;  // a part of the message
};

TEST(CheckpointTest, ParsingIsStrict) {
  const std::string sig = FakeSignatureLine();
  const std::string ts = "timestamp 1767225600000";
  std::string too_long_origin(kMaxOriginBytes + 1, 'o');
  std::string short_root = Base64Encode(std::string(31, 'r'));
  std::string non_canonical_root(kRootBase64);
  non_canonical_root[42] = 'h';  // "…Qyh=": the last character's unused bits are not zero
  const std::vector<BadNote> cases = {
      {"extra line", ValidText() + "extra\n\n" + sig, "extra lines"},
      {"no timestamp", Text(kOrigin, "8", kRootBase64, "").substr(0, 66) + "\n" + sig, "timestamp"},
      {"CRLF",
       "ledger.troad.tw/v1\r\n8\r\n" + std::string(kRootBase64) + "\r\n" + ts + "\r\n\r\n" + sig,
       "no blank line"},
      {"CR in origin", Text("ledger.troad.tw/v1\r", "8", kRootBase64, ts) + "\n" + sig,
       "byte 0x0d"},
      {"leading zero", Text(kOrigin, "08", kRootBase64, ts) + "\n" + sig, "leading zero"},
      {"plus sign", Text(kOrigin, "+8", kRootBase64, ts) + "\n" + sig, "not decimal digits"},
      {"minus sign", Text(kOrigin, "-8", kRootBase64, ts) + "\n" + sig, "not decimal digits"},
      {"space before size", Text(kOrigin, " 8", kRootBase64, ts) + "\n" + sig,
       "not decimal digits"},
      {"hex size", Text(kOrigin, "0x8", kRootBase64, ts) + "\n" + sig, "leading zero"},
      {"empty size", Text(kOrigin, "", kRootBase64, ts) + "\n" + sig, "size line is missing"},
      {"size 2^63", Text(kOrigin, "9223372036854775808", kRootBase64, ts) + "\n" + sig,
       "larger than 2^63 - 1"},
      {"root not base64", Text(kOrigin, "8", std::string(44, '*'), ts) + "\n" + sig,
       "invalid base64 character"},
      {"root unpadded", Text(kOrigin, "8", kRootBase64.substr(0, 43), ts) + "\n" + sig,
       "multiple of 4"},
      {"root 31 bytes", Text(kOrigin, "8", short_root, ts) + "\n" + sig, "31 bytes"},
      {"root not canonical", Text(kOrigin, "8", non_canonical_root, ts) + "\n" + sig,
       "trailing bits"},
      {"timestamp prefix", Text(kOrigin, "8", kRootBase64, "time 5") + "\n" + sig,
       "does not start with"},
      {"timestamp leading zero", Text(kOrigin, "8", kRootBase64, "timestamp 05") + "\n" + sig,
       "leading zero"},
      {"timestamp negative", Text(kOrigin, "8", kRootBase64, "timestamp -5") + "\n" + sig,
       "not decimal digits"},
      {"timestamp two spaces", Text(kOrigin, "8", kRootBase64, "timestamp  5") + "\n" + sig,
       "not decimal digits"},
      {"empty origin", Text("", "8", kRootBase64, ts) + "\n" + sig, "origin is empty"},
      {"origin with space", Text("ledger troad", "8", kRootBase64, ts) + "\n" + sig, "0x20"},
      {"origin with plus", Text("ledger+troad", "8", kRootBase64, ts) + "\n" + sig, "0x2b"},
      {"origin not ASCII", Text("ledger.troad.tw/\xE5\x8F\xB0", "8", kRootBase64, ts) + "\n" + sig,
       "0xe5"},
      {"origin too long", Text(too_long_origin, "8", kRootBase64, ts) + "\n" + sig,
       "longer than 255"},
      {"no blank line", ValidText() + sig, "no blank line"},
      {"no signature", ValidText() + "\n", "signature line is missing"},
      {"signature without newline", ValidText() + "\n" + sig.substr(0, sig.size() - 1),
       "signature line is missing"},
      {"two signatures", ValidText() + "\n" + sig + FakeSignatureLine("witness.example/w1"),
       "one signature only"},
      {"trailing newline", ValidText() + "\n" + sig + "\n", "one signature only"},
      {"hyphen not em dash", ValidText() + "\n- " + sig.substr(4), "em dash"},
      {"other key name", ValidText() + "\n" + FakeSignatureLine("other.example/log"),
       "not by its origin"},
      {"no space in signature line", ValidText() + "\n\xE2\x80\x94 " + std::string(kOrigin) + "\n",
       "no space"},
      {"signature not base64", ValidText() + "\n\xE2\x80\x94 " + std::string(kOrigin) + " !!!!\n",
       "invalid base64"},
      {"signature only a key id",
       ValidText() + "\n\xE2\x80\x94 " + std::string(kOrigin) + " " + Base64Encode("abcd") + "\n",
       "4-byte key id"},
      {"too long", ValidText() + "\n" + sig + std::string(kMaxCheckpointBytes, 'x'),
       "longer than 2048"},
  };
  for (const BadNote& c : cases) {
    auto parsed = ParseSignedCheckpoint(c.note);
    ASSERT_FALSE(parsed) << c.name << " was accepted";
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(parsed.error().message().find(c.error), std::string::npos)
        << c.name << ": " << parsed.error().message();
  }
  // The fake signature line itself parses: the failures above are the changes.
  auto good = ParseSignedCheckpoint(ValidText() + "\n" + sig);
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(FormatSignedCheckpoint(*good), ValidText() + "\n" + sig);
}

}  // namespace
}  // namespace troad::ledger
