#include "gateway/xroad_rest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash.h"
#include "gateway/fault.h"

namespace troad::gateway {
namespace {

// ---- ParseRestTarget ---------------------------------------------------------------

// PR-REST §4.1 request example.
TEST(ParseRestTargetTest, SplitsPrRestExample) {
  auto target =
      ParseRestTarget("/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1");
  ASSERT_TRUE(target) << target.error().ToString();
  EXPECT_EQ(target->service.provider.instance, "INSTANCE");
  EXPECT_EQ(target->service.provider.member_class, "CLASS2");
  EXPECT_EQ(target->service.provider.member_code, "MEMBER2");
  EXPECT_EQ(target->service.provider.subsystem, "SUBSYSTEM2");
  EXPECT_EQ(target->service.service_code, "BARSERVICE");
  EXPECT_EQ(target->path, "/v1/bar/zyggy");
  EXPECT_EQ(target->query, "quu=1");
  EXPECT_EQ(target->metaservice, Metaservice::kNone);
}

TEST(ParseRestTargetTest, PathAndQueryAreOptional) {
  auto bare = ParseRestTarget("/r1/TW/GOV/MOI/household/getRecord");
  ASSERT_TRUE(bare) << bare.error().ToString();
  EXPECT_EQ(bare->path, "");
  EXPECT_EQ(bare->query, "");

  auto slash = ParseRestTarget("/r1/TW/GOV/MOI/household/getRecord/");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->path, "/");

  auto query = ParseRestTarget("/r1/TW/GOV/MOI/household/getRecord?id=A123&x=%20");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->path, "");
  EXPECT_EQ(query->query, "id=A123&x=%20");
}

TEST(ParseRestTargetTest, IdentifierPartsArePercentDecodedAndPathStaysRaw) {
  auto target = ParseRestTarget(
      "/r1/TW/GOV/%E5%85%A7%E6%94%BF%E9%83%A8/house%20hold/get%2BRecord/a%20b/%E5%85%A7");
  ASSERT_TRUE(target) << target.error().ToString();
  EXPECT_EQ(target->service.provider.member_code, "\xE5\x85\xA7\xE6\x94\xBF\xE9\x83\xA8");
  EXPECT_EQ(target->service.provider.subsystem, "house hold");
  EXPECT_EQ(target->service.service_code, "get+Record");
  EXPECT_EQ(target->path, "/a%20b/%E5%85%A7");
}

TEST(ParseRestTargetTest, RecognisesMetaservices) {
  auto list = ParseRestTarget("/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/listMethods");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->metaservice, Metaservice::kListMethods);
  auto allowed = ParseRestTarget("/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/allowedMethods");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->metaservice, Metaservice::kAllowedMethods);
  auto openapi =
      ParseRestTarget("/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/getOpenAPI?serviceCode=listFirms");
  ASSERT_TRUE(openapi);
  EXPECT_EQ(openapi->metaservice, Metaservice::kGetOpenApi);
  EXPECT_EQ(openapi->query, "serviceCode=listFirms");
  // Service codes are case-sensitive, as in X-Road.
  auto other = ParseRestTarget("/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/listmethods");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->metaservice, Metaservice::kNone);
}

void ExpectFault(const Result<RestTarget>& result, std::string_view fault,
                 ErrorCode code = ErrorCode::kInvalidArgument) {
  ASSERT_FALSE(result) << "accepted; path " << result->path;
  EXPECT_EQ(result.error().fault(), fault) << result.error().ToString();
  EXPECT_EQ(result.error().code(), code) << result.error().ToString();
}

TEST(ParseRestTargetTest, OtherProtocolVersionsAreRefused) {
  ExpectFault(ParseRestTarget("/r2/I/C/M/S/SVC"), kFaultInvalidProtocolVersion);
  ExpectFault(ParseRestTarget("/r10/I/C/M/S/SVC"), kFaultInvalidProtocolVersion);
  ExpectFault(ParseRestTarget("/r0/I/C/M/S/SVC/x"), kFaultInvalidProtocolVersion);
  ExpectFault(ParseRestTarget("/R1/I/C/M/S/SVC"), kFaultBadRequest);
  ExpectFault(ParseRestTarget("/rest/I/C/M/S/SVC"), kFaultBadRequest);
}

TEST(ParseRestTargetTest, MalformedTargetsAreBadRequests) {
  const char* targets[] = {
      "",
      "r1/I/C/M/S/SVC",
      "http://gw.example/r1/I/C/M/S/SVC",
      "/",
      "/r1",
      "/r1/",
      "/r1/I/C/M/S",          // no service code: the subsystem is required
      "/r1/I/C/M/S/",         // empty service code
      "/r1/I//M/S/SVC",       // empty member class
      "/r1/I/C/M%2FX/S/SVC",  // '/' inside an identifier
      "/r1/I/C/M/S/SV%3BC",   // ';' is forbidden in identifiers
      "/r1/I/C/M/S/SV%zzC",   // malformed escape
      "/r1/I/C/M/S/SV%00C",   // encoded NUL
      "/r1/I/C/M/S/SVC?a b",  // space in the query
      "/r1/I/C/M/S/SVC?a#b",  // fragment
  };
  for (const char* t : targets) {
    SCOPED_TRACE(t);
    ExpectFault(ParseRestTarget(t), kFaultBadRequest);
  }
}

TEST(ParseRestTargetTest, TraversalInTheServicePathIsRefused) {
  ExpectFault(ParseRestTarget("/r1/I/C/M/S/SVC/../admin"), kFaultBadRequest);
  ExpectFault(ParseRestTarget("/r1/I/C/M/S/SVC/%2e%2e/admin"), kFaultBadRequest);
  ExpectFault(ParseRestTarget("/r1/I/C/M/S/SVC/a%2F..%2Fadmin"), kFaultBadRequest);
}

TEST(ParseRestTargetTest, OverlongTargetIsRefused) {
  std::string target = "/r1/I/C/M/S/SVC/" + std::string(kMaxRequestTargetLength, 'a');
  ExpectFault(ParseRestTarget(target), kFaultBadRequest, ErrorCode::kResourceExhausted);
  std::string fits = "/r1/I/C/M/S/SVC/";
  fits += std::string(kMaxRequestTargetLength - fits.size(), 'a');
  EXPECT_TRUE(ParseRestTarget(fits));
}

// ---- ParseConsumerTarget -----------------------------------------------------------

TEST(ParseConsumerTargetTest, ListClientsWithAndWithoutInstance) {
  auto plain = ParseConsumerTarget("/listClients");
  ASSERT_TRUE(plain) << plain.error().ToString();
  EXPECT_EQ(plain->kind, ConsumerTarget::Kind::kListClients);
  EXPECT_EQ(plain->list_clients_instance, "");

  auto federated = ParseConsumerTarget("/listClients?xRoadInstance=AA");
  ASSERT_TRUE(federated);
  EXPECT_EQ(federated->kind, ConsumerTarget::Kind::kListClients);
  EXPECT_EQ(federated->list_clients_instance, "AA");

  auto bad = ParseConsumerTarget("/listClients?xRoadInstance=A%2FB");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fault(), kFaultBadRequest);
}

TEST(ParseConsumerTargetTest, RestServicesAndUnknownPaths) {
  auto rest = ParseConsumerTarget("/r1/TW/GOV/MOI/household/getRecord/p?q=1");
  ASSERT_TRUE(rest) << rest.error().ToString();
  EXPECT_EQ(rest->kind, ConsumerTarget::Kind::kRestService);
  EXPECT_EQ(rest->rest.path, "/p");

  for (const char* t : {"/", "/favicon.ico", "/listClients/x", "", "*"}) {
    auto other = ParseConsumerTarget(t);
    ASSERT_FALSE(other) << t;
    EXPECT_EQ(other.error().code(), ErrorCode::kNotFound) << t;
    EXPECT_EQ(other.error().fault(), kFaultBadRequest) << t;
  }
  auto version = ParseConsumerTarget("/r2/TW/GOV/MOI/household/getRecord");
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().fault(), kFaultInvalidProtocolVersion);
}

// ---- FindQueryParameter ------------------------------------------------------------

TEST(FindQueryParameterTest, FormDecodesAndTakesTheLast) {
  auto v = FindQueryParameter("a=1&serviceCode=x+y%21&b", "servicecode");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "x y!");

  auto last = FindQueryParameter("k=1&k=2", "k");
  ASSERT_TRUE(last);
  EXPECT_EQ(**last, "2");

  auto bare = FindQueryParameter("k", "k");
  ASSERT_TRUE(bare);
  EXPECT_EQ(**bare, "");

  auto absent = FindQueryParameter("a=1&&b=2", "k");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());

  auto bad = FindQueryParameter("k=%g0", "k");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fault(), kFaultBadRequest);
}

// ---- CheckRestPath / NormalizeRestPath ---------------------------------------------

TEST(CheckRestPathTest, RefusesTraversalTricks) {
  const char* paths[] = {
      "/..",
      "/.",
      "/a/../b",
      "/a/./b",
      "/a/..",
      "/%2e%2e/x",
      "/%2E%2e",
      "/.%2e",
      "/%2e",
      "/a/..;/b",  // Tomcat path parameter
      "/a/..;jsessionid=1",
      "/a%2F..%2Fb",  // encoded slash making a traversal
      "/a%2f..",
      "/%2F..",
      "/%252e%252e/x",  // double encoding
      "/%25%32%65%25%32%65",
      "/...",     // only dots
      "/..%20",   // IIS trims trailing spaces
      "/..%5Cx",  // encoded backslash
      "/a\\b",    // raw backslash
      "/a%5c..%5cb",
      "/%255c",         // double-encoded backslash
      "/%C0%AE%C0%AE",  // overlong '.' (not UTF-8)
      "/\xC0\xAE",
      "/\xff",
      "/%00",
      "/a%0a",
      "/a%7F",
      "/a\tb",
      "/a b",
      "/a%",
      "/a%4",
      "/a%g1",
      "/a#b",
      "/a?b",
      "a/b",
  };
  for (const char* p : paths) {
    auto status = CheckRestPath(p);
    EXPECT_FALSE(status) << "accepted: " << p;
    if (!status) {
      EXPECT_EQ(status.error().fault(), kFaultBadRequest) << p;
    }
  }
}

TEST(CheckRestPathTest, AcceptsOrdinaryPaths) {
  const char* paths[] = {
      "",
      "/",
      "//",
      "/a/b",
      "//a//b/",
      "/a..b",
      "/..a",
      "/.well-known/openid-configuration",
      "/a.b/c.json",
      "/%2e%2ehidden",
      "/100%25",
      "/a%2Fb",
      "/v1/bar;jsessionid=1",
      "/pets/*",
      "/\xE5\x85\xA7",
      "/%E5%85%A7",
      "/a%20b",
      "/~user/it's(ok)",
  };
  for (const char* p : paths) {
    auto status = CheckRestPath(p);
    EXPECT_TRUE(status) << p << ": " << status.error().ToString();
  }
}

TEST(NormalizeRestPathTest, CollapsesSlashesAndDecodes) {
  struct Case {
    const char* raw;
    const char* normal;
  };
  const Case cases[] = {
      {"", "/"},
      {"/", "/"},
      {"//", "/"},
      {"/a//b", "/a/b"},
      {"//a", "/a"},
      {"/a/b/", "/a/b/"},
      {"/a/b//", "/a/b/"},
      {"/pets//%61b%2fc/", "/pets/ab%2Fc/"},
      {"/100%25", "/100%25"},
      {"/a%252Fb", "/a%252Fb"},
      {"/%E5%85%A7/x", "/\xE5\x85\xA7/x"},
      {"/a%20b", "/a b"},
      {"/%7Euser", "/~user"},
  };
  for (const Case& c : cases) {
    auto normal = NormalizeRestPath(c.raw);
    ASSERT_TRUE(normal) << c.raw << ": " << normal.error().ToString();
    EXPECT_EQ(*normal, c.normal) << c.raw;
  }
}

TEST(NormalizeRestPathTest, IsIdempotent) {
  for (const char* raw : {"/pets//%61b%2fc/", "/100%25", "/a%252Fb", "/a%20b", "//x//y"}) {
    auto once = NormalizeRestPath(raw);
    ASSERT_TRUE(once) << raw;
    auto twice = NormalizeRestPath(*once);
    // "/a b" (from "/a%20b") is not itself a valid raw path; every other result is
    // and must come back unchanged.
    if (once->find(' ') != std::string::npos) continue;
    ASSERT_TRUE(twice) << *once;
    EXPECT_EQ(*twice, *once);
  }
}

TEST(NormalizeRestPathTest, EncodedSlashNeverBecomesASeparator) {
  auto encoded = NormalizeRestPath("/admin%2Fsecret");
  auto plain = NormalizeRestPath("/admin/secret");
  ASSERT_TRUE(encoded);
  ASSERT_TRUE(plain);
  EXPECT_NE(*encoded, *plain);
  auto double_encoded = NormalizeRestPath("/admin%252Fsecret");
  ASSERT_TRUE(double_encoded);
  EXPECT_NE(*double_encoded, *encoded);
}

TEST(NormalizeRestPathTest, RefusesWhatCheckRestPathRefuses) {
  for (const char* raw : {"/a/../b", "/%2e", "/a%2F..%2Fb", "/a%zz"}) {
    auto normal = NormalizeRestPath(raw);
    ASSERT_FALSE(normal) << raw << " gave " << *normal;
    EXPECT_EQ(normal.error().fault(), kFaultBadRequest);
  }
}

// ---- ParseXRoadRequestHeaders ------------------------------------------------------

http::Request MakeRequest(std::vector<std::pair<std::string, std::string>> headers) {
  http::Request request(http::bhttp::verb::get, "/r1/TW/GOV/MOI/household/getRecord", 11);
  for (auto& [name, value] : headers) request.insert(name, value);
  return request;
}

TEST(ParseXRoadRequestHeadersTest, ReadsAllHeaders) {
  auto headers = ParseXRoadRequestHeaders(MakeRequest({
      {"X-Road-Client", "TW/GOV/BLI/insurance"},
      {"X-Road-Id", "fa2e18a5-c2cb-4d09-b994-f57727f7c3fb"},
      {"X-Road-UserId", "TWA123456789"},
      {"X-Road-Issue", "MT324223MSD"},
      {"X-Road-Represented-Party", "COM/12345678"},
      {"X-Road-Security-Server", "TW/GOV/MOI/gw1"},
  }));
  ASSERT_TRUE(headers) << headers.error().ToString();
  EXPECT_EQ(headers->client.ToString(), "TW/GOV/BLI/insurance");
  EXPECT_EQ(headers->id, "fa2e18a5-c2cb-4d09-b994-f57727f7c3fb");
  EXPECT_EQ(headers->user_id, "TWA123456789");
  EXPECT_EQ(headers->issue, "MT324223MSD");
  ASSERT_TRUE(headers->represented_party);
  EXPECT_EQ(headers->represented_party->party_class, "COM");
  EXPECT_EQ(headers->represented_party->party_code, "12345678");
  ASSERT_TRUE(headers->security_server);
  EXPECT_EQ(headers->security_server->ToString(), "TW/GOV/MOI/gw1");
}

TEST(ParseXRoadRequestHeadersTest, OnlyClientIsRequired) {
  auto headers = ParseXRoadRequestHeaders(MakeRequest({{"x-road-client", "TW/GOV/BLI"}}));
  ASSERT_TRUE(headers) << headers.error().ToString();
  EXPECT_FALSE(headers->client.is_subsystem());
  EXPECT_EQ(headers->client.member_code, "BLI");
  EXPECT_EQ(headers->id, "");
  EXPECT_EQ(headers->user_id, "");
  EXPECT_EQ(headers->issue, "");
  EXPECT_FALSE(headers->represented_party);
  EXPECT_FALSE(headers->security_server);
}

TEST(ParseXRoadRequestHeadersTest, ClientPartsArePercentDecoded) {
  auto headers = ParseXRoadRequestHeaders(
      MakeRequest({{"X-Road-Client", "TW/GOV/%E5%81%A5%E4%BF%9D/sub%20system"}}));
  ASSERT_TRUE(headers) << headers.error().ToString();
  EXPECT_EQ(headers->client.member_code, "\xE5\x81\xA5\xE4\xBF\x9D");
  EXPECT_EQ(headers->client.subsystem, "sub system");
}

TEST(ParseXRoadRequestHeadersTest, LastRepeatedHeaderWins) {
  auto headers = ParseXRoadRequestHeaders(MakeRequest({
      {"X-Road-Client", "TW/GOV/FIRST/a"},
      {"X-Road-Client", "TW/GOV/LAST/b"},
  }));
  ASSERT_TRUE(headers);
  EXPECT_EQ(headers->client.ToString(), "TW/GOV/LAST/b");
}

TEST(ParseXRoadRequestHeadersTest, MissingClientIsInvalidClientIdentifier) {
  for (auto request : {MakeRequest({}), MakeRequest({{"X-Road-Client", ""}}),
                       MakeRequest({{"X-Road-Client", "   "}})}) {
    auto headers = ParseXRoadRequestHeaders(request);
    ASSERT_FALSE(headers);
    EXPECT_EQ(headers.error().fault(), kFaultInvalidClientIdentifier);
    EXPECT_NE(headers.error().message().find("client identifier is missing"), std::string::npos)
        << headers.error().message();
  }
}

TEST(ParseXRoadRequestHeadersTest, MalformedClientIsInvalidClientIdentifier) {
  for (const char* value : {"TW/GOV", "TW/GOV/BLI/a/b", "TW//BLI", "TW/GOV/BLI/", "TW/GOV/B%2FLI",
                            "TW/GOV/B;LI", "TW/GOV/B%zzLI", "TW/GOV/B%00LI", "/GOV/BLI"}) {
    auto headers = ParseXRoadRequestHeaders(MakeRequest({{"X-Road-Client", value}}));
    ASSERT_FALSE(headers) << value;
    EXPECT_EQ(headers.error().fault(), kFaultInvalidClientIdentifier) << value;
    EXPECT_EQ(headers.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(headers.error().message().find("X-Road-Client"), std::string::npos);
  }
}

TEST(ParseXRoadRequestHeadersTest, FreeTextHeadersAreBounded) {
  struct Case {
    const char* name;
    size_t limit;
  };
  for (Case c : {Case{"X-Road-Id", kMaxMessageIdLength}, Case{"X-Road-UserId", kMaxUserIdLength},
                 Case{"X-Road-Issue", kMaxIssueLength}}) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(ParseXRoadRequestHeaders(
        MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {c.name, std::string(c.limit, 'x')}})));
    for (std::string bad : {std::string(c.limit + 1, 'x'),
                            std::string("a\x01"
                                        "b"),
                            std::string("a\x7f"), std::string("\xff\xfe")}) {
      auto headers =
          ParseXRoadRequestHeaders(MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {c.name, bad}}));
      ASSERT_FALSE(headers);
      EXPECT_EQ(headers.error().fault(), kFaultBadRequest);
    }
  }
}

TEST(ParseXRoadRequestHeadersTest, RepresentedPartyClassIsOptional) {
  auto code_only = ParseXRoadRequestHeaders(
      MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {"X-Road-Represented-Party", "12345678"}}));
  ASSERT_TRUE(code_only) << code_only.error().ToString();
  ASSERT_TRUE(code_only->represented_party);
  EXPECT_EQ(code_only->represented_party->party_class, "");
  EXPECT_EQ(code_only->represented_party->party_code, "12345678");
  EXPECT_EQ(code_only->represented_party->ToString(), "12345678");

  auto encoded = ParseXRoadRequestHeaders(
      MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {"X-Road-Represented-Party", "COM/a%20b"}}));
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->represented_party->party_code, "a b");
  EXPECT_EQ(encoded->represented_party->ToString(), "COM/a%20b");

  for (const char* bad : {"A/B/C", "/CODE", "CLASS/", "A%2FB/C"}) {
    auto headers = ParseXRoadRequestHeaders(
        MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {"X-Road-Represented-Party", bad}}));
    ASSERT_FALSE(headers) << bad;
    EXPECT_EQ(headers.error().fault(), kFaultBadRequest) << bad;
  }
}

TEST(ParseXRoadRequestHeadersTest, MalformedSecurityServerIsInvalidSecurityServer) {
  for (const char* bad : {"TW/GOV/MOI", "TW/GOV/MOI/gw1/x", "TW/GOV//gw1", "TW/GOV/MOI/g%2Fw"}) {
    auto headers = ParseXRoadRequestHeaders(
        MakeRequest({{"X-Road-Client", "TW/GOV/BLI"}, {"X-Road-Security-Server", bad}}));
    ASSERT_FALSE(headers) << bad;
    EXPECT_EQ(headers.error().fault(), kFaultInvalidSecurityServer) << bad;
  }
}

TEST(IdHeaderValueTest, EncodesPartsAsPathSegments) {
  auto client = ClientId::Parse("TW/GOV/BLI/insurance");
  ASSERT_TRUE(client);
  EXPECT_EQ(ClientIdHeaderValue(*client), "TW/GOV/BLI/insurance");
  ClientId member{"TW", "GOV", "\xE5\x81\xA5 x", ""};
  EXPECT_EQ(ClientIdHeaderValue(member), "TW/GOV/%E5%81%A5%20x");
  ServiceId service{*client, "get?Record"};
  EXPECT_EQ(ServiceIdHeaderValue(service), "TW/GOV/BLI/insurance/get%3FRecord");
}

// ---- Header pass-through -----------------------------------------------------------

TEST(PassThroughTest, DropsFilteredAndGatewayHeaders) {
  for (const char* name : {"Connection",
                           "keep-alive",
                           "Proxy-Authenticate",
                           "Proxy-Authorization",
                           "Proxy-Connection",
                           "TE",
                           "Trailer",
                           "Transfer-Encoding",
                           "Upgrade",
                           "Host",
                           "User-Agent",
                           "Server",
                           "Content-Length",
                           "Expect",
                           "X-Road-Client",
                           "x-road-service",
                           "X-Road-Id",
                           "X-Road-UserId",
                           "X-Road-Issue",
                           "X-Road-Represented-Party",
                           "X-Road-Security-Server",
                           "X-Road-Request-Id",
                           "X-ROAD-REQUEST-HASH",
                           "X-Road-Error",
                           ""}) {
    EXPECT_FALSE(IsPassThroughRequestHeader(name)) << name;
    EXPECT_FALSE(IsPassThroughResponseHeader(name)) << name;
  }
}

TEST(PassThroughTest, KeepsEndToEndAndUserHeaders) {
  for (const char* name : {"Content-Type", "Accept", "Accept-Language", "Authorization", "Date",
                           "Cache-Control", "Pragma", "ETag", "Location", "Set-Cookie",
                           "X-Powered-By", "X-Road-Custom-Extension", "X-Roadie", "Proxy"}) {
    EXPECT_TRUE(IsPassThroughRequestHeader(name)) << name;
    EXPECT_TRUE(IsPassThroughResponseHeader(name)) << name;
  }
}

TEST(PassThroughTest, ConnectionOptionsNameMoreHopByHopHeaders) {
  EXPECT_EQ(ConnectionOptionHeaders("keep-alive, X-Foo ,,Upgrade"),
            (std::vector<std::string>{"keep-alive", "x-foo", "upgrade"}));
  EXPECT_TRUE(ConnectionOptionHeaders("").empty());
}

// ---- Message ids and request hash --------------------------------------------------

TEST(NewMessageIdTest, InstancePrefixAndUuid) {
  std::string a = NewMessageId("TW");
  std::string b = NewMessageId("TW");
  ASSERT_EQ(a.size(), 3u + 36u);
  EXPECT_EQ(a.substr(0, 3), "TW-");
  EXPECT_EQ(a[3 + 8], '-');
  EXPECT_EQ(a[3 + 14], '4');  // version 4
  EXPECT_NE(a, b);
}

TEST(RequestHashTest, MatchesIndependentlyComputedVector) {
  // base64(SHA-512(0x01×64 ‖ 0x02×64)), computed with Python's hashlib.
  std::string header_digest(64, '\x01');
  std::string body_digest(64, '\x02');
  EXPECT_EQ(
      RequestHash(header_digest, body_digest),
      "qRRteHkVo2C/C88itxF/baFPL+L41/xwuCAXmlZT1wagj6l92uaNjsl4NTTTXAhx8FbiVDPSeQnXFH9ufCF2Eg==");
}

TEST(RequestHashTest, WithoutBodyIsTheHeaderDigest) {
  std::string header_digest(64, '\x01');
  EXPECT_EQ(
      RequestHash(header_digest, ""),
      "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==");
}

TEST(RequestHashTest, DependsOnBothParts) {
  crypto::Sha512Digest h = crypto::Sha512("GET\r\n/r1/TW/GOV/MOI/household/getRecord\r\n");
  crypto::Sha512Digest b1 = crypto::Sha512("body one");
  crypto::Sha512Digest b2 = crypto::Sha512("body two");
  EXPECT_NE(RequestHash(crypto::DigestView(h), crypto::DigestView(b1)),
            RequestHash(crypto::DigestView(h), crypto::DigestView(b2)));
  EXPECT_EQ(RequestHash(crypto::DigestView(h), crypto::DigestView(b1)).size(), 88u);
}

}  // namespace
}  // namespace troad::gateway
