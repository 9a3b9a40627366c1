// Allowed exchanges through two real gateways: the answer, the X-Road headers, the
// transfer records on both sides, and what exactly reaches the provider's backend.
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "gateway/signed_part.h"
#include "globalconf/model.h"
#include "network_fixture.h"

namespace troad::testing {
namespace {

using http::bhttp::verb;
using nlohmann::json;

const std::string kRegistry = "/r1/TW/GOV/MOI/household/registry";
const std::string kEcho = "/r1/TW/GOV/MOI/household/echo";

class ExchangeTest : public NetworkTest {
 protected:
  // One call to the echo service through BLI's gateway with http::Client; returns the
  // gateway's answer and the backend's echo of what it received.
  Answer Echo(verb method, const std::string& rest, const std::string& body,
              std::vector<std::pair<std::string, std::string>> headers, json* echo) {
    http::Request req = MakeRestRequest(method, kEcho + rest, kBliClient, NewTestMessageId("echo"));
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    auto res = net().Call(net().ports(Gw::kBli).consumer, std::move(req));
    EXPECT_TRUE(res) << (res ? "" : res.error().message()) << Diag();
    if (!res) return {};
    Answer a = FromResponse(*res);
    *echo = json::parse(a.body, nullptr, false);
    return a;
  }
};

TEST_F(ExchangeTest, AllowedCallIsAnsweredAndRecordedAlikeByBothGateways) {
  std::string id = NewTestMessageId("allowed");
  CurlResult r = net().Curl(Gw::kBli, kRegistry + "/persons/A123456789",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id});
  ASSERT_EQ(r.exit_code, 0) << r.output << Diag();
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  json body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body["national_id"], "A123456789");
  EXPECT_EQ(body["name"], "林志明");
  EXPECT_EQ(r.Header("x-road-id"), id);
  EXPECT_EQ(r.Header("x-road-client"), "TW/GOV/BLI/insurance");
  EXPECT_EQ(r.Header("x-road-service"), "TW/GOV/MOI/household/registry");
  std::string request_id = r.Header("x-road-request-id");
  std::string request_hash = r.Header("x-road-request-hash");
  EXPECT_FALSE(request_id.empty());
  EXPECT_FALSE(request_hash.empty());
  EXPECT_TRUE(r.Header("x-road-error").empty());

  auto consumer = net().Records(Gw::kBli, "message_id", id);
  auto provider = net().Records(Gw::kMoi, "message_id", id);
  ASSERT_TRUE(consumer) << consumer.error().message();
  ASSERT_TRUE(provider) << provider.error().message();
  ASSERT_EQ(consumer->size(), 1u);
  ASSERT_EQ(provider->size(), 1u);
  const gateway::TransferRecord& c = consumer->front();
  const gateway::TransferRecord& p = provider->front();
  EXPECT_EQ(c.side, "consumer");
  EXPECT_EQ(p.side, "provider");
  for (const gateway::TransferRecord* rec : {&c, &p}) {
    SCOPED_TRACE(rec->side);
    EXPECT_EQ(rec->status, 200);
    EXPECT_EQ(rec->fault, "");
    EXPECT_EQ(rec->request_id, request_id);
    EXPECT_EQ(rec->request_hash, request_hash);
    EXPECT_EQ(rec->client, "TW/GOV/BLI/insurance");
    EXPECT_EQ(rec->service, "TW/GOV/MOI/household/registry");
    EXPECT_FALSE(rec->request_signature.empty());
    EXPECT_FALSE(rec->response_signature.empty());
    EXPECT_FALSE(rec->response_hash.empty());
  }
  // Both sides hold the same signed exchange.
  EXPECT_EQ(c.request_signature, p.request_signature);
  EXPECT_EQ(c.response_signature, p.response_signature);
  EXPECT_EQ(c.response_hash, p.response_hash);
  EXPECT_EQ(c.peer, "TW/GOV/MOI/moi-gw");
  EXPECT_EQ(p.peer, "TW/GOV/BLI/bli-gw");
}

TEST_F(ExchangeTest, CallWithoutMessageIdGetsOneFromTheGateway) {
  CurlResult r = net().Curl(Gw::kBli, kRegistry + "/persons/A223456781",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  std::string id = r.Header("x-road-id");
  EXPECT_EQ(id.rfind("TW-", 0), 0u) << id;
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", ""));
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider", ""));
}

TEST_F(ExchangeTest, BackendStatusIsPassedThroughAndSigned) {
  std::string id = NewTestMessageId("404");
  CurlResult r = net().Curl(Gw::kBli, kRegistry + "/persons/Z999999999",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id});
  EXPECT_EQ(r.status, 404u) << r.body << Diag();
  EXPECT_TRUE(r.Header("x-road-error").empty());
  auto consumer = net().Records(Gw::kBli, "message_id", id);
  ASSERT_TRUE(consumer && consumer->size() == 1u);
  EXPECT_EQ(consumer->front().status, 404);
  EXPECT_FALSE(consumer->front().response_signature.empty());
}

TEST_F(ExchangeTest, MethodPathAndQueryReachTheBackendUnchanged) {
  struct Case {
    verb method;
    std::string body;
  };
  const std::string rest = "/a/b%20c/%E6%88%B6%E7%B1%8D/d;v=1";
  const std::string query = "x=1&y=%2F&z=&w=a+b";
  for (const Case& c : {Case{verb::get, ""}, Case{verb::post, R"({"name":"林志明","n":1})"},
                        Case{verb::put, R"({"put":true})"}, Case{verb::delete_, ""},
                        Case{verb::patch, R"({"op":"replace"})"}}) {
    SCOPED_TRACE(std::string(http::bhttp::to_string(c.method)));
    json echo;
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.body.empty()) headers.emplace_back("Content-Type", "application/json");
    Answer a = Echo(c.method, rest + "?" + query, c.body, headers, &echo);
    ASSERT_EQ(a.status, 200u) << a.body << Diag();
    ASSERT_TRUE(echo.is_object()) << a.body;
    EXPECT_EQ(echo["method"], std::string(http::bhttp::to_string(c.method)));
    EXPECT_EQ(echo["path"], std::string(kEchoBase) + rest);
    EXPECT_EQ(echo["query"], query);
    EXPECT_EQ(echo["body"], c.body);
    if (!c.body.empty()) {
      EXPECT_EQ(echo["headers"].value("content-type", ""), "application/json");
    }
    // The backend's own response headers come back too.
    EXPECT_EQ(a.Header("x-echo-backend"), "yes");
  }
}

TEST_F(ExchangeTest, EmptyRestPathReachesTheBackendBase) {
  json echo;
  Answer a = Echo(verb::get, "", "", {}, &echo);
  ASSERT_EQ(a.status, 200u) << a.body << Diag();
  EXPECT_EQ(echo["path"], std::string(kEchoBase));
  EXPECT_EQ(echo["query"], "");
}

TEST_F(ExchangeTest, LargeBodyBelowTheLimitArrivesWhole) {
  std::string body(kConsumerMaxBody - 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 97) body[i] = static_cast<char>('a' + i % 26);
  json echo;
  Answer a = Echo(verb::post, "/big", body, {{"Content-Type", "text/plain"}}, &echo);
  ASSERT_EQ(a.status, 200u) << a.body.substr(0, 500) << Diag();
  EXPECT_EQ(echo["body"], body);
}

TEST_F(ExchangeTest, XRoadHeadersReachTheBackendAndCallerHopHeadersDoNot) {
  std::string id = NewTestMessageId("headers");
  // curl as the X-Road client, with headers a proxy must not forward.
  CurlResult r = net().Curl(
      Gw::kBli, kEcho + "/h",
      {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id, "-H",
       "X-Road-UserId: TW12345678", "-H", "X-Road-Issue: case 2024/17", "-H",
       "User-Agent: it-agent/1.0", "-H", "Connection: keep-alive, X-Hop-Option", "-H",
       "X-Hop-Option: must-not-pass", "-H", "Keep-Alive: timeout=5", "-H",
       "Proxy-Authorization: Basic c2VjcmV0", "-H", "TE: trailers", "-H",
       "X-Custom-Header: passes", "-H", "X-Road-Request-Hash: forged", "-H",
       "X-Road-Service: TW/GOV/MOI/household/forged", "-H", "Accept: application/json"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  json echo = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(echo.is_object()) << r.body;
  const json& h = echo["headers"];
  EXPECT_EQ(h.value("x-road-client", ""), "TW/GOV/BLI/insurance");
  EXPECT_EQ(h.value("x-road-id", ""), id);
  EXPECT_EQ(h.value("x-road-userid", ""), "TW12345678");
  EXPECT_EQ(h.value("x-road-issue", ""), "case 2024/17");
  EXPECT_EQ(h.value("x-road-service", ""), "TW/GOV/MOI/household/echo");
  EXPECT_EQ(h.value("x-road-request-id", ""), r.Header("x-road-request-id"));
  EXPECT_EQ(h.value("x-road-request-hash", ""), r.Header("x-road-request-hash"));
  EXPECT_NE(h.value("x-road-request-hash", ""), "forged");
  EXPECT_EQ(h.value("x-custom-header", ""), "passes");
  EXPECT_EQ(h.value("accept", ""), "application/json");
  for (const char* dropped : {"x-hop-option", "keep-alive", "proxy-authorization", "te"}) {
    EXPECT_FALSE(h.contains(dropped)) << dropped << " reached the backend: " << h.dump();
  }
  EXPECT_NE(h.value("user-agent", ""), "it-agent/1.0");
  std::string caller_host = "127.0.0.1:" + std::to_string(net().ports(Gw::kBli).consumer);
  EXPECT_NE(h.value("host", ""), caller_host);
  // The caller sees the user id and issue echoed back in the X-Road headers.
  EXPECT_EQ(r.Header("x-road-userid"), "TW12345678");
  EXPECT_EQ(r.Header("x-road-issue"), "case 2024/17");
  auto rec = net().Records(Gw::kMoi, "message_id", id);
  ASSERT_TRUE(rec && rec->size() == 1u);
  EXPECT_EQ(rec->front().user_id, "TW12345678");
  EXPECT_EQ(rec->front().issue, "case 2024/17");
}

const std::vector<std::string> kSignedPartHeaders = {
    "x-road-response-header", "x-road-response-signature", "x-road-response-certificate"};

TEST_F(ExchangeTest, SignedPartIsHandedOutOnRequestAndVerifiesAgainstTheNetworksCa) {
  const std::string body = R"({"keep":"the provider's signature"})";
  json echo;
  Answer a = Echo(verb::post, "/signed-part", body,
                  {{"Content-Type", "application/json"}, {"X-Road-Want-Signature", "1"}}, &echo);
  ASSERT_EQ(a.status, 200u) << a.body << Diag();
  ASSERT_TRUE(echo.is_object()) << a.body;
  // The consumer gateway consumed the header: neither the provider's backend nor the
  // signed request header (H's headers are what the provider forwards) carried it.
  EXPECT_FALSE(echo["headers"].contains("x-road-want-signature")) << echo["headers"].dump();
  EXPECT_EQ(echo["body"], body);

  std::map<std::string, std::string> part;
  for (const std::string& name : kSignedPartHeaders) {
    auto decoded = Base64Decode(a.Header(name));
    ASSERT_TRUE(decoded && !decoded->empty()) << name << ": \"" << a.Header(name) << "\"";
    part[name] = *decoded;
  }
  const std::string& header = part["x-road-response-header"];
  const std::string& signature = part["x-road-response-signature"];
  const std::string& certificate = part["x-road-response-certificate"];

  auto conf = globalconf::GlobalConf::LoadFile(net().dir() + "/net/globalconf.json");
  ASSERT_TRUE(conf) << conf.error().ToString();
  auto h = gateway::VerifySignedPart({a.body, header, signature}, certificate, &(*conf)->trust());
  ASSERT_TRUE(h) << h.error().ToString();
  EXPECT_EQ(h->service.ToString(), "TW/GOV/MOI/household/echo");
  EXPECT_EQ(h->client.ToString(), kBliClient);
  EXPECT_EQ(h->id, a.Header("x-road-id"));
  EXPECT_EQ(h->request_hash, a.Header("x-road-request-hash"));
  EXPECT_EQ(h->status, 200u);
  // The certificate is a signing certificate of the provider member in the configuration.
  auto cert = crypto::Certificate::FromDer(certificate);
  ASSERT_TRUE(cert);
  const globalconf::CertificateOwner* owner = (*conf)->OwnerOf(cert->Sha256Fingerprint());
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->kind, globalconf::CertificateOwner::Kind::kMemberSigning);
  EXPECT_EQ(owner->owner, "TW/GOV/MOI");
  // S is the part both gateways recorded.
  auto rec = net().Records(Gw::kBli, "message_id", h->id);
  ASSERT_TRUE(rec && rec->size() == 1u);
  EXPECT_EQ(rec->front().response_signature, signature);

  // The part binds this body and no other.
  std::string changed = a.body;
  changed.back() = ' ';
  EXPECT_FALSE(
      gateway::VerifySignedPart({changed, header, signature}, certificate, &(*conf)->trust()));
}

TEST_F(ExchangeTest, WantSignatureOtherThanOneIsRefusedBeforeTheExchange) {
  std::string id = NewTestMessageId("want-yes");
  CurlResult r = net().Curl(Gw::kBli, kEcho + "/want-yes",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id,
                             "-H", "X-Road-Want-Signature: yes"});
  ASSERT_EQ(r.exit_code, 0) << r.output << Diag();
  FaultBody fault;
  ASSERT_TRUE(IsFault(FromCurl(r), 400, "Client.BadRequest", &fault)) << Diag();
  EXPECT_NE(fault.message.find("X-Road-Want-Signature must be \"1\""), std::string::npos)
      << fault.message;
  for (const std::string& name : kSignedPartHeaders) EXPECT_EQ(r.Header(name), "") << name;
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", "Client.BadRequest"));
  for (const SeenRequest& seen : net().backends().Seen()) {
    EXPECT_EQ(seen.target.find("/want-yes"), std::string::npos) << "reached the backend";
  }
}

TEST_F(ExchangeTest, NoSignedPartWithoutTheHeaderOrOnAFault) {
  json echo;
  Answer plain = Echo(verb::get, "/no-part", "", {}, &echo);
  ASSERT_EQ(plain.status, 200u) << plain.body << Diag();
  for (const std::string& name : kSignedPartHeaders) EXPECT_EQ(plain.Header(name), "") << name;

  // A fault the provider's gateway made carries no signed part, asked for or not.
  std::string id = NewTestMessageId("want-fault");
  CurlResult r = net().Curl(Gw::kBli, "/r1/TW/GOV/MOI/household/down/x",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id,
                             "-H", "X-Road-Want-Signature: 1"});
  ASSERT_EQ(r.exit_code, 0) << r.output << Diag();
  EXPECT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.ServiceFailed.NetworkError")) << Diag();
  for (const std::string& name : kSignedPartHeaders) EXPECT_EQ(r.Header(name), "") << name;
}

}  // namespace
}  // namespace troad::testing
