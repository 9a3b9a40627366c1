// Tests for QR code matrices and their SVG: symbol size, finder patterns, determinism,
// the path drawing exactly the dark modules, and refused input.
#include "identity/qr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

namespace troad::identity {
namespace {

using Matrix = std::vector<std::vector<bool>>;

constexpr std::string_view kUri =
    "otpauth://totp/%E6%95%B8%E4%BD%8D%E7%99%BC%E5%B1%95%E9%83%A8:alice?secret="
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E6%95%B8%E4%BD%8D%E7%99%BC%E5%B1%95%E9%83%A8"
    "&algorithm=SHA1&digits=6&period=30";

// A finder pattern (ISO/IEC 18004 §6.3.3) with its top-left module at (top, left): a
// 7x7 dark ring, a 5x5 light ring, a 3x3 dark core.
void ExpectFinderAt(const Matrix& m, int top, int left) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const int ring = std::min(std::min(y, 6 - y), std::min(x, 6 - x));  // 0 outer, 3 centre
      const bool dark = ring != 1;
      EXPECT_EQ(m[top + y][left + x], dark)
          << "finder at (" << top << ", " << left << "), module (" << y << ", " << x << ")";
    }
  }
}

TEST(QrModulesTest, HasTheSizeOfAVersionAndThreeFinderPatterns) {
  auto modules = QrModules(kUri);
  ASSERT_TRUE(modules) << modules.error().message();
  const int width = static_cast<int>(modules->size());
  EXPECT_GE(width, 21);
  EXPECT_EQ(width % 2, 1);
  EXPECT_EQ((width - 21) % 4, 0);
  for (const auto& row : *modules) ASSERT_EQ(static_cast<int>(row.size()), width);
  ExpectFinderAt(*modules, 0, 0);
  ExpectFinderAt(*modules, 0, width - 7);
  ExpectFinderAt(*modules, width - 7, 0);
}

TEST(QrModulesTest, ChoosesTheVersionByLength) {
  auto small = QrModules("A");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->size(), 21u);  // version 1
  auto largest = QrModules(std::string(kQrMaxBytes, 'x'));
  ASSERT_TRUE(largest) << largest.error().message();
  EXPECT_EQ(largest->size(), 177u);  // version 40
}

TEST(QrModulesTest, RefusesEmptyAndTooLongText) {
  auto empty = QrModules("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.error().message(), "QR code text is empty");
  auto huge = QrModules(std::string(10000, 'x'));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(huge.error().message(),
            "QR code text is 10000 bytes; a QR code holds at most 2331 (version 40, level M)");
  EXPECT_FALSE(QrModules(std::string(kQrMaxBytes + 1, 'x')));
  EXPECT_FALSE(QrSvg(""));
  EXPECT_FALSE(QrSvg(std::string(10000, 'x')));
}

TEST(QrSvgTest, IsDeterministicWithTheRightViewBox) {
  auto modules = QrModules(kUri);
  ASSERT_TRUE(modules);
  const size_t size = modules->size() + 8;
  auto svg = QrSvg(kUri);
  ASSERT_TRUE(svg) << svg.error().message();
  auto again = QrSvg(kUri);
  ASSERT_TRUE(again);
  EXPECT_EQ(*svg, *again);
  EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" ", 0), 0u);
  EXPECT_NE(svg->find(fmt::format("viewBox=\"0 0 {0} {0}\"", size)), std::string::npos);
  EXPECT_NE(svg->find(fmt::format("width=\"{0}\" height=\"{0}\"", size * 4)), std::string::npos);
  EXPECT_NE(svg->find("role=\"img\""), std::string::npos);
  EXPECT_NE(svg->find("<title>QR code</title>"), std::string::npos);
  EXPECT_EQ(svg->substr(svg->size() - 9), "\"/></svg>");
  auto big = QrSvg(kUri, 10);
  ASSERT_TRUE(big);
  EXPECT_NE(big->find(fmt::format("width=\"{0}\" height=\"{0}\"", size * 10)), std::string::npos);
}

// Redraws the path's runs on an empty grid: it must be exactly the matrix, shifted by
// the quiet zone, with nothing drawn in the quiet zone itself.
TEST(QrSvgTest, PathDrawsExactlyTheDarkModules) {
  auto modules = QrModules(kUri);
  ASSERT_TRUE(modules);
  auto svg = QrSvg(kUri);
  ASSERT_TRUE(svg);
  const int width = static_cast<int>(modules->size());
  Matrix drawn(width, std::vector<bool>(width));
  const std::regex run(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
  int runs = 0;
  for (auto it = std::sregex_iterator(svg->begin(), svg->end(), run); it != std::sregex_iterator();
       ++it, ++runs) {
    const int x = std::stoi((*it)[1]) - 4, y = std::stoi((*it)[2]) - 4;
    const int length = std::stoi((*it)[3]);
    ASSERT_EQ(length, std::stoi((*it)[4]));
    ASSERT_GE(x, 0);
    ASSERT_GE(y, 0);
    ASSERT_LE(x + length, width);
    ASSERT_LT(y, width);
    for (int i = 0; i < length; ++i) {
      ASSERT_FALSE(drawn[y][x + i]) << "drawn twice";
      drawn[y][x + i] = true;
    }
  }
  EXPECT_GT(runs, 0);
  EXPECT_EQ(drawn, *modules);
}

TEST(QrSvgTest, EscapesTheTitleAndChecksTheModuleSize) {
  auto svg = QrSvg("x", 4, "<登入> & \"驗證\"\x01");
  ASSERT_TRUE(svg);
  EXPECT_NE(svg->find("<title>&lt;登入&gt; &amp; &quot;驗證&quot;</title>"), std::string::npos);
  EXPECT_FALSE(QrSvg("x", 0));
  auto too_big = QrSvg("x", 65);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().message(), "QR module size 65 px is outside 1 to 64");
}

}  // namespace
}  // namespace troad::identity
