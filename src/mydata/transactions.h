// The transactions as stored (docs/mydata.md, "One transaction model"): what was asked,
// by whom, for which purpose, where the person goes back to, and the state, which moves
// only by the events of mydata/transaction.h. A service provider's request starts one
// and gets a one-time reference for the person's link (`/start?ref=…`); only the
// reference's SHA-256 is kept, so the database cannot be used to hijack a link.
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "mydata/transaction.h"
#include "store/database.h"

namespace troad::mydata {

enum class Mode { kDownload, kOnline, kCounter, kMultiPerson };
std::string_view ModeName(Mode mode);  // "download", "online", "counter", "multi_person"

struct Transaction {
  std::string id;  // a UUID: the service provider's handle on it
  Mode mode = Mode::kOnline;
  std::string service_provider;  // "" for a download
  std::vector<std::string> datasets;
  std::string purpose;
  std::string return_uri;  // "" for a download
  TransactionState state = TransactionState::kCreated;
  int64_t deadline_at = 0;  // Unix ms: the current state's deadline
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct NewTransaction {
  Mode mode = Mode::kOnline;
  std::string service_provider;
  std::vector<std::string> datasets;
  std::string purpose;
  std::string return_uri;
  std::chrono::seconds lifetime{1800};  // until the person must have finished
};

struct Started {
  Transaction transaction;
  std::string ref;  // shown once: 256 random bits, base64url
};

class Transactions {
 public:
  Transactions(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<Started> Create(const NewTransaction& t);
  // kNotFound for an unknown id.
  Result<Transaction> Get(std::string_view id);
  // By the reference in the person's link. kNotFound for an unknown (or malformed) one.
  Result<Transaction> ByRef(std::string_view ref);
  // Moves the transaction by `event` (transaction.h Next); the new state's deadline is
  // `deadline_at` (0: keep the old one). kFailedPrecondition naming state and event
  // when the event cannot happen there; the stored state is then unchanged.
  Result<Transaction> Apply(std::string_view id, TransactionEvent event, int64_t deadline_at = 0);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace troad::mydata
