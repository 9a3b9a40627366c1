#include "core/clock.h"

#include <gtest/gtest.h>

namespace troad {
namespace {

TEST(Rfc3339Test, FormatsAndParsesUtc) {
  SystemTime t = FromUnixMillis(1795501800123);  // date -u -d @1795501800
  std::string s = FormatRfc3339(t);
  EXPECT_EQ(s, "2026-11-24T06:30:00.123Z");
  auto back = ParseRfc3339(s);
  ASSERT_TRUE(back);
  EXPECT_EQ(ToUnixMillis(*back), 1795501800123);
}

TEST(Rfc3339Test, AppliesOffsets) {
  auto t = ParseRfc3339("2026-11-24T11:10:00+08:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-24T03:10:00.000Z");
}

TEST(Rfc3339Test, RefusesMalformed) {
  for (const char* bad : {"", "2026-11-24", "2026-11-24T03:10:00", "2026-13-24T03:10:00Z",
                          "2026-11-24T03:10:00Zjunk", "2026-11-24T03:10:00.Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

TEST(FakeClockTest, AdvancesExactly) {
  FakeClock clock(FromUnixMillis(1000));
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(clock.NowMillis(), 1250);
}

}  // namespace
}  // namespace troad
