#include "mydata/service_providers.h"

#include <gtest/gtest.h>

#include "crypto/jose.h"
#include "crypto/test_util.h"
#include "mydata/catalogue.h"
#include "mydata/test_util.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;
namespace ip = boost::asio::ip;

Dataset MakeDataset(std::string id, std::string service, std::string path) {
  Dataset d;
  d.id = std::move(id);
  d.name_zh = "資料集";
  d.name_en = "Dataset";
  d.service = ServiceId::Parse(service).value();
  d.path = std::move(path);
  return d;
}

// A bank asking for a mortgage applicant's household and income data (synthetic).
ServiceProvider Bank() {
  ServiceProvider sp;
  sp.id = "bot-mortgage";
  sp.name_zh = "範例銀行房貸";
  sp.name_en = "Example Bank mortgages";
  sp.datasets = {"household.members", "tax.income"};
  sp.modes = {SpMode::kOnline, SpMode::kMultiPerson};
  sp.redirect_uris = {"https://bank.example.tw/mydata/return"};
  auto key = crypto::PrivateKey::GenerateEcP256().value();
  nlohmann::json jwk = crypto::PublicJwk(key.Public());
  jwk["kid"] = "bank-1";
  sp.jwks = {{"keys", {jwk}}};
  sp.allowed_sources = {"192.0.2.0/24", "2001:db8::/32", "127.0.0.1"};
  sp.purposes = {"公教人員購置住宅貸款申請"};
  return sp;
}

class ServiceProvidersTest : public testutil::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    Catalogue catalogue(*db_, clock_);
    ASSERT_TRUE(catalogue.Add(MakeDataset("household.members", "TW/GOV/MOI/household/registry",
                                          "/persons/{nationalId}")));
    ASSERT_TRUE(
        catalogue.Add(MakeDataset("tax.income", "TW/GOV/MOF/tax/income", "/income/{nationalId}")));
    registry_ = std::make_unique<ServiceProviders>(*db_, clock_);
  }

  std::unique_ptr<ServiceProviders> registry_;
};

TEST_F(ServiceProvidersTest, ARegistrationIsKeptAsGivenAndSurvivesJson) {
  ServiceProvider bank = Bank();
  ASSERT_TRUE(registry_->Add(bank));
  auto got = registry_->Get("bot-mortgage");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->datasets, bank.datasets);
  EXPECT_EQ(got->modes, bank.modes);
  EXPECT_EQ(got->jwks, bank.jwks);
  EXPECT_EQ(got->purposes, bank.purposes);
  EXPECT_EQ(got->created_at, clock_.NowMillis());
  ExpectError(Status(registry_->Add(bank)), ErrorCode::kAlreadyExists, "already registered");

  auto round = ServiceProviderFromJson(ServiceProviderToJson(*got));
  ASSERT_TRUE(round) << round.error().ToString();
  EXPECT_EQ(ServiceProviderToJson(*round), ServiceProviderToJson(*got));
  EXPECT_EQ(ServiceProviderToJson(*got)["auth"]["method"], "private_key_jwt");

  got->purposes.push_back("房屋修繕貸款");
  ASSERT_TRUE(registry_->Update(*got));
  EXPECT_EQ(registry_->Get("bot-mortgage")->purposes.size(), 2u);
  ASSERT_TRUE(registry_->SetEnabled("bot-mortgage", false));
  EXPECT_FALSE(registry_->Get("bot-mortgage")->enabled);
  ExpectError(registry_->SetEnabled("nobody", true), ErrorCode::kNotFound, "nobody");
  ASSERT_EQ(registry_->List()->size(), 1u);
}

TEST_F(ServiceProvidersTest, AScopeOutsideTheCatalogueIsRefused) {
  ServiceProvider sp = Bank();
  sp.datasets.push_back("vehicle.licences");
  ExpectError(registry_->Add(sp), ErrorCode::kInvalidArgument,
              "vehicle.licences is not in the catalogue");
}

TEST_F(ServiceProvidersTest, EachBadFieldIsNamed) {
  struct Case {
    const char* what;
    std::function<void(ServiceProvider&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"id", [](ServiceProvider& s) { s.id = "Bank!"; }, "id:"},
      {"no datasets", [](ServiceProvider& s) { s.datasets.clear(); }, "datasets: 1 to 100"},
      {"repeated dataset", [](ServiceProvider& s) { s.datasets.push_back("tax.income"); },
       "listed twice"},
      {"no modes", [](ServiceProvider& s) { s.modes.clear(); }, "modes:"},
      {"no redirect for online", [](ServiceProvider& s) { s.redirect_uris.clear(); },
       "redirect_uris: 1 to 10"},
      {"http redirect", [](ServiceProvider& s) { s.redirect_uris = {"http://bank.example.tw/r"}; },
       "redirect_uris: redirect URI"},
      {"empty jwks", [](ServiceProvider& s) { s.jwks = nlohmann::json::object(); },
       "auth.jwks: private_key_jwt needs"},
      {"pin with jwks", [](ServiceProvider& s) { s.cert_sha256 = std::string(64, 'a'); },
       "only for tls_client_auth"},
      {"bad pin",
       [](ServiceProvider& s) {
         s.auth_method = SpAuthMethod::kTlsClientAuth;
         s.jwks = nlohmann::json::object();
         s.cert_sha256 = "ABC";
       },
       "auth.cert_sha256: 64 lower-case hex"},
      {"notify over http", [](ServiceProvider& s) { s.notify_url = "http://bank.example.tw/n"; },
       "notify_url:"},
      {"no sources", [](ServiceProvider& s) { s.allowed_sources.clear(); }, "allowed_sources: 1"},
      {"host bits", [](ServiceProvider& s) { s.allowed_sources = {"192.0.2.7/24"}; },
       "no host bits"},
      {"not an address", [](ServiceProvider& s) { s.allowed_sources = {"bank.example.tw"}; },
       "not an IP address"},
      {"no purpose", [](ServiceProvider& s) { s.purposes.clear(); }, "purposes: 1 to 20"},
      {"control character", [](ServiceProvider& s) { s.purposes = {"a\nb"}; }, "control character"},
  };
  for (const auto& c : cases) {
    ServiceProvider sp = Bank();
    c.change(sp);
    SCOPED_TRACE(c.what);
    ExpectError(ValidateServiceProvider(sp), ErrorCode::kInvalidArgument, c.message);
  }
  ServiceProvider counter_only = Bank();
  counter_only.modes = {SpMode::kCounter};
  counter_only.redirect_uris.clear();
  EXPECT_TRUE(ValidateServiceProvider(counter_only)) << "a counter redirects nobody";
  ServiceProvider pinned = Bank();
  pinned.auth_method = SpAuthMethod::kTlsClientAuth;
  pinned.jwks = nlohmann::json::object();
  pinned.cert_sha256 = std::string(64, 'e');
  EXPECT_TRUE(ValidateServiceProvider(pinned));
}

TEST_F(ServiceProvidersTest, JsonErrorsNameTheMember) {
  nlohmann::json j = ServiceProviderToJson(Bank());
  j["modes"] = {"online", "fax"};
  ExpectError(ServiceProviderFromJson(j), ErrorCode::kInvalidArgument, "modes");
  j = ServiceProviderToJson(Bank());
  j["auth"]["method"] = "client_secret_basic";
  ExpectError(ServiceProviderFromJson(j), ErrorCode::kInvalidArgument, "auth.method");
  j = ServiceProviderToJson(Bank());
  j.erase("purposes");
  ExpectError(ServiceProviderFromJson(j), ErrorCode::kInvalidArgument, "purposes");
  ExpectError(ServiceProviderFromJson(nlohmann::json::array()), ErrorCode::kInvalidArgument,
              "JSON object");
}

TEST_F(ServiceProvidersTest, OnlyTheRegisteredSourcesMayCall) {
  ServiceProvider sp = Bank();
  EXPECT_TRUE(SourceAllowed(sp, ip::make_address("192.0.2.77")));
  EXPECT_TRUE(SourceAllowed(sp, ip::make_address("2001:db8:1::5")));
  EXPECT_TRUE(SourceAllowed(sp, ip::make_address("127.0.0.1")));
  EXPECT_TRUE(SourceAllowed(sp, ip::make_address("::ffff:192.0.2.1"))) << "IPv4-mapped";
  EXPECT_FALSE(SourceAllowed(sp, ip::make_address("192.0.3.1")));
  EXPECT_FALSE(SourceAllowed(sp, ip::make_address("127.0.0.2")));
  EXPECT_FALSE(SourceAllowed(sp, ip::make_address("2001:db9::1")));
  EXPECT_FALSE(SourceAllowed(sp, ip::make_address("::1")));
}

TEST_F(ServiceProvidersTest, AnEditedRowIsRefusedNotUsed) {
  ASSERT_TRUE(registry_->Add(Bank()));
  ASSERT_TRUE(db_->Execute("UPDATE service_providers SET allowed_sources = '[\"0.0.0.0/-1\"]'"));
  ExpectError(registry_->Get("bot-mortgage"), ErrorCode::kDataLoss, "service_providers row");
}

}  // namespace
}  // namespace troad::mydata
