#include "globalconf/model.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/ca.h"

namespace troad::globalconf {
namespace {

using nlohmann::json;

// One CA, MOI's signing certificate, BLI's signing certificate (revoked) and the two
// gateways' authentication certificates, made once for the whole suite.
struct Pki {
  crypto::Certificate ca;
  crypto::Certificate moi_signing;
  crypto::Certificate bli_signing;
  crypto::Certificate moi_gateway;
  crypto::Certificate bli_gateway;
  crypto::Certificate not_a_ca;  // a leaf, to be refused as a trust anchor
};

const SystemTime kIssued = *ParseRfc3339("2026-01-01T00:00:00Z");

crypto::Certificate Issue(const crypto::Certificate& ca, const crypto::PrivateKey& ca_key,
                          const std::string& cn, crypto::CertUsage usage, const Clock& clock) {
  auto key = crypto::PrivateKey::GenerateEcP256();
  EXPECT_TRUE(key);
  crypto::CertificateRequest req;
  req.common_name = cn;
  req.usage = usage;
  auto cert = crypto::IssueCertificate(ca, ca_key, key->Public(), req, clock);
  EXPECT_TRUE(cert) << cert.error().ToString();
  return *cert;
}

const Pki& TestPki() {
  static const Pki* pki = [] {
    FakeClock clock(kIssued);
    auto ca_key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    auto ca = crypto::CreateSelfSignedCa(*ca_key, req, clock);
    EXPECT_TRUE(ca) << ca.error().ToString();
    return new Pki{*ca,
                   Issue(*ca, *ca_key, "TW/GOV/MOI", crypto::CertUsage::kSigning, clock),
                   Issue(*ca, *ca_key, "TW/GOV/BLI", crypto::CertUsage::kSigning, clock),
                   Issue(*ca, *ca_key, "TW/GOV/MOI/gw1", crypto::CertUsage::kAuthentication, clock),
                   Issue(*ca, *ca_key, "TW/GOV/BLI/gw1", crypto::CertUsage::kAuthentication, clock),
                   Issue(*ca, *ca_key, "leaf", crypto::CertUsage::kAuthentication, clock)};
  }();
  return *pki;
}

// A complete, valid document in the shape `troad init` writes (docs/protocol.md §8).
json ValidDocument() {
  const Pki& pki = TestPki();
  return {
      {"format", "troad-globalconf/1"},
      {"instance", "TW"},
      {"version", 7},
      {"issued_at", "2026-01-01T00:00:00Z"},
      {"expires_at", "2026-01-31T00:00:00.500Z"},
      {"settings", {{"max_clock_skew_ms", 30'000}, {"refresh_interval_s", 120}}},
      {"trusted_cas", {pki.ca.ToPem()}},
      {"revoked_certificates", {pki.bli_signing.Sha256Fingerprint()}},
      {"members",
       {{{"id", "TW/GOV/MOI"},
         {"name", "內政部"},
         {"name_en", "Ministry of the Interior"},
         {"signing_certificates", {pki.moi_signing.ToPem()}}},
        {{"id", "TW/GOV/BLI"},
         {"name", "勞動部勞工保險局"},
         {"signing_certificates", {pki.bli_signing.ToPem()}}}}},
      {"subsystems",
       {{{"id", "TW/GOV/MOI/household"}, {"name", "戶政"}},
        {{"id", "TW/GOV/MOI/land"}},
        {{"id", "TW/GOV/BLI/insurance"}}}},
      {"gateways",
       {{{"id", "TW/GOV/MOI/gw1"},
         {"address", "gw1.moi.example:8443"},
         {"auth_certificate", pki.moi_gateway.ToPem()},
         {"clients", {"TW/GOV/MOI/household", "TW/GOV/MOI/land"}}},
        {{"id", "TW/GOV/BLI/gw1"},
         {"address", "[::1]:9443"},
         {"auth_certificate", pki.bli_gateway.ToPem()},
         {"clients", {"TW/GOV/BLI/insurance", "TW/GOV/MOI/household"}}}}},
      {"services",
       {{{"id", "TW/GOV/MOI/household/getRecord"},
         {"type", "OPENAPI"},
         {"endpoints", {{{"method", "GET"}, {"path", "/records/{id}"}}}}},
        {{"id", "TW/GOV/MOI/land/getParcel"},
         {"enabled", false},
         {"disabled_notice", "維護中 / under maintenance"}}}},
      {"grants",
       {{{"client", "TW/GOV/BLI/insurance"}, {"service", "TW/GOV/MOI/household/getRecord"}},
        {{"client", "TW/GOV/BLI/insurance"},
         {"service", "TW/GOV/MOI/household/getRecord"},
         {"rules", {{{"method", "*"}, {"path", "/extra/**"}}}}},
        {{"client", "TW/GOV/BLI"}, {"service", "TW/GOV/MOI/land/getParcel"}}}},
  };
}

ClientId ClientOf(const char* text) { return *ClientId::Parse(text); }
ServiceId ServiceOf(const char* text) { return *ServiceId::Parse(text); }

TEST(GlobalConfTest, ValidDocumentParses) {
  json doc = ValidDocument();
  std::string text = doc.dump(2);
  auto parsed = GlobalConf::Parse(text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const GlobalConf& conf = **parsed;
  EXPECT_EQ(conf.instance(), "TW");
  EXPECT_EQ(conf.version(), 7);
  EXPECT_EQ(conf.issued_at(), kIssued);
  EXPECT_EQ(FormatRfc3339(conf.expires_at()), "2026-01-31T00:00:00.500Z");
  EXPECT_EQ(conf.settings().max_clock_skew_ms, 30'000);
  EXPECT_EQ(conf.settings().refresh_interval_s, 120);
  EXPECT_EQ(conf.source(), text);
  ASSERT_EQ(conf.trusted_cas().size(), 1u);
  EXPECT_EQ(conf.trusted_cas()[0].Sha256Fingerprint(), TestPki().ca.Sha256Fingerprint());
  EXPECT_EQ(conf.members().size(), 2u);
  EXPECT_EQ(conf.subsystems().size(), 3u);
  EXPECT_EQ(conf.gateways().size(), 2u);
  EXPECT_EQ(conf.services().size(), 2u);
  EXPECT_EQ(conf.grants().size(), 3u);
  // The trust store built from trusted_cas verifies a certificate the CA issued.
  EXPECT_TRUE(conf.trust().Verify(TestPki().moi_signing, {}, kIssued + std::chrono::hours(1)));
}

TEST(GlobalConfTest, SettingsHaveDefaults) {
  json doc = ValidDocument();
  doc.erase("settings");
  auto conf = GlobalConf::Parse(doc.dump());
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ((*conf)->settings().max_clock_skew_ms, 60'000);
  EXPECT_EQ((*conf)->settings().refresh_interval_s, 60);
}

class GlobalConfIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = GlobalConf::Parse(ValidDocument().dump());
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    conf_ = *parsed;
  }
  std::shared_ptr<const GlobalConf> conf_;
};

TEST_F(GlobalConfIndexTest, FindMemberAndSubsystem) {
  const Member* moi = conf_->FindMember(ClientOf("TW/GOV/MOI"));
  ASSERT_NE(moi, nullptr);
  EXPECT_EQ(moi->name, "內政部");
  EXPECT_EQ(moi->name_en, "Ministry of the Interior");
  ASSERT_EQ(moi->signing_certificates.size(), 1u);
  EXPECT_EQ(moi->signing_certificates[0].Sha256Fingerprint(),
            TestPki().moi_signing.Sha256Fingerprint());
  EXPECT_EQ(conf_->FindMember(ClientOf("TW/GOV/TAX")), nullptr);
  EXPECT_EQ(conf_->FindMember(ClientOf("EE/GOV/MOI")), nullptr);
  // A subsystem is not a member.
  EXPECT_EQ(conf_->FindMember(ClientOf("TW/GOV/MOI/household")), nullptr);

  const Subsystem* household = conf_->FindSubsystem(ClientOf("TW/GOV/MOI/household"));
  ASSERT_NE(household, nullptr);
  EXPECT_EQ(household->name, "戶政");
  EXPECT_EQ(conf_->FindSubsystem(ClientOf("TW/GOV/MOI/unknown")), nullptr);

  EXPECT_TRUE(conf_->IsKnownClient(ClientOf("TW/GOV/MOI")));
  EXPECT_TRUE(conf_->IsKnownClient(ClientOf("TW/GOV/BLI/insurance")));
  EXPECT_FALSE(conf_->IsKnownClient(ClientOf("TW/GOV/BLI/other")));
  EXPECT_FALSE(conf_->IsKnownClient(ClientOf("TW/GOV/TAX")));
}

TEST_F(GlobalConfIndexTest, FindServiceAndGateway) {
  const Service* get = conf_->FindService(ServiceOf("TW/GOV/MOI/household/getRecord"));
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->type, "OPENAPI");
  EXPECT_TRUE(get->enabled);
  ASSERT_EQ(get->endpoints.size(), 1u);
  EXPECT_EQ(get->endpoints[0].method, "GET");
  EXPECT_EQ(get->endpoints[0].path, "/records/{id}");

  const Service* parcel = conf_->FindService(ServiceOf("TW/GOV/MOI/land/getParcel"));
  ASSERT_NE(parcel, nullptr);
  EXPECT_EQ(parcel->type, "REST");  // the default
  EXPECT_FALSE(parcel->enabled);
  EXPECT_EQ(parcel->disabled_notice, "維護中 / under maintenance");
  EXPECT_EQ(conf_->FindService(ServiceOf("TW/GOV/MOI/household/getParcel")), nullptr);

  const Gateway* gw = conf_->FindGateway(*GatewayId::Parse("TW/GOV/BLI/gw1"));
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(gw->host, "::1");
  EXPECT_EQ(gw->port, 9443);
  EXPECT_EQ(gw->auth_certificate.Sha256Fingerprint(), TestPki().bli_gateway.Sha256Fingerprint());
  EXPECT_EQ(conf_->FindGateway(*GatewayId::Parse("TW/GOV/BLI/gw2")), nullptr);
}

TEST_F(GlobalConfIndexTest, GatewaysServingListsEveryGatewayInDocumentOrder) {
  auto household = conf_->GatewaysServing(ClientOf("TW/GOV/MOI/household"));
  ASSERT_EQ(household.size(), 2u);
  EXPECT_EQ(household[0]->id.ToString(), "TW/GOV/MOI/gw1");
  EXPECT_EQ(household[0]->host, "gw1.moi.example");
  EXPECT_EQ(household[0]->port, 8443);
  EXPECT_EQ(household[1]->id.ToString(), "TW/GOV/BLI/gw1");

  auto land = conf_->GatewaysServing(ClientOf("TW/GOV/MOI/land"));
  ASSERT_EQ(land.size(), 1u);
  EXPECT_EQ(land[0]->id.ToString(), "TW/GOV/MOI/gw1");

  EXPECT_TRUE(conf_->GatewaysServing(ClientOf("TW/GOV/MOI")).empty());
  EXPECT_TRUE(conf_->GatewaysServing(ClientOf("TW/GOV/TAX/tax")).empty());
}

TEST_F(GlobalConfIndexTest, GrantsForAreTheClientsOwn) {
  auto grants = conf_->GrantsFor(ClientOf("TW/GOV/BLI/insurance"),
                                 ServiceOf("TW/GOV/MOI/household/getRecord"));
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_TRUE(grants[0]->rules.empty());
  ASSERT_EQ(grants[1]->rules.size(), 1u);
  EXPECT_EQ(grants[1]->rules[0].path, "/extra/**");

  // The member's grant is not its subsystem's, nor the other way round.
  EXPECT_TRUE(
      conf_->GrantsFor(ClientOf("TW/GOV/BLI/insurance"), ServiceOf("TW/GOV/MOI/land/getParcel"))
          .empty());
  EXPECT_EQ(conf_->GrantsFor(ClientOf("TW/GOV/BLI"), ServiceOf("TW/GOV/MOI/land/getParcel")).size(),
            1u);
  EXPECT_TRUE(conf_->GrantsFor(ClientOf("TW/GOV/BLI"), ServiceOf("TW/GOV/MOI/household/getRecord"))
                  .empty());
  EXPECT_TRUE(
      conf_
          ->GrantsFor(ClientOf("TW/GOV/MOI/household"), ServiceOf("TW/GOV/MOI/household/getRecord"))
          .empty());
}

TEST_F(GlobalConfIndexTest, OwnerOfNamesMembersAndGateways) {
  const Pki& pki = TestPki();
  const CertificateOwner* signing = conf_->OwnerOf(pki.moi_signing.Sha256Fingerprint());
  ASSERT_NE(signing, nullptr);
  EXPECT_EQ(signing->kind, CertificateOwner::Kind::kMemberSigning);
  EXPECT_EQ(signing->owner, "TW/GOV/MOI");
  EXPECT_EQ(signing->certificate.Sha256Fingerprint(), pki.moi_signing.Sha256Fingerprint());

  const CertificateOwner* auth = conf_->OwnerOf(pki.bli_gateway.Sha256Fingerprint());
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->kind, CertificateOwner::Kind::kGatewayAuthentication);
  EXPECT_EQ(auth->owner, "TW/GOV/BLI/gw1");

  EXPECT_EQ(conf_->OwnerOf(pki.ca.Sha256Fingerprint()), nullptr);
  EXPECT_EQ(conf_->OwnerOf(pki.not_a_ca.Sha256Fingerprint()), nullptr);
  EXPECT_EQ(conf_->OwnerOf(""), nullptr);
}

TEST_F(GlobalConfIndexTest, IsRevoked) {
  const Pki& pki = TestPki();
  EXPECT_TRUE(conf_->IsRevoked(pki.bli_signing.Sha256Fingerprint()));
  EXPECT_FALSE(conf_->IsRevoked(pki.moi_signing.Sha256Fingerprint()));
  EXPECT_FALSE(conf_->IsRevoked(""));
  // A revoked certificate is still listed (so its owner is known), just revoked.
  EXPECT_NE(conf_->OwnerOf(pki.bli_signing.Sha256Fingerprint()), nullptr);
}

TEST_F(GlobalConfIndexTest, IsExpiredFromExpiresAtOn) {
  SystemTime expires = *ParseRfc3339("2026-01-31T00:00:00.500Z");
  EXPECT_FALSE(conf_->IsExpired(kIssued));
  EXPECT_FALSE(conf_->IsExpired(expires - std::chrono::milliseconds(1)));
  EXPECT_TRUE(conf_->IsExpired(expires));
  EXPECT_TRUE(conf_->IsExpired(expires + std::chrono::hours(24 * 365)));
}

// ---- invalid documents -------------------------------------------------------------

// Expects `doc` to be refused with a message that contains `needle` (the JSON path
// and what is wrong).
void ExpectRefused(const std::string& text, const std::string& needle) {
  auto conf = GlobalConf::Parse(text);
  ASSERT_FALSE(conf) << "accepted";
  EXPECT_EQ(conf.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(conf.error().message().find(needle), std::string::npos)
      << "message does not contain \"" << needle << "\": " << conf.error().message();
  EXPECT_EQ(conf.error().message().rfind("global configuration", 0), 0u) << conf.error().message();
}
void ExpectRefused(const json& doc, const std::string& needle) {
  ExpectRefused(doc.dump(), needle);
}

TEST(GlobalConfRefusalTest, MalformedJson) {
  std::string text = ValidDocument().dump();
  ExpectRefused(text.substr(0, text.size() / 2), "malformed JSON");
  ExpectRefused(std::string(""), "malformed JSON");
  ExpectRefused(std::string("[1,2]"), "expected an object");
  ExpectRefused(std::string(100, '[') + std::string(100, ']'), "nested deeper than 64");
}

TEST(GlobalConfRefusalTest, WrongFormatString) {
  json doc = ValidDocument();
  doc["format"] = "troad-globalconf/2";
  ExpectRefused(doc, "format: \"troad-globalconf/2\" is not \"troad-globalconf/1\"");
  doc.erase("format");
  ExpectRefused(doc, "format: is required");
}

TEST(GlobalConfRefusalTest, MissingOrBadVersion) {
  json doc = ValidDocument();
  doc.erase("version");
  ExpectRefused(doc, "version: is required");
  doc["version"] = 0;
  ExpectRefused(doc, "version: 0 is out of range");
  doc["version"] = "7";
  ExpectRefused(doc, "version: expected an integer");
}

TEST(GlobalConfRefusalTest, ExpiresAtNotAfterIssuedAt) {
  json doc = ValidDocument();
  doc["expires_at"] = "2025-12-31T23:59:59Z";
  ExpectRefused(doc, "expires_at: is not after issued_at");
  doc["expires_at"] = doc["issued_at"];
  ExpectRefused(doc, "expires_at: is not after issued_at");
  doc["expires_at"] = "next month";
  ExpectRefused(doc, "expires_at: ");
  doc = ValidDocument();
  doc.erase("issued_at");
  ExpectRefused(doc, "issued_at: is required");
}

TEST(GlobalConfRefusalTest, TimeBeyondTheRepresentableYearsIsRefused) {
  // Found by fuzz_globalconf: a year past 2262 overflowed the nanosecond clock.
  json doc = ValidDocument();
  doc["expires_at"] = "4052-01-02T00:00:00+08:00";
  ExpectRefused(doc, "expires_at: ");
  doc = ValidDocument();
  doc["issued_at"] = "1000-01-01T00:00:00Z";
  ExpectRefused(doc, "issued_at: ");
  doc = ValidDocument();
  doc["expires_at"] = "2262-01-01T00:00:00Z";
  EXPECT_TRUE(GlobalConf::Parse(doc.dump()));
}

TEST(GlobalConfRefusalTest, BadInstance) {
  json doc = ValidDocument();
  doc["instance"] = "T/W";
  ExpectRefused(doc, "instance: ");
}

TEST(GlobalConfRefusalTest, SubsystemOfUnlistedMember) {
  json doc = ValidDocument();
  doc["subsystems"].push_back({{"id", "TW/GOV/TAX/tax"}});
  ExpectRefused(doc, "subsystems[3].id: member TW/GOV/TAX is not listed");
}

TEST(GlobalConfRefusalTest, SubsystemOrMemberOfTheWrongShape) {
  json doc = ValidDocument();
  doc["subsystems"][1]["id"] = "TW/GOV/MOI";
  ExpectRefused(doc, "subsystems[1].id: must name a subsystem");
  doc = ValidDocument();
  doc["members"][1]["id"] = "TW/GOV/BLI/insurance";
  ExpectRefused(doc, "members[1].id: must name a member");
  doc = ValidDocument();
  doc["subsystems"].push_back({{"id", "TW/GOV/MOI/household"}});
  ExpectRefused(doc, "subsystems[3].id: subsystem TW/GOV/MOI/household is listed twice");
}

TEST(GlobalConfRefusalTest, GatewayWithBadAddress) {
  for (const char* address : {"gw1.moi.example", "gw1.moi.example:", ":8443", "gw1:65536",
                              "gw1:https", "[::1:9443", "[]:1"}) {
    SCOPED_TRACE(address);
    json doc = ValidDocument();
    doc["gateways"][1]["address"] = address;
    ExpectRefused(doc, "gateways[1].address: \"" + std::string(address) + "\" is not host:port");
  }
  // Port 0 is well formed, but no peer can connect to it.
  json doc = ValidDocument();
  doc["gateways"][1]["address"] = "gw1:0";
  ExpectRefused(doc, "gateways[1].address: ");
}

TEST(GlobalConfRefusalTest, GatewayProblems) {
  json doc = ValidDocument();
  doc["gateways"][0]["id"] = "TW/GOV/TAX/gw1";
  ExpectRefused(doc, "gateways[0].id: owner TW/GOV/TAX is not a listed member");
  doc = ValidDocument();
  doc["gateways"][0]["clients"].push_back("TW/GOV/MOI/unknown");
  ExpectRefused(doc, "gateways[0].clients[2]: subsystem TW/GOV/MOI/unknown is not listed");
  doc = ValidDocument();
  doc["gateways"].push_back(doc["gateways"][0]);
  ExpectRefused(doc, "gateways[2].id: gateway TW/GOV/MOI/gw1 is listed twice");
  doc = ValidDocument();
  doc["gateways"][0].erase("auth_certificate");
  ExpectRefused(doc, "gateways[0].auth_certificate: is required");
}

TEST(GlobalConfTest, ARenewingGatewayListsItsOtherCertificatesAndPeersAcceptEach) {
  const Pki& pki = TestPki();
  json doc = ValidDocument();
  doc["gateways"][0]["additional_auth_certificates"] = {pki.not_a_ca.ToPem()};
  auto conf = GlobalConf::Parse(doc.dump());
  ASSERT_TRUE(conf) << conf.error().ToString();
  const Gateway* gw = (*conf)->FindGateway(*GatewayId::Parse("TW/GOV/MOI/gw1"));
  ASSERT_NE(gw, nullptr);
  ASSERT_EQ(gw->additional_auth_certificates.size(), 1u);
  EXPECT_EQ(gw->AuthCertificates().size(), 2u);
  EXPECT_EQ(gw->AuthCertificatePins(),
            pki.moi_gateway.Sha256Fingerprint() + "," + pki.not_a_ca.Sha256Fingerprint());
  // A peer presenting the new certificate is the same gateway.
  const CertificateOwner* owner = (*conf)->OwnerOf(pki.not_a_ca.Sha256Fingerprint());
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->owner, "TW/GOV/MOI/gw1");
  EXPECT_EQ(owner->kind, CertificateOwner::Kind::kGatewayAuthentication);
  // Without renewal the gateway pins one certificate.
  EXPECT_EQ((*conf)->FindGateway(*GatewayId::Parse("TW/GOV/BLI/gw1"))->AuthCertificatePins(),
            pki.bli_gateway.Sha256Fingerprint());
}

TEST(GlobalConfRefusalTest, AdditionalAuthCertificates) {
  const Pki& pki = TestPki();
  json doc = ValidDocument();
  doc["gateways"][0]["additional_auth_certificates"] = {pki.moi_gateway.ToPem()};
  ExpectRefused(doc, "gateways[0].additional_auth_certificates[0]: certificate " +
                         pki.moi_gateway.Sha256Fingerprint() + " is listed more than once");
  doc = ValidDocument();
  doc["gateways"][1]["additional_auth_certificates"] = {pki.moi_gateway.ToPem()};
  ExpectRefused(doc, "is listed more than once");
  doc = ValidDocument();
  doc["gateways"][0]["additional_auth_certificates"] = {"not a certificate"};
  ExpectRefused(doc, "gateways[0].additional_auth_certificates[0]: ");
  doc = ValidDocument();
  doc["gateways"][0]["additional_auth_certificates"] = json::array();
  for (int i = 0; i < 5; ++i) {
    doc["gateways"][0]["additional_auth_certificates"].push_back(pki.not_a_ca.ToPem());
  }
  ExpectRefused(doc, "gateways[0].additional_auth_certificates: more than 4 certificates");
}

TEST(GlobalConfTest, TimestampingAuthoritiesAreListedOnlyWhenFitForIt) {
  FakeClock clock(kIssued);
  auto ca_key = *crypto::PrivateKey::GenerateEcP256();
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "TSA CA";
  auto ca = *crypto::CreateSelfSignedCa(ca_key, ca_req, clock);
  const auto tsa = Issue(ca, ca_key, "TW TSA", crypto::CertUsage::kTimestamping, clock);
  json doc = ValidDocument();
  doc["trusted_timestamping_certificates"] = {tsa.ToPem()};
  auto conf = GlobalConf::Parse(doc.dump());
  ASSERT_TRUE(conf) << conf.error().ToString();
  ASSERT_EQ((*conf)->timestamping_certificates().size(), 1u);
  EXPECT_EQ((*conf)->timestamping_certificates()[0].Sha256Fingerprint(), tsa.Sha256Fingerprint());
  EXPECT_TRUE((*GlobalConf::Parse(ValidDocument().dump()))->timestamping_certificates().empty());

  doc["trusted_timestamping_certificates"] = {TestPki().moi_signing.ToPem()};
  ExpectRefused(doc, "trusted_timestamping_certificates[0]: is not a timestamping certificate");
  doc["trusted_timestamping_certificates"] = {tsa.ToPem(), tsa.ToPem()};
  ExpectRefused(doc, "trusted_timestamping_certificates[1]: is listed twice");
}

TEST(GlobalConfTest, TheLedgerIsReadWithItsKeyAndRefusedWhenMalformed) {
  auto key = *crypto::PrivateKey::GenerateEcP256();
  json doc = ValidDocument();
  EXPECT_FALSE((*GlobalConf::Parse(doc.dump()))->ledger().has_value());
  doc["ledger"] = {{"url", "https://127.0.0.1:4400/ledger/v1"},
                   {"origin", "troad-ledger/TW"},
                   {"public_key", key.Public().ToPem()}};
  auto conf = GlobalConf::Parse(doc.dump());
  ASSERT_TRUE(conf) << conf.error().ToString();
  ASSERT_TRUE((*conf)->ledger().has_value());
  EXPECT_EQ((*conf)->ledger()->url, "https://127.0.0.1:4400/ledger/v1");
  EXPECT_EQ((*conf)->ledger()->origin, "troad-ledger/TW");
  EXPECT_EQ((*conf)->ledger()->public_key.ToDer(), key.Public().ToDer());

  json bad = doc;
  bad["ledger"]["url"] = "ftp://x/ledger";
  ExpectRefused(bad, "ledger.url: must be an http:// or https:// URL");
  bad = doc;
  bad["ledger"]["url"] = "https://x/ledger/v1/";
  ExpectRefused(bad, "ledger.url: must not end with '/'");
  bad = doc;
  bad["ledger"]["origin"] = "two words";
  ExpectRefused(bad, "ledger.origin: must be 1 to 255 printable ASCII");
  bad = doc;
  bad["ledger"]["public_key"] = "not a key";
  ExpectRefused(bad, "ledger.public_key:");
  bad = doc;
  bad["ledger"].erase("origin");
  ExpectRefused(bad, "ledger.origin:");
}

TEST(GlobalConfRefusalTest, DuplicateMember) {
  json doc = ValidDocument();
  doc["members"].push_back({{"id", "TW/GOV/MOI"}, {"name", "again"}});
  ExpectRefused(doc, "members[2].id: member TW/GOV/MOI is listed twice");
}

TEST(GlobalConfRefusalTest, GrantForUnlistedService) {
  json doc = ValidDocument();
  doc["grants"][1]["service"] = "TW/GOV/MOI/household/deleteRecord";
  ExpectRefused(doc, "grants[1].service: service TW/GOV/MOI/household/deleteRecord is not listed");
}

TEST(GlobalConfRefusalTest, ServiceProblems) {
  json doc = ValidDocument();
  doc["services"].push_back({{"id", "TW/GOV/MOI/unlisted/x"}});
  ExpectRefused(doc, "services[2].id: subsystem TW/GOV/MOI/unlisted is not listed");
  doc = ValidDocument();
  doc["services"].push_back(doc["services"][0]);
  ExpectRefused(doc, "services[2].id: service TW/GOV/MOI/household/getRecord is listed twice");
  doc = ValidDocument();
  doc["services"][0]["type"] = "SOAP";
  ExpectRefused(doc, "services[0].type: must be \"REST\" or \"OPENAPI\"");
  doc = ValidDocument();
  doc["services"][0]["endpoints"][0]["method"] = "get";
  ExpectRefused(doc, "services[0].endpoints[0].method: \"get\" is not an HTTP method");
  doc = ValidDocument();
  doc["grants"][1]["rules"][0]["path"] = "extra/**";
  ExpectRefused(doc, "grants[1].rules[0].path: must be \"*\" or start with '/'");
}

TEST(GlobalConfRefusalTest, ClientOfAnotherInstance) {
  json doc = ValidDocument();
  doc["grants"][0]["client"] = "EE/GOV/BLI/insurance";
  ExpectRefused(doc, "grants[0].client: client EE/GOV/BLI/insurance is not listed");
  doc = ValidDocument();
  doc["subsystems"][2]["id"] = "EE/GOV/BLI/insurance";
  ExpectRefused(doc, "subsystems[2].id: belongs to instance \"EE\", not \"TW\"");
  doc = ValidDocument();
  doc["members"].push_back({{"id", "EE/GOV/RIA"}, {"name", "RIA"}});
  ExpectRefused(doc, "members[2].id: belongs to instance \"EE\", not \"TW\"");
}

TEST(GlobalConfRefusalTest, NonPemCertificate) {
  json doc = ValidDocument();
  doc["members"][0]["signing_certificates"][0] = "not a certificate";
  ExpectRefused(doc, "members[0].signing_certificates[0]: ");
  doc = ValidDocument();
  doc["gateways"][1]["auth_certificate"] =
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  ExpectRefused(doc, "gateways[1].auth_certificate: ");
  doc = ValidDocument();
  doc["trusted_cas"][0] = "x";
  ExpectRefused(doc, "trusted_cas[0]: ");
}

TEST(GlobalConfRefusalTest, EmptyTrustedCas) {
  json doc = ValidDocument();
  doc["trusted_cas"] = json::array();
  ExpectRefused(doc, "trusted_cas: must not be empty");
  doc.erase("trusted_cas");
  ExpectRefused(doc, "trusted_cas: is required");
}

TEST(GlobalConfRefusalTest, TrustedCaThatIsNotACa) {
  json doc = ValidDocument();
  doc["trusted_cas"].push_back(TestPki().not_a_ca.ToPem());
  ExpectRefused(doc, "trusted_cas");
}

TEST(GlobalConfRefusalTest, RevokedFingerprintMustBeLowerCaseHex) {
  json doc = ValidDocument();
  std::string fp = TestPki().bli_signing.Sha256Fingerprint();
  for (char& c : fp) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  doc["revoked_certificates"].push_back(fp);
  ExpectRefused(doc, "revoked_certificates[1]: must be a lower-case hex SHA-256 fingerprint");
}

TEST(GlobalConfRefusalTest, SettingsOutOfRange) {
  json doc = ValidDocument();
  doc["settings"]["max_clock_skew_ms"] = 10;
  ExpectRefused(doc, "settings.max_clock_skew_ms: 10 is out of range");
  doc = ValidDocument();
  doc["settings"]["refresh_interval_s"] = 0;
  ExpectRefused(doc, "settings.refresh_interval_s: 0 is out of range");
}

TEST(GlobalConfLoadFileTest, MissingFileIsNotFound) {
  auto conf = GlobalConf::LoadFile("/nonexistent/troad/globalconf.json");
  ASSERT_FALSE(conf);
  EXPECT_EQ(conf.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(conf.error().message().find("/nonexistent/troad/globalconf.json"), std::string::npos);
}

}  // namespace
}  // namespace troad::globalconf
