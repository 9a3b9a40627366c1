// HTTP message types shared by the server and the client (Beast, string bodies).
// Bodies are read whole, within a limit: troad checks a body (hash, signature)
// before it forwards any of it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "crypto/x509.h"

namespace troad::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// What a handler knows about the connection a request came on.
struct ConnectionInfo {
  tcp::endpoint remote;
  tcp::endpoint local;
  bool tls = false;
  // The peer's leaf certificate, present when the peer sent one and it verified
  // against the server context's trust anchors.
  std::optional<crypto::Certificate> peer_certificate;
};

// A plain-text or JSON response with Content-Type and Content-Length set.
Response MakeResponse(unsigned status, std::string body, std::string_view content_type,
                      unsigned version = 11, bool keep_alive = true);

// An application/json response with `Cache-Control: no-store` (APIs that return
// secrets, tokens or personal data must not be cached: RFC 6749 §5.1).
Response JsonResponse(unsigned status, const nlohmann::json& body);

}  // namespace troad::http
