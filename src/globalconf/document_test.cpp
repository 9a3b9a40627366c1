// Writing the global configuration: what WriteDocument produces reads back field for
// field, and a document a gateway would refuse is refused before it is published.
#include "globalconf/document.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/ca.h"

namespace troad::globalconf {
namespace {

const SystemTime kNow = *ParseRfc3339("2026-03-01T08:00:00Z");

struct Pki {
  crypto::Certificate ca;
  crypto::Certificate member_cert;
  crypto::Certificate gateway_cert;
};

Pki MakePki() {
  FakeClock clock(kNow);
  auto ca_key = *crypto::PrivateKey::GenerateEcP256();
  crypto::CertificateRequest req;
  req.common_name = "TW test CA";
  auto ca = *crypto::CreateSelfSignedCa(ca_key, req, clock);
  auto key = *crypto::PrivateKey::GenerateEcP256();
  req.common_name = "TW/GOV/MOI";
  req.usage = crypto::CertUsage::kSigning;
  auto member_cert = *crypto::IssueCertificate(ca, ca_key, key.Public(), req, clock);
  req.common_name = "TW/GOV/MOI/moi-gw";
  req.usage = crypto::CertUsage::kAuthentication;
  auto gateway_cert = *crypto::IssueCertificate(ca, ca_key, key.Public(), req, clock);
  return Pki{ca, member_cert, gateway_cert};
}

const Pki& TestPki() {
  static const Pki pki = MakePki();
  return pki;
}

Document SampleDocument() {
  const Pki& pki = TestPki();
  ClientId moi = *ClientId::Parse("TW/GOV/MOI");
  ClientId household = *ClientId::Parse("TW/GOV/MOI/household");
  ClientId bli = *ClientId::Parse("TW/GOV/BLI");
  ClientId insurance = *ClientId::Parse("TW/GOV/BLI/insurance");
  ServiceId registry = *ServiceId::Parse("TW/GOV/MOI/household/registry");
  Document doc;
  doc.instance = "TW";
  doc.version = 7;
  doc.issued_at = kNow;
  doc.expires_at = kNow + std::chrono::minutes(10);
  doc.settings = Settings{30'000, 15};
  doc.trusted_cas = {pki.ca};
  doc.revoked_certificates = {std::string(64, 'a')};
  doc.members = {Member{moi, "內政部", "Ministry of the Interior", {pki.member_cert}},
                 Member{bli, "勞動部勞工保險局", "", {}}};
  doc.subsystems = {Subsystem{household, "戶政"}, Subsystem{insurance, "勞保"}};
  doc.gateways = {
      Gateway{*GatewayId::Parse("TW/GOV/MOI/moi-gw"), "::1", 8444, pki.gateway_cert, {household}}};
  doc.services = {Service{registry,
                          "OPENAPI",
                          false,
                          "維護中 until 10:00",
                          {Endpoint{"GET", "/persons/{nationalId}"}}}};
  doc.grants = {Grant{insurance, registry, {Endpoint{"GET", "/persons/*"}}}};
  return doc;
}

TEST(WriteDocumentTest, ReadsBackFieldForField) {
  auto text = WriteDocument(SampleDocument());
  ASSERT_TRUE(text) << text.error().ToString();
  auto conf = GlobalConf::Parse(*text);
  ASSERT_TRUE(conf) << conf.error().ToString();
  const GlobalConf& c = **conf;
  EXPECT_EQ(c.instance(), "TW");
  EXPECT_EQ(c.version(), 7);
  EXPECT_EQ(c.issued_at(), kNow);
  EXPECT_EQ(c.expires_at(), kNow + std::chrono::minutes(10));
  EXPECT_EQ(c.settings().max_clock_skew_ms, 30'000);
  EXPECT_EQ(c.settings().refresh_interval_s, 15);
  EXPECT_TRUE(c.IsRevoked(std::string(64, 'a')));
  ASSERT_EQ(c.members().size(), 2u);
  EXPECT_EQ(c.members()[0].name, "內政部");
  EXPECT_EQ(c.members()[0].signing_certificates.at(0).ToPem(), TestPki().member_cert.ToPem());
  ASSERT_EQ(c.gateways().size(), 1u);
  EXPECT_EQ(c.gateways()[0].host, "::1");  // written as "[::1]:8444"
  EXPECT_EQ(c.gateways()[0].port, 8444);
  EXPECT_EQ(c.gateways()[0].clients.at(0).ToString(), "TW/GOV/MOI/household");
  const Service* s = c.FindService(*ServiceId::Parse("TW/GOV/MOI/household/registry"));
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->enabled);
  EXPECT_EQ(s->disabled_notice, "維護中 until 10:00");
  auto grants = c.GrantsFor(*ClientId::Parse("TW/GOV/BLI/insurance"), s->id);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]->rules.at(0).path, "/persons/*");
  // Written text is what the gateway keeps on disk.
  EXPECT_EQ(c.source(), *text);
}

TEST(WriteDocumentTest, TheLedgerIsWrittenBeforeRevokedCertificatesOnlyWhenSet) {
  Document doc = SampleDocument();
  auto without = WriteDocument(doc);
  ASSERT_TRUE(without) << without.error().ToString();
  EXPECT_EQ(without->find("\"ledger\""), std::string::npos);
  auto key = *crypto::PrivateKey::GenerateEcP256();
  doc.ledger = LedgerInfo{"https://127.0.0.1:4400/ledger/v1", "troad-ledger/TW", key.Public()};
  auto text = WriteDocument(doc);
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_LT(text->find("\"ledger\""), text->find("\"revoked_certificates\""));
  auto conf = GlobalConf::Parse(*text);
  ASSERT_TRUE(conf) << conf.error().ToString();
  ASSERT_TRUE((*conf)->ledger().has_value());
  EXPECT_EQ((*conf)->ledger()->origin, "troad-ledger/TW");
  EXPECT_EQ((*conf)->ledger()->public_key.ToDer(), key.Public().ToDer());
}

TEST(WriteDocumentTest, RefusesWhatAGatewayWouldRefuse) {
  Document doc = SampleDocument();
  doc.grants.push_back(Grant{*ClientId::Parse("TW/GOV/BLI/insurance"),
                             *ServiceId::Parse("TW/GOV/MOI/household/unknown"),
                             {}});
  auto text = WriteDocument(doc);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message().find("grants[1]"), std::string::npos) << text.error().ToString();

  doc = SampleDocument();
  doc.trusted_cas.clear();
  EXPECT_FALSE(WriteDocument(doc));

  doc = SampleDocument();
  doc.expires_at = doc.issued_at;
  EXPECT_FALSE(WriteDocument(doc));
}

// SampleDocument plus the Taipei city government's subsystem and a global group of
// municipalities (Taipei's subsystem and BLI's, for the test's sake) that holds a grant
// of the household registry's GET /persons/*.
Document DocumentWithGroup() {
  Document doc = SampleDocument();
  ClientId tpe = *ClientId::Parse("TW/GOV/TPE");
  ClientId civil = *ClientId::Parse("TW/GOV/TPE/civil");
  doc.members.push_back(Member{tpe, "臺北市政府", "Taipei City Government", {}});
  doc.subsystems.push_back(Subsystem{civil, "民政"});
  doc.global_groups = {GlobalGroup{"municipalities",
                                   "直轄市及縣市政府",
                                   "Municipal and county governments",
                                   {civil, *ClientId::Parse("TW/GOV/BLI/insurance")}}};
  doc.grants.push_back(Grant{ClientId{},
                             *ServiceId::Parse("TW/GOV/MOI/household/registry"),
                             {Endpoint{"GET", "/persons/*"}},
                             "municipalities"});
  return doc;
}

// Writes `doc` and expects it refused with every one of `parts` in the message.
void ExpectRefused(const Document& doc, std::initializer_list<std::string_view> parts) {
  auto text = WriteDocument(doc);
  ASSERT_FALSE(text) << "accepted";
  EXPECT_EQ(text.error().code(), ErrorCode::kInvalidArgument);
  for (std::string_view part : parts) {
    EXPECT_NE(text.error().message().find(part), std::string::npos)
        << "wanted \"" << part << "\" in: " << text.error().ToString();
  }
}

TEST(WriteDocumentTest, GlobalGroupsAndGroupGrantsReadBack) {
  auto text = WriteDocument(DocumentWithGroup());
  ASSERT_TRUE(text) << text.error().ToString();
  auto conf = GlobalConf::Parse(*text);
  ASSERT_TRUE(conf) << conf.error().ToString();
  const GlobalConf& c = **conf;
  ASSERT_EQ(c.global_groups().size(), 1u);
  const GlobalGroup* group = c.FindGlobalGroup("municipalities");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->description, "直轄市及縣市政府");
  EXPECT_EQ(group->description_en, "Municipal and county governments");
  ASSERT_EQ(group->members.size(), 2u);
  EXPECT_EQ(group->members[0].ToString(), "TW/GOV/TPE/civil");
  EXPECT_EQ(group->members[1].ToString(), "TW/GOV/BLI/insurance");
  EXPECT_EQ(c.FindGlobalGroup("Municipalities"), nullptr) << "codes are case-sensitive";
  EXPECT_EQ(c.GroupsOf(*ClientId::Parse("TW/GOV/TPE/civil")),
            std::vector<std::string>{"municipalities"});
  EXPECT_TRUE(c.GroupsOf(*ClientId::Parse("TW/GOV/MOI/household")).empty());

  // The group grant reads back as one, and reaches the group's members.
  ASSERT_EQ(c.grants().size(), 2u);
  EXPECT_TRUE(c.grants()[1].is_group_grant());
  EXPECT_EQ(c.grants()[1].group, "municipalities");
  EXPECT_EQ(c.grants()[1].client, ClientId{});
  ServiceId registry = *ServiceId::Parse("TW/GOV/MOI/household/registry");
  auto civil = c.GrantsFor(*ClientId::Parse("TW/GOV/TPE/civil"), registry);
  ASSERT_EQ(civil.size(), 1u);
  EXPECT_EQ(civil[0]->group, "municipalities");
  EXPECT_EQ(civil[0]->rules.at(0).path, "/persons/*");
  // BLI's insurance holds its own grant and, as a member, the group's: its own first.
  auto insurance = c.GrantsFor(*ClientId::Parse("TW/GOV/BLI/insurance"), registry);
  ASSERT_EQ(insurance.size(), 2u);
  EXPECT_FALSE(insurance[0]->is_group_grant());
  EXPECT_TRUE(insurance[1]->is_group_grant());
  // Not a member: nothing. Nor the member whose subsystem is in the group.
  EXPECT_TRUE(c.GrantsFor(*ClientId::Parse("TW/GOV/MOI/household"), registry).empty());
  EXPECT_TRUE(c.GrantsFor(*ClientId::Parse("TW/GOV/TPE"), registry).empty());

  // On the wire: "global_groups" after "subsystems"; a group grant names "group" and
  // has no "client" (docs/protocol.md §8).
  auto json = nlohmann::ordered_json::parse(*text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  auto at = std::find(keys.begin(), keys.end(), "global_groups");
  ASSERT_NE(at, keys.end());
  EXPECT_EQ(*(at - 1), "subsystems");
  EXPECT_EQ(json["global_groups"][0]["members"],
            nlohmann::ordered_json::array({"TW/GOV/TPE/civil", "TW/GOV/BLI/insurance"}));
  EXPECT_EQ(json["grants"][1]["group"], "municipalities");
  EXPECT_FALSE(json["grants"][1].contains("client"));
  EXPECT_FALSE(json["grants"][0].contains("group"));
  // And a document without groups still says so explicitly.
  auto plain = nlohmann::json::parse(*WriteDocument(SampleDocument()));
  EXPECT_EQ(plain["global_groups"], nlohmann::json::array());
}

TEST(WriteDocumentTest, RefusesBadGlobalGroupsWithWhereAndWhy) {
  Document doc = DocumentWithGroup();
  doc.grants[1].group = "villages";
  ExpectRefused(doc, {"grants[1].group", "global group \"villages\" is not listed"});

  doc = DocumentWithGroup();
  doc.global_groups.push_back(GlobalGroup{"municipalities", "重複", "", {}});
  ExpectRefused(doc, {"global_groups[1].code", "\"municipalities\" is listed twice"});

  doc = DocumentWithGroup();
  doc.global_groups[0].members.push_back(*ClientId::Parse("TW/GOV/MOI"));
  ExpectRefused(doc, {"global_groups[0].members[2]", "TW/GOV/MOI is a member",
                      "a global group holds subsystems"});

  doc = DocumentWithGroup();
  doc.global_groups[0].members.push_back(*ClientId::Parse("TW/GOV/MOI/nothing"));
  ExpectRefused(doc, {"global_groups[0].members[2]", "subsystem TW/GOV/MOI/nothing is not listed"});

  doc = DocumentWithGroup();
  doc.global_groups[0].members.push_back(*ClientId::Parse("TW/GOV/TPE/civil"));
  ExpectRefused(doc, {"global_groups[0].members[2]", "listed twice in the group"});

  doc = DocumentWithGroup();
  doc.global_groups[0].code = "bad/code";
  ExpectRefused(doc, {"global_groups[0].code"});
  doc.global_groups[0].code = "";
  ExpectRefused(doc, {"global_groups[0].code"});

  doc = DocumentWithGroup();
  doc.global_groups[0].description = "";
  ExpectRefused(doc, {"global_groups[0].description"});

  // A member of another instance is refused like any foreign identifier.
  doc = DocumentWithGroup();
  doc.global_groups[0].members.push_back(*ClientId::Parse("EE/GOV/RIA/x"));
  ExpectRefused(doc, {"global_groups[0].members[2]", "is not listed"});
}

TEST(WriteDocumentTest, AGrantNamesExactlyOneGrantee) {
  auto text = WriteDocument(DocumentWithGroup());
  ASSERT_TRUE(text) << text.error().ToString();
  auto json = nlohmann::json::parse(*text);

  auto both = json;
  both["grants"][1]["client"] = "TW/GOV/TPE/civil";
  auto parsed = GlobalConf::Parse(both.dump());
  ASSERT_FALSE(parsed) << "a grant with a client and a group was accepted";
  EXPECT_NE(parsed.error().message().find("grants[1]: has both \"client\" and \"group\""),
            std::string::npos)
      << parsed.error().ToString();

  auto neither = json;
  neither["grants"][1].erase("group");
  parsed = GlobalConf::Parse(neither.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("grants[1].client"), std::string::npos)
      << parsed.error().ToString();

  // A group reference is a code, not an id: "GLOBALGROUP:TW/x" is no group's code.
  auto xroad_style = json;
  xroad_style["grants"][1]["group"] = "GLOBALGROUP:TW/municipalities";
  parsed = GlobalConf::Parse(xroad_style.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("grants[1].group"), std::string::npos)
      << parsed.error().ToString();

  auto empty = json;
  empty["grants"][1]["group"] = "";
  parsed = GlobalConf::Parse(empty.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("grants[1].group: must not be empty"), std::string::npos)
      << parsed.error().ToString();
}

TEST(WriteDocumentTest, InvalidUtf8InANameIsReplacedNotThrown) {
  Document doc = SampleDocument();
  doc.members[1].name = "bad \xff name";
  auto text = WriteDocument(doc);
  ASSERT_TRUE(text) << text.error().ToString();
  auto conf = GlobalConf::Parse(*text);
  ASSERT_TRUE(conf);
  EXPECT_EQ((*conf)->members()[1].name, "bad \xEF\xBF\xBD name");
}

}  // namespace
}  // namespace troad::globalconf
