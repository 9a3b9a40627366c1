#include "gateway/ledger_client.h"

#include <fmt/format.h>

#include <cstring>

#include "core/clock.h"
#include "core/encoding.h"
#include "ledger/entry.h"
#include "ledger/proof.h"

namespace troad::gateway {

namespace bhttp = boost::beast::http;

namespace {

// The hashes of a proof answer: {"…":…, "proof":["<b64>",…]}, with `checks` naming the
// members that must hold the numbers asked for.
Result<std::vector<ledger::Hash>> ProofOf(
    std::string_view body, std::string_view what,
    std::initializer_list<std::pair<const char*, uint64_t>> checks) {
  auto json = ParseJson(body, what);
  if (!json) return Fail(ErrorCode::kInvalidArgument, "{}", json.error().message());
  JsonErrors errors;
  JsonView root(&*json, "", &errors);
  for (const auto& [key, value] : checks) {
    const int64_t got = root.Int(key, true, 0, 0, INT64_MAX);
    if (errors.ok() && static_cast<uint64_t>(got) != value) {
      root.Error(key, fmt::format("is {}, not the {} asked for", got, value));
    }
  }
  std::vector<ledger::Hash> out = ReadProofHashes(root, "proof");
  TROAD_RETURN_IF_ERROR(errors.ToStatus(what));
  return out;
}

}  // namespace

std::vector<ledger::Hash> ReadProofHashes(JsonView& parent, const std::string& key) {
  std::vector<ledger::Hash> out;
  for (JsonView& el : parent.Array(key, true)) {
    if (out.size() == kMaxProofHashes) {
      el.Error(fmt::format("a proof has at most {} hashes", kMaxProofHashes));
      break;
    }
    auto bytes = Base64Decode(el.AsString());
    ledger::Hash h{};
    if (!bytes || bytes->size() != h.size()) {
      el.Error("is not the base64 of a 32-byte hash");
      break;
    }
    std::memcpy(h.data(), bytes->data(), h.size());
    out.push_back(h);
  }
  return out;
}

Result<std::string> ConsistencyProblem(LedgerClient* client, const ledger::Checkpoint& old_head,
                                       const ledger::Checkpoint& new_head, size_t* proof_hashes) {
  if (new_head.origin != old_head.origin) {
    return fmt::format("the heads are of two logs: origin \"{}\" and \"{}\"", old_head.origin,
                       new_head.origin);
  }
  if (new_head.size < old_head.size) {
    return fmt::format("the newer head is of size {}, smaller than {}: a log only grows",
                       new_head.size, old_head.size);
  }
  std::vector<ledger::Hash> proof;
  if (old_head.size > 0 && old_head.size < new_head.size) {
    if (client == nullptr) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "a consistency proof from size {} to {} is needed, and no ledger to ask for it",
                  old_head.size, new_head.size);
    }
    auto asked = client->ConsistencyProof(old_head.size, new_head.size);
    if (!asked) {
      if (asked.error().code() == ErrorCode::kUnavailable) return Fail(std::move(asked).error());
      return fmt::format("the ledger gave no consistency proof from size {} to {}: {}",
                         old_head.size, new_head.size, asked.error().message());
    }
    proof = std::move(*asked);
  }
  if (proof_hashes != nullptr) *proof_hashes = proof.size();
  if (Status st = ledger::VerifyConsistency(old_head.size, new_head.size, proof, old_head.root,
                                            new_head.root);
      !st) {
    return st.error().message();
  }
  return std::string();
}

LedgerClient::LedgerClient(std::string url, http::ParsedUrl parsed, http::ClientOptions options,
                           std::chrono::milliseconds timeout)
    : url_(std::move(url)),
      parsed_(std::move(parsed)),
      timeout_(timeout),
      client_(std::move(options)) {}

Result<std::unique_ptr<LedgerClient>> LedgerClient::Create(const std::string& url,
                                                           std::shared_ptr<http::SslContext> tls,
                                                           std::chrono::milliseconds timeout) {
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(url));
  if (parsed.endpoint.tls && !tls) {
    return Fail(ErrorCode::kInvalidArgument,
                "the ledger at {} is reached over TLS: a CA to check its certificate is needed",
                EscapeForLog(url));
  }
  http::ClientOptions options;
  if (parsed.endpoint.tls) options.tls = std::move(tls);
  options.connect_timeout = timeout;
  options.body_limit = 1024 * 1024;
  options.max_idle_per_endpoint = 1;
  return std::unique_ptr<LedgerClient>(
      new LedgerClient(url, std::move(parsed), std::move(options), timeout));
}

std::string LedgerClient::Target(std::string_view path_and_query) const {
  std::string target = parsed_.path == "/" ? std::string() : parsed_.path;
  target += path_and_query;
  return target;
}

Result<std::string> LedgerClient::Get(const std::string& path_and_query) {
  http::Request request{bhttp::verb::get, Target(path_and_query), 11};
  request.set(bhttp::field::host, parsed_.endpoint.host);
  request.set(bhttp::field::user_agent, "troad");
  request.set(bhttp::field::accept, "application/json, text/plain");
  ++requests_;
  auto res = client_.Send(parsed_.endpoint, std::move(request), timeout_);
  if (!res) {
    return Fail(ErrorCode::kUnavailable, "GET {}{}: {}", url_, path_and_query,
                res.error().message());
  }
  const unsigned status = res->response.result_int();
  if (status == 200) return std::move(res->response.body());
  return Fail(status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
              "GET {}{}: HTTP {}: {}", url_, path_and_query, status,
              EscapeForLog(res->response.body(), 300));
}

Result<LedgerClient::Answer> LedgerClient::AddEntries(std::string body,
                                                      std::string_view certificate_sha256,
                                                      std::string_view signature_base64) {
  http::Request request{bhttp::verb::post, Target("/add-entries"), 11};
  request.set(bhttp::field::host, parsed_.endpoint.host);
  request.set(bhttp::field::user_agent, "troad");
  request.set(bhttp::field::accept, "application/json");
  request.set(bhttp::field::content_type, "application/json");
  request.set(ledger::kLedgerCertificateHeader, certificate_sha256);
  request.set(ledger::kLedgerSignatureHeader, signature_base64);
  request.body() = std::move(body);
  request.prepare_payload();
  ++requests_;
  auto res = client_.Send(parsed_.endpoint, std::move(request), timeout_);
  if (!res) {
    return Fail(ErrorCode::kUnavailable, "POST {}/add-entries: {}", url_, res.error().message());
  }
  return Answer{res->response.result_int(), std::move(res->response.body())};
}

Result<std::string> LedgerClient::Checkpoint() { return Get("/checkpoint"); }

Result<std::vector<ledger::Hash>> LedgerClient::InclusionProof(uint64_t index, uint64_t size) {
  const std::string query = fmt::format("/proof?index={}&size={}", index, size);
  TROAD_ASSIGN_OR_RETURN(std::string body, Get(query));
  return ProofOf(body, "the ledger's inclusion proof", {{"index", index}, {"size", size}});
}

Result<std::vector<ledger::Hash>> LedgerClient::ConsistencyProof(uint64_t first, uint64_t second) {
  const std::string query = fmt::format("/consistency?first={}&second={}", first, second);
  TROAD_ASSIGN_OR_RETURN(std::string body, Get(query));
  return ProofOf(body, "the ledger's consistency proof", {{"first", first}, {"second", second}});
}

std::string DescribeCheckpoint(const ledger::Checkpoint& c) {
  return fmt::format("size {}, root {}, timestamp {}", c.size,
                     Base64Encode(std::span<const uint8_t>(c.root)),
                     FormatRfc3339(FromUnixMillis(c.timestamp_ms)));
}

Result<ledger::Checkpoint> VerifyLedgerCheckpoint(std::string_view note,
                                                  const crypto::PublicKey& key,
                                                  std::string_view origin) {
  TROAD_ASSIGN_OR_RETURN(ledger::SignedCheckpoint parsed, ledger::ParseSignedCheckpoint(note));
  if (Status st = ledger::VerifyCheckpointSignature(parsed, key); !st) {
    return Fail(ErrorCode::kUnauthenticated, "it does not verify with the ledger key: {}",
                st.error().message());
  }
  if (!origin.empty() && parsed.checkpoint.origin != origin) {
    return Fail(ErrorCode::kUnauthenticated, "it is of origin \"{}\", not \"{}\"",
                parsed.checkpoint.origin, origin);
  }
  return parsed.checkpoint;
}

}  // namespace troad::gateway
