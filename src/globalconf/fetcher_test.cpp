// The fetcher against a real https publisher on 127.0.0.1 (http::Server with a
// certificate from a test CA), serving documents signed with SignDocument: what is
// adopted, what is refused and why, and what is on disk afterwards.
#include "globalconf/fetcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/ca.h"
#include "crypto/test_util.h"
#include "globalconf/test_util.h"
#include "globalconf/test_publisher.h"
#include "http/test_util.h"

namespace troad::globalconf {
namespace {

using crypto::testutil::ReadFile;
using crypto::testutil::TempDir;
using crypto::testutil::WriteFile;
using http::testing::IoThread;
using json = nlohmann::json;
namespace asio = boost::asio;

const SystemTime kDuring = *ParseRfc3339("2026-01-15T00:00:00Z");

using testing::MinimalDocument;

// A CA, and the key of the central's TLS server certificate.
struct TestPki {
  crypto::PrivateKey ca_key = *crypto::PrivateKey::GenerateEcP256();
  crypto::Certificate ca = MakeCa(ca_key);
  crypto::PrivateKey server_key = *crypto::PrivateKey::GenerateEcP256();

  static crypto::Certificate MakeCa(const crypto::PrivateKey& key) {
    crypto::CertificateRequest req;
    req.common_name = "TW network CA";
    return *crypto::CreateSelfSignedCa(key, req, SystemClock::Get());
  }
  crypto::Certificate ServerCertificate(std::vector<std::string> ips,
                                        std::vector<std::string> dns = {}) const {
    return testing::IssueServerCertificate(ca, ca_key, server_key, std::move(ips), std::move(dns));
  }
};

// The publisher of a test, with the PKI's server key.
class Publisher : public testing::TestPublisher {
 public:
  Publisher(IoThread& io, const TestPki& pki, const crypto::Certificate& server_cert,
            std::string base_path = "")
      : TestPublisher(io, server_cert, pki.server_key, std::move(base_path)) {}
};

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest() : clock_(kDuring), publisher_(io_, pki_, pki_.ServerCertificate({"127.0.0.1"})) {}

  static const crypto::PrivateKey& ConfKey() {
    static const crypto::PrivateKey key = *crypto::PrivateKey::GenerateEcP256();
    return key;
  }
  Anchor MakeAnchor(std::string url, const crypto::Certificate& ca) const {
    return Anchor{"TW", std::move(url), {ConfKey().Public()}, ca, kDuring};
  }
  std::unique_ptr<Fetcher> MakeFetcher(FetcherOptions options = {}) {
    return MakeFetcherFor(MakeAnchor(publisher_.url(), pki_.ca), options);
  }
  std::unique_ptr<Fetcher> MakeFetcherFor(Anchor anchor, FetcherOptions options = {}) {
    auto fetcher = Fetcher::Create(std::move(anchor), dir_.File("cache"), clock_, options);
    EXPECT_TRUE(fetcher) << fetcher.error().ToString();
    return fetcher ? std::move(*fetcher) : nullptr;
  }
  FetchResult Fetch(Fetcher& fetcher, std::shared_ptr<const GlobalConf> held) {
    return io_.Run(fetcher.Fetch(std::move(held)));
  }
  // Publishes `document` signed by the configuration key.
  std::string PublishSigned(const std::string& document) {
    auto sig = SignDocument(document, ConfKey());
    EXPECT_TRUE(sig);
    publisher_.Publish(document, *sig);
    return *sig;
  }
  std::string CachedDocument() const { return ReadFile(dir_.File("cache/globalconf.json")); }
  std::string CachedSignature() const { return ReadFile(dir_.File("cache/globalconf.json.sig")); }

  static void ExpectRejected(const FetchResult& r, std::string_view reason,
                             std::string_view message_part) {
    EXPECT_EQ(r.outcome, FetchOutcome::kRejected) << FetchOutcomeName(r.outcome);
    EXPECT_EQ(r.reason, reason) << r.message;
    EXPECT_EQ(r.conf, nullptr);
    EXPECT_NE(r.message.find(message_part), std::string::npos) << r.message;
  }

  TempDir dir_;
  FakeClock clock_;
  TestPki pki_;
  IoThread io_;
  Publisher publisher_;
};

TEST_F(FetcherTest, FirstFetchAdoptsTheSignedCopyAndWritesItToDisk) {
  const std::string doc = MinimalDocument(1);
  const std::string sig = PublishSigned(doc);
  auto fetcher = MakeFetcher();
  ASSERT_TRUE(fetcher);

  FetchResult r = Fetch(*fetcher, nullptr);
  ASSERT_EQ(r.outcome, FetchOutcome::kUpdated) << r.reason << ": " << r.message;
  ASSERT_NE(r.conf, nullptr);
  EXPECT_EQ(r.conf->version(), 1);
  EXPECT_EQ(r.conf->source(), doc);
  EXPECT_EQ(CachedDocument(), doc);  // the exact bytes served, and their signature
  EXPECT_EQ(CachedSignature(), sig);
  EXPECT_EQ(fetcher->DocumentFile(), dir_.File("cache/globalconf.json"));

  // The document, then the signature of the bytes received; no If-None-Match without
  // a held copy.
  auto seen = publisher_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/globalconf/v1/document");
  EXPECT_EQ(seen[0].if_none_match, "");
  EXPECT_EQ(seen[1].target, "/globalconf/v1/signatures/" + DocumentHash(doc));
}

TEST_F(FetcherTest, SameCopyIsNotModified) {
  PublishSigned(MinimalDocument(1));
  auto fetcher = MakeFetcher();
  FetchResult first = Fetch(*fetcher, nullptr);
  ASSERT_EQ(first.outcome, FetchOutcome::kUpdated) << first.message;
  publisher_.ClearSeen();

  FetchResult again = Fetch(*fetcher, first.conf);
  EXPECT_EQ(again.outcome, FetchOutcome::kUnchanged) << again.message;
  EXPECT_EQ(again.conf, first.conf);
  auto seen = publisher_.seen();
  ASSERT_EQ(seen.size(), 1u);  // 304: no signature fetched
  EXPECT_EQ(seen[0].if_none_match, "\"" + DocumentHash(MinimalDocument(1)) + "\"");

  // A central that ignores If-None-Match: the same bytes are still "unchanged".
  publisher_.IgnoreIfNoneMatch();
  publisher_.ClearSeen();
  FetchResult ignored = Fetch(*fetcher, first.conf);
  EXPECT_EQ(ignored.outcome, FetchOutcome::kUnchanged) << ignored.message;
  EXPECT_EQ(publisher_.seen().size(), 1u);
}

TEST_F(FetcherTest, NewerCopyReplacesTheHeldOne) {
  PublishSigned(MinimalDocument(1));
  auto fetcher = MakeFetcher();
  FetchResult v1 = Fetch(*fetcher, nullptr);
  ASSERT_EQ(v1.outcome, FetchOutcome::kUpdated);

  const std::string doc2 = MinimalDocument(2);
  const std::string sig2 = PublishSigned(doc2);
  FetchResult v2 = Fetch(*fetcher, v1.conf);
  ASSERT_EQ(v2.outcome, FetchOutcome::kUpdated) << v2.reason << ": " << v2.message;
  EXPECT_EQ(v2.conf->version(), 2);
  EXPECT_EQ(CachedDocument(), doc2);
  EXPECT_EQ(CachedSignature(), sig2);
}

TEST_F(FetcherTest, OlderCopyIsRefusedAndTheHeldOneStaysOnDisk) {
  const std::string doc2 = MinimalDocument(2);
  const std::string sig2 = PublishSigned(doc2);
  auto fetcher = MakeFetcher();
  FetchResult v2 = Fetch(*fetcher, nullptr);
  ASSERT_EQ(v2.outcome, FetchOutcome::kUpdated);

  PublishSigned(MinimalDocument(1));
  FetchResult old = Fetch(*fetcher, v2.conf);
  ExpectRejected(old, "older", "older than the one held (2)");
  EXPECT_EQ(CachedDocument(), doc2);
  EXPECT_EQ(CachedSignature(), sig2);
}

TEST_F(FetcherTest, UnacceptableCopiesAreRefusedWithTheirReason) {
  const std::string good = MinimalDocument(1);
  const std::string good_sig = PublishSigned(good);
  auto fetcher = MakeFetcher();
  FetchResult held = Fetch(*fetcher, nullptr);
  ASSERT_EQ(held.outcome, FetchOutcome::kUpdated);

  auto other_key = crypto::PrivateKey::GenerateEcP256();
  const std::string doc = MinimalDocument(5);
  const std::string other = MinimalDocument(5, "EE");
  const std::string expired = MinimalDocument(5, "TW", "2026-01-10T00:00:00Z");
  json malformed_json = json::parse(MinimalDocument(5));
  malformed_json["members"][0]["id"] = "not an id";
  const std::string malformed = malformed_json.dump();
  struct Case {
    std::string what;
    std::string document;
    std::string signature;  // "" = 404
    std::string reason;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no signature (404)", doc, "", "unsigned", "unsigned"},
      {"signature of another document", doc, *SignDocument(MinimalDocument(6), ConfKey()), "bad-signature",
       "does not verify"},
      {"key the anchor does not list", doc, *SignDocument(doc, *other_key), "untrusted-key",
       "which the anchor does not trust"},
      {"not a signature file", doc, "{\"format\":1}", "malformed-signature", "format"},
      {"signed garbage", malformed, *SignDocument(malformed, ConfKey()), "malformed",
       "members[0].id"},
      {"another instance", other, *SignDocument(other, ConfKey()), "other-instance",
       "for instance EE"},
      {"expired", expired, *SignDocument(expired, ConfKey()), "expired", "expired at"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    publisher_.Publish(c.document, c.signature);
    FetchResult r = Fetch(*fetcher, held.conf);
    ExpectRejected(r, c.reason, c.message);
    EXPECT_NE(r.message.find(DocumentHash(c.document)), std::string::npos) << r.message;
    EXPECT_EQ(CachedDocument(), good);
    EXPECT_EQ(CachedSignature(), good_sig);
  }
}

TEST_F(FetcherTest, CentralCertificateFromAnotherCaIsRefused) {
  PublishSigned(MinimalDocument(1));
  TestPki stranger;
  auto fetcher = MakeFetcherFor(MakeAnchor(publisher_.url(), stranger.ca));
  ASSERT_TRUE(fetcher);
  FetchResult r = Fetch(*fetcher, nullptr);
  ExpectRejected(r, "unreachable", "certificate verify failed");
  EXPECT_TRUE(publisher_.seen().empty());  // nothing was asked of the impostor
  EXPECT_FALSE(std::filesystem::exists(dir_.File("cache/globalconf.json")));
}

TEST_F(FetcherTest, CentralCertificateMustNameTheUrlsHost) {
  // Same CA, but a certificate for another address and name.
  Publisher elsewhere(io_, pki_, pki_.ServerCertificate({"127.0.0.2"}, {"central.example"}));
  elsewhere.Publish(MinimalDocument(1), *SignDocument(MinimalDocument(1), ConfKey()));
  auto fetcher = MakeFetcherFor(MakeAnchor(elsewhere.url(), pki_.ca));
  ASSERT_TRUE(fetcher);
  ExpectRejected(Fetch(*fetcher, nullptr), "unreachable", "certificate verify failed");
  EXPECT_TRUE(elsewhere.seen().empty());
}

TEST_F(FetcherTest, CentralUnderABasePath) {
  Publisher based(io_, pki_, pki_.ServerCertificate({"127.0.0.1"}), "/troad");
  based.Publish(MinimalDocument(3), *SignDocument(MinimalDocument(3), ConfKey()));
  auto fetcher = MakeFetcherFor(MakeAnchor(based.url(), pki_.ca));
  ASSERT_TRUE(fetcher);
  FetchResult r = Fetch(*fetcher, nullptr);
  ASSERT_EQ(r.outcome, FetchOutcome::kUpdated) << r.message;
  EXPECT_EQ(based.seen().at(0).target, "/troad/globalconf/v1/document");
}

TEST_F(FetcherTest, HttpFailuresAreRefusedWithTheirReason) {
  PublishSigned(MinimalDocument(1));
  auto fetcher = MakeFetcher();
  publisher_.FailWith(503);
  ExpectRejected(Fetch(*fetcher, nullptr), "http-status", "HTTP 503: central is unwell");

  publisher_.FailWith(0);
  auto small = MakeFetcher(
      FetcherOptions{std::chrono::milliseconds(5000), std::chrono::milliseconds(5000), 100});
  ExpectRejected(Fetch(*small, nullptr), "too-large", "larger than the body limit of 100 bytes");

  FetchResult v1 = Fetch(*fetcher, nullptr);
  ASSERT_EQ(v1.outcome, FetchOutcome::kUpdated);

  // Nobody listening.
  uint16_t closed_port = 0;
  {
    Publisher gone(io_, pki_, pki_.ServerCertificate({"127.0.0.1"}));
    closed_port = gone.port();
  }
  auto unreachable =
      MakeFetcherFor(MakeAnchor("https://127.0.0.1:" + std::to_string(closed_port), pki_.ca));
  ExpectRejected(Fetch(*unreachable, v1.conf), "unreachable", "connecting to 127.0.0.1");
  EXPECT_EQ(CachedDocument(), MinimalDocument(1));
}

TEST_F(FetcherTest, SlowCentralTimesOut) {
  // A listener that accepts and never answers.
  asio::ip::tcp::acceptor silent(io_.io(),
                                 asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto fetcher = MakeFetcherFor(
      MakeAnchor("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()), pki_.ca),
      FetcherOptions{std::chrono::milliseconds(300), std::chrono::milliseconds(300), 1 << 20});
  ASSERT_TRUE(fetcher);
  FetchResult r = Fetch(*fetcher, nullptr);
  ExpectRejected(r, "unreachable", "timed out after 300 ms");
}

TEST_F(FetcherTest, CachedCopyIsLoadedAfterARestart) {
  const std::string doc = MinimalDocument(4);
  PublishSigned(doc);
  {
    auto fetcher = MakeFetcher();
    auto none = fetcher->LoadCached();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
    ASSERT_EQ(Fetch(*fetcher, nullptr).outcome, FetchOutcome::kUpdated);
  }
  auto restarted = MakeFetcher();
  auto cached = restarted->LoadCached();
  ASSERT_TRUE(cached) << cached.error().ToString();
  EXPECT_EQ(cached->conf->version(), 4);
  EXPECT_EQ(cached->conf->source(), doc);
  EXPECT_FALSE(cached->expired);

  // The next fetch asks with the cached copy's hash and is told nothing changed.
  publisher_.ClearSeen();
  FetchResult r = Fetch(*restarted, cached->conf);
  EXPECT_EQ(r.outcome, FetchOutcome::kUnchanged) << r.message;
  EXPECT_EQ(publisher_.seen().at(0).if_none_match, "\"" + DocumentHash(doc) + "\"");
}

TEST_F(FetcherTest, ExpiredCachedCopyLoadsMarkedExpired) {
  PublishSigned(MinimalDocument(1));
  auto fetcher = MakeFetcher();
  ASSERT_EQ(Fetch(*fetcher, nullptr).outcome, FetchOutcome::kUpdated);

  clock_.Set(*ParseRfc3339("2026-02-01T00:00:00Z"));  // after expires_at
  auto cached = MakeFetcher()->LoadCached();
  ASSERT_TRUE(cached) << cached.error().ToString();
  EXPECT_EQ(cached->conf->version(), 1);
  EXPECT_TRUE(cached->expired);
}

TEST_F(FetcherTest, TamperedOrUntrustedCacheIsNotLoaded) {
  PublishSigned(MinimalDocument(1));
  auto fetcher = MakeFetcher();
  ASSERT_EQ(Fetch(*fetcher, nullptr).outcome, FetchOutcome::kUpdated);

  const std::string doc = CachedDocument();
  std::string tampered = doc;
  tampered.replace(tampered.find("內政部"), std::string("內政部").size(), "外交部");
  WriteFile(dir_.File("cache/globalconf.json"), tampered);
  auto bad = fetcher->LoadCached();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(bad.error().message().find(dir_.File("cache/globalconf.json")), std::string::npos);
  EXPECT_NE(bad.error().message().find("does not verify"), std::string::npos);

  WriteFile(dir_.File("cache/globalconf.json"), doc);
  std::filesystem::remove(dir_.File("cache/globalconf.json.sig"));
  auto unsigned_copy = fetcher->LoadCached();
  ASSERT_FALSE(unsigned_copy);
  EXPECT_NE(unsigned_copy.error().message().find("unsigned"), std::string::npos);
}

TEST_F(FetcherTest, CreateRefusesWhatItCannotUse) {
  // The anchor is validated by ParseAnchor; Create still refuses plain http.
  auto plain = Fetcher::Create(MakeAnchor("http://127.0.0.1:1", pki_.ca), dir_.File("c"), clock_);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message().find("is not https"), std::string::npos);

  WriteFile(dir_.File("file"), "x");
  auto no_dir =
      Fetcher::Create(MakeAnchor(publisher_.url(), pki_.ca), dir_.File("file/cache"), clock_);
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kIo);
}

TEST(FetchOutcomeTest, Names) {
  EXPECT_EQ(FetchOutcomeName(FetchOutcome::kUpdated), "updated");
  EXPECT_EQ(FetchOutcomeName(FetchOutcome::kUnchanged), "unchanged");
  EXPECT_EQ(FetchOutcomeName(FetchOutcome::kRejected), "rejected");
  EXPECT_EQ(DocumentHash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace troad::globalconf
