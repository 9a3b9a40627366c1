#include "gateway/signer.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "crypto/ca.h"
#include "gateway/fault.h"

namespace troad::gateway {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

const SystemTime kT0 = *ParseRfc3339("2026-01-01T00:00:00Z");
const SystemTime kNow = kT0 + std::chrono::hours(1);

struct KeyAndCert {
  crypto::PrivateKey key;
  crypto::Certificate cert;
};

KeyAndCert IssueSigning(const crypto::Certificate& ca, const crypto::PrivateKey& ca_key,
                        const std::string& member, std::chrono::seconds validity) {
  FakeClock clock(kT0);
  auto key = crypto::PrivateKey::GenerateEcP256();
  EXPECT_TRUE(key);
  crypto::CertificateRequest req;
  req.common_name = member;
  req.serial_number_attr = member;
  req.usage = crypto::CertUsage::kSigning;
  req.validity = validity;
  auto cert = crypto::IssueCertificate(ca, ca_key, key->Public(), req, clock);
  EXPECT_TRUE(cert) << cert.error().ToString();
  return {*key, *cert};
}

// The network of these tests: one CA; MOI with a current signing certificate, a
// revoked one, a short-lived one and one from a CA nobody trusts; BLI with its own.
// MOI also holds a certificate from the right CA that the configuration does not list.
struct Network {
  crypto::Certificate ca;
  std::optional<KeyAndCert> moi, moi_revoked, moi_short, moi_unlisted, moi_foreign_ca, bli;
  std::shared_ptr<const globalconf::GlobalConf> conf;

  static const Network& Get() {
    static const Network* network = Make();
    return *network;
  }

  static json Document(const Network& n, int64_t version, const std::vector<std::string>& revoked) {
    return {
        {"format", "troad-globalconf/1"},
        {"instance", "TW"},
        {"version", version},
        {"issued_at", FormatRfc3339(kT0)},
        {"expires_at", FormatRfc3339(kT0 + std::chrono::hours(24 * 30))},
        {"trusted_cas", {n.ca.ToPem()}},
        {"revoked_certificates", revoked},
        {"members",
         {{{"id", "TW/GOV/MOI"},
           {"name", "內政部"},
           {"signing_certificates",
            {n.moi->cert.ToPem(), n.moi_revoked->cert.ToPem(), n.moi_short->cert.ToPem(),
             n.moi_foreign_ca->cert.ToPem()}}},
          {{"id", "TW/GOV/BLI"},
           {"name", "勞動部勞工保險局"},
           {"signing_certificates", {n.bli->cert.ToPem()}}}}},
    };
  }

  static Network* Make() {
    FakeClock clock(kT0);
    auto ca_key = crypto::PrivateKey::GenerateEcP256();
    auto other_ca_key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    req.validity = std::chrono::hours(24 * 365 * 5);
    auto ca = crypto::CreateSelfSignedCa(*ca_key, req, clock);
    req.common_name = "some other CA";
    auto other_ca = crypto::CreateSelfSignedCa(*other_ca_key, req, clock);
    EXPECT_TRUE(ca && other_ca);

    auto* n = new Network{*ca, {}, {}, {}, {}, {}, {}, {}};
    const std::chrono::seconds year = std::chrono::hours(24 * 365);
    n->moi = IssueSigning(*ca, *ca_key, "TW/GOV/MOI", year);
    n->moi_revoked = IssueSigning(*ca, *ca_key, "TW/GOV/MOI", year);
    n->moi_short = IssueSigning(*ca, *ca_key, "TW/GOV/MOI", std::chrono::hours(2));
    n->moi_unlisted = IssueSigning(*ca, *ca_key, "TW/GOV/MOI", year);
    n->moi_foreign_ca = IssueSigning(*other_ca, *other_ca_key, "TW/GOV/MOI", year);
    n->bli = IssueSigning(*ca, *ca_key, "TW/GOV/BLI", year);
    auto conf = globalconf::GlobalConf::Parse(
        Document(*n, 1, {n->moi_revoked->cert.Sha256Fingerprint()}).dump());
    EXPECT_TRUE(conf) << conf.error().ToString();
    n->conf = *conf;
    return n;
  }
};

const ClientId kMoi = *ClientId::Parse("TW/GOV/MOI");
const ClientId kBli = *ClientId::Parse("TW/GOV/BLI");

std::string Header(int i) {
  return R"({"v":1,"type":"request","id":"TW-msg-)" + std::to_string(i) + R"("})";
}

// A batch signed exactly as envelope.h specifies, made without BatchSigner: an
// independent reference for the verifier and for BatchSigner's output.
std::vector<SignaturePart> SignBatchByHand(const KeyAndCert& signer,
                                           const std::vector<std::string>& headers) {
  std::vector<ledger::Hash> leaves;
  for (const auto& h : headers) leaves.push_back(ledger::LeafHash(h));
  crypto::Sha256Digest root = ledger::RootFromLeaves(leaves);
  auto sig = signer.key.Sign(BatchSignatureInput(headers.size(), root));
  EXPECT_TRUE(sig);
  std::vector<SignaturePart> parts;
  for (size_t i = 0; i < headers.size(); ++i) {
    parts.push_back(SignaturePart{"ES256", signer.cert.Sha256Fingerprint(), headers.size(), i,
                                  ledger::InclusionProof(leaves, i), *sig});
  }
  return parts;
}

void ExpectInvalidSignature(const Status& status, std::string_view needle) {
  ASSERT_FALSE(status) << "verified, expected a refusal mentioning " << needle;
  EXPECT_EQ(status.error().code(), ErrorCode::kUnauthenticated) << status.error().ToString();
  EXPECT_EQ(status.error().fault(), kFaultInvalidSignatureValue) << status.error().ToString();
  EXPECT_NE(status.error().message().find(needle), std::string::npos)
      << "message does not mention \"" << needle << "\": " << status.error().message();
}

// ---- BatchSigner -------------------------------------------------------------------

asio::awaitable<Result<SignaturePart>> SignOne(BatchSigner* signer, std::string header) {
  co_return co_await signer->Sign(header);
}

// Spawns one Sign per header before the io_context runs, then runs it on `threads`
// threads until every coroutine has finished.
std::vector<Result<SignaturePart>> SignConcurrently(BatchSigner& signer,
                                                    const std::vector<std::string>& headers,
                                                    int threads) {
  asio::io_context io;
  std::mutex mu;
  std::vector<std::optional<Result<SignaturePart>>> slots(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    asio::co_spawn(io, SignOne(&signer, headers[i]),
                   [&, i](std::exception_ptr error, Result<SignaturePart> part) {
                     std::lock_guard lock(mu);
                     if (error) {
                       slots[i] = Fail(ErrorCode::kInternal, "coroutine threw");
                     } else {
                       slots[i] = std::move(part);
                     }
                   });
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  std::vector<Result<SignaturePart>> out;
  for (size_t i = 0; i < slots.size(); ++i) {
    EXPECT_TRUE(slots[i].has_value()) << "Sign " << i << " never completed";
    out.push_back(slots[i].value_or(Fail(ErrorCode::kInternal, "never completed")));
  }
  return out;
}

std::vector<std::string> Headers(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(Header(i));
  return out;
}

TEST(BatchSignerTest, ConcurrentSignaturesAreBatchedAndEveryOneVerifies) {
  const Network& net = Network::Get();
  BatchSigner signer(net.moi->key, net.moi->cert);
  std::vector<std::string> headers = Headers(50);
  auto parts = SignConcurrently(signer, headers, 2);

  EXPECT_EQ(signer.messages_signed(), 50u);
  EXPECT_LT(signer.signatures_made(), signer.messages_signed())
      << "50 concurrent calls were signed one by one";

  SignatureVerifier verifier;
  std::set<std::string> distinct_signatures;
  uint64_t batched_messages = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSERT_TRUE(parts[i]) << i << ": " << parts[i].error().ToString();
    const SignaturePart& p = *parts[i];
    EXPECT_EQ(p.algorithm, "ES256");
    EXPECT_EQ(p.certificate_sha256, net.moi->cert.Sha256Fingerprint());
    EXPECT_LT(p.leaf_index, p.batch_size);
    if (p.batch_size > 1) ++batched_messages;
    distinct_signatures.insert(p.signature);
    // What goes on the wire is what is verified.
    auto wire = ParseSignaturePart(SerializeSignaturePart(p));
    ASSERT_TRUE(wire) << wire.error().ToString();
    Status st = verifier.Verify(*net.conf, kMoi, headers[i], *wire, kNow);
    EXPECT_TRUE(st) << i << ": " << st.error().ToString();
  }
  EXPECT_GT(batched_messages, 0u);
  EXPECT_EQ(distinct_signatures.size(), signer.signatures_made());
  // Every message after the first of its batch was checked with a few hashes only.
  EXPECT_EQ(verifier.cache_hits(), 50u - signer.signatures_made());
}

TEST(BatchSignerTest, SingleThreadedLoopAlsoBatchesEverythingQueued) {
  // All 50 calls are queued on one thread before any signing happens: one signature.
  const Network& net = Network::Get();
  BatchSigner signer(net.moi->key, net.moi->cert);
  std::vector<std::string> headers = Headers(50);
  auto parts = SignConcurrently(signer, headers, 1);
  EXPECT_EQ(signer.messages_signed(), 50u);
  EXPECT_EQ(signer.signatures_made(), 1u);
  SignatureVerifier verifier;
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSERT_TRUE(parts[i]) << parts[i].error().ToString();
    EXPECT_EQ(parts[i]->batch_size, 50u);
    EXPECT_EQ(parts[i]->leaf_index, i);
    EXPECT_TRUE(verifier.Verify(*net.conf, kMoi, headers[i], *parts[i], kNow));
  }
}

TEST(BatchSignerTest, BatchesAreCappedAtMaxBatch) {
  const Network& net = Network::Get();
  BatchSigner signer(net.moi->key, net.moi->cert, /*max_batch=*/16);
  std::vector<std::string> headers = Headers(50);
  auto parts = SignConcurrently(signer, headers, 1);
  EXPECT_EQ(signer.messages_signed(), 50u);
  EXPECT_EQ(signer.signatures_made(), 4u);  // 16 + 16 + 16 + 2
  SignatureVerifier verifier;
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSERT_TRUE(parts[i]);
    EXPECT_LE(parts[i]->batch_size, 16u);
    EXPECT_TRUE(verifier.Verify(*net.conf, kMoi, headers[i], *parts[i], kNow));
  }
}

TEST(BatchSignerTest, LoneMessageIsABatchOfOne) {
  const Network& net = Network::Get();
  BatchSigner signer(net.moi->key, net.moi->cert);
  auto parts = SignConcurrently(signer, {Header(1)}, 1);
  ASSERT_TRUE(parts[0]) << parts[0].error().ToString();
  EXPECT_EQ(parts[0]->batch_size, 1u);
  EXPECT_EQ(parts[0]->leaf_index, 0u);
  EXPECT_TRUE(parts[0]->path.empty());
  // The signature is over the documented input with root = the leaf hash itself.
  EXPECT_TRUE(net.moi->cert.GetPublicKey().Verify(
      BatchSignatureInput(1, ledger::LeafHash(Header(1))), parts[0]->signature, "ES256"));
  EXPECT_EQ(signer.signatures_made(), 1u);
}

TEST(BatchSignerTest, ANewIdentitySignsTheNextBatches) {
  const Network& net = Network::Get();
  BatchSigner signer(net.moi->key, net.moi->cert);
  auto before = SignConcurrently(signer, {Header(1)}, 1);
  ASSERT_TRUE(before[0]);
  EXPECT_EQ(before[0]->certificate_sha256, net.moi->cert.Sha256Fingerprint());

  signer.SetIdentity(net.moi_short->key, net.moi_short->cert);  // a renewed pair
  auto after = SignConcurrently(signer, {Header(2)}, 1);
  ASSERT_TRUE(after[0]);
  EXPECT_EQ(after[0]->certificate_sha256, net.moi_short->cert.Sha256Fingerprint());
  EXPECT_TRUE(net.moi_short->cert.GetPublicKey().Verify(
      BatchSignatureInput(1, ledger::LeafHash(Header(2))), after[0]->signature, "ES256"));
  EXPECT_EQ(signer.certificate().Sha256Fingerprint(), net.moi_short->cert.Sha256Fingerprint());
}

// ---- SignatureVerifier -------------------------------------------------------------

class SignatureVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    headers_ = {Header(0), Header(1), Header(2), Header(3), Header(4)};
    parts_ = SignBatchByHand(*net_.moi, headers_);
  }

  Status Verify(const ClientId& member, const std::string& header, const SignaturePart& part,
                SystemTime now = kNow) {
    return verifier_.Verify(*net_.conf, member, header, part, now);
  }

  const Network& net_ = Network::Get();
  SignatureVerifier verifier_;
  std::vector<std::string> headers_;
  std::vector<SignaturePart> parts_;
};

TEST_F(SignatureVerifierTest, HandMadeBatchVerifies) {
  for (size_t i = 0; i < headers_.size(); ++i) {
    EXPECT_TRUE(Verify(kMoi, headers_[i], parts_[i])) << i;
  }
}

TEST_F(SignatureVerifierTest, RefusesTamperedHeader) {
  std::string tampered = headers_[2];
  tampered[tampered.size() - 3] ^= 1;
  ExpectInvalidSignature(Verify(kMoi, tampered, parts_[2]), "does not verify");
  ExpectInvalidSignature(Verify(kMoi, headers_[2] + " ", parts_[2]), "does not verify");
  // Another message's header with this message's path and index.
  ExpectInvalidSignature(Verify(kMoi, headers_[3], parts_[2]), "does not verify");
}

TEST_F(SignatureVerifierTest, RefusesTamperedPath) {
  SignaturePart part = parts_[1];
  ASSERT_FALSE(part.path.empty());
  part.path[0][0] ^= 0x80;
  ExpectInvalidSignature(Verify(kMoi, headers_[1], part), "does not verify");
  part = parts_[1];
  part.path.pop_back();
  ExpectInvalidSignature(Verify(kMoi, headers_[1], part), "batch signature path");
  part = parts_[1];
  part.path.push_back(part.path[0]);
  ExpectInvalidSignature(Verify(kMoi, headers_[1], part), "batch signature path");
}

TEST_F(SignatureVerifierTest, RefusesWrongLeafIndexOrBatchSize) {
  SignaturePart part = parts_[1];
  part.leaf_index = 0;
  ExpectInvalidSignature(Verify(kMoi, headers_[1], part), "does not verify");
  part = parts_[1];
  part.leaf_index = 5;  // == batch_size
  ExpectInvalidSignature(Verify(kMoi, headers_[1], part), "batch signature path");
  part = parts_[4];
  part.batch_size = 6;  // the signed input names the size too
  ExpectInvalidSignature(Verify(kMoi, headers_[4], part), "batch signature path");
}

TEST_F(SignatureVerifierTest, RefusesSignatureByAnotherMembersKey) {
  auto bli_parts = SignBatchByHand(*net_.bli, {headers_[0]});
  // BLI's valid signature presented as MOI's message: BLI's certificate is not MOI's.
  ExpectInvalidSignature(Verify(kMoi, headers_[0], bli_parts[0]),
                         "is not a signing certificate of TW/GOV/MOI");
  // The same signature for BLI verifies, so the refusal above is about the member.
  EXPECT_TRUE(Verify(kBli, headers_[0], bli_parts[0]));
  // BLI's signature claiming MOI's certificate: the signature does not verify.
  SignaturePart forged = bli_parts[0];
  forged.certificate_sha256 = net_.moi->cert.Sha256Fingerprint();
  ExpectInvalidSignature(Verify(kMoi, headers_[0], forged), "does not verify");
}

TEST_F(SignatureVerifierTest, RefusesUnlistedCertificateOfTheRightMember) {
  auto parts = SignBatchByHand(*net_.moi_unlisted, {headers_[0]});
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0]),
                         "is not a signing certificate of TW/GOV/MOI");
}

TEST_F(SignatureVerifierTest, RefusesRevokedCertificate) {
  auto parts = SignBatchByHand(*net_.moi_revoked, {headers_[0]});
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0]), "is revoked");
}

TEST_F(SignatureVerifierTest, RefusesCertificateFromUntrustedCa) {
  auto parts = SignBatchByHand(*net_.moi_foreign_ca, {headers_[0]});
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0]), "signing certificate of TW/GOV/MOI");
}

TEST_F(SignatureVerifierTest, RefusesExpiredAndNotYetValidCertificate) {
  auto parts = SignBatchByHand(*net_.moi_short, {headers_[0], headers_[1]});
  SystemTime not_after = net_.moi_short->cert.NotAfter();
  EXPECT_TRUE(Verify(kMoi, headers_[0], parts[0], not_after - std::chrono::seconds(1)));
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0], not_after), "is not valid now");
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0], not_after + std::chrono::hours(1)),
                         "is not valid now");
  // Verified and cached a moment ago does not make it valid after expiry either.
  ExpectInvalidSignature(Verify(kMoi, headers_[1], parts[1], not_after + std::chrono::hours(1)),
                         "is not valid now");
  ExpectInvalidSignature(Verify(kMoi, headers_[0], parts[0],
                                net_.moi_short->cert.NotBefore() - std::chrono::seconds(1)),
                         "is not valid now");
}

TEST_F(SignatureVerifierTest, SecondMessageOfABatchIsACacheHit) {
  EXPECT_EQ(verifier_.cache_hits(), 0u);
  ASSERT_TRUE(Verify(kMoi, headers_[0], parts_[0]));
  EXPECT_EQ(verifier_.cache_hits(), 0u);
  ASSERT_TRUE(Verify(kMoi, headers_[3], parts_[3]));
  EXPECT_EQ(verifier_.cache_hits(), 1u);
  ASSERT_TRUE(Verify(kMoi, headers_[4], parts_[4]));
  EXPECT_EQ(verifier_.cache_hits(), 2u);
  // The same message again is a hit too (replays are the ReplayGuard's business).
  ASSERT_TRUE(Verify(kMoi, headers_[0], parts_[0]));
  EXPECT_EQ(verifier_.cache_hits(), 3u);
}

TEST_F(SignatureVerifierTest, DifferentSignatureIsNotACacheHit) {
  ASSERT_TRUE(Verify(kMoi, headers_[0], parts_[0]));
  ASSERT_EQ(verifier_.cache_hits(), 0u);

  // A corrupted signature over the same root must be checked, and fail.
  SignaturePart corrupt = parts_[1];
  corrupt.signature[corrupt.signature.size() - 1] ^= 1;
  ExpectInvalidSignature(Verify(kMoi, headers_[1], corrupt), "does not verify");
  corrupt.signature = "garbage";
  ExpectInvalidSignature(Verify(kMoi, headers_[1], corrupt), "does not verify");
  EXPECT_EQ(verifier_.cache_hits(), 0u);

  // Another valid signature over the same root (ECDSA is randomised) is verified in full.
  auto again = SignBatchByHand(*net_.moi, headers_);
  ASSERT_NE(again[1].signature, parts_[1].signature);
  EXPECT_TRUE(Verify(kMoi, headers_[1], again[1]));
  EXPECT_EQ(verifier_.cache_hits(), 0u);

  // The root is part of the key: a batch of other headers is not a hit either.
  auto other = SignBatchByHand(*net_.moi, {"a", "b"});
  EXPECT_TRUE(Verify(kMoi, "a", other[0]));
  EXPECT_EQ(verifier_.cache_hits(), 0u);
}

TEST_F(SignatureVerifierTest, CachedSignatureIsRefusedOnceTheCertificateIsRevoked) {
  ASSERT_TRUE(Verify(kMoi, headers_[0], parts_[0]));
  // Even under the same version number (the cache key), a revocation takes effect.
  auto revoked = globalconf::GlobalConf::Parse(
      Network::Document(
          net_, 1, {net_.moi_revoked->cert.Sha256Fingerprint(), net_.moi->cert.Sha256Fingerprint()})
          .dump());
  ASSERT_TRUE(revoked) << revoked.error().ToString();
  ExpectInvalidSignature(verifier_.Verify(**revoked, kMoi, headers_[1], parts_[1], kNow),
                         "is revoked");
}

TEST_F(SignatureVerifierTest, CacheEvictsOldestBeyondCapacity) {
  SignatureVerifier small(/*cache_entries=*/1);
  auto first = SignBatchByHand(*net_.moi, {"a", "b"});
  auto second = SignBatchByHand(*net_.moi, {"c", "d"});
  ASSERT_TRUE(small.Verify(*net_.conf, kMoi, "a", first[0], kNow));
  ASSERT_TRUE(small.Verify(*net_.conf, kMoi, "c", second[0], kNow));  // evicts first
  ASSERT_TRUE(small.Verify(*net_.conf, kMoi, "b", first[1], kNow));   // verified again
  EXPECT_EQ(small.cache_hits(), 0u);
  ASSERT_TRUE(small.Verify(*net_.conf, kMoi, "a", first[0], kNow));  // now cached
  EXPECT_EQ(small.cache_hits(), 1u);
}

}  // namespace
}  // namespace troad::gateway
