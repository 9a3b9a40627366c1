// Writing the global configuration: what WriteDocument produces reads back field for
// field, and a document a gateway would refuse is refused before it is published.
#include "globalconf/document.h"

#include <gtest/gtest.h>

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
  doc.gateways = {Gateway{*GatewayId::Parse("TW/GOV/MOI/moi-gw"), "::1", 8444, pki.gateway_cert,
                          {household}}};
  doc.services = {Service{registry, "OPENAPI", false, "維護中 until 10:00",
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

TEST(WriteDocumentTest, RefusesWhatAGatewayWouldRefuse) {
  Document doc = SampleDocument();
  doc.grants.push_back(Grant{*ClientId::Parse("TW/GOV/BLI/insurance"),
                             *ServiceId::Parse("TW/GOV/MOI/household/unknown"),
                             {}});
  auto text = WriteDocument(doc);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message().find("grants[1]"), std::string::npos)
      << text.error().ToString();

  doc = SampleDocument();
  doc.trusted_cas.clear();
  EXPECT_FALSE(WriteDocument(doc));

  doc = SampleDocument();
  doc.expires_at = doc.issued_at;
  EXPECT_FALSE(WriteDocument(doc));
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
