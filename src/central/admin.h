// Administrators of the central: accounts (Argon2id password hashes, a role), login
// with rate limiting of wrong passwords, sessions, and the audit log of administrative
// actions (who, what, when, from where), exportable as JSON Lines.
//
// Roles: the central operator may do everything; a member administrator acts only for
// their own member (Principal::CanActFor) and manages only member administrators of
// that member. Permission decisions are plain functions on Principal; AdminStore
// applies them to account management, the registry's handlers apply CanActFor.
//
// Sessions: Login returns a random bearer token (32 bytes, base64url); only its SHA-256
// is stored, so a copy of the database does not hold usable sessions. A session ends
// after `idle_timeout` without Authenticate, after `absolute_timeout` in any case, on
// Logout, and when its account is disabled or its password is changed.
//
// Rate limiting: a wrong password (or unknown user name) is recorded in the database,
// so it survives restarts and is shared by every process on the same database. After
// `max_failures_per_user` for a user name, or `max_failures_per_remote` from one
// address, within `failure_window`, further attempts are refused without checking
// the password until enough of those failures have aged out of the window. Refused
// attempts are not counted (a locked account unlocks on time), but are audited.
//
// Thread-safety: an AdminStore uses one store::Database, which is one connection:
// use it from one thread at a time (open one per worker thread). Login, CreateAdmin
// and ChangePassword run Argon2id (tens of milliseconds, 19 MiB): call them from a
// worker thread, not an event loop that serves other connections. Methods that write
// open their own transaction (Audit alone does not), so do not call them inside one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/password.h"
#include "store/database.h"

namespace troad::central {

// Times are Unix milliseconds. `member` is a member id (INSTANCE/CLASS/CODE), '' for
// an operator. Only the SHA-256 (lower-case hex) of a session token is stored.
// login_failures holds failed logins inside the rate-limit window (older rows are
// pruned). audit_log is append-only; `detail` is a JSON object.
inline constexpr std::string_view kAdminSchemaSql = R"sql(
CREATE TABLE admins (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('operator', 'member-admin')),
  member TEXT NOT NULL DEFAULT '',
  display_name TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  CHECK ((role = 'operator' AND member = '') OR (role = 'member-admin' AND member <> ''))
);
CREATE TABLE admin_sessions (
  token_hash TEXT PRIMARY KEY,
  admin_id INTEGER NOT NULL REFERENCES admins(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  remote TEXT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  username TEXT NOT NULL,
  remote TEXT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_remote ON login_failures (remote, at);
CREATE INDEX login_failures_at ON login_failures (at);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  member TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  remote TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_member ON audit_log (member, id);
)sql";

enum class Role { kOperator, kMemberAdmin };

// "operator", "member-admin" (as stored and exported).
std::string_view RoleName(Role role);
// kInvalidArgument for any other text.
Result<Role> ParseRole(std::string_view text);

// An authenticated administrator.
struct Principal {
  int64_t admin_id = 0;
  std::string username;
  Role role = Role::kOperator;
  std::string member;  // member id for kMemberAdmin, empty for an operator

  // Whether this administrator may act on `id`: an operator on anything; a member
  // administrator on its own member id exactly ("TW/GOV/MOI") and on ids under it
  // ("TW/GOV/MOI/household", its services and gateways), nothing else.
  bool CanActFor(std::string_view id) const;
  // Whether this administrator may create, disable or reset the password of an
  // account with `role` and `member`: an operator any; a member administrator only
  // member administrators of its own member.
  bool CanManage(Role role, std::string_view member) const;
};

// Who does something and from where: the permission check and the audit log's
// "who" and "from where".
struct Actor {
  std::optional<Principal> principal;  // nullopt: a command run on the central's host
  std::string local_name;              // the audit log's actor when principal is empty
  std::string remote;                  // the client's address; "local" on the host

  static Actor Of(const Principal& principal, std::string_view remote);
  static Actor Local(std::string_view name = "cli");
};

struct NewAdmin {
  std::string username;  // [a-z0-9._-]{3,64}
  std::string password;  // crypto::CheckPasswordPolicy
  Role role = Role::kOperator;
  std::string member;        // a member id for kMemberAdmin (not a subsystem), else empty
  std::string display_name;  // at most 200 bytes of UTF-8 without control characters
};

struct AdminInfo {
  int64_t id = 0;
  std::string username;
  Role role = Role::kOperator;
  std::string member;
  std::string display_name;
  SystemTime created_at{};
  bool disabled = false;
};

struct Session {
  std::string token;      // give to the client (cookie); never stored
  SystemTime expires_at;  // the absolute end; the idle timeout may end it sooner
  Principal principal;
};

// One row of the audit log.
struct AuditEntry {
  int64_t id = 0;       // assigned by Audit; ascending in insertion order
  SystemTime at{};      // assigned by Audit from the clock
  std::string actor;    // a username, or Actor::local_name
  std::string role;     // RoleName of the actor, or "" for a local command
  std::string member;   // the member the action concerned ('' if none)
  std::string action;   // "admin.login", "member.create", … (dotted, lower case)
  std::string target;   // what was acted on: a username, a member or service id, …
  std::string detail;   // a JSON object ('' is stored as "{}"); never a secret
  std::string remote;   // the client's address
  std::string outcome;  // "ok", "failed", "denied", "refused"
};

struct AuditFilter {
  std::optional<SystemTime> from;  // at >= from
  std::optional<SystemTime> to;    // at < to
  std::string actor;               // '' = any
  std::string member;              // '' = any; else exactly this member
  int64_t after_id = 0;            // paging: entries with id > after_id
  int limit = 100;                 // 1..1000 (clamped); ignored by the exports
};

// One audit entry as one line of JSON (no newline) with the keys id, at (RFC 3339
// UTC), actor, role, member, action, target, outcome, remote, detail (an object; a
// stored detail that is not a JSON object is exported as a string).
std::string AuditJsonLine(const AuditEntry& entry);

struct AdminOptions {
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(30);
  std::chrono::milliseconds absolute_timeout = std::chrono::hours(12);
  int max_failures_per_user = 5;
  int max_failures_per_remote = 20;
  std::chrono::milliseconds failure_window = std::chrono::minutes(15);
  crypto::PasswordParams password_params{};
};

class AdminStore {
 public:
  // `db` must have kAdminSchemaSql applied; `db` and `clock` must outlive this.
  AdminStore(store::Database& db, const Clock& clock, AdminOptions options = {});

  // kInvalidArgument for a bad user name, a password that fails the policy, a role
  // and member that do not fit; kPermissionDenied when `by` may not manage such an
  // account (audited as "denied"); kAlreadyExists for a taken user name.
  Result<AdminInfo> CreateAdmin(const NewAdmin& admin, const Actor& by);
  // Disabling ends the account's sessions. kNotFound, kPermissionDenied;
  // kFailedPrecondition when it is the last enabled operator.
  Status Disable(std::string_view username, const Actor& by);
  Status Enable(std::string_view username, const Actor& by);
  // Sets a new password (policy checked) and ends all the account's sessions. An
  // administrator changing their own password must give the current one
  // (kUnauthenticated when wrong, counted like a failed login; kResourceExhausted
  // when locked out); a manager resetting someone else's, or a local command, need not.
  Status ChangePassword(std::string_view username, std::string_view new_password, const Actor& by,
                        std::optional<std::string_view> current_password = std::nullopt);
  // The accounts `by` may see (a member administrator: its own member's), by user name.
  Result<std::vector<AdminInfo>> List(const Actor& by);

  // kUnauthenticated "wrong user name or password" for an unknown user, a wrong
  // password or a malformed user name alike; kResourceExhausted "too many failed
  // logins; try again after <RFC 3339>" when rate-limited; kPermissionDenied for a
  // disabled account (only said after the right password). Every outcome is audited.
  Result<Session> Login(std::string_view username, std::string_view password,
                        std::string_view remote);
  // The administrator of a live session, whose idle timer restarts. kUnauthenticated
  // for an unknown, expired or ended session.
  Result<Principal> Authenticate(std::string_view token);
  // Ends the session (audited); Ok also when it does not exist.
  Status Logout(std::string_view token, std::string_view remote);

  // Appends `entry` (its id and at are assigned) in the caller's transaction, if any.
  // kInvalidArgument when action is empty or detail is not a JSON object.
  Status Audit(const AuditEntry& entry);
  // The same, with who and from where taken from `by`; `member` defaults to the
  // actor's member.
  Status Audit(const Actor& by, std::string_view action, std::string_view target,
               std::string_view outcome, std::string_view detail_json = "{}",
               std::optional<std::string_view> member = std::nullopt);
  // Matching entries in id order, at most filter.limit.
  Result<std::vector<AuditEntry>> ListAudit(const AuditFilter& filter);
  // Every matching entry from filter.after_id on, as AuditJsonLine + '\n' each,
  // passed to `sink` in id order, a page at a time (sink errors stop the export).
  Status ExportAudit(const AuditFilter& filter,
                     const std::function<Status(std::string_view lines)>& sink);
  // The whole export as one string (for small logs and tests).
  Result<std::string> ExportAuditJsonLines(const AuditFilter& filter);

  const AdminOptions& options() const { return options_; }

 private:
  struct Account;
  Result<std::optional<Account>> FindAccount(std::string_view username);
  // kResourceExhausted when `username` or `remote` is locked out now.
  Status CheckLockout(std::string_view username, std::string_view remote);
  Status RecordFailure(std::string_view username, std::string_view remote);
  Status SetDisabled(std::string_view username, bool disabled, const Actor& by);
  // Audits a refusal for lack of permission and returns kPermissionDenied.
  Error Deny(const Actor& by, std::string_view action, std::string_view target,
             std::string_view member);
  // A hash to verify against for unknown users, so that they take as long.
  const std::string& DummyHash();

  store::Database& db_;
  const Clock& clock_;
  const AdminOptions options_;
  std::string dummy_hash_;
};

}  // namespace troad::central
