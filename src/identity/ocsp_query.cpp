// QueryOcsp: the one part of OCSP that does I/O (a POST with http::BlockingClient), kept
// apart from the pure request and response handling in ocsp.cpp.
#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

#include "core/encoding.h"
#include "http/client.h"
#include "identity/ocsp.h"

namespace troad::identity {

Result<OcspAnswer> QueryOcsp(std::string_view certificate_der, std::string_view issuer_der,
                             const OcspOptions& options, SystemTime now) {
  TROAD_ASSIGN_OR_RETURN(const OcspRequest request,
                         MakeOcspRequest(certificate_der, issuer_der, options));
  const std::string shown = EscapeForLog(request.url);
  auto url = http::ParseUrl(request.url);
  if (!url) return Fail(std::move(url).error().Context("the OCSP responder URL"));
  if (url->endpoint.tls) {
    return Fail(ErrorCode::kInvalidArgument,
                "the OCSP responder URL \"{}\" is https: OCSP answers are signed, so RFC 6960 "
                "responders speak plain http; use an http:// URL",
                shown);
  }

  http::ClientOptions client_options;
  client_options.connect_timeout = options.timeout;
  client_options.body_limit = kMaxOcspResponseBytes;
  client_options.max_idle_per_endpoint = 1;
  http::BlockingClient client(std::move(client_options));
  namespace bhttp = http::bhttp;
  http::Request req{bhttp::verb::post, url->path, 11};
  req.set(bhttp::field::host, url->endpoint.host);
  req.set(bhttp::field::user_agent, "troad");
  req.set(bhttp::field::content_type, kOcspRequestContentType);
  req.set(bhttp::field::accept, kOcspResponseContentType);
  req.body() = request.der;
  req.prepare_payload();
  auto sent = client.Send(url->endpoint, std::move(req), options.timeout);
  if (!sent) {
    // Timeouts, refused connections, oversized bodies: no answer either way.
    return Fail(ErrorCode::kUnavailable, "the OCSP responder {} could not be asked: {}", shown,
                sent.error().message());
  }
  const http::Response& res = sent->response;
  if (res.result_int() != 200) {
    return Fail(ErrorCode::kUnavailable, "the OCSP responder {} answered HTTP {}: {}", shown,
                res.result_int(), EscapeForLog(res.body(), 200));
  }
  const std::string_view content_type = res[bhttp::field::content_type];
  const std::string_view media_type = content_type.substr(0, content_type.find(';'));
  if (!boost::beast::iequals(media_type, kOcspResponseContentType)) {
    return Fail(ErrorCode::kUnavailable,
                "the OCSP responder {} answered Content-Type \"{}\", not {} (a proxy's page?)",
                shown, EscapeForLog(content_type, 100), kOcspResponseContentType);
  }
  auto answer = CheckOcspResponse(res.body(), request, certificate_der, issuer_der, now, options);
  if (!answer)
    return Fail(std::move(answer).error().Context(fmt::format("OCSP responder {}", shown)));
  return answer;
}

}  // namespace troad::identity
