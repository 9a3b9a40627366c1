// Requests the gateways must refuse: each one with its HTTP status, its X-Road fault
// type and body, and a transfer record of the refusal in the right gateway's log.
#include <chrono>

#include "network_fixture.h"

namespace troad::testing {
namespace {

using http::bhttp::verb;

const std::string kService = "/r1/TW/GOV/MOI/household/";

class RefusalTest : public NetworkTest {
 protected:
  // curl GET with X-Road-Client `client` (none when empty) and a fresh X-Road-Id.
  CurlResult Get(Gw gw, const std::string& target, std::string_view client, std::string* id,
                 std::vector<std::string> extra = {}) {
    *id = NewTestMessageId("refusal");
    std::vector<std::string> args = {"-H", "X-Road-Id: " + *id};
    if (!client.empty()) {
      args.push_back("-H");
      args.push_back("X-Road-Client: " + std::string(client));
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return net().Curl(gw, target, args);
  }

  // The refusal of a request the consumer gateway turned away itself: status, type,
  // and its record (found by the detail the fault body names).
  void ExpectConsumerRefusal(const CurlResult& r, unsigned status, std::string_view type) {
    ASSERT_EQ(r.exit_code, 0) << r.output;
    FaultBody body;
    ASSERT_TRUE(IsFault(FromCurl(r), status, type, &body)) << Diag();
    EXPECT_TRUE(HasRecord(net(), Gw::kBli, "request_id", body.detail, "consumer", type));
  }

  size_t BackendRequestsContaining(std::string_view text) {
    size_t n = 0;
    for (const SeenRequest& s : net().backends().Seen()) {
      if (s.target.find(text) != std::string::npos) ++n;
    }
    return n;
  }
};

TEST_F(RefusalTest, MalformedTargetIsBadRequest) {
  std::string id;
  for (const char* target : {"/r1/TW/GOV", "/r1/TW/GOV/MOI", "/r1/TW/GOV/MOI/household", "/",
                             "/foo/TW/GOV/MOI/household/echo", "/r1//GOV/MOI/household/echo"}) {
    SCOPED_TRACE(target);
    CurlResult r = Get(Gw::kBli, target, kBliClient, &id);
    ExpectConsumerRefusal(r, 400, "Client.BadRequest");
  }
}

TEST_F(RefusalTest, OtherProtocolVersionIsRefused) {
  std::string id;
  CurlResult r = Get(Gw::kBli, "/r2/TW/GOV/MOI/household/echo", kBliClient, &id);
  ExpectConsumerRefusal(r, 400, "Client.InvalidProtocolVersion");
}

// The record of a refusal carries the X-Road-Id the caller sent, however early the
// refusal, so that the caller's id finds it (X-Road logs the id it was given).
TEST_F(RefusalTest, RecordOfAnEarlyRefusalCarriesTheCallersMessageId) {
  std::string id;
  CurlResult r = Get(Gw::kBli, "/r1/TW/GOV", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 400, "Client.BadRequest")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", "Client.BadRequest"));
  CurlResult r2 = Get(Gw::kBli, kService + "echo", "TW/GOV", &id);
  ASSERT_TRUE(IsFault(FromCurl(r2), 400, "Client.InvalidClientIdentifier")) << Diag();
  EXPECT_TRUE(
      HasRecord(net(), Gw::kBli, "message_id", id, "consumer", "Client.InvalidClientIdentifier"));
}

TEST_F(RefusalTest, OverlongTargetIsRefused) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "echo/" + std::string(9000, 'a'), kBliClient, &id);
  ExpectConsumerRefusal(r, 400, "Client.BadRequest");
  EXPECT_EQ(BackendRequestsContaining("aaaaaaaaaaaaaaaa"), 0u);
}

TEST_F(RefusalTest, BadIdentifierCharactersAreRefused) {
  std::string id;
  for (const char* target :
       {"/r1/TW/GOV/MOI%3B/household/echo", "/r1/TW/GOV/MOI/house%3Bhold/echo",
        "/r1/TW/GOV/MOI/household/ec%3Bho", "/r1/TW/G%2FOV/MOI/household/echo",
        "/r1/TW/GOV/MOI/household/ec%00ho", "/r1/TW/GOV/M%ZZOI/household/echo"}) {
    SCOPED_TRACE(target);
    CurlResult r = Get(Gw::kBli, target, kBliClient, &id);
    ExpectConsumerRefusal(r, 400, "Client.BadRequest");
  }
}

TEST_F(RefusalTest, MissingClientHeaderIsInvalidClientIdentifier) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "echo", "", &id);
  ExpectConsumerRefusal(r, 400, "Client.InvalidClientIdentifier");
}

TEST_F(RefusalTest, MalformedClientHeaderIsInvalidClientIdentifier) {
  std::string id;
  for (const char* client : {"TW/GOV", "TW/GOV/BLI/insurance/extra", "TW//BLI/insurance",
                             "TW/GOV/BLI/insu%3Brance"}) {
    SCOPED_TRACE(client);
    CurlResult r = Get(Gw::kBli, kService + "echo", client, &id);
    ExpectConsumerRefusal(r, 400, "Client.InvalidClientIdentifier");
  }
}

TEST_F(RefusalTest, SubsystemNotServedByThisGatewayIsRefused) {
  std::string id;
  // TAX's subsystem is registered, but on TAX's gateway, not on BLI's.
  for (std::string_view client : {kTaxClient, std::string_view("TW/GOV/BLI/unknown"),
                                  std::string_view("TW/GOV/BLI")}) {
    SCOPED_TRACE(std::string(client));
    CurlResult r = Get(Gw::kBli, kService + "echo", client, &id);
    ExpectConsumerRefusal(r, 400, "Client.InvalidClientIdentifier");
  }
  // Nothing was sent to MOI's gateway.
  auto provider = net().Records(Gw::kMoi, "message_id", id);
  ASSERT_TRUE(provider);
  EXPECT_TRUE(provider->empty());
}

TEST_F(RefusalTest, UnknownServiceIsRefusedByTheProvider) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "nosuchservice/x", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.UnknownService")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.UnknownService"));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.UnknownService"));
}

TEST_F(RefusalTest, ServiceOfAnUnknownProviderIsRefused) {
  std::string id;
  CurlResult r = Get(Gw::kBli, "/r1/TW/GOV/NOBODY/sub/echo", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ClientProxy.UnknownMember")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ClientProxy.UnknownMember"));
}

TEST_F(RefusalTest, DisabledServiceIsRefusedWithItsNotice) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "disabled/x", kBliClient, &id);
  FaultBody body;
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.ServiceDisabled", &body)) << Diag();
  EXPECT_NE(body.message.find(kDisabledNotice), std::string::npos) << body.message;
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.ServiceDisabled"));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.ServiceDisabled"));
  EXPECT_EQ(BackendRequestsContaining(id), 0u);
}

TEST_F(RefusalTest, ClientWithoutGrantIsAccessDenied) {
  std::string id;
  // TAX calls through its own gateway: it holds no grant at all.
  CurlResult r = Get(Gw::kTax, kService + "echo/tax", kTaxClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.AccessDenied")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.AccessDenied"));
  EXPECT_TRUE(HasRecord(net(), Gw::kTax, "message_id", id, "consumer",
                        "Server.ServerProxy.AccessDenied"));
  EXPECT_EQ(BackendRequestsContaining("/tax"), 0u);
}

TEST_F(RefusalTest, CallOutsideTheGrantedEndpointsIsAccessDenied) {
  std::string id;
  // BLI may GET /persons/{id} of the registry, and nothing else of it.
  CurlResult r = Get(Gw::kBli, kService + "registry/households/H0000001", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.AccessDenied")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.AccessDenied"));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.AccessDenied"));
  // The right path with another method.
  CurlResult post = Get(Gw::kBli, kService + "registry/persons/A123456789", kBliClient, &id,
                        {"-X", "POST", "--data", "{}"});
  EXPECT_TRUE(IsFault(FromCurl(post), 500, "Server.ServerProxy.AccessDenied")) << Diag();
  // More segments than the rule has.
  CurlResult deeper = Get(Gw::kBli, kService + "registry/persons/A123456789/x", kBliClient, &id);
  EXPECT_TRUE(IsFault(FromCurl(deeper), 500, "Server.ServerProxy.AccessDenied")) << Diag();
}

TEST_F(RefusalTest, OversizedBodyIsRefusedAndRecorded) {
  std::string id = NewTestMessageId("oversized");
  http::Request req = MakeRestRequest(verb::post, kService + "echo/oversized", kBliClient, id);
  req.set("Content-Type", "application/octet-stream");
  req.body() = std::string(kConsumerMaxBody + 1, 'z');
  auto res = net().Call(net().ports(Gw::kBli).consumer, std::move(req));
  ASSERT_TRUE(res) << res.error().message() << Diag();
  Answer a = FromResponse(*res);
  // X-Road answers every Client.* fault with 400; 413 says the same more precisely.
  EXPECT_TRUE(a.status == 400 || a.status == 413) << a.status;
  EXPECT_EQ(a.Header("x-road-error"), "Client.LimitExceeded") << a.body;
  EXPECT_EQ(BackendRequestsContaining("/oversized"), 0u);
  EXPECT_TRUE(IsFault(a, a.status, "Client.LimitExceeded"));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", "Client.LimitExceeded"));
}

TEST_F(RefusalTest, BackendDownIsServiceFailedNetworkError) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "down/x", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.ServiceFailed.NetworkError"))
      << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.ServiceFailed.NetworkError"));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.ServiceFailed.NetworkError"));
}

TEST_F(RefusalTest, SlowBackendIsCutOffAtItsTimeout) {
  std::string id;
  auto start = std::chrono::steady_clock::now();
  CurlResult r = Get(Gw::kBli, kService + "slow/x", kBliClient, &id);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.ServiceFailed.")) << Diag();
  // The provider gave up at the service's timeout, not when the backend answered.
  EXPECT_LT(elapsed, kSlowDelay);
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.ServiceFailed."));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.ServiceFailed."));
}

TEST_F(RefusalTest, GarbageFromTheBackendIsServiceFailed) {
  std::string id;
  CurlResult r = Get(Gw::kBli, kService + "garbage/x", kBliClient, &id);
  ASSERT_TRUE(IsFault(FromCurl(r), 500, "Server.ServerProxy.ServiceFailed.")) << Diag();
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider",
                        "Server.ServerProxy.ServiceFailed."));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer",
                        "Server.ServerProxy.ServiceFailed."));
  // The garbage backend did see the request (so it was the answer that failed).
  EXPECT_GE(BackendRequestsContaining("GET /x HTTP/1.1"), 1u);
}

TEST_F(RefusalTest, PathTraversalIsRefusedAndNeverReachesTheBackend) {
  std::string id;
  CurlResult registry =
      Get(Gw::kBli, kService + "registry/persons/..%2F..%2Fhouseholds/H0000001", kBliClient, &id);
  ExpectConsumerRefusal(registry, 400, "Client.BadRequest");
  EXPECT_TRUE(registry.body.find("戶長") == std::string::npos) << registry.body;

  // The same tricks against the echo backend, which records every target it sees.
  for (const char* rest :
       {"/persons/..%2F..%2Ftrav1", "/a/../trav2", "/a/./trav3", "/%2e%2e/trav4", "/%2E%2E/trav5",
        "/..;x/trav6", "/%252e%252e/trav7", "/a/%2e%2e%2ftrav8", "/a/..%5Ctrav9", "/..",
        "/a/%2e", "/trav10/%2e%2e", "/a/..%00/trav11", "/a\\..\\trav12"}) {
    SCOPED_TRACE(rest);
    // http::Client sends the target byte for byte (curl would rewrite some of these).
    id = NewTestMessageId("traversal");
    auto res = net().Call(net().ports(Gw::kBli).consumer,
                          MakeRestRequest(verb::get, kService + "echo" + rest, kBliClient, id));
    ASSERT_TRUE(res) << res.error().message() << Diag();
    FaultBody body;
    ASSERT_TRUE(IsFault(FromResponse(*res), 400, "Client.BadRequest", &body));
    EXPECT_TRUE(HasRecord(net(), Gw::kBli, "request_id", body.detail, "consumer",
                          "Client.BadRequest"));
  }
  for (const SeenRequest& s : net().backends().Seen()) {
    EXPECT_EQ(s.target.find("trav"), std::string::npos) << "reached the backend: " << s.target;
    EXPECT_EQ(s.target.find(".."), std::string::npos) << "reached the backend: " << s.target;
  }
}

}  // namespace
}  // namespace troad::testing
