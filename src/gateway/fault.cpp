#include "gateway/fault.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/encoding.h"

namespace troad::gateway {
namespace {

constexpr std::string_view kClientPrefix = "Client";
constexpr std::string_view kClientProxyPrefix = "Server.ClientProxy";
constexpr std::string_view kServerProxyPrefix = "Server.ServerProxy";

std::string_view PrefixFor(FaultOrigin origin) {
  switch (origin) {
    case FaultOrigin::kClient:
      return kClientPrefix;
    case FaultOrigin::kClientProxy:
      return kClientProxyPrefix;
    case FaultOrigin::kServerProxy:
      return kServerProxyPrefix;
  }
  return kClientProxyPrefix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// True when the parameters of a media range (the text after its first ';') carry
// q=0, i.e. the client says it does not accept that type.
bool ExcludedByQuality(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view value = param.substr(2);
    if (value.empty() || value[0] != '0') return false;
    for (char c : value.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string FaultType(FaultOrigin origin, std::string_view code) {
  std::string_view prefix = PrefixFor(origin);
  if (code.size() > prefix.size() && code.substr(0, prefix.size()) == prefix &&
      code[prefix.size()] == '.') {
    return std::string(code);
  }
  return fmt::format("{}.{}", prefix, code);
}

std::string ServiceFailedCode(std::string_view code) {
  return fmt::format("{}.{}", kFaultServiceFailed, code);
}

unsigned FaultHttpStatus(std::string_view type) {
  return type.substr(0, 7) == "Server." ? 500 : 400;
}

std::string FaultCodeFor(const Error& error) {
  if (!error.fault().empty()) return error.fault();
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      return std::string(kFaultInvalidRequest);
    case ErrorCode::kNotFound:
      return std::string(kFaultNotFound);
    case ErrorCode::kAlreadyExists:
      return std::string(kFaultDuplicateMessageId);
    case ErrorCode::kPermissionDenied:
      return std::string(kFaultAccessDenied);
    case ErrorCode::kUnauthenticated:
      return std::string(kFaultSslAuthenticationFailed);
    case ErrorCode::kFailedPrecondition:
      return std::string(kFaultOutdatedGlobalConf);
    case ErrorCode::kResourceExhausted:
      return std::string(kFaultLimitExceeded);
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kUnavailable:
      return std::string(kFaultNetworkError);
    case ErrorCode::kIo:
      return std::string(kFaultIOError);
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
      return std::string(kFaultInternalError);
  }
  return std::string(kFaultInternalError);
}

FaultFormat FaultFormatFor(std::string_view accept_header, std::string* content_type) {
  std::string_view rest = accept_header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view range = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t semi = range.find(';');
    std::string type = AsciiLower(Trim(range.substr(0, semi)));
    if (type != "text/xml" && type != "application/xml" && type != "text/*") continue;
    if (semi != std::string_view::npos && ExcludedByQuality(range.substr(semi + 1))) continue;
    if (content_type != nullptr) {
      *content_type = (type == "text/*" ? std::string("text/xml") : type) + ";charset=utf-8";
    }
    return FaultFormat::kXml;
  }
  if (content_type != nullptr) *content_type = "application/json;charset=utf-8";
  return FaultFormat::kJson;
}

std::string FaultBody(FaultFormat format, std::string_view type, std::string_view message,
                      std::string_view detail) {
  if (format == FaultFormat::kXml) {
    // What Java's default Transformer writes for X-Road's DOM document (no indent).
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>"
        "<error><type>{}</type><message>{}</message><detail>{}</detail></error>",
        XmlEscape(type), XmlEscape(message), XmlEscape(detail));
  }
  nlohmann::ordered_json body;
  body["type"] = std::string(type);
  body["message"] = std::string(message);
  body["detail"] = std::string(detail);
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

http::Response MakeFaultResponse(std::string_view type, std::string_view message,
                                 std::string_view detail, std::string_view accept_header,
                                 unsigned http_version, bool keep_alive) {
  std::string content_type;
  FaultFormat format = FaultFormatFor(accept_header, &content_type);
  http::Response response =
      http::MakeResponse(FaultHttpStatus(type), FaultBody(format, type, message, detail),
                         content_type, http_version, keep_alive);
  response.set(kXRoadErrorHeader, RepairUtf8(type));
  return response;
}

http::Response MakeFaultResponse(FaultOrigin origin, const Error& error, std::string_view detail,
                                 std::string_view accept_header, unsigned http_version,
                                 bool keep_alive) {
  return MakeFaultResponse(FaultType(origin, FaultCodeFor(error)), error.message(), detail,
                           accept_header, http_version, keep_alive);
}

}  // namespace troad::gateway
