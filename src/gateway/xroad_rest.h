// The consumer-facing X-Road REST message protocol (PR-REST, version "r1"): what an
// information system's request addresses, its X-Road-* headers, which headers pass
// through the exchange, message ids and the request hash.
//
// Where each shape comes from:
//   - request target "/r1/{instance}/{class}/{member}/{subsystem}/{service}[/path]
//     [?query]", each identifier part percent-encoded UTF-8: PR-REST §4.1, §4.2;
//     X-Road's RestRequest.decodeIdentifiers (split on '/', parts 2..6 decoded one by
//     one, the rest kept raw as the service path; the subsystem is required there).
//   - metaservices are ordinary services of the provider subsystem with service code
//     listMethods, allowedMethods or getOpenAPI (PR-MREST §3, §4); listClients is
//     "GET /listClients[?xRoadInstance=AA]" on the consumer port (PR-META §2).
//   - headers: PR-REST §4.3 and X-Road's MimeUtils (names), RestRequest.decodeHeaders
//     (the last of repeated headers wins; each id part percent-decoded),
//     X-Road-Represented-Party "[CLASS/]CODE" (PR-REST §4.3, decodeRepresentedParty),
//     X-Road-Security-Server "INSTANCE/CLASS/MEMBER/CODE".
//   - filtered headers: PR-REST §4.3 "Filtered headers" and "Specially handled
//     headers"; X-Road's RestMessage.SKIPPED_HEADERS (transfer-encoding, keep-alive,
//     proxy-authenticate, proxy-authorization, te, trailer, upgrade, connection,
//     user-agent, host, content-length, server, expect); RestRequest / RestResponse
//     drop the X-Road-* headers the security servers set themselves. Date, Cache-*,
//     Accept, Content-Type and user-defined headers pass unchanged (PR-REST §4.3).
//   - default message id "{instance}-{uuid}": ClientRestMessageProcessor.processRequest.
//   - request hash: PR-REST §4.3 "Request hash header".
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "http/types.h"

namespace troad::gateway {

// ---- Request targets -------------------------------------------------------------

inline constexpr std::string_view kRestProtocolVersion = "r1";
// Longest request target accepted (PR-REST §4.2 asks for a limit; clients commonly
// stop at 2000 characters, so 8 KiB leaves room for long queries).
inline constexpr size_t kMaxRequestTargetLength = 8 * 1024;

inline constexpr std::string_view kListMethodsCode = "listMethods";
inline constexpr std::string_view kAllowedMethodsCode = "allowedMethods";
inline constexpr std::string_view kGetOpenApiCode = "getOpenAPI";
inline constexpr std::string_view kListClientsPath = "/listClients";

// The REST metaservice a service code names, if any. The gateway answers these
// itself (X-Road does so only for GET; other methods go to the service as usual).
enum class Metaservice { kNone, kListMethods, kAllowedMethods, kGetOpenApi };

struct RestTarget {
  ServiceId service;
  std::string path;   // after the service code, raw (still percent-encoded): "" or "/…"
  std::string query;  // raw, without '?'; "" when absent
  Metaservice metaservice = Metaservice::kNone;
};

// Parses an origin-form request target "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE
// [/path][?query]". Identifier parts are percent-decoded, then validated as
// core/ids.h says. The path is kept raw but must pass CheckRestPath. Errors (all
// kInvalidArgument unless noted), with their fault codes:
//   BadRequest              not "/r1/…", too few parts, bad identifier, bad path/query
//   BadRequest              kResourceExhausted: longer than kMaxRequestTargetLength
//   InvalidProtocolVersion  "/rN/…" with N ≠ 1
Result<RestTarget> ParseRestTarget(std::string_view request_target);

// What a request on the consumer port addresses.
struct ConsumerTarget {
  enum class Kind { kRestService, kListClients };
  Kind kind = Kind::kRestService;
  RestTarget rest;                    // kRestService
  std::string list_clients_instance;  // kListClients: xRoadInstance parameter, or ""
};

// ParseRestTarget, or "/listClients[?xRoadInstance=X]" (X validated as an identifier
// part). Anything else: kNotFound with fault BadRequest (or InvalidProtocolVersion
// for "/rN/…").
Result<ConsumerTarget> ParseConsumerTarget(std::string_view request_target);

// The value of query parameter `name` (compared ASCII case-insensitively, as X-Road
// does for serviceCode), form-decoded ('+' is a space, %XX escapes); the last one
// wins. nullopt when absent. Error (kInvalidArgument, BadRequest) on a malformed
// escape or an encoded NUL.
Result<std::optional<std::string>> FindQueryParameter(std::string_view query,
                                                      std::string_view name);

// ---- Service paths ---------------------------------------------------------------

// Checks a raw service path ("" or "/…", still percent-encoded) before it is
// forwarded. Refused (kInvalidArgument, BadRequest):
//   - raw control characters, space, '\\', '#', '?', or invalid UTF-8;
//   - a malformed %XX escape or an encoded NUL;
//   - a segment that, percent-decoded, contains a control character or '\\', is not
//     valid UTF-8, or is a dot-segment ("." or ".."). The dot test also looks at the
//     segment cut at its first ';' (Tomcat reads "..;x" as ".."), at each piece of a
//     segment split on an encoded '/' (a backend that decodes %2F would see a
//     separator), and at the segment decoded a second time ("%252e%252e").
// Empty segments ("//") are allowed here and forwarded as they are.
Status CheckRestPath(std::string_view raw_path);

// The path access rules compare against. Rule: CheckRestPath must pass; then empty
// segments are dropped (duplicate slashes collapse), each segment is percent-decoded
// except that an encoded '/' and '%' stay encoded as "%2F" and "%25" (so an encoded
// slash never becomes a separator, and a result that is itself a valid raw path
// normalises to itself), and the segments
// are joined with '/' after a leading '/'. A trailing slash is kept ("/a/" ≠ "/a"),
// since backends may tell them apart. "" and "/" give "/".
// Example: "/pets//%61b%2fc/" → "/pets/ab%2Fc/".
Result<std::string> NormalizeRestPath(std::string_view raw_path);

// ---- X-Road request headers ------------------------------------------------------

inline constexpr std::string_view kHeaderClient = "X-Road-Client";
inline constexpr std::string_view kHeaderService = "X-Road-Service";
inline constexpr std::string_view kHeaderId = "X-Road-Id";
inline constexpr std::string_view kHeaderUserId = "X-Road-UserId";
inline constexpr std::string_view kHeaderIssue = "X-Road-Issue";
inline constexpr std::string_view kHeaderRepresentedParty = "X-Road-Represented-Party";
inline constexpr std::string_view kHeaderSecurityServer = "X-Road-Security-Server";
inline constexpr std::string_view kHeaderRequestId = "X-Road-Request-Id";
inline constexpr std::string_view kHeaderRequestHash = "X-Road-Request-Hash";
// kXRoadErrorHeader ("X-Road-Error") is in fault.h.

inline constexpr size_t kMaxMessageIdLength = 255;
inline constexpr size_t kMaxUserIdLength = 255;
inline constexpr size_t kMaxIssueLength = 1024;

// X-Road-Represented-Party (PR-THIRDPARTY via PR-REST §4.3): the third party the
// client acts for, "[CLASS/]CODE". The class is optional.
struct RepresentedParty {
  std::string party_class;  // "" when the header gave only a code
  std::string party_code;

  // "CLASS/CODE" or "CODE", parts percent-encoded as in the header.
  std::string ToString() const;
  auto operator<=>(const RepresentedParty&) const = default;
};

struct XRoadRequestHeaders {
  ClientId client;
  std::string id;       // X-Road-Id, "" when absent (then use NewMessageId)
  std::string user_id;  // X-Road-UserId, "" when absent
  std::string issue;    // X-Road-Issue, "" when absent
  std::optional<RepresentedParty> represented_party;
  std::optional<GatewayId> security_server;
};

// Reads the X-Road-* request headers; of repeated headers the last wins (PR-REST
// §4.3). Errors (kInvalidArgument) and their fault codes:
//   InvalidClientIdentifier  X-Road-Client missing, empty or malformed
//   InvalidSecurityServer    X-Road-Security-Server malformed
//   BadRequest               X-Road-Represented-Party malformed; X-Road-Id, -UserId or
//                            -Issue too long, not UTF-8, or with control characters
Result<XRoadRequestHeaders> ParseXRoadRequestHeaders(const http::Request& request);

// An identifier as X-Road writes it into X-Road-Client / X-Road-Service response
// headers: parts joined with '/', each percent-encoded as a URI path segment
// (RestResponse.encodeXRoadId).
std::string ClientIdHeaderValue(const ClientId& id);
std::string ServiceIdHeaderValue(const ServiceId& id);

// ---- Header pass-through ---------------------------------------------------------

// Whether a header of the information system's request travels to the provider's
// backend. Dropped (case-insensitive): hop-by-hop headers (Connection, Keep-Alive,
// Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade), Host, User-Agent, Server (they
// name hosts), Content-Length and Expect (the gateways handle framing themselves),
// and the X-Road headers the gateways set themselves: X-Road-Client, -Service, -Id,
// -UserId, -Issue, -Represented-Party, -Security-Server, -Request-Id, -Request-Hash,
// -Error. X-Road passes the client, id, user id and issue to the backend too; the
// provider gateway re-creates those headers from the verified message header rather
// than forwarding the caller's copies. Other X-Road-* headers are extension headers,
// handled like any user-defined header (PR-REST §4.3).
bool IsPassThroughRequestHeader(std::string_view name);
// The same for the backend's response on its way back to the information system.
bool IsPassThroughResponseHeader(std::string_view name);

// The header names a Connection header value lists (lower case); they are hop-by-hop
// for that message as well (RFC 9110 §7.6.1) and must not be forwarded.
std::vector<std::string> ConnectionOptionHeaders(std::string_view connection_value);

// ---- Message ids and request hash ------------------------------------------------

// "{instance}-{uuid}", X-Road's id for a request that came without X-Road-Id.
std::string NewMessageId(std::string_view instance);

// X-Road-Request-Hash: base64(SHA-512(header_part_sha512 ‖ body_sha512)), where both
// arguments are raw 64-byte SHA-512 digests (of the request header part and of the
// body). A request without a body passes "" as body_sha512 and gets
// base64(header_part_sha512), as PR-REST §4.3 prescribes.
std::string RequestHash(std::string_view header_part_sha512, std::string_view body_sha512);

}  // namespace troad::gateway
