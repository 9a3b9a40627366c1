// Enrollment against a central simulated in the test with a real CA: what is sent,
// what is installed, what is refused, and resuming after a stop.
#include "gateway/enroll.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "core/file.h"
#include "crypto/ca.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/test_util.h"
#include "gateway/config.h"
#include "globalconf/anchor.h"

namespace troad::gateway {
namespace {

namespace fs = std::filesystem;
using crypto::testutil::TempDir;
using nlohmann::json;

const GatewayId kGateway = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
const ClientId kMoi = *ClientId::Parse("TW/GOV/MOI");
const ClientId kBli = *ClientId::Parse("TW/GOV/BLI");

// A CA and the enrollment endpoints' behaviour, as the central's API answers.
class FakeCentral {
 public:
  explicit FakeCentral(const Clock& clock, std::string country = "TW")
      : clock_(clock),
        key_(*crypto::PrivateKey::GenerateEcP256()),
        cert_(*crypto::CreateSelfSignedCa(key_, CaRequest(country), clock)) {}

  globalconf::Anchor Anchor(std::string url = "https://127.0.0.1:4400") const {
    return {"TW", std::move(url), {key_.Public()}, cert_, clock_.Now()};
  }

  CentralTransport Transport() {
    return [this](std::string_view path, const json& body) -> Result<json> {
      calls.push_back(std::string(path));
      if (body.value("code", "") != code) {
        return Fail(ErrorCode::kPermissionDenied, "the enrollment code is not valid");
      }
      if (path == kEnrollmentPath) {
        json out = json::array();
        for (const json& r : body["requests"]) {
          const int64_t id = next_id++;
          requests[id] = {r["kind"], r["owner"], r["csr"], "pending", "", ""};
          out.push_back(
              {{"id", id}, {"kind", r["kind"]}, {"owner", r["owner"]}, {"status", "pending"}});
        }
        return json{{"requests", out}};
      }
      json out = json::array();
      for (const json& id : body["ids"]) {
        const Request& q = requests.at(id.get<int64_t>());
        json item = {{"id", id},
                     {"kind", q.kind},
                     {"owner", q.owner},
                     {"status", q.status},
                     {"decision_reason", q.reason}};
        if (q.status == "approved") item["certificate"] = q.certificate;
        out.push_back(item);
      }
      return json{{"requests", out}, {"ca_certificate", cert_.ToPem()}};
    };
  }

  // Issues every pending request as the central's CA would (subject checked).
  void ApproveAll() {
    for (auto& [id, q] : requests) {
      if (q.status != "pending") continue;
      auto csr = crypto::Csr::FromPem(q.csr);
      ASSERT_TRUE(csr) << csr.error().ToString();
      crypto::CertificateRequest req;
      req.common_name = q.owner;
      req.serial_number_attr =
          q.kind == "authentication" ? GatewayId::Parse(q.owner)->owner.ToString() : q.owner;
      req.country = cert_.Country();
      req.usage = q.kind == "authentication" ? crypto::CertUsage::kAuthentication
                                             : crypto::CertUsage::kSigning;
      auto cert = crypto::IssueCertificateFromCsr(cert_, key_, *csr, req, clock_);
      ASSERT_TRUE(cert) << cert.error().ToString();
      q.certificate = cert->ToPem();
      q.status = "approved";
    }
  }

  struct Request {
    std::string kind, owner, csr, status, reason, certificate;
  };
  std::map<int64_t, Request> requests;
  std::vector<std::string> calls;
  std::string code = "correct horse";
  int64_t next_id = 1;
  const crypto::Certificate& ca() const { return cert_; }
  const crypto::PrivateKey& ca_key() const { return key_; }

 private:
  static crypto::CertificateRequest CaRequest(std::string country) {
    crypto::CertificateRequest r;
    r.common_name = "troad test central CA";
    r.country = std::move(country);
    return r;
  }
  const Clock& clock_;
  crypto::PrivateKey key_;
  crypto::Certificate cert_;
};

class EnrollTest : public ::testing::Test {
 protected:
  Result<Enroller> Open(std::vector<ClientId> sign_for = {}) {
    auto anchor = central_.Anchor();
    return Enroller::Open({dir_.File("gw"), kGateway, std::move(sign_for)}, anchor,
                          globalconf::WriteAnchor(anchor), central_.Transport(), clock_);
  }
  std::string File(const std::string& name) const { return dir_.File("gw/" + name); }
  bool Exists(const std::string& name) const { return fs::exists(File(name)); }

  TempDir dir_;
  FakeClock clock_{crypto::testutil::NowSeconds()};
  FakeCentral central_{clock_};
};

TEST_F(EnrollTest, SubmitsCsrsWithTheSubjectsTheCentralIssuesAndKeepsKeysPending) {
  auto enroller = Open({kBli, kMoi /* the owner again: ignored */});
  ASSERT_TRUE(enroller) << enroller.error().ToString();
  ASSERT_TRUE(enroller->Submit("correct horse"));

  ASSERT_EQ(central_.requests.size(), 3u);  // authentication, MOI signing, BLI signing
  const auto& auth = central_.requests.at(1);
  EXPECT_EQ(auth.kind, "authentication");
  EXPECT_EQ(auth.owner, "TW/GOV/MOI/moi-gw");
  auto csr = crypto::Csr::FromPem(auth.csr);
  ASSERT_TRUE(csr) << csr.error().ToString();
  EXPECT_EQ(csr->subject(), (crypto::CsrSubject{"TW/GOV/MOI/moi-gw", "", "", "TW/GOV/MOI", "TW"}));
  EXPECT_EQ(central_.requests.at(2).owner, "TW/GOV/MOI");
  EXPECT_EQ(central_.requests.at(3).owner, "TW/GOV/BLI");
  EXPECT_EQ(crypto::Csr::FromPem(central_.requests.at(3).csr)->subject().common_name, "TW/GOV/BLI");

  // Keys wait under .pending names, private; the CSR carries the pending key.
  struct stat st {};
  ASSERT_EQ(::stat(File("auth.key.pending").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(File("").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto key = crypto::PrivateKey::LoadPemFile(File("auth.key.pending"));
  ASSERT_TRUE(key);
  EXPECT_EQ(csr->public_key().ToDer(), key->Public().ToDer());
  EXPECT_FALSE(Exists("auth.key"));
  EXPECT_TRUE(Exists("enrollment.json"));
  EXPECT_TRUE(Exists("anchor.json"));
  EXPECT_TRUE(globalconf::LoadAnchorFile(File("anchor.json")));
}

TEST_F(EnrollTest, TheSubjectCountryIsTheCasOne) {
  FakeCentral japan(clock_, "JP");
  auto anchor = japan.Anchor();
  auto enroller = Enroller::Open({dir_.File("gw"), kGateway, {}}, anchor,
                                 globalconf::WriteAnchor(anchor), japan.Transport(), clock_);
  ASSERT_TRUE(enroller);
  japan.code = "c";
  ASSERT_TRUE(enroller->Submit("c"));
  EXPECT_EQ(crypto::Csr::FromPem(japan.requests.at(1).csr)->subject().country, "JP");
}

TEST_F(EnrollTest, InstallsOnlyWhenEveryRequestIsApproved) {
  auto enroller = Open();
  ASSERT_TRUE(enroller);
  ASSERT_TRUE(enroller->Submit("correct horse"));

  auto pending = enroller->Check("correct horse");
  ASSERT_TRUE(pending) << pending.error().ToString();
  EXPECT_FALSE(pending->installed);
  EXPECT_FALSE(pending->rejected);
  EXPECT_EQ(pending->items.at(0).status, "pending");
  EXPECT_FALSE(Exists("auth.crt"));

  central_.ApproveAll();
  auto done = enroller->Check("correct horse");
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->installed);
  EXPECT_EQ(done->items.at(1).status, "installed");

  // The pairs are in place and match; nothing pending is left.
  for (const std::string stem : {"auth", "sign-GOV-MOI"}) {
    auto cert = crypto::Certificate::LoadPemFile(File(stem + ".crt"));
    auto key = crypto::PrivateKey::LoadPemFile(File(stem + ".key"));
    ASSERT_TRUE(cert && key) << stem;
    EXPECT_EQ(cert->GetPublicKey().ToDer(), key->Public().ToDer()) << stem;
    EXPECT_FALSE(Exists(stem + ".key.pending"));
  }
  EXPECT_EQ(crypto::Certificate::LoadPemFile(File("auth.crt"))->CommonName(), "TW/GOV/MOI/moi-gw");
  EXPECT_FALSE(Exists("enrollment.json"));
  EXPECT_FALSE(enroller->HasPendingRequests());
}

TEST_F(EnrollTest, ALaterRunPicksUpTheRequestsOnRecord) {
  {
    auto first = Open();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->Submit("correct horse"));
  }
  central_.ApproveAll();
  auto second = Open();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_TRUE(second->HasPendingRequests());
  EXPECT_EQ(second->Submit("correct horse").error().code(), ErrorCode::kFailedPrecondition);
  auto done = second->Check("correct horse");
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->installed);
  EXPECT_EQ(central_.requests.size(), 2u);  // nothing was sent twice
}

TEST_F(EnrollTest, ANewCodeSendsTheRequestsAgainWithTheSameKeys) {
  {
    auto first = Open();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->Submit("correct horse"));
  }
  // The first code expired; the administrator made another.
  central_.code = "battery staple";
  auto second = Open();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_FALSE(second->RecordedWithAnotherCode("correct horse"));
  ASSERT_TRUE(second->RecordedWithAnotherCode("battery staple"));
  ASSERT_TRUE(second->Abandon());
  EXPECT_FALSE(Exists("enrollment.json"));
  ASSERT_TRUE(second->Submit("battery staple"));
  EXPECT_EQ(central_.requests.size(), 4u);
  EXPECT_EQ(crypto::Csr::FromPem(central_.requests.at(3).csr)->public_key().ToDer(),
            crypto::Csr::FromPem(central_.requests.at(1).csr)->public_key().ToDer());
  central_.ApproveAll();
  auto done = second->Check("battery staple");
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->installed);
}

TEST_F(EnrollTest, ARejectionClearsTheRecordAndTheNextSubmitReusesTheKeys) {
  auto enroller = Open();
  ASSERT_TRUE(enroller);
  ASSERT_TRUE(enroller->Submit("correct horse"));
  const std::string first_csr_key =
      crypto::Csr::FromPem(central_.requests.at(1).csr)->public_key().ToDer();
  central_.requests.at(1).status = "rejected";
  central_.requests.at(1).reason = "wrong gateway address";

  auto progress = enroller->Check("correct horse");
  ASSERT_TRUE(progress);
  EXPECT_TRUE(progress->rejected);
  EXPECT_EQ(progress->items.at(0).reason, "wrong gateway address");
  EXPECT_FALSE(Exists("enrollment.json"));
  EXPECT_TRUE(Exists("auth.key.pending"));

  ASSERT_TRUE(enroller->Submit("correct horse"));
  EXPECT_EQ(crypto::Csr::FromPem(central_.requests.at(3).csr)->public_key().ToDer(), first_csr_key);
}

TEST_F(EnrollTest, RefusesACertificateForAnotherKeyOrFromAnotherCa) {
  auto enroller = Open();
  ASSERT_TRUE(enroller);
  ASSERT_TRUE(enroller->Submit("correct horse"));
  central_.ApproveAll();

  // Another key, same CA and subject.
  auto other_key = *crypto::PrivateKey::GenerateEcP256();
  crypto::CertificateRequest req;
  req.common_name = "TW/GOV/MOI/moi-gw";
  req.serial_number_attr = "TW/GOV/MOI";
  auto swapped =
      crypto::IssueCertificate(central_.ca(), central_.ca_key(), other_key.Public(), req, clock_);
  ASSERT_TRUE(swapped);
  const std::string good = central_.requests.at(1).certificate;
  central_.requests.at(1).certificate = swapped->ToPem();
  auto refused = enroller->Check("correct horse");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("does not carry this gateway's key"), std::string::npos)
      << refused.error().message();
  EXPECT_FALSE(Exists("auth.crt"));
  EXPECT_TRUE(Exists("enrollment.json"));  // still on record: nothing was lost

  // Our key, but a stranger's CA.
  FakeCentral stranger(clock_);
  auto csr = crypto::Csr::FromPem(central_.requests.at(1).csr);
  auto foreign =
      crypto::IssueCertificateFromCsr(stranger.ca(), stranger.ca_key(), *csr, req, clock_);
  ASSERT_TRUE(foreign) << foreign.error().ToString();
  central_.requests.at(1).certificate = foreign->ToPem();
  refused = enroller->Check("correct horse");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("does not verify against the anchor's CA"),
            std::string::npos)
      << refused.error().message();

  central_.requests.at(1).certificate = good;
  auto done = enroller->Check("correct horse");
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->installed);
}

TEST_F(EnrollTest, AWrongCodeIsTheCentralsRefusalAndNothingIsRecorded) {
  auto enroller = Open();
  ASSERT_TRUE(enroller);
  auto st = enroller->Submit("wrong");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(Exists("enrollment.json"));
  EXPECT_FALSE(enroller->HasPendingRequests());
}

TEST_F(EnrollTest, RefusesAnotherCentralsDirectoryAndAnotherInstancesGateway) {
  ASSERT_TRUE(Open());
  FakeCentral other(clock_);
  auto anchor = other.Anchor("https://127.0.0.2:4400");
  auto refused = Enroller::Open({dir_.File("gw"), kGateway, {}}, anchor,
                                globalconf::WriteAnchor(anchor), other.Transport(), clock_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("anchor of another central"), std::string::npos)
      << refused.error().message();

  auto foreign = central_.Anchor();
  foreign.instance = "EE";
  auto other_instance =
      Enroller::Open({dir_.File("gw2"), kGateway, {}}, foreign, globalconf::WriteAnchor(foreign),
                     central_.Transport(), clock_);
  ASSERT_FALSE(other_instance);
  EXPECT_NE(other_instance.error().message().find("not in instance EE"), std::string::npos);

  auto anchor2 = central_.Anchor();
  auto subsystem =
      Enroller::Open({dir_.File("gw3"), kGateway, {*ClientId::Parse("TW/GOV/BLI/insurance")}},
                     anchor2, globalconf::WriteAnchor(anchor2), central_.Transport(), clock_);
  ASSERT_FALSE(subsystem);
  EXPECT_NE(subsystem.error().message().find("--sign-for"), std::string::npos);
}

TEST_F(EnrollTest, ACorruptRecordIsReportedWithWhatToDo) {
  ASSERT_TRUE(Open());
  ASSERT_TRUE(WriteFileAtomically(File("enrollment.json"),
                                  "{\"format\":\"troad-enrollment/1\","
                                  "\"gateway\":\"TW/GOV/MOI/moi-gw\",\"central_url\":"
                                  "\"https://127.0.0.1:4400\",\"requests\":[{\"id\":1,\"kind\":"
                                  "\"authentication\",\"owner\":\"x\",\"stem\":\"../etc/x\"}]}",
                                  0600));
  auto refused = Open();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("remove the file to start the enrollment over"),
            std::string::npos)
      << refused.error().message();
}

TEST_F(EnrollTest, StarterConfigIsOneTheGatewayLoadsAndIsNeverOverwritten) {
  auto enroller = Open({kBli});
  ASSERT_TRUE(enroller);
  ASSERT_TRUE(enroller->Submit("correct horse"));
  central_.ApproveAll();
  ASSERT_TRUE(enroller->Check("correct horse"));

  StarterConfig starter;
  starter.clients = {*ClientId::Parse("TW/GOV/MOI/household")};
  starter.provider_listen = "127.0.0.1:18443";
  auto written =
      WriteStarterConfig(dir_.File("gw"), kGateway, SigningMembers(kGateway, {kBli}), starter);
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_TRUE(*written);
  auto config = GatewayConfig::Load(File("gateway.toml"));
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->id, kGateway);
  EXPECT_EQ(config->anchor_file, File("anchor.json"));
  EXPECT_EQ(config->provider_listen, "127.0.0.1:18443");
  ASSERT_EQ(config->signing_keys.size(), 2u);
  EXPECT_EQ(config->signing_keys[1].member, kBli);
  ASSERT_EQ(config->clients.size(), 1u);

  ASSERT_TRUE(WriteFileAtomically(File("gateway.toml"), "# mine\n", 0644));
  written = WriteStarterConfig(dir_.File("gw"), kGateway, {kGateway.owner}, starter);
  ASSERT_TRUE(written);
  EXPECT_FALSE(*written);
  EXPECT_EQ(ReadFile(File("gateway.toml")).value_or(""), "# mine\n");
}

}  // namespace
}  // namespace troad::gateway
