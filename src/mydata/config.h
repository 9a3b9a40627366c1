// MyData's configuration (mydata.toml): where it listens, where its database lives, the
// management token and the consent signing keys' rotation. `troad mydata init` writes
// one; every key is documented in docs/configuration.md ("mydata.toml"). Parsed once at
// start-up.
// Thread-safety: immutable after Load.
#pragma once

#include <string>

#include "core/config.h"
#include "core/result.h"
#include "mydata/api.h"

namespace troad::mydata {

struct MyDataConfig {
  std::string config_file;
  std::string listen = "127.0.0.1:4700";
  // How people and service providers reach MyData (redirects, links in notices).
  std::string public_url = "http://localhost:4700";
  std::string data_dir;              // mydata.db lives here
  std::string tls_certificate_file;  // both empty: plain HTTP (loopback or behind a proxy)
  std::string tls_key_file;
  ApiOptions api;  // management token, consent key rotation
  LogSettings log;

  std::string DatabaseFile() const;
  // Reads and validates `path`; relative file names are taken relative to its folder.
  static Result<MyDataConfig> Load(const std::string& path);
};

}  // namespace troad::mydata
