// Attacks on MOI's provider port: the test plays a rogue or careless gateway, speaking
// mutual TLS with troad's http::Client and building envelopes itself (envelope.h),
// signed by hand over BatchSignatureInput(1, LeafHash(H)) with keys `troad init` made.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "crypto/ca.h"
#include "crypto/random.h"
#include "gateway/envelope.h"
#include "http/tls.h"
#include "ledger/merkle.h"
#include "network_fixture.h"

namespace troad::testing {
namespace {

using gateway::RequestHeader;
using gateway::SignaturePart;
using http::bhttp::verb;

// One identity on the provider port: a TLS client certificate and key.
struct Identity {
  std::vector<crypto::Certificate> chain;
  std::optional<crypto::PrivateKey> key;
};

// A member's signing key and certificate.
struct Signer {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
};

class ProviderAttackTest : public NetworkTest {
 protected:
  void SetUp() override {
    NetworkTest::SetUp();
    if (HasFatalFailure()) return;
    std::string net_dir = net().dir() + "/net";
    auto ca = crypto::Certificate::LoadPemFile(net_dir + "/ca/ca.crt");
    ASSERT_TRUE(ca) << ca.error().message();
    ca_ = *ca;
    bli_ = LoadIdentity(net().GatewayDir(Gw::kBli));
    tax_ = LoadIdentity(net().GatewayDir(Gw::kTax));
    bli_signer_ = LoadSigner(net().GatewayDir(Gw::kBli) + "/sign-GOV-BLI");
    tax_signer_ = LoadSigner(net().GatewayDir(Gw::kTax) + "/sign-GOV-TAX");
  }

  Identity LoadIdentity(const std::string& dir) {
    Identity id;
    auto cert = crypto::Certificate::LoadPemFile(dir + "/auth.crt");
    auto key = crypto::PrivateKey::LoadPemFile(dir + "/auth.key");
    EXPECT_TRUE(cert && key) << dir;
    if (cert) id.chain.push_back(*cert);
    if (key) id.key = *key;
    return id;
  }

  std::optional<Signer> LoadSigner(const std::string& stem) {
    auto cert = crypto::Certificate::LoadPemFile(stem + ".crt");
    auto key = crypto::PrivateKey::LoadPemFile(stem + ".key");
    EXPECT_TRUE(cert && key) << stem;
    if (!cert || !key) return std::nullopt;
    return Signer{*key, *cert};
  }

  // A well-formed request header from BLI's gateway for MOI's echo service.
  RequestHeader ValidHeader(const std::string& payload) {
    RequestHeader h;
    h.id = NewTestMessageId("rogue");
    h.request_id = crypto::NewUuid();
    h.client = *ClientId::Parse(kBliClient);
    h.service = *ServiceId::Parse(std::string(kMoiSubsystem) + "/echo");
    h.method = "POST";
    h.path = "/rogue";
    h.consumer_gateway = *GatewayId::Parse("TW/GOV/BLI/bli-gw");
    h.provider_gateway = *GatewayId::Parse("TW/GOV/MOI/moi-gw");
    h.time_ms = SystemClock::Get().NowMillis();
    h.body_length = payload.size();
    h.body_sha512 = crypto::Sha512(payload);
    h.headers = {{"content-type", "text/plain"}};
    return h;
  }

  // The signature part for header bytes H, as a batch of one.
  static SignaturePart Sign(const Signer& signer, std::string_view header_bytes) {
    SignaturePart s;
    s.algorithm = std::string(signer.key.Algorithm());
    s.certificate_sha256 = signer.certificate.Sha256Fingerprint();
    s.batch_size = 1;
    s.leaf_index = 0;
    auto sig = signer.key.Sign(gateway::BatchSignatureInput(1, ledger::LeafHash(header_bytes)));
    EXPECT_TRUE(sig) << sig.error().message();
    s.signature = sig.value_or("");
    return s;
  }

  static std::string Envelope(std::string_view header_bytes, const SignaturePart& sig,
                              std::string_view payload) {
    std::string out =
        gateway::EncodeEnvelopePrefix(header_bytes, gateway::SerializeSignaturePart(sig));
    out.append(payload);
    return out;
  }

  // A complete, correctly signed envelope from BLI.
  std::string ValidEnvelope(const std::string& payload, std::string* message_id) {
    RequestHeader h = ValidHeader(payload);
    *message_id = h.id;
    std::string hb = gateway::SerializeRequestHeader(h);
    return Envelope(hb, Sign(*bli_signer_, hb), payload);
  }

  // POSTs `envelope` to MOI's provider port as `identity` (nullptr: no client certificate).
  Result<http::Response> Send(const Identity* identity, std::string envelope) {
    http::TlsOptions tls;
    if (identity != nullptr) {
      tls.certificate_chain = identity->chain;
      tls.private_key = identity->key;
    }
    tls.trust_anchors = {*ca_};
    tls.tls13_only = true;
    TROAD_ASSIGN_OR_RETURN(auto context, http::MakeClientTlsContext(tls));
    http::ClientOptions options;
    options.tls = context;
    // A client per call: pooled connections must not carry one identity into another test.
    auto client = std::make_shared<http::Client>(options);
    http::Endpoint ep{"127.0.0.1", net().ports(Gw::kMoi).provider, true, ""};
    http::Request req{verb::post, std::string(gateway::kExchangePath), 11};
    req.set(http::bhttp::field::content_type, gateway::kEnvelopeContentType);
    req.body() = std::move(envelope);
    auto result = net().io().Run(
        [](std::shared_ptr<http::Client> c, http::Endpoint e,
           http::Request r) -> http::asio::awaitable<Result<http::ClientResponse>> {
          auto answer = co_await c->Send(e, std::move(r), std::chrono::seconds(20));
          c->Shutdown();
          co_return answer;
        }(client, ep, std::move(req)));
    if (!result) return Fail(std::move(result).error());
    return std::move(result->response);
  }

  // Expects a refusal by MOI's gateway with `type`, recorded under `message_id`.
  void ExpectRefused(const Result<http::Response>& res, std::string_view type,
                     const std::string& message_id) {
    ASSERT_TRUE(res) << res.error().message() << Diag();
    FaultBody body;
    EXPECT_TRUE(IsFault(FromResponse(*res), 500, type, &body)) << Diag();
    EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", message_id, "provider", type));
  }

  size_t RecordsWithFault(std::string_view type) {
    auto records = net().Records(Gw::kMoi, "fault", std::string(type));
    EXPECT_TRUE(records) << records.error().message();
    return records ? records->size() : 0;
  }

  std::optional<crypto::Certificate> ca_;
  Identity bli_, tax_;
  std::optional<Signer> bli_signer_, tax_signer_;
};

TEST_F(ProviderAttackTest, CorrectlySignedEnvelopeIsServed) {
  // The baseline the attacks below vary: everything right.
  std::string id;
  auto res = Send(&bli_, ValidEnvelope("hello provider", &id));
  ASSERT_TRUE(res) << res.error().message() << Diag();
  ASSERT_EQ(res->result_int(), 200u) << res->body() << Diag();
  EXPECT_EQ((*res)[http::bhttp::field::content_type], gateway::kEnvelopeContentType);
  auto envelope = gateway::DecodeEnvelope(res->body());
  ASSERT_TRUE(envelope) << envelope.error().message();
  auto rh = gateway::ParseResponseHeader(envelope->header);
  ASSERT_TRUE(rh) << rh.error().message();
  EXPECT_EQ(rh->id, id);
  EXPECT_EQ(rh->status, 200u);
  EXPECT_NE(envelope->payload.find("hello provider"), std::string_view::npos);
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider", ""));
}

TEST_F(ProviderAttackTest, ClientCertificateFromAnotherCaIsRefusedAtHandshake) {
  auto rogue_ca_key = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(rogue_ca_key);
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "rogue CA";
  ca_req.usage = crypto::CertUsage::kCa;
  auto rogue_ca = crypto::CreateSelfSignedCa(*rogue_ca_key, ca_req, SystemClock::Get());
  ASSERT_TRUE(rogue_ca) << rogue_ca.error().message();
  auto key = crypto::PrivateKey::GenerateEcP256();
  ASSERT_TRUE(key);
  crypto::CertificateRequest req;
  req.common_name = "TW/GOV/BLI/bli-gw";  // the name of a real gateway
  req.serial_number_attr = "TW/GOV/BLI";
  req.usage = crypto::CertUsage::kAuthentication;
  req.ip_addresses = {"127.0.0.1"};
  auto cert = crypto::IssueCertificate(*rogue_ca, *rogue_ca_key, key->Public(), req,
                                       SystemClock::Get());
  ASSERT_TRUE(cert) << cert.error().message();
  Identity rogue{{*cert}, *key};
  std::string id;
  auto res = Send(&rogue, ValidEnvelope("from a foreign CA", &id));
  ASSERT_FALSE(res) << "served: " << res->result_int() << " " << res->body();
  EXPECT_EQ(res.error().code(), ErrorCode::kUnavailable) << res.error().message();
  auto records = net().Records(Gw::kMoi, "message_id", id);
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
}

TEST_F(ProviderAttackTest, ConnectionWithoutClientCertificateIsRefusedAtHandshake) {
  std::string id;
  auto res = Send(nullptr, ValidEnvelope("anonymous", &id));
  ASSERT_FALSE(res) << "served: " << res->result_int() << " " << res->body();
  EXPECT_EQ(res.error().code(), ErrorCode::kUnavailable) << res.error().message();
}

TEST_F(ProviderAttackTest, OtherGatewayClaimingToBeBlisGatewayIsSslAuthenticationFailed) {
  // TAX's gateway has a valid certificate, but the envelope says it comes from BLI's.
  std::string id;
  auto res = Send(&tax_, ValidEnvelope("impersonation", &id));
  ExpectRefused(res, "Server.ServerProxy.SslAuthenticationFailed", id);
}

TEST_F(ProviderAttackTest, MessageForAnotherProviderGatewayIsRefused) {
  std::string payload = "misdirected";
  RequestHeader h = ValidHeader(payload);
  h.provider_gateway = *GatewayId::Parse("TW/GOV/TAX/tax-gw");
  std::string hb = gateway::SerializeRequestHeader(h);
  auto res = Send(&bli_, Envelope(hb, Sign(*bli_signer_, hb), payload));
  ExpectRefused(res, "Server.ServerProxy.SslAuthenticationFailed", h.id);
}

TEST_F(ProviderAttackTest, TamperedSignatureIsInvalidSignatureValue) {
  std::string payload = "tampered signature";
  RequestHeader h = ValidHeader(payload);
  std::string hb = gateway::SerializeRequestHeader(h);
  SignaturePart sig = Sign(*bli_signer_, hb);
  ASSERT_FALSE(sig.signature.empty());
  // The last byte lies inside the ECDSA s value: the DER stays well-formed.
  sig.signature.back() = static_cast<char>(sig.signature.back() ^ 0x01);
  auto res = Send(&bli_, Envelope(hb, sig, payload));
  ExpectRefused(res, "Server.ServerProxy.InvalidSignatureValue", h.id);
}

TEST_F(ProviderAttackTest, TamperedPayloadIsInvalidSignatureValue) {
  std::string payload = "pay 100 to alice";
  RequestHeader h = ValidHeader(payload);
  h.path = "/tampered-payload";
  std::string hb = gateway::SerializeRequestHeader(h);
  SignaturePart sig = Sign(*bli_signer_, hb);
  // Same length, other bytes: only the signed hash can tell.
  auto res = Send(&bli_, Envelope(hb, sig, "pay 900 to mallo"));
  ExpectRefused(res, "Server.ServerProxy.InvalidSignatureValue", h.id);
  for (const SeenRequest& s : net().backends().Seen()) {
    EXPECT_EQ(s.target.find("tampered-payload"), std::string::npos);
  }
}

TEST_F(ProviderAttackTest, HeaderChangedAfterSigningIsInvalidSignatureValue) {
  std::string payload;
  RequestHeader h = ValidHeader(payload);
  h.method = "GET";
  std::string signed_bytes = gateway::SerializeRequestHeader(h);
  SignaturePart sig = Sign(*bli_signer_, signed_bytes);
  h.path = "/rogue-changed";
  std::string sent_bytes = gateway::SerializeRequestHeader(h);
  auto res = Send(&bli_, Envelope(sent_bytes, sig, payload));
  ExpectRefused(res, "Server.ServerProxy.InvalidSignatureValue", h.id);
  for (const SeenRequest& s : net().backends().Seen()) {
    EXPECT_EQ(s.target.find("rogue-changed"), std::string::npos);
  }
}

TEST_F(ProviderAttackTest, SignatureByAnotherMembersKeyIsInvalidSignatureValue) {
  // Signed with TAX's valid signing key, for a message claiming BLI's client.
  std::string payload = "wrong signer";
  RequestHeader h = ValidHeader(payload);
  std::string hb = gateway::SerializeRequestHeader(h);
  auto res = Send(&bli_, Envelope(hb, Sign(*tax_signer_, hb), payload));
  ExpectRefused(res, "Server.ServerProxy.InvalidSignatureValue", h.id);
}

TEST_F(ProviderAttackTest, ReplayedMessageIsDuplicateMessageId) {
  std::string id;
  std::string envelope = ValidEnvelope("once only", &id);
  auto first = Send(&bli_, envelope);
  ASSERT_TRUE(first) << first.error().message() << Diag();
  ASSERT_EQ(first->result_int(), 200u) << first->body();
  auto second = Send(&bli_, envelope);
  ExpectRefused(second, "Server.ServerProxy.DuplicateMessageId", id);
  // The backend was called once.
  size_t calls = 0;
  for (const SeenRequest& s : net().backends().Seen()) calls += s.target == "/echo-base/rogue";
  EXPECT_GE(calls, 1u);
  auto records = net().Records(Gw::kMoi, "message_id", id);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(records->at(0).status, 200);
  EXPECT_EQ(records->at(1).fault, "Server.ServerProxy.DuplicateMessageId");
}

TEST_F(ProviderAttackTest, SkewedTimeIsInvalidMessageTime) {
  for (int64_t offset_ms : {-10 * 60 * 1000, 10 * 60 * 1000}) {
    SCOPED_TRACE(offset_ms);
    std::string payload = "from another time";
    RequestHeader h = ValidHeader(payload);
    h.time_ms += offset_ms;
    std::string hb = gateway::SerializeRequestHeader(h);
    auto res = Send(&bli_, Envelope(hb, Sign(*bli_signer_, hb), payload));
    ExpectRefused(res, "Server.ServerProxy.InvalidMessageTime", h.id);
  }
}

TEST_F(ProviderAttackTest, GarbageEnvelopeIsInvalidMessage) {
  const std::string type = "Server.ServerProxy.InvalidMessage";
  std::string valid_id;
  std::string valid = ValidEnvelope("x", &valid_id);
  std::string truncated = valid.substr(0, 12);
  std::string bad_magic = "TRD9" + valid.substr(4);
  std::string bad_json = gateway::EncodeEnvelopePrefix("{not json", "{}");
  for (const std::string& body :
       {std::string("this is not an envelope"), std::string(), truncated, bad_magic, bad_json}) {
    SCOPED_TRACE(body.substr(0, 16));
    size_t before = RecordsWithFault(type);
    auto res = Send(&bli_, body);
    ASSERT_TRUE(res) << res.error().message() << Diag();
    // The detail must name the refusal's record, even when nothing else could be read.
    EXPECT_TRUE(IsFault(FromResponse(*res), 500, type));
    EXPECT_EQ(RecordsWithFault(type), before + 1);
  }
}

}  // namespace
}  // namespace troad::testing
