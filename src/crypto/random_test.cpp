#include "crypto/random.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace troad::crypto {
namespace {

TEST(RandomBytesTest, ReturnsRequestedLength) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  EXPECT_EQ(RandomBytes(4096).size(), 4096u);
}

TEST(RandomBytesTest, SuccessiveCallsDiffer) {
  // 2^-256 chance of a false failure.
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(RandomBytesTest, AllByteValuesAppear) {
  // A crude check that the bytes are not, say, all zero or ASCII: 64 KiB of uniform
  // bytes misses some value with probability about 256 * e^-256.
  std::string bytes = RandomBytes(65536);
  std::set<unsigned char> seen(bytes.begin(), bytes.end());
  EXPECT_EQ(seen.size(), 256u);
}

TEST(NewUuidTest, IsLowerCaseVersion4WithRfcVariant) {
  static const std::regex kForm(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 200; ++i) {
    std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(std::regex_match(id, kForm)) << id;
    EXPECT_EQ(id[14], '4') << id;                                          // version nibble
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  }
}

TEST(NewUuidTest, ThousandAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewUuid());
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace troad::crypto
