// Fetching the signed global configuration from the central (docs/protocol.md §10) and
// keeping the last good copy on disk.
//
// Fetch makes one attempt: GET {central_url}/globalconf/v1/document (If-None-Match: the
// held copy's hash; 304 = unchanged), hashes the body itself, GET
// {central_url}/globalconf/v1/signatures/<that hash>, and runs VerifySignedDocument
// (signed.h) with the anchor's keys and the held version. An accepted copy is written
// to the cache directory — globalconf.json and globalconf.json.sig, each atomically and
// durably — before Fetch returns it: a gateway only serves a copy it would find again
// after a restart. Anything else is a rejection with a short reason label; the caller
// keeps what it held.
//
// The central is reached over https only; its certificate must chain to the anchor's
// CA and name the URL's host (DNS name or IP address).
//
// Thread-safety: LoadCached may be called from any thread. Fetch is called by one
// coroutine at a time (the gateway's refresh loop); it writes the cache files.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "globalconf/anchor.h"
#include "globalconf/model.h"
#include "globalconf/signed.h"
#include "http/client.h"

namespace troad::globalconf {

// Names inside the cache directory and the central's paths (below central_url).
inline constexpr std::string_view kCachedDocumentFile = "globalconf.json";
inline constexpr std::string_view kCachedSignatureFile = "globalconf.json.sig";
inline constexpr std::string_view kDocumentPath = "/globalconf/v1/document";
inline constexpr std::string_view kSignaturesPath = "/globalconf/v1/signatures/";

struct FetcherOptions {
  std::chrono::milliseconds request_timeout{15'000};  // each of the two requests, whole
  std::chrono::milliseconds connect_timeout{5'000};
  size_t max_document_bytes = 32 * 1024 * 1024;
};

enum class FetchOutcome { kUpdated, kUnchanged, kRejected };
std::string_view FetchOutcomeName(FetchOutcome outcome);  // "updated", "unchanged", "rejected"

struct FetchResult {
  FetchOutcome outcome = FetchOutcome::kRejected;
  // kUpdated: the new copy (already on disk). kUnchanged: the copy held. kRejected: null.
  std::shared_ptr<const GlobalConf> conf;
  // kRejected: a short label for metrics — one of RejectReasonLabel's (signed.h), or
  // "unreachable" (no connection, TLS failure, timeout), "http-status" (an answer other
  // than 200/304, or not HTTP), "too-large" (over max_document_bytes), "cache-write"
  // (verified, but the cache files could not be written; not adopted).
  std::string reason;
  std::string message;  // kRejected: what happened, for the log line
};

struct CachedCopy {
  std::shared_ptr<const GlobalConf> conf;
  bool expired = false;  // by the fetcher's clock: exchanges must be refused with it
};

class Fetcher {
 public:
  // Makes the TLS context (the anchor's CA, host check for central_url) and the cache
  // directory. kInvalidArgument for an anchor the HTTP client cannot use, kIo when
  // the directory cannot be created.
  static Result<std::unique_ptr<Fetcher>> Create(Anchor anchor, std::string cache_dir,
                                                 const Clock& clock, FetcherOptions options = {});
  ~Fetcher();

  // The last good copy from the cache directory, verified again against the anchor's
  // keys and instance. An expired copy is still returned (expired = true): the caller
  // refuses exchanges with it but has something to show and to compare versions with.
  // kNotFound when there is no cached copy; any other error (a copy that no longer
  // verifies, an unreadable file) names the file and the reason.
  Result<CachedCopy> LoadCached() const;

  // One attempt to get a newer copy than `held` (null: none held). Never throws.
  boost::asio::awaitable<FetchResult> Fetch(std::shared_ptr<const GlobalConf> held);

  const Anchor& anchor() const { return anchor_; }
  std::string DocumentFile() const;   // <cache_dir>/globalconf.json
  std::string SignatureFile() const;  // <cache_dir>/globalconf.json.sig

 private:
  Fetcher(Anchor anchor, std::string cache_dir, const Clock& clock, FetcherOptions options,
          http::ParsedUrl central, std::unique_ptr<http::Client> client);
  VerifyOptions Options(int64_t held_version, SystemTime now) const;
  Status WriteCache(std::string_view document, std::string_view signature) const;

  const Anchor anchor_;
  const std::string cache_dir_;
  const Clock& clock_;
  const FetcherOptions options_;
  const http::Endpoint central_;  // from anchor_.central_url
  const std::string base_path_;   // its path, "" or "/base" (no trailing '/')
  std::unique_ptr<http::Client> client_;
};

// The lower-case hex SHA-256 of a document's bytes: its ETag value (without the
// quotes) and the name of its signature at the central.
std::string DocumentHash(std::string_view document);

}  // namespace troad::globalconf
