// Message signatures between gateways: batch signing and cached verification.
//
// ECDSA costs more CPU per message than two TLS proxy hops together (see
// shared/baseline-nginx.md), so a gateway signs batches: concurrent callers'
// header hashes become the leaves of one RFC 9162 Merkle tree, the root is signed
// once, and each message carries its inclusion path (envelope.h SignaturePart).
// There is no timer: whoever arrives while a signature is being made waits for the
// next one, so a lone request is signed at once and a busy gateway signs in batches
// (the same "natural batching" as group commit).
//
// The verifier caches roots it has verified, so the other messages of a batch cost
// a few hashes instead of an ECDSA verification.
//
// Thread-safety: both classes are thread-safe.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/ids.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "gateway/envelope.h"
#include "globalconf/model.h"
#include "ledger/merkle.h"

namespace troad::gateway {

class BatchSigner {
 public:
  BatchSigner(crypto::PrivateKey key, crypto::Certificate certificate, size_t max_batch = 512);

  // The signature part for the message header `header` (H). kInternal if the key fails.
  boost::asio::awaitable<Result<SignaturePart>> Sign(std::string_view header);

  crypto::Certificate certificate() const;
  // Signs with this pair from the next batch on (a renewed key taken up without a
  // restart); batches already being signed finish with the old one.
  void SetIdentity(crypto::PrivateKey key, crypto::Certificate certificate);
  uint64_t signatures_made() const;
  uint64_t messages_signed() const;

 private:
  using Handler = boost::asio::any_completion_handler<void(Result<SignaturePart>)>;
  struct Pending {
    ledger::Hash leaf;
    Handler handler;
    boost::asio::any_io_executor executor;  // where the handler resumes
  };
  void Submit(Pending pending);
  void Drain();

  struct Identity {
    crypto::PrivateKey key;
    crypto::Certificate certificate;
    std::string fingerprint;
  };
  std::shared_ptr<const Identity> identity_;  // guarded by mu_; replaced whole
  const size_t max_batch_;
  mutable std::mutex mu_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool busy_ = false;          // guarded by mu_
  uint64_t signatures_ = 0;    // guarded by mu_
  uint64_t messages_ = 0;      // guarded by mu_
};

class SignatureVerifier {
 public:
  explicit SignatureVerifier(size_t cache_entries = 8192) : capacity_(cache_entries) {}

  // Checks that `sig` over `header` was made by a current signing certificate of
  // `member` in `conf`: the certificate is listed for that member, not revoked, its
  // chain verifies at `now`, the inclusion path leads to the signed root, and the
  // signature verifies. Errors carry the fault "InvalidSignatureValue" (or
  // "CertificateRevoked"-style messages) and say which check failed.
  Status Verify(const globalconf::GlobalConf& conf, const ClientId& member, std::string_view header,
                const SignaturePart& sig, SystemTime now);

  uint64_t cache_hits() const;

 private:
  bool Cached(const std::string& key);
  void Remember(std::string key);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // guarded by mu_; front = newest
  std::unordered_map<std::string, std::list<std::string>::iterator> index_;  // guarded by mu_
  uint64_t hits_ = 0;                                                        // guarded by mu_
  // Signing certificates whose chain verified: "version|fingerprint" → until when
  // (Unix ms). Chain verification builds an X509_STORE; once a minute per
  // certificate is enough, since expiry of the certificate itself is checked on
  // every message.
  std::unordered_map<std::string, int64_t> chains_;  // guarded by mu_
};

}  // namespace troad::gateway
