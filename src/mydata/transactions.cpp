#include "mydata/transactions.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace troad::mydata {
namespace {

constexpr std::string_view kColumns =
    "id, mode, service_provider, datasets, purpose, return_uri, state, deadline_at, created_at, "
    "updated_at";
constexpr Mode kModes[] = {Mode::kDownload, Mode::kOnline, Mode::kCounter, Mode::kMultiPerson};

Result<Transaction> FromRow(const store::Row& row) {
  Transaction t;
  TROAD_ASSIGN_OR_RETURN(t.id, row.Text(0));
  TROAD_ASSIGN_OR_RETURN(std::string mode, row.Text(1));
  bool known = false;
  for (Mode m : kModes) {
    if (ModeName(m) == mode) {
      t.mode = m;
      known = true;
    }
  }
  if (!known) return Fail(ErrorCode::kDataLoss, "transaction {}: mode \"{}\"", t.id, mode);
  TROAD_ASSIGN_OR_RETURN(t.service_provider, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(std::string datasets, row.Text(3));
  auto list = ParseJson(datasets, "datasets");
  if (!list || !list->is_array()) {
    return Fail(ErrorCode::kDataLoss, "transaction {}: datasets unreadable", t.id);
  }
  for (const auto& d : *list) {
    if (!d.is_string()) return Fail(ErrorCode::kDataLoss, "transaction {}: datasets", t.id);
    t.datasets.push_back(d.get<std::string>());
  }
  TROAD_ASSIGN_OR_RETURN(t.purpose, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(t.return_uri, row.Text(5));
  TROAD_ASSIGN_OR_RETURN(std::string state, row.Text(6));
  auto parsed = StateFromName(state);
  if (!parsed) return Fail(ErrorCode::kDataLoss, "transaction {}: state \"{}\"", t.id, state);
  t.state = *parsed;
  TROAD_ASSIGN_OR_RETURN(t.deadline_at, row.Int(7));
  TROAD_ASSIGN_OR_RETURN(t.created_at, row.Int(8));
  TROAD_ASSIGN_OR_RETURN(t.updated_at, row.Int(9));
  return t;
}

}  // namespace

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kDownload:
      return "download";
    case Mode::kOnline:
      return "online";
    case Mode::kCounter:
      return "counter";
    case Mode::kMultiPerson:
      return "multi_person";
  }
  return "?";
}

Result<Started> Transactions::Create(const NewTransaction& n) {
  Started s;
  Transaction& t = s.transaction;
  t.id = crypto::NewUuid();
  t.mode = n.mode;
  t.service_provider = n.service_provider;
  t.datasets = n.datasets;
  t.purpose = n.purpose;
  t.return_uri = n.return_uri;
  t.created_at = t.updated_at = clock_.NowMillis();
  t.deadline_at = t.created_at + n.lifetime.count() * 1000;
  s.ref = crypto::NewSecretToken();
  TROAD_RETURN_IF_ERROR(db_.Execute(
      fmt::format(
          "INSERT INTO transactions ({}, ref_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          kColumns),
      {t.id, std::string(ModeName(t.mode)), t.service_provider, nlohmann::json(t.datasets).dump(),
       t.purpose, t.return_uri, std::string(StateName(t.state)), t.deadline_at, t.created_at,
       t.updated_at, crypto::Sha256Hex(s.ref)}));
  return s;
}

Result<Transaction> Transactions::Get(std::string_view id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query(fmt::format("SELECT {} FROM transactions WHERE id = ?", kColumns),
                           {std::string(id)}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "no transaction {}", EscapeForLog(id, 80));
  }
  return FromRow(rows[0]);
}

Result<Transaction> Transactions::ByRef(std::string_view ref) {
  if (ref.size() != 43) return Fail(ErrorCode::kNotFound, "no transaction for this reference");
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query(fmt::format("SELECT {} FROM transactions WHERE ref_hash = ?", kColumns),
                           {crypto::Sha256Hex(ref)}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "no transaction for this reference");
  return FromRow(rows[0]);
}

Result<Transaction> Transactions::Apply(std::string_view id, TransactionEvent event,
                                        int64_t deadline_at) {
  TROAD_ASSIGN_OR_RETURN(Transaction t, Get(id));
  TROAD_ASSIGN_OR_RETURN(TransactionState next, Next(t.state, event));
  int64_t now = clock_.NowMillis();
  // Only from the state read: two workers racing on one transaction cannot both move it.
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE transactions SET state = ?, deadline_at = ?, updated_at = ? "
                  "WHERE id = ? AND state = ?",
                  {std::string(StateName(next)), deadline_at ? deadline_at : t.deadline_at, now,
                   t.id, std::string(StateName(t.state))}));
  if (changed == 0) {
    return Fail(ErrorCode::kFailedPrecondition, "transaction {} changed meanwhile", t.id);
  }
  t.state = next;
  if (deadline_at) t.deadline_at = deadline_at;
  t.updated_at = now;
  return t;
}

}  // namespace troad::mydata
