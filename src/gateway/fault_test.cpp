#include "gateway/fault.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace troad::gateway {
namespace {

std::string Header(const http::Response& response, std::string_view name) {
  auto it = response.find(name);
  return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

TEST(FaultTypeTest, PrefixesNameTheFailingParty) {
  EXPECT_EQ(FaultType(FaultOrigin::kClient, kFaultBadRequest), "Client.BadRequest");
  EXPECT_EQ(FaultType(FaultOrigin::kClientProxy, kFaultOutdatedGlobalConf),
            "Server.ClientProxy.OutdatedGlobalConf");
  EXPECT_EQ(FaultType(FaultOrigin::kServerProxy, kFaultAccessDenied),
            "Server.ServerProxy.AccessDenied");
}

TEST(FaultTypeTest, CodeThatAlreadyCarriesThePrefixIsKept) {
  EXPECT_EQ(FaultType(FaultOrigin::kServerProxy, "Server.ServerProxy.DatabaseError"),
            "Server.ServerProxy.DatabaseError");
  // A prefix-like start without the dot is a different code and gets the prefix.
  EXPECT_EQ(FaultType(FaultOrigin::kClient, "ClientX"), "Client.ClientX");
}

TEST(FaultTypeTest, BackendFailuresAreServiceFailedSubcodes) {
  EXPECT_EQ(FaultType(FaultOrigin::kServerProxy, ServiceFailedCode(kFaultNetworkError)),
            "Server.ServerProxy.ServiceFailed.NetworkError");
}

TEST(FaultHttpStatusTest, ServerFaultsAre500AndClientFaults400) {
  EXPECT_EQ(FaultHttpStatus("Server.ServerProxy.NetworkError"), 500u);
  EXPECT_EQ(FaultHttpStatus("Server.ClientProxy.InternalError"), 500u);
  EXPECT_EQ(FaultHttpStatus("Client.BadRequest"), 400u);
  EXPECT_EQ(FaultHttpStatus("Serve"), 400u);
}

TEST(FaultCodeForTest, ExplicitFaultWins) {
  Error error = Error(ErrorCode::kInvalidArgument, "bad signature")
                    .WithFault(std::string(kFaultInvalidSignatureValue));
  EXPECT_EQ(FaultCodeFor(error), "InvalidSignatureValue");
}

TEST(FaultCodeForTest, EveryErrorCodeHasADefault) {
  struct Case {
    ErrorCode code;
    std::string_view fault;
  };
  const Case cases[] = {
      {ErrorCode::kInvalidArgument, kFaultInvalidRequest},
      {ErrorCode::kNotFound, kFaultNotFound},
      {ErrorCode::kAlreadyExists, kFaultDuplicateMessageId},
      {ErrorCode::kPermissionDenied, kFaultAccessDenied},
      {ErrorCode::kUnauthenticated, kFaultSslAuthenticationFailed},
      {ErrorCode::kFailedPrecondition, kFaultOutdatedGlobalConf},
      {ErrorCode::kResourceExhausted, kFaultLimitExceeded},
      {ErrorCode::kDeadlineExceeded, kFaultNetworkError},
      {ErrorCode::kUnavailable, kFaultNetworkError},
      {ErrorCode::kDataLoss, kFaultInternalError},
      {ErrorCode::kIo, kFaultIOError},
      {ErrorCode::kInternal, kFaultInternalError},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FaultCodeFor(Error(c.code, "x")), c.fault) << ErrorCodeName(c.code);
  }
}

TEST(FaultFormatTest, JsonUnlessAcceptNamesAnXmlType) {
  std::string content_type;
  EXPECT_EQ(FaultFormatFor("", &content_type), FaultFormat::kJson);
  EXPECT_EQ(content_type, "application/json;charset=utf-8");
  EXPECT_EQ(FaultFormatFor("application/json"), FaultFormat::kJson);
  EXPECT_EQ(FaultFormatFor("*/*"), FaultFormat::kJson);
  EXPECT_EQ(FaultFormatFor("application/xhtml+xml"), FaultFormat::kJson);

  EXPECT_EQ(FaultFormatFor("application/xml", &content_type), FaultFormat::kXml);
  EXPECT_EQ(content_type, "application/xml;charset=utf-8");
  EXPECT_EQ(FaultFormatFor("application/json, TEXT/XML; charset=utf-8", &content_type),
            FaultFormat::kXml);
  EXPECT_EQ(content_type, "text/xml;charset=utf-8");
  // X-Road answers text/* with text/xml.
  EXPECT_EQ(FaultFormatFor("text/*;q=0.5", &content_type), FaultFormat::kXml);
  EXPECT_EQ(content_type, "text/xml;charset=utf-8");
}

TEST(FaultFormatTest, XmlExcludedWithZeroQualityIsNotChosen) {
  EXPECT_EQ(FaultFormatFor("application/json, text/xml;q=0"), FaultFormat::kJson);
  EXPECT_EQ(FaultFormatFor("application/xml; q=0.000"), FaultFormat::kJson);
  EXPECT_EQ(FaultFormatFor("application/xml;q=0.01"), FaultFormat::kXml);
}

// PR-REST §4.6, example 2.
TEST(MakeFaultResponseTest, JsonMatchesPrRestExample) {
  http::Response response = MakeFaultResponse(
      "Server.ServerProxy.NetworkError",
      "Connect to 10.139.178.1:8080 [/10.139.178.1] failed: Connection timed out (Connection "
      "timed out)",
      "9bc95b6e-2f1d-4a41-a7e6-11eda7d734d5", "", 11, true);
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(Header(response, "X-Road-Error"), "Server.ServerProxy.NetworkError");
  EXPECT_EQ(Header(response, "Content-Type"), "application/json;charset=utf-8");
  EXPECT_EQ(
      response.body(),
      R"x({"type":"Server.ServerProxy.NetworkError","message":"Connect to 10.139.178.1:8080 )x"
      R"x([/10.139.178.1] failed: Connection timed out (Connection timed out)",)x"
      R"x("detail":"9bc95b6e-2f1d-4a41-a7e6-11eda7d734d5"})x");
  EXPECT_EQ(Header(response, "Content-Length"), std::to_string(response.body().size()));
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(response.version(), 11u);
}

// PR-REST §4.6, example 3.
TEST(MakeFaultResponseTest, ClientFaultIsBadRequestStatus) {
  http::Response response =
      MakeFaultResponse("Client.BadRequest", "Error parsing the client's REST request.",
                        "018cbcae-537e-421b-b6f6-2608dc97bd90", "application/json", 10, false);
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(Header(response, "X-Road-Error"), "Client.BadRequest");
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["type"], "Client.BadRequest");
  EXPECT_EQ(body["detail"], "018cbcae-537e-421b-b6f6-2608dc97bd90");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(response.version(), 10u);
}

TEST(MakeFaultResponseTest, XmlHasXRoadShapeAndEscapesText) {
  http::Response response = MakeFaultResponse("Server.ClientProxy.InternalError",
                                              "a < b & \"c\"\x01 end", "d-1", "text/xml", 11, true);
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(Header(response, "Content-Type"), "text/xml;charset=utf-8");
  EXPECT_EQ(response.body(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>"
            "<error><type>Server.ClientProxy.InternalError</type>"
            "<message>a &lt; b &amp; &quot;c&quot; end</message>"
            "<detail>d-1</detail></error>");
}

TEST(MakeFaultResponseTest, InvalidUtf8IsRepairedNotThrown) {
  std::string message = "bad \xff\xfe byte";
  http::Response json = MakeFaultResponse("Client.BadRequest", message, "d", "", 11, true);
  auto body = nlohmann::json::parse(json.body());  // throws if the JSON were not UTF-8
  EXPECT_EQ(body["message"], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");

  http::Response xml = MakeFaultResponse("Client.BadRequest", message, "d", "text/xml", 11, true);
  EXPECT_NE(xml.body().find("<message>bad \xEF\xBF\xBD\xEF\xBF\xBD byte</message>"),
            std::string::npos);
}

TEST(MakeFaultResponseTest, FromErrorUsesOriginAndFault) {
  Error error = Error(ErrorCode::kPermissionDenied, "no grant for TW/GOV/BLI/insurance");
  http::Response response =
      MakeFaultResponse(FaultOrigin::kServerProxy, error, "id-7", "", 11, true);
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(Header(response, "X-Road-Error"), "Server.ServerProxy.AccessDenied");
  auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["message"], "no grant for TW/GOV/BLI/insurance");
  EXPECT_EQ(body["detail"], "id-7");
}

}  // namespace
}  // namespace troad::gateway
