#include "crypto/timestamp.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <set>
#include <thread>

#include "core/encoding.h"
#include "crypto/ca.h"
#include "crypto/test_util.h"

namespace troad::crypto {
namespace {

using namespace std::chrono_literals;
using testutil::NowSeconds;
using testutil::ReadFile;
using testutil::RunCommand;
using testutil::TempDir;
using testutil::WriteFile;

using testutil::ExpectError;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A DER TimeStampReq: `base` as EncodeTimestampRequest writes it, then changed by `edit`
// through OpenSSL's TS_REQ API (to make requests our encoder never would).
std::string EditedRequest(const TimestampRequest& base, const std::function<void(TS_REQ*)>& edit) {
  std::string der = *EncodeTimestampRequest(base);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  TS_REQ* req = d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(req, nullptr);
  if (req == nullptr) return {};
  edit(req);
  unsigned char* out = nullptr;
  int len = i2d_TS_REQ(req, &out);
  TS_REQ_free(req);
  EXPECT_GT(len, 0);
  if (len <= 0) return {};
  std::string edited(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return edited;
}

// The TSTInfo DER inside a token (for re-signing it with `openssl cms`).
std::string TstInfoDer(const std::string& token) {
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(token.size()));
  TS_TST_INFO* tst = p7 != nullptr ? PKCS7_to_TS_TST_INFO(p7) : nullptr;
  unsigned char* der = nullptr;
  int len = tst != nullptr ? i2d_TS_TST_INFO(tst, &der) : 0;
  std::string out = len > 0 ? std::string(reinterpret_cast<const char*>(der), len) : "";
  OPENSSL_free(der);
  TS_TST_INFO_free(tst);
  PKCS7_free(p7);
  return out;
}

// `t` as GeneralizedTime digits without the fraction: "20261124083000".
std::string GeneralizedTimeDigits(SystemTime t) {
  std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm);
  return buf;
}

// As `openssl ts -reply -text` prints a genTime with a .25 s fraction:
// "Nov 24 08:30:00.25 2026 GMT".
std::string OpensslTimeWithQuarterSecond(SystemTime t) {
  std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%b %e %H:%M:%S.25 %Y GMT", &tm);
  return buf;
}

// A CA and a TSA certificate issued by it, valid now (the openssl CLI checks
// certificates at the wall clock). The fake clock runs 250 ms past the second so that
// genTime has a fraction.
class TimestampTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = *PrivateKey::GenerateEcP256();
    CertificateRequest ca_req;
    ca_req.common_name = "troad test root";
    ca_req.organization = "MODA";
    ca_req.usage = CertUsage::kCa;
    ca_req.validity = 24h * 3650;
    auto ca = CreateSelfSignedCa(*ca_key_, ca_req, clock_);
    ASSERT_TRUE(ca) << ca.error().ToString();
    ca_ = *ca;
    tsa_key_ = *PrivateKey::GenerateEcP256();
    auto tsa = IssueFor(*tsa_key_, "troad TSA", clock_, 24h * 365);
    ASSERT_TRUE(tsa) << tsa.error().ToString();
    tsa_cert_ = *tsa;
    clock_.Advance(250ms);
  }

  Result<Certificate> IssueFor(const PrivateKey& key, const std::string& cn, const Clock& clock,
                               std::chrono::seconds validity,
                               CertUsage usage = CertUsage::kTimestamping) {
    CertificateRequest req;
    req.common_name = cn;
    req.organization = "MODA";
    req.usage = usage;
    req.validity = validity;
    return IssueCertificate(*ca_, *ca_key_, key.Public(), req, clock);
  }

  std::unique_ptr<TimestampAuthority> MakeTsa(TimestampAuthority::Options options = {}) {
    auto tsa = TimestampAuthority::Create(*tsa_key_, *tsa_cert_, std::move(options), clock_);
    EXPECT_TRUE(tsa) << tsa.error().ToString();
    return tsa ? std::move(*tsa) : nullptr;
  }

  static std::string Request(const Sha256Digest& imprint, std::optional<uint64_t> nonce,
                             bool cert_req = true) {
    TimestampRequest req;
    req.imprint = imprint;
    req.nonce = nonce;
    req.cert_req = cert_req;
    auto der = EncodeTimestampRequest(req);
    EXPECT_TRUE(der) << der.error().ToString();
    return der.value_or("");
  }

  // A token for `imprint` from `tsa`.
  std::string Token(TimestampAuthority& tsa, const Sha256Digest& imprint,
                    std::optional<uint64_t> nonce = std::nullopt, bool cert_req = true) {
    auto reply = tsa.Respond(Request(imprint, nonce, cert_req));
    EXPECT_TRUE(reply) << reply.error().ToString();
    auto token = ParseTimestampReply(reply.value_or(""));
    EXPECT_TRUE(token) << token.error().ToString();
    return token.value_or("");
  }

  // Writes ca.pem and tsa.pem for the openssl CLI.
  void WriteCertificates() {
    WriteFile(dir_.File("ca.pem"), ca_->ToPem());
    WriteFile(dir_.File("tsa.pem"), tsa_cert_->ToPem());
  }

  // Runs `openssl <args>` in the scratch directory (file names are relative to it).
  testutil::CommandResult Openssl(const std::string& args) {
    return RunCommand(dir_, "cd " + dir_.path().string() + " && openssl " + args);
  }

  // A minimal configuration for `openssl ts -reply` (its own TSA), serial file
  // tsaserial starting after 0x0a, policy 1.2.3.4.1, ESSCertID v1 (SHA-1) as OpenSSL's
  // default.
  void WriteOpensslTsaConfig() {
    WriteFile(dir_.File("tsaserial"), "0a\n");
    WriteFile(dir_.File("tsa.cnf"),
              "[ tsa ]\n"
              "default_tsa = tsa_config1\n"
              "[ tsa_config1 ]\n"
              "serial = " +
                  dir_.File("tsaserial") +
                  "\n"
                  "signer_digest = sha256\n"
                  "default_policy = 1.2.3.4.1\n"
                  "digests = sha256\n"
                  "accuracy = secs:1\n"
                  "tsa_name = yes\n");
  }

  TempDir dir_;
  FakeClock clock_{NowSeconds()};
  std::optional<PrivateKey> ca_key_;
  std::optional<Certificate> ca_;
  std::optional<PrivateKey> tsa_key_;
  std::optional<Certificate> tsa_cert_;
  const Sha256Digest imprint_ = Sha256("merkle root of batch 1");
};

// ---- Requests ----

TEST_F(TimestampTest, RequestRoundTrip) {
  TimestampRequest req;
  req.imprint = imprint_;
  req.nonce = 0xfedcba9876543210;  // the top bit set: DER needs a leading zero byte
  req.policy = "1.2.3.4.5";
  req.cert_req = false;
  auto der = EncodeTimestampRequest(req);
  ASSERT_TRUE(der) << der.error().ToString();
  auto back = DecodeTimestampRequest(*der);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->imprint, req.imprint);
  EXPECT_EQ(back->nonce, req.nonce);
  EXPECT_EQ(back->policy, "1.2.3.4.5");
  EXPECT_FALSE(back->cert_req);

  TimestampRequest plain;
  plain.imprint = imprint_;
  auto plain_back = DecodeTimestampRequest(*EncodeTimestampRequest(plain));
  ASSERT_TRUE(plain_back) << plain_back.error().ToString();
  EXPECT_EQ(plain_back->nonce, std::nullopt);
  EXPECT_EQ(plain_back->policy, "");
  EXPECT_TRUE(plain_back->cert_req);
}

TEST_F(TimestampTest, OpensslReadsOurRequest) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TimestampRequest req;
  req.imprint = imprint_;
  req.nonce = 0x1234abcd;
  req.policy = std::string(kDefaultTimestampPolicy);
  WriteFile(dir_.File("q.tsq"), *EncodeTimestampRequest(req));
  auto r = Openssl("ts -query -in q.tsq -text");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "Hash Algorithm: sha256")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Nonce: 0x1234ABCD")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Policy OID: 1.3.6.1.4.1.32473.1.3161")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Certificate required: yes")) << r.output;
}

TEST_F(TimestampTest, EncodeRefusesMalformedPolicy) {
  TimestampRequest req;
  req.imprint = imprint_;
  req.policy = "not an oid";
  ExpectError(EncodeTimestampRequest(req), ErrorCode::kInvalidArgument,
              "'not an oid' is not a dotted OID");
}

TEST_F(TimestampTest, DecodeRefusesSha1RequestFromOpenssl) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto r = Openssl("ts -query -sha1 -digest " + std::string(40, 'a') + " -cert -out q1.tsq");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectError(DecodeTimestampRequest(ReadFile(dir_.File("q1.tsq"))), ErrorCode::kInvalidArgument,
              "hash algorithm sha1: only SHA-256 is accepted");
}

TEST_F(TimestampTest, DecodeRefusesMalformedRequests) {
  TimestampRequest base;
  base.imprint = imprint_;
  base.nonce = 7;
  const std::string good = *EncodeTimestampRequest(base);

  ExpectError(DecodeTimestampRequest(""), ErrorCode::kInvalidArgument, "empty");
  ExpectError(DecodeTimestampRequest("GET / HTTP/1.1\r\n\r\n"), ErrorCode::kInvalidArgument,
              "not a DER TimeStampReq");
  ExpectError(DecodeTimestampRequest(good.substr(0, good.size() - 1)), ErrorCode::kInvalidArgument,
              "not a DER TimeStampReq");
  ExpectError(DecodeTimestampRequest(good.substr(0, good.size() / 2)), ErrorCode::kInvalidArgument,
              "not a DER TimeStampReq");
  ExpectError(DecodeTimestampRequest(good + std::string("\0\0", 2)), ErrorCode::kInvalidArgument,
              "followed by 2 unexpected bytes");
  ExpectError(
      DecodeTimestampRequest(EditedRequest(base, [](TS_REQ* r) { TS_REQ_set_version(r, 2); })),
      ErrorCode::kInvalidArgument, "version 2; only version 1");
  ExpectError(DecodeTimestampRequest(EditedRequest(base,
                                                   [](TS_REQ* r) {
                                                     unsigned char short_digest[20] = {1, 2, 3};
                                                     TS_MSG_IMPRINT_set_msg(
                                                         TS_REQ_get_msg_imprint(r), short_digest,
                                                         sizeof(short_digest));
                                                   })),
              ErrorCode::kInvalidArgument, "imprint is 20 bytes long instead of 32");
  ExpectError(DecodeTimestampRequest(EditedRequest(base,
                                                   [](TS_REQ* r) {
                                                     BIGNUM* bn = nullptr;
                                                     BN_hex2bn(&bn, "10000000000000000");  // 2^64
                                                     ASN1_INTEGER* n =
                                                         BN_to_ASN1_INTEGER(bn, nullptr);
                                                     TS_REQ_set_nonce(r, n);
                                                     ASN1_INTEGER_free(n);
                                                     BN_free(bn);
                                                   })),
              ErrorCode::kInvalidArgument, "nonce 0x10000000000000000 is longer than 64 bits");
  ExpectError(DecodeTimestampRequest(EditedRequest(base,
                                                   [](TS_REQ* r) {
                                                     ASN1_INTEGER* n = ASN1_INTEGER_new();
                                                     ASN1_INTEGER_set(n, -5);
                                                     TS_REQ_set_nonce(r, n);
                                                     ASN1_INTEGER_free(n);
                                                   })),
              ErrorCode::kInvalidArgument, "nonce is negative (-0x5)");
  ExpectError(DecodeTimestampRequest(EditedRequest(
                  base,
                  [](TS_REQ* r) {
                    X509_ALGOR_set0(TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(r)),
                                    OBJ_nid2obj(NID_sha256), V_ASN1_BOOLEAN, nullptr);
                  })),
              ErrorCode::kInvalidArgument, "must be absent or NULL");
}

// Adds a (harmless) extension to a request: RFC 3161 lets a TSA refuse any it does not
// know, and troad knows none.
void AddExtension(TS_REQ* req) {
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(value, reinterpret_cast<const unsigned char*>("\x04\x00"), 2);
  X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, NID_netscape_comment, 0, value);
  TS_REQ_add_ext(req, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(value);
}

TEST_F(TimestampTest, DecodeRefusesExtensions) {
  TimestampRequest base;
  base.imprint = imprint_;
  ExpectError(DecodeTimestampRequest(EditedRequest(base, AddExtension)),
              ErrorCode::kInvalidArgument, "carries 1 extension(s) (the first is nsComment)");
}

// ---- Round trip through our TSA ----

TEST_F(TimestampTest, RoundTripGivesWhatTheTokenSays) {
  TimestampAuthority::Options options;
  options.first_serial = 41;
  auto tsa = MakeTsa(options);
  ASSERT_NE(tsa, nullptr);
  EXPECT_EQ(tsa->last_serial(), 40u);

  uint64_t serial = 0;
  auto reply = tsa->Respond(Request(imprint_, 0x0123456789abcdef), &serial);
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_EQ(serial, 41u);
  EXPECT_EQ(tsa->last_serial(), 41u);
  auto token = ParseTimestampReply(*reply);
  ASSERT_TRUE(token) << token.error().ToString();

  auto info = VerifyTimestampToken(*token, imprint_, {*tsa_cert_}, 0x0123456789abcdef);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->imprint, imprint_);
  EXPECT_EQ(info->nonce, 0x0123456789abcdefu);
  EXPECT_EQ(info->policy, kDefaultTimestampPolicy);
  EXPECT_EQ(info->serial_hex, "29");
  EXPECT_EQ(info->gen_time, clock_.Now());  // the injected clock, to the millisecond
  EXPECT_EQ(info->tsa_certificate_sha256, tsa_cert_->Sha256Fingerprint());

  // Without a nonce to check, and read without verifying: the same fields.
  auto unchecked_nonce = VerifyTimestampToken(*token, imprint_, {*tsa_cert_});
  ASSERT_TRUE(unchecked_nonce) << unchecked_nonce.error().ToString();
  EXPECT_EQ(unchecked_nonce->nonce, 0x0123456789abcdefu);
  auto inspected = InspectTimestampToken(*token);
  ASSERT_TRUE(inspected) << inspected.error().ToString();
  EXPECT_EQ(inspected->serial_hex, "29");
  EXPECT_EQ(inspected->gen_time, info->gen_time);
  EXPECT_EQ(inspected->tsa_certificate_sha256, tsa_cert_->Sha256Fingerprint());

  // The next token: the next serial, the clock's new time.
  clock_.Advance(1500ms);
  auto second = Token(*tsa, Sha256("merkle root of batch 2"));
  auto second_info = VerifyTimestampToken(second, Sha256("merkle root of batch 2"), {*tsa_cert_});
  ASSERT_TRUE(second_info) << second_info.error().ToString();
  EXPECT_EQ(second_info->serial_hex, "2a");
  EXPECT_EQ(second_info->gen_time, clock_.Now());
  EXPECT_EQ(second_info->nonce, std::nullopt);
  EXPECT_EQ(tsa->last_serial(), 42u);
}

TEST_F(TimestampTest, GenTimeKeepsMillisecondsAndDropsWholeZeros) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  clock_.Set(NowSeconds() + 7ms);
  auto info = InspectTimestampToken(Token(*tsa, imprint_));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->gen_time, clock_.Now());
  clock_.Set(NowSeconds() + 2s);
  info = InspectTimestampToken(Token(*tsa, imprint_));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->gen_time, clock_.Now());
}

TEST_F(TimestampTest, SerialsAreUniqueAcrossThreads) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  constexpr int kThreads = 4, kEach = 20;
  std::vector<std::vector<uint64_t>> serials(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        uint64_t serial = 0;
        auto reply = tsa->Respond(Request(imprint_, static_cast<uint64_t>(i)), &serial);
        if (reply && ParseTimestampReply(*reply)) serials[t].push_back(serial);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& s : serials) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // each thread sees them increase
    all.insert(s.begin(), s.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(tsa->last_serial(), static_cast<uint64_t>(kThreads * kEach));
}

TEST_F(TimestampTest, TokenWithoutCertificateVerifiesAgainstTheGivenOne) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  std::string token = Token(*tsa, imprint_, 5, /*cert_req=*/false);
  auto inspected = InspectTimestampToken(token);
  ASSERT_TRUE(inspected) << inspected.error().ToString();
  EXPECT_EQ(inspected->tsa_certificate_sha256, "");  // it carries no certificate
  auto info = VerifyTimestampToken(token, imprint_, {*tsa_cert_}, 5);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->tsa_certificate_sha256, tsa_cert_->Sha256Fingerprint());
}

TEST_F(TimestampTest, SerialNumbersRunOut) {
  TimestampAuthority::Options options;
  options.first_serial = UINT64_MAX;
  auto tsa = MakeTsa(options);
  ASSERT_NE(tsa, nullptr);
  auto info = InspectTimestampToken(Token(*tsa, imprint_));
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->serial_hex, "ffffffffffffffff");
  EXPECT_EQ(tsa->last_serial(), UINT64_MAX);
  uint64_t serial = 1;
  auto reply = tsa->Respond(Request(imprint_, std::nullopt), &serial);
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_EQ(serial, 0u);
  ExpectError(ParseTimestampReply(*reply), ErrorCode::kUnavailable,
              "rejection: systemFailure: the TSA has used up its serial numbers");
}

TEST_F(TimestampTest, CreateRefusesUnfitCertificatesAndOptions) {
  PrivateKey signing_key = *PrivateKey::GenerateEcP256();
  auto signing_cert = IssueFor(signing_key, "member signer", clock_, 24h, CertUsage::kSigning);
  ASSERT_TRUE(signing_cert) << signing_cert.error().ToString();
  ExpectError(TimestampAuthority::Create(signing_key, *signing_cert, {}, clock_),
              ErrorCode::kInvalidArgument, "cannot sign timestamps");

  ExpectError(TimestampAuthority::Create(signing_key, *tsa_cert_, {}, clock_),
              ErrorCode::kInvalidArgument, "TSA key does not belong to certificate");

  TimestampAuthority::Options bad_policy;
  bad_policy.policy = "tsa policy";
  ExpectError(TimestampAuthority::Create(*tsa_key_, *tsa_cert_, bad_policy, clock_),
              ErrorCode::kInvalidArgument, "'tsa policy' is not a dotted OID");

  TimestampAuthority::Options zero_serial;
  zero_serial.first_serial = 0;
  ExpectError(TimestampAuthority::Create(*tsa_key_, *tsa_cert_, zero_serial, clock_),
              ErrorCode::kInvalidArgument, "serial numbers start at 1");
}

// ---- The openssl command line as the outside verifier ----

TEST_F(TimestampTest, OpensslVerifiesOurReplyAndToken) {
  TROAD_REQUIRE_OPENSSL_CLI();
  TimestampAuthority::Options options;
  options.first_serial = 0x12ab;
  auto tsa = MakeTsa(options);
  ASSERT_NE(tsa, nullptr);
  auto reply = tsa->Respond(Request(imprint_, 99));
  ASSERT_TRUE(reply) << reply.error().ToString();
  auto token = ParseTimestampReply(*reply);
  ASSERT_TRUE(token) << token.error().ToString();
  WriteCertificates();
  WriteFile(dir_.File("reply.tsr"), *reply);
  WriteFile(dir_.File("token.der"), *token);
  const std::string digest = HexEncode(imprint_);

  auto r =
      Openssl("ts -verify -digest " + digest + " -in reply.tsr -CAfile ca.pem -untrusted tsa.pem");
  EXPECT_TRUE(Contains(r.output, "Verification: OK")) << r.output;
  r = Openssl("ts -verify -digest " + digest +
              " -in token.der -token_in -CAfile ca.pem -untrusted tsa.pem");
  EXPECT_TRUE(Contains(r.output, "Verification: OK")) << r.output;
  // And it does say no: another digest.
  r = Openssl("ts -verify -digest " + HexEncode(Sha256("other")) +
              " -in reply.tsr -CAfile ca.pem -untrusted tsa.pem");
  EXPECT_TRUE(Contains(r.output, "Verification: FAILED")) << r.output;
  EXPECT_TRUE(Contains(r.output, "message imprint mismatch")) << r.output;

  r = Openssl("ts -reply -in reply.tsr -text");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "Status: Granted.")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Policy OID: 1.3.6.1.4.1.32473.1.3161")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Serial number: 0x12AB")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Nonce: 0x63")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Time stamp: " + OpensslTimeWithQuarterSecond(clock_.Now())))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "Accuracy: 0x01 seconds, unspecified millis")) << r.output;
  EXPECT_TRUE(Contains(r.output, "CN=troad TSA")) << r.output;  // the TSA name
}

TEST_F(TimestampTest, WeAnswerAnOpensslQuery) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  const std::string digest = HexEncode(imprint_);
  auto r = Openssl("ts -query -digest " + digest + " -sha256 -cert -out q.tsq");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string query = ReadFile(dir_.File("q.tsq"));
  auto decoded = DecodeTimestampRequest(query);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->imprint, imprint_);
  ASSERT_TRUE(decoded->nonce.has_value());  // openssl adds a 64-bit nonce

  auto reply = tsa->Respond(query);
  ASSERT_TRUE(reply) << reply.error().ToString();
  auto token = ParseTimestampReply(*reply);
  ASSERT_TRUE(token) << token.error().ToString();
  auto info = VerifyTimestampToken(*token, imprint_, {*tsa_cert_}, decoded->nonce);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->nonce, decoded->nonce);

  WriteCertificates();
  WriteFile(dir_.File("reply.tsr"), *reply);
  r = Openssl("ts -verify -queryfile q.tsq -in reply.tsr -CAfile ca.pem -untrusted tsa.pem");
  EXPECT_TRUE(Contains(r.output, "Verification: OK")) << r.output;
}

TEST_F(TimestampTest, WeAcceptOpensslsTsaReply) {
  TROAD_REQUIRE_OPENSSL_CLI();
  WriteCertificates();
  WriteFile(dir_.File("tsa.key"), tsa_key_->ToPem());
  WriteOpensslTsaConfig();
  WriteFile(dir_.File("q.tsq"), Request(imprint_, 0xabcdef));
  auto r = Openssl(
      "ts -reply -queryfile q.tsq -inkey tsa.key -signer tsa.pem -config tsa.cnf "
      "-out reply.tsr");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto token = ParseTimestampReply(ReadFile(dir_.File("reply.tsr")));
  ASSERT_TRUE(token) << token.error().ToString();
  auto info = VerifyTimestampToken(*token, imprint_, {*tsa_cert_}, 0xabcdef);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->policy, "1.2.3.4.1");
  EXPECT_EQ(info->serial_hex, "b");  // the serial file's 0x0a, plus one
  EXPECT_EQ(info->nonce, 0xabcdefu);
  EXPECT_EQ(info->tsa_certificate_sha256, tsa_cert_->Sha256Fingerprint());
  // OpenSSL's genTime is its own wall clock, in whole seconds.
  EXPECT_LE(std::chrono::abs(info->gen_time - std::chrono::system_clock::now()), 60s);
  EXPECT_EQ(info->gen_time, std::chrono::floor<std::chrono::seconds>(info->gen_time));

  ExpectError(VerifyTimestampToken(*token, Sha256("other"), {*tsa_cert_}, 0xabcdef),
              ErrorCode::kUnauthenticated, "not the expected");
}

TEST_F(TimestampTest, OpensslTsaRejectionIsUnavailable) {
  TROAD_REQUIRE_OPENSSL_CLI();
  WriteCertificates();
  WriteFile(dir_.File("tsa.key"), tsa_key_->ToPem());
  WriteOpensslTsaConfig();
  auto r = Openssl("ts -query -sha1 -digest " + std::string(40, 'b') + " -out q1.tsq");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Openssl(
      "ts -reply -queryfile q1.tsq -inkey tsa.key -signer tsa.pem -config tsa.cnf "
      "-out reply.tsr");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectError(ParseTimestampReply(ReadFile(dir_.File("reply.tsr"))), ErrorCode::kUnavailable,
              "rejection: badAlg: Message digest algorithm is not supported.");
}

// ---- Requests our TSA refuses ----

TEST_F(TimestampTest, RespondRejectsSha1RequestWithBadAlg) {
  TROAD_REQUIRE_OPENSSL_CLI();
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  auto r = Openssl("ts -query -sha1 -digest " + std::string(40, 'a') + " -cert -out q1.tsq");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  uint64_t serial = 1;
  auto reply = tsa->Respond(ReadFile(dir_.File("q1.tsq")), &serial);
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_EQ(serial, 0u);
  EXPECT_EQ(tsa->last_serial(), 0u);  // no serial spent on a rejection
  ExpectError(ParseTimestampReply(*reply), ErrorCode::kUnavailable,
              "rejection: badAlg: timestamp request's imprint uses hash algorithm sha1");

  // Our hand-made rejection is a TimeStampResp to OpenSSL too.
  WriteFile(dir_.File("reject.tsr"), *reply);
  r = Openssl("ts -reply -in reject.tsr -text");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "Status: Rejected.")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Failure info: unrecognized or unsupported algorithm identifier"))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "only SHA-256 is accepted")) << r.output;
}

TEST_F(TimestampTest, RespondRejectsBadRequestsWithTheRightFailureInfo) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  TimestampRequest base;
  base.imprint = imprint_;
  const std::string good = Request(imprint_, 1);
  TimestampRequest other_policy = base;
  other_policy.policy = "1.2.3.4";

  struct Case {
    std::string name;
    std::string request;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"garbage", "\x30\x03garbage", "rejection: badDataFormat: timestamp request is not a DER"},
      {"empty", "", "rejection: badDataFormat: timestamp request is empty"},
      {"truncated", good.substr(0, good.size() - 3), "rejection: badDataFormat"},
      {"trailing bytes", good + "x",
       "rejection: badDataFormat: timestamp request DER is "
       "followed by 1 unexpected bytes"},
      {"extension", EditedRequest(base, AddExtension),
       "rejection: unacceptedExtension: timestamp request carries 1 extension(s)"},
      {"policy", *EncodeTimestampRequest(other_policy),
       "rejection: unacceptedPolicy: policy 1.2.3.4 is not offered"},
      {"version", EditedRequest(base, [](TS_REQ* r) { TS_REQ_set_version(r, 3); }),
       "rejection: badDataFormat: timestamp request has version 3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    uint64_t serial = 1;
    auto reply = tsa->Respond(c.request, &serial);
    ASSERT_TRUE(reply) << reply.error().ToString();
    EXPECT_EQ(serial, 0u);
    ExpectError(ParseTimestampReply(*reply), ErrorCode::kUnavailable, c.expected);
  }
  EXPECT_EQ(tsa->last_serial(), 0u);

  // The TSA's own policy, asked for by name, is fine.
  TimestampRequest own_policy = base;
  own_policy.policy = std::string(kDefaultTimestampPolicy);
  auto reply = tsa->Respond(*EncodeTimestampRequest(own_policy));
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_TRUE(ParseTimestampReply(*reply));
}

TEST_F(TimestampTest, RespondNeverFailsOnArbitraryBytes) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  const std::string good = Request(imprint_, 1);
  // Every single-byte corruption of a valid request: each answer is a TimeStampResp.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto reply = tsa->Respond(bad);
    ASSERT_TRUE(reply) << "byte " << i << ": " << reply.error().ToString();
    auto token = ParseTimestampReply(*reply);
    if (!token) {
      EXPECT_EQ(token.error().code(), ErrorCode::kUnavailable) << "byte " << i;
    }
  }
}

// ---- Tokens VerifyTimestampToken refuses ----

TEST_F(TimestampTest, WrongImprintOrNonceIsRefused) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  std::string token = Token(*tsa, imprint_, 1234);
  ExpectError(VerifyTimestampToken(token, Sha256("another batch"), {*tsa_cert_}, 1234),
              ErrorCode::kUnauthenticated,
              "timestamp token is for imprint " + HexEncode(imprint_) + ", not the expected " +
                  HexEncode(Sha256("another batch")));
  ExpectError(VerifyTimestampToken(token, imprint_, {*tsa_cert_}, 1235),
              ErrorCode::kUnauthenticated,
              "timestamp token's nonce 1234 does not match the request's 1235");
  std::string without_nonce = Token(*tsa, imprint_);
  ExpectError(VerifyTimestampToken(without_nonce, imprint_, {*tsa_cert_}, 1234),
              ErrorCode::kUnauthenticated, "carries no nonce; the request's was 1234");
}

TEST_F(TimestampTest, TokenFromAnotherTsaIsRefused) {
  PrivateKey rogue_key = *PrivateKey::GenerateEcP256();
  auto rogue_cert = IssueFor(rogue_key, "rogue TSA", clock_, 24h * 30);
  ASSERT_TRUE(rogue_cert) << rogue_cert.error().ToString();
  auto rogue = TimestampAuthority::Create(rogue_key, *rogue_cert, {}, clock_);
  ASSERT_TRUE(rogue) << rogue.error().ToString();

  std::string carried = Token(**rogue, imprint_);
  ExpectError(VerifyTimestampToken(carried, imprint_, {*tsa_cert_}), ErrorCode::kUnauthenticated,
              "signed by CN=rogue TSA,O=MODA,C=TW (certificate SHA-256 " +
                  rogue_cert->Sha256Fingerprint() + "), which is not one of the 1 trusted");
  std::string bare = Token(**rogue, imprint_, std::nullopt, /*cert_req=*/false);
  ExpectError(VerifyTimestampToken(bare, imprint_, {*tsa_cert_}), ErrorCode::kUnauthenticated,
              "does not carry its certificate");
  // The issuing CA is no stand-in for the TSA certificate itself.
  ExpectError(VerifyTimestampToken(carried, imprint_, {*ca_}), ErrorCode::kUnauthenticated,
              "not one of the 1 trusted");
  // Trusting both is fine, and the right one is named.
  auto info = VerifyTimestampToken(carried, imprint_, {*tsa_cert_, *rogue_cert});
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->tsa_certificate_sha256, rogue_cert->Sha256Fingerprint());

  ExpectError(VerifyTimestampToken(carried, imprint_, {}), ErrorCode::kInvalidArgument,
              "no trusted TSA certificates");
}

TEST_F(TimestampTest, TokenSignedWithoutTimestampingEkuIsRefused) {
  TROAD_REQUIRE_OPENSSL_CLI();
  // No TSA of ours or OpenSSL's signs with such a certificate, so the TSTInfo of a good
  // token is signed again with `openssl cms` (with the ESS signingCertificateV2 attribute
  // a token needs: -cades), once by the TSA certificate — which must verify, to show
  // the construction is sound — and once by a signing certificate without the EKU.
  PrivateKey signer_key = *PrivateKey::GenerateEcP256();
  auto signer_cert = IssueFor(signer_key, "member signer", clock_, 24h * 30, CertUsage::kSigning);
  ASSERT_TRUE(signer_cert) << signer_cert.error().ToString();
  EXPECT_FALSE(signer_cert->IsTimestampingCertificate());
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  WriteFile(dir_.File("tstinfo.der"), TstInfoDer(Token(*tsa, imprint_)));
  WriteCertificates();
  WriteFile(dir_.File("tsa.key"), tsa_key_->ToPem());
  WriteFile(dir_.File("signer.pem"), signer_cert->ToPem());
  WriteFile(dir_.File("signer.key"), signer_key.ToPem());
  const std::string cms =
      "cms -sign -binary -nodetach -nosmimecap -cades -md sha256 -outform DER "
      "-econtent_type 1.2.840.113549.1.9.16.1.4 -in tstinfo.der ";

  auto r = Openssl(cms + "-signer tsa.pem -inkey tsa.key -out resigned.der");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto control = VerifyTimestampToken(ReadFile(dir_.File("resigned.der")), imprint_, {*tsa_cert_});
  ASSERT_TRUE(control) << control.error().ToString();

  r = Openssl(cms + "-signer signer.pem -inkey signer.key -out token.der");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectError(VerifyTimestampToken(ReadFile(dir_.File("token.der")), imprint_, {*signer_cert}),
              ErrorCode::kUnauthenticated,
              "certificate CN=member signer,O=MODA,C=TW may not sign timestamps: it lacks the "
              "critical timeStamping extendedKeyUsage");
}

TEST_F(TimestampTest, TamperedTokenIsRefused) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  const std::string token = Token(*tsa, imprint_);

  // A second off genTime (still within the certificate's validity). It still parses,
  // and says so...
  const std::string digits = GeneralizedTimeDigits(clock_.Now());
  const size_t at = token.find(digits);
  ASSERT_NE(at, std::string::npos);
  std::string backdated = token;
  char& last = backdated[at + 13];
  last = static_cast<char>(last == '0' ? '1' : last - 1);
  auto inspected = InspectTimestampToken(backdated);
  ASSERT_TRUE(inspected) << inspected.error().ToString();
  EXPECT_NE(inspected->gen_time, clock_.Now());
  // ... but the signature no longer matches.
  ExpectError(VerifyTimestampToken(backdated, imprint_, {*tsa_cert_}), ErrorCode::kUnauthenticated,
              "signature by CN=troad TSA,O=MODA,C=TW does not verify");

  // The signature itself altered (its last byte).
  std::string bad_signature = token;
  bad_signature.back() = static_cast<char>(bad_signature.back() ^ 0x01);
  ExpectError(VerifyTimestampToken(bad_signature, imprint_, {*tsa_cert_}),
              ErrorCode::kUnauthenticated, "does not verify");

  // Whatever single byte is changed, the token never verifies as another valid one.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    auto info = VerifyTimestampToken(bad, imprint_, {*tsa_cert_});
    if (info) {
      // Only bytes outside what is signed can change unnoticed (such as the SignedData
      // version); then every field must still be the original's.
      auto original = VerifyTimestampToken(token, imprint_, {*tsa_cert_});
      ASSERT_TRUE(original);
      EXPECT_EQ(info->gen_time, original->gen_time) << "byte " << i;
      EXPECT_EQ(info->serial_hex, original->serial_hex) << "byte " << i;
      EXPECT_EQ(info->policy, original->policy) << "byte " << i;
      EXPECT_EQ(info->tsa_certificate_sha256, original->tsa_certificate_sha256) << "byte " << i;
    } else {
      EXPECT_TRUE(info.error().code() == ErrorCode::kUnauthenticated ||
                  info.error().code() == ErrorCode::kInvalidArgument)
          << "byte " << i << ": " << info.error().ToString();
    }
  }
}

TEST_F(TimestampTest, MalformedTokensAndRepliesAreInvalidArgument) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  auto reply = tsa->Respond(Request(imprint_, 3));
  ASSERT_TRUE(reply) << reply.error().ToString();
  const std::string token = *ParseTimestampReply(*reply);

  ExpectError(VerifyTimestampToken(token.substr(0, token.size() - 1), imprint_, {*tsa_cert_}),
              ErrorCode::kInvalidArgument, "not a DER CMS ContentInfo");
  ExpectError(VerifyTimestampToken(token.substr(0, 40), imprint_, {*tsa_cert_}),
              ErrorCode::kInvalidArgument, "not a DER CMS ContentInfo");
  ExpectError(VerifyTimestampToken(token + std::string(1, '\0'), imprint_, {*tsa_cert_}),
              ErrorCode::kInvalidArgument, "followed by 1 unexpected bytes");
  ExpectError(VerifyTimestampToken("not a token at all", imprint_, {*tsa_cert_}),
              ErrorCode::kInvalidArgument, "not a DER CMS ContentInfo");
  ExpectError(VerifyTimestampToken("", imprint_, {*tsa_cert_}), ErrorCode::kInvalidArgument,
              "empty");
  ExpectError(InspectTimestampToken(token.substr(1)), ErrorCode::kInvalidArgument,
              "not a DER CMS ContentInfo");
  // A reply is not a token, nor a token a reply.
  ExpectError(VerifyTimestampToken(*reply, imprint_, {*tsa_cert_}), ErrorCode::kInvalidArgument,
              "not a DER CMS ContentInfo");
  ExpectError(ParseTimestampReply(token), ErrorCode::kInvalidArgument, "not a DER TimeStampResp");

  ExpectError(ParseTimestampReply(reply->substr(0, reply->size() - 1)), ErrorCode::kInvalidArgument,
              "not a DER TimeStampResp");
  ExpectError(ParseTimestampReply(*reply + "\x01"), ErrorCode::kInvalidArgument,
              "followed by 1 unexpected bytes");
  ExpectError(ParseTimestampReply("garbage"), ErrorCode::kInvalidArgument,
              "not a DER TimeStampResp");
  ExpectError(ParseTimestampReply(""), ErrorCode::kInvalidArgument, "empty");
}

// ---- genTime and the TSA certificate's validity ----

TEST_F(TimestampTest, RespondRefusesOutsideItsCertificateValidity) {
  auto tsa = MakeTsa();
  ASSERT_NE(tsa, nullptr);
  clock_.Set(tsa_cert_->NotAfter() + 1s);
  uint64_t serial = 1;
  auto reply = tsa->Respond(Request(imprint_, 1), &serial);
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_EQ(serial, 0u);
  ExpectError(ParseTimestampReply(*reply), ErrorCode::kUnavailable,
              "rejection: systemFailure: the TSA cannot timestamp now (" +
                  FormatRfc3339(clock_.Now()) + "): its certificate is valid from");
  clock_.Set(tsa_cert_->NotBefore() - 1ms);
  reply = tsa->Respond(Request(imprint_, 1), &serial);
  ASSERT_TRUE(reply) << reply.error().ToString();
  ExpectError(ParseTimestampReply(*reply), ErrorCode::kUnavailable, "systemFailure");
  EXPECT_EQ(tsa->last_serial(), 0u);
}

TEST_F(TimestampTest, GenTimeOutsideTheCertificatesValidityIsRefused) {
  TROAD_REQUIRE_OPENSSL_CLI();
  // OpenSSL's TSA stamps its wall clock, whatever its certificate says: one certificate
  // expired a week ago, one valid from tomorrow.
  FakeClock past(NowSeconds() - 24h * 10);
  FakeClock future(NowSeconds() + 24h);
  PrivateKey key = *PrivateKey::GenerateEcP256();
  auto expired = IssueFor(key, "expired TSA", past, 24h * 3);
  auto not_yet = IssueFor(key, "future TSA", future, 24h * 3);
  ASSERT_TRUE(expired && not_yet);
  WriteFile(dir_.File("tsa.key"), key.ToPem());
  WriteFile(dir_.File("expired.pem"), expired->ToPem());
  WriteFile(dir_.File("future.pem"), not_yet->ToPem());
  WriteOpensslTsaConfig();
  WriteFile(dir_.File("q.tsq"), Request(imprint_, std::nullopt));

  for (const auto& [file, cert] : {std::pair{"expired.pem", *expired}, {"future.pem", *not_yet}}) {
    SCOPED_TRACE(file);
    auto r = Openssl("ts -reply -queryfile q.tsq -inkey tsa.key -signer " + std::string(file) +
                     " -config tsa.cnf -out reply.tsr");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto token = ParseTimestampReply(ReadFile(dir_.File("reply.tsr")));
    ASSERT_TRUE(token) << token.error().ToString();
    ExpectError(VerifyTimestampToken(*token, imprint_, {cert}), ErrorCode::kUnauthenticated,
                "is outside the validity of TSA certificate " + cert.Subject());
  }
}

TEST_F(TimestampTest, ValidityIsJudgedAtGenTimeNotNow) {
  // A token made while its certificate was valid still verifies after it expired:
  // `troad verify-log` re-checks old tokens.
  FakeClock then(NowSeconds() - 24h * 10);
  PrivateKey key = *PrivateKey::GenerateEcP256();
  auto old_cert = IssueFor(key, "old TSA", then, 24h * 3);
  ASSERT_TRUE(old_cert) << old_cert.error().ToString();
  ASSERT_LT(old_cert->NotAfter(), std::chrono::system_clock::now());
  then.Advance(24h);
  auto old_tsa = TimestampAuthority::Create(key, *old_cert, {}, then);
  ASSERT_TRUE(old_tsa) << old_tsa.error().ToString();
  auto info = VerifyTimestampToken(Token(**old_tsa, imprint_), imprint_, {*old_cert});
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->gen_time, then.Now());
}

}  // namespace
}  // namespace troad::crypto
