#include "gateway/xroad_rest.h"

#include <fmt/format.h>

#include <array>
#include <boost/beast/core/string.hpp>
#include <utility>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "gateway/fault.h"

namespace troad::gateway {
namespace {

constexpr std::string_view kTargetShape =
    "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/path][?query]";

// The X-Road headers a gateway sets itself; callers' copies never pass through.
constexpr std::array<std::string_view, 10> kGatewayXRoadHeaders = {
    "x-road-client",          "x-road-service",    "x-road-id",
    "x-road-userid",          "x-road-issue",      "x-road-represented-party",
    "x-road-security-server", "x-road-request-id", "x-road-request-hash",
    "x-road-error",
};

// PR-REST §4.3 "Filtered headers" and "Specially handled headers", which is
// X-Road's RestMessage.SKIPPED_HEADERS; "proxy-*" is matched as a prefix below.
constexpr std::array<std::string_view, 11> kFilteredHeaders = {
    "connection", "keep-alive", "te",         "trailer", "transfer-encoding",
    "upgrade",    "host",       "user-agent", "server",  "content-length",
    "expect",
};

bool IEquals(std::string_view a, std::string_view b) { return boost::beast::iequals(a, b); }

bool IStartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && IEquals(text.substr(0, prefix.size()), prefix);
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

tl::unexpected<Error> BadRequest(std::string message,
                                 ErrorCode code = ErrorCode::kInvalidArgument) {
  return Fail(Error(code, std::move(message)).WithFault(std::string(kFaultBadRequest)));
}

tl::unexpected<Error> WithFault(Error error, std::string_view fault) {
  return Fail(std::move(error).WithFault(std::string(fault)));
}

// Percent-encodes a URI path segment the way Guava's urlPathSegmentEscaper does,
// which X-Road uses for identifiers in response headers.
std::string EncodePathSegment(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (unsigned char c : part) {
    bool safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Decodes one percent-encoded identifier part; `what` names it for the error.
Result<std::string> DecodeIdPart(std::string_view raw, std::string_view what) {
  auto decoded = PercentDecode(raw);
  if (!decoded) return Fail(std::move(decoded).error().Context(what));
  TROAD_RETURN_IF_ERROR(ValidateIdPart(*decoded, what));
  return decoded;
}

// A piece of a decoded path segment that a server could read as "." or "..": only
// dots and spaces (IIS trims trailing dots and spaces), once cut at ';' (Tomcat
// drops path parameters before resolving dot-segments).
bool IsDotLike(std::string_view piece) {
  piece = piece.substr(0, piece.find(';'));
  if (piece.find('.') == std::string_view::npos) return false;
  return piece.find_first_not_of(". ") == std::string_view::npos;
}

// Checks decoded segment text for traversal: dot-like pieces (also across an encoded
// '/'), control characters and backslashes.
Status CheckDecodedSegment(std::string_view decoded, std::string_view raw_segment) {
  if (!IsValidUtf8(decoded)) {
    return BadRequest(fmt::format("path segment \"{}\" is not valid UTF-8 once decoded",
                                  EscapeForLog(raw_segment)));
  }
  for (unsigned char c : decoded) {
    if (IsControl(c)) {
      return BadRequest(fmt::format("path segment \"{}\" encodes a control character",
                                    EscapeForLog(raw_segment)));
    }
    if (c == '\\') {
      return BadRequest(
          fmt::format("path segment \"{}\" encodes a backslash", EscapeForLog(raw_segment)));
    }
  }
  for (std::string_view piece : SplitPath(decoded)) {
    if (IsDotLike(piece)) {
      return BadRequest(fmt::format("path segment \"{}\" is a dot-segment (path traversal)",
                                    EscapeForLog(raw_segment)));
    }
  }
  return Ok();
}

Status CheckPathSegment(std::string_view raw_segment) {
  auto decoded = PercentDecode(raw_segment, /*forbid_nul=*/true);
  if (!decoded) {
    return BadRequest(fmt::format("path segment \"{}\": {}", EscapeForLog(raw_segment),
                                  decoded.error().message()));
  }
  TROAD_RETURN_IF_ERROR(CheckDecodedSegment(*decoded, raw_segment));
  // A backend that decodes twice would see "%252e%252e" as "..".
  auto twice = PercentDecode(*decoded, /*forbid_nul=*/true);
  if (twice && *twice != *decoded) {
    TROAD_RETURN_IF_ERROR(CheckDecodedSegment(*twice, raw_segment));
  }
  return Ok();
}

Status CheckRawText(std::string_view text, std::string_view what, std::string_view forbidden) {
  for (unsigned char c : text) {
    if (IsControl(c) || c == ' ' ||
        forbidden.find(static_cast<char>(c)) != std::string_view::npos) {
      return BadRequest(
          fmt::format("{} \"{}\" contains the character '{}'", what, EscapeForLog(text),
                      EscapeForLog(std::string_view(reinterpret_cast<const char*>(&c), 1))));
    }
  }
  if (!IsValidUtf8(text)) {
    return BadRequest(fmt::format("{} \"{}\" is not valid UTF-8", what, EscapeForLog(text)));
  }
  return Ok();
}

bool IsProtocolVersionSegment(std::string_view segment) {
  if (segment.size() < 2 || segment[0] != 'r') return false;
  return segment.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
}

Status CheckTargetLength(std::string_view target) {
  if (target.size() > kMaxRequestTargetLength) {
    return BadRequest(fmt::format("request target is {} bytes long; the limit is {}", target.size(),
                                  kMaxRequestTargetLength),
                      ErrorCode::kResourceExhausted);
  }
  return Ok();
}

// Form-decoding of a query component: '+' is a space, then %XX escapes.
Result<std::string> FormDecode(std::string_view text) {
  std::string plus_decoded(text);
  for (char& c : plus_decoded) {
    if (c == '+') c = ' ';
  }
  auto decoded = PercentDecode(plus_decoded, /*forbid_nul=*/true);
  if (!decoded) {
    return BadRequest(
        fmt::format("query component \"{}\": {}", EscapeForLog(text), decoded.error().message()));
  }
  return decoded;
}

// The last value of header `name`, if any.
std::optional<std::string_view> LastHeader(const http::Request& request, std::string_view name) {
  std::optional<std::string_view> value;
  for (const auto& field : request) {
    if (IEquals(field.name_string(), name)) {
      value = std::string_view(field.value().data(), field.value().size());
    }
  }
  return value;
}

Result<ClientId> ParseClientHeader(std::string_view value) {
  auto fail = [&](std::string why) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("{} \"{}\": {}", kHeaderClient, EscapeForLog(value), why))
                    .WithFault(std::string(kFaultInvalidClientIdentifier)));
  };
  auto parts = SplitPath(value);
  if (parts.size() != 3 && parts.size() != 4) {
    return fail("must be INSTANCE/CLASS/MEMBER[/SUBSYSTEM]");
  }
  constexpr std::array<std::string_view, 4> kNames = {"instance", "member class", "member code",
                                                      "subsystem code"};
  std::array<std::string, 4> decoded;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto part = DecodeIdPart(parts[i], kNames[i]);
    if (!part) return fail(part.error().message());
    decoded[i] = std::move(*part);
  }
  auto id = ClientId::FromParts(decoded[0], decoded[1], decoded[2], decoded[3]);
  if (!id) return fail(id.error().message());
  return id;
}

Result<GatewayId> ParseSecurityServerHeader(std::string_view value) {
  auto fail = [&](std::string why) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("{} \"{}\": {}", kHeaderSecurityServer, EscapeForLog(value), why))
                    .WithFault(std::string(kFaultInvalidSecurityServer)));
  };
  auto parts = SplitPath(value);
  if (parts.size() != 4) return fail("must be INSTANCE/CLASS/MEMBER/SERVERCODE");
  constexpr std::array<std::string_view, 4> kNames = {"instance", "member class", "member code",
                                                      "server code"};
  std::array<std::string, 4> decoded;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto part = DecodeIdPart(parts[i], kNames[i]);
    if (!part) return fail(part.error().message());
    decoded[i] = std::move(*part);
  }
  auto owner = ClientId::FromParts(decoded[0], decoded[1], decoded[2], "");
  if (!owner) return fail(owner.error().message());
  return GatewayId{std::move(*owner), std::move(decoded[3])};
}

Result<RepresentedParty> ParseRepresentedPartyHeader(std::string_view value) {
  auto parts = SplitPath(value);
  if (parts.size() > 2) {
    return BadRequest(fmt::format("{} \"{}\": must be [CLASS/]CODE", kHeaderRepresentedParty,
                                  EscapeForLog(value)));
  }
  RepresentedParty party;
  for (size_t i = 0; i < parts.size(); ++i) {
    bool is_code = i + 1 == parts.size();
    auto part = DecodeIdPart(parts[i], is_code ? "party code" : "party class");
    if (!part) {
      return BadRequest(fmt::format("{} \"{}\": {}", kHeaderRepresentedParty, EscapeForLog(value),
                                    part.error().message()));
    }
    (is_code ? party.party_code : party.party_class) = std::move(*part);
  }
  return party;
}

// X-Road-Id, -UserId and -Issue are free text that ends up in signed JSON and logs.
Status CheckTextHeader(std::string_view name, std::string_view value, size_t max_length) {
  if (value.size() > max_length) {
    return BadRequest(
        fmt::format("{} is {} bytes long; the limit is {}", name, value.size(), max_length));
  }
  if (!IsValidUtf8(value)) {
    return BadRequest(fmt::format("{} \"{}\" is not valid UTF-8", name, EscapeForLog(value)));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return BadRequest(
          fmt::format("{} \"{}\" contains a control character", name, EscapeForLog(value)));
    }
  }
  return Ok();
}

bool IsPassThroughHeader(std::string_view name) {
  if (name.empty()) return false;
  if (IStartsWith(name, "proxy-")) return false;
  for (std::string_view filtered : kFilteredHeaders) {
    if (IEquals(name, filtered)) return false;
  }
  for (std::string_view xroad : kGatewayXRoadHeaders) {
    if (IEquals(name, xroad)) return false;
  }
  return true;
}

Metaservice MetaserviceFor(std::string_view service_code) {
  if (service_code == kListMethodsCode) return Metaservice::kListMethods;
  if (service_code == kAllowedMethodsCode) return Metaservice::kAllowedMethods;
  if (service_code == kGetOpenApiCode) return Metaservice::kGetOpenApi;
  return Metaservice::kNone;
}

}  // namespace

Result<RestTarget> ParseRestTarget(std::string_view request_target) {
  TROAD_RETURN_IF_ERROR(CheckTargetLength(request_target));
  if (request_target.empty() || request_target.front() != '/') {
    return BadRequest(fmt::format("request target \"{}\" must have the form {}",
                                  EscapeForLog(request_target), kTargetShape));
  }
  size_t question = request_target.find('?');
  std::string_view path_part = request_target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : request_target.substr(question + 1);
  TROAD_RETURN_IF_ERROR(CheckRawText(query, "query", "#"));

  auto segments = SplitPath(path_part.substr(1));
  if (segments[0] != kRestProtocolVersion) {
    if (IsProtocolVersionSegment(segments[0])) {
      return Fail(Error(ErrorCode::kInvalidArgument,
                        fmt::format("X-Road REST protocol version \"{}\" is not supported; use {}",
                                    EscapeForLog(segments[0]), kRestProtocolVersion))
                      .WithFault(std::string(kFaultInvalidProtocolVersion)));
    }
    return BadRequest(fmt::format("request target \"{}\" is not an X-Road REST request ({})",
                                  EscapeForLog(request_target), kTargetShape));
  }
  if (segments.size() < 6) {
    return BadRequest(fmt::format("request target \"{}\" must have the form {}",
                                  EscapeForLog(request_target), kTargetShape));
  }
  constexpr std::array<std::string_view, 5> kNames = {"instance", "member class", "member code",
                                                      "subsystem code", "service code"};
  std::array<std::string, 5> decoded;
  for (size_t i = 0; i < kNames.size(); ++i) {
    auto part = DecodeIdPart(segments[i + 1], kNames[i]);
    if (!part) {
      return BadRequest(fmt::format("service identifier in request target \"{}\": {}",
                                    EscapeForLog(request_target), part.error().message()));
    }
    decoded[i] = std::move(*part);
  }
  auto provider = ClientId::FromParts(decoded[0], decoded[1], decoded[2], decoded[3]);
  if (!provider) {
    return BadRequest(fmt::format("service identifier in request target \"{}\": {}",
                                  EscapeForLog(request_target), provider.error().message()));
  }

  // The service path starts at the slash after the service code (the 7th slash).
  size_t path_start = 0;
  for (int slashes = 0; path_start != std::string_view::npos && slashes < 7; ++slashes) {
    path_start = path_part.find('/', slashes == 0 ? 0 : path_start + 1);
  }
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : path_part.substr(path_start);
  TROAD_RETURN_IF_ERROR(CheckRestPath(path));

  RestTarget target;
  target.service = ServiceId{std::move(*provider), std::move(decoded[4])};
  target.path = std::string(path);
  target.query = std::string(query);
  target.metaservice = MetaserviceFor(target.service.service_code);
  return target;
}

Result<ConsumerTarget> ParseConsumerTarget(std::string_view request_target) {
  TROAD_RETURN_IF_ERROR(CheckTargetLength(request_target));
  size_t question = request_target.find('?');
  std::string_view path_part = request_target.substr(0, question);
  ConsumerTarget result;
  if (path_part == kListClientsPath) {
    std::string_view query = question == std::string_view::npos
                                 ? std::string_view()
                                 : request_target.substr(question + 1);
    TROAD_ASSIGN_OR_RETURN(std::optional<std::string> instance,
                           FindQueryParameter(query, "xRoadInstance"));
    if (instance && !instance->empty()) {
      auto valid = ValidateIdPart(*instance, "xRoadInstance");
      if (!valid) return WithFault(std::move(valid).error(), kFaultBadRequest);
      result.list_clients_instance = std::move(*instance);
    }
    result.kind = ConsumerTarget::Kind::kListClients;
    return result;
  }
  std::string_view first = path_part.empty() ? path_part : SplitPath(path_part.substr(1)).front();
  if (path_part.empty() || path_part.front() != '/' || !IsProtocolVersionSegment(first)) {
    return BadRequest(
        fmt::format("request target \"{}\" addresses neither an X-Road REST service ({}) nor {}",
                    EscapeForLog(request_target), kTargetShape, kListClientsPath),
        ErrorCode::kNotFound);
  }
  TROAD_ASSIGN_OR_RETURN(result.rest, ParseRestTarget(request_target));
  result.kind = ConsumerTarget::Kind::kRestService;
  return result;
}

Result<std::optional<std::string>> FindQueryParameter(std::string_view query,
                                                      std::string_view name) {
  std::optional<std::string> found;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    TROAD_ASSIGN_OR_RETURN(std::string key, FormDecode(pair.substr(0, eq)));
    if (!IEquals(key, name)) continue;
    if (eq == std::string_view::npos) {
      found = std::string();
    } else {
      TROAD_ASSIGN_OR_RETURN(found, FormDecode(pair.substr(eq + 1)));
    }
  }
  return found;
}

Status CheckRestPath(std::string_view raw_path) {
  if (raw_path.empty()) return Ok();
  if (raw_path.front() != '/') {
    return BadRequest(
        fmt::format("service path \"{}\" must start with '/'", EscapeForLog(raw_path)));
  }
  TROAD_RETURN_IF_ERROR(CheckRawText(raw_path, "service path", "\\#?"));
  for (std::string_view segment : SplitPath(raw_path.substr(1))) {
    TROAD_RETURN_IF_ERROR(CheckPathSegment(segment));
  }
  return Ok();
}

Result<std::string> NormalizeRestPath(std::string_view raw_path) {
  TROAD_RETURN_IF_ERROR(CheckRestPath(raw_path));
  std::string out;
  out.reserve(raw_path.size() + 1);
  if (raw_path.size() <= 1) return std::string("/");
  for (std::string_view segment : SplitPath(raw_path.substr(1))) {
    if (segment.empty()) continue;
    out += '/';
    for (size_t i = 0; i < segment.size(); ++i) {
      if (segment[i] != '%') {
        out += segment[i];
        continue;
      }
      // CheckRestPath has validated every escape.
      auto byte = PercentDecode(segment.substr(i, 3));
      char c = (*byte)[0];
      if (c == '/') {
        out += "%2F";
      } else if (c == '%') {
        out += "%25";
      } else {
        out += c;
      }
      i += 2;
    }
  }
  if (raw_path.back() == '/' || out.empty()) out += '/';
  return out;
}

std::string RepresentedParty::ToString() const {
  if (party_class.empty()) return EncodePathSegment(party_code);
  return fmt::format("{}/{}", EncodePathSegment(party_class), EncodePathSegment(party_code));
}

Result<XRoadRequestHeaders> ParseXRoadRequestHeaders(const http::Request& request) {
  XRoadRequestHeaders headers;
  auto client = LastHeader(request, kHeaderClient);
  if (!client || TrimSpaces(*client).empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      fmt::format("The client identifier is missing: the request has no {} "
                                  "header (INSTANCE/CLASS/MEMBER[/SUBSYSTEM])",
                                  kHeaderClient))
                    .WithFault(std::string(kFaultInvalidClientIdentifier)));
  }
  TROAD_ASSIGN_OR_RETURN(headers.client, ParseClientHeader(TrimSpaces(*client)));

  if (auto id = LastHeader(request, kHeaderId)) {
    TROAD_RETURN_IF_ERROR(CheckTextHeader(kHeaderId, *id, kMaxMessageIdLength));
    headers.id = std::string(*id);
  }
  if (auto user_id = LastHeader(request, kHeaderUserId)) {
    TROAD_RETURN_IF_ERROR(CheckTextHeader(kHeaderUserId, *user_id, kMaxUserIdLength));
    headers.user_id = std::string(*user_id);
  }
  if (auto issue = LastHeader(request, kHeaderIssue)) {
    TROAD_RETURN_IF_ERROR(CheckTextHeader(kHeaderIssue, *issue, kMaxIssueLength));
    headers.issue = std::string(*issue);
  }
  if (auto party = LastHeader(request, kHeaderRepresentedParty); party && !party->empty()) {
    TROAD_ASSIGN_OR_RETURN(headers.represented_party,
                           ParseRepresentedPartyHeader(TrimSpaces(*party)));
  }
  if (auto server = LastHeader(request, kHeaderSecurityServer); server && !server->empty()) {
    TROAD_ASSIGN_OR_RETURN(headers.security_server, ParseSecurityServerHeader(TrimSpaces(*server)));
  }
  return headers;
}

std::string ClientIdHeaderValue(const ClientId& id) {
  std::string out =
      fmt::format("{}/{}/{}", EncodePathSegment(id.instance), EncodePathSegment(id.member_class),
                  EncodePathSegment(id.member_code));
  if (id.is_subsystem()) out += "/" + EncodePathSegment(id.subsystem);
  return out;
}

std::string ServiceIdHeaderValue(const ServiceId& id) {
  return fmt::format("{}/{}", ClientIdHeaderValue(id.provider), EncodePathSegment(id.service_code));
}

bool IsPassThroughRequestHeader(std::string_view name) { return IsPassThroughHeader(name); }

bool IsPassThroughResponseHeader(std::string_view name) { return IsPassThroughHeader(name); }

std::vector<std::string> ConnectionOptionHeaders(std::string_view connection_value) {
  std::vector<std::string> names;
  while (!connection_value.empty()) {
    size_t comma = connection_value.find(',');
    std::string_view token = TrimSpaces(connection_value.substr(0, comma));
    connection_value =
        comma == std::string_view::npos ? std::string_view() : connection_value.substr(comma + 1);
    if (!token.empty()) names.push_back(AsciiLower(token));
  }
  return names;
}

std::string NewMessageId(std::string_view instance) {
  return fmt::format("{}-{}", instance, crypto::NewUuid());
}

std::string RequestHash(std::string_view header_part_sha512, std::string_view body_sha512) {
  if (body_sha512.empty()) return Base64Encode(header_part_sha512);
  std::string input;
  input.reserve(header_part_sha512.size() + body_sha512.size());
  input.append(header_part_sha512);
  input.append(body_sha512);
  crypto::Sha512Digest digest = crypto::Sha512(input);
  return Base64Encode(crypto::DigestView(digest));
}

}  // namespace troad::gateway
