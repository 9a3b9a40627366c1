// The publisher: versions only grow, every copy served verifies as a gateway checks it,
// and a restarted central serves what it served before.
#include "central/publisher.h"

#include <gtest/gtest.h>

#include "central/schema.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "globalconf/signed.h"
#include "store/migrate.h"

namespace troad::central {
namespace {

const SystemTime kStart = *ParseRfc3339("2026-11-24T08:00:00Z");

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    ca_ = std::make_unique<crypto::Certificate>(*crypto::CreateSelfSignedCa(ca_key_, req, clock_));
    Open();
    ASSERT_TRUE(registry_->AddMember({*ClientId::Parse("TW/GOV/MOI"), "內政部", "", {}}));
  }

  void Open(PublisherOptions options = {}) {
    publisher_.reset();
    registry_.reset();
    db_.reset();
    db_ = std::move(*store::OpenSqlite(dir_.File("central.db")));
    ASSERT_TRUE(store::Migrate(*db_, CentralMigrations(), clock_));
    registry_ = std::make_unique<Registry>(*db_, clock_, "TW");
    publisher_ = std::make_unique<Publisher>(*registry_, *db_, clock_, conf_key_,
                                             std::vector<crypto::Certificate>{*ca_}, options);
    ASSERT_TRUE(publisher_->Load());
  }

  Result<std::shared_ptr<const globalconf::GlobalConf>> Verify(const Published& p,
                                                               int64_t held = 0) {
    return globalconf::VerifySignedDocument(
        p.document, p.signature,
        globalconf::VerifyOptions{{conf_key_.Public()}, "TW", held, clock_.Now()});
  }

  crypto::testutil::TempDir dir_;
  FakeClock clock_{kStart};
  crypto::PrivateKey ca_key_ = *crypto::PrivateKey::GenerateEcP256();
  crypto::PrivateKey conf_key_ = *crypto::PrivateKey::GenerateEcP256();
  std::unique_ptr<crypto::Certificate> ca_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(PublisherTest, PublishesOnChangeAndBeforeHalfTheValidity) {
  EXPECT_EQ(publisher_->Current(), nullptr);
  ASSERT_TRUE(*publisher_->PublishIfNeeded());
  auto first = publisher_->Current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->expires_at - first->issued_at, std::chrono::seconds(600));
  auto conf = Verify(*first);
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ((*conf)->members().size(), 1u);
  EXPECT_EQ((*conf)->settings().refresh_interval_s, 60);

  EXPECT_FALSE(*publisher_->PublishIfNeeded()) << "nothing changed";
  ASSERT_TRUE(registry_->AddMember({*ClientId::Parse("TW/GOV/BLI"), "勞保局", "", {}}));
  ASSERT_TRUE(*publisher_->PublishIfNeeded());
  auto second = publisher_->Current();
  EXPECT_EQ(second->version, 2);
  ASSERT_TRUE(Verify(*second, 1));
  EXPECT_EQ((*Verify(*second))->members().size(), 2u);

  clock_.Advance(std::chrono::seconds(299));
  EXPECT_FALSE(*publisher_->PublishIfNeeded());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(*publisher_->PublishIfNeeded()) << "half the validity has passed";
  EXPECT_EQ(publisher_->Current()->version, 3);

  // Signatures of recent documents stay available by hash.
  EXPECT_EQ(publisher_->SignatureFor(first->sha256), first->signature);
  EXPECT_EQ(publisher_->SignatureFor(std::string(64, 'f')), std::nullopt);
}

TEST_F(PublisherTest, ListsTheTimestampingAuthoritiesGatewaysAccept) {
  ASSERT_TRUE(publisher_->PublishIfNeeded(true));
  auto plain = Verify(*publisher_->Current());
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_TRUE((*plain)->timestamping_certificates().empty());
  EXPECT_EQ(publisher_->Current()->document.find("trusted_timestamping_certificates"),
            std::string::npos);  // absent when there are none

  crypto::CertificateRequest req;
  req.common_name = "TW troad TSA";
  req.usage = crypto::CertUsage::kTimestamping;
  auto tsa_key = *crypto::PrivateKey::GenerateEcP256();
  auto tsa = crypto::IssueCertificate(*ca_, ca_key_, tsa_key.Public(), req, clock_);
  ASSERT_TRUE(tsa) << tsa.error().ToString();
  PublisherOptions options;
  options.timestamping_certificates = {*tsa};
  Open(options);
  ASSERT_TRUE(publisher_->PublishIfNeeded(true));
  auto with_tsa = Verify(*publisher_->Current());
  ASSERT_TRUE(with_tsa) << with_tsa.error().ToString();
  ASSERT_EQ((*with_tsa)->timestamping_certificates().size(), 1u);
  EXPECT_EQ((*with_tsa)->timestamping_certificates()[0].Sha256Fingerprint(),
            tsa->Sha256Fingerprint());
}

TEST_F(PublisherTest, RestartServesTheSameCopyAndKeepsCounting) {
  ASSERT_TRUE(*publisher_->PublishIfNeeded());
  ASSERT_TRUE(*publisher_->PublishIfNeeded(/*force=*/true));
  std::string served = publisher_->Current()->document;
  Open();
  ASSERT_NE(publisher_->Current(), nullptr);
  EXPECT_EQ(publisher_->Current()->version, 2);
  EXPECT_EQ(publisher_->Current()->document, served);
  EXPECT_FALSE(*publisher_->PublishIfNeeded()) << "the registry has not moved";
  ASSERT_TRUE(*publisher_->PublishIfNeeded(true));
  EXPECT_EQ(publisher_->Current()->version, 3);
}

TEST_F(PublisherTest, TamperedStoredDocumentIsReported) {
  ASSERT_TRUE(*publisher_->PublishIfNeeded());
  ASSERT_TRUE(db_->Execute("UPDATE published_configurations SET document = document || ' '"));
  publisher_ =
      std::make_unique<Publisher>(*registry_, *db_, clock_, conf_key_,
                                  std::vector<crypto::Certificate>{*ca_}, PublisherOptions{});
  auto st = publisher_->Load();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace troad::central
