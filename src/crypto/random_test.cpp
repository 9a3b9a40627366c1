#include "crypto/random.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

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


TEST(RandomBytesTest, PooledAndUnpooledSizesAreRandomAndDistinct) {
  // Many small requests come from one pool: none may repeat an earlier one.
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(RandomBytes(16));
  EXPECT_EQ(seen.size(), 2000u);
  // 64 is the largest pooled size, 65 the smallest unpooled one.
  EXPECT_EQ(RandomBytes(64).size(), 64u);
  EXPECT_EQ(RandomBytes(65).size(), 65u);
  EXPECT_NE(RandomBytes(64), RandomBytes(64));
}

TEST(RandomBytesTest, ForkedChildDoesNotRepeatTheParentsBytes) {
  (void)RandomBytes(16);  // fill this thread's pool
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string b = RandomBytes(16);
    ssize_t w = write(fds[1], b.data(), b.size());
    _exit(w == 16 ? 0 : 1);
  }
  std::string parent = RandomBytes(16);
  std::string child(16, '\0');
  ASSERT_EQ(read(fds[0], child.data(), child.size()), 16);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(parent, child);
}

TEST(NewTimeOrderedUuidTest, CarriesTheTimeAndVersion7) {
  static const std::regex kForm(
      "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  // RFC 9562 appendix A.6's time: 2022-02-22 14:22:22 UTC = 0x017F22E279B0 ms.
  std::string id = NewTimeOrderedUuid(0x017F22E279B0);
  EXPECT_TRUE(std::regex_match(id, kForm)) << id;
  EXPECT_EQ(id.substr(0, 13), "017f22e2-79b0") << id;
}

TEST(NewTimeOrderedUuidTest, LaterIdsSortLater) {
  std::string prev = NewTimeOrderedUuid(1'700'000'000'000);
  for (int64_t ms = 1'700'000'000'001; ms < 1'700'000'000'200; ++ms) {
    std::string id = NewTimeOrderedUuid(ms);
    EXPECT_LT(prev, id);
    prev = id;
  }
}

}  // namespace
}  // namespace troad::crypto
