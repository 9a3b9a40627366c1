// The registry: what it records, what it refuses and why, and the document it makes.
#include "central/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "central/schema.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "globalconf/document.h"
#include "store/database.h"
#include "store/migrate.h"

namespace troad::central {
namespace {

const SystemTime kStart = *ParseRfc3339("2026-11-24T08:00:00Z");

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::OpenSqlite(dir_.File("central.db"));
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(*db_, CentralMigrations(), clock_));
    registry_ = std::make_unique<Registry>(*db_, clock_, "TW");
  }

  // Two members, a subsystem each, a provider gateway and a service.
  void Populate() {
    ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/MOI"), "內政部", "Ministry of the Interior", {}}));
    ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/BLI"), "勞動部勞工保險局", "", {}}));
    ASSERT_TRUE(registry_->AddSubsystem({Id("TW/GOV/MOI/household"), "戶政", {}}));
    ASSERT_TRUE(registry_->AddSubsystem({Id("TW/GOV/BLI/insurance"), "勞保", {}}));
    ASSERT_TRUE(registry_->AddGateway({*GatewayId::Parse("TW/GOV/MOI/moi-gw"),
                                       "127.0.0.1",
                                       8444,
                                       {Id("TW/GOV/MOI/household")},
                                       {}}));
    ServiceInfo s;
    s.id = Svc("TW/GOV/MOI/household/registry");
    s.endpoints = {{"GET", "/persons/{nationalId}"}, {"GET", "/households/{householdId}"}};
    ASSERT_TRUE(registry_->AddService(s));
  }

  crypto::Certificate Issue(std::string cn, crypto::CertUsage usage,
                            std::chrono::hours validity = std::chrono::hours(24 * 365)) {
    static const crypto::PrivateKey ca_key = *crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    req.validity = std::chrono::hours(24 * 365 * 5);
    static const crypto::Certificate ca = *crypto::CreateSelfSignedCa(ca_key, req, clock_);
    req.common_name = cn;
    req.usage = usage;
    req.validity = validity;
    auto key = crypto::PrivateKey::GenerateEcP256();
    auto cert = crypto::IssueCertificate(ca, ca_key, key->Public(), req, clock_);
    EXPECT_TRUE(cert) << cert.error().ToString();
    return *cert;
  }

  static ClientId Id(std::string_view s) { return *ClientId::Parse(s); }
  static ServiceId Svc(std::string_view s) { return *ServiceId::Parse(s); }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
};

void ExpectError(const Status& st, ErrorCode code, std::string_view part) {
  ASSERT_FALSE(st) << "accepted; expected: " << part;
  EXPECT_EQ(st.error().code(), code) << st.error().ToString();
  EXPECT_NE(st.error().message().find(part), std::string::npos) << st.error().ToString();
}

template <typename T>
void ExpectError(const Result<T>& r, ErrorCode code, std::string_view part) {
  ASSERT_FALSE(r) << "accepted; expected: " << part;
  ExpectError(Status(tl::unexpected(r.error())), code, part);
}

TEST_F(RegistryTest, MembersAreValidatedAndUnique) {
  ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/MOI"), "內政部", "Ministry of the Interior", {}}));
  ExpectError(registry_->AddMember({Id("TW/GOV/MOI"), "again", "", {}}), ErrorCode::kAlreadyExists,
              "already registered");
  ExpectError(registry_->AddMember({Id("EE/GOV/RIA"), "RIA", "", {}}), ErrorCode::kInvalidArgument,
              "instance is not TW");
  ExpectError(registry_->AddMember({Id("TW/GOV/X"), "", "", {}}), ErrorCode::kInvalidArgument,
              "name is required");
  ExpectError(registry_->AddMember({Id("TW/GOV/Y"), "bad\x01name", "", {}}),
              ErrorCode::kInvalidArgument, "control character");
  ExpectError(registry_->AddMember({Id("TW/GOV/Z/sub"), "Z", "", {}}), ErrorCode::kInvalidArgument,
              "names a subsystem");
  auto members = registry_->Members();
  ASSERT_TRUE(members);
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].name, "內政部");
  EXPECT_EQ((*members)[0].created_at, kStart);
}

TEST_F(RegistryTest, ReferencesMustExist) {
  ExpectError(registry_->AddSubsystem({Id("TW/GOV/MOI/household"), "戶政", {}}),
              ErrorCode::kNotFound, "member TW/GOV/MOI is not registered");
  ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/MOI"), "內政部", "", {}}));
  ExpectError(
      registry_->AddGateway(
          {*GatewayId::Parse("TW/GOV/MOI/gw"), "127.0.0.1", 8443, {Id("TW/GOV/MOI/nothing")}, {}}),
      ErrorCode::kNotFound, "subsystem TW/GOV/MOI/nothing is not registered");
  // The failed insert left nothing behind.
  EXPECT_TRUE(registry_->Gateways()->empty());
  ExpectError(registry_->AddGateway({*GatewayId::Parse("TW/GOV/MOI/gw"), "127.0.0.1", 0, {}, {}}),
              ErrorCode::kInvalidArgument, "port other than 0");
}

TEST_F(RegistryTest, ServicesAreValidated) {
  Populate();
  ServiceInfo s;
  s.id = Svc("TW/GOV/MOI/household/other");
  s.endpoints = {{"GET", "/ok"}, {"FETCH", "/x"}};
  ExpectError(registry_->AddService(s), ErrorCode::kInvalidArgument, "endpoints[1].method");
  s.endpoints = {{"GET", "relative"}};
  ExpectError(registry_->AddService(s), ErrorCode::kInvalidArgument, "endpoints[0].path");
  s.endpoints = {};
  s.type = "OPENAPI";
  ExpectError(registry_->AddService(s), ErrorCode::kInvalidArgument, "needs its openapi");
  s.openapi = "{not json";
  ExpectError(registry_->AddService(s), ErrorCode::kInvalidArgument, "not an OpenAPI document");
  s.openapi = R"({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})";
  ASSERT_TRUE(registry_->AddService(s));
  s.enabled = false;
  s.disabled_notice = "維護中";
  ASSERT_TRUE(registry_->UpdateService(s));
  auto got = registry_->GetService(s.id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->disabled_notice, "維護中");
  EXPECT_EQ(got->type, "OPENAPI");
}

TEST_F(RegistryTest, ApplicationFlowMakesAndWithdrawsGrants) {
  Populate();
  auto id = registry_->Apply(Id("TW/GOV/BLI/insurance"), Svc("TW/GOV/MOI/household/registry"),
                             {{"GET", "/persons/{nationalId}"}}, "勞保投保資格審核", "bli-admin");
  ASSERT_TRUE(id) << id.error().ToString();
  auto again = registry_->Apply(Id("TW/GOV/BLI/insurance"), Svc("TW/GOV/MOI/household/registry"),
                                {}, "again", "bli-admin");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(registry_->Snapshot()->grants.empty()) << "pending is not a grant";

  ExpectError(registry_->Decide(*id, false, "", "moi-admin"), ErrorCode::kInvalidArgument,
              "reason is required");
  int64_t before = *registry_->Revision();
  clock_.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(registry_->Decide(*id, true, "符合個資法第16條", "moi-admin"));
  EXPECT_GT(*registry_->Revision(), before);
  auto app = registry_->GetApplication(*id);
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, ApplicationStatus::kApproved);
  EXPECT_EQ(app->decided_by, "moi-admin");
  EXPECT_EQ(app->decision_reason, "符合個資法第16條");
  EXPECT_EQ(app->decided_at, kStart + std::chrono::minutes(5));
  ExpectError(registry_->Decide(*id, false, "changed my mind", "moi-admin"),
              ErrorCode::kFailedPrecondition, "approved, not pending");

  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->grants.size(), 1u);
  EXPECT_EQ(doc->grants[0].client.ToString(), "TW/GOV/BLI/insurance");
  EXPECT_EQ(doc->grants[0].rules.at(0).path, "/persons/{nationalId}");

  ExpectError(registry_->Withdraw(*id, "", "moi-admin"), ErrorCode::kInvalidArgument,
              "reason is required");
  ASSERT_TRUE(registry_->Withdraw(*id, "合作結束", "moi-admin"));
  EXPECT_TRUE(registry_->Snapshot()->grants.empty());
  EXPECT_EQ(registry_->GetApplication(*id)->withdrawal_reason, "合作結束");
}

TEST_F(RegistryTest, ScopeShowsOnlyWhatConcernsTheMember) {
  Populate();
  ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/NHI"), "衛福部中央健康保險署", "", {}}));
  ASSERT_TRUE(registry_->AddSubsystem({Id("TW/GOV/NHI/claims"), "健保", {}}));
  ASSERT_TRUE(registry_->Apply(Id("TW/GOV/BLI/insurance"), Svc("TW/GOV/MOI/household/registry"), {},
                               "a", "x"));
  ASSERT_TRUE(registry_->Apply(Id("TW/GOV/NHI/claims"), Svc("TW/GOV/MOI/household/registry"), {},
                               "b", "y"));
  EXPECT_EQ(registry_->Applications(Scope{"TW/GOV/MOI"})->size(), 2u);  // provider sees both
  auto bli = registry_->Applications(Scope{"TW/GOV/BLI"});
  ASSERT_EQ(bli->size(), 1u);
  EXPECT_EQ((*bli)[0].client.ToString(), "TW/GOV/BLI/insurance");
  EXPECT_TRUE(registry_->Services(Scope{"TW/GOV/BLI"})->empty());
  EXPECT_EQ(registry_->Subsystems(Scope{"TW/GOV/NHI"})->size(), 1u);
  // "TW/GOV/MO" must not match "TW/GOV/MOI/…"; nor may LIKE's wildcard or case folding.
  EXPECT_TRUE(registry_->Applications(Scope{"TW/GOV/MO"})->empty());
  EXPECT_TRUE(registry_->Applications(Scope{"TW/GOV/M_I"})->empty());
  EXPECT_TRUE(registry_->Services(Scope{"TW/GOV/moi"})->empty());
  EXPECT_TRUE(registry_->Services(Scope{"TW/GOV/M%"})->empty());
}

TEST_F(RegistryTest, SnapshotFollowsCertificatesAndRevocations) {
  Populate();
  auto gw = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
  EXPECT_TRUE(registry_->Snapshot()->gateways.empty()) << "no certificate yet";
  auto auth = Issue(gw.ToString(), crypto::CertUsage::kAuthentication);
  auto sign = Issue("TW/GOV/MOI", crypto::CertUsage::kSigning);
  ASSERT_TRUE(registry_->AddCertificate(CertKind::kAuthentication, gw.ToString(), auth, 1));
  ASSERT_TRUE(registry_->AddCertificate(CertKind::kSigning, "TW/GOV/MOI", sign, std::nullopt));
  ExpectError(registry_->AddCertificate(CertKind::kSigning, "TW/GOV/NONE", sign, std::nullopt),
              ErrorCode::kInvalidArgument, "not registered");
  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->gateways.size(), 1u);
  EXPECT_EQ(doc->gateways[0].auth_certificate.Sha256Fingerprint(), auth.Sha256Fingerprint());
  EXPECT_EQ(doc->members[1].id.ToString(), "TW/GOV/MOI");
  ASSERT_EQ(doc->members[1].signing_certificates.size(), 1u);

  ASSERT_TRUE(registry_->Revoke(auth.Sha256Fingerprint(), "key compromised", "operator"));
  ExpectError(registry_->Revoke(auth.Sha256Fingerprint(), "again", "operator"),
              ErrorCode::kFailedPrecondition, "was revoked");
  ExpectError(registry_->Revoke(std::string(64, '0'), "x", "operator"), ErrorCode::kNotFound,
              "not known");
  doc = registry_->Snapshot();
  EXPECT_TRUE(doc->gateways.empty());
  ASSERT_EQ(doc->revoked_certificates.size(), 1u);
  EXPECT_EQ(doc->revoked_certificates[0], auth.Sha256Fingerprint());
  auto info = registry_->GetCertificate(auth.Sha256Fingerprint());
  EXPECT_EQ(info->revoked_by, "operator");
  EXPECT_EQ(info->revocation_reason, "key compromised");

  // Once expired, a revoked certificate leaves the list (it can no longer be presented).
  clock_.Advance(std::chrono::hours(24 * 366));
  EXPECT_TRUE(registry_->Snapshot()->revoked_certificates.empty());
  EXPECT_TRUE(registry_->Snapshot()->members[1].signing_certificates.empty());
}

// During a renewal a gateway holds two authentication certificates (a member two
// signing certificates): peers must accept either until the old one expires or is
// revoked.
TEST_F(RegistryTest, SnapshotListsEveryCurrentCertificateOldestFirst) {
  Populate();
  const std::string gw = "TW/GOV/MOI/moi-gw";
  auto fingerprints = [](const globalconf::Gateway& g) {
    std::vector<std::string> out;
    for (const auto& c : g.AuthCertificates()) out.push_back(c.Sha256Fingerprint());
    return out;
  };
  auto short_lived = Issue(gw, crypto::CertUsage::kAuthentication, std::chrono::hours(48));
  clock_.Advance(std::chrono::hours(1));
  auto revoked = Issue(gw, crypto::CertUsage::kAuthentication);
  clock_.Advance(std::chrono::hours(1));
  auto renewed = Issue(gw, crypto::CertUsage::kAuthentication);
  // Recorded newest first: the order of the document follows the certificates' age.
  for (const auto* c : {&renewed, &revoked, &short_lived}) {
    ASSERT_TRUE(registry_->AddCertificate(CertKind::kAuthentication, gw, *c, std::nullopt));
  }
  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->gateways.size(), 1u);
  EXPECT_EQ(fingerprints(doc->gateways[0]),
            (std::vector<std::string>{short_lived.Sha256Fingerprint(), revoked.Sha256Fingerprint(),
                                      renewed.Sha256Fingerprint()}));

  ASSERT_TRUE(registry_->Revoke(revoked.Sha256Fingerprint(), "superseded", "operator"));
  doc = registry_->Snapshot();
  EXPECT_EQ(
      fingerprints(doc->gateways[0]),
      (std::vector<std::string>{short_lived.Sha256Fingerprint(), renewed.Sha256Fingerprint()}));
  EXPECT_EQ(doc->gateways[0].auth_certificate.Sha256Fingerprint(), short_lived.Sha256Fingerprint());

  // Once the old one expires the renewed one is the gateway's only certificate.
  clock_.Advance(std::chrono::hours(48));
  doc = registry_->Snapshot();
  EXPECT_EQ(fingerprints(doc->gateways[0]),
            (std::vector<std::string>{renewed.Sha256Fingerprint()}));
  EXPECT_TRUE(doc->gateways[0].additional_auth_certificates.empty());

  // Members: every current signing certificate, the revoked one not.
  auto sign_old = Issue("TW/GOV/MOI", crypto::CertUsage::kSigning);
  clock_.Advance(std::chrono::hours(1));
  auto sign_new = Issue("TW/GOV/MOI", crypto::CertUsage::kSigning);
  auto sign_revoked = Issue("TW/GOV/MOI", crypto::CertUsage::kSigning);
  for (const auto* c : {&sign_old, &sign_new, &sign_revoked}) {
    ASSERT_TRUE(registry_->AddCertificate(CertKind::kSigning, "TW/GOV/MOI", *c, std::nullopt));
  }
  ASSERT_TRUE(registry_->Revoke(sign_revoked.Sha256Fingerprint(), "lost", "operator"));
  doc = registry_->Snapshot();
  ASSERT_EQ(doc->members[1].id.ToString(), "TW/GOV/MOI");
  std::set<std::string> signing;
  for (const auto& c : doc->members[1].signing_certificates) signing.insert(c.Sha256Fingerprint());
  EXPECT_EQ(signing,
            (std::set<std::string>{sign_old.Sha256Fingerprint(), sign_new.Sha256Fingerprint()}));
}

TEST_F(RegistryTest, SnapshotKeepsTheOldestAndTheNewestWhenAGatewayHasTooManyCertificates) {
  Populate();
  const std::string gw = "TW/GOV/MOI/moi-gw";
  std::vector<crypto::Certificate> certs;
  for (size_t i = 0; i < globalconf::kMaxAdditionalAuthCertificates + 3; ++i) {
    certs.push_back(Issue(gw, crypto::CertUsage::kAuthentication));
    ASSERT_TRUE(
        registry_->AddCertificate(CertKind::kAuthentication, gw, certs.back(), std::nullopt));
    clock_.Advance(std::chrono::hours(1));
  }
  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->gateways.size(), 1u);
  const globalconf::Gateway& g = doc->gateways[0];
  EXPECT_EQ(g.auth_certificate.Sha256Fingerprint(), certs.front().Sha256Fingerprint());
  ASSERT_EQ(g.additional_auth_certificates.size(), globalconf::kMaxAdditionalAuthCertificates);
  for (size_t i = 0; i < globalconf::kMaxAdditionalAuthCertificates; ++i) {
    EXPECT_EQ(
        g.additional_auth_certificates[i].Sha256Fingerprint(),
        certs[certs.size() - globalconf::kMaxAdditionalAuthCertificates + i].Sha256Fingerprint())
        << i;
  }
}

TEST_F(RegistryTest, GlobalGroupsAreValidatedAndEveryChangeIsPublished) {
  Populate();
  const ClientId household = Id("TW/GOV/MOI/household");
  const ClientId insurance = Id("TW/GOV/BLI/insurance");
  int64_t revision = *registry_->Revision();
  auto moved = [&] {
    int64_t now = *registry_->Revision();
    bool advanced = now > revision;
    revision = now;
    return advanced;
  };

  ASSERT_TRUE(registry_->AddGroup(
      {"municipalities", "直轄市及縣市政府", "Municipalities", {insurance}, {}, {}}));
  EXPECT_TRUE(moved());
  ExpectError(registry_->AddGroup({"municipalities", "again", "", {}, {}, {}}),
              ErrorCode::kAlreadyExists, "already exists");
  ExpectError(registry_->AddGroup({"bad/code", "x", "", {}, {}, {}}), ErrorCode::kInvalidArgument,
              "group code");
  ExpectError(registry_->AddGroup({"", "x", "", {}, {}, {}}), ErrorCode::kInvalidArgument,
              "group code");
  ExpectError(registry_->AddGroup({"cleared", "", "", {}, {}, {}}), ErrorCode::kInvalidArgument,
              "description is required");
  ExpectError(registry_->AddGroup({"cleared", "x", "", {Id("TW/GOV/MOI")}, {}, {}}),
              ErrorCode::kInvalidArgument, "TW/GOV/MOI is a member");
  ExpectError(registry_->AddGroup({"cleared", "x", "", {Id("TW/GOV/MOI/nothing")}, {}, {}}),
              ErrorCode::kNotFound, "subsystem TW/GOV/MOI/nothing is not registered");
  ExpectError(registry_->AddGroup({"cleared", "x", "", {Id("EE/GOV/RIA/x")}, {}, {}}),
              ErrorCode::kInvalidArgument, "instance is not TW");
  // None of the refused groups was left half-made.
  EXPECT_FALSE(moved());
  ASSERT_EQ(registry_->Groups()->size(), 1u);

  // Members: all or nothing.
  ExpectError(registry_->AddGroupMembers("municipalities", {household, insurance}),
              ErrorCode::kAlreadyExists, "TW/GOV/BLI/insurance is already a member");
  EXPECT_EQ(registry_->GetGroup("municipalities")->members, std::vector<ClientId>{insurance});
  ExpectError(registry_->AddGroupMembers("municipalities", {}), ErrorCode::kInvalidArgument,
              "at least one");
  ExpectError(registry_->AddGroupMembers("villages", {household}), ErrorCode::kNotFound,
              "global group villages does not exist");
  EXPECT_FALSE(moved());
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(registry_->AddGroupMembers("municipalities", {household}));
  EXPECT_TRUE(moved());
  auto group = registry_->GetGroup("municipalities");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->members, (std::vector<ClientId>{insurance, household}));  // sorted by id
  EXPECT_EQ(group->created_at, kStart);
  EXPECT_EQ(group->updated_at, kStart + std::chrono::minutes(1));

  ASSERT_TRUE(
      registry_->UpdateGroup({"municipalities", "地方政府", "Local governments", {}, {}, {}}));
  EXPECT_TRUE(moved());
  EXPECT_EQ(registry_->GetGroup("municipalities")->description_en, "Local governments");
  EXPECT_EQ(registry_->GetGroup("municipalities")->members.size(), 2u) << "update keeps members";
  ExpectError(registry_->UpdateGroup({"villages", "x", "", {}, {}, {}}), ErrorCode::kNotFound,
              "does not exist");

  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->global_groups.size(), 1u);
  EXPECT_EQ(doc->global_groups[0].code, "municipalities");
  EXPECT_EQ(doc->global_groups[0].description, "地方政府");
  EXPECT_EQ(doc->global_groups[0].members, (std::vector<ClientId>{insurance, household}));

  ExpectError(registry_->RemoveGroupMembers("municipalities", {household, Id("TW/GOV/MOI/x")}),
              ErrorCode::kNotFound, "TW/GOV/MOI/x is not a member");
  EXPECT_EQ(registry_->GetGroup("municipalities")->members.size(), 2u) << "all or nothing";
  ASSERT_TRUE(registry_->RemoveGroupMembers("municipalities", {insurance}));
  EXPECT_TRUE(moved());
  EXPECT_EQ(registry_->Snapshot()->global_groups[0].members, std::vector<ClientId>{household});

  ASSERT_TRUE(registry_->DeleteGroup("municipalities"));
  EXPECT_TRUE(moved());
  EXPECT_TRUE(registry_->Snapshot()->global_groups.empty());
  ExpectError(registry_->DeleteGroup("municipalities"), ErrorCode::kNotFound, "does not exist");
  // The code is free again.
  ASSERT_TRUE(registry_->AddGroup({"municipalities", "新", "", {}, {}, {}}));
  EXPECT_TRUE(registry_->GetGroup("municipalities")->members.empty());
}

TEST_F(RegistryTest, GroupGrantsKeepWhoWhenAndWhyAndReachTheDocument) {
  Populate();
  const ServiceId registry = Svc("TW/GOV/MOI/household/registry");
  ASSERT_TRUE(registry_->AddGroup({"cleared",
                                   "安全查核機關",
                                   "Security-cleared agencies",
                                   {Id("TW/GOV/BLI/insurance")},
                                   {},
                                   {}}));

  ExpectError(registry_->GrantToGroup("cleared", registry, {}, "", "moi-admin"),
              ErrorCode::kInvalidArgument, "reason is required");
  ExpectError(registry_->GrantToGroup("nobody", registry, {}, "why", "moi-admin"),
              ErrorCode::kNotFound, "global group nobody does not exist");
  ExpectError(
      registry_->GrantToGroup("cleared", Svc("TW/GOV/MOI/household/none"), {}, "why", "moi-admin"),
      ErrorCode::kNotFound, "service TW/GOV/MOI/household/none is not registered");
  ExpectError(registry_->GrantToGroup("cleared", registry, {{"FETCH", "/x"}}, "why", "moi-admin"),
              ErrorCode::kInvalidArgument, "rules[0].method");

  int64_t before = *registry_->Revision();
  clock_.Advance(std::chrono::minutes(2));
  auto id = registry_->GrantToGroup("cleared", registry, {{"GET", "/persons/{nationalId}"}},
                                    "國安查核需要", "moi-admin");
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_GT(*registry_->Revision(), before);
  auto grant = registry_->GetGroupGrant(*id);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->group, "cleared");
  EXPECT_EQ(grant->service, registry);
  EXPECT_EQ(grant->reason, "國安查核需要");
  EXPECT_EQ(grant->granted_by, "moi-admin");
  EXPECT_EQ(grant->granted_at, kStart + std::chrono::minutes(2));
  EXPECT_TRUE(grant->in_force());
  // The same decision twice is refused; other rules add to it.
  ExpectError(registry_->GrantToGroup("cleared", registry, {{"GET", "/persons/{nationalId}"}},
                                      "again", "moi-admin"),
              ErrorCode::kAlreadyExists, "already holds the same grant");
  auto whole = registry_->GrantToGroup("cleared", registry, {}, "全部", "operator");
  ASSERT_TRUE(whole) << whole.error().ToString();

  auto doc = registry_->Snapshot();
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->grants.size(), 2u);
  EXPECT_EQ(doc->grants[0].group, "cleared");
  EXPECT_EQ(doc->grants[0].client, ClientId{});
  EXPECT_EQ(doc->grants[0].rules.at(0).path, "/persons/{nationalId}");
  EXPECT_TRUE(doc->grants[1].rules.empty());
  // The document the registry makes is one a gateway accepts.
  doc->version = 1;
  doc->issued_at = clock_.Now();
  doc->expires_at = clock_.Now() + std::chrono::minutes(10);
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "TW test CA";
  doc->trusted_cas = {
      *crypto::CreateSelfSignedCa(*crypto::PrivateKey::GenerateEcP256(), ca_req, clock_)};
  ASSERT_TRUE(globalconf::WriteDocument(*doc))
      << globalconf::WriteDocument(*doc).error().ToString();

  // A group with a grant in force cannot be deleted: that would take access silently.
  ExpectError(registry_->DeleteGroup("cleared"), ErrorCode::kFailedPrecondition,
              "2 grant(s) in force");

  ExpectError(registry_->WithdrawGroupGrant(*id, "", "moi-admin"), ErrorCode::kInvalidArgument,
              "reason is required");
  clock_.Advance(std::chrono::minutes(3));
  ASSERT_TRUE(registry_->WithdrawGroupGrant(*id, "查核期滿", "moi-admin"));
  grant = registry_->GetGroupGrant(*id);
  EXPECT_FALSE(grant->in_force());
  EXPECT_EQ(grant->withdrawn_by, "moi-admin");
  EXPECT_EQ(grant->withdrawn_at, kStart + std::chrono::minutes(5));
  EXPECT_EQ(grant->withdrawal_reason, "查核期滿");
  ExpectError(registry_->WithdrawGroupGrant(*id, "again", "moi-admin"),
              ErrorCode::kFailedPrecondition, "was withdrawn");
  ExpectError(registry_->WithdrawGroupGrant(999, "x", "moi-admin"), ErrorCode::kNotFound,
              "group grant 999 does not exist");
  ASSERT_EQ(registry_->Snapshot()->grants.size(), 1u);

  ASSERT_TRUE(registry_->WithdrawGroupGrant(*whole, "done", "operator"));
  EXPECT_TRUE(registry_->Snapshot()->grants.empty());
  ASSERT_TRUE(registry_->DeleteGroup("cleared"));
  // The history outlives the group.
  EXPECT_EQ(registry_->GroupGrants()->size(), 2u);
}

TEST_F(RegistryTest, GroupGrantsAreScopedToProviderAndMembers) {
  Populate();
  ASSERT_TRUE(registry_->AddMember({Id("TW/GOV/NHI"), "衛福部中央健康保險署", "", {}}));
  ASSERT_TRUE(registry_->AddSubsystem({Id("TW/GOV/NHI/claims"), "健保", {}}));
  ASSERT_TRUE(
      registry_->AddGroup({"cleared", "安全查核機關", "", {Id("TW/GOV/BLI/insurance")}, {}, {}}));
  ASSERT_TRUE(registry_->AddGroup({"health", "衛生", "", {Id("TW/GOV/NHI/claims")}, {}, {}}));
  const ServiceId registry = Svc("TW/GOV/MOI/household/registry");
  ASSERT_TRUE(registry_->GrantToGroup("cleared", registry, {}, "a", "moi-admin"));
  ASSERT_TRUE(registry_->GrantToGroup("health", registry, {}, "b", "moi-admin"));

  EXPECT_EQ(registry_->GroupGrants(Scope{"TW/GOV/MOI"})->size(), 2u);  // the provider: both
  auto bli = registry_->GroupGrants(Scope{"TW/GOV/BLI"});              // a member of "cleared"
  ASSERT_EQ(bli->size(), 1u);
  EXPECT_EQ((*bli)[0].group, "cleared");
  auto nhi = registry_->GroupGrants(Scope{"TW/GOV/NHI"});
  ASSERT_EQ(nhi->size(), 1u);
  EXPECT_EQ((*nhi)[0].group, "health");
  EXPECT_TRUE(registry_->GroupGrants(Scope{"TW/GOV/TAX"})->empty());
  EXPECT_TRUE(registry_->GroupGrants(Scope{"TW/GOV/BL"})->empty());
  EXPECT_TRUE(registry_->GroupGrants(Scope{"TW/GOV/B_I"})->empty());
}

TEST_F(RegistryTest, DamagedRowsAreReportedNotTrusted) {
  Populate();
  ASSERT_TRUE(db_->Execute("UPDATE services SET endpoints = '{oops' WHERE 1 = 1"));
  auto services = registry_->Services();
  ASSERT_FALSE(services);
  EXPECT_EQ(services.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(services.error().message().find("TW/GOV/MOI/household/registry"), std::string::npos);
}

}  // namespace
}  // namespace troad::central
