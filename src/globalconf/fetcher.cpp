#include "globalconf/fetcher.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/field.hpp>
#include <filesystem>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/hash.h"
#include "http/tls.h"

namespace troad::globalconf {
namespace {

namespace bhttp = boost::beast::http;

FetchResult Rejected(std::string reason, std::string message) {
  return FetchResult{FetchOutcome::kRejected, nullptr, std::move(reason), std::move(message)};
}

// A failed request: the label says whether the central could not be reached or
// answered something that is not usable.
FetchResult RequestFailed(const Error& error, std::string_view what) {
  std::string reason = "unreachable";
  if (error.code() == ErrorCode::kResourceExhausted) {
    reason = "too-large";
  } else if (error.code() == ErrorCode::kInvalidArgument) {
    reason = "http-status";
  }
  return Rejected(std::move(reason), fmt::format("fetching {}: {}", what, error.message()));
}

FetchResult UnexpectedStatus(const http::Response& response, std::string_view what) {
  return Rejected("http-status",
                  fmt::format("fetching {}: the central answered HTTP {}: {}", what,
                              response.result_int(), EscapeForLog(response.body(), 200)));
}

}  // namespace

std::string_view FetchOutcomeName(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kUpdated:
      return "updated";
    case FetchOutcome::kUnchanged:
      return "unchanged";
    case FetchOutcome::kRejected:
      return "rejected";
  }
  return "unknown";
}

std::string DocumentHash(std::string_view document) { return HexEncode(crypto::Sha256(document)); }

Result<std::unique_ptr<Fetcher>> Fetcher::Create(Anchor anchor, std::string cache_dir,
                                                 const Clock& clock, FetcherOptions options) {
  auto url = http::ParseUrl(anchor.central_url);
  if (!url) return Fail(std::move(url).error().Context("anchor central_url"));
  if (!url->endpoint.tls) {
    return Fail(ErrorCode::kInvalidArgument, "anchor central_url: {} is not https",
                EscapeForLog(anchor.central_url));
  }
  TROAD_ASSIGN_OR_RETURN(
      auto context, http::MakeClientTlsContextForHost(anchor.ca_certificate, url->endpoint.host));

  http::ClientOptions client_options;
  client_options.tls = std::move(context);
  client_options.connect_timeout = options.connect_timeout;
  client_options.body_limit = options.max_document_bytes;
  // One fetch a minute: a pooled connection would be idle longer than it may stay,
  // and would tie the client to one event loop.
  client_options.max_idle_per_endpoint = 0;

  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  if (ec) {
    return Fail(ErrorCode::kIo, "cannot create the global configuration cache directory {}: {}",
                cache_dir, ec.message());
  }
  auto client = std::make_unique<http::Client>(std::move(client_options));
  return std::unique_ptr<Fetcher>(new Fetcher(std::move(anchor), std::move(cache_dir), clock,
                                              options, std::move(*url), std::move(client)));
}

Fetcher::Fetcher(Anchor anchor, std::string cache_dir, const Clock& clock, FetcherOptions options,
                 http::ParsedUrl central, std::unique_ptr<http::Client> client)
    : anchor_(std::move(anchor)),
      cache_dir_(std::move(cache_dir)),
      clock_(clock),
      options_(options),
      central_(std::move(central.endpoint)),
      base_path_(central.path == "/" ? std::string() : central.path),
      client_(std::move(client)) {}

Fetcher::~Fetcher() = default;

std::string Fetcher::DocumentFile() const {
  return (std::filesystem::path(cache_dir_) / kCachedDocumentFile).string();
}

std::string Fetcher::SignatureFile() const {
  return (std::filesystem::path(cache_dir_) / kCachedSignatureFile).string();
}

VerifyOptions Fetcher::Options(int64_t held_version, SystemTime now) const {
  return VerifyOptions{anchor_.configuration_keys, anchor_.instance, held_version, now};
}

Result<CachedCopy> Fetcher::LoadCached() const {
  auto document = ReadFile(DocumentFile());
  if (!document) {
    if (document.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no cached global configuration in {}", cache_dir_);
    }
    return Fail(std::move(document).error());
  }
  std::string signature;
  if (auto sig = ReadFile(SignatureFile()); sig) {
    signature = std::move(*sig);
  } else if (sig.error().code() != ErrorCode::kNotFound) {
    return Fail(std::move(sig).error());
  }  // missing: verified as unsigned, and refused so
  // Verified as of the beginning of time, so that an expired copy still loads; the
  // caller learns that it expired from `expired`.
  auto conf = VerifySignedDocument(*document, signature,
                                   Options(0, SystemTime(SystemTime::duration::min())));
  if (!conf) {
    return Fail(std::move(conf).error().Context("cached global configuration " + DocumentFile()));
  }
  const bool expired = (*conf)->IsExpired(clock_.Now());
  return CachedCopy{std::move(*conf), expired};
}

Status Fetcher::WriteCache(std::string_view document, std::string_view signature) const {
  // The signature first: a crash between the two renames leaves a pair that does not
  // verify, which LoadCached refuses (the gateway then fetches as if it had none).
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(SignatureFile(), signature, 0644));
  return WriteFileAtomically(DocumentFile(), document, 0644);
}

boost::asio::awaitable<FetchResult> Fetcher::Fetch(std::shared_ptr<const GlobalConf> held) {
  const std::string held_hash = held ? DocumentHash(held->source()) : std::string();
  const std::string document_url = anchor_.central_url + std::string(kDocumentPath);

  http::Request doc_request{bhttp::verb::get, base_path_ + std::string(kDocumentPath), 11};
  doc_request.set(bhttp::field::accept, "application/json");
  if (held) doc_request.set(bhttp::field::if_none_match, "\"" + held_hash + "\"");
  auto doc_response =
      co_await client_->Send(central_, std::move(doc_request), options_.request_timeout);
  if (!doc_response) co_return RequestFailed(doc_response.error(), document_url);
  const http::Response& doc_res = doc_response->response;
  if (doc_res.result_int() == 304 && held) {
    co_return FetchResult{FetchOutcome::kUnchanged, held, "", ""};
  }
  if (doc_res.result_int() != 200) co_return UnexpectedStatus(doc_res, document_url);
  const std::string& document = doc_res.body();
  // The hash is ours, never the ETag's: the signature asked for is the one of these bytes.
  const std::string hash = DocumentHash(document);
  if (held && hash == held_hash) co_return FetchResult{FetchOutcome::kUnchanged, held, "", ""};

  const std::string signature_target = base_path_ + std::string(kSignaturesPath) + hash;
  const std::string signature_url = anchor_.central_url + std::string(kSignaturesPath) + hash;
  http::Request sig_request{bhttp::verb::get, signature_target, 11};
  auto sig_response =
      co_await client_->Send(central_, std::move(sig_request), options_.request_timeout);
  if (!sig_response) co_return RequestFailed(sig_response.error(), signature_url);
  const http::Response& sig_res = sig_response->response;
  std::string signature;  // 404: the central has none, and the document is unsigned
  if (sig_res.result_int() == 200) {
    signature = sig_res.body();
  } else if (sig_res.result_int() != 404) {
    co_return UnexpectedStatus(sig_res, signature_url);
  }

  RejectReason why = RejectReason::kUnsigned;
  auto conf = VerifySignedDocument(document, signature,
                                   Options(held ? held->version() : 0, clock_.Now()), &why);
  if (!conf) {
    co_return Rejected(std::string(RejectReasonLabel(why)),
                       fmt::format("global configuration {} (sha256 {}): {}", document_url, hash,
                                   conf.error().message()));
  }
  if (auto st = WriteCache(document, signature); !st) {
    co_return Rejected("cache-write",
                       fmt::format("global configuration version {} verified but not adopted: "
                                   "writing the cache: {}",
                                   (*conf)->version(), st.error().message()));
  }
  co_return FetchResult{FetchOutcome::kUpdated, std::move(*conf), "", ""};
}

}  // namespace troad::globalconf
