// Tests for HOTP/TOTP against RFC 4226 Appendix D and RFC 6238 Appendix B, code
// verification (window, reuse, malformed input) and the otpauth:// Key URI.
#include "identity/totp.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/encoding.h"

namespace troad::identity {
namespace {

constexpr std::string_view kSha1Seed = "12345678901234567890";
constexpr std::string_view kSha256Seed = "12345678901234567890123456789012";
constexpr std::string_view kSha512Seed =
    "1234567890123456789012345678901234567890123456789012345678901234";

std::string Message(const Status& status) { return status ? "" : status.error().message(); }
template <typename T>
std::string Message(const Result<T>& result) {
  return result ? "" : result.error().message();
}

// RFC 4226 Appendix D: HOTP values for counters 0 to 9 with the 20-byte ASCII seed.
TEST(HotpTest, MatchesRfc4226AppendixD) {
  const char* kExpected[] = {"755224", "287082", "359152", "969429", "338314",
                             "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    SCOPED_TRACE(counter);
    auto code = HotpCode(kSha1Seed, counter, TotpParameters{});
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, kExpected[counter]);
  }
}

// RFC 6238 Appendix B: all 18 vectors (8 digits, 30-second steps, T0 = 0).
TEST(TotpTest, MatchesRfc6238AppendixB) {
  struct Vector {
    int64_t time;
    TotpAlgorithm algorithm;
    const char* code;
  };
  const Vector kVectors[] = {
      {59, TotpAlgorithm::kSha1, "94287082"},
      {59, TotpAlgorithm::kSha256, "46119246"},
      {59, TotpAlgorithm::kSha512, "90693936"},
      {1111111109, TotpAlgorithm::kSha1, "07081804"},
      {1111111109, TotpAlgorithm::kSha256, "68084774"},
      {1111111109, TotpAlgorithm::kSha512, "25091201"},
      {1111111111, TotpAlgorithm::kSha1, "14050471"},
      {1111111111, TotpAlgorithm::kSha256, "67062674"},
      {1111111111, TotpAlgorithm::kSha512, "99943326"},
      {1234567890, TotpAlgorithm::kSha1, "89005924"},
      {1234567890, TotpAlgorithm::kSha256, "91819424"},
      {1234567890, TotpAlgorithm::kSha512, "93441116"},
      {2000000000, TotpAlgorithm::kSha1, "69279037"},
      {2000000000, TotpAlgorithm::kSha256, "90698825"},
      {2000000000, TotpAlgorithm::kSha512, "38618901"},
      {20000000000, TotpAlgorithm::kSha1, "65353130"},
      {20000000000, TotpAlgorithm::kSha256, "77737706"},
      {20000000000, TotpAlgorithm::kSha512, "47863826"},
  };
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(fmt::format("{} {}", v.time, TotpAlgorithmName(v.algorithm)));
    const TotpParameters params{.algorithm = v.algorithm, .digits = 8, .period_s = 30};
    const std::string_view seed = v.algorithm == TotpAlgorithm::kSha1     ? kSha1Seed
                                  : v.algorithm == TotpAlgorithm::kSha256 ? kSha256Seed
                                                                          : kSha512Seed;
    auto code = TotpCode(seed, v.time, params);
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, v.code);
    auto step = VerifyTotp(seed, v.code, v.time, -1, params, 0);
    ASSERT_TRUE(step) << step.error().message();
    EXPECT_EQ(*step, v.time / 30);
  }
}

TEST(TotpTest, StepIsFloorOfTimeOverPeriod) {
  const TotpParameters params;
  EXPECT_EQ(TotpStep(0, params), 0);
  EXPECT_EQ(TotpStep(29, params), 0);
  EXPECT_EQ(TotpStep(30, params), 1);
  EXPECT_EQ(TotpStep(1111111111, params), 37037037);
  EXPECT_EQ(TotpStep(-1, params), -1);
  EXPECT_EQ(TotpStep(120, TotpParameters{.period_s = 60}), 2);
  EXPECT_FALSE(TotpCode(kSha1Seed, -1, params));
}

TEST(TotpTest, ValidatesParameters) {
  EXPECT_TRUE(TotpParameters{}.Validate());
  EXPECT_TRUE((TotpParameters{.digits = 8, .period_s = 15}).Validate());
  EXPECT_TRUE((TotpParameters{.digits = 6, .period_s = 300}).Validate());
  EXPECT_EQ(Message(TotpParameters{.digits = 5}.Validate()), "TOTP digits 5 is outside 6 to 8");
  EXPECT_FALSE(TotpParameters{.digits = 9}.Validate());
  EXPECT_EQ(Message(TotpParameters{.period_s = 14}.Validate()),
            "TOTP period 14 s is outside 15 to 300 s");
  EXPECT_FALSE(TotpParameters{.period_s = 301}.Validate());
  EXPECT_FALSE(HotpCode(kSha1Seed, 0, TotpParameters{.digits = 10}));
  EXPECT_EQ(Message(HotpCode("", 0, TotpParameters{})), "the TOTP secret is empty");
}

TEST(TotpTest, NewSecretsAre20RandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string secret = NewTotpSecret();
    EXPECT_EQ(secret.size(), 20u);
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(Base32Encode(NewTotpSecret()).size(), 32u);  // what an app shows: 32 characters
}

class VerifyTotpTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1111111111;  // step 37037037, 1 s into it
  static constexpr int64_t kStep = 37037037;
  std::string CodeAt(int64_t step) {
    auto code = HotpCode(kSha1Seed, static_cast<uint64_t>(step), params_);
    EXPECT_TRUE(code);
    return code ? *code : "";
  }
  TotpParameters params_;
};

TEST_F(VerifyTotpTest, AcceptsOneStepEitherSideAndRefusesTwo) {
  for (int64_t delta : {-1, 0, 1}) {
    SCOPED_TRACE(delta);
    auto step = VerifyTotp(kSha1Seed, CodeAt(kStep + delta), kNow, -1, params_);
    ASSERT_TRUE(step) << step.error().message();
    EXPECT_EQ(*step, kStep + delta);
  }
  for (int64_t delta : {-2, 2}) {
    SCOPED_TRACE(delta);
    auto step = VerifyTotp(kSha1Seed, CodeAt(kStep + delta), kNow, -1, params_);
    ASSERT_FALSE(step);
    EXPECT_EQ(step.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(step.error().message(),
              "the one-time code is wrong or has expired (checked steps 37037036 to 37037038)");
  }
  // A wider window reaches them; window 0 only the current step.
  EXPECT_TRUE(VerifyTotp(kSha1Seed, CodeAt(kStep + 2), kNow, -1, params_, 2));
  EXPECT_FALSE(VerifyTotp(kSha1Seed, CodeAt(kStep + 1), kNow, -1, params_, 0));
}

TEST_F(VerifyTotpTest, RefusesACodeAlreadyUsedAndAcceptsALaterStep) {
  auto first = VerifyTotp(kSha1Seed, CodeAt(kStep), kNow, -1, params_);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, kStep);
  auto again = VerifyTotp(kSha1Seed, CodeAt(kStep), kNow + 5, *first, params_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message(),
            "the one-time code was already used; wait for the next one (last used step "
            "37037037)");
  // An earlier step's code, still inside the window, is refused the same way.
  auto earlier = VerifyTotp(kSha1Seed, CodeAt(kStep - 1), kNow, *first, params_);
  ASSERT_FALSE(earlier);
  EXPECT_EQ(earlier.error().code(), ErrorCode::kAlreadyExists);
  auto next = VerifyTotp(kSha1Seed, CodeAt(kStep + 1), kNow + 30, *first, params_);
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(*next, kStep + 1);
}

TEST_F(VerifyTotpTest, RefusesMalformedCodesWithoutRepeatingThem) {
  struct Case {
    std::string code;
    std::string message;
  };
  const Case kCases[] = {
      {"", "the one-time code is empty; expected 6 digits"},
      {"12345", "the one-time code has 5 digits; expected 6"},
      {"1234567", "the one-time code has 7 digits; expected 6"},
      {"12a456",
       "the one-time code contains a character other than the digits 0-9 (6 bytes long; "
       "expected 6 digits)"},
      {" 123456",
       "the one-time code contains a character other than the digits 0-9 (7 bytes long; "
       "expected 6 digits)"},
      {"１２３４５６", "the one-time code contains full-width digits; type it with the digits 0-9"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.code);
    auto step = VerifyTotp(kSha1Seed, c.code, kNow, -1, params_);
    ASSERT_FALSE(step);
    EXPECT_EQ(step.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(step.error().message(), c.message);
  }
}

TEST_F(VerifyTotpTest, RefusesAWindowOutsideZeroToTen) {
  EXPECT_TRUE(VerifyTotp(kSha1Seed, CodeAt(kStep), kNow, -1, params_, 10));
  auto negative = VerifyTotp(kSha1Seed, CodeAt(kStep), kNow, -1, params_, -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(negative.error().message(), "TOTP window -1 is outside 0 to 10 steps");
  EXPECT_FALSE(VerifyTotp(kSha1Seed, CodeAt(kStep), kNow, -1, params_, 11));
}

TEST_F(VerifyTotpTest, WorksAtTheStartOfTime) {
  // Candidate steps before 1970 are skipped, not refused.
  auto code = TotpCode(kSha1Seed, 0, params_);
  ASSERT_TRUE(code);
  auto step = VerifyTotp(kSha1Seed, *code, 0, -1, params_);
  ASSERT_TRUE(step) << step.error().message();
  EXPECT_EQ(*step, 0);
}

TEST(OtpauthUriTest, AsciiIssuerWithNonDefaultParameters) {
  const TotpParameters params{.algorithm = TotpAlgorithm::kSha256, .digits = 8, .period_s = 60};
  EXPECT_EQ(OtpauthUri("Example Co", "alice:ops@example.tw", kSha1Seed, params),
            "otpauth://totp/Example%20Co:alice%3Aops%40example.tw"
            "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Co"
            "&algorithm=SHA256&digits=8&period=60");
}

TEST(OtpauthUriTest, TraditionalChineseIssuerAndAccountAreUtf8PercentEncoded) {
  EXPECT_EQ(OtpauthUri("數位發展部", "王小明@example.tw", kSha1Seed, TotpParameters{}),
            "otpauth://totp/%E6%95%B8%E4%BD%8D%E7%99%BC%E5%B1%95%E9%83%A8:"
            "%E7%8E%8B%E5%B0%8F%E6%98%8E%40example.tw"
            "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=%E6%95%B8%E4%BD%8D%E7%99%BC%E5%B1%95%E9%83%A8"
            "&algorithm=SHA1&digits=6&period=30");
}

TEST(OtpauthUriTest, EmptyIssuerLeavesOutPrefixAndParameter) {
  EXPECT_EQ(OtpauthUri("", "alice", kSha1Seed, TotpParameters{}),
            "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace troad::identity
