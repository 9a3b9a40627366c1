#include "mydata/config.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;
using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;

class MyDataConfigTest : public ::testing::Test {
 protected:
  Result<MyDataConfig> Load(const std::string& text) {
    WriteFile(dir_.File("mydata.toml"), text);
    return MyDataConfig::Load(dir_.File("mydata.toml"));
  }
  TempDir dir_;
};

TEST_F(MyDataConfigTest, DefaultsAndTheKeysItTakes) {
  auto c = Load(
      "[mydata]\npublic_url = \"https://mydata.example.tw/\"\n"
      "[keys]\nconsent_key_rotate_after_days = 30\nconsent_key_retention_days = 400\n");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->public_url, "https://mydata.example.tw") << "a trailing / is dropped";
  EXPECT_EQ(c->api.public_url, c->public_url) << "the audience of client assertions";
  EXPECT_EQ(c->listen, "127.0.0.1:4700");
  EXPECT_EQ(c->api.consent_keys.rotate_after, std::chrono::hours(24 * 30));
  EXPECT_EQ(c->api.consent_keys.retention, std::chrono::hours(24 * 400));
  EXPECT_TRUE(c->api.management_token_sha256.empty()) << "the management API is off";
}

TEST_F(MyDataConfigTest, EachBadKeyIsNamed) {
  ExpectError(Load("[mydata]\npublic_url = \"http://mydata.example.tw\"\n"),
              ErrorCode::kInvalidArgument, "public_url");
  ExpectError(Load("[mydata]\npublic_url = \"https://mydata.example.tw/?a=b\"\n"),
              ErrorCode::kInvalidArgument, "public_url");
  ExpectError(Load("[mydata]\nlisten = \"localhost\"\n"), ErrorCode::kInvalidArgument, "listen");
  ExpectError(Load("[keys]\ntls_certificate = \"a.pem\"\n"), ErrorCode::kInvalidArgument,
              "tls_key");
  ExpectError(Load("[keys]\nmanagement_token_sha256 = \"abc\"\n"), ErrorCode::kInvalidArgument,
              "64 hex digits");
  ExpectError(Load("[keys]\nconsent_key_retention_days = 5\n"), ErrorCode::kInvalidArgument,
              "consent_key_retention_days");
  ExpectError(Load("[mydata]\nlisten_on = \"127.0.0.1:1\"\n"), ErrorCode::kInvalidArgument,
              "listen_on");
}

}  // namespace
}  // namespace troad::mydata
