// Renewing a gateway's certificates: see renew.h.
#include "gateway/renew.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "globalconf/fetcher.h"

namespace troad::gateway {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kRecordFormat = "troad-renewal/1";
constexpr size_t kMaxRecordBytes = 1024 * 1024;

std::string Pending(const std::string& file) { return file + ".pending"; }

Status MoveIntoPlace(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot rename {} to {}: {}", from, to, ec.message());
  return SyncDirectory(fs::path(to).parent_path().string());
}

}  // namespace

Result<Renewer> Renewer::Open(const GatewayConfig& config, globalconf::Anchor anchor,
                              CentralTransport transport, const Clock& clock) {
  Renewer renewer(config, std::move(anchor), std::move(transport), clock);
  std::vector<RenewalItem> pairs;
  pairs.push_back({"authentication",
                   config.id.ToString(),
                   config.auth_certificate_file,
                   config.auth_key_file,
                   "",
                   {},
                   0,
                   "",
                   "",
                   ""});
  for (const SigningKey& s : config.signing_keys) {
    pairs.push_back(
        {"signing", s.member.ToString(), s.certificate_file, s.key_file, "", {}, 0, "", "", ""});
  }
  for (RenewalItem& item : pairs) {
    TROAD_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::LoadPemFile(item.certificate_file));
    item.current_sha256 = cert.Sha256Fingerprint();
    item.current_not_after = cert.NotAfter();
  }

  auto record = ReadFile(renewer.RecordPath());
  if (!record) {
    if (record.error().code() != ErrorCode::kNotFound) return Fail(std::move(record).error());
    renewer.items_ = std::move(pairs);
    return renewer;
  }
  // An earlier run's requests: they are this renewal.
  const std::string path = renewer.RecordPath();
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, "{}: {} (remove it to start the renewal over)", path,
                why);
  };
  if (record->size() > kMaxRecordBytes) return bad("too large to be a renewal record");
  TROAD_ASSIGN_OR_RETURN(json doc, ParseJson(*record, path));
  if (!doc.is_object() || doc.value("format", "") != kRecordFormat ||
      doc.value("gateway", "") != config.id.ToString() ||
      !doc.value("requests", json()).is_array()) {
    return bad(fmt::format("not a {} record of {}", kRecordFormat, config.id.ToString()));
  }
  for (const json& r : doc["requests"]) {
    if (!r.is_object() || !r.value("id", json()).is_number_integer()) {
      return bad("requests: each needs an integer id");
    }
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](const RenewalItem& p) {
      return p.kind == r.value("kind", "") && p.owner == r.value("owner", "");
    });
    if (it == pairs.end()) {
      return bad(fmt::format("it records a {} certificate of {}, which gateway.toml no longer has",
                             EscapeForLog(r.value("kind", "")),
                             EscapeForLog(r.value("owner", ""))));
    }
    RenewalItem item = *it;
    item.request_id = r["id"].get<int64_t>();
    // The request was signed with the certificate held then; after an interrupted
    // install the file may already hold the new one.
    item.current_sha256 = r.value("current_sha256", item.current_sha256);
    item.new_sha256 = r.value("new_sha256", "");
    item.status = item.new_sha256.empty() ? "pending" : "approved";
    renewer.items_.push_back(std::move(item));
  }
  if (renewer.items_.empty()) return bad("requests: empty");
  return renewer;
}

std::string Renewer::RecordPath() const {
  return (fs::path(config_.data_dir) / kRenewalRecordFile).string();
}

bool Renewer::HasRequestsOnRecord() const {
  return std::any_of(items_.begin(), items_.end(),
                     [](const RenewalItem& i) { return i.request_id != 0; });
}

Status Renewer::SaveRecord() const {
  json requests = json::array();
  for (const RenewalItem& item : items_) {
    if (item.request_id == 0) continue;
    requests.push_back({{"id", item.request_id},
                        {"kind", item.kind},
                        {"owner", item.owner},
                        {"current_sha256", item.current_sha256},
                        {"new_sha256", item.new_sha256}});
  }
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  json doc = {{"format", kRecordFormat},
              {"gateway", config_.id.ToString()},
              {"requests", std::move(requests)}};
  return WriteFileAtomically(RecordPath(), doc.dump(2) + "\n", 0600);
}

Status Renewer::RemoveRecord() const {
  std::error_code ec;
  fs::remove(RecordPath(), ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot remove {}: {}", RecordPath(), ec.message());
  return SyncDirectory(config_.data_dir);
}

Result<std::string> Renewer::Sign(const RenewalItem& item, std::string_view data) const {
  // Signed with the key gateway.toml names: the one the current certificate carries.
  TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::LoadPemFile(item.key_file));
  TROAD_ASSIGN_OR_RETURN(std::string signature, key.Sign(data));
  return Base64Encode(signature);
}

Result<size_t> Renewer::Submit(std::chrono::hours within, bool force) {
  if (HasRequestsOnRecord()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "requests are already on record in {}; check on them instead", RecordPath());
  }
  const SystemTime now = clock_.Now();
  std::vector<RenewalItem> due;
  for (RenewalItem item : items_) {
    if (!force && item.current_not_after - now > within) continue;
    item.status = "due";
    due.push_back(std::move(item));
  }
  if (due.empty()) return size_t{0};  // the pairs stay as they are, for a later call
  items_ = std::move(due);
  for (RenewalItem& item : items_) {
    TROAD_ASSIGN_OR_RETURN(std::string csr_pem,
                           PendingKeyCsr(Pending(item.key_file), item.kind, config_.id, item.owner,
                                         anchor_.ca_certificate));
    TROAD_ASSIGN_OR_RETURN(crypto::Csr csr, crypto::Csr::FromPem(csr_pem));
    TROAD_ASSIGN_OR_RETURN(std::string signature,
                           Sign(item, std::string(kRenewalSignaturePrefix) + csr.ToDer()));
    TROAD_ASSIGN_OR_RETURN(
        json answer, transport_(kRenewalPath, {{"kind", item.kind},
                                               {"owner", item.owner},
                                               {"current_certificate_sha256", item.current_sha256},
                                               {"csr", csr_pem},
                                               {"signature", signature}}));
    const json& request = answer.is_object() ? answer.value("request", json()) : json();
    if (!request.is_object() || !request.value("id", json()).is_number_integer()) {
      return Fail(ErrorCode::kInvalidArgument, "the central's answer to {} has no request id",
                  kRenewalPath);
    }
    item.request_id = request["id"].get<int64_t>();
    item.status = request.value("status", "pending");
    TROAD_RETURN_IF_ERROR(SaveRecord());  // what was sent is on record before the next
  }
  return items_.size();
}

Result<RenewalProgress> Renewer::Check() {
  RenewalProgress progress;
  bool all_approved = true;
  for (RenewalItem& item : items_) {
    if (item.request_id == 0 || !item.new_sha256.empty()) continue;
    TROAD_ASSIGN_OR_RETURN(
        std::string signature,
        Sign(item, std::string(kRenewalStatusSignaturePrefix) + std::to_string(item.request_id)));
    TROAD_ASSIGN_OR_RETURN(
        json answer,
        transport_(kRenewalStatusPath, {{"id", item.request_id},
                                        {"current_certificate_sha256", item.current_sha256},
                                        {"signature", signature}}));
    const json& request = answer.is_object() ? answer.value("request", json()) : json();
    if (!request.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, "the central's answer to {} has no request",
                  kRenewalStatusPath);
    }
    item.status = request.value("status", "");
    item.reason = request.value("decision_reason", "");
    if (item.status == "rejected") {
      progress.rejected = true;
    } else if (item.status == "approved") {
      if (!answer.value("certificate", json()).is_string()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the central's answer to {}: approved request {} has no certificate",
                    kRenewalStatusPath, item.request_id);
      }
      TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::LoadPemFile(Pending(item.key_file)));
      auto cert = CheckIssuedCertificate(answer["certificate"].get<std::string>(), key,
                                         anchor_.ca_certificate, item.owner, clock_.Now());
      if (!cert) {
        return Fail(cert.error().code(), "request {} ({} certificate of {}): {}", item.request_id,
                    item.kind, item.owner, cert.error().message());
      }
      TROAD_RETURN_IF_ERROR(
          WriteFileAtomically(Pending(item.certificate_file), cert->ToPem(), 0644));
      item.new_sha256 = cert->Sha256Fingerprint();
      TROAD_RETURN_IF_ERROR(SaveRecord());
    }
  }
  for (const RenewalItem& item : items_) {
    if (item.new_sha256.empty()) all_approved = false;
  }
  progress.items = items_;
  if (progress.rejected) {
    items_.clear();
    TROAD_RETURN_IF_ERROR(RemoveRecord());
    return progress;
  }
  progress.approved = all_approved && !items_.empty();
  return progress;
}

Result<bool> Renewer::Published(int64_t* refresh_s) {
  // Read only to know when peers can have the new certificates; the gateway itself
  // trusts only the signed copy its fetcher verifies.
  TROAD_ASSIGN_OR_RETURN(json doc, transport_(globalconf::kDocumentPath, json()));
  std::set<std::string> listed;
  auto add = [&](const json& pem) {
    if (!pem.is_string()) return;
    if (auto c = crypto::Certificate::FromPem(pem.get<std::string>())) {
      listed.insert(c->Sha256Fingerprint());
    }
  };
  for (const json& g : doc.value("gateways", json::array())) {
    add(g.value("auth_certificate", json()));
    for (const json& c : g.value("additional_auth_certificates", json::array())) add(c);
  }
  for (const json& m : doc.value("members", json::array())) {
    for (const json& c : m.value("signing_certificates", json::array())) add(c);
  }
  if (refresh_s != nullptr) {
    *refresh_s = doc.value("settings", json::object()).value("refresh_interval_s", int64_t{60});
  }
  for (const RenewalItem& item : items_) {
    if (item.new_sha256.empty() || !listed.count(item.new_sha256)) return false;
  }
  return true;
}

Status Renewer::Install() {
  for (RenewalItem& item : items_) {
    if (fs::exists(Pending(item.key_file))) {
      TROAD_RETURN_IF_ERROR(MoveIntoPlace(Pending(item.key_file), item.key_file));
    }
    if (fs::exists(Pending(item.certificate_file))) {
      TROAD_RETURN_IF_ERROR(MoveIntoPlace(Pending(item.certificate_file), item.certificate_file));
    }
    item.status = "installed";
  }
  return RemoveRecord();
}

}  // namespace troad::gateway
