#include "gateway/replay.h"

#include <gtest/gtest.h>

#include "gateway/fault.h"

namespace troad::gateway {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kT0 = 1'795'000'000'000;  // an arbitrary "now", Unix milliseconds
const std::string kClient = "TW/GOV/BLI/insurance";

void ExpectDuplicate(const Status& status) {
  ASSERT_FALSE(status) << "a replayed id was accepted";
  EXPECT_EQ(status.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(status.error().fault(), kFaultDuplicateMessageId);
}

TEST(ReplayGuardTest, FirstUseIsAcceptedAndSecondIsDuplicateMessageId) {
  ReplayGuard guard(milliseconds(60'000));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "msg-1", kT0, kT0));
  Status again = guard.CheckAndRemember(kClient, "msg-1", kT0, kT0 + 10);
  ExpectDuplicate(again);
  EXPECT_NE(again.error().message().find("msg-1"), std::string::npos) << again.error().message();
  EXPECT_NE(again.error().message().find(kClient), std::string::npos) << again.error().message();
  // A refused replay is not remembered a second time, and other ids are unaffected.
  EXPECT_EQ(guard.size(), 1u);
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "msg-2", kT0, kT0));
  EXPECT_EQ(guard.size(), 2u);
}

TEST(ReplayGuardTest, SameIdFromAnotherClientIsAccepted) {
  ReplayGuard guard(milliseconds(60'000));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "msg-1", kT0, kT0));
  EXPECT_TRUE(guard.CheckAndRemember("TW/GOV/TAX/tax", "msg-1", kT0, kT0));
  EXPECT_TRUE(guard.CheckAndRemember("TW/GOV/BLI", "msg-1", kT0, kT0));
  ExpectDuplicate(guard.CheckAndRemember("TW/GOV/TAX/tax", "msg-1", kT0, kT0));
}

TEST(ReplayGuardTest, IdIsForgottenOnlyAfterTheWindow) {
  ReplayGuard guard(milliseconds(1'000));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "msg-1", kT0, kT0));
  // Still remembered at the very end of the window...
  ExpectDuplicate(guard.CheckAndRemember(kClient, "msg-1", kT0, kT0 + 1'000));
  // ...and forgotten just after it.
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "msg-1", kT0, kT0 + 1'001));
  EXPECT_EQ(guard.size(), 1u);
}

TEST(ReplayGuardTest, MessageTimeInTheFutureExtendsTheMemory) {
  // A message stamped ahead of our clock stays acceptable by the skew check until its
  // own time plus the window, so the id must be remembered that long.
  ReplayGuard guard(milliseconds(1'000));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "ahead", kT0 + 800, kT0));
  ExpectDuplicate(guard.CheckAndRemember(kClient, "ahead", kT0 + 800, kT0 + 1'500));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "ahead", kT0 + 800, kT0 + 1'801));
}

TEST(ReplayGuardTest, ExpiryForgetsOldIdsAndKeepsNewOnes) {
  ReplayGuard guard(milliseconds(1'000));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(guard.CheckAndRemember(kClient, "old-" + std::to_string(i), kT0, kT0));
  }
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "new", kT0 + 900, kT0 + 900));
  EXPECT_EQ(guard.size(), 11u);
  // At kT0 + 1001 the ten old ids have expired; "new" has not.
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "newer", kT0 + 1'001, kT0 + 1'001));
  EXPECT_EQ(guard.size(), 2u);
  ExpectDuplicate(guard.CheckAndRemember(kClient, "new", kT0 + 900, kT0 + 1'002));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "old-3", kT0, kT0 + 1'002));
}

TEST(ReplayGuardTest, OutOfOrderExpiriesAreAllHonoured) {
  // Ids arrive with message times out of order; each is kept for its own window.
  ReplayGuard guard(milliseconds(1'000));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "late", kT0 + 5'000, kT0));   // until kT0+6000
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "early", kT0, kT0));          // until kT0+1000
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "mid", kT0 + 2'000, kT0));    // until kT0+3000
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "probe1", kT0, kT0 + 1'001));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "early", kT0, kT0 + 1'001));
  ExpectDuplicate(guard.CheckAndRemember(kClient, "mid", kT0 + 2'000, kT0 + 2'999));
  ExpectDuplicate(guard.CheckAndRemember(kClient, "late", kT0 + 5'000, kT0 + 5'999));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "late", kT0 + 5'000, kT0 + 6'001));
}

TEST(ReplayGuardTest, SetWindowAppliesToIdsRememberedAfterwards) {
  ReplayGuard guard(milliseconds(1'000));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "before", kT0, kT0));  // until kT0+1000
  guard.SetWindow(milliseconds(10'000));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "after", kT0, kT0));  // until kT0+10000
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "before", kT0, kT0 + 1'001));
  ExpectDuplicate(guard.CheckAndRemember(kClient, "after", kT0, kT0 + 9'000));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "after", kT0, kT0 + 10'001));

  guard.SetWindow(milliseconds(100));
  ASSERT_TRUE(guard.CheckAndRemember(kClient, "short", kT0 + 20'000, kT0 + 20'000));
  EXPECT_TRUE(guard.CheckAndRemember(kClient, "short", kT0 + 20'000, kT0 + 20'101));
}

}  // namespace
}  // namespace troad::gateway
