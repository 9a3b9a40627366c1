#include "gateway/metaservices.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/fault.h"

namespace troad::gateway {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The compact form of a documented JSON example, key order kept.
std::string Compact(std::string_view documented) { return OrderedJson::parse(documented).dump(); }

ClientId Client(std::string_view text) {
  auto id = ClientId::Parse(text);
  EXPECT_TRUE(id) << text;
  return *id;
}

ServiceId Service(std::string_view text) {
  auto id = ServiceId::Parse(text);
  EXPECT_TRUE(id) << text;
  return *id;
}

std::vector<ClientInfo> PrMetaClients() {
  return {
      {Client("AA/GOV/TS1OWNER"), "TS1 Owner", ""},
      {Client("AA/GOV/TS2OWNER"), "TS2 Owner", ""},
      {Client("AA/ENT/CLIENT1"), "Client One", ""},
      {Client("AA/ENT/CLIENT1/sub"), "Client One", "Client One Sub"},
  };
}

// PR-META Annex C.1, JSON response.
TEST(ListClientsTest, JsonMatchesPrMetaExample) {
  constexpr std::string_view kExample = R"({
  "member": [
    {"id": {"member_class": "GOV", "member_code": "TS1OWNER", "object_type": "MEMBER",
            "xroad_instance": "AA"},
     "name": "TS1 Owner"},
    {"id": {"member_class": "GOV", "member_code": "TS2OWNER", "object_type": "MEMBER",
            "xroad_instance": "AA"},
     "name": "TS2 Owner"},
    {"id": {"member_class": "ENT", "member_code": "CLIENT1", "object_type": "MEMBER",
            "xroad_instance": "AA"},
     "name": "Client One"},
    {"id": {"member_class": "ENT", "member_code": "CLIENT1", "subsystem_code": "sub",
            "object_type": "SUBSYSTEM", "xroad_instance": "AA"},
     "name": "Client One", "subsystem_name": "Client One Sub"}
  ]
})";
  EXPECT_EQ(RenderListClientsJson(PrMetaClients()), Compact(kExample));
}

// PR-META Annex C.1, XML response (the root start tag on one line).
TEST(ListClientsTest, XmlMatchesPrMetaExample) {
  constexpr std::string_view kExample =
      R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns2:clientList xmlns:ns1="http://x-road.eu/xsd/identifiers" xmlns:ns2="http://x-road.eu/xsd/xroad.xsd">
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>GOV</ns1:memberClass>
            <ns1:memberCode>TS1OWNER</ns1:memberCode>
        </ns2:id>
        <ns2:name>TS1 Owner</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>GOV</ns1:memberClass>
            <ns1:memberCode>TS2OWNER</ns1:memberCode>
        </ns2:id>
        <ns2:name>TS2 Owner</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>ENT</ns1:memberClass>
            <ns1:memberCode>CLIENT1</ns1:memberCode>
        </ns2:id>
        <ns2:name>Client One</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="SUBSYSTEM">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>ENT</ns1:memberClass>
            <ns1:memberCode>CLIENT1</ns1:memberCode>
            <ns1:subsystemCode>sub</ns1:subsystemCode>
        </ns2:id>
        <ns2:name>Client One</ns2:name>
        <ns2:subsystemName>Client One Sub</ns2:subsystemName>
    </ns2:member>
</ns2:clientList>
)";
  EXPECT_EQ(RenderListClientsXml(PrMetaClients()), kExample);
}

TEST(ListClientsTest, EmptyListsAndEscaping) {
  EXPECT_EQ(RenderListClientsJson({}), R"({"member":[]})");
  std::string xml = RenderListClientsXml({});
  EXPECT_NE(xml.find("<ns2:clientList "), std::string::npos);
  EXPECT_NE(xml.find("/>\n"), std::string::npos);

  std::vector<ClientInfo> odd = {{Client("TW/GOV/MOI"), "R&D <Lab>", ""}};
  EXPECT_NE(RenderListClientsXml(odd).find("<ns2:name>R&amp;D &lt;Lab&gt;</ns2:name>"),
            std::string::npos);
  auto json = nlohmann::json::parse(RenderListClientsJson(odd));
  EXPECT_EQ(json["member"][0]["name"], "R&D <Lab>");
  // Nameless entries omit "name", as X-Road's NON_NULL serialisation does.
  std::vector<ClientInfo> nameless = {{Client("TW/GOV/MOI"), "", ""}};
  EXPECT_FALSE(
      nlohmann::json::parse(RenderListClientsJson(nameless))["member"][0].contains("name"));
}

TEST(ListClientsTest, AcceptHeaderChoosesTheFormat) {
  EXPECT_TRUE(ListClientsWantsJson("application/json"));
  EXPECT_TRUE(ListClientsWantsJson("text/html, Application/JSON; charset=utf-8"));
  EXPECT_FALSE(ListClientsWantsJson(""));
  EXPECT_FALSE(ListClientsWantsJson("*/*"));
  EXPECT_FALSE(ListClientsWantsJson("application/jsonx"));

  http::Response json = MakeListClientsResponse(PrMetaClients(), "application/json", 11, true);
  EXPECT_EQ(json.result_int(), 200);
  EXPECT_EQ(json[http::bhttp::field::content_type], kListClientsJsonContentType);
  EXPECT_EQ(json.body(), RenderListClientsJson(PrMetaClients()));

  http::Response xml = MakeListClientsResponse(PrMetaClients(), "", 11, false);
  EXPECT_EQ(xml.result_int(), 200);
  EXPECT_EQ(xml[http::bhttp::field::content_type], kListClientsXmlContentType);
  EXPECT_EQ(xml.body(), RenderListClientsXml(PrMetaClients()));
  EXPECT_FALSE(xml.keep_alive());
}

// PR-MREST Annex B.2, allowedMethods response.
TEST(RestServiceListTest, MatchesPrMrestExample) {
  constexpr std::string_view kExample = R"({
  "service": [
    {
      "member_class": "CLASS2",
      "member_code": "MEMBER2",
      "object_type": "SERVICE",
      "service_code": "payloadgen",
      "service_type": "OPENAPI",
      "subsystem_code": "SUBSYSTEM2",
      "xroad_instance": "INSTANCE",
      "endpoint_list": [
        {"method": "GET", "path": "/pet/findByStatus"},
        {"method": "GET", "path": "/pet/findByTags"},
        {"method": "GET", "path": "/pet/*"}
      ]
    }
  ]
})";
  std::vector<ServiceInfo> services = {
      {Service("INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/payloadgen"),
       std::string(kServiceTypeOpenApi),
       {{"GET", "/pet/findByStatus"}, {"GET", "/pet/findByTags"}, {"GET", "/pet/*"}}},
  };
  EXPECT_EQ(RenderRestServiceList(services), Compact(kExample));
}

TEST(RestServiceListTest, MetaservicesAreNeverListed) {
  std::vector<ServiceInfo> services = {
      {Service("I/C/M/S/listMethods"), std::string(kServiceTypeRest), {}},
      {Service("I/C/M/S/allowedMethods"), std::string(kServiceTypeRest), {}},
      {Service("I/C/M/S/getOpenAPI"), std::string(kServiceTypeRest), {}},
      {Service("I/C/M/S/kore"), std::string(kServiceTypeRest), {}},
  };
  auto json = nlohmann::json::parse(RenderRestServiceList(services));
  ASSERT_EQ(json["service"].size(), 1u);
  EXPECT_EQ(json["service"][0]["service_code"], "kore");
  EXPECT_TRUE(json["service"][0]["endpoint_list"].is_array());
  EXPECT_TRUE(json["service"][0]["endpoint_list"].empty());
  EXPECT_EQ(RenderRestServiceList({}), R"({"service":[]})");
}

// ---- getOpenAPI --------------------------------------------------------------------

TEST(GetOpenApiServiceCodeTest, ReadsTheQueryParameter) {
  auto code = GetOpenApiServiceCode("serviceCode=listFirms");
  ASSERT_TRUE(code) << code.error().ToString();
  EXPECT_EQ(*code, "listFirms");
  auto last = GetOpenApiServiceCode("ServiceCode=a&x=1&serviceCode=b");
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, "b");
}

TEST(GetOpenApiServiceCodeTest, MissingCodeIsInvalidRequest) {
  for (const char* query : {"", "serviceCode=", "service=listFirms", "serviceCode"}) {
    auto code = GetOpenApiServiceCode(query);
    ASSERT_FALSE(code) << query;
    EXPECT_EQ(code.error().fault(), kFaultInvalidRequest) << query;
  }
  for (const char* query : {"serviceCode=a%2Fb", "serviceCode=a%zz"}) {
    auto code = GetOpenApiServiceCode(query);
    ASSERT_FALSE(code) << query;
    EXPECT_EQ(code.error().fault(), kFaultBadRequest) << query;
  }
}

std::string Strip(std::string_view in) {
  auto out = StripOpenApiServers(in);
  EXPECT_TRUE(out) << out.error().ToString();
  return out ? *out : std::string();
}

void ExpectRefused(std::string_view in, std::string_view message_part) {
  auto out = StripOpenApiServers(in);
  ASSERT_FALSE(out) << "accepted: " << in;
  EXPECT_EQ(out.error().fault(), kFaultInternalError);
  EXPECT_NE(out.error().message().find(message_part), std::string::npos) << out.error().message();
}

// The cases of X-Road's Openapi3AnonymiserTest that troad treats the same way.
TEST(StripOpenApiServersTest, ReducesServerUrlsToPathsAsXRoadDoes) {
  EXPECT_EQ(Strip(R"({"openapi":"3.0.0","servers":[{"url":"https://example.com/api/v1"}]})"),
            R"({"openapi":"3.0.0","servers":[{"url":"/api/v1"}]})");
  EXPECT_EQ(Strip(R"({"openapi":"3.1.0","servers":[{"url":"https://example.com/v2"}]})"),
            R"({"openapi":"3.1.0","servers":[{"url":"/v2"}]})");
  EXPECT_EQ(Strip(R"({"openapi":"3.0.0","info":{"title":"test"}})"),
            R"({"openapi":"3.0.0","info":{"title":"test"}})");
  EXPECT_EQ(Strip(R"({"openapi":"3.0.0","servers":[{"description":"no url here"}]})"),
            R"({"openapi":"3.0.0","servers":[{"description":"no url here"}]})");
  EXPECT_EQ(Strip(R"({"servers":[{"url":"https://example.com/mypath"}]})"),
            R"({"servers":[{"url":"/mypath"}]})");
  ExpectRefused(R"({"openapi":"2.0.0","servers":[{"url":"https://example.com/api"}]})",
                "version 3");
  ExpectRefused(R"({"openapi":"3.0.0","servers":[{"url":"https://exam ple.com/api"}]})",
                "cannot parse server URL");
}

// PR-MREST Annex B.3's description, as JSON: "https://example.com" has no path.
TEST(StripOpenApiServersTest, HostOnlyUrlBecomesEmpty) {
  EXPECT_EQ(Strip(R"({"openapi":"3.0.0","servers":[{"url":"https://example.com"},)"
                  R"({"url":"http://10.0.0.5:8080/"},{"url":"https://h/p?q=1#f"}]})"),
            R"({"openapi":"3.0.0","servers":[{"url":""},{"url":"/"},{"url":"/p"}]})");
}

TEST(StripOpenApiServersTest, RelativeUrlsStayAndOpaqueOnesGo) {
  EXPECT_EQ(Strip(R"({"openapi":"3.0.3","servers":[{"url":"/api"},{"url":"v1/x"},{"url":""}]})"),
            R"({"openapi":"3.0.3","servers":[{"url":"/api"},{"url":"v1/x"},{"url":""}]})");
  EXPECT_EQ(Strip(R"({"openapi":"3.0.3","servers":[{"url":"localhost:8080/api"}]})"),
            R"({"openapi":"3.0.3","servers":[{"url":""}]})");
}

TEST(StripOpenApiServersTest, TemplatedHostIsReducedAndItsVariablesDropped) {
  EXPECT_EQ(Strip(R"({"openapi":"3.0.0","servers":[{"url":"https://{host}:{port}/api/{version}",)"
                  R"("variables":{"host":{"default":"db.internal"},"port":{"default":"8443"},)"
                  R"("version":{"default":"v1"}}},{"url":"{scheme}://{host}/x",)"
                  R"("variables":{"scheme":{"default":"https"},"host":{"default":"10.1.2.3"}}}]})"),
            R"({"openapi":"3.0.0","servers":[{"url":"/api/{version}","variables":{"version":)"
            R"({"default":"v1"}}},{"url":"/x"}]})");
}

TEST(StripOpenApiServersTest, PathAndOperationServersAreStrippedToo) {
  EXPECT_EQ(
      Strip(R"({"openapi":"3.0.0","paths":{"/pets":{"servers":[{"url":"https://a.internal/p"}],)"
            R"("get":{"servers":[{"url":"https://b.internal/g"}],"responses":{}},)"
            R"("x-servers":{"servers":"left alone"}}}})"),
      R"({"openapi":"3.0.0","paths":{"/pets":{"servers":[{"url":"/p"}],)"
      R"("get":{"servers":[{"url":"/g"}],"responses":{}},"x-servers":{"servers":"left alone"}}}})");
}

TEST(StripOpenApiServersTest, KeepsKeyOrderAndOtherContent) {
  constexpr std::string_view kIn =
      R"({"openapi":"3.0.0","info":{"version":"1.0.0","title":"Firm listing"},)"
      R"("servers":[{"url":"https://example.com"}],"paths":{"/firms":{"get":{"summary":)"
      R"("List all firms","operationId":"listFirms","tags":["firms"]}}},"components":{}})";
  EXPECT_EQ(Strip(kIn),
            R"({"openapi":"3.0.0","info":{"version":"1.0.0","title":"Firm listing"},)"
            R"("servers":[{"url":""}],"paths":{"/firms":{"get":{"summary":)"
            R"("List all firms","operationId":"listFirms","tags":["firms"]}}},"components":{}})");
}

TEST(StripOpenApiServersTest, RefusesWhatItCannotExamine) {
  ExpectRefused(R"({"openapi":"3.0.0","servers":{"url":"https://example.com/single"}})",
                "expected an array");
  ExpectRefused(R"({"openapi":"3.0.0","servers":[{"url":42}]})", "expected a string");
  ExpectRefused(R"({"openapi":"3.0.0","servers":["https://x"]})", "expected an object");
  ExpectRefused(R"({"openapi":"3.0.0","paths":{"/a":{"get":{"servers":{"url":"https://x/y"}}}}})",
                "expected an array");
  ExpectRefused(R"({"openapi":3.0,"servers":[]})", "version 3");
  ExpectRefused(R"({"openapi":"3.0.0","servers":[{"url":"https://x/\u0000y"}]})",
                "cannot parse server URL");
}

TEST(StripOpenApiServersTest, YamlAndMalformedInputAreRefusedClearly) {
  ExpectRefused("openapi: \"3.0.0\"\nservers:\n  - url: https://example.com\n", "YAML");
  ExpectRefused(R"({"openapi":"3.0.0",)", "malformed JSON");
  ExpectRefused("", "empty");
  ExpectRefused("[1,2]", "object");
  ExpectRefused(std::string(300, '[') + std::string(300, ']'), "nested deeper");
}

}  // namespace
}  // namespace troad::gateway
