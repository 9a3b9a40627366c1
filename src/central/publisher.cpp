#include "central/publisher.h"

#include "core/encoding.h"
#include "crypto/hash.h"
#include "globalconf/document.h"
#include "globalconf/signed.h"

namespace troad::central {

Publisher::Publisher(Registry& registry, store::Database& db, const Clock& clock,
                     crypto::PrivateKey config_key, std::vector<crypto::Certificate> trusted_cas,
                     PublisherOptions options)
    : registry_(registry),
      db_(db),
      clock_(clock),
      config_key_(std::move(config_key)),
      trusted_cas_(std::move(trusted_cas)),
      options_(options) {}

Status Publisher::Load() {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT version, sha256, document, signature, issued_at, expires_at, "
                "registry_revision FROM published_configurations ORDER BY version DESC LIMIT ?",
                {static_cast<int64_t>(kKeep)}));
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    auto p = std::make_shared<Published>();
    TROAD_ASSIGN_OR_RETURN(p->version, it->Int(0));
    TROAD_ASSIGN_OR_RETURN(p->sha256, it->Text(1));
    TROAD_ASSIGN_OR_RETURN(p->document, it->Text(2));
    TROAD_ASSIGN_OR_RETURN(p->signature, it->Text(3));
    TROAD_ASSIGN_OR_RETURN(int64_t issued, it->Int(4));
    TROAD_ASSIGN_OR_RETURN(int64_t expires, it->Int(5));
    TROAD_ASSIGN_OR_RETURN(published_revision_, it->Int(6));
    p->issued_at = FromUnixMillis(issued);
    p->expires_at = FromUnixMillis(expires);
    if (HexEncode(crypto::Sha256(p->document)) != p->sha256) {
      return Fail(ErrorCode::kDataLoss,
                  "published configuration version {}: stored document does not match its "
                  "SHA-256",
                  p->version);
    }
    Remember(std::move(p));
  }
  return Ok();
}

Result<bool> Publisher::PublishIfNeeded(bool force) {
  TROAD_ASSIGN_OR_RETURN(int64_t revision, registry_.Revision());
  SystemTime now = clock_.Now();
  std::shared_ptr<const Published> current = Current();
  bool stale = current == nullptr ||
               now >= current->issued_at + (current->expires_at - current->issued_at) / 2;
  if (!force && !stale && revision == published_revision_) return false;

  TROAD_ASSIGN_OR_RETURN(globalconf::Document doc, registry_.Snapshot());
  TROAD_ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(db_));
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT COALESCE(MAX(version), 0) FROM published_configurations"));
  TROAD_ASSIGN_OR_RETURN(int64_t last, rows.at(0).Int(0));
  doc.version = last + 1;
  doc.issued_at = now;
  doc.expires_at = now + options_.validity;
  doc.settings = globalconf::Settings{options_.max_clock_skew_ms,
                                      static_cast<int64_t>(options_.refresh_interval.count())};
  doc.trusted_cas = trusted_cas_;
  doc.timestamping_certificates = options_.timestamping_certificates;
  doc.ledger = options_.ledger;
  auto text = globalconf::WriteDocument(doc);
  if (!text) {
    return Fail(
        std::move(text).error().Context("the registry does not make a valid global configuration"));
  }
  TROAD_ASSIGN_OR_RETURN(std::string signature, globalconf::SignDocument(*text, config_key_));
  auto p = std::make_shared<Published>();
  p->version = doc.version;
  p->sha256 = HexEncode(crypto::Sha256(*text));
  p->document = std::move(*text);
  p->signature = std::move(signature);
  p->issued_at = doc.issued_at;
  p->expires_at = doc.expires_at;
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO published_configurations (version, sha256, document, signature, issued_at, "
      "expires_at, registry_revision) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {p->version, p->sha256, p->document, p->signature, ToUnixMillis(p->issued_at),
       ToUnixMillis(p->expires_at), revision}));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  published_revision_ = revision;
  Remember(std::move(p));
  return true;
}

void Publisher::Remember(std::shared_ptr<const Published> p) {
  std::lock_guard lock(mu_);
  recent_.push_back(std::move(p));
  while (recent_.size() > kKeep) recent_.pop_front();
}

std::shared_ptr<const Published> Publisher::Current() const {
  std::lock_guard lock(mu_);
  return recent_.empty() ? nullptr : recent_.back();
}

std::optional<std::string> Publisher::SignatureFor(std::string_view sha256) const {
  std::lock_guard lock(mu_);
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
    if ((*it)->sha256 == sha256) return (*it)->signature;
  }
  return std::nullopt;
}

}  // namespace troad::central
