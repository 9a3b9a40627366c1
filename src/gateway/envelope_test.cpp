#include "gateway/envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace troad::gateway {
namespace {

using nlohmann::json;

crypto::Sha512Digest DigestOf(std::string_view body) { return crypto::Sha512(body); }

RequestHeader SampleRequest() {
  RequestHeader h;
  h.id = "TW-6a1f0c4e-0b6e-4d0a-9d3c-2c1e5e1c9f00";
  h.request_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  h.client = *ClientId::Parse("TW/GOV/BLI/insurance");
  h.service = *ServiceId::Parse("TW/GOV/MOI/household/getRecord");
  h.method = "POST";
  h.path = "/records/A123456789";
  h.query = "fields=name&x=%20";
  h.user_id = "TW-A123456789";
  h.issue = "case 42";
  h.represented_party = "GOV/TAX";
  h.consumer_gateway = *GatewayId::Parse("TW/GOV/BLI/gw1");
  h.provider_gateway = *GatewayId::Parse("TW/GOV/MOI/gw1");
  h.time_ms = 1'795'000'000'123;
  h.body_length = 11;
  h.body_sha512 = DigestOf("hello world");
  h.headers = {{"content-type", "application/json"}, {"x-trace", "a\tb \xE5\x85\xA7"}};
  return h;
}

ResponseHeader SampleResponse() {
  ResponseHeader h;
  h.id = "TW-6a1f0c4e-0b6e-4d0a-9d3c-2c1e5e1c9f00";
  h.request_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  h.request_hash = Base64Encode(crypto::DigestView(DigestOf("request")));
  h.client = *ClientId::Parse("TW/GOV/BLI/insurance");
  h.service = *ServiceId::Parse("TW/GOV/MOI/household/getRecord");
  h.status = 404;
  h.time_ms = 1'795'000'000'456;
  h.body_length = 2;
  h.body_sha512 = DigestOf("{}");
  h.headers = {{"content-type", "application/json"}};
  return h;
}

// The serialised request header as a JSON object, to be broken one field at a time.
json RequestJson() { return json::parse(SerializeRequestHeader(SampleRequest())); }
json ResponseJson() { return json::parse(SerializeResponseHeader(SampleResponse())); }

// Expects `result` to be refused with a message that mentions `needle` (the field).
template <typename T>
void ExpectRefused(const Result<T>& result, std::string_view needle) {
  ASSERT_FALSE(result) << "accepted, expected an error naming " << needle;
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << result.error().ToString();
  EXPECT_NE(result.error().message().find(needle), std::string::npos)
      << "message does not name " << needle << ": " << result.error().message();
}

// ---- request header ----------------------------------------------------------------

TEST(RequestHeaderTest, RoundTripKeepsEveryField) {
  RequestHeader in = SampleRequest();
  auto out = ParseRequestHeader(SerializeRequestHeader(in));
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(out->id, in.id);
  EXPECT_EQ(out->request_id, in.request_id);
  EXPECT_EQ(out->client, in.client);
  EXPECT_EQ(out->service, in.service);
  EXPECT_EQ(out->method, in.method);
  EXPECT_EQ(out->path, in.path);
  EXPECT_EQ(out->query, in.query);
  EXPECT_EQ(out->user_id, in.user_id);
  EXPECT_EQ(out->issue, in.issue);
  EXPECT_EQ(out->represented_party, in.represented_party);
  EXPECT_EQ(out->consumer_gateway, in.consumer_gateway);
  EXPECT_EQ(out->provider_gateway, in.provider_gateway);
  EXPECT_EQ(out->time_ms, in.time_ms);
  EXPECT_EQ(out->body_length, in.body_length);
  EXPECT_EQ(out->body_sha512, in.body_sha512);
  EXPECT_EQ(out->headers, in.headers);
}

TEST(RequestHeaderTest, WireNamesAreThoseOfTheSpecification) {
  json j = RequestJson();
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["type"], "request");
  EXPECT_EQ(j["client"], "TW/GOV/BLI/insurance");
  EXPECT_EQ(j["service"], "TW/GOV/MOI/household/getRecord");
  EXPECT_EQ(j["consumer_gateway"], "TW/GOV/BLI/gw1");
  EXPECT_EQ(j["provider_gateway"], "TW/GOV/MOI/gw1");
  EXPECT_EQ(j["time_ms"], 1'795'000'000'123);
  EXPECT_EQ(j["body_sha512"], Base64Encode(crypto::DigestView(DigestOf("hello world"))));
  EXPECT_EQ(j["headers"], json::parse(R"([["content-type","application/json"],)"
                                      R"(["x-trace","a\tb 內"]])"));
}

TEST(RequestHeaderTest, OptionalFieldsMayBeEmptyOrAbsent) {
  json j = RequestJson();
  j["path"] = "";
  j["query"] = "";
  j["user_id"] = "";
  j["issue"] = "";
  j["represented_party"] = "";
  j.erase("headers");
  auto h = ParseRequestHeader(j.dump());
  ASSERT_TRUE(h) << h.error().ToString();
  EXPECT_EQ(h->path, "");
  EXPECT_TRUE(h->headers.empty());
}

TEST(RequestHeaderTest, RefusesWrongVersion) {
  json j = RequestJson();
  j["v"] = 2;
  ExpectRefused(ParseRequestHeader(j.dump()), "v: 2 is out of range");
  j.erase("v");
  ExpectRefused(ParseRequestHeader(j.dump()), "v: is required");
  j["v"] = "1";
  ExpectRefused(ParseRequestHeader(j.dump()), "v: expected an integer");
}

TEST(RequestHeaderTest, RefusesWrongType) {
  json j = RequestJson();
  j["type"] = "response";
  ExpectRefused(ParseRequestHeader(j.dump()), "type: must be \"request\"");
  // A response header is not a request header even though it is well formed.
  ExpectRefused(ParseRequestHeader(SerializeResponseHeader(SampleResponse())), "type");
}

TEST(RequestHeaderTest, RefusesBadIdentifiers) {
  for (const char* key : {"client", "service", "consumer_gateway", "provider_gateway"}) {
    SCOPED_TRACE(key);
    json j = RequestJson();
    j[key] = "TW/GOV";
    ExpectRefused(ParseRequestHeader(j.dump()), std::string(key) + ": ");
    j[key] = "TW/GOV/M%4F/x/y";
    ExpectRefused(ParseRequestHeader(j.dump()), std::string(key) + ": ");
    j.erase(key);
    ExpectRefused(ParseRequestHeader(j.dump()), std::string(key) + ": is required");
  }
  json j = RequestJson();
  j["service"] = "TW/GOV/MOI/household";  // a subsystem, not a service
  ExpectRefused(ParseRequestHeader(j.dump()), "service: ");
}

TEST(RequestHeaderTest, RefusesMissingRequiredFields) {
  for (const char* key : {"id", "request_id", "method", "time_ms", "body_length", "body_sha512"}) {
    SCOPED_TRACE(key);
    json j = RequestJson();
    j.erase(key);
    ExpectRefused(ParseRequestHeader(j.dump()), std::string(key) + ": is required");
  }
}

TEST(RequestHeaderTest, RefusesNegativeOrNonIntegerNumbers) {
  json j = RequestJson();
  j["time_ms"] = -1;
  ExpectRefused(ParseRequestHeader(j.dump()), "time_ms");
  j = RequestJson();
  j["body_length"] = 1.5;
  ExpectRefused(ParseRequestHeader(j.dump()), "body_length: expected an integer");
  j = RequestJson();
  j["body_length"] = UINT64_MAX;
  ExpectRefused(ParseRequestHeader(j.dump()), "body_length");
}

TEST(RequestHeaderTest, RefusesDigestThatIsNotBase64Sha512) {
  json j = RequestJson();
  j["body_sha512"] = "not base64!";
  ExpectRefused(ParseRequestHeader(j.dump()), "body_sha512: is not a base64 SHA-512 digest");
  // Valid base64 of a SHA-256 digest: the wrong length.
  j["body_sha512"] = Base64Encode(crypto::DigestView(crypto::Sha256("x")));
  ExpectRefused(ParseRequestHeader(j.dump()), "body_sha512: is not a base64 SHA-512 digest");
  // Hex is not base64 of 64 bytes either.
  j["body_sha512"] = HexEncode(crypto::DigestView(DigestOf("x")));
  ExpectRefused(ParseRequestHeader(j.dump()), "body_sha512");
}

TEST(RequestHeaderTest, RefusesUpperCaseOrMalformedHeaderNames) {
  for (const char* name : {"Content-Type", "content type", "x:y", "", "caf\xC3\xA9"}) {
    SCOPED_TRACE(name);
    json j = RequestJson();
    j["headers"] = json::array({json::array({"accept", "*/*"}), json::array({name, "v"})});
    ExpectRefused(ParseRequestHeader(j.dump()), "headers[1]");
  }
}

TEST(RequestHeaderTest, RefusesControlCharactersInHeaderValues) {
  for (const char* value : {"a\r\nx-injected: 1", "a\nb", "nul\x01", "del\x7f"}) {
    SCOPED_TRACE(EscapeForLog(value));
    json j = RequestJson();
    j["headers"] = json::array({json::array({"x-a", value})});
    ExpectRefused(ParseRequestHeader(j.dump()), "headers[0]: header value has a control character");
  }
  // An encoded NUL is a control character too.
  json j = RequestJson();
  j["headers"] = json::array({json::array({"x-a", std::string("a\0b", 3)})});
  ExpectRefused(ParseRequestHeader(j.dump()), "headers[0]");
}

TEST(RequestHeaderTest, RefusesMalformedHeaderPairs) {
  for (const char* headers : {R"({"a":"b"})", R"([["a"]])", R"([["a","b","c"]])",
                              R"([["a",1]])", R"(["a"])"}) {
    SCOPED_TRACE(headers);
    json j = RequestJson();
    j["headers"] = json::parse(headers);
    ExpectRefused(ParseRequestHeader(j.dump()), "headers");
  }
}

TEST(RequestHeaderTest, AcceptsOneHundredHeadersAndRefusesMore) {
  json j = RequestJson();
  json headers = json::array();
  for (int i = 0; i < 100; ++i) headers.push_back({"x-h" + std::to_string(i), "v"});
  j["headers"] = headers;
  auto ok = ParseRequestHeader(j.dump());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->headers.size(), 100u);
  headers.push_back({"x-h100", "v"});
  j["headers"] = headers;
  ExpectRefused(ParseRequestHeader(j.dump()), "headers: expected an array of at most 100");
}

TEST(RequestHeaderTest, RefusesOverlongHeaderValue) {
  json j = RequestJson();
  j["headers"] = json::array({json::array({"x-big", std::string(16 * 1024 + 1, 'a')})});
  ExpectRefused(ParseRequestHeader(j.dump()), "headers[0]: header name or value out of bounds");
}

TEST(RequestHeaderTest, RefusesDeeplyNestedJson) {
  json j = RequestJson();
  std::string deep = "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]";
  std::string text = j.dump();
  text.insert(text.size() - 1, ",\"extra\":" + deep);
  ExpectRefused(ParseRequestHeader(text), "nested deeper");
  // Nesting far beyond any limit must not exhaust the stack either.
  std::string very_deep(100'000, '[');
  ExpectRefused(ParseRequestHeader(very_deep), "request header");
}

TEST(RequestHeaderTest, RefusesMalformedJsonAndNonObjects) {
  ExpectRefused(ParseRequestHeader(""), "malformed JSON");
  ExpectRefused(ParseRequestHeader("{\"v\":1"), "malformed JSON");
  ExpectRefused(ParseRequestHeader("[]"), "expected an object");
  ExpectRefused(ParseRequestHeader("\"request\""), "expected an object");
  std::string text = RequestJson().dump();
  ExpectRefused(ParseRequestHeader(text + "x"), "malformed JSON");
}

TEST(RequestHeaderTest, RefusesInvalidUtf8) {
  std::string text = RequestJson().dump();
  size_t at = text.find("case 42");
  ASSERT_NE(at, std::string::npos);
  text[at] = '\xff';
  ExpectRefused(ParseRequestHeader(text), "malformed JSON");
}

// ---- response header ---------------------------------------------------------------

TEST(ResponseHeaderTest, RoundTripKeepsEveryField) {
  ResponseHeader in = SampleResponse();
  auto out = ParseResponseHeader(SerializeResponseHeader(in));
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(out->id, in.id);
  EXPECT_EQ(out->request_id, in.request_id);
  EXPECT_EQ(out->request_hash, in.request_hash);
  EXPECT_EQ(out->client, in.client);
  EXPECT_EQ(out->service, in.service);
  EXPECT_EQ(out->status, in.status);
  EXPECT_EQ(out->time_ms, in.time_ms);
  EXPECT_EQ(out->body_length, in.body_length);
  EXPECT_EQ(out->body_sha512, in.body_sha512);
  EXPECT_EQ(out->headers, in.headers);
  EXPECT_EQ(json::parse(SerializeResponseHeader(in))["type"], "response");
}

TEST(ResponseHeaderTest, RefusesBadFields) {
  json j = ResponseJson();
  j["type"] = "request";
  ExpectRefused(ParseResponseHeader(j.dump()), "type: must be \"response\"");
  j = ResponseJson();
  j["v"] = 0;
  ExpectRefused(ParseResponseHeader(j.dump()), "v: 0 is out of range");
  for (int status : {99, 600, -200}) {
    j = ResponseJson();
    j["status"] = status;
    ExpectRefused(ParseResponseHeader(j.dump()), "status");
  }
  j = ResponseJson();
  j.erase("request_hash");
  ExpectRefused(ParseResponseHeader(j.dump()), "request_hash: is required");
  j = ResponseJson();
  j["client"] = "TW//BLI";
  ExpectRefused(ParseResponseHeader(j.dump()), "client");
  j = ResponseJson();
  j["body_sha512"] = "AAAA";
  ExpectRefused(ParseResponseHeader(j.dump()), "body_sha512");
  j = ResponseJson();
  j["headers"] = json::array({json::array({"Content-Type", "x"})});
  ExpectRefused(ParseResponseHeader(j.dump()), "headers[0]");
  ExpectRefused(ParseResponseHeader(SerializeRequestHeader(SampleRequest())), "type");
}

// ---- signature part ----------------------------------------------------------------

SignaturePart SampleSignature() {
  SignaturePart s;
  s.algorithm = "ES256";
  s.certificate_sha256 = HexEncode(crypto::DigestView(crypto::Sha256("certificate")));
  s.batch_size = 5;
  s.leaf_index = 4;
  s.path = {crypto::Sha256("a"), crypto::Sha256("b")};
  s.signature = std::string("\x30\x45\x02\x20\x00\xff", 6);
  return s;
}

json SignatureJson() { return json::parse(SerializeSignaturePart(SampleSignature())); }

TEST(SignaturePartTest, RoundTripKeepsEveryField) {
  SignaturePart in = SampleSignature();
  auto out = ParseSignaturePart(SerializeSignaturePart(in));
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(out->algorithm, in.algorithm);
  EXPECT_EQ(out->certificate_sha256, in.certificate_sha256);
  EXPECT_EQ(out->batch_size, in.batch_size);
  EXPECT_EQ(out->leaf_index, in.leaf_index);
  EXPECT_EQ(out->path, in.path);
  EXPECT_EQ(out->signature, in.signature);

  json j = SignatureJson();
  EXPECT_EQ(j["alg"], "ES256");
  EXPECT_EQ(j["cert_sha256"], in.certificate_sha256);
  EXPECT_EQ(j["sig"], Base64Encode(in.signature));
  EXPECT_EQ(j["path"][0], Base64Encode(crypto::DigestView(crypto::Sha256("a"))));
}

TEST(SignaturePartTest, SingleMessageBatchHasEmptyPath) {
  SignaturePart in = SampleSignature();
  in.batch_size = 1;
  in.leaf_index = 0;
  in.path.clear();
  in.algorithm = "RS256";
  auto out = ParseSignaturePart(SerializeSignaturePart(in));
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_TRUE(out->path.empty());
  EXPECT_EQ(out->algorithm, "RS256");
}

TEST(SignaturePartTest, RefusesLeafIndexOutsideBatch) {
  json j = SignatureJson();
  j["leaf_index"] = 5;  // batch_size 5
  ExpectRefused(ParseSignaturePart(j.dump()), "leaf_index 5 >= batch_size 5");
  j["leaf_index"] = 6;
  ExpectRefused(ParseSignaturePart(j.dump()), "leaf_index 6 >= batch_size 5");
  j["leaf_index"] = -1;
  ExpectRefused(ParseSignaturePart(j.dump()), "leaf_index");
  j = SignatureJson();
  j["batch_size"] = 0;
  ExpectRefused(ParseSignaturePart(j.dump()), "batch_size");
}

TEST(SignaturePartTest, RefusesCertificateFingerprintThatIsNotLowerCaseHex) {
  std::string good = SampleSignature().certificate_sha256;
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad : {upper, good.substr(1), good.substr(0, 63) + "g",
                                 Base64Encode(crypto::DigestView(crypto::Sha256("c")))}) {
    SCOPED_TRACE(bad);
    json j = SignatureJson();
    j["cert_sha256"] = bad;
    ExpectRefused(ParseSignaturePart(j.dump()), "cert_sha256");
  }
  json j = SignatureJson();
  j["cert_sha256"] = good + "0";
  ExpectRefused(ParseSignaturePart(j.dump()), "cert_sha256");
}

TEST(SignaturePartTest, RefusesUnknownAlgorithms) {
  for (const char* alg : {"none", "es256", "HS256", "ES384", ""}) {
    SCOPED_TRACE(alg);
    json j = SignatureJson();
    j["alg"] = alg;
    ExpectRefused(ParseSignaturePart(j.dump()), "alg");
  }
}

TEST(SignaturePartTest, RefusesBadPathsAndSignatures) {
  json j = SignatureJson();
  j["path"][1] = Base64Encode(crypto::DigestView(DigestOf("x")));  // 64 bytes, not 32
  ExpectRefused(ParseSignaturePart(j.dump()), "path[1]: is not a base64 SHA-256 digest");
  j = SignatureJson();
  j["path"][0] = 7;
  ExpectRefused(ParseSignaturePart(j.dump()), "path[0]");
  j = SignatureJson();
  j["path"] = json::array();
  for (int i = 0; i < 65; ++i) j["path"].push_back(Base64Encode(crypto::DigestView(crypto::Sha256("a"))));
  ExpectRefused(ParseSignaturePart(j.dump()), "path: is too long");
  j = SignatureJson();
  j.erase("path");
  ExpectRefused(ParseSignaturePart(j.dump()), "path: is required");
  j = SignatureJson();
  j["sig"] = "***";
  ExpectRefused(ParseSignaturePart(j.dump()), "sig: is not base64");
  j = SignatureJson();
  j["sig"] = "";
  ExpectRefused(ParseSignaturePart(j.dump()), "sig");
  j = SignatureJson();
  j["sig"] = std::string(2049, 'A');
  ExpectRefused(ParseSignaturePart(j.dump()), "sig: longer than 2048 bytes");
  ExpectRefused(ParseSignaturePart("[[[[[1]]]]]"), "nested deeper");
}

// ---- batch signature input ---------------------------------------------------------

TEST(BatchSignatureInputTest, LayoutIsDomainNulBatchSizeBigEndianRoot) {
  crypto::Sha256Digest root{};
  for (size_t i = 0; i < root.size(); ++i) root[i] = static_cast<uint8_t>(0xA0 + i);
  std::string input = BatchSignatureInput(0x0102030405060708ULL, root);

  std::string expected = "troad-batch-signature/1";
  expected += '\0';
  expected += std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  for (size_t i = 0; i < root.size(); ++i) expected += static_cast<char>(0xA0 + i);
  ASSERT_EQ(input.size(), 23u + 1 + 8 + 32);
  EXPECT_EQ(HexEncode(input), HexEncode(expected));

  // Batch size 1: seven zero bytes then 0x01.
  std::string one = BatchSignatureInput(1, root);
  EXPECT_EQ(HexEncode(one.substr(24, 8)), "0000000000000001");
  EXPECT_NE(BatchSignatureInput(2, root), one);
}

// ---- envelope ----------------------------------------------------------------------

TEST(EnvelopeTest, EncodeThenDecodeGivesTheThreeParts) {
  std::string header = SerializeRequestHeader(SampleRequest());
  std::string sig = SerializeSignaturePart(SampleSignature());
  std::string payload = std::string("hello\0world", 11);
  std::string envelope = EncodeEnvelopePrefix(header, sig) + payload;

  // The bytes are exactly magic ‖ u32be len(H) ‖ H ‖ u32be len(S) ‖ S ‖ payload.
  ASSERT_EQ(envelope.substr(0, 4), "TRD1");
  uint32_t h_len = header.size();
  std::string len_bytes = {static_cast<char>(h_len >> 24), static_cast<char>(h_len >> 16),
                           static_cast<char>(h_len >> 8), static_cast<char>(h_len)};
  EXPECT_EQ(HexEncode(envelope.substr(4, 4)), HexEncode(len_bytes));
  EXPECT_EQ(envelope.substr(8, header.size()), header);
  EXPECT_EQ(envelope.size(), 4 + 4 + header.size() + 4 + sig.size() + payload.size());

  auto view = DecodeEnvelope(envelope);
  ASSERT_TRUE(view) << view.error().ToString();
  EXPECT_EQ(view->header, header);
  EXPECT_EQ(view->signature, sig);
  EXPECT_EQ(view->payload, payload);
  // Views point into the input: nothing was copied.
  EXPECT_EQ(view->header.data(), envelope.data() + 8);

  auto parsed = ParseRequestHeader(view->header);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->id, SampleRequest().id);
  ASSERT_TRUE(ParseSignaturePart(view->signature));
}

TEST(EnvelopeTest, EmptyPartsAndPayloadDecode) {
  std::string envelope = EncodeEnvelopePrefix("", "");
  auto view = DecodeEnvelope(envelope);
  ASSERT_TRUE(view) << view.error().ToString();
  EXPECT_TRUE(view->header.empty());
  EXPECT_TRUE(view->signature.empty());
  EXPECT_TRUE(view->payload.empty());
}

TEST(EnvelopeTest, RefusesBadMagic) {
  std::string good = EncodeEnvelopePrefix("{}", "{}");
  for (std::string bad : {std::string(""), std::string("TRD"), std::string("TRD2") + good.substr(4),
                          std::string("trd1") + good.substr(4), "X" + good}) {
    SCOPED_TRACE(EscapeForLog(bad));
    ExpectRefused(DecodeEnvelope(bad), "does not start with \"TRD1\"");
  }
}

TEST(EnvelopeTest, RefusesEveryTruncation) {
  std::string envelope = EncodeEnvelopePrefix("{\"h\":1}", "{\"s\":2}");
  // Every proper prefix that ends inside the framing is refused; the full framing with
  // no payload is a valid envelope with an empty payload.
  for (size_t n = 4; n < envelope.size(); ++n) {
    SCOPED_TRACE(n);
    auto view = DecodeEnvelope(envelope.substr(0, n));
    ASSERT_FALSE(view);
    EXPECT_NE(view.error().message().find("truncated"), std::string::npos)
        << view.error().message();
  }
  EXPECT_TRUE(DecodeEnvelope(envelope));
  ExpectRefused(DecodeEnvelope("TRD1"), "truncated before the header length");
  ExpectRefused(DecodeEnvelope(std::string("TRD1\0\0\0\x05{}", 10)), "truncated inside the header");
  ExpectRefused(DecodeEnvelope(std::string("TRD1\0\0\0\0", 8)),
                "truncated before the signature part length");
  ExpectRefused(DecodeEnvelope(std::string("TRD1\0\0\0\0\0\0\0\x03{}", 14)),
                "truncated inside the signature part");
}

std::string U32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

TEST(EnvelopeTest, RefusesPartsOverTheLimitBeforeReadingThem) {
  // The length alone is enough to refuse: the peer need not send the bytes.
  ExpectRefused(DecodeEnvelope("TRD1" + U32(kMaxHeaderPartBytes + 1)),
                "envelope header of 262145 bytes exceeds 262144");
  ExpectRefused(DecodeEnvelope("TRD1" + U32(0xFFFFFFFF)), "exceeds");
  ExpectRefused(DecodeEnvelope("TRD1" + U32(0) + U32(kMaxSignaturePartBytes + 1)),
                "envelope signature part of 65537 bytes exceeds 65536");

  // Exactly at the limits is accepted.
  std::string header(kMaxHeaderPartBytes, 'h');
  std::string sig(kMaxSignaturePartBytes, 's');
  std::string envelope = EncodeEnvelopePrefix(header, sig) + "p";  // the views point into it
  auto view = DecodeEnvelope(envelope);
  ASSERT_TRUE(view) << view.error().ToString();
  EXPECT_EQ(view->header.size(), kMaxHeaderPartBytes);
  EXPECT_EQ(view->signature.size(), kMaxSignaturePartBytes);
  EXPECT_EQ(view->payload, "p");
}

// ---- request hash ------------------------------------------------------------------

TEST(RequestHashTest, IsBase64OfSha512OfHeaderDigestAndBodyDigest) {
  std::string header = SerializeRequestHeader(SampleRequest());
  std::string body = "hello world";
  crypto::Sha512Digest body_digest = crypto::Sha512(body);

  crypto::Sha512Digest header_digest = crypto::Sha512(header);
  std::string concatenated(crypto::DigestView(header_digest));
  concatenated.append(crypto::DigestView(body_digest));
  ASSERT_EQ(concatenated.size(), 128u);
  crypto::Sha512Digest outer = crypto::Sha512(concatenated);
  std::string expected = Base64Encode(crypto::DigestView(outer));

  EXPECT_EQ(ComputeRequestHash(header, body_digest), expected);
  EXPECT_EQ(expected.size(), 88u);  // 64 bytes in padded base64
}

TEST(RequestHashTest, EmptyBodyStillContributesItsDigest) {
  std::string header = "{}";
  crypto::Sha512Digest empty = crypto::Sha512("");
  std::string concatenated(crypto::DigestView(crypto::Sha512(header)));
  concatenated.append(crypto::DigestView(empty));
  EXPECT_EQ(ComputeRequestHash(header, empty),
            Base64Encode(crypto::DigestView(crypto::Sha512(concatenated))));
  // Not merely the header's digest.
  EXPECT_NE(ComputeRequestHash(header, empty),
            Base64Encode(crypto::DigestView(crypto::Sha512(header))));
}

TEST(RequestHashTest, DependsOnEveryHeaderByteAndTheBody) {
  std::string header = SerializeRequestHeader(SampleRequest());
  crypto::Sha512Digest body = crypto::Sha512("b");
  std::string base = ComputeRequestHash(header, body);
  std::string changed = header;
  changed[changed.size() / 2] ^= 1;
  EXPECT_NE(ComputeRequestHash(changed, body), base);
  EXPECT_NE(ComputeRequestHash(header, crypto::Sha512("c")), base);
}

}  // namespace
}  // namespace troad::gateway
