// central.toml: what an operator's mistakes look like.
#include "central/config.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace troad::central {
namespace {

using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;

constexpr std::string_view kMinimal =
    "[central]\ninstance = \"TW\"\npublic_url = \"https://127.0.0.1:4400\"\n";

Result<CentralConfig> LoadText(const TempDir& dir, std::string_view text) {
  WriteFile(dir.File("central.toml"), text);
  return CentralConfig::Load(dir.File("central.toml"));
}

void ExpectRefused(const Result<CentralConfig>& c, std::string_view part) {
  ASSERT_FALSE(c) << "accepted; expected: " << part;
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument) << c.error().ToString();
  EXPECT_NE(c.error().message().find(part), std::string::npos) << c.error().ToString();
}

TEST(CentralConfigTest, DefaultsAndRelativePaths) {
  TempDir dir;
  auto c = LoadText(dir, kMinimal);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->instance, "TW");
  EXPECT_EQ(c->listen, "127.0.0.1:4400");
  EXPECT_EQ(c->DatabaseFile(), dir.File("data/central.db"));
  EXPECT_EQ(c->ca_key_file, dir.File("keys/ca.key"));
  EXPECT_EQ(c->publisher.validity, std::chrono::seconds(600));
  EXPECT_EQ(c->publisher.refresh_interval, std::chrono::seconds(60));
  EXPECT_EQ(c->admin.max_failures_per_user, 5);
  EXPECT_TRUE(c->log_json);
  EXPECT_EQ(c->ca.renewal, RenewalPolicy::kAuto);
}

TEST(CentralConfigTest, RenewalPolicyIsAutoOrReview) {
  TempDir dir;
  auto review = LoadText(dir, std::string(kMinimal) + "[ca]\nrenewal = \"review\"\n");
  ASSERT_TRUE(review) << review.error().ToString();
  EXPECT_EQ(review->ca.renewal, RenewalPolicy::kReview);
  auto automatic = LoadText(dir, std::string(kMinimal) + "[ca]\nrenewal = \"auto\"\n");
  ASSERT_TRUE(automatic) << automatic.error().ToString();
  EXPECT_EQ(automatic->ca.renewal, RenewalPolicy::kAuto);
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[ca]\nrenewal = \"manual\"\n"), "renewal");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[ca]\nrenewal = \"Auto\"\n"),
                "\"auto\" or \"review\"");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[ca]\nrenewal = true\n"), "renewal");
}

TEST(CentralConfigTest, TimestampingCertificatesAreFilesBesideTheConfig) {
  TempDir dir;
  auto c = LoadText(dir, std::string(kMinimal) +
                             "[globalconf]\ntimestamping_certificates = [\"keys/tsa.crt\", "
                             "\"/etc/troad/other-tsa.crt\"]\n");
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_EQ(c->timestamping_certificate_files.size(), 2u);
  EXPECT_EQ(c->timestamping_certificate_files[0], dir.File("keys/tsa.crt"));
  EXPECT_EQ(c->timestamping_certificate_files[1], "/etc/troad/other-tsa.crt");
  ExpectRefused(LoadText(dir, std::string(kMinimal) +
                                  "[globalconf]\ntimestamping_certificates = \"tsa.crt\"\n"),
                "timestamping_certificates");
}

TEST(CentralConfigTest, TheLedgerHasAKeyBesideTheConfigAndAnOrigin) {
  TempDir dir;
  auto none = LoadText(dir, kMinimal);
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(none->ledger.key_file, "");
  auto c = LoadText(dir, std::string(kMinimal) + "[ledger]\nkey = \"keys/ledger.key\"\n");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->ledger.key_file, dir.File("keys/ledger.key"));
  EXPECT_EQ(c->ledger.origin, "troad-ledger/TW");
  EXPECT_EQ(c->LedgerDatabaseFile(), dir.File("data/ledger.db"));
  ExpectRefused(LoadText(dir, std::string(kMinimal) +
                                  "[ledger]\nkey = \"keys/ledger.key\"\norigin = \"two words\"\n"),
                "ledger.origin");
  ExpectRefused(LoadText(dir, std::string(kMinimal) +
                                  "[ledger]\nkey = \"keys/ledger.key\"\norigin = \"a+b\"\n"),
                "ledger.origin");
}

TEST(CentralConfigTest, MistakesAreNamed) {
  TempDir dir;
  ExpectRefused(LoadText(dir, "[central]\npublic_url = \"https://x:1\"\n"), "instance");
  ExpectRefused(LoadText(dir, "[central]\ninstance = \"TW\"\npublic_url = \"http://x:1\"\n"),
                "https://");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "listen = \"nowhere\"\n"), "listen");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "lisen = \"127.0.0.1:1\"\n"), "lisen");
  ExpectRefused(LoadText(dir, std::string(kMinimal) +
                                  "[globalconf]\nvalidity_s = 60\nrefresh_interval_s = 40\n"),
                "half of validity_s");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[globalconf]\nvalidity_s = 5\n"),
                "validity_s");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[ca]\ncountry = \"Taiwan\"\n"), "country");
  ExpectRefused(LoadText(dir, std::string(kMinimal) + "[logging]\nformat = \"xml\"\n"), "format");
}

}  // namespace
}  // namespace troad::central
