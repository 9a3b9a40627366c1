#include "mydata/fetch.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/test_util.h"

namespace troad::mydata {
namespace {

using crypto::testutil::ExpectError;
namespace bhttp = http::bhttp;

Dataset Household() {
  Dataset d;
  d.id = "household.members";
  d.name_zh = "戶籍資料";
  d.name_en = "Household register";
  d.service = ServiceId::Parse("TW/GOV/MOI/household/registry").value();
  d.path = "/persons/{nationalId}";
  return d;
}

FetchOptions Options() {
  FetchOptions o;
  o.gateway_url = "http://127.0.0.1:8083";
  o.client = ClientId::Parse("TW/GOV/MODA/mydata").value();
  return o;
}

// What the consumer gateway answers when asked for the signature (docs/protocol.md §1).
http::Response Signed(std::string body, std::string content_type = "application/json") {
  http::Response res(bhttp::status::ok, 11);
  res.set(bhttp::field::content_type, content_type);
  res.set("X-Road-Response-Header", Base64Encode(std::string_view(R"({"v":1})")));
  res.set("X-Road-Response-Signature", Base64Encode(std::string_view(R"({"alg":"ES256"})")));
  res.set("X-Road-Response-Certificate", Base64Encode(std::string_view("\x30\x82 der")));
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

TEST(FetchTest, TheRequestAsksMyDatasGatewayForTheSignature) {
  auto req = BuildFetchRequest(Options(), Household(), "A123456789", "tx-42");
  ASSERT_TRUE(req) << req.error().ToString();
  EXPECT_EQ(req->target(), "/r1/TW/GOV/MOI/household/registry/persons/A123456789");
  EXPECT_EQ((*req)["X-Road-Client"], "TW/GOV/MODA/mydata");
  EXPECT_EQ((*req)["X-Road-Want-Signature"], "1");
  EXPECT_EQ((*req)["X-Road-Issue"], "tx-42");
  EXPECT_EQ((*req)[bhttp::field::accept], "application/json");
  ExpectError(BuildFetchRequest(Options(), Household(), "A12345678/../x", "tx"),
              ErrorCode::kInvalidArgument, "national id");
}

TEST(FetchTest, ASignedAnswerBecomesAPart) {
  auto part = PartFromResponse(Household(), Signed(R"({"name":"林志明"})"));
  ASSERT_TRUE(part) << part.error().ToString();
  EXPECT_EQ(part->body, R"({"name":"林志明"})");
  EXPECT_EQ(part->response_header, R"({"v":1})");
  EXPECT_EQ(part->certificate_der, "\x30\x82 der");
  EXPECT_EQ(part->service, "TW/GOV/MOI/household/registry");
  EXPECT_TRUE(PartFromResponse(Household(), Signed("{}", "application/json; charset=utf-8")));
}

TEST(FetchTest, UnsignedMalformedOrFailedAnswersAreRefusedWithTheReason) {
  auto unsigned_answer = Signed("{}");
  unsigned_answer.erase("X-Road-Response-Signature");
  ExpectError(PartFromResponse(Household(), unsigned_answer), ErrorCode::kUnauthenticated,
              "X-Road-Response-Signature missing");
  auto not_base64 = Signed("{}");
  not_base64.set("X-Road-Response-Header", "***");
  ExpectError(PartFromResponse(Household(), not_base64), ErrorCode::kInvalidArgument, "not base64");
  ExpectError(PartFromResponse(Household(), Signed("{\"name\": ")), ErrorCode::kInvalidArgument,
              "malformed data");
  ExpectError(PartFromResponse(Household(), Signed("<html/>", "text/html")),
              ErrorCode::kInvalidArgument, "text/html, not application/json");
  ExpectError(PartFromResponse(Household(), Signed("")), ErrorCode::kInvalidArgument, "nothing");

  http::Response missing(bhttp::status::not_found, 11);
  ExpectError(PartFromResponse(Household(), missing), ErrorCode::kNotFound, "no record");
  http::Response timeout(bhttp::status::internal_server_error, 11);
  timeout.set("X-Road-Error", "Server.ServerProxy.ServiceTimeout");
  timeout.body() = R"({"type":"Server.ServerProxy.ServiceTimeout","message":"no answer in 5 s"})";
  ExpectError(PartFromResponse(Household(), timeout), ErrorCode::kDeadlineExceeded,
              "no answer in 5 s");
  http::Response refused(bhttp::status::bad_request, 11);
  refused.set("X-Road-Error", "Client.AccessDenied");
  ExpectError(PartFromResponse(Household(), refused), ErrorCode::kUnavailable,
              "Client.AccessDenied");
  http::Response broken(bhttp::status::service_unavailable, 11);
  ExpectError(PartFromResponse(Household(), broken), ErrorCode::kUnavailable, "answered 503");
}

}  // namespace
}  // namespace troad::mydata
