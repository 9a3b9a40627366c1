#include "gateway/signed_part.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "crypto/ca.h"
#include "crypto/hash.h"
#include "gateway/fault.h"
#include "ledger/merkle.h"

namespace troad::gateway {
namespace {

const SystemTime kT0 = *ParseRfc3339("2026-01-01T00:00:00Z");
const int64_t kSignedAtMs = ToUnixMillis(kT0 + std::chrono::hours(1));

struct Signer {
  crypto::PrivateKey key;
  crypto::Certificate cert;
};

// The certificates of these tests, made once: a CA; MOI's signing certificate, a second
// one of MOI, a two-hour one of MOI, one of MOI from a CA nobody trusts; BLI's.
struct Keys {
  crypto::Certificate ca;
  std::optional<Signer> moi, moi_second, moi_short, moi_foreign, bli;

  static const Keys& Get() {
    static const Keys* keys = Make();
    return *keys;
  }

 private:
  static Signer Issue(const crypto::Certificate& ca, const crypto::PrivateKey& ca_key,
                      const std::string& member, std::chrono::seconds validity) {
    FakeClock clock(kT0);
    auto key = crypto::PrivateKey::GenerateEcP256().value();
    crypto::CertificateRequest req;
    req.common_name = member;
    req.serial_number_attr = member;
    req.usage = crypto::CertUsage::kSigning;
    req.validity = validity;
    auto cert = crypto::IssueCertificate(ca, ca_key, key.Public(), req, clock);
    EXPECT_TRUE(cert) << cert.error().ToString();
    return Signer{key, *cert};
  }

  static Keys* Make() {
    FakeClock clock(kT0);
    auto ca_key = crypto::PrivateKey::GenerateEcP256().value();
    auto other_ca_key = crypto::PrivateKey::GenerateEcP256().value();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    req.validity = std::chrono::hours(24 * 365 * 5);
    auto ca = crypto::CreateSelfSignedCa(ca_key, req, clock).value();
    req.common_name = "some other CA";
    auto other_ca = crypto::CreateSelfSignedCa(other_ca_key, req, clock).value();
    const std::chrono::seconds year = std::chrono::hours(24 * 365);
    auto* keys = new Keys{ca, {}, {}, {}, {}, {}};
    keys->moi = Issue(ca, ca_key, "TW/GOV/MOI", year);
    keys->moi_second = Issue(ca, ca_key, "TW/GOV/MOI", year);
    keys->moi_short = Issue(ca, ca_key, "TW/GOV/MOI", std::chrono::hours(2));
    keys->moi_foreign = Issue(other_ca, other_ca_key, "TW/GOV/MOI", year);
    keys->bli = Issue(ca, ca_key, "TW/GOV/BLI", year);
    return keys;
  }
};

// A body with its H and S as a consumer gateway hands them out.
struct Part {
  std::string body, header, signature;
  SignedPartView view() const { return {body, header, signature}; }
};

// A response of MOI's registry signed by `signer` at `time_ms`, as the middle message
// of a batch of three, so that its inclusion path is not empty.
Part MakePart(const Signer& signer, int64_t time_ms = kSignedAtMs) {
  Part p;
  p.body = R"({"national_id":"A123456789","name":"林志明"})";
  ResponseHeader h;
  h.id = "TW-3f0c2a9e";
  h.request_id = "0190a5e4-7c1d-7b3e-9f00-2c1e5e1c9f00";
  h.request_hash =
      "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+Sfa"
      "Pg==";
  h.client = *ClientId::Parse("TW/GOV/BLI/insurance");
  h.service = *ServiceId::Parse("TW/GOV/MOI/household/registry");
  h.status = 200;
  h.time_ms = time_ms;
  h.body_length = p.body.size();
  h.body_sha512 = crypto::Sha512(p.body);
  h.headers = {{"content-type", "application/json"}};
  p.header = SerializeResponseHeader(h);
  ledger::MerkleTree tree({ledger::LeafHash("another response"), ledger::LeafHash(p.header),
                           ledger::LeafHash("a third response")});
  auto sig = signer.key.Sign(BatchSignatureInput(tree.size(), tree.root()));
  EXPECT_TRUE(sig) << sig.error().ToString();
  p.signature = SerializeSignaturePart(
      SignaturePart{"ES256", signer.cert.Sha256Fingerprint(), tree.size(), 1, tree.Proof(1), *sig});
  return p;
}

crypto::TrustStore Trust() { return crypto::TrustStore::Create({Keys::Get().ca}).value(); }

void ExpectRefused(const Result<ResponseHeader>& result, ErrorCode code, std::string_view needle) {
  ASSERT_FALSE(result) << "verified, expected a refusal mentioning " << needle;
  EXPECT_EQ(result.error().code(), code) << result.error().ToString();
  EXPECT_NE(result.error().message().find(needle), std::string::npos)
      << "message does not mention \"" << needle << "\": " << result.error().message();
}

// ---- VerifySignedPart ---------------------------------------------------------------

TEST(SignedPartTest, GoodPartVerifiesAndReturnsItsHeader) {
  const Keys& keys = Keys::Get();
  Part p = MakePart(*keys.moi);
  crypto::TrustStore trust = Trust();
  const std::vector<const crypto::TrustStore*> trusts = {nullptr, &trust};
  for (const crypto::TrustStore* t : trusts) {
    SCOPED_TRACE(t ? "with trust" : "without trust");
    auto h = VerifySignedPart(p.view(), keys.moi->cert, t);
    ASSERT_TRUE(h) << h.error().ToString();
    EXPECT_EQ(h->service.ToString(), "TW/GOV/MOI/household/registry");
    EXPECT_EQ(h->status, 200u);
    EXPECT_EQ(h->time_ms, kSignedAtMs);
    auto from_der = VerifySignedPart(p.view(), keys.moi->cert.ToDer(), t);
    EXPECT_TRUE(from_der) << from_der.error().ToString();
  }
}

TEST(SignedPartTest, ChangedBodyByteIsRefused) {
  Part p = MakePart(*Keys::Get().moi);
  p.body[5] ^= 0x01;
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kUnauthenticated,
                "body does not match H.body_sha512");
  p = MakePart(*Keys::Get().moi);
  p.body += ' ';
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kUnauthenticated,
                "H.body_length");
}

TEST(SignedPartTest, ChangedHeaderByteIsRefused) {
  Part p = MakePart(*Keys::Get().moi);
  size_t at = p.header.find("\"status\":200");
  ASSERT_NE(at, std::string::npos) << p.header;
  p.header[at + 11] = '1';  // 200 → 201: still a well-formed response header
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kUnauthenticated,
                "S.sig does not verify");
  // A byte that breaks the JSON is named as such.
  p = MakePart(*Keys::Get().moi);
  p.header.back() = ']';
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kInvalidArgument,
                "response header");
}

TEST(SignedPartTest, ChangedPathEntryIsRefused) {
  Part p = MakePart(*Keys::Get().moi);
  SignaturePart s = ParseSignaturePart(p.signature).value();
  ASSERT_FALSE(s.path.empty());
  s.path[0][7] ^= 0x80;
  p.signature = SerializeSignaturePart(s);
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kUnauthenticated,
                "S.sig does not verify");
  // A path of the wrong length for the leaf's position leads to no root at all.
  s.path.pop_back();
  p.signature = SerializeSignaturePart(s);
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kInvalidArgument,
                "S.path");
}

TEST(SignedPartTest, MalformedSignaturePartIsRefused) {
  Part p = MakePart(*Keys::Get().moi);
  p.signature = R"({"alg":"ES256"})";
  ExpectRefused(VerifySignedPart(p.view(), Keys::Get().moi->cert), ErrorCode::kInvalidArgument,
                "signature part");
}

TEST(SignedPartTest, AnotherCertificateIsRefused) {
  const Keys& keys = Keys::Get();
  Part p = MakePart(*keys.moi);
  // Another certificate of the same member from the same CA is still not the one S names.
  ExpectRefused(VerifySignedPart(p.view(), keys.moi_second->cert, nullptr),
                ErrorCode::kUnauthenticated, "S.cert_sha256");
  ExpectRefused(VerifySignedPart(p.view(), "not DER"), ErrorCode::kInvalidArgument, "certificate");
}

TEST(SignedPartTest, CertificateExpiredAtSigningTimeIsRefusedWhenTrustIsGiven) {
  const Keys& keys = Keys::Get();
  // Valid for two hours from kT0; the part says it was signed after three.
  Part p = MakePart(*keys.moi_short, ToUnixMillis(kT0 + std::chrono::hours(3)));
  crypto::TrustStore trust = Trust();
  ExpectRefused(VerifySignedPart(p.view(), keys.moi_short->cert, &trust),
                ErrorCode::kUnauthenticated, "certificate was not valid at H.time_ms");
  // Without trust only the cryptography is checked.
  EXPECT_TRUE(VerifySignedPart(p.view(), keys.moi_short->cert, nullptr));
  // Within its validity the same certificate verifies.
  Part early = MakePart(*keys.moi_short);
  EXPECT_TRUE(VerifySignedPart(early.view(), keys.moi_short->cert, &trust));
}

TEST(SignedPartTest, CertificateOfUnknownCaIsRefused) {
  const Keys& keys = Keys::Get();
  Part p = MakePart(*keys.moi_foreign);
  crypto::TrustStore trust = Trust();
  ExpectRefused(VerifySignedPart(p.view(), keys.moi_foreign->cert, &trust),
                ErrorCode::kUnauthenticated, "does not chain to a trusted CA");
  EXPECT_TRUE(VerifySignedPart(p.view(), keys.moi_foreign->cert, nullptr));
}

TEST(SignedPartTest, CertificateOfAnotherMemberThanTheProviderIsRefused) {
  const Keys& keys = Keys::Get();
  // BLI's own certificate, from the network's CA, over a response of MOI's service.
  Part p = MakePart(*keys.bli);
  crypto::TrustStore trust = Trust();
  ExpectRefused(VerifySignedPart(p.view(), keys.bli->cert, &trust), ErrorCode::kUnauthenticated,
                "is not the provider member TW/GOV/MOI");
}

// ---- WantsSignedPart ----------------------------------------------------------------

http::Request RequestWith(std::initializer_list<std::string_view> values) {
  http::Request req{http::bhttp::verb::get, "/r1/TW/GOV/MOI/household/registry", 11};
  for (std::string_view v : values) req.insert(kHeaderWantSignature, v);
  return req;
}

TEST(SignedPartTest, WantSignatureIsOneOrAbsent) {
  EXPECT_EQ(WantsSignedPart(RequestWith({})).value(), false);
  EXPECT_EQ(WantsSignedPart(RequestWith({"1"})).value(), true);
  EXPECT_EQ(WantsSignedPart(RequestWith({"1", "1"})).value(), true);
  http::Request lower = RequestWith({});
  lower.insert("x-road-want-signature", "1");
  EXPECT_EQ(WantsSignedPart(lower).value(), true);
}

TEST(SignedPartTest, WantSignatureOtherThanOneIsABadRequest) {
  for (const auto& values :
       {std::vector<std::string_view>{"yes"}, {"0"}, {""}, {"true"}, {"1", "2"}}) {
    http::Request req = RequestWith({});
    for (std::string_view v : values) req.insert(kHeaderWantSignature, v);
    auto wanted = WantsSignedPart(req);
    ASSERT_FALSE(wanted) << values.back();
    EXPECT_EQ(wanted.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(wanted.error().fault(), kFaultBadRequest);
    EXPECT_NE(wanted.error().message().find("X-Road-Want-Signature must be \"1\""),
              std::string::npos)
        << wanted.error().message();
  }
}

}  // namespace
}  // namespace troad::gateway
