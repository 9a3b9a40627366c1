#include "identity/config.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace troad::identity {
namespace {

using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;

// idp.toml as `troad idp init` writes it, plus `extra`.
class IdpConfigTest : public ::testing::Test {
 protected:
  Result<IdpConfig> Load(const std::string& extra) {
    WriteFile(dir_.File("subject.salt"), "0123456789abcdef0123456789abcdef0123\n");
    WriteFile(dir_.File("idp.toml"),
              "[idp]\nissuer = \"http://localhost:4600\"\n[keys]\nsubject_salt = "
              "\"subject.salt\"\n" +
                  extra);
    return IdpConfig::Load(dir_.File("idp.toml"));
  }
  TempDir dir_;
};

TEST_F(IdpConfigTest, OcspIsOffUnlessAskedForAndThenTakesItsKeys) {
  auto off = Load("");
  ASSERT_TRUE(off) << off.error().ToString();
  EXPECT_FALSE(off->provider.citizen_ocsp.has_value());
  auto on = Load(
      "[citizen_certificate]\nocsp = true\nocsp_responder = \"http://127.0.0.1:8888/ocsp\"\n"
      "ocsp_timeout_ms = 2000\n");
  ASSERT_TRUE(on) << on.error().ToString();
  ASSERT_TRUE(on->provider.citizen_ocsp.has_value());
  EXPECT_EQ(on->provider.citizen_ocsp->responder_url, "http://127.0.0.1:8888/ocsp");
  EXPECT_EQ(on->provider.citizen_ocsp->timeout, std::chrono::milliseconds(2000));
}

TEST_F(IdpConfigTest, AnHttpsOcspResponderIsRefusedNamingTheKey) {
  auto bad =
      Load("[citizen_certificate]\nocsp = true\nocsp_responder = \"https://ocsp.example\"\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("ocsp_responder"), std::string::npos)
      << bad.error().message();
  EXPECT_NE(bad.error().message().find("http://"), std::string::npos) << bad.error().message();
}

TEST_F(IdpConfigTest, TheOldSmsKeyIsRefusedNamingItsNewName) {
  auto old = Load("[sms]\nmax_per_hour = 5\n");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message().find("max_per_hour"), std::string::npos) << old.error().message();
  EXPECT_NE(old.error().message().find("renamed to max_sends"), std::string::npos)
      << old.error().message();
  auto renamed = Load("[sms]\nmax_sends = 3\n");
  ASSERT_TRUE(renamed) << renamed.error().ToString();
  EXPECT_EQ(renamed->provider.sms_max_sends, 3);
}

}  // namespace
}  // namespace troad::identity
