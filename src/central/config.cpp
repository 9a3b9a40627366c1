#include "central/config.h"


#include <filesystem>

#include "core/config.h"
#include "core/net.h"
#include "ledger/checkpoint.h"

namespace troad::central {
namespace fs = std::filesystem;

std::string CentralConfig::DatabaseFile() const {
  return (fs::path(data_dir) / "central.db").string();
}

std::string CentralConfig::LedgerDatabaseFile() const { return data_dir + "/ledger.db"; }

Result<CentralConfig> CentralConfig::Load(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(path));
  auto resolve = [&doc](const std::string& file) { return doc->ResolvePath(file); };
  CentralConfig c;
  c.config_file = fs::absolute(path).string();
  ConfigSection root = doc->Root();
  ConfigSection central = root.Section("central");
  c.instance = central.RequiredString("instance");
  if (!c.instance.empty()) {
    auto probe = ClientId::FromParts(c.instance, "GOV", "X", "");
    if (!probe) central.Error("instance", probe.error().message());
  }
  c.data_dir = resolve(central.String("data_dir", "data"));
  c.listen = central.String("listen", "127.0.0.1:4400");
  if (auto hp = SplitHostPort(c.listen); !hp) central.Error("listen", hp.error().message());
  c.public_url = central.RequiredString("public_url");
  if (!c.public_url.empty() && !c.public_url.starts_with("https://")) {
    central.Error("public_url", "must be an https:// URL");
  }

  ConfigSection keys = root.Section("keys");
  c.tls_certificate_file = resolve(keys.String("tls_certificate", "keys/tls.crt"));
  c.tls_key_file = resolve(keys.String("tls_key", "keys/tls.key"));
  c.ca_certificate_file = resolve(keys.String("ca_certificate", "keys/ca.crt"));
  c.ca_key_file = resolve(keys.String("ca_key", "keys/ca.key"));
  c.configuration_key_file = resolve(keys.String("configuration_key", "keys/configuration.key"));

  ConfigSection gc = root.Section("globalconf");
  c.publisher.validity = std::chrono::seconds(gc.Int("validity_s", 600, 10, 7 * 24 * 3600));
  c.publisher.refresh_interval =
      std::chrono::seconds(gc.Int("refresh_interval_s", 60, 1, 24 * 3600));
  c.publisher.max_clock_skew_ms = gc.Int("max_clock_skew_ms", 60'000, 1000, 3'600'000);
  for (const std::string& f : gc.StringList("timestamping_certificates")) {
    c.timestamping_certificate_files.push_back(resolve(f));
  }
  if (c.timestamping_certificate_files.size() > globalconf::kMaxTimestampingCertificates) {
    gc.Error("timestamping_certificates",
             fmt::format("at most {} files", globalconf::kMaxTimestampingCertificates));
  }
  if (c.publisher.refresh_interval * 2 > c.publisher.validity) {
    gc.Error("refresh_interval_s",
             "must be at most half of validity_s, or gateways may hold an expired copy between "
             "two refreshes");
  }

  ConfigSection ca = root.Section("ca");
  c.ca.authentication_validity =
      std::chrono::hours(24 * ca.Int("authentication_validity_days", 365, 1, 3650));
  c.ca.signing_validity = std::chrono::hours(24 * ca.Int("signing_validity_days", 730, 1, 3650));
  c.ca.enrollment_validity =
      std::chrono::hours(ca.Int("enrollment_code_validity_hours", 168, 1, 24 * 90));
  c.ca.country = ca.String("country", "TW");
  if (c.ca.country.size() != 2 || !std::isupper(static_cast<unsigned char>(c.ca.country[0])) ||
      !std::isupper(static_cast<unsigned char>(c.ca.country[1]))) {
    ca.Error("country", "must be two upper-case letters (ISO 3166)");
  }
  std::string renewal = ca.String("renewal", std::string(RenewalPolicyName(c.ca.renewal)));
  if (auto policy = ParseRenewalPolicy(renewal)) {
    c.ca.renewal = *policy;
  } else {
    ca.Error("renewal", policy.error().message() +
                            " (auto: a renewal proven by the current key is issued at once; "
                            "review: an operator approves it)");
  }

  ConfigSection ledger = root.Section("ledger");
  if (const std::string key = ledger.String("key", ""); !key.empty()) {
    c.ledger.key_file = resolve(key);
  }
  c.ledger.origin = ledger.String("origin", c.instance.empty() ? "" : "troad-ledger/" + c.instance);
  if (!c.ledger.key_file.empty()) {
    if (auto st = ledger::CheckOrigin(c.ledger.origin); !st) {
      ledger.Error("origin", st.error().message());
    }
  }

  ConfigSection tsa = root.Section("tsa");
  const std::string tsa_cert = tsa.String("certificate", "");
  const std::string tsa_key = tsa.String("key", "");
  if (tsa_cert.empty() != tsa_key.empty()) {
    tsa.Error(tsa_cert.empty() ? "certificate" : "key",
              "certificate and key come together (both set: a timestamping authority at /tsa; "
              "neither: none)");
  }
  if (!tsa_cert.empty()) {
    c.tsa.certificate_file = resolve(tsa_cert);
    c.tsa.key_file = resolve(tsa_key);
  }
  c.tsa.policy = tsa.String("policy", c.tsa.policy);
  {
    const std::string& p = c.tsa.policy;
    bool ok =
        !p.empty() && std::isdigit(static_cast<unsigned char>(p.front())) &&
        std::isdigit(static_cast<unsigned char>(p.back())) && p.find("..") == std::string::npos &&
        p.find_first_not_of("0123456789.") == std::string::npos && p.find('.') != std::string::npos;
    if (!ok) tsa.Error("policy", "must be a dotted OID such as 1.3.6.1.4.1.32473.1.3161");
  }
  c.tsa.accuracy_ms = static_cast<uint32_t>(tsa.Int("accuracy_ms", 1000, 0, 60'000));

  ConfigSection admin = root.Section("admin");
  c.admin.idle_timeout = std::chrono::minutes(admin.Int("session_idle_minutes", 30, 1, 24 * 60));
  c.admin.absolute_timeout = std::chrono::hours(admin.Int("session_max_hours", 12, 1, 24 * 7));
  c.admin.max_failures_per_user = static_cast<int>(admin.Int("max_failures_per_user", 5, 1, 1000));
  c.admin.max_failures_per_remote =
      static_cast<int>(admin.Int("max_failures_per_address", 20, 1, 100000));
  c.admin.failure_window =
      std::chrono::minutes(admin.Int("failure_window_minutes", 15, 1, 24 * 60));

  const LogSettings logging = ReadLogSettings(root.Section("logging"));
  c.log_level = logging.level;
  c.log_json = logging.json;
  TROAD_RETURN_IF_ERROR(doc->Finish());
  return c;
}

}  // namespace troad::central
