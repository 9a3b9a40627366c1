// The global configuration publisher: makes the signed document from the registry
// (docs/protocol.md §8–9) whenever the registry changed, and again when the current
// copy has used half of its validity, so gateways always find a fresh one. Each
// publication gets the next version and is stored (document and signature) before it
// is served: a restarted central serves what it served before, never an older version.
//
// Thread-safety: PublishIfNeeded and Load from the thread that owns the database;
// Current and SignatureFor from any thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "central/registry.h"
#include "core/clock.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "store/database.h"

namespace troad::central {

struct PublisherOptions {
  std::chrono::seconds validity{600};          // expires_at - issued_at
  std::chrono::seconds refresh_interval{60};   // settings.refresh_interval_s for gateways
  int64_t max_clock_skew_ms = 60'000;          // settings.max_clock_skew_ms
  // trusted_timestamping_certificates: RFC 3161 authorities gateways accept.
  std::vector<crypto::Certificate> timestamping_certificates = {};
  // ledger: the central's transparency ledger ([ledger]), when it runs one.
  std::optional<globalconf::LedgerInfo> ledger = std::nullopt;
};

struct Published {
  int64_t version = 0;
  std::string sha256;     // lower-case hex of the document's bytes (also its ETag)
  std::string document;   // the exact bytes served and signed
  std::string signature;  // the signature file (troad-globalconf-signature/1)
  SystemTime issued_at{};
  SystemTime expires_at{};
};

class Publisher {
 public:
  // `trusted_cas` go into the document (the network's CA certificates).
  Publisher(Registry& registry, store::Database& db, const Clock& clock,
            crypto::PrivateKey config_key, std::vector<crypto::Certificate> trusted_cas,
            PublisherOptions options);

  // Loads what was published last (if anything) so it is served at once.
  Status Load();
  // Publishes when the registry moved past the current copy, when the current copy
  // is past half its validity, or when `force`. Returns whether it published.
  Result<bool> PublishIfNeeded(bool force = false);

  std::shared_ptr<const Published> Current() const;
  // The signature file of a recently published document (the last kKeep), by the
  // document's SHA-256; nullopt when unknown.
  std::optional<std::string> SignatureFor(std::string_view sha256) const;

  static constexpr size_t kKeep = 32;

 private:
  void Remember(std::shared_ptr<const Published> p);

  Registry& registry_;
  store::Database& db_;
  const Clock& clock_;
  crypto::PrivateKey config_key_;
  std::vector<crypto::Certificate> trusted_cas_;
  PublisherOptions options_;
  int64_t published_revision_ = -1;

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<const Published>> recent_;  // newest last; guarded by mu_
};

}  // namespace troad::central
