#include "gateway/envelope.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "gateway/xroad_rest.h"

namespace troad::gateway {
namespace {

using nlohmann::json;

constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxValueBytes = 16 * 1024;
constexpr size_t kMaxPathBytes = 8 * 1024;
constexpr size_t kMaxProofLength = 64;

// Reads [[name, value], …] directly: JsonView has no tuple accessor.
HeaderList ParseHeaderArray(const json& doc, const char* key, JsonErrors& errors) {
  HeaderList out;
  auto it = doc.find(key);
  if (it == doc.end()) return out;
  if (!it->is_array() || it->size() > kMaxHeaders) {
    errors.Add(key,
               fmt::format("expected an array of at most {} [name, value] pairs", kMaxHeaders));
    return out;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& pair = (*it)[i];
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      errors.Add(fmt::format("{}[{}]", key, i), "expected [name, value]");
      return {};
    }
    const auto& name = pair[0].get_ref<const std::string&>();
    const auto& value = pair[1].get_ref<const std::string&>();
    if (name.empty() || name.size() > 256 || value.size() > kMaxValueBytes) {
      errors.Add(fmt::format("{}[{}]", key, i), "header name or value out of bounds");
      return {};
    }
    for (char c : name) {
      if (c <= 0x20 || c >= 0x7f || c == ':' || (c >= 'A' && c <= 'Z')) {
        errors.Add(fmt::format("{}[{}]", key, i), "header name is not a lower-case token");
        return {};
      }
    }
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        errors.Add(fmt::format("{}[{}]", key, i), "header value has a control character");
        return {};
      }
    }
    out.emplace_back(name, value);
  }
  return out;
}

bool DecodeDigest(const std::string& b64, std::span<uint8_t> out) {
  auto raw = Base64Decode(b64);
  if (!raw || raw->size() != out.size()) return false;
  std::copy(raw->begin(), raw->end(), out.begin());
  return true;
}

void PutU32(std::string& out, uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xff);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

uint32_t GetU32(std::string_view data) {
  return (uint32_t{static_cast<uint8_t>(data[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(data[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(data[2])} << 8) | uint32_t{static_cast<uint8_t>(data[3])};
}

template <typename Id>
Id ParseIdField(JsonView& view, const std::string& key) {
  std::string text = view.String(key);
  if (text.empty()) return Id{};
  auto id = Id::Parse(text);
  if (!id) {
    view.Error(key, id.error().message());
    return Id{};
  }
  return *id;
}

// The fields every message header ends with: its time, and the payload's length,
// digest and pass-through headers (protocol.md §3).
// Written straight to text (core/json_writer.h): these are serialised once per message.
void PutPayloadFields(JsonWriter& w, int64_t time_ms, uint64_t body_length,
                      const crypto::Sha512Digest& body_sha512, const HeaderList& headers) {
  w.Member("time_ms", time_ms)
      .Member("body_length", body_length)
      .Member("body_sha512", Base64Encode(std::span<const uint8_t>(body_sha512)))
      .Key("headers")
      .BeginArray();
  for (const auto& [name, value] : headers) w.BeginArray().String(name).String(value).EndArray();
  w.EndArray();
}

void ReadPayloadFields(const json& doc, JsonView& v, JsonErrors& errors, int64_t& time_ms,
                       uint64_t& body_length, crypto::Sha512Digest& body_sha512,
                       HeaderList& headers) {
  time_ms = v.Int("time_ms", true, 0, 0, INT64_MAX);
  body_length = static_cast<uint64_t>(v.Int("body_length", true, 0, 0, INT64_MAX));
  std::string digest = v.String("body_sha512");
  if (!digest.empty() && !DecodeDigest(digest, body_sha512)) {
    v.Error("body_sha512", "is not a base64 SHA-512 digest");
  }
  headers = ParseHeaderArray(doc, "headers", errors);
}

}  // namespace

std::string SerializeRequestHeader(const RequestHeader& h) {
  std::string out;
  out.reserve(768 + h.path.size() + h.query.size());
  JsonWriter w(out);
  w.BeginObject()
      .Member("v", kProtocolVersion)
      .Member("type", "request")
      .Member("id", h.id)
      .Member("request_id", h.request_id)
      .Member("client", h.client.ToString())
      .Member("service", h.service.ToString())
      .Member("method", h.method)
      .Member("path", h.path)
      .Member("query", h.query)
      .Member("user_id", h.user_id)
      .Member("issue", h.issue)
      .Member("represented_party", h.represented_party)
      .Member("consumer_gateway", h.consumer_gateway.ToString())
      .Member("provider_gateway", h.provider_gateway.ToString());
  PutPayloadFields(w, h.time_ms, h.body_length, h.body_sha512, h.headers);
  w.EndObject();
  return out;
}

Result<RequestHeader> ParseRequestHeader(std::string_view text) {
  TROAD_ASSIGN_OR_RETURN(json doc, ParseJson(text, "request header", 8));
  JsonErrors errors;
  JsonView v(&doc, "", &errors);
  RequestHeader h;
  v.Int("v", true, 0, kProtocolVersion, kProtocolVersion);
  if (v.String("type") != "request") v.Error("type", "must be \"request\"");
  h.id = v.String("id", true, 1024);
  h.request_id = v.String("request_id", true, 128);
  h.client = ParseIdField<ClientId>(v, "client");
  h.service = ParseIdField<ServiceId>(v, "service");
  h.method = v.String("method", true, 32);
  h.path = v.String("path", false, kMaxPathBytes);
  h.query = v.String("query", false, kMaxPathBytes);
  h.user_id = v.String("user_id", false, 1024);
  h.issue = v.String("issue", false, 1024);
  h.represented_party = v.String("represented_party", false, 1024);
  h.consumer_gateway = ParseIdField<GatewayId>(v, "consumer_gateway");
  h.provider_gateway = ParseIdField<GatewayId>(v, "provider_gateway");
  ReadPayloadFields(doc, v, errors, h.time_ms, h.body_length, h.body_sha512, h.headers);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("request header"));
  return h;
}

std::string SerializeResponseHeader(const ResponseHeader& h) {
  std::string out;
  out.reserve(640);
  JsonWriter w(out);
  w.BeginObject()
      .Member("v", kProtocolVersion)
      .Member("type", "response")
      .Member("id", h.id)
      .Member("request_id", h.request_id)
      .Member("request_hash", h.request_hash)
      .Member("client", h.client.ToString())
      .Member("service", h.service.ToString())
      .Member("status", h.status);
  PutPayloadFields(w, h.time_ms, h.body_length, h.body_sha512, h.headers);
  w.EndObject();
  return out;
}

Result<ResponseHeader> ParseResponseHeader(std::string_view text) {
  TROAD_ASSIGN_OR_RETURN(json doc, ParseJson(text, "response header", 8));
  JsonErrors errors;
  JsonView v(&doc, "", &errors);
  ResponseHeader h;
  v.Int("v", true, 0, kProtocolVersion, kProtocolVersion);
  if (v.String("type") != "response") v.Error("type", "must be \"response\"");
  h.id = v.String("id", true, 1024);
  h.request_id = v.String("request_id", true, 128);
  h.request_hash = v.String("request_hash", true, 128);
  h.client = ParseIdField<ClientId>(v, "client");
  h.service = ParseIdField<ServiceId>(v, "service");
  h.status = static_cast<unsigned>(v.Int("status", true, 0, 100, 599));
  ReadPayloadFields(doc, v, errors, h.time_ms, h.body_length, h.body_sha512, h.headers);
  TROAD_RETURN_IF_ERROR(errors.ToStatus("response header"));
  return h;
}

std::string SerializeSignaturePart(const SignaturePart& s) {
  std::string out;
  out.reserve(256 + 48 * s.path.size());
  JsonWriter w(out);
  w.BeginObject()
      .Member("alg", s.algorithm)
      .Member("cert_sha256", s.certificate_sha256)
      .Member("batch_size", s.batch_size)
      .Member("leaf_index", s.leaf_index)
      .Key("path")
      .BeginArray();
  for (const auto& p : s.path) w.String(Base64Encode(std::span<const uint8_t>(p)));
  w.EndArray().Member("sig", Base64Encode(s.signature)).EndObject();
  return out;
}

Result<SignaturePart> ParseSignaturePart(std::string_view text) {
  TROAD_ASSIGN_OR_RETURN(json doc, ParseJson(text, "signature part", 4));
  JsonErrors errors;
  JsonView v(&doc, "", &errors);
  SignaturePart s;
  s.algorithm = v.String("alg", true, 16);
  if (!s.algorithm.empty() && s.algorithm != "ES256" && s.algorithm != "RS256") {
    v.Error("alg", "must be \"ES256\" or \"RS256\"");
  }
  s.certificate_sha256 = v.String("cert_sha256", true, 64);
  if (!s.certificate_sha256.empty() &&
      (s.certificate_sha256.size() != 64 ||
       s.certificate_sha256.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    v.Error("cert_sha256", "is not a lower-case hex SHA-256 fingerprint");
  }
  s.batch_size = static_cast<uint64_t>(v.Int("batch_size", true, 1, 1, 1 << 20));
  s.leaf_index = static_cast<uint64_t>(v.Int("leaf_index", true, 0, 0, (1 << 20) - 1));
  auto path = v.Array("path", true);
  if (path.size() > kMaxProofLength) v.Error("path", "is too long");
  for (JsonView& p : path) {
    crypto::Sha256Digest d{};
    std::string b64 = p.AsString();
    if (!DecodeDigest(b64, d)) {
      p.Error("is not a base64 SHA-256 digest");
      break;
    }
    s.path.push_back(d);
  }
  std::string sig = v.String("sig", true, 2048);
  auto raw = Base64Decode(sig);
  if (!sig.empty() && !raw) {
    v.Error("sig", "is not base64");
  } else if (raw) {
    s.signature = std::move(*raw);
  }
  TROAD_RETURN_IF_ERROR(errors.ToStatus("signature part"));
  if (s.leaf_index >= s.batch_size) {
    return Fail(ErrorCode::kInvalidArgument, "signature part: leaf_index {} >= batch_size {}",
                s.leaf_index, s.batch_size);
  }
  return s;
}

std::string BatchSignatureInput(uint64_t batch_size, const crypto::Sha256Digest& root) {
  std::string out("troad-batch-signature/1");
  out += '\0';
  for (int shift = 56; shift >= 0; shift -= 8) {
    out += static_cast<char>((batch_size >> shift) & 0xff);
  }
  out.append(crypto::DigestView(root));
  return out;
}

std::string EncodeEnvelopePrefix(std::string_view header, std::string_view signature) {
  std::string out;
  out.reserve(kEnvelopeMagic.size() + 8 + header.size() + signature.size());
  out.append(kEnvelopeMagic);
  PutU32(out, static_cast<uint32_t>(header.size()));
  out.append(header);
  PutU32(out, static_cast<uint32_t>(signature.size()));
  out.append(signature);
  return out;
}

Result<EnvelopeView> DecodeEnvelope(std::string_view data) {
  if (data.size() < kEnvelopeMagic.size() ||
      data.substr(0, kEnvelopeMagic.size()) != kEnvelopeMagic) {
    return Fail(ErrorCode::kInvalidArgument, "envelope does not start with \"{}\"", kEnvelopeMagic);
  }
  data.remove_prefix(kEnvelopeMagic.size());
  auto take = [&](uint32_t limit, const char* what) -> Result<std::string_view> {
    if (data.size() < 4) {
      return Fail(ErrorCode::kInvalidArgument, "envelope truncated before the {} length", what);
    }
    uint32_t len = GetU32(data);
    data.remove_prefix(4);
    if (len > limit) {
      return Fail(ErrorCode::kInvalidArgument, "envelope {} of {} bytes exceeds {}", what, len,
                  limit);
    }
    if (data.size() < len) {
      return Fail(ErrorCode::kInvalidArgument, "envelope truncated inside the {}", what);
    }
    std::string_view part = data.substr(0, len);
    data.remove_prefix(len);
    return part;
  };
  EnvelopeView view;
  TROAD_ASSIGN_OR_RETURN(view.header, take(kMaxHeaderPartBytes, "header"));
  TROAD_ASSIGN_OR_RETURN(view.signature, take(kMaxSignaturePartBytes, "signature part"));
  view.payload = data;
  return view;
}

std::string ComputeRequestHash(std::string_view header_bytes, const crypto::Sha512Digest& body) {
  // Always with the body digest (SHA-512 of the empty string for a body-less request),
  // so the value is one rule for every request: docs/protocol.md §6.
  crypto::Sha512Digest header_digest = crypto::Sha512(header_bytes);
  return RequestHash(crypto::DigestView(header_digest), crypto::DigestView(body));
}

}  // namespace troad::gateway
