// Enrolling a gateway with the central: see enroll.h.
#include "gateway/enroll.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "gateway/config.h"
#include "globalconf/central_client.h"

namespace troad::gateway {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kRecordFormat = "troad-enrollment/1";
constexpr std::string_view kAuthentication = "authentication";
constexpr std::string_view kSigning = "signing";
constexpr size_t kMaxRecordBytes = 1024 * 1024;

std::string KeyFile(const std::string& stem) { return stem + ".key"; }
std::string PendingKeyFile(const std::string& stem) { return stem + ".key.pending"; }
std::string CertificateFile(const std::string& stem) { return stem + ".crt"; }

// The record of pending requests, as enrollment.json holds it.
json RecordJson(const GatewayId& gateway, const std::string& central_url,
                const std::string& code_sha256, const std::vector<EnrollmentItem>& items) {
  json requests = json::array();
  for (const EnrollmentItem& item : items) {
    requests.push_back(
        {{"id", item.request_id}, {"kind", item.kind}, {"owner", item.owner}, {"stem", item.stem}});
  }
  return {{"format", kRecordFormat},
          {"gateway", gateway.ToString()},
          {"central_url", central_url},
          {"code_sha256", code_sha256},
          {"requests", requests}};
}

// A file stem we made ourselves: letters, digits, '-', '_' only (no path).
bool IsPlainStem(const std::string& stem) {
  return !stem.empty() && stem.size() <= 200 && std::all_of(stem.begin(), stem.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

struct Record {
  std::vector<EnrollmentItem> items;
  std::string code_sha256;  // of the code the requests were sent with
};

Result<Record> ParseRecord(std::string_view text, const std::string& path, const GatewayId& gateway,
                           const std::string& central_url) {
  TROAD_ASSIGN_OR_RETURN(json doc, ParseJson(text, path));
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: {} (remove the file to start the enrollment over)", path, why);
  };
  if (!doc.is_object() || doc.value("format", "") != kRecordFormat) {
    return bad(fmt::format("not a {} record", kRecordFormat));
  }
  if (doc.value("gateway", "") != gateway.ToString()) {
    return bad(fmt::format("it records an enrollment of {}, not {}",
                           EscapeForLog(doc.value("gateway", "")), gateway.ToString()));
  }
  if (doc.value("central_url", "") != central_url) {
    return bad(fmt::format("it records an enrollment with {}, not {}",
                           EscapeForLog(doc.value("central_url", "")), central_url));
  }
  if (!doc.contains("requests") || !doc["requests"].is_array() || doc["requests"].empty()) {
    return bad("requests: missing or empty");
  }
  Record record;
  record.code_sha256 = doc.value("code_sha256", "");
  std::vector<EnrollmentItem>& items = record.items;
  for (const json& r : doc["requests"]) {
    if (!r.is_object() || !r.value("id", json()).is_number_integer() ||
        !r.value("kind", json()).is_string() || !r.value("owner", json()).is_string() ||
        !r.value("stem", json()).is_string()) {
      return bad("requests: each needs an integer id and kind, owner and stem strings");
    }
    EnrollmentItem item;
    item.request_id = r["id"].get<int64_t>();
    item.kind = r["kind"].get<std::string>();
    item.owner = r["owner"].get<std::string>();
    item.stem = r["stem"].get<std::string>();
    item.status = "pending";
    if ((item.kind != kAuthentication && item.kind != kSigning) || !IsPlainStem(item.stem) ||
        item.request_id <= 0) {
      return bad(fmt::format("request {}: bad kind or file stem", item.request_id));
    }
    items.push_back(std::move(item));
  }
  return record;
}

std::string CodeHash(std::string_view code) { return HexEncode(crypto::Sha256(code)); }

}  // namespace

std::string SigningFileStem(const ClientId& member) {
  std::string s = "sign-" + member.member_class + "-" + member.member_code;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return s;
}

Result<std::string> PendingKeyCsr(const std::string& pending_key_file, std::string_view kind,
                                  const GatewayId& gateway, std::string_view owner,
                                  const crypto::Certificate& ca) {
  auto key = crypto::PrivateKey::LoadPemFile(pending_key_file);
  if (!key && key.error().code() == ErrorCode::kNotFound) {
    key = crypto::PrivateKey::GenerateEcP256();
    if (key) TROAD_RETURN_IF_ERROR(key->SavePemFile(pending_key_file));
  }
  if (!key) return Fail(std::move(key).error().Context(pending_key_file));
  crypto::CsrSubject subject;
  subject.country = ca.Country().empty() ? std::string("TW") : ca.Country();
  if (kind == kAuthentication) {
    subject.serial_number_attr = gateway.owner.ToString();
  } else {
    TROAD_ASSIGN_OR_RETURN(ClientId member, ClientId::Parse(owner));
    subject.serial_number_attr = member.ToString();
  }
  subject.common_name = std::string(owner);
  return crypto::CreateCsrPem(*key, subject);
}

std::vector<ClientId> SigningMembers(const GatewayId& gateway,
                                     const std::vector<ClientId>& sign_for) {
  std::vector<ClientId> out = {gateway.owner};
  for (const ClientId& m : sign_for) {
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

Result<CentralTransport> HttpsCentralTransport(const globalconf::Anchor& anchor) {
  // The global configuration document is the largest answer read this way.
  TROAD_ASSIGN_OR_RETURN(std::shared_ptr<globalconf::CentralClient> client,
                         globalconf::CentralClient::Create(
                             anchor.central_url, anchor.ca_certificate.ToPem(), 32 * 1024 * 1024));
  return CentralTransport([client](std::string_view path, const json& body) -> Result<json> {
    const bool get = body.is_null();
    auto answer = client->Call(get ? "GET" : "POST", path,
                               get ? std::nullopt : std::optional<json>(body), "");
    if (!answer) {
      return Fail(std::move(answer).error().Context(fmt::format("the central, {}", path)));
    }
    return answer;
  });
}

Result<Enroller> Enroller::Open(EnrollmentPlan plan, globalconf::Anchor anchor,
                                std::string anchor_text, CentralTransport transport,
                                const Clock& clock) {
  if (plan.gateway.owner.instance != anchor.instance) {
    return Fail(ErrorCode::kInvalidArgument,
                "gateway {} is not in instance {}, which the anchor is for",
                plan.gateway.ToString(), anchor.instance);
  }
  for (const ClientId& m : plan.sign_for) {
    if (m.is_subsystem() || m.instance != anchor.instance) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--sign-for {}: must name a member (INSTANCE/CLASS/MEMBER) of instance {}",
                  m.ToString(), anchor.instance);
    }
  }
  std::error_code ec;
  fs::create_directories(plan.dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create {}: {}", plan.dir, ec.message());
  // Private keys live here.
  if (::chmod(plan.dir.c_str(), 0700) != 0) {
    return Fail(ErrorCode::kIo, "cannot make {} private (chmod 0700)", plan.dir);
  }

  // The anchor the gateway.toml names: the same central's, or refused.
  const std::string anchor_path = (fs::path(plan.dir) / kEnrolledAnchorFile).string();
  if (auto held = globalconf::LoadAnchorFile(anchor_path); held) {
    if (held->central_url != anchor.central_url ||
        held->ca_certificate.Sha256Fingerprint() != anchor.ca_certificate.Sha256Fingerprint()) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "{} is the anchor of another central ({}); this gateway directory belongs to "
                  "it — use a new directory to join {}",
                  anchor_path, held->central_url, anchor.central_url);
    }
  } else if (held.error().code() != ErrorCode::kNotFound) {
    return Fail(std::move(held).error());
  }
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(anchor_path, anchor_text, 0644));

  Enroller enroller(std::move(plan), std::move(anchor), std::move(transport), clock);
  const std::string record_path = enroller.PathOf(kEnrollmentStateFile);
  auto record = ReadFile(record_path);
  if (record) {
    if (record->size() > kMaxRecordBytes) {
      return Fail(ErrorCode::kInvalidArgument, "{}: too large to be an enrollment record",
                  record_path);
    }
    TROAD_ASSIGN_OR_RETURN(Record parsed, ParseRecord(*record, record_path, enroller.plan_.gateway,
                                                      enroller.anchor_.central_url));
    enroller.record_ = std::move(parsed.items);
    enroller.record_code_sha256_ = std::move(parsed.code_sha256);
  } else if (record.error().code() != ErrorCode::kNotFound) {
    return Fail(std::move(record).error());
  }
  return enroller;
}

std::string Enroller::PathOf(std::string_view name) const {
  return (fs::path(plan_.dir) / name).string();
}

Status Enroller::SaveRecord() const {
  return WriteFileAtomically(
      PathOf(kEnrollmentStateFile),
      RecordJson(plan_.gateway, anchor_.central_url, record_code_sha256_, record_).dump(2) + "\n",
      0600);
}

Status Enroller::RemoveRecord() const {
  std::error_code ec;
  fs::remove(PathOf(kEnrollmentStateFile), ec);
  if (ec) {
    return Fail(ErrorCode::kIo, "cannot remove {}: {}", PathOf(kEnrollmentStateFile), ec.message());
  }
  return SyncDirectory(plan_.dir);
}

Status Enroller::Submit(std::string_view code) {
  if (!record_.empty()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "requests {} are already on record in {}; check on them instead",
                record_.front().request_id, PathOf(kEnrollmentStateFile));
  }
  std::vector<EnrollmentItem> items;
  items.push_back({std::string(kAuthentication), plan_.gateway.ToString(), "auth", 0, "", ""});
  for (const ClientId& m : SigningMembers(plan_.gateway, plan_.sign_for)) {
    items.push_back({std::string(kSigning), m.ToString(), SigningFileStem(m), 0, "", ""});
  }
  json requests = json::array();
  for (const EnrollmentItem& item : items) {
    TROAD_ASSIGN_OR_RETURN(
        std::string csr, PendingKeyCsr(PathOf(PendingKeyFile(item.stem)), item.kind, plan_.gateway,
                                       item.owner, anchor_.ca_certificate));
    requests.push_back({{"kind", item.kind}, {"owner", item.owner}, {"csr", csr}});
  }
  TROAD_ASSIGN_OR_RETURN(json answer,
                         transport_(kEnrollmentPath, {{"gateway", plan_.gateway.ToString()},
                                                      {"code", std::string(code)},
                                                      {"requests", requests}}));
  if (!answer.is_object() || !answer.value("requests", json()).is_array() ||
      answer["requests"].size() != items.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the central's answer to {} does not list the {} requests sent", kEnrollmentPath,
                items.size());
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const json& r = answer["requests"][i];
    if (!r.is_object() || !r.value("id", json()).is_number_integer() ||
        r.value("owner", "") != items[i].owner || r.value("kind", "") != items[i].kind) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the central's answer to {}: request {} is not the one sent ({} {})",
                  kEnrollmentPath, i, items[i].kind, items[i].owner);
    }
    items[i].request_id = r["id"].get<int64_t>();
    items[i].status = "pending";
  }
  record_ = std::move(items);
  record_code_sha256_ = CodeHash(code);
  return SaveRecord();
}

bool Enroller::RecordedWithAnotherCode(std::string_view code) const {
  return !record_.empty() && !record_code_sha256_.empty() && record_code_sha256_ != CodeHash(code);
}

Status Enroller::Abandon() {
  record_.clear();
  record_code_sha256_.clear();
  return RemoveRecord();
}

Result<EnrollmentProgress> Enroller::Check(std::string_view code) {
  if (record_.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, "no requests on record in {}; submit first",
                PathOf(kEnrollmentStateFile));
  }
  json ids = json::array();
  for (const EnrollmentItem& item : record_) ids.push_back(item.request_id);
  TROAD_ASSIGN_OR_RETURN(json answer,
                         transport_(kEnrollmentStatusPath, {{"gateway", plan_.gateway.ToString()},
                                                            {"code", std::string(code)},
                                                            {"ids", ids}}));
  if (!answer.is_object() || !answer.value("requests", json()).is_array()) {
    return Fail(ErrorCode::kInvalidArgument, "the central's answer to {} has no requests",
                kEnrollmentStatusPath);
  }
  std::map<int64_t, const json*> by_id;
  for (const json& r : answer["requests"]) {
    if (r.is_object() && r.value("id", json()).is_number_integer()) {
      by_id[r["id"].get<int64_t>()] = &r;
    }
  }
  EnrollmentProgress progress;
  bool all_approved = true;
  for (EnrollmentItem& item : record_) {
    auto it = by_id.find(item.request_id);
    if (it == by_id.end() || !it->second->value("status", json()).is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "the central's answer to {} omits request {}",
                  kEnrollmentStatusPath, item.request_id);
    }
    item.status = (*it->second)["status"].get<std::string>();
    item.reason = it->second->value("decision_reason", "");
    if (item.status == "rejected") progress.rejected = true;
    if (item.status != "approved") all_approved = false;
  }
  if (progress.rejected) {
    progress.items = record_;
    record_.clear();
    TROAD_RETURN_IF_ERROR(RemoveRecord());
    return progress;
  }
  if (all_approved) {
    for (EnrollmentItem& item : record_) {
      const json& r = *by_id[item.request_id];
      if (!r.value("certificate", json()).is_string()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the central's answer to {}: approved request {} has no certificate",
                    kEnrollmentStatusPath, item.request_id);
      }
      TROAD_RETURN_IF_ERROR(Install(item, r["certificate"].get<std::string>()));
      item.status = "installed";
    }
    progress.items = record_;
    progress.installed = true;
    record_.clear();
    TROAD_RETURN_IF_ERROR(RemoveRecord());
    return progress;
  }
  progress.items = record_;
  return progress;
}

Result<crypto::Certificate> CheckIssuedCertificate(std::string_view pem,
                                                   const crypto::PrivateKey& key,
                                                   const crypto::Certificate& ca,
                                                   std::string_view expected_cn, SystemTime now) {
  TROAD_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(pem));
  if (cert.GetPublicKey().ToDer() != key.Public().ToDer()) {
    return Fail(ErrorCode::kUnauthenticated, "the certificate does not carry this gateway's key");
  }
  TROAD_ASSIGN_OR_RETURN(auto trust, crypto::TrustStore::Create({ca}));
  if (auto st = trust.Verify(cert, {}, now); !st) {
    return Fail(ErrorCode::kUnauthenticated, "it does not verify against the anchor's CA: {}",
                st.error().message());
  }
  if (cert.CommonName() != expected_cn) {
    return Fail(ErrorCode::kUnauthenticated, "it names CN={}, not {}",
                EscapeForLog(cert.CommonName()), expected_cn);
  }
  return cert;
}

Status Enroller::Install(EnrollmentItem& item, const std::string& certificate_pem) {
  // The pending key; after an interrupted install it may already be in place.
  const std::string pending = PathOf(PendingKeyFile(item.stem));
  const std::string key_path = PathOf(KeyFile(item.stem));
  const bool has_pending = fs::exists(pending);
  TROAD_ASSIGN_OR_RETURN(auto key,
                         crypto::PrivateKey::LoadPemFile(has_pending ? pending : key_path));
  auto cert = CheckIssuedCertificate(certificate_pem, key, anchor_.ca_certificate, item.owner,
                                     clock_.Now());
  if (!cert) {
    return Fail(cert.error().code(), "request {} ({} certificate of {}): {}", item.request_id,
                item.kind, item.owner, cert.error().message());
  }
  if (has_pending) {
    std::error_code ec;
    fs::rename(pending, key_path, ec);
    if (ec)
      return Fail(ErrorCode::kIo, "cannot rename {} to {}: {}", pending, key_path, ec.message());
    TROAD_RETURN_IF_ERROR(SyncDirectory(plan_.dir));
  }
  return WriteFileAtomically(PathOf(CertificateFile(item.stem)), cert->ToPem(), 0644);
}

Result<bool> WriteStarterConfig(const std::string& dir, const GatewayId& gateway,
                                const std::vector<ClientId>& signing_members,
                                const StarterConfig& starter) {
  const fs::path path = fs::path(dir) / kEnrolledConfigFile;
  if (fs::exists(path)) return false;
  std::string toml = fmt::format(
      "# Gateway {} — written by `troad gateway enroll`; edit it to suit this machine.\n"
      "# Every key is described in docs/configuration.md.\n\n"
      "[gateway]\nid = {}\nanchor = {}\ndata_dir = \"data\"\n\n"
      "[listen]\nconsumer = {}\nprovider = {}\nadmin = {}\n\n"
      "[tls]\ncertificate = \"auth.crt\"\nkey = \"auth.key\"\n",
      gateway.ToString(), TomlQuote(gateway.ToString()), TomlQuote(kEnrolledAnchorFile),
      TomlQuote(starter.consumer_listen), TomlQuote(starter.provider_listen),
      TomlQuote(starter.admin_listen));
  for (const ClientId& m : signing_members) {
    const std::string stem = SigningFileStem(m);
    toml += fmt::format("\n[[signing]]\nmember = {}\ncertificate = {}\nkey = {}\n",
                        TomlQuote(m.ToString()), TomlQuote(CertificateFile(stem)),
                        TomlQuote(KeyFile(stem)));
  }
  for (const ClientId& c : starter.clients) {
    toml += fmt::format("\n[[client]]\nid = {}\nconnection = \"http\"\n", TomlQuote(c.ToString()));
  }
  if (!starter.timestamping_authorities.empty()) {
    toml +=
        "\n# RFC 3161 authorities that timestamp the message log's batches.\n[timestamping]\n"
        "authorities = [";
    for (size_t i = 0; i < starter.timestamping_authorities.size(); ++i) {
      toml += (i ? ", " : "") + TomlQuote(starter.timestamping_authorities[i]);
    }
    toml += "]\n";
  }
  toml +=
      "\n# A service this gateway provides (registered at the central, `troad service add`):\n"
      "# [[service]]\n# id = \"INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE\"\n"
      "# backend = \"http://127.0.0.1:9001/api\"\n";
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(path.string(), toml, 0644));
  // Checked as the gateway will read it; a file it would refuse is not left behind.
  if (auto loaded = GatewayConfig::Load(path.string()); !loaded) {
    std::error_code ec;
    fs::remove(path, ec);
    return Fail(std::move(loaded).error().Context("the gateway.toml enroll would write"));
  }
  return true;
}

}  // namespace troad::gateway
