#include "identity/config.h"

#include <filesystem>

#include "core/encoding.h"
#include "core/file.h"
#include "core/net.h"

namespace troad::identity {
namespace fs = std::filesystem;

std::string IdpConfig::DatabaseFile() const { return (fs::path(data_dir) / "idp.db").string(); }

Result<IdpConfig> IdpConfig::Load(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(path));
  auto resolve = [&doc](const std::string& file) { return doc->ResolvePath(file); };
  IdpConfig c;
  c.config_file = fs::absolute(path).string();
  ConfigSection root = doc->Root();
  ConfigSection idp = root.Section("idp");
  ProviderOptions& p = c.provider;
  p.issuer = idp.RequiredString("issuer");
  while (p.issuer.ends_with("/")) p.issuer.pop_back();
  bool https = p.issuer.starts_with("https://");
  if (!p.issuer.empty() && !https && !p.issuer.starts_with("http://localhost") &&
      !p.issuer.starts_with("http://127.0.0.1")) {
    idp.Error("issuer", "must be an https:// URL (http:// only for localhost)");
  }
  if (p.issuer.find_first_of("?#") != std::string::npos) {
    idp.Error("issuer", "must not have a query or fragment (OpenID Connect Discovery §3)");
  }
  {
    std::string rest =
        p.issuer.substr(p.issuer.find("://") == std::string::npos ? 0 : p.issuer.find("://") + 3);
    std::string host = rest.substr(0, rest.find_first_of(":/"));
    p.rp_id = idp.String("rp_id", host);
  }
  c.listen = idp.String("listen", "127.0.0.1:4600");
  if (auto hp = SplitHostPort(c.listen); !hp) idp.Error("listen", hp.error().message());
  c.data_dir = resolve(idp.String("data_dir", "data"));
  p.card_component_url = idp.String("card_component_url", p.card_component_url);

  ConfigSection keys = root.Section("keys");
  c.tls_certificate_file = resolve(keys.String("tls_certificate", ""));
  c.tls_key_file = resolve(keys.String("tls_key", ""));
  if (c.tls_certificate_file.empty() != c.tls_key_file.empty()) {
    keys.Error("tls_key", "tls_certificate and tls_key go together");
  }
  c.subject_salt_file = resolve(keys.String("subject_salt", "keys/subject.salt"));
  p.management_token_sha256 = keys.String("management_token_sha256", "");
  if (!p.management_token_sha256.empty() &&
      (p.management_token_sha256.size() != 64 || !HexDecode(p.management_token_sha256))) {
    keys.Error("management_token_sha256", "must be 64 hex digits (SHA-256 of the token)");
  }
  p.keys.rotate_after = std::chrono::seconds(keys.Int("rotate_after_days", 90, 1, 3650) * 86400);
  p.keys.retention = std::chrono::seconds(keys.Int("retention_days", 7, 1, 365) * 86400);

  ConfigSection sessions = root.Section("sessions");
  p.session_lifetime =
      std::chrono::seconds(sessions.Int("session_lifetime_s", 8 * 3600, 60, 30 * 86400));
  p.request_lifetime = std::chrono::seconds(sessions.Int("request_lifetime_s", 1800, 60, 86400));
  p.code_lifetime = std::chrono::seconds(sessions.Int("code_lifetime_s", 60, 10, 600));
  p.token_lifetime = std::chrono::seconds(sessions.Int("token_lifetime_s", 600, 60, 86400));

  ConfigSection sms = root.Section("sms");
  c.sms.target = sms.String("target", "file:" + (fs::path(c.data_dir) / "sms.jsonl").string());
  if (c.sms.target.starts_with("file:") && c.sms.target.size() > 5) {
    c.sms.target = "file:" + resolve(c.sms.target.substr(5));
  }
  if (std::string token_file = resolve(sms.String("bearer_token_file", "")); !token_file.empty()) {
    auto token = ReadFile(token_file);
    if (!token) {
      sms.Error("bearer_token_file", token.error().message());
    } else {
      c.sms.bearer_token = token->substr(0, token->find('\n'));
    }
  }
  c.sms.sender_id = sms.String("sender_id", "troad");
  c.sms.timeout = std::chrono::milliseconds(sms.Int("timeout_ms", 5000, 100, 60'000));
  p.sms_code_lifetime = std::chrono::seconds(sms.Int("code_lifetime_s", 300, 60, 1800));
  p.sms_max_attempts = static_cast<int>(sms.Int("max_attempts", 5, 1, 20));
  p.sms_max_sends = static_cast<int>(sms.Int("max_sends", 5, 1, 100));
  if (sms.Has("max_per_hour")) {
    // The old name promised an hour, but the count always used [limits] failure_window_s.
    sms.Error("max_per_hour",
              "renamed to max_sends (codes per national id within [limits] failure_window_s)");
  }

  ConfigSection limits = root.Section("limits");
  p.max_failures_per_account = static_cast<int>(limits.Int("max_failures_per_account", 5, 1, 1000));
  p.max_failures_per_remote =
      static_cast<int>(limits.Int("max_failures_per_remote", 30, 1, 100'000));
  p.failure_window = std::chrono::seconds(limits.Int("failure_window_s", 900, 10, 86400));

  ConfigSection cert = root.Section("citizen_certificate");
  for (const auto& f : cert.StringList("ca_certificates")) c.citizen_ca_files.push_back(resolve(f));
  for (const auto& f : cert.StringList("crls")) c.citizen_crl_files.push_back(resolve(f));
  c.citizen_require_crl = cert.Bool("require_crl", false);
  if (cert.Bool("ocsp", false)) {
    OcspOptions ocsp;
    ocsp.responder_url = cert.String("ocsp_responder", "");
    if (!ocsp.responder_url.empty() && !ocsp.responder_url.starts_with("http://")) {
      cert.Error("ocsp_responder", "must be an http:// URL (OCSP answers are signed; RFC 6960)");
    }
    ocsp.timeout = std::chrono::milliseconds(cert.Int("ocsp_timeout_ms", 5000, 100, 60'000));
    ocsp.max_age = std::chrono::seconds(cert.Int("ocsp_max_age_s", 86400, 60, 7 * 86400));
    p.citizen_ocsp = ocsp;
  }

  ConfigSection dual = root.Section("dual_document");
  c.dual_document.gateway = dual.String("gateway", "");
  if (!c.dual_document.gateway.empty()) {
    c.dual_document.client = dual.RequiredString("client");
    c.dual_document.household_service = dual.RequiredString("household_service");
    c.dual_document.nhi_service = dual.RequiredString("nhi_service");
  }
  c.dual_document.timeout = std::chrono::milliseconds(dual.Int("timeout_ms", 5000, 100, 60'000));

  c.log = ReadLogSettings(root.Section("logging"));
  TROAD_RETURN_IF_ERROR(doc->Finish());

  auto salt = ReadFile(c.subject_salt_file);
  if (!salt) return Fail(std::move(salt.error()).Context("[keys] subject_salt"));
  std::string trimmed = salt->substr(0, salt->find('\n'));
  if (trimmed.size() < 32) {
    return Fail(ErrorCode::kInvalidArgument,
                "[keys] subject_salt: {} holds fewer than 32 characters; pairwise subjects need "
                "a long random secret",
                c.subject_salt_file);
  }
  p.subject_salt = trimmed;
  return c;
}

Result<std::unique_ptr<CitizenCertVerifier>> IdpConfig::MakeCitizenVerifier() const {
  if (citizen_ca_files.empty()) return std::unique_ptr<CitizenCertVerifier>();
  CitizenCaConfig config;
  for (const auto& f : citizen_ca_files) {
    auto pem = ReadFile(f);
    if (!pem) return Fail(std::move(pem.error()).Context("[citizen_certificate] ca_certificates"));
    config.ca_certificates_pem += *pem;
  }
  for (const auto& f : citizen_crl_files) {
    auto crl = ReadFile(f);
    if (!crl) return Fail(std::move(crl.error()).Context("[citizen_certificate] crls"));
    config.crls.push_back(std::move(*crl));
  }
  config.require_crl = citizen_require_crl;
  auto verifier = CitizenCertVerifier::Create(config);
  if (!verifier) return Fail(std::move(verifier.error()).Context("[citizen_certificate]"));
  return verifier;
}

}  // namespace troad::identity
