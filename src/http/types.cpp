// MakeResponse: see types.h.
#include "http/types.h"

#include <nlohmann/json.hpp>

namespace troad::http {

Response MakeResponse(unsigned status, std::string body, std::string_view content_type,
                      unsigned version, bool keep_alive) {
  Response response(static_cast<bhttp::status>(status), version);
  response.set(bhttp::field::content_type, content_type);
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

Response JsonResponse(unsigned status, const nlohmann::json& body) {
  auto res = MakeResponse(status, body.dump(), "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

}  // namespace troad::http
