// Renewal against a central simulated in the test with a real CA: what is due, what the
// signatures prove, what is installed and when, resuming after a stop.
#include "gateway/renew.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/ca.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/test_util.h"
#include "globalconf/fetcher.h"

namespace troad::gateway {
namespace {

namespace fs = std::filesystem;
using crypto::testutil::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

const GatewayId kGateway = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
const ClientId kMoi = *ClientId::Parse("TW/GOV/MOI");

class RenewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::CertificateRequest ca_req;
    ca_req.common_name = "troad test central CA";
    ca_.emplace(*crypto::CreateSelfSignedCa(ca_key_, ca_req, clock_));
    // The pairs the gateway was enrolled with, valid for 60 days.
    Issue("auth", kGateway.ToString(), crypto::CertUsage::kAuthentication, 24h * 60);
    Issue("sign-GOV-MOI", kMoi.ToString(), crypto::CertUsage::kSigning, 24h * 60);
    config_.id = kGateway;
    config_.data_dir = dir_.File("data");
    config_.auth_certificate_file = dir_.File("auth.crt");
    config_.auth_key_file = dir_.File("auth.key");
    config_.signing_keys = {{kMoi, dir_.File("sign-GOV-MOI.crt"), dir_.File("sign-GOV-MOI.key")}};
  }

  void Issue(const std::string& stem, const std::string& owner, crypto::CertUsage usage,
             std::chrono::seconds validity) {
    auto key = *crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = owner;
    req.usage = usage;
    req.validity = validity;
    auto cert = *crypto::IssueCertificate(*ca_, ca_key_, key.Public(), req, clock_);
    ASSERT_TRUE(key.SavePemFile(dir_.File(stem + ".key")));
    ASSERT_TRUE(WriteFileAtomically(dir_.File(stem + ".crt"), cert.ToPem(), 0644));
    current_.insert_or_assign(owner, cert);
  }

  globalconf::Anchor Anchor() const {
    return {"TW", "https://127.0.0.1:4400", {ca_key_.Public()}, *ca_, clock_.Now()};
  }

  // The central's renewal endpoints: checks the proof like the real one, issues at once
  // when `auto_approve`, and publishes what it issued.
  CentralTransport Transport() {
    return [this](std::string_view path, const json& body) -> Result<json> {
      if (path == globalconf::kDocumentPath) {
        json gateways = json::array(), members = json::array();
        json auth = json::array();
        for (const auto& [fp, pem] : published_) auth.push_back(pem);
        return json{{"settings", {{"refresh_interval_s", 1}}},
                    {"gateways",
                     {{{"auth_certificate", current_.at(kGateway.ToString()).ToPem()},
                       {"additional_auth_certificates", auth}}}},
                    {"members", json::array()}};
      }
      if (path == kRenewalPath) {
        const std::string owner = body["owner"];
        const crypto::Certificate& current = current_.at(owner);
        if (body["current_certificate_sha256"] != current.Sha256Fingerprint()) {
          return Fail(ErrorCode::kPermissionDenied, "certificate cannot be renewed");
        }
        auto csr = crypto::Csr::FromPem(body["csr"].get<std::string>());
        if (!csr) return Fail(ErrorCode::kInvalidArgument, "csr");
        auto signature = Base64Decode(body["signature"].get<std::string>());
        if (!signature ||
            !current.GetPublicKey().Verify(std::string(kRenewalSignaturePrefix) + csr->ToDer(),
                                           *signature, current.GetPublicKey().Algorithm())) {
          return Fail(ErrorCode::kUnauthenticated, "the signature does not verify");
        }
        const int64_t id = next_id_++;
        requests_[id] = {owner, body["kind"], body["csr"], body["current_certificate_sha256"], ""};
        if (auto_approve) Approve(id);
        return json{{"request", {{"id", id}, {"status", auto_approve ? "approved" : "pending"}}}};
      }
      const int64_t id = body["id"];
      const Request& q = requests_.at(id);
      auto signature = Base64Decode(body["signature"].get<std::string>());
      if (!signature || !current_.at(q.owner).GetPublicKey().Verify(
                            std::string(kRenewalStatusSignaturePrefix) + std::to_string(id),
                            *signature, current_.at(q.owner).GetPublicKey().Algorithm())) {
        return Fail(ErrorCode::kUnauthenticated, "the signature does not verify");
      }
      json out = {
          {"request", {{"id", id}, {"status", q.certificate.empty() ? "pending" : "approved"}}}};
      if (!q.certificate.empty()) out["certificate"] = q.certificate;
      return out;
    };
  }

  void Approve(int64_t id) {
    Request& q = requests_.at(id);
    auto csr = crypto::Csr::FromPem(q.csr);
    crypto::CertificateRequest req;
    req.common_name = q.owner;
    req.serial_number_attr = q.kind == "authentication" ? kMoi.ToString() : q.owner;
    req.usage = q.kind == "authentication" ? crypto::CertUsage::kAuthentication
                                           : crypto::CertUsage::kSigning;
    auto cert = crypto::IssueCertificateFromCsr(*ca_, ca_key_, *csr, req, clock_);
    ASSERT_TRUE(cert) << cert.error().ToString();
    q.certificate = cert->ToPem();
    if (q.kind == "authentication") published_[cert->Sha256Fingerprint()] = q.certificate;
  }

  Result<Renewer> Open() { return Renewer::Open(config_, Anchor(), Transport(), clock_); }
  std::string Text(const std::string& name) { return ReadFile(dir_.File(name)).value_or(""); }

  struct Request {
    std::string owner, kind, csr, current, certificate;
  };
  TempDir dir_;
  FakeClock clock_{crypto::testutil::NowSeconds()};
  crypto::PrivateKey ca_key_ = *crypto::PrivateKey::GenerateEcP256();
  std::optional<crypto::Certificate> ca_;
  std::map<std::string, crypto::Certificate> current_;
  GatewayConfig config_;
  std::map<int64_t, Request> requests_;
  std::map<std::string, std::string> published_;
  int64_t next_id_ = 1;
  bool auto_approve = true;
};

TEST_F(RenewTest, NothingIsDueLongBeforeExpiryAndEverythingWithin) {
  auto renewer = Open();
  ASSERT_TRUE(renewer) << renewer.error().ToString();
  auto sent = renewer->Submit(24h * 30, false);
  ASSERT_TRUE(sent) << sent.error().ToString();
  EXPECT_EQ(*sent, 0u);
  EXPECT_TRUE(requests_.empty());

  clock_.Advance(24h * 31);  // 29 days left
  sent = renewer->Submit(24h * 30, false);
  ASSERT_TRUE(sent) << sent.error().ToString();
  EXPECT_EQ(*sent, 2u);  // the authentication pair and the signing pair
  EXPECT_EQ(requests_.at(1).kind, "authentication");
  EXPECT_EQ(requests_.at(2).owner, "TW/GOV/MOI");
}

TEST_F(RenewTest, RenewsWithTheCurrentKeysProofAndInstallsOnlyWhenAsked) {
  const std::string old_auth = Text("auth.crt"), old_key = Text("auth.key");
  auto renewer = Open();
  ASSERT_TRUE(renewer);
  ASSERT_TRUE(renewer->Submit(24h, true));  // --force
  // The fake central verified each signature with the current certificate's key.
  ASSERT_EQ(requests_.size(), 2u);
  auto csr = crypto::Csr::FromPem(requests_.at(1).csr);
  ASSERT_TRUE(csr);
  EXPECT_EQ(csr->subject(), (crypto::CsrSubject{"TW/GOV/MOI/moi-gw", "", "", "TW/GOV/MOI", "TW"}));
  EXPECT_NE(csr->public_key().ToDer(),
            crypto::PrivateKey::LoadPemFile(dir_.File("auth.key"))->Public().ToDer());

  auto progress = renewer->Check();
  ASSERT_TRUE(progress) << progress.error().ToString();
  EXPECT_TRUE(progress->approved);
  // Checked and waiting beside the pair in use, which is untouched.
  EXPECT_TRUE(fs::exists(dir_.File("auth.crt.pending")));
  EXPECT_EQ(Text("auth.crt"), old_auth);
  EXPECT_EQ(Text("auth.key"), old_key);
  int64_t refresh = 0;
  auto published = renewer->Published(&refresh);
  ASSERT_TRUE(published) << published.error().ToString();
  EXPECT_FALSE(*published);  // the signing certificate is not in this fake's document

  ASSERT_TRUE(renewer->Install());
  auto cert = crypto::Certificate::LoadPemFile(dir_.File("auth.crt"));
  auto key = crypto::PrivateKey::LoadPemFile(dir_.File("auth.key"));
  ASSERT_TRUE(cert && key);
  EXPECT_NE(cert->ToPem(), old_auth);
  EXPECT_EQ(cert->GetPublicKey().ToDer(), key->Public().ToDer());
  EXPECT_FALSE(fs::exists(dir_.File("auth.key.pending")));
  EXPECT_FALSE(fs::exists(dir_.File("data/renewal.json")));
}

TEST_F(RenewTest, ALaterRunPicksUpPendingRequests) {
  auto_approve = false;
  {
    auto first = Open();
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->Submit(24h, true));
    auto progress = first->Check();
    ASSERT_TRUE(progress);
    EXPECT_FALSE(progress->approved);
  }
  Approve(1);
  Approve(2);
  auto second = Open();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_TRUE(second->HasRequestsOnRecord());
  EXPECT_EQ(second->Submit(24h, true).error().code(), ErrorCode::kFailedPrecondition);
  auto progress = second->Check();
  ASSERT_TRUE(progress) << progress.error().ToString();
  EXPECT_TRUE(progress->approved);
  EXPECT_EQ(requests_.size(), 2u);  // nothing was sent twice
}

TEST_F(RenewTest, ACertificateForAnotherKeyIsNotSavedAndTheRecordStays) {
  auto_approve = false;
  auto renewer = Open();
  ASSERT_TRUE(renewer);
  ASSERT_TRUE(renewer->Submit(24h, true));
  // The "central" answers with a certificate for the current key instead of the new one.
  requests_.at(1).certificate = Text("auth.crt");
  auto refused = renewer->Check();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(refused.error().message().find("does not carry this gateway's key"), std::string::npos)
      << refused.error().message();
  EXPECT_FALSE(fs::exists(dir_.File("auth.crt.pending")));
  EXPECT_TRUE(fs::exists(dir_.File("data/renewal.json")));
}

TEST_F(RenewTest, ACorruptRecordOrAnswerIsReportedAndNothingIsLost) {
  fs::create_directories(dir_.File("data"));
  ASSERT_TRUE(WriteFileAtomically(dir_.File("data/renewal.json"), "{\"format\":\"other\"}", 0600));
  auto refused = Open();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("remove it to start the renewal over"),
            std::string::npos)
      << refused.error().message();
  ASSERT_TRUE(WriteFileAtomically(
      dir_.File("data/renewal.json"),
      "{\"format\":\"troad-renewal/1\",\"gateway\":\"TW/GOV/MOI/moi-gw\",\"requests\":"
      "[{\"id\":1,\"kind\":\"signing\",\"owner\":\"TW/GOV/TAX\"}]}",
      0600));
  auto stale = Open();
  ASSERT_FALSE(stale);
  EXPECT_NE(stale.error().message().find("which gateway.toml no longer has"), std::string::npos)
      << stale.error().message();
  fs::remove(dir_.File("data/renewal.json"));

  // The central answers without a request id: an error, and the current pair untouched.
  auto renewer = Renewer::Open(
      config_, Anchor(),
      [](std::string_view, const json&) -> Result<json> {
        return json{{"unexpected", true}};
      },
      clock_);
  ASSERT_TRUE(renewer);
  const std::string before = Text("auth.crt");
  auto sent = renewer->Submit(24h, true);
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().message().find("has no request id"), std::string::npos)
      << sent.error().message();
  EXPECT_EQ(Text("auth.crt"), before);
}

}  // namespace
}  // namespace troad::gateway
