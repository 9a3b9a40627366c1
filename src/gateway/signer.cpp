#include "gateway/signer.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/encoding.h"
#include "gateway/fault.h"

namespace troad::gateway {

namespace asio = boost::asio;

BatchSigner::BatchSigner(crypto::PrivateKey key, crypto::Certificate certificate, size_t max_batch)
    : identity_(std::make_shared<const Identity>(
          Identity{std::move(key), certificate, certificate.Sha256Fingerprint()})),
      max_batch_(max_batch) {}

crypto::Certificate BatchSigner::certificate() const {
  std::lock_guard lock(mu_);
  return identity_->certificate;
}

void BatchSigner::SetIdentity(crypto::PrivateKey key, crypto::Certificate certificate) {
  auto identity = std::make_shared<const Identity>(
      Identity{std::move(key), certificate, certificate.Sha256Fingerprint()});
  std::lock_guard lock(mu_);
  identity_ = std::move(identity);
}

asio::awaitable<Result<SignaturePart>> BatchSigner::Sign(std::string_view header) {
  // Not a coroutine itself (see message_log.cpp on GCC 12 and lambda captures).
  ledger::Hash leaf = ledger::LeafHash(header);
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result<SignaturePart>)>(
      [this, leaf](auto handler) {
        asio::any_io_executor executor = asio::get_associated_executor(handler);
        Submit(Pending{leaf, Handler(std::move(handler)), std::move(executor)});
      },
      asio::use_awaitable);
}

void BatchSigner::Submit(Pending pending) {
  asio::any_io_executor executor = pending.executor;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(pending));
    if (busy_) return;  // the queued or running Drain will take it in its next batch
    busy_ = true;
  }
  // Sign on a later turn of the caller's loop, not inside this call: the callers
  // already queued on the loop then join this batch. Signing inline never batched on
  // a one-thread loop, and on two threads only when the other thread happened to be
  // free at that moment (under CPU load, almost never).
  asio::post(executor, [this] { Drain(); });
}

void BatchSigner::Drain() {
  for (;;) {
    std::vector<Pending> batch;
    std::shared_ptr<const Identity> identity;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        busy_ = false;
        return;
      }
      size_t n = std::min(queue_.size(), max_batch_);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++signatures_;
      messages_ += n;
      identity = identity_;
    }
    std::vector<ledger::Hash> leaves;
    leaves.reserve(batch.size());
    for (const Pending& p : batch) leaves.push_back(p.leaf);
    ledger::MerkleTree tree(std::move(leaves));
    auto signature = identity->key.Sign(BatchSignatureInput(tree.size(), tree.root()));
    for (size_t i = 0; i < batch.size(); ++i) {
      Result<SignaturePart> result =
          signature ? Result<SignaturePart>(SignaturePart{std::string(identity->key.Algorithm()),
                                                          identity->fingerprint, tree.size(), i,
                                                          tree.Proof(i), *signature})
                    : Result<SignaturePart>(tl::unexpected(signature.error()));
      Handler handler = std::move(batch[i].handler);
      asio::post(batch[i].executor,
                 [handler = std::move(handler), result = std::move(result)]() mutable {
                   std::move(handler)(std::move(result));
                 });
    }
  }
}

uint64_t BatchSigner::signatures_made() const {
  std::lock_guard lock(mu_);
  return signatures_;
}

uint64_t BatchSigner::messages_signed() const {
  std::lock_guard lock(mu_);
  return messages_;
}

bool SignatureVerifier::Cached(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  return true;
}

void SignatureVerifier::Remember(std::string key) {
  std::lock_guard lock(mu_);
  if (index_.count(key)) return;
  lru_.push_front(std::move(key));
  index_[lru_.front()] = lru_.begin();
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back());
    lru_.pop_back();
  }
}

uint64_t SignatureVerifier::cache_hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

Status SignatureVerifier::Verify(const globalconf::GlobalConf& conf, const ClientId& member,
                                 std::string_view header, const SignaturePart& sig,
                                 SystemTime now) {
  auto invalid = [](std::string message) {
    return Fail(Error(ErrorCode::kUnauthenticated, std::move(message))
                    .WithFault(std::string(kFaultInvalidSignatureValue)));
  };
  const globalconf::CertificateOwner* owner = conf.OwnerOf(sig.certificate_sha256);
  if (owner == nullptr || owner->kind != globalconf::CertificateOwner::Kind::kMemberSigning ||
      owner->owner != member.ToString()) {
    return invalid("signing certificate " + sig.certificate_sha256 +
                   " is not a signing certificate of " + member.ToString());
  }
  if (conf.IsRevoked(sig.certificate_sha256)) {
    return invalid("signing certificate " + sig.certificate_sha256 + " of " + member.ToString() +
                   " is revoked");
  }
  auto root = ledger::RootFromInclusionProof(sig.leaf_index, sig.batch_size,
                                             ledger::LeafHash(header), sig.path);
  if (!root) return invalid("batch signature path: " + root.error().message());

  // One cache key per (global configuration version, certificate, signed root,
  // signature): a hit means this exact signature over this root was verified, with
  // the same certificate, under the same configuration, less than a cache
  // lifetime ago. Expiry of the certificate is re-checked below on every call.
  std::string key = std::to_string(conf.version()) + '|' + sig.certificate_sha256 + '|' +
                    std::to_string(sig.batch_size) + '|' + std::string(crypto::DigestView(*root)) +
                    '|' + sig.signature;
  const crypto::Certificate* cert = &owner->certificate;
  if (now < cert->NotBefore() || now >= cert->NotAfter()) {
    return invalid("signing certificate of " + member.ToString() + " is not valid now (" +
                   FormatRfc3339(cert->NotBefore()) + " .. " + FormatRfc3339(cert->NotAfter()) +
                   ")");
  }
  if (Cached(key)) return Ok();
  std::string chain_key = std::to_string(conf.version()) + '|' + sig.certificate_sha256;
  const int64_t now_ms = ToUnixMillis(now);
  bool chain_known = false;
  {
    std::lock_guard lock(mu_);
    auto it = chains_.find(chain_key);
    chain_known = it != chains_.end() && it->second > now_ms;
  }
  if (!chain_known) {
    if (auto chain = conf.trust().Verify(*cert, {}, now); !chain) {
      return invalid("signing certificate of " + member.ToString() + ": " +
                     chain.error().message());
    }
    std::lock_guard lock(mu_);
    if (chains_.size() > capacity_) chains_.clear();
    chains_[chain_key] = now_ms + 60'000;
  }
  auto verified = cert->GetPublicKey().Verify(BatchSignatureInput(sig.batch_size, *root),
                                              sig.signature, sig.algorithm);
  if (!verified)
    return invalid("signature of " + member.ToString() +
                   " does not verify: " + verified.error().message());
  Remember(std::move(key));
  return Ok();
}

}  // namespace troad::gateway
