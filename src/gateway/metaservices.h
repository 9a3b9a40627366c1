// X-Road REST metaservices, rendering only: the gateway supplies the data (from the
// global configuration and its own service list); these functions give it X-Road's
// exact shape.
//
// Addressing (PR-MREST, PR-META):
//   listClients     GET /listClients[?xRoadInstance=AA]  on the consumer port, no
//                   X-Road-Client needed (PR-META §2). JSON when Accept names
//                   application/json, otherwise text/xml (PR-META §2).
//   listMethods     GET /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/listMethods
//   allowedMethods  GET /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/allowedMethods
//   getOpenAPI      GET /r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/getOpenAPI
//                       ?serviceCode={code}
//                   The last three are ordinary X-Road REST calls to the provider
//                   subsystem with X-Road-Client set (PR-MREST §3, §4); the provider
//                   gateway answers them (X-Road: RestMetadataServiceHandlerImpl,
//                   which only takes GET).
//
// Shapes:
//   listClients JSON  PR-META Annex C.1: {"member":[{"id":{"member_class",
//                     "member_code"[,"subsystem_code"],"object_type","xroad_instance"},
//                     "name"[,"subsystem_name"]}]}
//   listClients XML   PR-META Annex A (ClientListType) and C.1: <ns2:clientList> of
//                     <ns2:member><ns2:id ns1:objectType=…>…</ns2:id><ns2:name/>…
//   list/allowed      PR-MREST Annex B.1/B.2: {"service":[{"member_class",
//                     "member_code","object_type":"SERVICE","service_code",
//                     "service_type","subsystem_code","xroad_instance",
//                     "endpoint_list":[{"method","path"}]}]}, Content-Type
//                     application/json. Metaservices themselves are never listed.
//   getOpenAPI        the service's OpenAPI 3 description with server URLs reduced
//                     to their paths (X-Road's Openapi3Anonymiser, see
//                     StripOpenApiServers).
//
// Thread-safety: constants and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "http/types.h"

namespace troad::gateway {

inline constexpr std::string_view kServiceTypeRest = "REST";
inline constexpr std::string_view kServiceTypeOpenApi = "OPENAPI";
inline constexpr std::string_view kMetaserviceJsonContentType = "application/json";
inline constexpr std::string_view kListClientsXmlContentType = "text/xml;charset=utf-8";
inline constexpr std::string_view kListClientsJsonContentType = "application/json;charset=utf-8";

// One member or subsystem of an X-Road instance.
struct ClientInfo {
  ClientId id;
  std::string name;            // the member's name; omitted when empty
  std::string subsystem_name;  // only for subsystems; omitted when empty
};

// One REST service of a provider subsystem.
struct ServiceInfo {
  ServiceId id;
  std::string type;  // kServiceTypeRest or kServiceTypeOpenApi
  // (method, path) pairs, e.g. ("GET", "/pets/*"); method "*" means any.
  std::vector<std::pair<std::string, std::string>> endpoints;
};

// listClients -------------------------------------------------------------------

// True when Accept lists application/json (parameters ignored), as X-Road decides.
bool ListClientsWantsJson(std::string_view accept_header);
std::string RenderListClientsJson(const std::vector<ClientInfo>& clients);
std::string RenderListClientsXml(const std::vector<ClientInfo>& clients);
// 200 with JSON or XML per ListClientsWantsJson(accept_header).
http::Response MakeListClientsResponse(const std::vector<ClientInfo>& clients,
                                       std::string_view accept_header, unsigned http_version,
                                       bool keep_alive);

// listMethods / allowedMethods --------------------------------------------------

// The JSON body for listMethods and allowedMethods (the same shape). Services whose
// code names a metaservice are left out, as PR-MREST §3 requires.
std::string RenderRestServiceList(const std::vector<ServiceInfo>& services);

// getOpenAPI --------------------------------------------------------------------

// The serviceCode query parameter of a getOpenAPI call (name compared
// case-insensitively, the last one wins). kInvalidArgument with fault
// InvalidRequest when it is missing or empty (X-Road's code), or BadRequest when it
// is not a valid service code.
Result<std::string> GetOpenApiServiceCode(std::string_view query);

// Removes internal addresses from a JSON OpenAPI 3 description, as X-Road's
// Openapi3Anonymiser does: every server URL with a scheme ("https://host:8443/api")
// is replaced by its path ("/api"; "" when it has none); relative URLs stay. Beyond
// X-Road:
//   - path-item and operation-level "servers" are treated the same way as the
//     top-level one (X-Road only looks at the top level);
//   - a URL whose host is a template ("https://{host}/api") is reduced to its path
//     too (X-Road leaves such URLs whole), and server variables no longer used in the
//     URL are removed, since their defaults tend to name internal hosts;
//   - "servers" that is not an array, or a server whose "url" is not a string, is
//     refused instead of skipped, so nothing unexamined leaks.
// An "openapi" member, when present, must be a string starting with "3." (X-Road
// refuses other versions). Key order is kept; the output is compact JSON.
// YAML descriptions are refused with a clear error for now (X-Road converts them
// with Jackson's YAML mapper; troad has no YAML parser in its dependency set).
// Errors: kInvalidArgument with fault InternalError (X-Road's code when it cannot
// rewrite a description): malformed JSON, YAML, not an object, wrong version, a URL
// with spaces or control characters.
Result<std::string> StripOpenApiServers(std::string_view openapi_json);

}  // namespace troad::gateway
