#include "mydata/transaction.h"

namespace troad::mydata {
namespace {

using S = TransactionState;
using E = TransactionEvent;

struct Edge {
  S from;
  E event;
  S to;
};

// Every change a transaction can go through; anything else is refused.
constexpr Edge kEdges[] = {
    {S::kCreated, E::kInvited, S::kAwaitingConsent},
    {S::kCreated, E::kDeadlinePassed, S::kExpired},
    {S::kAwaitingConsent, E::kAllConsented, S::kFetching},
    {S::kAwaitingConsent, E::kRefused, S::kRefused},
    {S::kAwaitingConsent, E::kDeadlinePassed, S::kExpired},
    {S::kFetching, E::kAllFetched, S::kReady},
    {S::kFetching, E::kFetchFailed, S::kFailed},
    {S::kFetching, E::kDeadlinePassed, S::kFailed},
    {S::kReady, E::kCollected, S::kDelivered},
    {S::kReady, E::kDeadlinePassed, S::kExpired},
};

constexpr std::pair<S, std::string_view> kStateNames[] = {
    {S::kCreated, "created"},     {S::kAwaitingConsent, "awaiting_consent"},
    {S::kFetching, "fetching"},   {S::kReady, "ready"},
    {S::kDelivered, "delivered"}, {S::kRefused, "refused"},
    {S::kFailed, "failed"},       {S::kExpired, "expired"},
};

}  // namespace

std::string_view StateName(TransactionState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "?";
}

std::optional<TransactionState> StateFromName(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view EventName(TransactionEvent event) {
  switch (event) {
    case E::kInvited:
      return "invited";
    case E::kAllConsented:
      return "all_consented";
    case E::kRefused:
      return "refused";
    case E::kAllFetched:
      return "all_fetched";
    case E::kFetchFailed:
      return "fetch_failed";
    case E::kCollected:
      return "collected";
    case E::kDeadlinePassed:
      return "deadline_passed";
  }
  return "?";
}

bool IsFinal(TransactionState state) {
  return state == S::kDelivered || state == S::kRefused || state == S::kFailed ||
         state == S::kExpired;
}

Result<TransactionState> Next(TransactionState state, TransactionEvent event) {
  for (const auto& edge : kEdges) {
    if (edge.from == state && edge.event == event) return edge.to;
  }
  if (IsFinal(state)) {
    return Fail(ErrorCode::kFailedPrecondition, "the transaction is {}: {} cannot happen any more",
                StateName(state), EventName(event));
  }
  return Fail(ErrorCode::kFailedPrecondition, "{} cannot happen while the transaction is {}",
              EventName(event), StateName(state));
}

}  // namespace troad::mydata
