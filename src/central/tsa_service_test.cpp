// The central's timestamping authority over HTTP: what it answers, that openssl
// accepts its tokens, and that serial numbers never repeat across restarts.
#include "central/tsa_service.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"

namespace troad::central {
namespace {

namespace bhttp = boost::beast::http;
using crypto::testutil::RunCommand;
using crypto::testutil::WriteFile;

class TsaServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = crypto::testutil::IssueTestPair(crypto::CertUsage::kTimestamping, "TW troad TSA");
    WriteFile(dir_.File("ca.pem"), pair.ca.ToPem());
    WriteFile(dir_.File("tsa.pem"), pair.certificate.ToPem());
    ASSERT_TRUE(pair.key.SavePemFile(dir_.File("tsa.key")));
    options_.certificate_file = dir_.File("tsa.pem");
    options_.key_file = dir_.File("tsa.key");
    // A certificate of the same key that is not fit for timestamping (no timeStamping EKU).
    crypto::CertificateRequest sreq;
    sreq.common_name = "not a TSA";
    sreq.usage = crypto::CertUsage::kSigning;
    auto scert = crypto::IssueCertificate(pair.ca, pair.ca_key, pair.key.Public(), sreq,
                                          SystemClock::Get())
                     .value();
    WriteFile(dir_.File("signing.pem"), scert.ToPem());
    tsa_cert_ = std::make_unique<crypto::Certificate>(pair.certificate);
  }

  http::Request Post(std::string body,
                     std::string_view ctype = crypto::kTimestampQueryContentType) {
    http::Request req{bhttp::verb::post, "/tsa", 11};
    req.set(bhttp::field::content_type, ctype);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  std::string Query(const crypto::Sha256Digest& imprint, uint64_t nonce) {
    crypto::TimestampRequest r;
    r.imprint = imprint;
    r.nonce = nonce;
    return crypto::EncodeTimestampRequest(r).value();
  }

  crypto::testutil::TempDir dir_;
  TsaOptions options_;
  std::unique_ptr<crypto::Certificate> tsa_cert_;
};

TEST_F(TsaServiceTest, AnswersWithTokensThatOpensslVerifies) {
  auto tsa = TsaService::Create(options_, dir_.File("tsa-serial"), SystemClock::Get()).value();
  const auto imprint = crypto::Sha256("a batch root");
  http::Response res = tsa->Handle(Post(Query(imprint, 42)));
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(res[bhttp::field::content_type], crypto::kTimestampReplyContentType);
  auto token = crypto::ParseTimestampReply(res.body());
  ASSERT_TRUE(token) << token.error().message();
  auto info = crypto::VerifyTimestampToken(*token, imprint, {*tsa_cert_}, 42);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->policy, crypto::kDefaultTimestampPolicy);
  EXPECT_EQ(tsa->tokens_issued(), 1u);

  WriteFile(dir_.File("reply.tsr"), res.body());
  auto out = RunCommand(dir_, "openssl ts -verify -digest " + HexEncode(imprint) + " -in " +
                                  dir_.File("reply.tsr") + " -CAfile " + dir_.File("ca.pem") +
                                  " -untrusted " + dir_.File("tsa.pem"));
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("Verification: OK"), std::string::npos) << out.output;
}

TEST_F(TsaServiceTest, RefusesWhatIsNotATimestampQuery) {
  auto tsa = TsaService::Create(options_, dir_.File("tsa-serial"), SystemClock::Get()).value();
  http::Request get{bhttp::verb::get, "/tsa", 11};
  http::Response res = tsa->Handle(get);
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res[bhttp::field::allow], "POST");
  EXPECT_EQ(tsa->Handle(Post("x", "application/json")).result_int(), 415u);
  EXPECT_EQ(tsa->Handle(Post("")).result_int(), 400u);
  EXPECT_EQ(tsa->Handle(Post(std::string(70 * 1024, 'a'))).result_int(), 413u);
  // Malformed DER is answered by a rejection, as RFC 3161 asks, not by an HTTP error.
  res = tsa->Handle(Post("not DER at all"));
  ASSERT_EQ(res.result_int(), 200u);
  auto token = crypto::ParseTimestampReply(res.body());
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(tsa->requests_rejected(), 1u);
  EXPECT_EQ(tsa->tokens_issued(), 0u);
}

TEST_F(TsaServiceTest, SerialsNeverRepeatAcrossRestarts) {
  std::vector<std::string> serials;
  for (int run = 0; run < 2; ++run) {
    auto tsa = TsaService::Create(options_, dir_.File("tsa-serial"), SystemClock::Get()).value();
    for (int i = 0; i < 3; ++i) {
      const auto imprint = crypto::Sha256("root " + std::to_string(i));
      auto token = crypto::ParseTimestampReply(tsa->Handle(Post(Query(imprint, 1))).body());
      ASSERT_TRUE(token);
      auto info = crypto::InspectTimestampToken(*token);
      ASSERT_TRUE(info);
      for (const auto& s : serials) EXPECT_NE(s, info->serial_hex);
      serials.push_back(info->serial_hex);
    }
  }
  // The second run starts after the block the first one reserved.
  EXPECT_EQ(crypto::testutil::ReadFile(dir_.File("tsa-serial")),
            std::to_string(2 * TsaService::kSerialBlock) + "\n");
}

TEST_F(TsaServiceTest, CreateRefusesBadSetUps) {
  TsaOptions not_tsa = options_;
  not_tsa.certificate_file = dir_.File("signing.pem");
  auto r = TsaService::Create(not_tsa, dir_.File("tsa-serial"), SystemClock::Get());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("[tsa]"), std::string::npos) << r.error().message();

  WriteFile(dir_.File("bad-serial"), "twelve\n");
  r = TsaService::Create(options_, dir_.File("bad-serial"), SystemClock::Get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.error().message().find("not a serial number"), std::string::npos);

  TsaOptions missing = options_;
  missing.key_file = dir_.File("nowhere.key");
  EXPECT_FALSE(TsaService::Create(missing, dir_.File("tsa-serial"), SystemClock::Get()));
}

}  // namespace
}  // namespace troad::central
