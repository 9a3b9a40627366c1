// The identity centre's configuration (idp.toml): where it listens, its issuer URL,
// keys and secrets, sessions, SMS, rate limits and the citizen CA. `troad idp init`
// writes one; every key is documented in docs/configuration.md ("idp.toml"). Parsed
// once at start-up.
// Thread-safety: immutable after Load.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "identity/citizen_cert.h"
#include "identity/dual_document.h"
#include "identity/provider.h"
#include "identity/sms.h"

namespace troad::identity {

struct IdpConfig {
  std::string config_file;
  std::string listen = "127.0.0.1:4600";
  std::string data_dir;              // idp.db lives here
  std::string tls_certificate_file;  // both empty: plain HTTP (loopback and behind a proxy)
  std::string tls_key_file;
  ProviderOptions provider;  // issuer, salt (read from its file), lifetimes, limits
  std::string subject_salt_file;
  SmsOptions sms;
  // [citizen_certificate]: empty ca_certificates = the method is off.
  std::vector<std::string> citizen_ca_files;
  std::vector<std::string> citizen_crl_files;
  bool citizen_require_crl = false;
  // [dual_document]: an empty gateway = the method is off.
  DualDocumentOptions dual_document;
  LogSettings log;

  std::string DatabaseFile() const;
  // Reads and validates `path`, and the salt and token files it names; relative file
  // names are taken relative to its folder.
  static Result<IdpConfig> Load(const std::string& path);
  // The citizen certificate verifier the configuration describes; null when off.
  Result<std::unique_ptr<CitizenCertVerifier>> MakeCitizenVerifier() const;
};

}  // namespace troad::identity
