#include "central/admin.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace troad::central {
namespace {

constexpr std::string_view kWrongCredentials = "wrong user name or password";
constexpr size_t kMaxTokenLength = 256;  // ours are 43 characters
constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxRemote = 100;
constexpr size_t kMaxAuditText = 1000;  // actor, action, target, …
constexpr size_t kMaxAuditDetail = 64 * 1024;
constexpr int kMaxAuditPage = 1000;

constexpr std::string_view kAuditColumns =
    "id, at, actor, role, member, action, target, detail, remote, outcome";

Status ValidateUsername(std::string_view name) {
  if (name.size() < 3 || name.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "a user name has 3 to 64 characters, not {}",
                name.size());
  }
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Fail(ErrorCode::kInvalidArgument,
                  "user name \"{}\": only lower-case letters a-z, digits, '.', '_' and '-' "
                  "are allowed",
                  EscapeForLog(name, 64));
    }
  }
  return Ok();
}

Status ValidateDisplayName(std::string_view name) {
  return CheckText("the display name", name, kMaxDisplayName, /*required=*/false,
                   /*multiline=*/false);
}

// The member id a member administrator is scoped to, normalised; '' for an operator.
Result<std::string> ValidateScope(Role role, std::string_view member) {
  if (role == Role::kOperator) {
    if (!member.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "an operator is not scoped to a member; leave the member empty");
    }
    return std::string();
  }
  if (member.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a member administrator needs the member id it administers (INSTANCE/CLASS/CODE)");
  }
  auto id = ClientId::Parse(member);
  if (!id) return tl::unexpected(std::move(id).error().Context("member of the administrator"));
  if (id->is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument,
                "member of the administrator: \"{}\" is a subsystem; give the member "
                "(INSTANCE/CLASS/CODE)",
                EscapeForLog(member));
  }
  return id->ToString();
}

// Text from callers or peers made fit for a TEXT column and an audit line.
std::string Clean(std::string_view text, size_t max) { return RepairUtf8(text.substr(0, max)); }

std::string DetailJson(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& [k, v] : kv) w.Member(k, v);
  w.EndObject();
  return out;
}

Result<AuditEntry> AuditFromRow(const store::Row& row) {
  AuditEntry e;
  TROAD_ASSIGN_OR_RETURN(e.id, row.Int(0));
  TROAD_ASSIGN_OR_RETURN(const int64_t at, row.Int(1));
  e.at = FromUnixMillis(at);
  std::string* texts[] = {&e.actor,  &e.role,   &e.member, &e.action,
                          &e.target, &e.detail, &e.remote, &e.outcome};
  for (size_t i = 0; i < 8; ++i) {
    TROAD_ASSIGN_OR_RETURN(*texts[i], row.Text(i + 2));
  }
  return e;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kMemberAdmin:
      return "member-admin";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view text) {
  if (text == "operator") return Role::kOperator;
  if (text == "member-admin") return Role::kMemberAdmin;
  return Fail(ErrorCode::kInvalidArgument,
              "role \"{}\" is neither \"operator\" nor \"member-admin\"", EscapeForLog(text, 40));
}

bool Principal::CanActFor(std::string_view id) const {
  if (role == Role::kOperator) return true;
  if (member.empty()) return false;
  return id == member ||
         (id.size() > member.size() + 1 && id.starts_with(member) && id[member.size()] == '/');
}

bool Principal::CanManage(Role target_role, std::string_view target_member) const {
  if (role == Role::kOperator) return true;
  return target_role == Role::kMemberAdmin && !member.empty() && target_member == member;
}

Actor Actor::Of(const Principal& principal, std::string_view remote) {
  Actor a;
  a.principal = principal;
  a.remote = std::string(remote);
  return a;
}

Actor Actor::Local(std::string_view name) {
  Actor a;
  a.local_name = std::string(name);
  a.remote = "local";
  return a;
}

std::string AuditJsonLine(const AuditEntry& e) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Member("id", e.id)
      .Member("at", FormatRfc3339(e.at))
      .Member("actor", e.actor)
      .Member("role", e.role)
      .Member("member", e.member)
      .Member("action", e.action)
      .Member("target", e.target)
      .Member("outcome", e.outcome)
      .Member("remote", e.remote);
  auto detail = ParseJson(e.detail, "audit detail");
  if (detail && detail->is_object()) {
    w.EndObject();
    // JsonWriter writes no raw JSON: reopen the object to append the detail as is.
    out.pop_back();
    out += ",\"detail\":";
    out += detail->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '}';
  } else {
    w.Member("detail", e.detail).EndObject();
  }
  return out;
}

struct AdminStore::Account {
  AdminInfo info;
  std::string password_hash;

  Principal ToPrincipal() const {
    Principal p;
    p.admin_id = info.id;
    p.username = info.username;
    p.role = info.role;
    p.member = info.member;
    return p;
  }
};

AdminStore::AdminStore(store::Database& db, const Clock& clock, AdminOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

Result<std::optional<AdminStore::Account>> AdminStore::FindAccount(std::string_view username) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT id, username, role, member, display_name, created_at, disabled, "
                           "password_hash FROM admins WHERE username = ?",
                           {std::string(username)}));
  if (rows.empty()) return std::optional<Account>();
  const store::Row& row = rows[0];
  Account a;
  TROAD_ASSIGN_OR_RETURN(a.info.id, row.Int(0));
  TROAD_ASSIGN_OR_RETURN(a.info.username, row.Text(1));
  TROAD_ASSIGN_OR_RETURN(const std::string role, row.Text(2));
  auto parsed = ParseRole(role);
  if (!parsed) {
    return Fail(ErrorCode::kDataLoss, "admins row {}: {}", a.info.id, parsed.error().message());
  }
  a.info.role = *parsed;
  TROAD_ASSIGN_OR_RETURN(a.info.member, row.Text(3));
  TROAD_ASSIGN_OR_RETURN(a.info.display_name, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(const int64_t created, row.Int(5));
  a.info.created_at = FromUnixMillis(created);
  TROAD_ASSIGN_OR_RETURN(const int64_t disabled, row.Int(6));
  a.info.disabled = disabled != 0;
  TROAD_ASSIGN_OR_RETURN(a.password_hash, row.Text(7));
  return std::optional<Account>(std::move(a));
}

const std::string& AdminStore::DummyHash() {
  if (dummy_hash_.empty()) {
    auto hash = crypto::HashPassword(crypto::RandomBytes(16), options_.password_params);
    if (hash) dummy_hash_ = std::move(*hash);
  }
  return dummy_hash_;
}

Error AdminStore::Deny(const Actor& by, std::string_view action, std::string_view target,
                       std::string_view member) {
  // The refusal is what matters to the caller; a failure to audit it is not hidden
  // but reported in its place.
  auto audited = Audit(by, action, target, "denied", "{}", member);
  if (!audited) return std::move(audited).error();
  return Error(ErrorCode::kPermissionDenied,
               fmt::format("not allowed to {} \"{}\"", action, EscapeForLog(target, 64)));
}

// ---- accounts ----------------------------------------------------------------------

Result<AdminInfo> AdminStore::CreateAdmin(const NewAdmin& admin, const Actor& by) {
  TROAD_RETURN_IF_ERROR(ValidateUsername(admin.username));
  TROAD_ASSIGN_OR_RETURN(const std::string member, ValidateScope(admin.role, admin.member));
  TROAD_RETURN_IF_ERROR(ValidateDisplayName(admin.display_name));
  TROAD_RETURN_IF_ERROR(crypto::CheckPasswordPolicy(admin.password));
  if (by.principal && !by.principal->CanManage(admin.role, member)) {
    return tl::unexpected(Deny(by, "admin.create", admin.username, member));
  }
  TROAD_ASSIGN_OR_RETURN(const std::string hash,
                         crypto::HashPassword(admin.password, options_.password_params));

  const int64_t now = clock_.NowMillis();
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  auto inserted = db_.Execute(
      "INSERT INTO admins (username, password_hash, role, member, display_name, created_at, "
      "disabled) VALUES (?, ?, ?, ?, ?, ?, 0)",
      {admin.username, hash, std::string(RoleName(admin.role)), member, admin.display_name, now});
  if (!inserted) {
    if (inserted.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "an administrator named \"{}\" already exists",
                  admin.username);
    }
    return tl::unexpected(std::move(inserted).error());
  }
  TROAD_ASSIGN_OR_RETURN(auto account, FindAccount(admin.username));
  if (!account) return Fail(ErrorCode::kInternal, "the inserted administrator is not there");
  TROAD_RETURN_IF_ERROR(Audit(by, "admin.create", admin.username, "ok",
                              DetailJson({{"role", RoleName(admin.role)},
                                          {"member", member},
                                          {"display_name", admin.display_name}}),
                              member));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return account->info;
}

Status AdminStore::Disable(std::string_view username, const Actor& by) {
  return SetDisabled(username, true, by);
}

Status AdminStore::Enable(std::string_view username, const Actor& by) {
  return SetDisabled(username, false, by);
}

Status AdminStore::SetDisabled(std::string_view username, bool disabled, const Actor& by) {
  const std::string_view action = disabled ? "admin.disable" : "admin.enable";
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(auto account, FindAccount(username));
  if (!account) {
    return Fail(ErrorCode::kNotFound, "no administrator is named \"{}\"",
                EscapeForLog(username, 64));
  }
  if (by.principal && !by.principal->CanManage(account->info.role, account->info.member)) {
    Error denied = Deny(by, action, username, account->info.member);
    TROAD_RETURN_IF_ERROR(tx.Commit());
    return tl::unexpected(std::move(denied));
  }
  if (disabled && account->info.role == Role::kOperator && !account->info.disabled) {
    TROAD_ASSIGN_OR_RETURN(
        auto rows,
        db_.Query("SELECT COUNT(*) FROM admins WHERE role = 'operator' AND disabled = 0"));
    TROAD_ASSIGN_OR_RETURN(const int64_t operators, rows.at(0).Int(0));
    if (operators <= 1) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "\"{}\" is the last enabled operator; enable or create another one first",
                  username);
    }
  }
  TROAD_RETURN_IF_ERROR(db_.Execute("UPDATE admins SET disabled = ? WHERE id = ?",
                                    {int64_t{disabled ? 1 : 0}, account->info.id}));
  if (disabled) {
    TROAD_RETURN_IF_ERROR(
        db_.Execute("DELETE FROM admin_sessions WHERE admin_id = ?", {account->info.id}));
  }
  TROAD_RETURN_IF_ERROR(Audit(by, action, username, "ok", "{}", account->info.member));
  return tx.Commit();
}

Status AdminStore::ChangePassword(std::string_view username, std::string_view new_password,
                                  const Actor& by,
                                  std::optional<std::string_view> current_password) {
  constexpr std::string_view kAction = "admin.password";
  TROAD_ASSIGN_OR_RETURN(auto account, FindAccount(username));
  if (!account) {
    return Fail(ErrorCode::kNotFound, "no administrator is named \"{}\"",
                EscapeForLog(username, 64));
  }
  const bool self = by.principal && by.principal->admin_id == account->info.id;
  if (self) {
    if (!current_password) {
      return Fail(ErrorCode::kInvalidArgument, "give your current password to change it");
    }
    TROAD_RETURN_IF_ERROR(CheckLockout(username, by.remote));
    TROAD_ASSIGN_OR_RETURN(const bool right,
                           crypto::VerifyPassword(*current_password, account->password_hash));
    if (!right) {
      TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
      TROAD_RETURN_IF_ERROR(RecordFailure(username, by.remote));
      TROAD_RETURN_IF_ERROR(Audit(by, kAction, username, "failed",
                                  DetailJson({{"reason", "wrong current password"}}),
                                  account->info.member));
      TROAD_RETURN_IF_ERROR(tx.Commit());
      return Fail(ErrorCode::kUnauthenticated, "the current password is wrong");
    }
  } else if (by.principal && !by.principal->CanManage(account->info.role, account->info.member)) {
    return tl::unexpected(Deny(by, kAction, username, account->info.member));
  }
  TROAD_RETURN_IF_ERROR(crypto::CheckPasswordPolicy(new_password));
  TROAD_ASSIGN_OR_RETURN(const std::string hash,
                         crypto::HashPassword(new_password, options_.password_params));
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("UPDATE admins SET password_hash = ? WHERE id = ?", {hash, account->info.id}));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM admin_sessions WHERE admin_id = ?", {account->info.id}));
  TROAD_RETURN_IF_ERROR(Audit(by, kAction, username, "ok",
                              DetailJson({{"by", self ? "self" : "manager"}}),
                              account->info.member));
  return tx.Commit();
}

Result<std::vector<AdminInfo>> AdminStore::List(const Actor& by) {
  std::string sql = "SELECT username FROM admins";
  std::vector<store::Value> params;
  if (by.principal && by.principal->role != Role::kOperator) {
    sql += " WHERE member = ?";
    params.emplace_back(by.principal->member);
  }
  sql += " ORDER BY username";
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
  std::vector<AdminInfo> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    TROAD_ASSIGN_OR_RETURN(const std::string name, row.Text(0));
    TROAD_ASSIGN_OR_RETURN(auto account, FindAccount(name));
    if (account) out.push_back(std::move(account->info));
  }
  return out;
}

// ---- login and sessions ------------------------------------------------------------

Status AdminStore::CheckLockout(std::string_view username, std::string_view remote) {
  const int64_t now = clock_.NowMillis();
  const int64_t window = options_.failure_window.count();
  int64_t until = 0;
  // The limit-th most recent failure inside the window: when it ages out, one more
  // attempt is allowed.
  auto check = [&](std::string_view column, std::string_view key, int limit) -> Status {
    if (limit <= 0) return Ok();
    TROAD_ASSIGN_OR_RETURN(
        auto rows, db_.Query(fmt::format("SELECT at FROM login_failures WHERE {} = ? AND at > ? "
                                         "ORDER BY at DESC LIMIT ?",
                                         column),
                             {std::string(key), now - window, int64_t{limit}}));
    if (rows.size() >= static_cast<size_t>(limit)) {
      TROAD_ASSIGN_OR_RETURN(const int64_t at, rows.back().Int(0));
      until = std::max(until, at + window);
    }
    return Ok();
  };
  TROAD_RETURN_IF_ERROR(check("username", username, options_.max_failures_per_user));
  TROAD_RETURN_IF_ERROR(check("remote", remote, options_.max_failures_per_remote));
  if (until > now) {
    return Fail(ErrorCode::kResourceExhausted, "too many failed logins; try again after {}",
                FormatRfc3339(FromUnixMillis(until)));
  }
  return Ok();
}

Status AdminStore::RecordFailure(std::string_view username, std::string_view remote) {
  const int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM login_failures WHERE at <= ?",
                                    {now - options_.failure_window.count()}));
  return db_
      .Execute("INSERT INTO login_failures (at, username, remote) VALUES (?, ?, ?)",
               {now, std::string(username), std::string(remote)})
      .map([](int64_t) {});
}

Result<Session> AdminStore::Login(std::string_view username_in, std::string_view password,
                                  std::string_view remote_in) {
  constexpr std::string_view kAction = "admin.login";
  // What is recorded of the attempt: as given, made safe for storage.
  const std::string username = Clean(username_in, 64);
  const std::string remote = Clean(remote_in, kMaxRemote);
  Actor attempt = Actor::Local(username);
  attempt.remote = remote;

  if (auto locked = CheckLockout(username, remote); !locked) {
    if (locked.error().code() != ErrorCode::kResourceExhausted)
      return tl::unexpected(locked.error());
    TROAD_RETURN_IF_ERROR(Audit(attempt, kAction, username, "refused",
                                DetailJson({{"reason", "too many failed logins"}})));
    return tl::unexpected(locked.error());
  }

  std::optional<Account> account;
  if (ValidateUsername(username_in)) {
    TROAD_ASSIGN_OR_RETURN(account, FindAccount(username_in));
  }
  bool right = false;
  if (password.size() <= crypto::kPasswordMaxBytes) {
    // An unknown user costs the same Argon2id run as a known one.
    const std::string& hash = account ? account->password_hash : DummyHash();
    auto verified = crypto::VerifyPassword(password, hash);
    if (!verified && account) {
      return tl::unexpected(std::move(verified).error().Context(
          fmt::format("stored password hash of administrator \"{}\"", username)));
    }
    right = account && verified && *verified;
  }

  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  if (!right) {
    TROAD_RETURN_IF_ERROR(RecordFailure(username, remote));
    TROAD_RETURN_IF_ERROR(
        Audit(attempt, kAction, username, "failed", DetailJson({{"reason", kWrongCredentials}})));
    TROAD_RETURN_IF_ERROR(tx.Commit());
    return Fail(ErrorCode::kUnauthenticated, "{}", kWrongCredentials);
  }
  const Principal principal = account->ToPrincipal();
  const Actor actor = Actor::Of(principal, remote);
  if (account->info.disabled) {
    TROAD_RETURN_IF_ERROR(
        Audit(actor, kAction, username, "denied", DetailJson({{"reason", "account disabled"}})));
    TROAD_RETURN_IF_ERROR(tx.Commit());
    return Fail(ErrorCode::kPermissionDenied, "this administrator account is disabled");
  }

  const int64_t now = clock_.NowMillis();
  Session session;
  session.token = crypto::NewSecretToken();
  session.expires_at = FromUnixMillis(now + options_.absolute_timeout.count());
  session.principal = principal;
  // Expired sessions of anyone are dropped here rather than by a timer.
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM admin_sessions WHERE expires_at <= ? OR last_seen <= ?",
                  {now, now - options_.idle_timeout.count()}));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at, last_seen, "
      "remote) VALUES (?, ?, ?, ?, ?, ?)",
      {crypto::Sha256Hex(session.token), principal.admin_id, now, ToUnixMillis(session.expires_at),
       now, remote}));
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM login_failures WHERE username = ?", {username}));
  if (crypto::NeedsRehash(account->password_hash, options_.password_params)) {
    // Parameters were raised since this hash was made: store one made with today's.
    if (auto rehashed = crypto::HashPassword(password, options_.password_params)) {
      TROAD_RETURN_IF_ERROR(db_.Execute("UPDATE admins SET password_hash = ? WHERE id = ?",
                                        {*rehashed, principal.admin_id}));
    }
  }
  TROAD_RETURN_IF_ERROR(Audit(actor, kAction, username, "ok", "{}"));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return session;
}

Result<Principal> AdminStore::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) {
    return Fail(ErrorCode::kUnauthenticated, "not signed in");
  }
  const std::string token_hash = crypto::Sha256Hex(token);
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT s.expires_at, s.last_seen, a.id, a.username, a.role, a.member, "
                           "a.disabled FROM admin_sessions s JOIN admins a ON a.id = s.admin_id "
                           "WHERE s.token_hash = ?",
                           {token_hash}));
  if (rows.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "not signed in, or the session has ended");
  }
  const store::Row& row = rows[0];
  TROAD_ASSIGN_OR_RETURN(const int64_t expires_at, row.Int(0));
  TROAD_ASSIGN_OR_RETURN(const int64_t last_seen, row.Int(1));
  Principal p;
  TROAD_ASSIGN_OR_RETURN(p.admin_id, row.Int(2));
  TROAD_ASSIGN_OR_RETURN(p.username, row.Text(3));
  TROAD_ASSIGN_OR_RETURN(const std::string role, row.Text(4));
  auto parsed = ParseRole(role);
  if (!parsed) {
    return Fail(ErrorCode::kDataLoss, "admins row {}: {}", p.admin_id, parsed.error().message());
  }
  p.role = *parsed;
  TROAD_ASSIGN_OR_RETURN(p.member, row.Text(5));
  TROAD_ASSIGN_OR_RETURN(const int64_t disabled, row.Int(6));

  const int64_t now = clock_.NowMillis();
  if (now >= expires_at || now - last_seen >= options_.idle_timeout.count() || disabled != 0) {
    TROAD_RETURN_IF_ERROR(
        db_.Execute("DELETE FROM admin_sessions WHERE token_hash = ?", {token_hash}));
    return Fail(ErrorCode::kUnauthenticated, "the session has expired; sign in again");
  }
  TROAD_RETURN_IF_ERROR(db_.Execute("UPDATE admin_sessions SET last_seen = ? WHERE token_hash = ?",
                                    {now, token_hash}));
  return p;
}

Status AdminStore::Logout(std::string_view token, std::string_view remote) {
  if (token.empty() || token.size() > kMaxTokenLength) return Ok();
  const std::string token_hash = crypto::Sha256Hex(token);
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query("SELECT a.username FROM admin_sessions s JOIN admins a ON "
                                   "a.id = s.admin_id WHERE s.token_hash = ?",
                                   {token_hash}));
  if (rows.empty()) return Ok();
  TROAD_ASSIGN_OR_RETURN(const std::string username, rows[0].Text(0));
  TROAD_ASSIGN_OR_RETURN(auto account, FindAccount(username));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM admin_sessions WHERE token_hash = ?", {token_hash}));
  if (account) {
    TROAD_RETURN_IF_ERROR(Audit(Actor::Of(account->ToPrincipal(), Clean(remote, kMaxRemote)),
                                "admin.logout", username, "ok", "{}"));
  }
  return tx.Commit();
}

// ---- audit log ---------------------------------------------------------------------

Status AdminStore::Audit(const AuditEntry& entry) {
  if (entry.action.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "an audit entry needs an action");
  }
  std::string detail = entry.detail.empty() ? std::string("{}") : entry.detail;
  if (detail.size() > kMaxAuditDetail) {
    return Fail(ErrorCode::kInvalidArgument, "audit detail of {} bytes is over {}", detail.size(),
                kMaxAuditDetail);
  }
  auto parsed = ParseJson(detail, "audit detail");
  if (!parsed) return tl::unexpected(std::move(parsed).error());
  if (!parsed->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "audit detail is not a JSON object");
  }
  return db_
      .Execute(
          "INSERT INTO audit_log (at, actor, role, member, action, target, detail, remote, "
          "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {clock_.NowMillis(), Clean(entry.actor, kMaxAuditText), Clean(entry.role, kMaxAuditText),
           Clean(entry.member, kMaxAuditText), Clean(entry.action, kMaxAuditText),
           Clean(entry.target, kMaxAuditText), detail, Clean(entry.remote, kMaxAuditText),
           Clean(entry.outcome, kMaxAuditText)})
      .map([](int64_t) {});
}

Status AdminStore::Audit(const Actor& by, std::string_view action, std::string_view target,
                         std::string_view outcome, std::string_view detail_json,
                         std::optional<std::string_view> member) {
  AuditEntry e;
  if (by.principal) {
    e.actor = by.principal->username;
    e.role = std::string(RoleName(by.principal->role));
    e.member = member ? std::string(*member) : by.principal->member;
  } else {
    e.actor = by.local_name;
    e.member = member ? std::string(*member) : std::string();
  }
  if (auto id = ClientId::Parse(e.member); id && id->is_subsystem()) {
    e.member = id->Member().ToString();  // the log is filtered by member
  }
  e.action = std::string(action);
  e.target = std::string(target);
  e.detail = std::string(detail_json);
  e.remote = by.remote;
  e.outcome = std::string(outcome);
  return Audit(e);
}

Result<std::vector<AuditEntry>> AdminStore::ListAudit(const AuditFilter& filter) {
  std::string sql = fmt::format("SELECT {} FROM audit_log WHERE id > ?", kAuditColumns);
  std::vector<store::Value> params{filter.after_id};
  if (filter.from) {
    sql += " AND at >= ?";
    params.emplace_back(ToUnixMillis(*filter.from));
  }
  if (filter.to) {
    sql += " AND at < ?";
    params.emplace_back(ToUnixMillis(*filter.to));
  }
  if (!filter.actor.empty()) {
    sql += " AND actor = ?";
    params.emplace_back(filter.actor);
  }
  if (!filter.member.empty()) {
    sql += " AND member = ?";
    params.emplace_back(filter.member);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(int64_t{std::clamp(filter.limit, 1, kMaxAuditPage)});
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    TROAD_ASSIGN_OR_RETURN(auto entry, AuditFromRow(row));
    out.push_back(std::move(entry));
  }
  return out;
}

Status AdminStore::ExportAudit(const AuditFilter& filter,
                               const std::function<Status(std::string_view lines)>& sink) {
  AuditFilter page = filter;
  page.limit = kMaxAuditPage;
  for (;;) {
    TROAD_ASSIGN_OR_RETURN(auto entries, ListAudit(page));
    if (entries.empty()) return Ok();
    std::string lines;
    for (const AuditEntry& e : entries) {
      lines += AuditJsonLine(e);
      lines += '\n';
    }
    TROAD_RETURN_IF_ERROR(sink(lines));
    if (entries.size() < static_cast<size_t>(kMaxAuditPage)) return Ok();
    page.after_id = entries.back().id;
  }
}

Result<std::string> AdminStore::ExportAuditJsonLines(const AuditFilter& filter) {
  std::string out;
  TROAD_RETURN_IF_ERROR(ExportAudit(filter, [&out](std::string_view lines) -> Status {
    out += lines;
    return Ok();
  }));
  return out;
}

}  // namespace troad::central
