// A client of the central ledger's HTTP API (docs/protocol.md §12.3–12.4), and the
// checks every reader of its answers makes: a signed head against the published key
// and origin, the hashes of a proof, and whether one head extends another. Used by the
// gateway's shipper and by `troad verify-ledger`.
//
// Thread-safety: a LedgerClient is used from one thread at a time; the functions are
// pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "crypto/key.h"
#include "http/client.h"
#include "http/tls.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

namespace troad::gateway {

// The most hashes a proof of a tree of at most 2^63 leaves has.
inline constexpr size_t kMaxProofHashes = 128;

// A small blocking client of a ledger (§12.3, §12.4), for the shipper and command-line
// tools. Kept connections are reused between calls. Errors of the reads: kUnavailable when
// the ledger could not be asked (connect, TLS, timeout, an HTTP 5xx);
// kInvalidArgument when it answered, but with a refusal (4xx) or with something that
// is not the answer §12.3 describes (the message says which).
class LedgerClient {
 public:
  // `url` is the ledger's base, "https://central:4400/ledger/v1" (LedgerInfo::url).
  // `tls` is required for an https:// URL (http::MakeClientTlsContextForHost).
  // kInvalidArgument for a URL that is not http(s) or an https one without `tls`.
  static Result<std::unique_ptr<LedgerClient>> Create(
      const std::string& url, std::shared_ptr<http::SslContext> tls,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& url() const { return url_; }
  // GET …/checkpoint: the signed note as served, not yet verified.
  Result<std::string> Checkpoint();
  // GET …/proof?index=&size=: the inclusion proof's hashes, not yet verified.
  Result<std::vector<ledger::Hash>> InclusionProof(uint64_t index, uint64_t size);
  // GET …/consistency?first=&second=: the consistency proof's hashes, not yet verified.
  Result<std::vector<ledger::Hash>> ConsistencyProof(uint64_t first, uint64_t second);
  // An answer to a POST, whatever its status.
  struct Answer {
    unsigned status = 0;
    std::string body;
  };
  // POST …/add-entries (§12.4) with `body`, signed: the certificate's SHA-256 and the
  // base64 signature go into their headers. kUnavailable when no answer came; any
  // HTTP status is the caller's to judge.
  Result<Answer> AddEntries(std::string body, std::string_view certificate_sha256,
                            std::string_view signature_base64);
  // Requests sent so far.
  uint64_t requests() const { return requests_; }

 private:
  LedgerClient(std::string url, http::ParsedUrl parsed, http::ClientOptions options,
               std::chrono::milliseconds timeout);
  // The request target of base + path_and_query.
  std::string Target(std::string_view path_and_query) const;
  // GET base + path_and_query; the body of a 200 answer.
  Result<std::string> Get(const std::string& path_and_query);

  const std::string url_;
  const http::ParsedUrl parsed_;
  const std::chrono::milliseconds timeout_;
  http::BlockingClient client_;
  uint64_t requests_ = 0;
};

// "size 300, root <base64>, timestamp <RFC 3339>": a head in words, for reports.
std::string DescribeCheckpoint(const ledger::Checkpoint& checkpoint);

// Parses `note` and checks its signature with `key` and its origin (when `origin` is
// not empty). kInvalidArgument: not a signed checkpoint; kUnauthenticated: another
// key's, or another origin's (the message says which).
Result<ledger::Checkpoint> VerifyLedgerCheckpoint(std::string_view note,
                                                  const crypto::PublicKey& key,
                                                  std::string_view origin);

// The hashes of `parent[key]`: an array of base64 32-byte hashes, at most
// kMaxProofHashes. What is wrong is recorded in `parent`'s errors (what was read
// before it is returned).
std::vector<ledger::Hash> ReadProofHashes(JsonView& parent, const std::string& key);

// Why `new_head` does not extend `old_head` ("" when it does): another origin, a
// smaller size, or a consistency proof — asked of `client` when one is needed — that
// does not verify. Errors: kUnavailable when the ledger could not be asked;
// kFailedPrecondition when a proof is needed and `client` is null. `proof_hashes`
// (may be null) is set to the length of the proof checked.
Result<std::string> ConsistencyProblem(LedgerClient* client, const ledger::Checkpoint& old_head,
                                       const ledger::Checkpoint& new_head, size_t* proof_hashes);

}  // namespace troad::gateway
