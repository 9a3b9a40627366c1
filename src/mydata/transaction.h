// The one transaction model every MyData mode shares (docs/mydata.md, "One transaction
// model"): a transaction moves through explicit states, each change caused by one
// event, and nothing else moves it. Download, online service, counter service and the
// multi-person application differ only in how a transaction starts and is delivered.
//
//   created ──invited──► awaiting_consent ──all_consented──► fetching ──all_fetched──► ready
//      │                    │         │                          │                     │
//      │ deadline           │ refused │ deadline        failed / │ deadline  collected │ deadline
//      ▼                    ▼         ▼                          ▼                     ▼   ▼
//   expired              refused   expired                    failed          delivered  expired
//
// Pure functions, no I/O. Thread-safety: none needed.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.h"

namespace troad::mydata {

enum class TransactionState {
  kCreated,          // the request is recorded; nobody has been asked yet
  kAwaitingConsent,  // each person involved is invited to sign in and consent
  kFetching,         // everyone consented; the datasets are being fetched over T-Road
  kReady,            // the package is made and waits to be collected or downloaded
  kDelivered,        // collected once (final)
  kRefused,          // someone refused (final; the live platform's 205)
  kFailed,           // a provider did not deliver in time (final; 504)
  kExpired,          // nobody finished or collected before the deadline (final; 408/410)
};

enum class TransactionEvent {
  kInvited,         // the people involved are known and asked
  kAllConsented,    // the last person consented
  kRefused,         // a person refused
  kAllFetched,      // every dataset arrived and the package is made
  kFetchFailed,     // a provider answered with an error, or not before the deadline
  kCollected,       // the package was collected or downloaded
  kDeadlinePassed,  // the state's deadline passed
};

std::string_view StateName(TransactionState state);  // "awaiting_consent", …
std::optional<TransactionState> StateFromName(std::string_view name);
std::string_view EventName(TransactionEvent event);  // "all_consented", …

// Delivered, refused, failed and expired: nothing happens to the transaction any more
// (its package, if any, is purged; the record stays).
bool IsFinal(TransactionState state);

// The state `event` leads to from `state`; kFailedPrecondition naming both when that
// event cannot happen there (a second collection, a consent after expiry, …).
Result<TransactionState> Next(TransactionState state, TransactionEvent event);

}  // namespace troad::mydata
