// X-Road metaservices through real gateways: listClients on the consumer port, and
// listMethods, allowedMethods and getOpenAPI answered (and signed) by the provider.
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "network_fixture.h"

namespace troad::testing {
namespace {

using nlohmann::json;

class MetaserviceTest : public NetworkTest {
 protected:
  // service code → endpoints ("METHOD path") of a listMethods/allowedMethods answer.
  static std::map<std::string, std::set<std::string>> Services(const std::string& body) {
    std::map<std::string, std::set<std::string>> out;
    json doc = json::parse(body, nullptr, false);
    if (!doc.is_object() || !doc["service"].is_array()) {
      ADD_FAILURE() << "not a service list: " << body;
      return out;
    }
    for (const json& s : doc["service"]) {
      EXPECT_EQ(s.value("xroad_instance", ""), "TW");
      EXPECT_EQ(s.value("member_code", ""), "MOI");
      EXPECT_EQ(s.value("subsystem_code", ""), "household");
      EXPECT_EQ(s.value("object_type", ""), "SERVICE");
      auto& endpoints = out[s.value("service_code", "")];
      if (s.contains("endpoint_list")) {
        for (const json& e : s["endpoint_list"]) {
          endpoints.insert(e.value("method", "") + " " + e.value("path", ""));
        }
      }
    }
    return out;
  }
};

// (member code, subsystem code or "") of every entry of a listClients JSON answer.
std::set<std::pair<std::string, std::string>> ListedClients(const std::string& body) {
  std::set<std::pair<std::string, std::string>> out;
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc["member"].is_array()) {
    ADD_FAILURE() << "not a client list: " << body;
    return out;
  }
  for (const json& m : doc["member"]) {
    const json& id = m["id"];
    std::string subsystem = id.value("subsystem_code", "");
    EXPECT_EQ(id.value("object_type", ""), subsystem.empty() ? "MEMBER" : "SUBSYSTEM");
    EXPECT_EQ(id.value("xroad_instance", ""), "TW");
    EXPECT_EQ(id.value("member_class", ""), "GOV");
    out.emplace(id.value("member_code", ""), subsystem);
  }
  return out;
}

TEST_F(MetaserviceTest, ListClientsAsJsonNamesEveryMemberAndSubsystem) {
  CurlResult r = net().Curl(Gw::kBli, "/listClients", {"-H", "Accept: application/json"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  EXPECT_NE(r.Header("content-type").find("application/json"), std::string::npos);
  auto clients = ListedClients(r.body);
  std::set<std::pair<std::string, std::string>> expected = {
      {"MOI", ""}, {"BLI", ""}, {"TAX", ""}, {"MOI", "household"}, {"BLI", "insurance"},
      {"TAX", "income"}};
  EXPECT_EQ(clients, expected) << r.body;
  EXPECT_NE(r.body.find("內政部"), std::string::npos);
}

TEST_F(MetaserviceTest, ListClientsOfAnotherInstanceIsEmpty) {
  CurlResult r =
      net().Curl(Gw::kBli, "/listClients?xRoadInstance=EE", {"-H", "Accept: application/json"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  EXPECT_TRUE(ListedClients(r.body).empty()) << r.body;
}

TEST_F(MetaserviceTest, ListClientsAsXmlWhenAskedForXml) {
  CurlResult r = net().Curl(Gw::kBli, "/listClients", {"-H", "Accept: text/xml"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  EXPECT_NE(r.Header("content-type").find("xml"), std::string::npos) << r.Header("content-type");
  EXPECT_NE(r.body.find("clientList"), std::string::npos) << r.body;
  for (const char* text : {"household", "insurance", "income", "TAX"}) {
    EXPECT_NE(r.body.find(text), std::string::npos) << text;
  }
}

// PR-META §2: JSON only when Accept names application/json; XML otherwise, also when
// the caller sends no Accept header at all.
TEST_F(MetaserviceTest, ListClientsWithoutAcceptIsXml) {
  CurlResult r = net().Curl(Gw::kBli, "/listClients", {"-H", "Accept:"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  EXPECT_NE(r.Header("content-type").find("xml"), std::string::npos)
      << "Content-Type: " << r.Header("content-type") << "\n" << r.body.substr(0, 300);
}

TEST_F(MetaserviceTest, ListMethodsListsTheProvidersServices) {
  std::string id = NewTestMessageId("listMethods");
  CurlResult r = net().Curl(Gw::kBli, "/r1/TW/GOV/MOI/household/listMethods",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance", "-H", "X-Road-Id: " + id});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  auto services = Services(r.body);
  for (const char* code : {"registry", "echo", "slow", "garbage", "down"}) {
    EXPECT_TRUE(services.count(code)) << code << " missing: " << r.body;
  }
  EXPECT_EQ(services["registry"], (std::set<std::string>{"GET /persons/{nationalId}",
                                                         "GET /households/{householdId}"}));
  for (const char* meta : {"listMethods", "allowedMethods", "getOpenAPI"}) {
    EXPECT_FALSE(services.count(meta)) << meta;
  }
  // Answered by the provider gateway, signed and recorded like any exchange.
  EXPECT_FALSE(r.Header("x-road-request-hash").empty());
  EXPECT_TRUE(HasRecord(net(), Gw::kMoi, "message_id", id, "provider", ""));
  EXPECT_TRUE(HasRecord(net(), Gw::kBli, "message_id", id, "consumer", ""));
}

TEST_F(MetaserviceTest, AllowedMethodsListsWhatTheClientMayCall) {
  auto res = net().Call(net().ports(Gw::kBli).consumer,
                        MakeRestRequest(http::bhttp::verb::get,
                                        "/r1/TW/GOV/MOI/household/allowedMethods", kBliClient,
                                        NewTestMessageId("allowed")));
  ASSERT_TRUE(res) << res.error().message() << Diag();
  ASSERT_EQ(res->result_int(), 200u) << res->body();
  auto services = Services(res->body());
  EXPECT_EQ(services["registry"], (std::set<std::string>{"GET /persons/{nationalId}"}));
  for (const char* code : {"echo", "slow", "garbage", "down"}) {
    EXPECT_TRUE(services.count(code)) << code << " missing: " << res->body();
  }

  // TAX holds no grant: nothing is allowed.
  auto tax = net().Call(net().ports(Gw::kTax).consumer,
                        MakeRestRequest(http::bhttp::verb::get,
                                        "/r1/TW/GOV/MOI/household/allowedMethods", kTaxClient,
                                        NewTestMessageId("allowed-tax")));
  ASSERT_TRUE(tax) << tax.error().message() << Diag();
  ASSERT_EQ(tax->result_int(), 200u) << tax->body();
  EXPECT_TRUE(Services(tax->body()).empty()) << tax->body();
}

TEST_F(MetaserviceTest, GetOpenApiReturnsTheDescriptionWithoutInternalServers) {
  CurlResult r = net().Curl(Gw::kBli, "/r1/TW/GOV/MOI/household/getOpenAPI?serviceCode=registry",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance"});
  ASSERT_EQ(r.status, 200u) << r.body << Diag();
  json doc = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.body;
  EXPECT_EQ(doc.value("openapi", ""), "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/persons/{nationalId}"));
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("9001"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("http://"), std::string::npos) << r.body;
}

TEST_F(MetaserviceTest, GetOpenApiOfAServiceWithoutDescriptionIsNotFound) {
  CurlResult r = net().Curl(Gw::kBli, "/r1/TW/GOV/MOI/household/getOpenAPI?serviceCode=echo",
                            {"-H", "X-Road-Client: TW/GOV/BLI/insurance"});
  EXPECT_EQ(r.status, 404u) << r.body << Diag();
  EXPECT_EQ(r.body.find(std::to_string(net().backends().echo_port())), std::string::npos);
}

}  // namespace
}  // namespace troad::testing
