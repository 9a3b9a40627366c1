#include "identity/ocsp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "core/subprocess.h"
#include "crypto/test_util.h"
#include "crypto/x509.h"
#include "http/types.h"

namespace troad::identity {
namespace {

using crypto::testutil::ReadFile;
using crypto::testutil::RunCommand;
using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;
using namespace std::chrono_literals;

using crypto::testutil::ExpectError;
using crypto::testutil::OpensslCaTime;

SystemTime FromUnixSeconds(int64_t s) {
  return std::chrono::system_clock::from_time_t(static_cast<std::time_t>(s));
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Certificates' extensions, one section each, for `openssl ca -extfile`.
constexpr std::string_view kExtensions = R"([ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[citizen]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
[citizen_aia]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
authorityInfoAccess = OCSP;URI:{aia}
[responder]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[no_eku]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
)";

// A CA database for `openssl ca`: random serials, any subject.
std::string CaConfig(const std::string& database) {
  return "[ca]\ndefault_ca = d\n[d]\ndatabase = " + database +
         "\nnew_certs_dir = issued\nrand_serial = yes\ndefault_md = sha256\npolicy = any\n"
         "unique_subject = no\n[any]\ncommonName = supplied\n";
}

// A citizen PKI like MOICA's, made the way a CA operator would with `openssl ca`: a root,
// the issuing CA under it (the issuer OCSP is about; a trust anchor though not
// self-signed), citizens' certificates, a delegated OCSP responder, a certificate of the
// issuer without OCSPSigning, and an unrelated CA. Built once: tests share it.
struct Pki {
  std::unique_ptr<TempDir> dir;
  uint16_t port = 0;         // the leaf's AIA OCSP URL: where OcspResponderTest listens
  SystemTime revoked_after;  // `revoked` was revoked between these two times
  SystemTime revoked_before;
  std::string ca, leaf, revoked, unknown, other_ca;  // DER
  std::string aia_url;                               // the leaf's
};

class OcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TROAD_REQUIRE_OPENSSL_CLI();
    if (pki_ == nullptr) {
      std::string error;
      pki_ = BuildPki(&error);
      ASSERT_NE(pki_, nullptr) << error;
    }
  }

  static std::unique_ptr<Pki> BuildPki(std::string* error) {
    auto pki = std::make_unique<Pki>();
    pki->dir = std::make_unique<TempDir>();
    auto port = PickFreePort();
    if (!port) {
      *error = port.error().ToString();
      return nullptr;
    }
    pki->port = *port;
    pki->aia_url = "http://127.0.0.1:" + std::to_string(pki->port) + "/ocsp";
    const std::string d = pki->dir->path().string();
    auto run = [&](const std::string& command) {
      auto r = RunCommand(*pki->dir, "cd " + d + " && " + command);
      if (r.exit_code != 0) *error += command + " failed: " + r.output;
      return r.exit_code == 0;
    };
    std::string extensions(kExtensions);
    extensions.replace(extensions.find("{aia}"), 5, pki->aia_url);
    WriteFile(d + "/ext.cnf", extensions);
    WriteFile(d + "/root.cnf", CaConfig("root-index.txt"));
    WriteFile(d + "/ca.cnf", CaConfig("index.txt"));
    WriteFile(d + "/root-index.txt", "");
    WriteFile(d + "/index.txt", "");
    std::filesystem::create_directories(d + "/issued");

    // Backdated, so that answers can be judged before they were made (the responder's
    // certificate must be valid then).
    const SystemTime t0 = crypto::testutil::NowSeconds();
    const std::string validity = " -startdate " + OpensslCaTime(t0 - 24h * 30) + " -enddate " +
                                 OpensslCaTime(t0 + 24h * 365);
    auto key_and_csr = [&](const std::string& name, const std::string& cn) {
      return run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + name +
                 ".key && openssl req -utf8 -new -key " + name + ".key -subj '/CN=" + cn +
                 "' -out " + name + ".csr");
    };
    auto issue = [&](const std::string& name, const std::string& cn,
                     const std::string& extensions_section) {
      return key_and_csr(name, cn) &&
             run("openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -batch -notext -in " +
                 name + ".csr -out " + name + ".pem -extfile ext.cnf -extensions " +
                 extensions_section + validity);
    };
    if (!key_and_csr("root", "Test GRCA") ||
        !run("openssl ca -config root.cnf -selfsign -keyfile root.key -batch -notext -in root.csr "
             "-out root.pem -extfile ext.cnf -extensions ca" +
             validity) ||
        !key_and_csr("ca", "Test MOICA") ||
        !run("openssl ca -config root.cnf -cert root.pem -keyfile root.key -batch -notext -in "
             "ca.csr -out ca.pem -extfile ext.cnf -extensions ca" +
             validity) ||
        !issue("leaf", "王小明", "citizen_aia") || !issue("revoked", "李小華", "citizen") ||
        !issue("responder", "Test MOICA OCSP", "responder") ||
        !issue("noeku", "Test MOICA TSA", "no_eku")) {
      return nullptr;
    }
    pki->revoked_after = crypto::testutil::NowSeconds();
    if (!run("openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem "
             "-crl_reason keyCompromise")) {
      return nullptr;
    }
    pki->revoked_before = crypto::testutil::NowSeconds() + 1s;
    // Issued by the CA, but not recorded in its database: the responder does not know it.
    if (!key_and_csr("unknown", "陳小明") ||
        !run("openssl x509 -req -in unknown.csr -CA ca.pem -CAkey ca.key -days 30 -extfile "
             "ext.cnf -extensions citizen -out unknown.pem") ||
        !key_and_csr("other", "Another CA") ||
        !run("openssl x509 -req -in other.csr -signkey other.key -days 30 -extfile ext.cnf "
             "-extensions ca -out other.pem")) {
      return nullptr;
    }
    auto der = [&](const std::string& name) {
      auto cert = crypto::Certificate::FromPem(ReadFile(d + "/" + name + ".pem"));
      if (!cert) *error += name + ".pem: " + cert.error().ToString();
      return cert ? cert->ToDer() : std::string();
    };
    pki->ca = der("ca");
    pki->leaf = der("leaf");
    pki->revoked = der("revoked");
    pki->unknown = der("unknown");
    pki->other_ca = der("other");
    if (!error->empty()) return nullptr;
    return pki;
  }

  const Pki& pki() const { return *pki_; }
  std::string File(const std::string& name) const { return pki_->dir->File(name); }
  static SystemTime Now() { return crypto::testutil::NowSeconds(); }

  // Options for offline tests: a responder URL that is never asked.
  static OcspOptions Offline(bool nonce = true) {
    OcspOptions options;
    options.responder_url = "http://127.0.0.1:9/ocsp";
    options.nonce = nonce;
    return options;
  }

  static OcspRequest Request(const std::string& certificate, bool nonce = true) {
    auto request = MakeOcspRequest(certificate, pki_->ca, Offline(nonce));
    EXPECT_TRUE(request.has_value()) << request.error().ToString();
    return request.value_or(OcspRequest{});
  }

  // What `openssl ocsp`, the responder, answers to `request` from the CA's index.txt,
  // signed with `signer`.pem/.key; `extra` adds options (-nmin 60: nextUpdate in an hour).
  std::string Respond(const OcspRequest& request, const std::string& signer,
                      const std::string& extra = "-nmin 60") {
    WriteFile(File("req.der"), request.der);
    std::remove(File("resp.der").c_str());
    const std::string command = "cd " + pki_->dir->path().string() +
                                " && openssl ocsp -index index.txt -CA ca.pem -rsigner " + signer +
                                ".pem -rkey " + signer + ".key " + extra +
                                " -reqin req.der -respout resp.der";
    auto r = RunCommand(*pki_->dir, command);
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.output;
    return ReadFile(File("resp.der"));
  }

  static inline std::unique_ptr<Pki> pki_;
};

// ---- Requests ----

TEST_F(OcspTest, RequestGoesToTheCertificatesAiaUrl) {
  auto request = MakeOcspRequest(pki().leaf, pki().ca, OcspOptions{});
  ASSERT_TRUE(request.has_value()) << request.error().ToString();
  EXPECT_EQ(request->url, pki().aia_url);
  EXPECT_EQ(request->nonce.size(), kOcspNonceBytes);
}

TEST_F(OcspTest, ConfiguredResponderUrlWinsOverAia) {
  OcspOptions options;
  options.responder_url = "http://ocsp-relay.internal:8080/moica";
  auto request = MakeOcspRequest(pki().leaf, pki().ca, options);
  ASSERT_TRUE(request.has_value()) << request.error().ToString();
  EXPECT_EQ(request->url, options.responder_url);
}

TEST_F(OcspTest, CertificateWithoutAiaNeedsAConfiguredUrl) {
  auto request = MakeOcspRequest(pki().revoked, pki().ca, OcspOptions{});
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(request.error().message().find("names no OCSP responder"), std::string::npos)
      << request.error().message();
  EXPECT_NE(request.error().message().find("no responder URL is configured"), std::string::npos)
      << request.error().message();
}

TEST_F(OcspTest, OpensslReadsTheRequestAsOneForTheLeafWithOurNonce) {
  // Cross-check with an outside parser: the serial and the nonce are where RFC 6960 has them.
  const OcspRequest request = Request(pki().leaf);
  WriteFile(File("ours.der"), request.der);
  auto text = RunCommand(*pki().dir, "openssl ocsp -reqin " + File("ours.der") + " -req_text");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  auto serial = RunCommand(*pki().dir, "openssl x509 -noout -serial -in " + File("leaf.pem"));
  ASSERT_EQ(serial.exit_code, 0) << serial.output;
  ASSERT_TRUE(serial.output.starts_with("serial=")) << serial.output;
  const std::string hex = serial.output.substr(7, serial.output.find('\n') - 7);
  EXPECT_NE(text.output.find("Serial Number: " + hex + "\n"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Hash Algorithm: sha1"), std::string::npos) << text.output;
  // The nonce extension holds an OCTET STRING (04, length 0x20) of our bytes.
  EXPECT_NE(text.output.find("0420" + Upper(HexEncode(request.nonce))), std::string::npos)
      << text.output;

  WriteFile(File("ours.der"), Request(pki().leaf, /*nonce=*/false).der);
  text = RunCommand(*pki().dir, "openssl ocsp -reqin " + File("ours.der") + " -req_text");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_EQ(text.output.find("Nonce"), std::string::npos) << text.output;
}

TEST_F(OcspTest, RequestRefusesBadCertificates) {
  auto wrong_issuer = MakeOcspRequest(pki().leaf, pki().other_ca, Offline());
  ASSERT_FALSE(wrong_issuer.has_value());
  EXPECT_EQ(wrong_issuer.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_issuer.error().message().find("was not issued by CN=Another CA: its issuer is "
                                                "CN=Test MOICA"),
            std::string::npos)
      << wrong_issuer.error().message();

  auto garbage = MakeOcspRequest("not a certificate", pki().ca, Offline());
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(garbage.error().message().find("the certificate to check"), std::string::npos)
      << garbage.error().message();

  auto bad_issuer = MakeOcspRequest(pki().leaf, "", Offline());
  ASSERT_FALSE(bad_issuer.has_value());
  EXPECT_EQ(bad_issuer.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_issuer.error().message().find("the issuer's certificate"), std::string::npos)
      << bad_issuer.error().message();
}

// ---- Answers ----

TEST_F(OcspTest, DelegatedRespondersGoodAnswerIsAccepted) {
  const OcspRequest request = Request(pki().leaf);
  const SystemTime before = Now();
  auto answer = CheckOcspResponse(Respond(request, "responder"), request, pki().leaf, pki().ca,
                                  Now(), Offline());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kGood);
  EXPECT_EQ(answer->detail, "good");
  EXPECT_GE(FromUnixSeconds(answer->this_update), before);
  EXPECT_EQ(answer->next_update - answer->this_update, 3600);  // -nmin 60
}

TEST_F(OcspTest, AnswerSignedByTheIssuerItselfIsAccepted) {
  // Without the signer's certificate in the response: the issuer is known already.
  const OcspRequest request = Request(pki().leaf);
  auto answer = CheckOcspResponse(Respond(request, "ca", "-nmin 60 -resp_no_certs"), request,
                                  pki().leaf, pki().ca, Now(), Offline());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kGood);
}

TEST_F(OcspTest, RevokedCertificateIsAnAnswerWithTimeAndReason) {
  const OcspRequest request = Request(pki().revoked);
  auto answer = CheckOcspResponse(Respond(request, "responder"), request, pki().revoked, pki().ca,
                                  Now(), Offline());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kRevoked);
  ASSERT_TRUE(answer->detail.starts_with("revoked at ")) << answer->detail;
  EXPECT_TRUE(answer->detail.ends_with(" (keyCompromise)")) << answer->detail;
  const std::string at = answer->detail.substr(11, answer->detail.size() - 11 - 16);
  auto revoked_at = ParseRfc3339(at);
  ASSERT_TRUE(revoked_at.has_value()) << at;
  EXPECT_GE(*revoked_at, pki().revoked_after);
  EXPECT_LE(*revoked_at, pki().revoked_before);
}

TEST_F(OcspTest, AnswerSignedByAnUnrelatedCaIsRefused) {
  const OcspRequest request = Request(pki().revoked);
  ExpectError(CheckOcspResponse(Respond(request, "other"), request, pki().revoked, pki().ca, Now(),
                                Offline()),
              ErrorCode::kUnauthenticated,
              "signed by CN=Another CA, which is neither the issuer CN=Test MOICA nor a responder "
              "certificate it issued");
  ExpectError(CheckOcspResponse(Respond(request, "other"), request, pki().revoked, pki().ca, Now(),
                                Offline()),
              ErrorCode::kUnauthenticated, "(Verify error: self-signed certificate)");
}

TEST_F(OcspTest, IssuersCertificateWithoutOcspSigningIsRefused) {
  const OcspRequest request = Request(pki().revoked);
  ExpectError(CheckOcspResponse(Respond(request, "noeku"), request, pki().revoked, pki().ca, Now(),
                                Offline()),
              ErrorCode::kUnauthenticated,
              "signed by CN=Test MOICA TSA, a certificate of CN=Test MOICA without "
              "extendedKeyUsage OCSPSigning");
}

TEST_F(OcspTest, AlteredSignatureIsRefused) {
  // Signed by the issuer, without certificates: the ECDSA signature is the last field.
  const OcspRequest request = Request(pki().revoked);
  std::string response = Respond(request, "ca", "-nmin 60 -resp_no_certs");
  ASSERT_FALSE(response.empty());
  response.back() = static_cast<char>(response.back() ^ 0x01);
  ExpectError(CheckOcspResponse(response, request, pki().revoked, pki().ca, Now(), Offline()),
              ErrorCode::kUnauthenticated,
              "the OCSP response's signature does not verify with the key of CN=Test MOICA");
}

TEST_F(OcspTest, AnswerToAnotherRequestIsRefusedByItsNonce) {
  const OcspRequest ours = Request(pki().revoked);
  const OcspRequest theirs = Request(pki().revoked);
  ASSERT_NE(ours.nonce, theirs.nonce);
  ExpectError(CheckOcspResponse(Respond(theirs, "responder"), ours, pki().revoked, pki().ca, Now(),
                                Offline()),
              ErrorCode::kUnauthenticated, "the OCSP response's nonce is not the request's");
}

TEST_F(OcspTest, AnswerWithoutNonceCountsOnlyWhenNoncesAreOff) {
  // A responder that ignores nonces answers a request without one just the same.
  const OcspRequest with_nonce = Request(pki().revoked);
  const OcspRequest without = Request(pki().revoked, /*nonce=*/false);
  const std::string response = Respond(without, "responder");
  ExpectError(CheckOcspResponse(response, with_nonce, pki().revoked, pki().ca, Now(), Offline()),
              ErrorCode::kUnauthenticated, "the OCSP response carries no nonce");
  auto answer =
      CheckOcspResponse(response, without, pki().revoked, pki().ca, Now(), Offline(false));
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kRevoked);
  // Options asking for nonces with a request made without: a mistake of ours, said so.
  ExpectError(CheckOcspResponse(response, without, pki().revoked, pki().ca, Now(), Offline()),
              ErrorCode::kInvalidArgument, "the OCSP request carries no nonce");
}

TEST_F(OcspTest, AnswerIsJudgedAtTheInjectedTime) {
  const OcspRequest request = Request(pki().leaf);
  const std::string response = Respond(request, "responder");
  const OcspOptions options = Offline();
  auto answer = CheckOcspResponse(response, request, pki().leaf, pki().ca, Now(), options);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  const SystemTime this_update = FromUnixSeconds(answer->this_update);
  const SystemTime next_update = FromUnixSeconds(answer->next_update);

  // Fresh until nextUpdate, plus the allowed clock skew.
  EXPECT_TRUE(CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                next_update + options.max_skew, options)
                  .has_value());
  auto stale = CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                 next_update + options.max_skew + 1s, options);
  ExpectError(stale, ErrorCode::kFailedPrecondition, "the OCSP answer is out of date");
  ExpectError(stale, ErrorCode::kFailedPrecondition,
              "its nextUpdate was " + FormatRfc3339(next_update));

  // Made after `now`, beyond the skew: one of the clocks is wrong.
  EXPECT_TRUE(CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                this_update - options.max_skew, options)
                  .has_value());
  ExpectError(CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                this_update - options.max_skew - 1s, options),
              ErrorCode::kFailedPrecondition, "the OCSP answer is not yet valid");
}

TEST_F(OcspTest, AnswerWithoutNextUpdateIsFreshForMaxAge) {
  const OcspRequest request = Request(pki().leaf);
  const std::string response = Respond(request, "responder", "");
  OcspOptions options = Offline();
  options.max_age = 2h;
  auto answer = CheckOcspResponse(response, request, pki().leaf, pki().ca, Now(), options);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->next_update, 0);
  const SystemTime this_update = FromUnixSeconds(answer->this_update);
  EXPECT_TRUE(CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                this_update + options.max_age + options.max_skew, options)
                  .has_value());
  ExpectError(CheckOcspResponse(response, request, pki().leaf, pki().ca,
                                this_update + options.max_age + options.max_skew + 1s, options),
              ErrorCode::kFailedPrecondition, "it has no nextUpdate");
}

TEST_F(OcspTest, AnswerAboutAnotherCertificateIsRefused) {
  // Without nonces, nothing else ties the answer to the question.
  const OcspRequest ours = Request(pki().leaf, /*nonce=*/false);
  const OcspRequest theirs = Request(pki().unknown, /*nonce=*/false);
  ExpectError(CheckOcspResponse(Respond(theirs, "responder"), ours, pki().leaf, pki().ca, Now(),
                                Offline(false)),
              ErrorCode::kUnauthenticated, "the OCSP response has no answer for certificate");
}

TEST_F(OcspTest, RequestMustBeAboutTheCertificateChecked) {
  const OcspRequest request = Request(pki().leaf);
  ExpectError(CheckOcspResponse(Respond(request, "responder"), request, pki().revoked, pki().ca,
                                Now(), Offline()),
              ErrorCode::kInvalidArgument, "the OCSP request is not about certificate");
}

TEST_F(OcspTest, UnparsableResponseIsDataLoss) {
  const OcspRequest request = Request(pki().leaf);
  auto check = [&](std::string_view response) {
    return CheckOcspResponse(response, request, pki().leaf, pki().ca, Now(), Offline());
  };
  ExpectError(check(""), ErrorCode::kDataLoss, "the OCSP response is empty");
  ExpectError(check("<html>Service Unavailable</html>"), ErrorCode::kDataLoss,
              "not a DER OCSPResponse");
  ExpectError(check(std::string("\x30\x03\x02\x01\x01", 5)), ErrorCode::kDataLoss,
              "not a DER OCSPResponse");
  ExpectError(check(Respond(request, "responder") + "x"), ErrorCode::kDataLoss,
              "followed by 1 unexpected bytes");
  ExpectError(check(std::string(kMaxOcspResponseBytes + 1, '\x30')), ErrorCode::kDataLoss,
              "more than the 65536 accepted");
}

TEST_F(OcspTest, UnsuccessfulResponseStatusesAreNotAnswers) {
  // RFC 6960 §4.2.1: an unsuccessful OCSPResponse is the status alone, unsigned:
  // SEQUENCE { ENUMERATED n }.
  const OcspRequest request = Request(pki().leaf);
  auto status = [&](char n) {
    const std::string der = {'\x30', '\x03', '\x0a', '\x01', n};
    return CheckOcspResponse(der, request, pki().leaf, pki().ca, Now(), Offline());
  };
  ExpectError(status(3), ErrorCode::kUnavailable, "responseStatus tryLater");
  ExpectError(status(2), ErrorCode::kUnavailable, "responseStatus internalError");
  ExpectError(status(1), ErrorCode::kFailedPrecondition, "responseStatus malformedRequest");
  ExpectError(status(6), ErrorCode::kFailedPrecondition, "responseStatus unauthorized");
  ExpectError(status(5), ErrorCode::kFailedPrecondition, "responseStatus sigRequired");
  ExpectError(status(4), ErrorCode::kDataLoss, "which RFC 6960 does not define");
}

TEST_F(OcspTest, HttpsResponderIsRefused) {
  OcspOptions options;
  options.responder_url = "https://127.0.0.1:1/ocsp";
  ExpectError(QueryOcsp(pki().leaf, pki().ca, options, Now()), ErrorCode::kInvalidArgument,
              "is https");
}

// ---- A real responder ----

// `openssl ocsp` answering HTTP POSTs on 127.0.0.1 only. Its own -port mode listens on
// every interface (OpenSSL 3.0 binds "[::]:port"), so the test listens on loopback itself
// and hands each request to the same responder without its socket: a child
// `openssl ocsp -reqin -respout` per request, started and reaped by PID.
class LoopbackOcspResponder {
 public:
  struct Seen {
    std::string method, target, content_type, accept;
  };

  LoopbackOcspResponder(const TempDir& dir, uint16_t port, std::vector<std::string> argv)
      : dir_(dir), argv_(std::move(argv)), acceptor_(io_) {
    namespace asio = boost::asio;
    const http::tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error_ = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + ec.message();
      return;
    }
    endpoint_ = endpoint;
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackOcspResponder() { Stop(); }

  const std::string& error() const { return error_; }

  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    boost::system::error_code ec;
    http::tcp::socket wake(io_);
    wake.connect(endpoint_, ec);  // unblocks accept
    thread_.join();
    acceptor_.close(ec);
  }

  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void Serve() {
    namespace bhttp = http::bhttp;
    for (int n = 0;; ++n) {
      http::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_ || ec) return;
      http::beast::flat_buffer buffer;
      http::Request req;
      bhttp::read(socket, buffer, req, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mu_);
        seen_.push_back({std::string(req.method_string()), std::string(req.target()),
                         std::string(req[bhttp::field::content_type]),
                         std::string(req[bhttp::field::accept])});
      }
      const std::string in = dir_.File("served-req-" + std::to_string(n) + ".der");
      const std::string out = dir_.File("served-resp-" + std::to_string(n) + ".der");
      std::ofstream(in, std::ios::binary) << req.body();
      std::vector<std::string> argv = argv_;
      argv.insert(argv.end(), {"-reqin", in, "-respout", out});
      auto child = Subprocess::Start(argv, dir_.File("responder.log"));
      if (child && child->Wait(std::chrono::seconds(30)) == -1) child->Kill();
      const std::string body = ReadFile(out);
      http::Response res =
          body.empty() ? http::MakeResponse(500, "openssl ocsp failed", "text/plain", 11, false)
                       : http::MakeResponse(200, body, kOcspResponseContentType, 11, false);
      bhttp::write(socket, res, ec);
      socket.shutdown(http::tcp::socket::shutdown_both, ec);
    }
  }

  const TempDir& dir_;
  const std::vector<std::string> argv_;
  boost::asio::io_context io_;
  http::tcp::acceptor acceptor_;
  http::tcp::endpoint endpoint_;
  std::string error_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

class OcspResponderTest : public OcspTest {
 protected:
  void SetUp() override {
    OcspTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string d = pki().dir->path().string() + "/";
    responder_ = std::make_unique<LoopbackOcspResponder>(
        *pki().dir, pki().port,
        std::vector<std::string>{"openssl", "ocsp", "-index", d + "index.txt", "-CA", d + "ca.pem",
                                 "-rsigner", d + "responder.pem", "-rkey", d + "responder.key",
                                 "-nmin", "60"});
    ASSERT_TRUE(responder_->error().empty()) << responder_->error();
  }
  void TearDown() override {
    if (responder_ != nullptr) responder_->Stop();
  }

  std::unique_ptr<LoopbackOcspResponder> responder_;
};

TEST_F(OcspResponderTest, GoodCertificateIsGoodAtItsAiaResponder) {
  auto answer = QueryOcsp(pki().leaf, pki().ca, OcspOptions{}, Now());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kGood);
  EXPECT_EQ(answer->next_update - answer->this_update, 3600);
  // One POST of an OCSP request to the AIA URL's path, as RFC 6960 Appendix A.1 has it.
  const auto seen = responder_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/ocsp");
  EXPECT_EQ(seen[0].content_type, "application/ocsp-request");
  EXPECT_EQ(seen[0].accept, "application/ocsp-response");
}

TEST_F(OcspResponderTest, RevokedCertificateIsRevokedWithItsReason) {
  OcspOptions options;
  options.responder_url = pki().aia_url;  // its certificate names no responder
  auto answer = QueryOcsp(pki().revoked, pki().ca, options, Now());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kRevoked);
  EXPECT_TRUE(answer->detail.starts_with("revoked at ")) << answer->detail;
  EXPECT_TRUE(answer->detail.ends_with("(keyCompromise)")) << answer->detail;
}

TEST_F(OcspResponderTest, CertificateMissingFromTheIndexIsUnknown) {
  OcspOptions options;
  options.responder_url = pki().aia_url;
  auto answer = QueryOcsp(pki().unknown, pki().ca, options, Now());
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->status, OcspStatus::kUnknown);
  const std::string serial = crypto::Certificate::FromDer(pki().unknown)->SerialHex();
  EXPECT_NE(answer->detail.find("serial " + serial + " of CN=Test MOICA"), std::string::npos)
      << answer->detail;
}

TEST_F(OcspResponderTest, ClosedPortIsUnavailable) {
  auto closed = PickFreePort();  // claimed for this process, and nobody listens on it
  ASSERT_TRUE(closed.has_value()) << closed.error().ToString();
  OcspOptions options;
  options.responder_url = "http://127.0.0.1:" + std::to_string(*closed) + "/ocsp";
  auto answer = QueryOcsp(pki().leaf, pki().ca, options, Now());
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code(), ErrorCode::kUnavailable) << answer.error().ToString();
  EXPECT_NE(answer.error().message().find("could not be asked"), std::string::npos)
      << answer.error().message();
  EXPECT_NE(answer.error().message().find(options.responder_url), std::string::npos)
      << answer.error().message();
}

TEST_F(OcspResponderTest, OpensslClientAgreesWithUs) {
  // Cross-check: OpenSSL's own OCSP client, trusting the root, reads the same answers.
  const std::string client = "openssl ocsp -issuer " + File("ca.pem") + " -CAfile " +
                             File("root.pem") + " -verify_other " + File("ca.pem") +
                             " -no_proxy 127.0.0.1 -url " + pki().aia_url + " -cert ";
  auto good = RunCommand(*pki().dir, client + File("leaf.pem"));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("leaf.pem: good"), std::string::npos) << good.output;
  auto revoked = RunCommand(*pki().dir, client + File("revoked.pem"));
  EXPECT_NE(revoked.output.find("revoked.pem: revoked"), std::string::npos) << revoked.output;
  EXPECT_NE(revoked.output.find("Reason: keyCompromise"), std::string::npos) << revoked.output;

  OcspOptions options;
  options.responder_url = pki().aia_url;
  auto ours_good = QueryOcsp(pki().leaf, pki().ca, options, Now());
  ASSERT_TRUE(ours_good.has_value()) << ours_good.error().ToString();
  EXPECT_EQ(ours_good->status, OcspStatus::kGood);
  auto ours_revoked = QueryOcsp(pki().revoked, pki().ca, options, Now());
  ASSERT_TRUE(ours_revoked.has_value()) << ours_revoked.error().ToString();
  EXPECT_EQ(ours_revoked->status, OcspStatus::kRevoked);
}

}  // namespace
}  // namespace troad::identity
