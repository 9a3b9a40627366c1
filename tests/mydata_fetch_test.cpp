// MyData's side of T-Road with real gateways: a dataset fetched through a consumer
// gateway with the provider's signature (mydata/fetch.h), made into a package
// (mydata/package.h), read back, and every part verified as a third party would — with
// the network's trust anchors and nothing MyData says (gateway/signed_part.h). BLI's
// gateway and subsystem stand in for MyData's own.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "core/file.h"
#include "crypto/jose.h"
#include "gateway/signed_part.h"
#include "globalconf/model.h"
#include "mydata/consent.h"
#include "mydata/fetch.h"
#include "mydata/package.h"
#include "network_fixture.h"
#include "test_files.h"

namespace troad::testing {
namespace {

namespace asio = boost::asio;

mydata::Dataset MakeDataset(std::string id, std::string service, std::string path) {
  mydata::Dataset d;
  d.id = std::move(id);
  d.name_zh = "測試資料";
  d.name_en = "Test data";
  d.service = ServiceId::Parse(service).value();
  d.path = std::move(path);
  return d;
}

class MyDataFetchTest : public NetworkTest {
 protected:
  mydata::FetchOptions Options() const {
    mydata::FetchOptions o;
    o.gateway_url = "http://127.0.0.1:" + std::to_string(net().ports(Gw::kBli).consumer);
    o.client = ClientId::Parse(kBliClient).value();
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  // FetchDataset on an event loop of its own, as the MyData process runs it.
  Result<mydata::PackagePart> Fetch(const mydata::Dataset& d, const std::string& national_id) {
    asio::io_context io;
    http::Client client({});
    auto future = asio::co_spawn(
        io, mydata::FetchDataset(client, Options(), d, national_id, "tx-7"), asio::use_future);
    io.run();
    return future.get();
  }
};

TEST_F(MyDataFetchTest, TwoDatasetsArePackagedAndEachPartVerifiesWithoutTrustingMyData) {
  auto household =
      MakeDataset("household.members", "TW/GOV/MOI/household/registry", "/persons/{nationalId}");
  auto echo = MakeDataset("echo.person", "TW/GOV/MOI/household/echo", "/people/{nationalId}");
  auto first = Fetch(household, "A123456789");
  ASSERT_TRUE(first) << first.error().ToString() << Diag();
  EXPECT_NE(first->body.find("A123456789"), std::string::npos) << first->body;
  auto second = Fetch(echo, "A123456789");
  ASSERT_TRUE(second) << second.error().ToString() << Diag();

  // The consent record, signed as MyData signs it; its key published as MyData's /jwks.
  auto key = crypto::PrivateKey::GenerateEcP256().value();
  nlohmann::json jwk = crypto::PublicJwk(key.Public());
  jwk["kid"] = "mydata-test";
  const nlohmann::json jwks = {{"keys", {jwk}}};
  mydata::ConsentRecord consent;
  consent.consent_id = "5d3c7a52-2f4e-4c8e-9a55-0b6f3c4e7d2a";
  consent.transaction = "tx-7";
  consent.subject = "pairwise-subject";
  consent.national_id_masked = "A12****789";
  consent.datasets = {"household.members", "echo.person"};
  consent.recipient_type = "self";
  consent.purpose = "下載個人資料";
  consent.legal_basis = "個人資料保護法第 6 條第 1 項第 6 款";
  consent.acr = "urn:troad:loa:2";
  consent.amr = {"otp"};
  consent.consented_at = 1'790'000'000'000;
  consent.expires_at = consent.consented_at + 1'200'000;
  consent.issued_at = consent.consented_at;

  mydata::PackageContents contents;
  contents.transaction = "tx-7";
  contents.created_at = 1'790'000'000'000;
  contents.consent_jws = mydata::SignConsent(consent, key, "mydata-test").value();
  contents.parts = {*first, *second};
  auto zip = mydata::BuildPackage(contents, "a password of the person");
  ASSERT_TRUE(zip) << zip.error().ToString();
  auto read = mydata::ReadPackage(*zip, "a password of the person");
  ASSERT_TRUE(read) << read.error().ToString();

  auto conf = globalconf::GlobalConf::LoadFile(net().dir() + "/net/globalconf.json");
  ASSERT_TRUE(conf) << conf.error().ToString();
  for (const auto& part : read->parts) {
    SCOPED_TRACE(part.dataset);
    auto h = gateway::VerifySignedPart({part.body, part.response_header, part.response_signature},
                                       part.certificate_der, &(*conf)->trust());
    ASSERT_TRUE(h) << h.error().ToString();
    EXPECT_EQ(h->service.ToString(), part.service);
    EXPECT_EQ(h->status, 200u);
    // The transfer record of MyData's gateway names the transaction (X-Road-Issue).
    auto rec = net().Records(Gw::kBli, "message_id", h->id);
    ASSERT_TRUE(rec && rec->size() == 1u);
    EXPECT_EQ(rec->front().issue, "tx-7");
  }
  // `troad mydata package verify`, as the person or an auditor runs it.
  const std::string zip_file = net().dir() + "/package.zip";
  ASSERT_TRUE(WriteFileAtomically(zip_file, *zip, 0600));
  ASSERT_TRUE(
      WriteFileAtomically(net().dir() + "/password.txt", "a password of the person\n", 0600));
  ASSERT_TRUE(WriteFileAtomically(net().dir() + "/jwks.json", jwks.dump(), 0644));
  std::vector<std::string> verify = {TROAD_BINARY,      "mydata",
                                     "package",         "verify",
                                     "--file",          zip_file,
                                     "--globalconf",    net().dir() + "/net/globalconf.json",
                                     "--password-file", net().dir() + "/password.txt"};
  auto checked = RunCommandLine(verify, net().dir() + "/verify.txt");
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("household.members"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("signed by TW/GOV/MOI"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("consent record: not checked"), std::string::npos);
  verify.push_back("--jwks");
  verify.push_back(net().dir() + "/jwks.json");
  checked = RunCommandLine(verify, net().dir() + "/verify.txt");
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("covers every dataset"), std::string::npos) << checked.output;
  // A package whose part was swapped for another signed answer (the echo body under the
  // household's proof): the manifest was made for it, but the signature says no.
  auto forged = contents;
  forged.parts[0].body = second->body;
  ASSERT_TRUE(WriteFileAtomically(
      zip_file, mydata::BuildPackage(forged, "a password of the person").value(), 0600));
  checked = RunCommandLine(verify, net().dir() + "/verify.txt");
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_NE(checked.output.find("household.members:"), std::string::npos) << checked.output;
  // Without the password, nothing is read.
  verify.erase(verify.begin() + 8, verify.begin() + 10);
  checked = RunCommandLine(verify, net().dir() + "/verify.txt");
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_NE(checked.output.find("password is needed"), std::string::npos) << checked.output;

  // A part with another person's body does not verify.
  auto swapped = read->parts[0];
  swapped.body = second->body;
  EXPECT_FALSE(
      gateway::VerifySignedPart({swapped.body, swapped.response_header, swapped.response_signature},
                                swapped.certificate_der, &(*conf)->trust()));
}

TEST_F(MyDataFetchTest, RefusalsAndMissingRecordsAreNamed) {
  // The household service grants BLI one path only: another is refused by the provider.
  auto households = MakeDataset("household.households", "TW/GOV/MOI/household/registry",
                                "/households/{nationalId}");
  auto refused = Fetch(households, "A123456789");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable) << refused.error().ToString();
  EXPECT_NE(refused.error().message().find("AccessDenied"), std::string::npos)
      << refused.error().ToString();

  auto household =
      MakeDataset("household.members", "TW/GOV/MOI/household/registry", "/persons/{nationalId}");
  auto nobody = Fetch(household, "Z999999999");
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code(), ErrorCode::kNotFound) << nobody.error().ToString();

  auto slow = MakeDataset("slow.data", "TW/GOV/MOI/household/slow", "/x/{nationalId}");
  auto late = Fetch(slow, "A123456789");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kDeadlineExceeded) << late.error().ToString();

  auto garbage = MakeDataset("garbage.data", "TW/GOV/MOI/household/garbage", "/x/{nationalId}");
  auto broken = Fetch(garbage, "A123456789");
  ASSERT_FALSE(broken) << "a backend answering garbage gives no part";
}

}  // namespace
}  // namespace troad::testing
