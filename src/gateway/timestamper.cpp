#include "gateway/timestamper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core/encoding.h"
#include "crypto/random.h"
#include "crypto/timestamp.h"
#include "gateway/fault.h"
#include "http/client.h"
#include "ledger/merkle.h"

namespace troad::gateway {

namespace bhttp = boost::beast::http;

Timestamper::Timestamper(MessageLog& log, TimestamperOptions options, TrustedCertificates trusted,
                         std::shared_ptr<http::SslContext> tls, const Clock& clock)
    : log_(log),
      options_(std::move(options)),
      trusted_(std::move(trusted)),
      tls_(std::move(tls)),
      clock_(clock) {}

Result<std::unique_ptr<Timestamper>> Timestamper::Create(MessageLog& log,
                                                         TimestamperOptions options,
                                                         TrustedCertificates trusted,
                                                         std::shared_ptr<http::SslContext> tls,
                                                         const Clock& clock) {
  if (options.authorities.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no timestamping authority is configured");
  }
  for (const std::string& url : options.authorities) {
    TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(url));
    if (parsed.endpoint.tls && !tls) {
      return Fail(ErrorCode::kInvalidArgument,
                  "timestamping authority {}: https needs the central's anchor (for its CA)", url);
    }
  }
  if (options.max_batch < 1) {
    return Fail(ErrorCode::kInvalidArgument, "max_batch must be at least 1");
  }
  std::unique_ptr<Timestamper> t(
      new Timestamper(log, std::move(options), std::move(trusted), std::move(tls), clock));
  TROAD_ASSIGN_OR_RETURN(t->reader_, MessageLogReader::Open(log.path()));
  TROAD_ASSIGN_OR_RETURN(auto last, t->reader_->LastBatch());
  if (last) t->last_seq_ = last->last_seq;
  return t;
}

Timestamper::~Timestamper() { Stop(); }

void Timestamper::Start() {
  thread_.Start(options_.interval, [this] {
    if (CatchUp()) {
      backoff_ = std::chrono::milliseconds{0};
      return options_.interval;
    }
    // Try again soon, then less often: 1 s, 2 s, 4 s … up to a minute.
    backoff_ = std::min(std::chrono::milliseconds{60'000},
                        backoff_.count() == 0 ? std::chrono::milliseconds{1'000} : backoff_ * 2);
    return backoff_;
  });
}

void Timestamper::Stop() { thread_.Stop(); }

void Timestamper::Kick() { thread_.Kick(); }

bool Timestamper::Failing() const {
  const int64_t since = failing_since_ms_.load(std::memory_order_relaxed);
  if (since == 0) return false;
  return clock_.NowMillis() - since >
         std::chrono::duration_cast<std::chrono::milliseconds>(options_.acceptable_failure).count();
}

Error Timestamper::FailingError() const {
  return Error(ErrorCode::kUnavailable,
               fmt::format("no timestamping authority has answered since {}; exchanges are "
                           "refused until one does (acceptable failure period {} s)",
                           FormatRfc3339(FromUnixMillis(failing_since_ms_.load())),
                           options_.acceptable_failure.count()))
      .WithFault(std::string(kFaultTimestampingFailed));
}

bool Timestamper::CatchUp() {
  for (;;) {
    if (thread_.Stopping()) return true;
    auto records = reader_->LeavesAfter(last_seq_, options_.max_batch);
    if (!records) {
      spdlog::error("timestamper: cannot read the message log: {}", records.error().message());
      return false;
    }
    if (records->empty()) return true;
    std::vector<ledger::Hash> leaves;
    leaves.reserve(records->size());
    std::string leaf_bytes;
    leaf_bytes.reserve(records->size() * sizeof(ledger::Hash));
    for (const SeqLeaf& r : *records) {
      leaves.push_back(r.leaf);
      leaf_bytes += crypto::DigestView(r.leaf);
    }
    ledger::MerkleTree tree(std::move(leaves));
    auto batch = Stamp(tree.root());
    if (!batch) {
      failures_.fetch_add(1);
      int64_t expected = 0;
      failing_since_ms_.compare_exchange_strong(expected, clock_.NowMillis());
      spdlog::warn("timestamper: {} records wait for a timestamp: {}", records->size(),
                   batch.error().message());
      return false;
    }
    batch->first_seq = records->front().seq;
    batch->last_seq = records->back().seq;
    batch->size = static_cast<int64_t>(records->size());
    batch->root_hex = HexEncode(tree.root());
    batch->leaves = std::move(leaf_bytes);
    batch->created_ms = clock_.NowMillis();
    if (auto st = log_.WriteBatch(*batch); !st) {
      spdlog::error("timestamper: cannot store the batch of records {}..{}: {}", batch->first_seq,
                    batch->last_seq, st.error().message());
      return false;
    }
    last_seq_ = batch->last_seq;
    batches_.fetch_add(1);
    records_.fetch_add(static_cast<uint64_t>(batch->size));
    last_success_ms_.store(batch->created_ms);
    if (failing_since_ms_.exchange(0) != 0) {
      spdlog::info("timestamper: {} answers again; catching up", batch->tsa_url);
    }
    if (static_cast<int64_t>(records->size()) < options_.max_batch) return true;
  }
}

Result<TimestampBatch> Timestamper::Stamp(const ledger::Hash& root) {
  crypto::TimestampRequest request;
  request.imprint = root;
  uint64_t nonce = 0;
  const std::string random = crypto::RandomBytes(sizeof nonce);
  std::memcpy(&nonce, random.data(), sizeof nonce);
  request.nonce = nonce >> 1;  // positive and below 2^63: every TSA takes it
  TROAD_ASSIGN_OR_RETURN(const std::string der, crypto::EncodeTimestampRequest(request));
  const std::vector<crypto::Certificate> trusted = trusted_();
  std::string reasons;
  for (const std::string& url : options_.authorities) {
    auto token = Ask(url, der);
    if (token) {
      auto info = crypto::VerifyTimestampToken(*token, root, trusted, request.nonce);
      if (info) {
        TimestampBatch b;
        b.token = std::move(*token);
        b.tsa_certificate_sha256 = info->tsa_certificate_sha256;
        b.tsa_url = url;
        b.gen_time_ms = ToUnixMillis(info->gen_time);
        return b;
      }
      token = Fail(std::move(info).error().Context("its token"));
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += fmt::format("{}: {}", url, token.error().message());
  }
  return Fail(ErrorCode::kUnavailable, "no timestamping authority gave a valid token ({})",
              reasons);
}

Result<std::string> Timestamper::Ask(const std::string& url, const std::string& request_der) {
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(url));
  http::ClientOptions options;
  options.tls = tls_;
  options.connect_timeout = options_.request_timeout;
  options.body_limit = 1024 * 1024;
  options.max_idle_per_endpoint = 1;
  http::BlockingClient client(std::move(options));
  http::Request req{bhttp::verb::post, parsed.path, 11};
  req.set(bhttp::field::host, parsed.endpoint.host);
  req.set(bhttp::field::user_agent, "troad");
  req.set(bhttp::field::content_type, crypto::kTimestampQueryContentType);
  req.set(bhttp::field::accept, crypto::kTimestampReplyContentType);
  req.body() = request_der;
  req.prepare_payload();
  TROAD_ASSIGN_OR_RETURN(auto res,
                         client.Send(parsed.endpoint, std::move(req), options_.request_timeout));
  const auto& response = res.response;
  if (response.result_int() != 200) {
    return Fail(ErrorCode::kUnavailable, "HTTP {}", response.result_int());
  }
  const auto ctype = response[bhttp::field::content_type];
  if (ctype.substr(0, crypto::kTimestampReplyContentType.size()) !=
      crypto::kTimestampReplyContentType) {
    return Fail(ErrorCode::kUnavailable, "answered Content-Type \"{}\", not {}",
                std::string_view(ctype.data(), std::min<size_t>(ctype.size(), 100)),
                crypto::kTimestampReplyContentType);
  }
  return crypto::ParseTimestampReply(response.body());
}

}  // namespace troad::gateway
