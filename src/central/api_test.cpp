// The central's HTTP interface without sockets: requests in, responses out, against a
// real (temporary) database, CA and publisher. What an administrator or a gateway would
// check: who may do what, what is refused and audited, what the published document
// carries after each step, and that the OpenAPI description matches the routes.
#include "central/api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "central/schema.h"
#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/csr.h"
#include "crypto/hash.h"
#include "crypto/test_util.h"
#include "globalconf/signed.h"
#include "store/migrate.h"

namespace troad::central {
namespace {

using json = nlohmann::json;
namespace bhttp = http::bhttp;

const SystemTime kStart = *ParseRfc3339("2026-11-24T08:00:00Z");

const std::string kOperatorPassword = "operator password 1";
const std::string kMoiPassword = "moi admin password";
const std::string kBliPassword = "bli admin password";

// Where each administrator (and the gateway) calls from, as the audit log records it.
const std::string kOperatorRemote = "192.0.2.1";
const std::string kMoiRemote = "192.0.2.2";
const std::string kBliRemote = "192.0.2.3";
const std::string kGatewayRemote = "198.51.100.9";

const std::string kMoi = "TW/GOV/MOI";
const std::string kBli = "TW/GOV/BLI";
const std::string kTax = "TW/GOV/TAX";
const std::string kHousehold = "TW/GOV/MOI/household";
const std::string kInsurance = "TW/GOV/BLI/insurance";
const std::string kIncome = "TW/GOV/TAX/income";
const std::string kRegistry = "TW/GOV/MOI/household/registry";
const std::string kMoiGateway = "TW/GOV/MOI/moi-gw";

struct Reply {
  unsigned status = 0;
  std::string body;
  json doc;                                    // the body parsed, or discarded when it is not JSON
  std::map<std::string, std::string> headers;  // names lower case

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string ErrorMessage() const {
    return doc.is_object() && doc.contains("error") ? doc["error"].value("message", "") : "";
  }
  std::string ErrorCode() const {
    return doc.is_object() && doc.contains("error") ? doc["error"].value("code", "") : "";
  }
};

std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << "HTTP " << r.status << " " << r.body.substr(0, 2000);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::OpenSqlite(dir_.File("central.db"));
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    auto migrated = store::Migrate(*db_, CentralMigrations(), clock_);
    ASSERT_TRUE(migrated) << migrated.error().ToString();

    crypto::CertificateRequest ca_req;
    ca_req.common_name = "TW test central CA";
    ca_req.usage = crypto::CertUsage::kCa;
    ca_req.validity = std::chrono::hours(24 * 365 * 10);
    auto ca_cert = crypto::CreateSelfSignedCa(ca_key_, ca_req, clock_);
    ASSERT_TRUE(ca_cert) << ca_cert.error().ToString();
    ca_cert_ = std::make_unique<crypto::Certificate>(*ca_cert);

    registry_ = std::make_unique<Registry>(*db_, clock_, "TW");
    ca_ = std::make_unique<CertificateAuthority>(*registry_, *db_, clock_, *ca_cert_, ca_key_,
                                                 CaOptions{});
    AdminOptions admin_options;
    admin_options.password_params = crypto::PasswordParams{1024, 1, 1};  // fast tests
    admins_ = std::make_unique<AdminStore>(*db_, clock_, admin_options);
    publisher_ = std::make_unique<Publisher>(*registry_, *db_, clock_, conf_key_,
                                             std::vector<crypto::Certificate>{*ca_cert_},
                                             PublisherOptions{});
    ASSERT_TRUE(publisher_->Load());
    api_ = std::make_unique<Api>(*registry_, *ca_, *admins_, *publisher_);
    api_->OnChange([this] { ++changes_; });

    CreateAdmin("operator", kOperatorPassword, Role::kOperator, "");
    CreateAdmin("moi-admin", kMoiPassword, Role::kMemberAdmin, kMoi);
    CreateAdmin("bli-admin", kBliPassword, Role::kMemberAdmin, kBli);
    op_ = Login("operator", kOperatorPassword, kOperatorRemote);
    moi_ = Login("moi-admin", kMoiPassword, kMoiRemote);
    bli_ = Login("bli-admin", kBliPassword, kBliRemote);
  }

  void CreateAdmin(std::string username, std::string_view password, Role role,
                   std::string_view member) {
    auto created = admins_->CreateAdmin(
        NewAdmin{username, std::string(password), role, std::string(member), username},
        Actor::Local("cli"));
    ASSERT_TRUE(created) << created.error().ToString();
  }

  Reply Call(std::string_view method, const std::string& target, const std::string& body = "",
             const std::string& token = "", std::string_view remote = kOperatorRemote,
             const std::map<std::string, std::string>& headers = {}) {
    http::Request req{bhttp::string_to_verb(method), target, 11};
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    for (const auto& [name, value] : headers) req.set(name, value);
    req.prepare_payload();
    http::Response res = api_->Handle(req, std::string(remote));
    Reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.doc = json::parse(r.body, nullptr, false);
    for (const auto& f : res.base()) {
      r.headers[Lower(std::string(f.name_string()))] = std::string(f.value());
    }
    return r;
  }
  Reply Get(const std::string& target, const std::string& token,
            std::string_view remote = kOperatorRemote) {
    return Call("GET", target, "", token, remote);
  }
  Reply Post(const std::string& target, const json& body, const std::string& token,
             std::string_view remote) {
    return Call("POST", target, body.dump(), token, remote);
  }
  // As each administrator, from its address.
  Reply AsOperator(const std::string& target, const json& body) {
    return Post(target, body, op_, kOperatorRemote);
  }
  Reply AsMoi(const std::string& target, const json& body) {
    return Post(target, body, moi_, kMoiRemote);
  }
  Reply AsBli(const std::string& target, const json& body) {
    return Post(target, body, bli_, kBliRemote);
  }

  std::string Login(std::string_view user, std::string_view password, std::string_view remote) {
    Reply r =
        Post("/api/v1/login",
             {{"username", std::string(user)}, {"password", std::string(password)}}, "", remote);
    EXPECT_EQ(r.status, 200u) << r;
    return r.doc.is_object() ? r.doc.value("token", "") : "";
  }

  // Members MOI and BLI (by the operator), their subsystems (by their administrators)
  // and MOI's registry service.
  void RegisterMembersAndService() {
    ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kMoi}, {"name", "內政部"}}).status, 201u);
    ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kBli}, {"name", "勞保局"}}).status, 201u);
    ASSERT_EQ(AsMoi("/api/v1/subsystems", {{"id", kHousehold}, {"name", "戶政"}}).status, 201u);
    ASSERT_EQ(AsBli("/api/v1/subsystems", {{"id", kInsurance}, {"name", "勞保"}}).status, 201u);
    Reply svc = AsMoi("/api/v1/services",
                      {{"id", kRegistry},
                       {"description", "household registry"},
                       {"endpoints", {{{"method", "GET"}, {"path", "/persons/{nationalId}"}}}}});
    ASSERT_EQ(svc.status, 201u) << svc;
  }

  // MOI's gateway serving its household subsystem, and an enrollment code for it.
  std::string RegisterGatewayAndCode() {
    Reply gw =
        AsMoi("/api/v1/gateways",
              {{"id", kMoiGateway}, {"address", "10.0.0.5:8443"}, {"clients", {kHousehold}}});
    EXPECT_EQ(gw.status, 201u) << gw;
    Reply code = AsMoi("/api/v1/gateways/enrollment-codes", {{"gateway", kMoiGateway}});
    EXPECT_EQ(code.status, 201u) << code;
    return code.doc.is_object() ? code.doc.value("code", "") : "";
  }

  std::string Csr(const crypto::PrivateKey& key, CertKind kind, std::string_view owner) {
    auto pem = crypto::CreateCsrPem(key, ca_->SubjectFor(kind, owner));
    EXPECT_TRUE(pem) << pem.error().ToString();
    return pem ? *pem : "";
  }

  Reply Enroll(const std::string& code, const json& requests) {
    return Post("/api/v1/enrollment",
                {{"gateway", kMoiGateway}, {"code", code}, {"requests", requests}}, "",
                kGatewayRemote);
  }

  // Enrolls MOI's gateway (members, service, gateway, code, CSR, operator's approval)
  // with `auth_key` and returns its authentication certificate's fingerprint.
  std::string EnrollGateway(const crypto::PrivateKey& auth_key) {
    RegisterMembersAndService();
    const std::string code = RegisterGatewayAndCode();
    Reply submitted = Enroll(
        code, json::array({{{"kind", "authentication"},
                            {"owner", kMoiGateway},
                            {"csr", Csr(auth_key, CertKind::kAuthentication, kMoiGateway)}}}));
    EXPECT_EQ(submitted.status, 202u) << submitted;
    if (submitted.status != 202u) return "";
    Reply approved = AsOperator(
        "/api/v1/certificate-requests/" +
            std::to_string(submitted.doc["requests"][0]["id"].get<int64_t>()) + "/approve",
        json::object());
    EXPECT_EQ(approved.status, 200u) << approved;
    return approved.doc.value("fingerprint", "");
  }

  // A renewal body as a gateway makes it: a CSR for `new_key`, signed with
  // `current_key` over "troad-renewal/1\n" and the CSR's DER, base64 with padding.
  json RenewalBody(const crypto::PrivateKey& current_key, const std::string& current_sha256,
                   const crypto::PrivateKey& new_key, CertKind kind = CertKind::kAuthentication,
                   const std::string& owner = kMoiGateway) {
    std::string csr_pem = Csr(new_key, kind, owner);
    auto csr = crypto::Csr::FromPem(csr_pem);
    EXPECT_TRUE(csr) << csr.error().ToString();
    auto sig = current_key.Sign("troad-renewal/1\n" + (csr ? csr->ToDer() : std::string()));
    EXPECT_TRUE(sig) << sig.error().ToString();
    return {{"kind", std::string(CertKindName(kind))},
            {"owner", owner},
            {"current_certificate_sha256", current_sha256},
            {"csr", csr_pem},
            {"signature", Base64Encode(sig ? *sig : std::string())}};
  }
  json RenewalStatusBody(const crypto::PrivateKey& current_key, const std::string& current_sha256,
                         int64_t id) {
    auto sig = current_key.Sign("troad-renewal-status/1\n" + std::to_string(id));
    EXPECT_TRUE(sig) << sig.error().ToString();
    return {{"id", id},
            {"current_certificate_sha256", current_sha256},
            {"signature", Base64Encode(sig ? *sig : std::string())}};
  }
  Reply Renew(const json& body) { return Post("/api/v1/renewal", body, "", kGatewayRemote); }
  Reply RenewalStatus(const json& body) {
    return Post("/api/v1/renewal/status", body, "", kGatewayRemote);
  }
  // The CA and API again, with renewals left for an operator's review.
  void UseReviewPolicy() {
    CaOptions options;
    options.renewal = RenewalPolicy::kReview;
    ca_ = std::make_unique<CertificateAuthority>(*registry_, *db_, clock_, *ca_cert_, ca_key_,
                                                 options);
    api_ = std::make_unique<Api>(*registry_, *ca_, *admins_, *publisher_);
    api_->OnChange([this] { ++changes_; });
  }

  // Publishes (as the server's timer would) and downloads the document as a gateway
  // does, verifying its signature. Null (with a test failure) when anything is wrong.
  std::shared_ptr<const globalconf::GlobalConf> Published() {
    auto published = publisher_->PublishIfNeeded();
    EXPECT_TRUE(published) << published.error().ToString();
    Reply doc = Get("/globalconf/v1/document", "");
    EXPECT_EQ(doc.status, 200u) << doc;
    std::string sha = HexEncode(crypto::Sha256(doc.body));
    Reply sig = Get("/globalconf/v1/signatures/" + sha, "");
    EXPECT_EQ(sig.status, 200u) << sig;
    auto conf = globalconf::VerifySignedDocument(
        doc.body, sig.body,
        globalconf::VerifyOptions{{conf_key_.Public()}, "TW", held_version_, clock_.Now()});
    EXPECT_TRUE(conf) << conf.error().ToString();
    if (!conf) return nullptr;
    held_version_ = (*conf)->version();
    return *conf;
  }

  // The audit log as exported to `token`'s administrator, one JSON object per line.
  std::vector<json> AuditExport(const std::string& token, std::string_view remote) {
    Reply r = Get("/api/v1/audit/export", token, remote);
    EXPECT_EQ(r.status, 200u) << r;
    EXPECT_EQ(r.Header("content-type").rfind("application/x-ndjson", 0), 0u);
    std::vector<json> lines;
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
      lines.push_back(j);
    }
    EXPECT_TRUE(r.body.empty() || r.body.back() == '\n');
    return lines;
  }

  // Whether the audit log holds an entry with these values.
  bool Audited(std::string_view actor, std::string_view action, std::string_view outcome) {
    auto entries = admins_->ListAudit(AuditFilter{std::nullopt, std::nullopt, "", "", 0, 1000});
    EXPECT_TRUE(entries) << entries.error().ToString();
    for (const AuditEntry& e : *entries) {
      if (e.actor == actor && e.action == action && e.outcome == outcome) return true;
    }
    return false;
  }

  static std::vector<std::string> Ids(const json& list) {
    std::vector<std::string> out;
    for (const json& item : list) out.push_back(item.value("id", ""));
    return out;
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart};
  crypto::PrivateKey ca_key_ = *crypto::PrivateKey::GenerateEcP256();
  crypto::PrivateKey conf_key_ = *crypto::PrivateKey::GenerateEcP256();
  std::unique_ptr<crypto::Certificate> ca_cert_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<CertificateAuthority> ca_;
  std::unique_ptr<AdminStore> admins_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<Api> api_;
  int changes_ = 0;
  int64_t held_version_ = 0;
  std::string op_, moi_, bli_;  // session tokens
};

// ---- sessions ----

TEST_F(ApiTest, LoginGivesATokenThatEveryOtherCallNeeds) {
  Reply login = Post("/api/v1/login", {{"username", "moi-admin"}, {"password", kMoiPassword}}, "",
                     kMoiRemote);
  ASSERT_EQ(login.status, 200u) << login;
  EXPECT_FALSE(login.doc["token"].get<std::string>().empty());
  EXPECT_EQ(login.doc["role"], "member-admin");
  EXPECT_EQ(login.doc["member"], kMoi);
  EXPECT_TRUE(ParseRfc3339(login.doc["expires_at"].get<std::string>()));
  EXPECT_EQ(login.Header("cache-control"), "no-store");

  Reply me = Get("/api/v1/me", login.doc["token"].get<std::string>(), kMoiRemote);
  ASSERT_EQ(me.status, 200u) << me;
  EXPECT_EQ(me.doc["username"], "moi-admin");
  const std::string token = login.doc["token"].get<std::string>();

  Reply none = Get("/api/v1/me", "");
  EXPECT_EQ(none.status, 401u) << none;
  EXPECT_EQ(none.ErrorCode(), "Unauthenticated");
  EXPECT_NE(none.ErrorMessage().find("/api/v1/login"), std::string::npos) << none;
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(none.Header("content-type"), "application/json");

  Reply bad = Get("/api/v1/members", "not-a-token");
  EXPECT_EQ(bad.status, 401u) << bad;
  EXPECT_EQ(bad.ErrorCode(), "Unauthenticated");
  EXPECT_FALSE(bad.ErrorMessage().empty());

  // A write without a session changes nothing.
  Reply write = Post("/api/v1/members", {{"id", kTax}, {"name", "財政部"}}, "", kOperatorRemote);
  EXPECT_EQ(write.status, 401u) << write;
  EXPECT_TRUE(registry_->Members()->empty());

  // After logout the token no longer works.
  ASSERT_EQ(Post("/api/v1/logout", json::object(), token, kMoiRemote).status, 200u);
  EXPECT_EQ(Get("/api/v1/me", token, kMoiRemote).status, 401u);
}

TEST_F(ApiTest, WrongPasswordsAreRefusedAndTheFifthLocksTheAccount) {
  for (int i = 0; i < 5; ++i) {
    Reply wrong = Post("/api/v1/login",
                       {{"username", "bli-admin"}, {"password", "guess " + std::to_string(i)}}, "",
                       kBliRemote);
    ASSERT_EQ(wrong.status, 401u) << "attempt " << i << ": " << wrong;
    EXPECT_EQ(wrong.ErrorCode(), "Unauthenticated");
    EXPECT_FALSE(wrong.doc.contains("token"));
  }
  // Locked now, even with the right password.
  Reply locked = Post("/api/v1/login", {{"username", "bli-admin"}, {"password", kBliPassword}}, "",
                      kBliRemote);
  EXPECT_EQ(locked.status, 429u) << locked;
  EXPECT_EQ(locked.ErrorCode(), "ResourceExhausted");
  EXPECT_NE(locked.ErrorMessage().find("too many"), std::string::npos) << locked;
  EXPECT_FALSE(locked.doc.contains("token"));
  EXPECT_TRUE(Audited("bli-admin", "admin.login", "failed"));
  EXPECT_TRUE(Audited("bli-admin", "admin.login", "refused"));

  // It unlocks on time.
  clock_.Advance(admins_->options().failure_window);
  EXPECT_EQ(
      Post("/api/v1/login", {{"username", "bli-admin"}, {"password", kBliPassword}}, "", kBliRemote)
          .status,
      200u);
}

// ---- permissions ----

TEST_F(ApiTest, OnlyOperatorsRegisterMembersAndRefusalsAreAudited) {
  Reply ok = AsOperator("/api/v1/members", {{"id", kMoi}, {"name", "內政部"}, {"name_en", "MOI"}});
  ASSERT_EQ(ok.status, 201u) << ok;
  EXPECT_EQ(changes_, 1);

  Reply denied = AsBli("/api/v1/members", {{"id", kTax}, {"name", "財政部"}});
  EXPECT_EQ(denied.status, 403u) << denied;
  EXPECT_EQ(denied.ErrorCode(), "PermissionDenied");
  EXPECT_EQ(changes_, 1);
  EXPECT_EQ(registry_->Members()->size(), 1u);
  EXPECT_TRUE(Audited("bli-admin", "member.create", "denied"));
  EXPECT_TRUE(Audited("operator", "member.create", "ok"));

  Reply list = Get("/api/v1/members", op_);
  ASSERT_EQ(list.status, 200u) << list;
  EXPECT_EQ(Ids(list.doc["members"]), std::vector<std::string>{std::string(kMoi)});
  // A duplicate is a conflict.
  EXPECT_EQ(AsOperator("/api/v1/members", {{"id", kMoi}, {"name", "內政部"}}).status, 409u);
}

TEST_F(ApiTest, MemberAdminsActForTheirOwnMemberOnlyAndProvidersDecide) {
  RegisterMembersAndService();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kTax}, {"name", "財政部"}}).status, 201u);
  ASSERT_EQ(AsOperator("/api/v1/subsystems", {{"id", kIncome}, {"name", "所得"}}).status, 201u);

  // BLI may not register anything under MOI.
  Reply foreign = AsBli("/api/v1/subsystems", {{"id", "TW/GOV/MOI/evil"}, {"name", "x"}});
  EXPECT_EQ(foreign.status, 403u) << foreign;
  EXPECT_TRUE(Audited("bli-admin", "subsystem.create", "denied"));
  Reply foreign_service = AsBli("/api/v1/services", {{"id", "TW/GOV/MOI/household/evil"}});
  EXPECT_EQ(foreign_service.status, 403u) << foreign_service;

  // TAX applies for MOI's service (by the operator): MOI's business, not BLI's.
  Reply tax_app = AsOperator("/api/v1/applications",
                             {{"client", kIncome}, {"service", kRegistry}, {"purpose", "audits"}});
  ASSERT_EQ(tax_app.status, 201u) << tax_app;

  // BLI applies for MOI's service.
  Reply app = AsBli("/api/v1/applications",
                    {{"client", kInsurance},
                     {"service", kRegistry},
                     {"rules", {{{"method", "GET"}, {"path", "/persons/{nationalId}"}}}},
                     {"purpose", "insurance eligibility"}});
  ASSERT_EQ(app.status, 201u) << app;
  EXPECT_EQ(app.doc["status"], "pending");
  EXPECT_EQ(app.doc["applied_by"], "bli-admin");
  const std::string id = std::to_string(app.doc["id"].get<int64_t>());
  // …but not in MOI's name.
  EXPECT_EQ(AsBli("/api/v1/applications",
                  {{"client", kHousehold}, {"service", kRegistry}, {"purpose", "x"}})
                .status,
            403u);

  // BLI sees its own subsystem, no service and only its own application.
  Reply services = Get("/api/v1/services", bli_, kBliRemote);
  ASSERT_EQ(services.status, 200u) << services;
  EXPECT_TRUE(services.doc["services"].empty()) << services;
  Reply apps = Get("/api/v1/applications", bli_, kBliRemote);
  ASSERT_EQ(apps.status, 200u) << apps;
  ASSERT_EQ(apps.doc["applications"].size(), 1u) << apps;
  EXPECT_EQ(apps.doc["applications"][0]["client"], kInsurance);
  Reply subsystems = Get("/api/v1/subsystems", bli_, kBliRemote);
  EXPECT_EQ(Ids(subsystems.doc["subsystems"]), std::vector<std::string>{std::string(kInsurance)});
  Reply members = Get("/api/v1/members", bli_, kBliRemote);
  EXPECT_EQ(Ids(members.doc["members"]), std::vector<std::string>{std::string(kBli)});
  // MOI sees its service and both applications for it.
  Reply moi_apps = Get("/api/v1/applications", moi_, kMoiRemote);
  EXPECT_EQ(moi_apps.doc["applications"].size(), 2u) << moi_apps;
  EXPECT_EQ(Ids(Get("/api/v1/services", moi_, kMoiRemote).doc["services"]),
            std::vector<std::string>{std::string(kRegistry)});

  // The applicant cannot approve its own application; the provider does.
  Reply self_approve = AsBli("/api/v1/applications/" + id + "/approve", json::object());
  EXPECT_EQ(self_approve.status, 403u) << self_approve;
  EXPECT_TRUE(Audited("bli-admin", "application.approve", "denied"));
  auto before = Published();
  ASSERT_NE(before, nullptr);
  EXPECT_TRUE(
      before->GrantsFor(*ClientId::Parse(kInsurance), *ServiceId::Parse(kRegistry)).empty());

  Reply approved =
      AsMoi("/api/v1/applications/" + id + "/approve", {{"reason", "law 12 allows it"}});
  ASSERT_EQ(approved.status, 200u) << approved;
  EXPECT_EQ(approved.doc["status"], "approved");
  EXPECT_EQ(approved.doc["decided_by"], "moi-admin");
  EXPECT_EQ(approved.doc["decision_reason"], "law 12 allows it");
  EXPECT_EQ(approved.doc["decided_at"], FormatRfc3339(clock_.Now()));
  // Deciding again is a conflict about its state.
  Reply again = AsMoi("/api/v1/applications/" + id + "/approve", json::object());
  EXPECT_EQ(again.status, 409u) << again;
  EXPECT_NE(again.ErrorMessage().find("not pending"), std::string::npos) << again;
  // The applicant sees the decision.
  apps = Get("/api/v1/applications", bli_, kBliRemote);
  EXPECT_EQ(apps.doc["applications"][0]["decided_by"], "moi-admin");
  EXPECT_EQ(apps.doc["applications"][0]["decision_reason"], "law 12 allows it");

  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  auto grants = conf->GrantsFor(*ClientId::Parse(kInsurance), *ServiceId::Parse(kRegistry));
  ASSERT_EQ(grants.size(), 1u);
  ASSERT_EQ(grants[0]->rules.size(), 1u);
  EXPECT_EQ(grants[0]->rules[0].path, "/persons/{nationalId}");
  EXPECT_TRUE(conf->GrantsFor(*ClientId::Parse(kIncome), *ServiceId::Parse(kRegistry)).empty())
      << "TAX's application is still pending";

  // BLI cannot withdraw TAX's application; MOI withdraws BLI's grant.
  const std::string tax_id = std::to_string(tax_app.doc["id"].get<int64_t>());
  EXPECT_EQ(AsBli("/api/v1/applications/" + tax_id + "/withdraw", {{"reason", "x"}}).status, 403u);
  Reply no_reason = AsMoi("/api/v1/applications/" + id + "/withdraw", json::object());
  EXPECT_EQ(no_reason.status, 400u) << no_reason;
  EXPECT_NE(no_reason.ErrorMessage().find("reason"), std::string::npos) << no_reason;
  Reply withdrawn =
      AsMoi("/api/v1/applications/" + id + "/withdraw", {{"reason", "contract ended"}});
  ASSERT_EQ(withdrawn.status, 200u) << withdrawn;
  EXPECT_EQ(withdrawn.doc["status"], "withdrawn");
  EXPECT_EQ(withdrawn.doc["withdrawn_by"], "moi-admin");
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_TRUE(conf->grants().empty());
}

// ---- enrollment and certificates ----

TEST_F(ApiTest, EnrolledGatewayGetsItsCertificatesIntoTheDocumentUntilRevoked) {
  RegisterMembersAndService();
  ASSERT_FALSE(HasFatalFailure());
  const std::string code = RegisterGatewayAndCode();
  ASSERT_FALSE(code.empty());
  // BLI may not enroll MOI's gateway.
  EXPECT_EQ(AsBli("/api/v1/gateways/enrollment-codes", {{"gateway", kMoiGateway}}).status, 403u);

  auto auth_key = *crypto::PrivateKey::GenerateEcP256();
  auto sign_key = *crypto::PrivateKey::GenerateEcP256();
  const json auth_request = {{"kind", "authentication"},
                             {"owner", kMoiGateway},
                             {"csr", Csr(auth_key, CertKind::kAuthentication, kMoiGateway)}};
  const json sign_request = {
      {"kind", "signing"}, {"owner", kMoi}, {"csr", Csr(sign_key, CertKind::kSigning, kMoi)}};

  // A wrong code.
  Reply wrong_code = Enroll("not-the-code", json::array({auth_request}));
  EXPECT_EQ(wrong_code.status, 401u) << wrong_code;
  // A signing certificate of a member the gateway does not serve.
  Reply other_owner =
      Enroll(code, json::array({auth_request,
                                {{"kind", "signing"},
                                 {"owner", kBli},
                                 {"csr", Csr(sign_key, CertKind::kSigning, kBli)}}}));
  EXPECT_EQ(other_owner.status, 400u) << other_owner;
  EXPECT_NE(other_owner.ErrorMessage().find("owner"), std::string::npos) << other_owner;
  // A CSR that asks for another name.
  crypto::CsrSubject wrong_cn = ca_->SubjectFor(CertKind::kAuthentication, kMoiGateway);
  wrong_cn.common_name = "TW/GOV/MOI/other-gw";
  Reply bad_cn = Enroll(code, json::array({sign_request,
                                           {{"kind", "authentication"},
                                            {"owner", kMoiGateway},
                                            {"csr", *crypto::CreateCsrPem(auth_key, wrong_cn)}}}));
  EXPECT_EQ(bad_cn.status, 400u) << bad_cn;
  EXPECT_NE(bad_cn.ErrorMessage().find("CN"), std::string::npos) << bad_cn;
  // A refused submission submits nothing, not even its good requests.
  EXPECT_TRUE(ca_->Requests()->empty());

  Reply submitted = Enroll(code, json::array({auth_request, sign_request}));
  ASSERT_EQ(submitted.status, 202u) << submitted;
  ASSERT_EQ(submitted.doc["requests"].size(), 2u);
  json ids = json::array();
  for (const json& q : submitted.doc["requests"]) {
    EXPECT_EQ(q["status"], "pending");
    EXPECT_EQ(q["submitted_from"], kGatewayRemote);
    ids.push_back(q["id"]);
  }
  const json status_body = {{"gateway", kMoiGateway}, {"code", code}, {"ids", ids}};
  Reply pending = Post("/api/v1/enrollment/status", status_body, "", kGatewayRemote);
  ASSERT_EQ(pending.status, 200u) << pending;
  EXPECT_FALSE(pending.doc["requests"][0].contains("certificate"));
  EXPECT_EQ(pending.doc["ca_certificate"], ca_cert_->ToPem());
  EXPECT_EQ(Post("/api/v1/enrollment/status",
                 {{"gateway", kMoiGateway}, {"code", "wrong"}, {"ids", ids}}, "", kGatewayRemote)
                .status,
            401u);

  // MOI sees its requests but only an operator approves them.
  Reply moi_requests = Get("/api/v1/certificate-requests", moi_, kMoiRemote);
  EXPECT_EQ(moi_requests.doc["certificate_requests"].size(), 2u) << moi_requests;
  EXPECT_TRUE(
      Get("/api/v1/certificate-requests", bli_, kBliRemote).doc["certificate_requests"].empty());
  const std::string first = std::to_string(ids[0].get<int64_t>());
  Reply member_approves =
      AsMoi("/api/v1/certificate-requests/" + first + "/approve", json::object());
  EXPECT_EQ(member_approves.status, 403u) << member_approves;
  EXPECT_TRUE(Audited("moi-admin", "certificate-request.approve", "denied"));
  std::map<std::string, std::string> fingerprints;  // kind → fingerprint
  for (const json& id : ids) {
    Reply approved =
        AsOperator("/api/v1/certificate-requests/" + std::to_string(id.get<int64_t>()) + "/approve",
                   json::object());
    ASSERT_EQ(approved.status, 200u) << approved;
    fingerprints[approved.doc["kind"].get<std::string>()] =
        approved.doc["fingerprint"].get<std::string>();
  }

  Reply collected = Post("/api/v1/enrollment/status", status_body, "", kGatewayRemote);
  ASSERT_EQ(collected.status, 200u) << collected;
  std::map<std::string, crypto::Certificate> certs;
  for (const json& q : collected.doc["requests"]) {
    EXPECT_EQ(q["status"], "approved");
    auto cert = crypto::Certificate::FromPem(q["certificate"].get<std::string>());
    ASSERT_TRUE(cert) << q.dump();
    certs.emplace(q["kind"].get<std::string>(), *cert);
    EXPECT_EQ(cert->Sha256Fingerprint(), fingerprints[q["kind"].get<std::string>()]);
  }
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_NE(certs.at("authentication").Subject().find(kMoiGateway), std::string::npos);

  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  const globalconf::Gateway* gw = conf->FindGateway(*GatewayId::Parse(kMoiGateway));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), fingerprints["authentication"]);
  EXPECT_EQ(gw->host, "10.0.0.5");
  const globalconf::Member* moi = conf->FindMember(*ClientId::Parse(kMoi));
  ASSERT_NE(moi, nullptr);
  ASSERT_EQ(moi->signing_certificates.size(), 1u);
  EXPECT_EQ(moi->signing_certificates[0].Sha256Fingerprint(), fingerprints["signing"]);

  // BLI may not revoke MOI's certificate; the operator may.
  const std::string fp = fingerprints["authentication"];
  EXPECT_EQ(AsBli("/api/v1/certificates/" + fp + "/revoke", {{"reason", "x"}}).status, 403u);
  Reply revoked = AsOperator("/api/v1/certificates/" + fp + "/revoke", {{"reason", "key lost"}});
  ASSERT_EQ(revoked.status, 200u) << revoked;
  EXPECT_EQ(AsOperator("/api/v1/certificates/" + fp + "/revoke", {{"reason", "again"}}).status,
            409u);
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_TRUE(conf->IsRevoked(fp));
  EXPECT_EQ(conf->FindGateway(*GatewayId::Parse(kMoiGateway)), nullptr)
      << "a gateway without a current certificate is not listed";
  json raw = json::parse(Get("/globalconf/v1/document", "").body);
  EXPECT_EQ(raw["revoked_certificates"], json::array({fp}));
  Reply listed = Get("/api/v1/certificates", moi_, kMoiRemote);
  for (const json& c : listed.doc["certificates"]) {
    if (c["fingerprint"] == fp) {
      EXPECT_EQ(c["revocation_reason"], "key lost");
    }
  }
}

// ---- renewal ----

TEST_F(ApiTest, GatewayRenewsItsCertificateWithItsCurrentKeyAndBothArePublished) {
  auto old_key = *crypto::PrivateKey::GenerateEcP256();
  const std::string old_fp = EnrollGateway(old_key);
  ASSERT_FALSE(old_fp.empty());
  ASSERT_FALSE(HasFatalFailure());
  clock_.Advance(std::chrono::hours(24 * 300));                 // some time before it expires
  op_ = Login("operator", kOperatorPassword, kOperatorRemote);  // the sessions ended
  moi_ = Login("moi-admin", kMoiPassword, kMoiRemote);
  const int changes_before = changes_;

  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  Reply renewed = Renew(RenewalBody(old_key, old_fp, new_key));  // no session
  ASSERT_EQ(renewed.status, 201u) << renewed;
  EXPECT_EQ(changes_, changes_before + 1) << "the new certificate is published";
  const json& q = renewed.doc["request"];
  EXPECT_EQ(q["status"], "approved");
  EXPECT_EQ(q["kind"], "authentication");
  EXPECT_EQ(q["owner"], kMoiGateway);
  EXPECT_EQ(q["submitted_by"], "renewal:" + kMoiGateway);
  EXPECT_EQ(q["submitted_from"], kGatewayRemote);
  EXPECT_EQ(q["decided_by"], "policy:renewal");
  EXPECT_EQ(q["renewal_of"], old_fp);
  EXPECT_EQ(renewed.doc["ca_certificate"], ca_cert_->ToPem());
  auto cert = crypto::Certificate::FromPem(renewed.doc["certificate"].get<std::string>());
  ASSERT_TRUE(cert) << renewed;
  EXPECT_EQ(cert->GetPublicKey().ToDer(), new_key.Public().ToDer());
  EXPECT_EQ(cert->CommonName(), kMoiGateway);
  EXPECT_EQ(cert->Sha256Fingerprint(), q["certificate_fingerprint"]);
  EXPECT_GT(cert->NotAfter(), clock_.Now() + std::chrono::hours(24 * 364))
      << "a full validity from now";

  // Audited under MOI, from the gateway's address.
  bool found = false;
  for (const json& e : AuditExport(moi_, kMoiRemote)) {
    if (e["action"] == "certificate.renew") {
      found = true;
      EXPECT_EQ(e["actor"], "renewal:" + kMoiGateway);
      EXPECT_EQ(e["outcome"], "ok");
      EXPECT_EQ(e["remote"], kGatewayRemote);
      EXPECT_EQ(e["target"], kMoiGateway);
    }
  }
  EXPECT_TRUE(found) << "no certificate.renew entry in MOI's audit export";

  // The published document lists both, the old one first; peers accept either.
  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  const globalconf::Gateway* gw = conf->FindGateway(*GatewayId::Parse(kMoiGateway));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), old_fp);
  ASSERT_EQ(gw->additional_auth_certificates.size(), 1u);
  EXPECT_EQ(gw->additional_auth_certificates[0].Sha256Fingerprint(), cert->Sha256Fingerprint());
  ASSERT_NE(conf->OwnerOf(cert->Sha256Fingerprint()), nullptr);
  EXPECT_EQ(conf->OwnerOf(cert->Sha256Fingerprint())->owner, kMoiGateway);

  // Once the gateway has switched, an operator revokes the old one; the new one remains.
  ASSERT_EQ(
      AsOperator("/api/v1/certificates/" + old_fp + "/revoke", {{"reason", "renewed"}}).status,
      200u);
  conf = Published();
  ASSERT_NE(conf, nullptr);
  gw = conf->FindGateway(*GatewayId::Parse(kMoiGateway));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), cert->Sha256Fingerprint());
  EXPECT_TRUE(gw->additional_auth_certificates.empty());
  EXPECT_TRUE(conf->IsRevoked(old_fp));
}

TEST_F(ApiTest, MemberSigningCertificateRenewsAndBothAreListed) {
  auto auth_key = *crypto::PrivateKey::GenerateEcP256();
  ASSERT_FALSE(EnrollGateway(auth_key).empty());
  Reply code_reply = AsMoi("/api/v1/gateways/enrollment-codes", {{"gateway", kMoiGateway}});
  ASSERT_EQ(code_reply.status, 201u) << code_reply;
  auto sign_key = *crypto::PrivateKey::GenerateEcP256();
  Reply submitted = Enroll(code_reply.doc["code"].get<std::string>(),
                           json::array({{{"kind", "signing"},
                                         {"owner", kMoi},
                                         {"csr", Csr(sign_key, CertKind::kSigning, kMoi)}}}));
  ASSERT_EQ(submitted.status, 202u) << submitted;
  Reply approved =
      AsOperator("/api/v1/certificate-requests/" +
                     std::to_string(submitted.doc["requests"][0]["id"].get<int64_t>()) + "/approve",
                 json::object());
  ASSERT_EQ(approved.status, 200u) << approved;
  const std::string old_fp = approved.doc["fingerprint"];

  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  Reply renewed = Renew(RenewalBody(sign_key, old_fp, new_key, CertKind::kSigning, kMoi));
  ASSERT_EQ(renewed.status, 201u) << renewed;
  EXPECT_EQ(renewed.doc["request"]["submitted_by"], "renewal:" + kMoi);
  auto cert = crypto::Certificate::FromPem(renewed.doc["certificate"].get<std::string>());
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->GetPublicKey().ToDer(), new_key.Public().ToDer());
  EXPECT_TRUE(Audited("renewal:" + kMoi, "certificate.renew", "ok"));

  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  const globalconf::Member* moi = conf->FindMember(*ClientId::Parse(kMoi));
  ASSERT_NE(moi, nullptr);
  std::set<std::string> listed;
  for (const auto& c : moi->signing_certificates) listed.insert(c.Sha256Fingerprint());
  EXPECT_EQ(listed, (std::set<std::string>{old_fp, cert->Sha256Fingerprint()}));
}

TEST_F(ApiTest, RenewalUnderReviewWaitsForAnOperatorAndIsCollectedWithTheCurrentKey) {
  UseReviewPolicy();
  auto old_key = *crypto::PrivateKey::GenerateEcP256();
  const std::string old_fp = EnrollGateway(old_key);
  ASSERT_FALSE(old_fp.empty());
  const int changes_before = changes_;

  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  Reply pending = Renew(RenewalBody(old_key, old_fp, new_key));
  ASSERT_EQ(pending.status, 202u) << pending;
  EXPECT_EQ(pending.doc["request"]["status"], "pending");
  EXPECT_FALSE(pending.doc.contains("certificate"));
  EXPECT_EQ(changes_, changes_before) << "nothing to publish yet";
  const int64_t id = pending.doc["request"]["id"].get<int64_t>();

  // One pending renewal per owner and kind.
  Reply twice = Renew(RenewalBody(old_key, old_fp, *crypto::PrivateKey::GenerateEcP256()));
  EXPECT_EQ(twice.status, 409u) << twice;
  EXPECT_NE(twice.ErrorMessage().find("already pending"), std::string::npos) << twice;
  EXPECT_TRUE(Audited("renewal:" + kMoiGateway, "certificate.renew", "refused"));

  Reply waiting = RenewalStatus(RenewalStatusBody(old_key, old_fp, id));
  ASSERT_EQ(waiting.status, 200u) << waiting;
  EXPECT_EQ(waiting.doc["request"]["status"], "pending");
  EXPECT_FALSE(waiting.doc.contains("certificate"));
  EXPECT_EQ(waiting.doc["ca_certificate"], ca_cert_->ToPem());
  // Signed by another key, or for another id.
  Reply forged = RenewalStatus(RenewalStatusBody(new_key, old_fp, id));
  EXPECT_EQ(forged.status, 401u) << forged;
  EXPECT_EQ(forged.Header("www-authenticate"), "") << "no bearer token would help";
  json replayed = RenewalStatusBody(old_key, old_fp, id + 1);
  replayed["id"] = id;
  EXPECT_EQ(RenewalStatus(replayed).status, 401u);
  EXPECT_TRUE(Audited("renewal:" + kMoiGateway, "certificate.renew-status", "denied"));

  // The operator sees it as a renewal and approves it with the usual route.
  Reply listed = Get("/api/v1/certificate-requests", op_);
  ASSERT_EQ(listed.status, 200u) << listed;
  const json& last = listed.doc["certificate_requests"].back();
  EXPECT_EQ(last["id"], id);
  EXPECT_EQ(last["submitted_by"], "renewal:" + kMoiGateway);
  EXPECT_EQ(last["renewal_of"], old_fp);
  Reply approved =
      AsOperator("/api/v1/certificate-requests/" + std::to_string(id) + "/approve", json::object());
  ASSERT_EQ(approved.status, 200u) << approved;

  Reply collected = RenewalStatus(RenewalStatusBody(old_key, old_fp, id));
  ASSERT_EQ(collected.status, 200u) << collected;
  EXPECT_EQ(collected.doc["request"]["status"], "approved");
  EXPECT_EQ(collected.doc["request"]["decided_by"], "operator");
  auto cert = crypto::Certificate::FromPem(collected.doc["certificate"].get<std::string>());
  ASSERT_TRUE(cert) << collected;
  EXPECT_EQ(cert->GetPublicKey().ToDer(), new_key.Public().ToDer());
  EXPECT_EQ(cert->Sha256Fingerprint(), approved.doc["fingerprint"]);

  // The new certificate may not ask about a request made with the old one.
  Reply other = RenewalStatus(RenewalStatusBody(new_key, cert->Sha256Fingerprint(), id));
  EXPECT_EQ(other.status, 403u) << other;
  // And a new renewal may follow now that none is pending.
  EXPECT_EQ(
      Renew(RenewalBody(new_key, cert->Sha256Fingerprint(), *crypto::PrivateKey::GenerateEcP256()))
          .status,
      202u);
}

TEST_F(ApiTest, RenewalRefusalsSayWhyAndAreAudited) {
  auto key = *crypto::PrivateKey::GenerateEcP256();
  const std::string fp = EnrollGateway(key);
  ASSERT_FALSE(fp.empty());
  auto new_key = *crypto::PrivateKey::GenerateEcP256();
  const size_t requests_before = ca_->Requests()->size();
  auto expect = [&](const json& body, unsigned status, std::string_view part) {
    Reply r = Renew(body);
    EXPECT_EQ(r.status, status) << r;
    EXPECT_NE(r.ErrorMessage().find(part), std::string::npos) << r;
  };

  json unknown = RenewalBody(key, fp, new_key);
  unknown["current_certificate_sha256"] = std::string(64, '0');
  expect(unknown, 403, "cannot be renewed: this central did not issue it");

  // Another owner's certificate: BLI's gateway renewing with MOI's gateway certificate.
  ASSERT_EQ(
      AsBli("/api/v1/gateways", {{"id", "TW/GOV/BLI/bli-gw"}, {"address", "10.0.0.6:8443"}}).status,
      201u);
  expect(RenewalBody(key, fp, new_key, CertKind::kAuthentication, "TW/GOV/BLI/bli-gw"), 403,
         "not the authentication certificate of TW/GOV/BLI/bli-gw");
  // Another kind: the gateway's certificate does not renew its member's signing one.
  expect(RenewalBody(key, fp, new_key, CertKind::kSigning, kMoi), 403,
         "not the signing certificate of TW/GOV/MOI");

  // Signatures: by another key, over other bytes, not base64.
  expect(RenewalBody(new_key, fp, new_key), 401, "does not verify");
  json other_bytes = RenewalBody(key, fp, new_key);
  other_bytes["signature"] =
      Base64Encode(*key.Sign(crypto::Csr::FromPem(other_bytes["csr"].get<std::string>())->ToDer()));
  expect(other_bytes, 401, "does not verify");
  json not_base64 = RenewalBody(key, fp, new_key);
  not_base64["signature"] = "***";
  expect(not_base64, 400, "signature");
  json url_safe = RenewalBody(key, fp, new_key);
  std::string sig = url_safe["signature"];
  sig[0] = '-';  // the URL-safe alphabet is not accepted
  url_safe["signature"] = sig;
  expect(url_safe, 400, "signature");
  json unpadded = RenewalBody(key, fp, new_key);
  unpadded["signature"] = "AAAAAA";  // padding is required
  expect(unpadded, 400, "signature");

  // The fingerprint: upper case, short, not hex.
  json upper = RenewalBody(key, fp, new_key);
  std::string upper_fp = fp;
  for (char& c : upper_fp) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper["current_certificate_sha256"] = upper_fp;
  expect(upper, 400, "current_certificate_sha256");
  json short_fp = RenewalBody(key, fp, new_key);
  short_fp["current_certificate_sha256"] = fp.substr(0, 40);
  expect(short_fp, 400, "current_certificate_sha256");
  json not_hex = RenewalBody(key, fp, new_key);
  not_hex["current_certificate_sha256"] = std::string(64, 'g');
  expect(not_hex, 400, "current_certificate_sha256");

  // The CSR: the same key, another subject, garbage; fields missing or of the wrong kind.
  expect(RenewalBody(key, fp, key), 400, "new key");
  json wrong_cn = RenewalBody(key, fp, new_key);
  crypto::CsrSubject subject = ca_->SubjectFor(CertKind::kAuthentication, kMoiGateway);
  subject.common_name = "TW/GOV/MOI/other-gw";
  auto wrong_csr = crypto::Csr::FromPem(*crypto::CreateCsrPem(new_key, subject));
  wrong_cn["csr"] = wrong_csr->ToPem();
  wrong_cn["signature"] = Base64Encode(*key.Sign("troad-renewal/1\n" + wrong_csr->ToDer()));
  expect(wrong_cn, 400, "CN");
  json garbage = RenewalBody(key, fp, new_key);
  garbage["csr"] = "not a CSR";
  expect(garbage, 400, "csr");
  json no_kind = RenewalBody(key, fp, new_key);
  no_kind["kind"] = "tls";
  expect(no_kind, 400, "kind");
  json missing = RenewalBody(key, fp, new_key);
  missing.erase("signature");
  expect(missing, 400, "signature");
  json huge = RenewalBody(key, fp, new_key);
  huge["signature"] = std::string(8192, 'A');
  expect(huge, 400, "signature");
  Reply status_bad =
      RenewalStatus({{"id", "one"}, {"current_certificate_sha256", fp}, {"signature", "AAAA"}});
  EXPECT_EQ(status_bad.status, 400u) << status_bad;

  EXPECT_EQ(ca_->Requests()->size(), requests_before) << "refused renewals are not recorded";
  EXPECT_TRUE(Audited("renewal:" + kMoiGateway, "certificate.renew", "denied"));
  EXPECT_TRUE(Audited("renewal:" + kMoiGateway, "certificate.renew", "refused"));
  // Refusals are in MOI's audit export with the gateway's address.
  size_t moi_refusals = 0;
  for (const json& e : AuditExport(moi_, kMoiRemote)) {
    if (e["action"] == "certificate.renew") {
      EXPECT_EQ(e["remote"], kGatewayRemote);
      EXPECT_NE(e["outcome"], "ok");
      ++moi_refusals;
    }
  }
  EXPECT_GE(moi_refusals, 10u);

  // Revoked, then expired.
  auto key2 = *crypto::PrivateKey::GenerateEcP256();
  Reply second = Renew(RenewalBody(key, fp, key2));
  ASSERT_EQ(second.status, 201u) << second;
  const std::string fp2 = second.doc["request"]["certificate_fingerprint"];
  ASSERT_EQ(AsOperator("/api/v1/certificates/" + fp + "/revoke", {{"reason", "stolen"}}).status,
            200u);
  expect(RenewalBody(key, fp, new_key), 403, "revoked");
  clock_.Advance(std::chrono::hours(24 * 366));
  expect(RenewalBody(key2, fp2, new_key), 403, "expired");
  Reply late =
      RenewalStatus(RenewalStatusBody(key2, fp2, second.doc["request"]["id"].get<int64_t>()));
  EXPECT_EQ(late.status, 403u) << late;
}

// ---- global groups ----

TEST_F(ApiTest, OperatorsKeepGlobalGroupsAndMemberAdminsOnlyReadThem) {
  RegisterMembersAndService();
  ASSERT_FALSE(HasFatalFailure());
  Reply created = AsOperator("/api/v1/groups", {{"code", "cleared"},
                                                {"description", "安全查核機關"},
                                                {"description_en", "Security-cleared agencies"},
                                                {"members", {kInsurance}}});
  ASSERT_EQ(created.status, 201u) << created;
  EXPECT_EQ(created.doc["code"], "cleared");
  EXPECT_EQ(created.doc["members"], json::array({kInsurance}));
  EXPECT_EQ(changes_, 6) << "5 registrations, then the group";
  EXPECT_TRUE(Audited("operator", "group.create", "ok"));

  // A member administrator changes nothing, and each attempt is audited.
  const int changes = changes_;
  struct Attempt {
    std::string path, action;
    json body;
  };
  for (const Attempt& a : std::vector<Attempt>{
           {"/api/v1/groups", "group.create", {{"code", "mine"}, {"description", "x"}}},
           {"/api/v1/groups/update", "group.update", {{"code", "cleared"}, {"description", "x"}}},
           {"/api/v1/groups/delete", "group.delete", {{"code", "cleared"}}},
           {"/api/v1/groups/members/add",
            "group.member-add",
            {{"group", "cleared"}, {"members", {kHousehold}}}},
           {"/api/v1/groups/members/remove",
            "group.member-remove",
            {{"group", "cleared"}, {"members", {kInsurance}}}},
       }) {
    SCOPED_TRACE(a.path);
    Reply denied = AsBli(a.path, a.body);
    EXPECT_EQ(denied.status, 403u) << denied;
    EXPECT_EQ(denied.ErrorCode(), "PermissionDenied");
    EXPECT_NE(denied.ErrorMessage().find("reserved for central operators"), std::string::npos);
    EXPECT_TRUE(Audited("bli-admin", a.action, "denied"));
  }
  EXPECT_EQ(changes_, changes);
  auto stored = registry_->GetGroup("cleared");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->description, "安全查核機關");
  EXPECT_EQ(stored->members, std::vector<ClientId>{*ClientId::Parse(kInsurance)});
  EXPECT_EQ(registry_->Groups()->size(), 1u);

  // …but reads every group, with its members (they are in the public document anyway).
  Reply listed = Get("/api/v1/groups", moi_, kMoiRemote);
  ASSERT_EQ(listed.status, 200u) << listed;
  ASSERT_EQ(listed.doc["groups"].size(), 1u) << listed;
  EXPECT_EQ(listed.doc["groups"][0]["code"], "cleared");
  EXPECT_EQ(listed.doc["groups"][0]["description_en"], "Security-cleared agencies");
  EXPECT_EQ(listed.doc["groups"][0]["members"], json::array({kInsurance}));

  // The operator changes it; each change is in the next configuration.
  Reply added =
      AsOperator("/api/v1/groups/members/add", {{"group", "cleared"}, {"members", {kHousehold}}});
  ASSERT_EQ(added.status, 200u) << added;
  EXPECT_EQ(added.doc["members"], json::array({kInsurance, kHousehold}));
  Reply updated =
      AsOperator("/api/v1/groups/update", {{"code", "cleared"}, {"description", "國安查核機關"}});
  ASSERT_EQ(updated.status, 200u) << updated;
  EXPECT_EQ(updated.doc["description"], "國安查核機關");
  EXPECT_EQ(updated.doc["members"].size(), 2u);
  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  const globalconf::GlobalGroup* group = conf->FindGlobalGroup("cleared");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->description, "國安查核機關");
  EXPECT_EQ(group->members.size(), 2u);

  Reply removed = AsOperator("/api/v1/groups/members/remove",
                             {{"group", "cleared"}, {"members", {kHousehold}}});
  ASSERT_EQ(removed.status, 200u) << removed;
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_EQ(conf->FindGlobalGroup("cleared")->members,
            std::vector<ClientId>{*ClientId::Parse(kInsurance)});
  EXPECT_TRUE(Audited("operator", "group.member-add", "ok"));
  EXPECT_TRUE(Audited("operator", "group.member-remove", "ok"));
  EXPECT_TRUE(Audited("operator", "group.update", "ok"));

  Reply deleted = AsOperator("/api/v1/groups/delete", {{"code", "cleared"}});
  ASSERT_EQ(deleted.status, 200u) << deleted;
  EXPECT_TRUE(Audited("operator", "group.delete", "ok"));
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_TRUE(conf->global_groups().empty());
  EXPECT_EQ(AsOperator("/api/v1/groups/delete", {{"code", "cleared"}}).status, 404u);
}

TEST_F(ApiTest, GroupInputIsValidatedWithAClearError) {
  RegisterMembersAndService();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(
      AsOperator("/api/v1/groups", {{"code", "cleared"}, {"description", "安全查核機關"}}).status,
      201u);
  struct Case {
    std::string path;
    json body;
    unsigned status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"/api/v1/groups", {{"code", "a/b"}, {"description", "x"}}, 400, "group code"},
           {"/api/v1/groups", {{"code", "x"}}, 400, "description"},
           {"/api/v1/groups", {{"code", 7}, {"description", "x"}}, 400, "code"},
           {"/api/v1/groups",
            {{"code", "x"}, {"description", "bad\x01"}},
            400,
            "control character"},
           {"/api/v1/groups",
            {{"code", "x"}, {"description", "x"}, {"members", {"TW/GOV"}}},
            400,
            "members[0]"},
           {"/api/v1/groups",
            {{"code", "cleared"}, {"description", "again"}},
            409,
            "already exists"},
           {"/api/v1/groups/update",
            {{"code", "nothing"}, {"description", "x"}},
            404,
            "does not exist"},
           {"/api/v1/groups/members/add", {{"group", "cleared"}}, 400, "members"},
           {"/api/v1/groups/members/add",
            {{"group", "cleared"}, {"members", json::array()}},
            400,
            "at least one"},
           {"/api/v1/groups/members/add",
            {{"group", "cleared"}, {"members", {kMoi}}},
            400,
            "TW/GOV/MOI is a member; a global group holds subsystems"},
           {"/api/v1/groups/members/add",
            {{"group", "cleared"}, {"members", {"TW/GOV/MOI/nothing"}}},
            404,
            "subsystem TW/GOV/MOI/nothing is not registered"},
           {"/api/v1/groups/members/add",
            {{"group", "nothing"}, {"members", {kHousehold}}},
            404,
            "global group nothing does not exist"},
           {"/api/v1/groups/members/remove",
            {{"group", "cleared"}, {"members", {kHousehold}}},
            404,
            "is not a member"},
           {"/api/v1/groups/grants", {{"group", "cleared"}, {"service", kRegistry}}, 400, "reason"},
           {"/api/v1/groups/grants",
            {{"group", "cleared"}, {"service", "TW/GOV/MOI/household"}, {"reason", "x"}},
            400,
            "service"},
           {"/api/v1/groups/grants",
            {{"group", "nothing"}, {"service", kRegistry}, {"reason", "x"}},
            404,
            "global group nothing does not exist"},
           {"/api/v1/groups/grants",
            {{"group", "cleared"},
             {"service", kRegistry},
             {"reason", "x"},
             {"rules", {{{"method", "GET"}, {"path", "relative"}}}}},
            400,
            "rules[0].path"},
           {"/api/v1/groups/grants/0/withdraw", {{"reason", "x"}}, 400, "positive integer"},
           {"/api/v1/groups/grants/7/withdraw", {{"reason", "x"}}, 404, "group grant 7"},
       }) {
    SCOPED_TRACE(c.path + " " + c.body.dump());
    Reply r = AsOperator(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << r;
    EXPECT_NE(r.ErrorMessage().find(c.says), std::string::npos) << r;
  }
  EXPECT_EQ(registry_->Groups()->size(), 1u);
  EXPECT_TRUE(registry_->GetGroup("cleared")->members.empty());
  EXPECT_TRUE(registry_->GroupGrants()->empty());
}

TEST_F(ApiTest, ProvidersGrantTheirServicesToGroupsAndMembershipDecidesWhoMayCall) {
  RegisterMembersAndService();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kTax}, {"name", "財政部"}}).status, 201u);
  ASSERT_EQ(AsOperator("/api/v1/subsystems", {{"id", kIncome}, {"name", "所得"}}).status, 201u);
  ASSERT_EQ(
      AsOperator("/api/v1/groups",
                 {{"code", "cleared"}, {"description", "安全查核機關"}, {"members", {kInsurance}}})
          .status,
      201u);
  const ClientId insurance = *ClientId::Parse(kInsurance);
  const ClientId income = *ClientId::Parse(kIncome);
  const ServiceId registry = *ServiceId::Parse(kRegistry);

  // BLI may not give MOI's service away, not even to a group it is in.
  const json grant_body = {{"group", "cleared"},
                           {"service", kRegistry},
                           {"rules", {{{"method", "GET"}, {"path", "/persons/{nationalId}"}}}},
                           {"reason", "國安查核需要"}};
  Reply foreign = AsBli("/api/v1/groups/grants", grant_body);
  EXPECT_EQ(foreign.status, 403u) << foreign;
  EXPECT_TRUE(Audited("bli-admin", "group-grant.create", "denied"));
  EXPECT_TRUE(registry_->GroupGrants()->empty());

  // MOI, the provider, grants it.
  clock_.Advance(std::chrono::minutes(1));
  Reply granted = AsMoi("/api/v1/groups/grants", grant_body);
  ASSERT_EQ(granted.status, 201u) << granted;
  EXPECT_EQ(granted.doc["group"], "cleared");
  EXPECT_EQ(granted.doc["service"], kRegistry);
  EXPECT_EQ(granted.doc["reason"], "國安查核需要");
  EXPECT_EQ(granted.doc["granted_by"], "moi-admin");
  EXPECT_EQ(granted.doc["granted_at"], FormatRfc3339(clock_.Now()));
  EXPECT_EQ(granted.doc["in_force"], true);
  const std::string withdraw =
      "/api/v1/groups/grants/" + std::to_string(granted.doc["id"].get<int64_t>()) + "/withdraw";
  EXPECT_EQ(AsMoi("/api/v1/groups/grants", grant_body).status, 409u) << "the same grant twice";

  auto conf = Published();
  ASSERT_NE(conf, nullptr);
  auto grants = conf->GrantsFor(insurance, registry);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]->group, "cleared");
  EXPECT_EQ(grants[0]->rules.at(0).path, "/persons/{nationalId}");
  EXPECT_TRUE(conf->GrantsFor(income, registry).empty()) << "TAX is not in the group";

  // Who sees the grant: the provider and the group's members' administrators.
  EXPECT_EQ(Get("/api/v1/groups/grants", moi_, kMoiRemote).doc["grants"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/groups/grants", bli_, kBliRemote).doc["grants"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/groups/grants", op_).doc["grants"].size(), 1u);

  // Membership changes reach gateways with the next configuration.
  ASSERT_EQ(AsOperator("/api/v1/groups/members/add", {{"group", "cleared"}, {"members", {kIncome}}})
                .status,
            200u);
  ASSERT_EQ(
      AsOperator("/api/v1/groups/members/remove", {{"group", "cleared"}, {"members", {kInsurance}}})
          .status,
      200u);
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_EQ(conf->GrantsFor(income, registry).size(), 1u);
  EXPECT_TRUE(conf->GrantsFor(insurance, registry).empty());
  EXPECT_TRUE(Get("/api/v1/groups/grants", bli_, kBliRemote).doc["grants"].empty());

  // The group cannot be deleted from under its grant.
  Reply busy = AsOperator("/api/v1/groups/delete", {{"code", "cleared"}});
  EXPECT_EQ(busy.status, 409u) << busy;
  EXPECT_NE(busy.ErrorMessage().find("withdraw them first"), std::string::npos) << busy;
  EXPECT_TRUE(Audited("operator", "group.delete", "failed"));

  // Only the provider (or an operator) withdraws it, with a reason.
  EXPECT_EQ(AsBli(withdraw, {{"reason", "not mine"}}).status, 403u);
  EXPECT_TRUE(Audited("bli-admin", "group-grant.withdraw", "denied"));
  Reply no_reason = AsMoi(withdraw, json::object());
  EXPECT_EQ(no_reason.status, 400u) << no_reason;
  EXPECT_NE(no_reason.ErrorMessage().find("reason"), std::string::npos) << no_reason;
  Reply withdrawn = AsMoi(withdraw, {{"reason", "查核期滿"}});
  ASSERT_EQ(withdrawn.status, 200u) << withdrawn;
  EXPECT_EQ(withdrawn.doc["in_force"], false);
  EXPECT_EQ(withdrawn.doc["withdrawn_by"], "moi-admin");
  EXPECT_EQ(withdrawn.doc["withdrawal_reason"], "查核期滿");
  EXPECT_EQ(AsMoi(withdraw, {{"reason", "again"}}).status, 409u);
  conf = Published();
  ASSERT_NE(conf, nullptr);
  EXPECT_TRUE(conf->GrantsFor(income, registry).empty());
  EXPECT_TRUE(conf->grants().empty());

  // The provider's administrator finds its decisions in its audit export.
  std::vector<std::string> moi_actions;
  for (const json& line : AuditExport(moi_, kMoiRemote)) {
    if (line["actor"] == "moi-admin" && line["outcome"] == "ok") {
      moi_actions.push_back(line["action"].get<std::string>());
    }
  }
  EXPECT_NE(std::find(moi_actions.begin(), moi_actions.end(), "group-grant.create"),
            moi_actions.end());
  EXPECT_NE(std::find(moi_actions.begin(), moi_actions.end(), "group-grant.withdraw"),
            moi_actions.end());

  EXPECT_EQ(AsOperator("/api/v1/groups/delete", {{"code", "cleared"}}).status, 200u);
}

// ---- the global configuration download ----

TEST_F(ApiTest, DocumentIsServedWithItsHashAsETagAndItsSignatureByHash) {
  EXPECT_EQ(Get("/globalconf/v1/document", "").status, 503u) << "nothing published yet";
  ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kMoi}, {"name", "內政部"}}).status, 201u);
  ASSERT_TRUE(publisher_->PublishIfNeeded());

  Reply doc = Get("/globalconf/v1/document", "");
  ASSERT_EQ(doc.status, 200u) << doc;
  const std::string sha = HexEncode(crypto::Sha256(doc.body));
  EXPECT_EQ(doc.Header("etag"), "\"" + sha + "\"");
  EXPECT_EQ(doc.Header("content-type"), "application/json");
  EXPECT_EQ(doc.Header("cache-control"), "no-cache");
  EXPECT_EQ(doc.Header("x-troad-globalconf-version"), "1");

  Reply same = Call("GET", "/globalconf/v1/document", "", "", kGatewayRemote,
                    {{"If-None-Match", "\"" + sha + "\""}});
  EXPECT_EQ(same.status, 304u) << same;
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.Header("etag"), "\"" + sha + "\"");
  Reply stale = Call("GET", "/globalconf/v1/document", "", "", kGatewayRemote,
                     {{"If-None-Match", "\"" + std::string(64, '0') + "\""}});
  EXPECT_EQ(stale.status, 200u);
  EXPECT_EQ(stale.body, doc.body);

  Reply sig = Get("/globalconf/v1/signatures/" + sha, "");
  ASSERT_EQ(sig.status, 200u) << sig;
  auto conf = globalconf::VerifySignedDocument(
      doc.body, sig.body, globalconf::VerifyOptions{{conf_key_.Public()}, "TW", 0, clock_.Now()});
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ((*conf)->version(), 1);
  EXPECT_NE((*conf)->FindMember(*ClientId::Parse(kMoi)), nullptr);

  Reply unknown = Get("/globalconf/v1/signatures/" + std::string(64, 'a'), "");
  EXPECT_EQ(unknown.status, 404u) << unknown;
  EXPECT_EQ(unknown.ErrorCode(), "NotFound");

  // A newer document changes the ETag; the old signature stays available.
  ASSERT_EQ(AsOperator("/api/v1/members", {{"id", kBli}, {"name", "勞保局"}}).status, 201u);
  ASSERT_TRUE(publisher_->PublishIfNeeded());
  Reply newer = Call("GET", "/globalconf/v1/document", "", "", kGatewayRemote,
                     {{"If-None-Match", "\"" + sha + "\""}});
  EXPECT_EQ(newer.status, 200u);
  EXPECT_NE(newer.Header("etag"), doc.Header("etag"));
  EXPECT_EQ(Get("/globalconf/v1/signatures/" + sha, "").body, sig.body);
}

// ---- the audit log ----

TEST_F(ApiTest, AuditExportHasOneLineForEveryActionWithWhoWhatAndWhere) {
  RegisterMembersAndService();  // member.create ×2, subsystem.create ×2, service.create
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(AsBli("/api/v1/members", {{"id", kTax}, {"name", "財政部"}}).status, 403u);
  ASSERT_EQ(AsBli("/api/v1/subsystems", {{"id", "TW/GOV/MOI/evil"}, {"name", "x"}}).status, 403u);
  Reply app = AsBli("/api/v1/applications",
                    {{"client", kInsurance}, {"service", kRegistry}, {"purpose", "eligibility"}});
  ASSERT_EQ(app.status, 201u) << app;
  const std::string app_path =
      "/api/v1/applications/" + std::to_string(app.doc["id"].get<int64_t>());
  ASSERT_EQ(AsBli(app_path + "/approve", json::object()).status, 403u);
  ASSERT_EQ(AsMoi(app_path + "/approve", json::object()).status, 200u);
  ASSERT_EQ(AsMoi(app_path + "/withdraw", {{"reason", "ended"}}).status, 200u);
  const std::string code = RegisterGatewayAndCode();  // gateway.create, enrollment-code
  ASSERT_EQ(Enroll("wrong", json::array()).status, 401u);
  auto key = *crypto::PrivateKey::GenerateEcP256();
  Reply submitted =
      Enroll(code, json::array({{{"kind", "authentication"},
                                 {"owner", kMoiGateway},
                                 {"csr", Csr(key, CertKind::kAuthentication, kMoiGateway)}}}));
  ASSERT_EQ(submitted.status, 202u) << submitted;
  const std::string request_path =
      "/api/v1/certificate-requests/" +
      std::to_string(submitted.doc["requests"][0]["id"].get<int64_t>());
  ASSERT_EQ(AsMoi(request_path + "/approve", json::object()).status, 403u);
  Reply approved = AsOperator(request_path + "/approve", json::object());
  ASSERT_EQ(approved.status, 200u) << approved;
  ASSERT_EQ(
      AsMoi("/api/v1/certificates/" + approved.doc["fingerprint"].get<std::string>() + "/revoke",
            {{"reason", "test"}})
          .status,
      200u);

  struct Expected {
    std::string actor, action, outcome, member, remote;
  };
  const std::string moi(kMoi), bli(kBli), gw = "enrollment:" + std::string(kMoiGateway);
  const std::vector<Expected> expected = {
      {"cli", "admin.create", "ok", "", "local"},
      {"cli", "admin.create", "ok", moi, "local"},
      {"cli", "admin.create", "ok", bli, "local"},
      {"operator", "admin.login", "ok", "", kOperatorRemote},
      {"moi-admin", "admin.login", "ok", moi, kMoiRemote},
      {"bli-admin", "admin.login", "ok", bli, kBliRemote},
      {"operator", "member.create", "ok", moi, kOperatorRemote},
      {"operator", "member.create", "ok", bli, kOperatorRemote},
      {"moi-admin", "subsystem.create", "ok", moi, kMoiRemote},
      {"bli-admin", "subsystem.create", "ok", bli, kBliRemote},
      {"moi-admin", "service.create", "ok", moi, kMoiRemote},
      {"bli-admin", "member.create", "denied", bli, kBliRemote},
      {"bli-admin", "subsystem.create", "denied", moi, kBliRemote},
      {"bli-admin", "application.create", "ok", bli, kBliRemote},
      {"bli-admin", "application.approve", "denied", moi, kBliRemote},
      {"moi-admin", "application.approve", "ok", moi, kMoiRemote},
      {"moi-admin", "application.withdraw", "ok", moi, kMoiRemote},
      {"moi-admin", "gateway.create", "ok", moi, kMoiRemote},
      {"moi-admin", "gateway.enrollment-code", "ok", moi, kMoiRemote},
      {gw, "enrollment.refused", "refused", moi, kGatewayRemote},
      {gw, "certificate-request.submit", "ok", moi, kGatewayRemote},
      {"moi-admin", "certificate-request.approve", "denied", moi, kMoiRemote},
      {"operator", "certificate-request.approve", "ok", moi, kOperatorRemote},
      {"moi-admin", "certificate.revoke", "ok", moi, kMoiRemote},
  };

  std::vector<json> lines = AuditExport(op_, kOperatorRemote);
  ASSERT_EQ(lines.size(), expected.size()) << [&] {
    std::string all;
    for (const json& l : lines) all += "\n" + l.dump();
    return all;
  }();
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i].dump());
    EXPECT_EQ(lines[i]["actor"], expected[i].actor);
    EXPECT_EQ(lines[i]["action"], expected[i].action);
    EXPECT_EQ(lines[i]["outcome"], expected[i].outcome);
    EXPECT_EQ(lines[i]["member"], expected[i].member);
    EXPECT_EQ(lines[i]["remote"], expected[i].remote);
    EXPECT_TRUE(lines[i]["at"].is_string());
    EXPECT_TRUE(lines[i]["detail"].is_object());
  }

  // MOI's administrator gets MOI's entries only (the operator's export is audited too).
  std::vector<json> moi_lines = AuditExport(moi_, kMoiRemote);
  size_t want = 0;
  for (const Expected& e : expected) want += e.member == moi;
  EXPECT_EQ(moi_lines.size(), want);
  for (const json& l : moi_lines) EXPECT_EQ(l["member"], kMoi) << l.dump();
  // The filtered listing says the same, and a member administrator cannot widen it.
  Reply listing = Get("/api/v1/audit?member=TW%2FGOV%2FBLI&limit=1000", moi_, kMoiRemote);
  ASSERT_EQ(listing.status, 200u) << listing;
  for (const json& e : listing.doc["entries"]) EXPECT_EQ(e["member"], kMoi) << e.dump();
}

// ---- input and routing ----

TEST_F(ApiTest, MalformedInputIsRefusedWithWhatIsWrong) {
  Reply broken = Call("POST", "/api/v1/members", "{\"id\": \"TW/GOV/MOI\", ", op_);
  EXPECT_EQ(broken.status, 400u) << broken;
  EXPECT_EQ(broken.ErrorCode(), "InvalidArgument");
  EXPECT_NE(broken.ErrorMessage().find("request body"), std::string::npos) << broken;
  // Where the parser gave up, and why.
  EXPECT_NE(broken.ErrorMessage().find("column 22"), std::string::npos) << broken;
  EXPECT_NE(broken.ErrorMessage().find("unexpected end of input"), std::string::npos) << broken;

  Reply array = Call("POST", "/api/v1/members", "[1, 2]", op_);
  EXPECT_EQ(array.status, 400u) << array;
  EXPECT_NE(array.ErrorMessage().find("expected an object"), std::string::npos) << array;

  Reply missing = AsOperator("/api/v1/members", {{"id", kMoi}});
  EXPECT_EQ(missing.status, 400u) << missing;
  EXPECT_NE(missing.ErrorMessage().find("name"), std::string::npos) << missing;

  Reply wrong_type = AsOperator("/api/v1/members", {{"id", 7}, {"name", "x"}});
  EXPECT_EQ(wrong_type.status, 400u) << wrong_type;
  EXPECT_NE(wrong_type.ErrorMessage().find("id"), std::string::npos) << wrong_type;

  Reply bad_id = AsOperator("/api/v1/members", {{"id", "TW/GOV"}, {"name", "x"}});
  EXPECT_EQ(bad_id.status, 400u) << bad_id;
  EXPECT_NE(bad_id.ErrorMessage().find("id"), std::string::npos) << bad_id;

  Reply bad_number = AsMoi("/api/v1/applications/seven/approve", json::object());
  EXPECT_EQ(bad_number.status, 400u) << bad_number;
  EXPECT_NE(bad_number.ErrorMessage().find("seven"), std::string::npos) << bad_number;

  Reply bad_query = Get("/api/v1/audit?from=yesterday", op_);
  EXPECT_EQ(bad_query.status, 400u) << bad_query;
  EXPECT_NE(bad_query.ErrorMessage().find("from"), std::string::npos) << bad_query;

  EXPECT_EQ(Get("/api/v1/members/../admins", op_).status, 400u);
  EXPECT_TRUE(registry_->Members()->empty());
}

TEST_F(ApiTest, UnknownPathsAndMethodsAreNotFound) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/"},
           {"GET", "/nothing"},
           {"GET", "/api/v1/nothing"},
           {"GET", "/api/v2/members"},
           {"DELETE", "/api/v1/members"},
           {"POST", "/api/v1/applications/1/ignore"},
           {"POST", "/api/v1/applications/x/ignore"},
           {"POST", "/api/v1/certificate-requests/1/ignore"},
           {"POST", "/api/v1/admins/operator/ignore"},
           {"GET", "/globalconf/v1/nothing"},
       }) {
    for (const std::string& token : {op_, moi_}) {
      SCOPED_TRACE(method + " " + target + (token == op_ ? " as operator" : " as member admin"));
      Reply r = Call(method, target, "", token);
      EXPECT_EQ(r.status, 404u) << r;
      EXPECT_EQ(r.ErrorCode(), "NotFound");
    }
  }
  // Asking for a missing action is not an attempt at one.
  EXPECT_FALSE(Audited("moi-admin", "certificate-request.ignore", "denied"));
}

// Every path of the OpenAPI description is routed for its documented methods, and
// needs a session exactly when the description says so.
TEST_F(ApiTest, EveryDocumentedPathIsRouted) {
  ASSERT_TRUE(publisher_->PublishIfNeeded());
  const std::string sha = publisher_->Current()->sha256;
  json openapi = json::parse(OpenApiDocument(), nullptr, false);
  ASSERT_TRUE(openapi.is_object()) << "/api/openapi.json is not JSON";
  ASSERT_TRUE(openapi["paths"].is_object());
  Reply served = Get("/api/openapi.json", "");
  ASSERT_EQ(served.status, 200u);
  EXPECT_EQ(served.doc, openapi);

  const std::map<std::string, std::string> placeholders = {
      {"{id}", "not-a-number"},  // 400 before any lookup
      {"{fingerprint}", std::string(64, '0')},
      {"{username}", "bli-admin"},
      {"{sha256}", sha},
  };
  size_t routes = 0;
  for (const auto& [path_template, operations] : openapi["paths"].items()) {
    std::string path = path_template;
    for (const auto& [name, value] : placeholders) {
      for (size_t at = path.find(name); at != std::string::npos; at = path.find(name)) {
        path.replace(at, name.size(), value);
      }
    }
    ASSERT_EQ(path.find('{'), std::string::npos) << "no placeholder for " << path_template;
    for (const auto& [method_lower, operation] : operations.items()) {
      std::string method = method_lower;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      SCOPED_TRACE(method + " " + path);
      ++routes;
      const std::string body = method == "POST" ? "{}" : "";
      // Logging out ends the session: use one of its own.
      const std::string token = path_template == "/api/v1/logout"
                                    ? Login("operator", kOperatorPassword, kOperatorRemote)
                                    : op_;
      Reply r = Call(method, path, body, token);
      EXPECT_NE(r.status, 404u) << r;
      EXPECT_NE(r.status, 401u) << r;
      EXPECT_LT(r.status, 500u) << r;

      const bool is_public = operation.contains("security") && operation["security"].empty();
      Reply anonymous = Call(method, path, body, "");
      if (is_public) {
        EXPECT_NE(anonymous.status, 401u) << "documented as public: " << anonymous;
      } else {
        EXPECT_EQ(anonymous.status, 401u) << "documented as needing a session: " << anonymous;
      }
    }
  }
  EXPECT_GE(routes, 30u);
}

}  // namespace
}  // namespace troad::central
