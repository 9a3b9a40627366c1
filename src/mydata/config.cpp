#include "mydata/config.h"

#include <filesystem>

#include "core/encoding.h"
#include "core/net.h"

namespace troad::mydata {
namespace fs = std::filesystem;

std::string MyDataConfig::DatabaseFile() const {
  return (fs::path(data_dir) / "mydata.db").string();
}

Result<MyDataConfig> MyDataConfig::Load(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(path));
  auto resolve = [&doc](const std::string& file) { return doc->ResolvePath(file); };
  MyDataConfig c;
  c.config_file = fs::absolute(path).string();
  ConfigSection root = doc->Root();
  ConfigSection mydata = root.Section("mydata");
  c.listen = mydata.String("listen", c.listen);
  if (auto hp = SplitHostPort(c.listen); !hp) mydata.Error("listen", hp.error().message());
  c.public_url = mydata.String("public_url", c.public_url);
  while (c.public_url.ends_with("/")) c.public_url.pop_back();
  // People are sent here from the idp and from service providers: the same rules as a
  // redirect URI (https, or http only to a loopback host; no fragment).
  if (auto st = ValidateRedirectUri(c.public_url); !st) {
    mydata.Error("public_url", st.error().message());
  } else if (c.public_url.find('?') != std::string::npos) {
    mydata.Error("public_url", "must not have a query");
  }
  c.api.public_url = c.public_url;
  c.data_dir = resolve(mydata.String("data_dir", "data"));

  ConfigSection keys = root.Section("keys");
  c.tls_certificate_file = resolve(keys.String("tls_certificate", ""));
  c.tls_key_file = resolve(keys.String("tls_key", ""));
  if (c.tls_certificate_file.empty() != c.tls_key_file.empty()) {
    keys.Error("tls_key", "tls_certificate and tls_key go together");
  }
  c.api.management_token_sha256 = keys.String("management_token_sha256", "");
  if (!c.api.management_token_sha256.empty() &&
      (c.api.management_token_sha256.size() != 64 || !HexDecode(c.api.management_token_sha256))) {
    keys.Error("management_token_sha256", "must be 64 hex digits (SHA-256 of the token)");
  }
  c.api.consent_keys.rotate_after =
      std::chrono::seconds(keys.Int("consent_key_rotate_after_days", 365, 1, 3650) * 86400);
  // Consent records are shown to auditors for years: retired public keys stay published
  // much longer than the idp's ID-token keys.
  c.api.consent_keys.retention =
      std::chrono::seconds(keys.Int("consent_key_retention_days", 3650, 30, 36500) * 86400);

  c.log = ReadLogSettings(root.Section("logging"));
  TROAD_RETURN_IF_ERROR(doc->Finish());
  return c;
}

}  // namespace troad::mydata
