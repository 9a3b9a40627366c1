#include "mydata/fetch.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"

namespace troad::mydata {
namespace {

namespace bhttp = http::bhttp;

constexpr std::string_view kHeaderWantSignature = "X-Road-Want-Signature";
constexpr std::string_view kHeaderResponseHeader = "X-Road-Response-Header";
constexpr std::string_view kHeaderResponseSignature = "X-Road-Response-Signature";
constexpr std::string_view kHeaderResponseCertificate = "X-Road-Response-Certificate";

std::string HeaderOf(const http::Response& res, std::string_view name) {
  auto value = res[boost::beast::string_view(name.data(), name.size())];
  return std::string(value.data(), value.size());
}

}  // namespace

Result<http::Request> BuildFetchRequest(const FetchOptions& o, const Dataset& dataset,
                                        std::string_view national_id,
                                        std::string_view transaction) {
  TROAD_ASSIGN_OR_RETURN(std::string path, DatasetPathFor(dataset, national_id));
  auto url = http::ParseUrl(o.gateway_url);
  if (!url) return Fail(url.error());
  std::string base = url->path == "/" ? std::string() : url->path;
  while (base.ends_with("/")) base.pop_back();
  http::Request req(bhttp::verb::get, base + "/r1/" + dataset.service.ToString() + path, 11);
  req.set("X-Road-Client", o.client.ToString());
  req.set(kHeaderWantSignature, "1");
  if (!transaction.empty()) req.set("X-Road-Issue", transaction);
  req.set(bhttp::field::accept, dataset.media_type);
  return req;
}

Result<PackagePart> PartFromResponse(const Dataset& dataset, const http::Response& res) {
  const std::string fault = HeaderOf(res, "X-Road-Error");
  if (!fault.empty()) {
    std::string message;
    if (auto doc = ParseJson(res.body(), "fault"); doc && doc->is_object()) {
      message = doc->value("message", "");
    }
    // The provider (or its gateway) did not answer — the live platform's 504 — when the
    // providing gateway could not reach its backend in time, or a gateway timed out.
    bool no_answer = fault.find("NetworkError") != std::string::npos ||
                     fault.find("Timeout") != std::string::npos;
    return Fail(no_answer ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable,
                "{}: T-Road answered {} ({}): {}", dataset.id, EscapeForLog(fault, 100),
                res.result_int(), EscapeForLog(message, 300));
  }
  if (res.result_int() == 404) {
    return Fail(ErrorCode::kNotFound, "{}: the provider has no record of this person", dataset.id);
  }
  if (res.result_int() < 200 || res.result_int() > 299) {
    return Fail(ErrorCode::kUnavailable, "{}: the provider answered {}", dataset.id,
                res.result_int());
  }
  PackagePart part;
  part.dataset = dataset.id;
  part.service = dataset.service.ToString();
  part.media_type = dataset.media_type;
  for (auto [name, out] : {std::pair{kHeaderResponseHeader, &part.response_header},
                           std::pair{kHeaderResponseSignature, &part.response_signature},
                           std::pair{kHeaderResponseCertificate, &part.certificate_der}}) {
    std::string value = HeaderOf(res, name);
    if (value.empty()) {
      return Fail(ErrorCode::kUnauthenticated,
                  "{}: the answer came without the provider's signature ({} missing); unsigned "
                  "data is not delivered",
                  dataset.id, name);
    }
    auto decoded = Base64Decode(value);
    if (!decoded || decoded->empty()) {
      return Fail(ErrorCode::kInvalidArgument, "{}: {} is not base64", dataset.id, name);
    }
    *out = std::move(*decoded);
  }
  std::string content_type = HeaderOf(res, "Content-Type");
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (media != dataset.media_type) {
    return Fail(ErrorCode::kInvalidArgument, "{}: the provider answered {}, not {}", dataset.id,
                EscapeForLog(content_type, 100), dataset.media_type);
  }
  if (res.body().empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{}: the provider answered with nothing", dataset.id);
  }
  if (dataset.media_type == "application/json") {
    if (auto doc = ParseJson(res.body(), dataset.id); !doc) {
      return Fail(ErrorCode::kInvalidArgument, "{}: malformed data: {}", dataset.id,
                  doc.error().message());
    }
  }
  part.body = res.body();
  return part;
}

boost::asio::awaitable<Result<PackagePart>> FetchDataset(http::Client& client, FetchOptions options,
                                                         Dataset dataset, std::string national_id,
                                                         std::string transaction) {
  auto req = BuildFetchRequest(options, dataset, national_id, transaction);
  if (!req) co_return Fail(req.error());
  auto url = http::ParseUrl(options.gateway_url);
  if (!url) co_return Fail(url.error());
  auto res = co_await client.Send(url->endpoint, std::move(*req), options.timeout);
  if (!res) {
    co_return Fail(res.error().code() == ErrorCode::kDeadlineExceeded ? ErrorCode::kDeadlineExceeded
                                                                      : ErrorCode::kUnavailable,
                   "{}: MyData's gateway: {}", dataset.id, res.error().message());
  }
  co_return PartFromResponse(dataset, res->response);
}

}  // namespace troad::mydata
