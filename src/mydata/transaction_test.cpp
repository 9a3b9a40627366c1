#include "mydata/transaction.h"

#include <gtest/gtest.h>

#include <vector>

namespace troad::mydata {
namespace {

using S = TransactionState;
using E = TransactionEvent;

constexpr S kStates[] = {S::kCreated,   S::kAwaitingConsent, S::kFetching, S::kReady,
                         S::kDelivered, S::kRefused,         S::kFailed,   S::kExpired};
constexpr E kEvents[] = {E::kInvited,     E::kAllConsented, E::kRefused,       E::kAllFetched,
                         E::kFetchFailed, E::kCollected,    E::kDeadlinePassed};

S Through(std::vector<E> events) {
  S state = S::kCreated;
  for (E e : events) {
    auto next = Next(state, e);
    EXPECT_TRUE(next) << next.error().ToString();
    if (!next) return state;
    state = *next;
  }
  return state;
}

TEST(TransactionTest, AnOnlineServiceGoesFromRequestToDelivery) {
  EXPECT_EQ(Through({E::kInvited, E::kAllConsented, E::kAllFetched, E::kCollected}), S::kDelivered);
}

TEST(TransactionTest, EachWayToEndEarlyEndsWhereTheLivePlatformWould) {
  EXPECT_EQ(Through({E::kInvited, E::kRefused}), S::kRefused);
  EXPECT_EQ(Through({E::kInvited, E::kDeadlinePassed}), S::kExpired);
  EXPECT_EQ(Through({E::kInvited, E::kAllConsented, E::kFetchFailed}), S::kFailed);
  EXPECT_EQ(Through({E::kInvited, E::kAllConsented, E::kDeadlinePassed}), S::kFailed);
  EXPECT_EQ(Through({E::kInvited, E::kAllConsented, E::kAllFetched, E::kDeadlinePassed}), S::kExpired);
}

TEST(TransactionTest, APackageIsCollectedOnceAndNothingMovesAFinalState) {
  S delivered = Through({E::kInvited, E::kAllConsented, E::kAllFetched, E::kCollected});
  auto again = Next(delivered, E::kCollected);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(again.error().message().find("delivered"), std::string::npos)
      << again.error().message();
  for (S s : kStates) {
    if (!IsFinal(s)) continue;
    for (E e : kEvents) EXPECT_FALSE(Next(s, e)) << StateName(s) << " + " << EventName(e);
  }
}

TEST(TransactionTest, EventsOutOfOrderAreRefusedNamingBoth) {
  auto early = Next(S::kCreated, E::kCollected);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message(), "collected cannot happen while the transaction is created");
  EXPECT_FALSE(Next(S::kFetching, E::kAllConsented));
  EXPECT_FALSE(Next(S::kReady, E::kRefused));
  // Every state that is not final can still run out of time.
  for (S s : kStates) {
    if (!IsFinal(s)) {
      EXPECT_TRUE(Next(s, E::kDeadlinePassed)) << StateName(s);
    }
  }
}

TEST(TransactionTest, StateNamesGoBothWays) {
  for (S s : kStates) {
    auto back = StateFromName(StateName(s));
    ASSERT_TRUE(back) << StateName(s);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(StateFromName("Ready"));
  EXPECT_FALSE(StateFromName(""));
}

}  // namespace
}  // namespace troad::mydata
