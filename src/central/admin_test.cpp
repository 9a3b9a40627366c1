#include "central/admin.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "store/migrate.h"

namespace troad::central {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr int64_t kStartMs = 1795501800000;  // 2026-11-24T06:30:00.000Z
constexpr std::string_view kRootPassword = "root password 1";
constexpr std::string_view kMoiPassword = "moi admin password";

std::string FileContents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "troad_admin_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    Open();
    ASSERT_TRUE(db_);
    const store::Migration migrations[] = {{1, "administrators", kAdminSchemaSql}};
    auto migrated = store::Migrate(*db_, migrations, clock_);
    ASSERT_TRUE(migrated) << migrated.error().ToString();

    auto root = store_->CreateAdmin(NewAdmin{.username = "root",
                                             .password = std::string(kRootPassword),
                                             .role = Role::kOperator,
                                             .member = "",
                                             .display_name = "Central operator"},
                                    Actor::Local("cli"));
    ASSERT_TRUE(root) << root.error().ToString();
    auto moi = store_->CreateAdmin(NewAdmin{.username = "moi.admin",
                                            .password = std::string(kMoiPassword),
                                            .role = Role::kMemberAdmin,
                                            .member = "TW/GOV/MOI",
                                            .display_name = "MOI"},
                                   Actor::Local("cli"));
    ASSERT_TRUE(moi) << moi.error().ToString();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)opens the database file and a store over it, as a restarted process would.
  void Open() {
    store_.reset();
    db_.reset();
    auto db = store::OpenSqlite((dir_ / "central.db").string());
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    store_ = std::make_unique<AdminStore>(*db_, clock_, options_);
  }

  Principal Root() {
    auto session = store_->Login("root", kRootPassword, "192.0.2.1");
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? session->principal : Principal{};
  }

  int64_t Count(const std::string& sql) {
    auto rows = db_->Query(sql);
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows ? *(*rows)[0].Int(0) : -1;
  }

  void Advance(milliseconds by) { clock_.Advance(by); }

  std::filesystem::path dir_;
  FakeClock clock_{FromUnixMillis(kStartMs)};
  // Cheap Argon2id: the parameters themselves are tested in crypto/password_test.
  AdminOptions options_{.idle_timeout = minutes(30),
                        .absolute_timeout = hours(12),
                        .max_failures_per_user = 5,
                        .max_failures_per_remote = 20,
                        .failure_window = minutes(15),
                        .password_params = {.memory_kib = 64, .iterations = 1, .parallelism = 1}};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<AdminStore> store_;
};

TEST_F(AdminTest, RightPasswordGivesASessionForThatAdministrator) {
  auto session = store_->Login("moi.admin", kMoiPassword, "192.0.2.1");
  ASSERT_TRUE(session) << session.error().ToString();
  EXPECT_EQ(session->token.size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_TRUE(Base64UrlDecode(session->token));
  EXPECT_EQ(ToUnixMillis(session->expires_at), kStartMs + 12 * 3600 * 1000);
  EXPECT_EQ(session->principal.username, "moi.admin");
  EXPECT_EQ(session->principal.role, Role::kMemberAdmin);
  EXPECT_EQ(session->principal.member, "TW/GOV/MOI");

  auto principal = store_->Authenticate(session->token);
  ASSERT_TRUE(principal) << principal.error().ToString();
  EXPECT_EQ(principal->admin_id, session->principal.admin_id);
  EXPECT_EQ(principal->username, "moi.admin");
  EXPECT_EQ(principal->member, "TW/GOV/MOI");

  auto other = store_->Login("moi.admin", kMoiPassword, "192.0.2.1");
  ASSERT_TRUE(other);
  EXPECT_NE(other->token, session->token);
}

TEST_F(AdminTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  auto wrong = store_->Login("root", "not the password", "192.0.2.1");
  auto unknown = store_->Login("nobody", kRootPassword, "192.0.2.1");
  auto malformed = store_->Login("Root Admin\n", kRootPassword, "192.0.2.1");
  for (const auto* r : {&wrong, &unknown, &malformed}) {
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(r->error().message(), "wrong user name or password");
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM login_failures"), 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM admin_sessions"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'admin.login' AND "
                  "outcome = 'failed'"),
            3);
  EXPECT_FALSE(store_->Authenticate(""));
  EXPECT_FALSE(store_->Authenticate("no-such-token"));
}

TEST_F(AdminTest, FiveWrongPasswordsLockTheUserUntilTheyAgeOutOfTheWindow) {
  for (int i = 0; i < 5; ++i) {
    auto r = store_->Login("root", "guess number " + std::to_string(i), "192.0.2.1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
    Advance(minutes(1));
  }
  // Now 06:35; the first failure was at 06:30, so one more try is allowed at 06:45.
  for (const char* remote : {"192.0.2.1", "198.51.100.9"}) {
    auto refused = store_->Login("root", kRootPassword, remote);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_EQ(refused.error().message(),
              "too many failed logins; try again after 2026-11-24T06:45:00.000Z");
  }
  // Refused attempts are audited but not counted: the lock does not extend.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM login_failures"), 5);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE outcome = 'refused'"), 2);
  // Another user is not affected.
  EXPECT_TRUE(store_->Login("moi.admin", kMoiPassword, "192.0.2.1"));

  clock_.Set(FromUnixMillis(kStartMs + 15 * 60 * 1000 - 1));
  EXPECT_EQ(store_->Login("root", kRootPassword, "192.0.2.1").error().code(),
            ErrorCode::kResourceExhausted);
  Advance(milliseconds(1));
  auto ok = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(ok) << ok.error().ToString();
  // Success clears the user's failures.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM login_failures WHERE username = 'root'"), 0);
}

TEST_F(AdminTest, OneWrongPasswordAfterTheWindowOpensLocksAgain) {
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(store_->Login("root", "wrong guess", "192.0.2.1"));
  Advance(minutes(15));
  ASSERT_EQ(store_->Login("root", "wrong again", "192.0.2.1").error().code(),
            ErrorCode::kUnauthenticated);  // checked, since the old failures aged out
  Advance(minutes(1));
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(store_->Login("root", "wrong guess", "192.0.2.1"));
  EXPECT_EQ(store_->Login("root", kRootPassword, "192.0.2.1").error().code(),
            ErrorCode::kResourceExhausted);
}

TEST_F(AdminTest, TwentyFailuresFromOneAddressLockThatAddress) {
  for (int i = 0; i < 20; ++i) {
    // Four each for five names: no name reaches its own limit.
    auto r = store_->Login("user" + std::to_string(i % 5), "some password", "203.0.113.5");
    ASSERT_EQ(r.error().code(), ErrorCode::kUnauthenticated) << i;
  }
  auto refused = store_->Login("root", kRootPassword, "203.0.113.5");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_TRUE(store_->Login("root", kRootPassword, "192.0.2.1"));
}

TEST_F(AdminTest, FailuresSurviveARestart) {
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(store_->Login("root", "wrong guess", "192.0.2.1"));
  Open();
  EXPECT_EQ(store_->Login("root", kRootPassword, "192.0.2.1").error().code(),
            ErrorCode::kResourceExhausted);
  Advance(minutes(15));
  EXPECT_TRUE(store_->Login("root", kRootPassword, "192.0.2.1"));
}

TEST_F(AdminTest, SessionEndsAfterThirtyIdleMinutes) {
  auto session = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(session);
  Advance(minutes(29));
  ASSERT_TRUE(store_->Authenticate(session->token));
  Advance(minutes(29));  // 58 minutes since login, 29 since last use
  ASSERT_TRUE(store_->Authenticate(session->token));
  Advance(minutes(30));
  auto expired = store_->Authenticate(session->token);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(expired.error().message(), "the session has expired; sign in again");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM admin_sessions"), 0);
  EXPECT_EQ(store_->Authenticate(session->token).error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(AdminTest, SessionEndsAfterTwelveHoursEvenWhenInUse) {
  auto session = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(session);
  for (int i = 0; i < 12 * 3 - 1; ++i) {
    Advance(minutes(20));
    ASSERT_TRUE(store_->Authenticate(session->token)) << i;
  }
  Advance(minutes(20));  // exactly 12 hours
  EXPECT_EQ(store_->Authenticate(session->token).error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(AdminTest, TimeoutsAreConfigurable) {
  options_.idle_timeout = minutes(5);
  options_.absolute_timeout = minutes(60);
  Open();
  auto session = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(session);
  EXPECT_EQ(ToUnixMillis(session->expires_at), kStartMs + 3600 * 1000);
  Advance(minutes(5));
  EXPECT_FALSE(store_->Authenticate(session->token));
}

TEST_F(AdminTest, LogoutEndsTheSession) {
  auto session = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(session);
  auto other = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(other);
  ASSERT_TRUE(store_->Logout(session->token, "192.0.2.1"));
  EXPECT_EQ(store_->Authenticate(session->token).error().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(store_->Authenticate(other->token));           // only that session
  EXPECT_TRUE(store_->Logout(session->token, "192.0.2.1"));  // again: nothing to do
  EXPECT_TRUE(store_->Logout("never-issued", "192.0.2.1"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'admin.logout'"), 1);
}

TEST_F(AdminTest, OnlyTheTokensHashAndThePasswordsHashAreStored) {
  auto session = store_->Login("root", kRootPassword, "192.0.2.1");
  ASSERT_TRUE(session);
  auto rows = db_->Query("SELECT token_hash FROM admin_sessions");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(*(*rows)[0].Text(0), HexEncode(crypto::DigestView(crypto::Sha256(session->token))));
  auto hash = db_->Query("SELECT password_hash FROM admins WHERE username = 'root'");
  ASSERT_TRUE(hash);
  EXPECT_TRUE((*hash)[0].Text(0)->starts_with("$argon2id$v=19$"));

  const std::string token = session->token;
  store_.reset();
  db_.reset();
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    bytes += FileContents(entry.path());  // the database, and its WAL if still there
  }
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(token), std::string::npos);
  EXPECT_EQ(bytes.find(kRootPassword), std::string::npos);
  EXPECT_EQ(bytes.find(kMoiPassword), std::string::npos);
}

TEST_F(AdminTest, MemberAdministratorActsOnlyForItsOwnMember) {
  Principal moi{
      .admin_id = 2, .username = "moi.admin", .role = Role::kMemberAdmin, .member = "TW/GOV/MOI"};
  EXPECT_TRUE(moi.CanActFor("TW/GOV/MOI"));
  EXPECT_TRUE(moi.CanActFor("TW/GOV/MOI/household"));
  EXPECT_TRUE(moi.CanActFor("TW/GOV/MOI/household/getPerson"));
  EXPECT_FALSE(moi.CanActFor("TW/GOV/MOIX"));
  EXPECT_FALSE(moi.CanActFor("TW/GOV/MOIX/household"));
  EXPECT_FALSE(moi.CanActFor("TW/GOV/MO"));
  EXPECT_FALSE(moi.CanActFor("TW/GOV/MOI/"));
  EXPECT_FALSE(moi.CanActFor("TW/GOV/MOF"));
  EXPECT_FALSE(moi.CanActFor("TW/COM/MOI"));
  EXPECT_FALSE(moi.CanActFor(""));
  EXPECT_TRUE(moi.CanManage(Role::kMemberAdmin, "TW/GOV/MOI"));
  EXPECT_FALSE(moi.CanManage(Role::kMemberAdmin, "TW/GOV/MOF"));
  EXPECT_FALSE(moi.CanManage(Role::kOperator, ""));

  Principal unscoped = moi;
  unscoped.member = "";
  EXPECT_FALSE(unscoped.CanActFor("TW/GOV/MOI"));

  Principal op{.admin_id = 1, .username = "root", .role = Role::kOperator, .member = ""};
  EXPECT_TRUE(op.CanActFor("TW/GOV/MOF/tax"));
  EXPECT_TRUE(op.CanManage(Role::kOperator, ""));
}

TEST_F(AdminTest, NewAccountsAreValidated) {
  auto make = [&](std::string username, std::string password, Role role, std::string member) {
    return store_->CreateAdmin(NewAdmin{.username = std::move(username),
                                        .password = std::move(password),
                                        .role = role,
                                        .member = std::move(member),
                                        .display_name = ""},
                               Actor::Local("cli"));
  };
  const std::string pw = "long enough password";
  for (const std::string& bad :
       std::vector<std::string>{"ab", "Alice", "al ice", "al/ice", std::string(65, 'a'), "ålice"}) {
    auto r = make(bad, pw, Role::kOperator, "");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(make("op2", "short", Role::kOperator, "").error().message(),
            "the password has 5 characters; it needs at least 12");
  EXPECT_EQ(make("op2", pw, Role::kOperator, "TW/GOV/MOI").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(make("mof", pw, Role::kMemberAdmin, "").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(make("mof", pw, Role::kMemberAdmin, "TW/GOV/MOF/tax").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(make("mof", pw, Role::kMemberAdmin, "TW/GOV").error().code(),
            ErrorCode::kInvalidArgument);
  auto dup = make("root", pw, Role::kOperator, "");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().message(), "an administrator named \"root\" already exists");

  auto ok = make("mof_admin-1.x", pw, Role::kMemberAdmin, "TW/GOV/MOF");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->member, "TW/GOV/MOF");
  EXPECT_EQ(ok->created_at, FromUnixMillis(kStartMs));
  EXPECT_FALSE(ok->disabled);
}

TEST_F(AdminTest, MemberAdministratorManagesOnlyItsOwnMembersAccounts) {
  auto session = store_->Login("moi.admin", kMoiPassword, "192.0.2.2");
  ASSERT_TRUE(session);
  const Actor moi = Actor::Of(session->principal, "192.0.2.2");
  const std::string pw = "long enough password";

  EXPECT_TRUE(store_->CreateAdmin(NewAdmin{.username = "moi.second",
                                           .password = pw,
                                           .role = Role::kMemberAdmin,
                                           .member = "TW/GOV/MOI",
                                           .display_name = ""},
                                  moi));
  for (const NewAdmin& denied : {NewAdmin{.username = "mof.admin",
                                .password = pw,
                                .role = Role::kMemberAdmin,
                                .member = "TW/GOV/MOF",
                                .display_name = ""},
                                 NewAdmin{.username = "op2",
                                 .password = pw,
                                 .role = Role::kOperator,
                                 .member = "",
                                 .display_name = ""}}) {
    auto r = store_->CreateAdmin(denied, moi);
    ASSERT_FALSE(r) << denied.username;
    EXPECT_EQ(r.error().code(), ErrorCode::kPermissionDenied);
  }
  EXPECT_EQ(store_->Disable("root", moi).error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->ChangePassword("root", pw, moi).error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied' AND "
                  "actor = 'moi.admin' AND remote = '192.0.2.2'"),
            4);

  auto mine = store_->List(moi);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].username, "moi.admin");
  EXPECT_EQ((*mine)[1].username, "moi.second");
  auto all = store_->List(Actor::Of(Root(), "192.0.2.1"));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 3u);
}

TEST_F(AdminTest, DisablingEndsSessionsAndRefusesLogin) {
  auto session = store_->Login("moi.admin", kMoiPassword, "192.0.2.2");
  ASSERT_TRUE(session);
  const Actor root = Actor::Of(Root(), "192.0.2.1");
  ASSERT_TRUE(store_->Disable("moi.admin", root));
  EXPECT_EQ(store_->Authenticate(session->token).error().code(), ErrorCode::kUnauthenticated);
  auto login = store_->Login("moi.admin", kMoiPassword, "192.0.2.2");
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().code(), ErrorCode::kPermissionDenied);
  // A wrong password still gets the answer that says nothing about the account.
  EXPECT_EQ(store_->Login("moi.admin", "wrong password", "192.0.2.2").error().code(),
            ErrorCode::kUnauthenticated);
  ASSERT_TRUE(store_->Enable("moi.admin", root));
  EXPECT_TRUE(store_->Login("moi.admin", kMoiPassword, "192.0.2.2"));

  EXPECT_EQ(store_->Disable("nobody", root).error().code(), ErrorCode::kNotFound);
  auto last = store_->Disable("root", root);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(AdminTest, ChangingOwnPasswordNeedsTheCurrentOneAndEndsSessions) {
  auto session = store_->Login("moi.admin", kMoiPassword, "192.0.2.2");
  ASSERT_TRUE(session);
  const Actor self = Actor::Of(session->principal, "192.0.2.2");
  const std::string next = "a brand new password";
  EXPECT_EQ(store_->ChangePassword("moi.admin", next, self).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->ChangePassword("moi.admin", next, self, "wrong current").error().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(store_->ChangePassword("moi.admin", "short", self, kMoiPassword).error().code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(store_->ChangePassword("moi.admin", next, self, kMoiPassword));
  EXPECT_EQ(store_->Authenticate(session->token).error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(store_->Login("moi.admin", kMoiPassword, "192.0.2.2"));
  EXPECT_TRUE(store_->Login("moi.admin", next, "192.0.2.2"));

  // An operator resets it without knowing it.
  ASSERT_TRUE(
      store_->ChangePassword("moi.admin", "reset by the operator", Actor::Of(Root(), "192.0.2.1")));
  EXPECT_TRUE(store_->Login("moi.admin", "reset by the operator", "192.0.2.2"));
}

TEST_F(AdminTest, LoginRehashesWhenParametersWereRaised) {
  options_.password_params.memory_kib = 128;
  Open();
  ASSERT_TRUE(store_->Login("root", kRootPassword, "192.0.2.1"));
  auto rows = db_->Query("SELECT password_hash FROM admins WHERE username = 'root'");
  ASSERT_TRUE(rows);
  EXPECT_TRUE((*rows)[0].Text(0)->starts_with("$argon2id$v=19$m=128,t=1,p=1$"))
      << *(*rows)[0].Text(0);
  EXPECT_TRUE(store_->Login("root", kRootPassword, "192.0.2.1"));
}

TEST_F(AdminTest, AdministrativeActionsAreAuditedAndExportedAsJsonLines) {
  const Principal root = Root();
  Advance(minutes(1));
  ASSERT_TRUE(store_->Audit(Actor::Of(root, "192.0.2.1"), "member.create", "TW/GOV/MOF", "ok",
                            R"({"name":"Ministry of Finance","n":1})", "TW/GOV/MOF"));
  Advance(minutes(1));
  ASSERT_FALSE(store_->Login("moi.admin", "wrong password", "192.0.2.2"));
  auto moi = store_->Login("moi.admin", kMoiPassword, "192.0.2.2");
  ASSERT_TRUE(moi);
  ASSERT_TRUE(store_->Audit(Actor::Of(moi->principal, "192.0.2.2"), "subsystem.create",
                            "TW/GOV/MOI/household", "ok"));

  auto all = store_->ListAudit(AuditFilter{});
  ASSERT_TRUE(all) << all.error().ToString();
  // Two accounts created by the command line in SetUp, then the above.
  ASSERT_EQ(all->size(), 7u);
  EXPECT_EQ((*all)[0].action, "admin.create");
  EXPECT_EQ((*all)[0].actor, "cli");
  EXPECT_EQ((*all)[0].remote, "local");
  EXPECT_EQ((*all)[2].action, "admin.login");
  EXPECT_EQ((*all)[2].actor, "root");
  EXPECT_EQ((*all)[2].role, "operator");
  EXPECT_EQ((*all)[2].remote, "192.0.2.1");
  EXPECT_EQ((*all)[2].outcome, "ok");
  EXPECT_EQ((*all)[4].outcome, "failed");
  EXPECT_EQ((*all)[4].actor, "moi.admin");
  EXPECT_EQ((*all)[6].member, "TW/GOV/MOI");  // the actor's member by default
  for (size_t i = 1; i < all->size(); ++i) EXPECT_GT((*all)[i].id, (*all)[i - 1].id);

  AuditFilter by_member;
  by_member.member = "TW/GOV/MOF";
  auto mof = store_->ListAudit(by_member);
  ASSERT_TRUE(mof);
  ASSERT_EQ(mof->size(), 1u);
  EXPECT_EQ((*mof)[0].target, "TW/GOV/MOF");

  AuditFilter by_actor;
  by_actor.actor = "moi.admin";
  by_actor.limit = 2;
  auto page1 = store_->ListAudit(by_actor);
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 2u);
  by_actor.after_id = page1->back().id;
  auto page2 = store_->ListAudit(by_actor);
  ASSERT_TRUE(page2);
  ASSERT_EQ(page2->size(), 1u);
  EXPECT_EQ((*page2)[0].action, "subsystem.create");

  AuditFilter window;
  window.from = FromUnixMillis(kStartMs + 60 * 1000);
  window.to = FromUnixMillis(kStartMs + 120 * 1000);
  auto in_window = store_->ListAudit(window);
  ASSERT_TRUE(in_window);
  ASSERT_EQ(in_window->size(), 1u);
  EXPECT_EQ((*in_window)[0].action, "member.create");

  auto exported = store_->ExportAuditJsonLines(AuditFilter{});
  ASSERT_TRUE(exported) << exported.error().ToString();
  std::vector<nlohmann::json> lines;
  std::istringstream in(*exported);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[3]["at"], "2026-11-24T06:31:00.000Z");
  EXPECT_EQ(lines[3]["actor"], "root");
  EXPECT_EQ(lines[3]["role"], "operator");
  EXPECT_EQ(lines[3]["member"], "TW/GOV/MOF");
  EXPECT_EQ(lines[3]["action"], "member.create");
  EXPECT_EQ(lines[3]["remote"], "192.0.2.1");
  EXPECT_EQ(lines[3]["outcome"], "ok");
  EXPECT_EQ(lines[3]["detail"]["name"], "Ministry of Finance");
  EXPECT_EQ(lines[3]["id"], (*all)[3].id);
  EXPECT_EQ(lines[0]["detail"]["role"], "operator");
  EXPECT_FALSE(lines[0]["detail"].contains("password"));
}

TEST_F(AdminTest, ExportPagesThroughLargeLogs) {
  const Actor cli = Actor::Local("cli");
  auto tx = store::Transaction::Begin(*db_);
  ASSERT_TRUE(tx);
  for (int i = 0; i < 2100; ++i) {
    ASSERT_TRUE(store_->Audit(cli, "test.event", std::to_string(i), "ok"));
  }
  ASSERT_TRUE(tx->Commit());
  size_t chunks = 0;
  size_t lines = 0;
  ASSERT_TRUE(store_->ExportAudit(AuditFilter{}, [&](std::string_view text) -> Status {
    ++chunks;
    lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    return Ok();
  }));
  EXPECT_EQ(chunks, 3u);
  EXPECT_EQ(lines, 2102u);
}

TEST_F(AdminTest, AuditRefusesEntriesItCannotStoreFaithfully) {
  const Actor cli = Actor::Local("cli");
  EXPECT_EQ(store_->Audit(cli, "", "x", "ok").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Audit(cli, "a.b", "x", "ok", "[1]").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Audit(cli, "a.b", "x", "ok", "{broken").error().code(),
            ErrorCode::kInvalidArgument);
  // Text that is not UTF-8 is repaired, so the export stays valid JSON.
  ASSERT_TRUE(store_->Audit(cli, "a.b", "bad \xFF byte", "ok"));
  auto exported = store_->ExportAuditJsonLines(AuditFilter{.from = std::nullopt,
                                                           .to = std::nullopt,
                                                           .actor = "",
                                                           .member = "",
                                                           .after_id = 2,
                                                           .limit = 100});
  ASSERT_TRUE(exported);
  auto line = nlohmann::json::parse(*exported);
  EXPECT_EQ(line["target"], "bad \xEF\xBF\xBD byte");
  EXPECT_TRUE(line["detail"].is_object());
}

TEST(RoleTest, NamesRoundTrip) {
  EXPECT_EQ(RoleName(Role::kOperator), "operator");
  EXPECT_EQ(RoleName(Role::kMemberAdmin), "member-admin");
  EXPECT_EQ(*ParseRole("member-admin"), Role::kMemberAdmin);
  EXPECT_EQ(*ParseRole("operator"), Role::kOperator);
  EXPECT_FALSE(ParseRole("root"));
}

}  // namespace
}  // namespace troad::central
