#include "gateway/metaservices.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "gateway/fault.h"
#include "gateway/xroad_rest.h"

namespace troad::gateway {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Descriptions nest deeper than configuration files (schemas inside schemas), but a
// bound keeps a hostile document from exhausting the stack of the parser.
constexpr size_t kMaxOpenApiDepth = 256;

constexpr std::array<std::string_view, 8> kOperations = {"get",     "put",  "post",  "delete",
                                                         "options", "head", "patch", "trace"};

std::string Dump(const OrderedJson& json) {
  return json.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

bool IsMetaserviceCode(std::string_view code) {
  return code == kListMethodsCode || code == kAllowedMethodsCode || code == kGetOpenApiCode;
}

tl::unexpected<Error> OpenApiError(std::string message) {
  return Fail(Error(ErrorCode::kInvalidArgument, "OpenAPI description: " + std::move(message))
                  .WithFault(std::string(kFaultInternalError)));
}

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// A scheme ("https") or a server-variable template standing for one ("{scheme}").
bool IsSchemeLike(std::string_view s) {
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') return true;
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (char c : s) {
    if (!IsSchemeChar(c)) return false;
  }
  return true;
}

// The part of a server URL that may be shown to other organisations: its path.
Result<std::string> ReduceServerUrl(std::string_view url) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return OpenApiError(fmt::format("cannot parse server URL \"{}\"", EscapeForLog(url)));
    }
  }
  size_t separator = url.find("://");
  if (separator != std::string_view::npos && IsSchemeLike(url.substr(0, separator))) {
    std::string_view rest = url.substr(separator + 3);
    size_t path_start = rest.find_first_of("/?#");
    if (path_start == std::string_view::npos) return std::string();
    std::string_view path = rest.substr(path_start);
    return std::string(path.substr(0, path.find_first_of("?#")));
  }
  size_t colon = url.find(':');
  if (colon != std::string_view::npos && IsSchemeLike(url.substr(0, colon)) &&
      url.substr(0, colon).front() != '{') {
    // Opaque ("localhost:8080/api", "urn:x"): no path to keep, and the rest may be a
    // host name. X-Road's URI.getPath() gives null here.
    return std::string();
  }
  return std::string(url);  // relative: nothing to hide
}

Status RewriteServer(OrderedJson& server, const std::string& where) {
  if (!server.is_object()) return OpenApiError(fmt::format("{}: expected an object", where));
  auto url = server.find("url");
  if (url == server.end()) return Ok();
  if (!url->is_string()) return OpenApiError(fmt::format("{}.url: expected a string", where));
  TROAD_ASSIGN_OR_RETURN(std::string reduced, ReduceServerUrl(url->get<std::string>()));
  *url = reduced;
  auto variables = server.find("variables");
  if (variables != server.end() && variables->is_object()) {
    for (auto it = variables->begin(); it != variables->end();) {
      if (reduced.find("{" + it.key() + "}") == std::string::npos) {
        it = variables->erase(it);
      } else {
        ++it;
      }
    }
    if (variables->empty()) server.erase("variables");
  }
  return Ok();
}

Status RewriteServers(OrderedJson& holder, const std::string& where) {
  auto servers = holder.find("servers");
  if (servers == holder.end()) return Ok();
  if (!servers->is_array()) {
    return OpenApiError(fmt::format("{}servers: expected an array", where));
  }
  for (size_t i = 0; i < servers->size(); ++i) {
    TROAD_RETURN_IF_ERROR(RewriteServer((*servers)[i], fmt::format("{}servers[{}]", where, i)));
  }
  return Ok();
}

Result<OrderedJson> ParseOpenApi(std::string_view text) {
  bool too_deep = false;
  OrderedJson::parser_callback_t limit = [&](int depth, OrderedJson::parse_event_t event,
                                             OrderedJson&) {
    if ((event == OrderedJson::parse_event_t::object_start ||
         event == OrderedJson::parse_event_t::array_start) &&
        static_cast<size_t>(depth) + 1 > kMaxOpenApiDepth) {
      too_deep = true;
    }
    return !too_deep;
  };
  OrderedJson doc = OrderedJson::parse(text, limit, /*allow_exceptions=*/false);
  if (too_deep) return OpenApiError(fmt::format("JSON nested deeper than {}", kMaxOpenApiDepth));
  if (doc.is_discarded()) {
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return OpenApiError("the description is empty");
    if (text[first] != '{' && text[first] != '[') {
      return OpenApiError(
          "the description is not JSON; YAML descriptions are not supported yet, publish "
          "the description as JSON");
    }
    return OpenApiError("malformed JSON");
  }
  if (!doc.is_object()) return OpenApiError("expected a JSON object at the top level");
  return doc;
}

void AppendXmlIdentifier(std::string& out, const ClientId& id) {
  out += fmt::format("        <ns2:id ns1:objectType=\"{}\">\n",
                     id.is_subsystem() ? "SUBSYSTEM" : "MEMBER");
  out += fmt::format("            <ns1:xRoadInstance>{}</ns1:xRoadInstance>\n",
                     XmlEscape(id.instance));
  out += fmt::format("            <ns1:memberClass>{}</ns1:memberClass>\n",
                     XmlEscape(id.member_class));
  out +=
      fmt::format("            <ns1:memberCode>{}</ns1:memberCode>\n", XmlEscape(id.member_code));
  if (id.is_subsystem()) {
    out += fmt::format("            <ns1:subsystemCode>{}</ns1:subsystemCode>\n",
                       XmlEscape(id.subsystem));
  }
  out += "        </ns2:id>\n";
}

}  // namespace

bool ListClientsWantsJson(std::string_view accept_header) {
  while (!accept_header.empty()) {
    size_t comma = accept_header.find(',');
    std::string_view range = accept_header.substr(0, comma);
    accept_header =
        comma == std::string_view::npos ? std::string_view() : accept_header.substr(comma + 1);
    range = range.substr(0, range.find(';'));
    while (!range.empty() && (range.front() == ' ' || range.front() == '\t')) {
      range.remove_prefix(1);
    }
    while (!range.empty() && (range.back() == ' ' || range.back() == '\t')) range.remove_suffix(1);
    if (range.size() != 16) continue;
    std::string lower(range);
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (lower == "application/json") return true;
  }
  return false;
}

std::string RenderListClientsJson(const std::vector<ClientInfo>& clients) {
  OrderedJson members = OrderedJson::array();
  for (const ClientInfo& client : clients) {
    OrderedJson id;
    id["member_class"] = client.id.member_class;
    id["member_code"] = client.id.member_code;
    if (client.id.is_subsystem()) id["subsystem_code"] = client.id.subsystem;
    id["object_type"] = client.id.is_subsystem() ? "SUBSYSTEM" : "MEMBER";
    id["xroad_instance"] = client.id.instance;
    OrderedJson member;
    member["id"] = std::move(id);
    if (!client.name.empty()) member["name"] = client.name;
    if (client.id.is_subsystem() && !client.subsystem_name.empty()) {
      member["subsystem_name"] = client.subsystem_name;
    }
    members.push_back(std::move(member));
  }
  OrderedJson body;
  body["member"] = std::move(members);
  return Dump(body);
}

std::string RenderListClientsXml(const std::vector<ClientInfo>& clients) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<ns2:clientList xmlns:ns1=\"http://x-road.eu/xsd/identifiers\" "
      "xmlns:ns2=\"http://x-road.eu/xsd/xroad.xsd\"";
  if (clients.empty()) return out + "/>\n";
  out += ">\n";
  for (const ClientInfo& client : clients) {
    out += "    <ns2:member>\n";
    AppendXmlIdentifier(out, client.id);
    if (!client.name.empty()) {
      out += fmt::format("        <ns2:name>{}</ns2:name>\n", XmlEscape(client.name));
    }
    if (client.id.is_subsystem() && !client.subsystem_name.empty()) {
      out += fmt::format("        <ns2:subsystemName>{}</ns2:subsystemName>\n",
                         XmlEscape(client.subsystem_name));
    }
    out += "    </ns2:member>\n";
  }
  out += "</ns2:clientList>\n";
  return out;
}

http::Response MakeListClientsResponse(const std::vector<ClientInfo>& clients,
                                       std::string_view accept_header, unsigned http_version,
                                       bool keep_alive) {
  if (ListClientsWantsJson(accept_header)) {
    return http::MakeResponse(200, RenderListClientsJson(clients), kListClientsJsonContentType,
                              http_version, keep_alive);
  }
  return http::MakeResponse(200, RenderListClientsXml(clients), kListClientsXmlContentType,
                            http_version, keep_alive);
}

std::string RenderRestServiceList(const std::vector<ServiceInfo>& services) {
  OrderedJson list = OrderedJson::array();
  for (const ServiceInfo& service : services) {
    if (IsMetaserviceCode(service.id.service_code)) continue;
    const ClientId& provider = service.id.provider;
    OrderedJson entry;
    entry["member_class"] = provider.member_class;
    entry["member_code"] = provider.member_code;
    entry["object_type"] = "SERVICE";
    entry["service_code"] = service.id.service_code;
    if (!service.type.empty()) entry["service_type"] = service.type;
    entry["subsystem_code"] = provider.subsystem;
    entry["xroad_instance"] = provider.instance;
    OrderedJson endpoints = OrderedJson::array();
    for (const auto& [method, path] : service.endpoints) {
      OrderedJson endpoint;
      endpoint["method"] = method;
      endpoint["path"] = path;
      endpoints.push_back(std::move(endpoint));
    }
    entry["endpoint_list"] = std::move(endpoints);
    list.push_back(std::move(entry));
  }
  OrderedJson body;
  body["service"] = std::move(list);
  return Dump(body);
}

Result<std::string> GetOpenApiServiceCode(std::string_view query) {
  TROAD_ASSIGN_OR_RETURN(std::optional<std::string> code, FindQueryParameter(query, "serviceCode"));
  if (!code || code->empty()) {
    return Fail(
        Error(ErrorCode::kInvalidArgument, fmt::format("{} needs the serviceCode query parameter "
                                                       "(…/{}?serviceCode=CODE)",
                                                       kGetOpenApiCode, kGetOpenApiCode))
            .WithFault(std::string(kFaultInvalidRequest)));
  }
  auto valid = ValidateIdPart(*code, "serviceCode");
  if (!valid) {
    return Fail(std::move(valid).error().WithFault(std::string(kFaultBadRequest)));
  }
  return *std::move(code);
}

Result<std::string> StripOpenApiServers(std::string_view openapi_json) {
  TROAD_ASSIGN_OR_RETURN(OrderedJson doc, ParseOpenApi(openapi_json));
  auto version = doc.find("openapi");
  if (version != doc.end()) {
    if (!version->is_string() || version->get<std::string>().rfind("3.", 0) != 0) {
      return OpenApiError(fmt::format("OpenAPI version 3 expected, the document says {}",
                                      EscapeForLog(Dump(*version))));
    }
  }
  TROAD_RETURN_IF_ERROR(RewriteServers(doc, ""));
  auto paths = doc.find("paths");
  if (paths != doc.end() && paths->is_object()) {
    for (auto item = paths->begin(); item != paths->end(); ++item) {
      if (!item->is_object()) continue;
      std::string where = fmt::format("paths[\"{}\"].", EscapeForLog(item.key()));
      TROAD_RETURN_IF_ERROR(RewriteServers(*item, where));
      for (std::string_view operation : kOperations) {
        auto op = item->find(std::string(operation));
        if (op == item->end() || !op->is_object()) continue;
        TROAD_RETURN_IF_ERROR(RewriteServers(*op, fmt::format("{}{}.", where, operation)));
      }
    }
  }
  return Dump(doc);
}

}  // namespace troad::gateway
