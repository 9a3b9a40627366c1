// What `troad mydata` answers, as a function of one request and the database: the
// management API the operator maintains the catalogue and the service providers with,
// the service providers' API (requests, status), the published keys consent records
// are signed with, and the health check (docs/mydata.md, "Management API",
// "Service-provider API"). The process (mydata/server.h) runs it on its one
// database thread; nothing here does network I/O.
//
// Every management call, refused or done, is written to the `audit` table.
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "http/form.h"
#include "http/types.h"
#include "mydata/catalogue.h"
#include "mydata/service_providers.h"
#include "mydata/transactions.h"
#include "store/database.h"
#include "store/signing_keys.h"

namespace troad::mydata {

struct ApiOptions {
  // MyData's public URL (mydata.toml [mydata] public_url): the audience of service
  // providers' client assertions and the base of the people's links.
  std::string public_url = "http://localhost:4700";
  // Hex SHA-256 of the management API's bearer token; empty turns the API off (404).
  std::string management_token_sha256;
  store::SigningKeyOptions consent_keys;
};

class Api {
 public:
  Api(store::Database& db, const Clock& clock, ApiOptions options);

  // `remote` is the caller's address, for the audit log.
  http::Response Serve(const http::Request& req, std::string_view remote);

  store::SigningKeys& consent_keys() { return keys_; }

 private:
  http::Response Management(const http::Request& req, std::string_view path,
                            std::string_view remote);
  void Audit(std::string_view event, std::string_view outcome, std::string_view subject,
             std::string_view remote, std::string_view detail, std::string_view actor = "operator");
  // The service providers' API (sp_api.cpp): /api/sp/v1/…, form-encoded, each call
  // authenticated by a private_key_jwt client assertion.
  http::Response ServiceProviderApi(const http::Request& req, std::string_view path,
                                    std::string_view remote);
  Result<ServiceProvider> AuthenticateServiceProvider(const http::Form& form, std::string_view path,
                                                      std::string_view remote);

  store::Database& db_;
  const Clock& clock_;
  ApiOptions options_;
  Catalogue catalogue_;
  ServiceProviders providers_;
  Transactions transactions_;
  store::SigningKeys keys_;
};

}  // namespace troad::mydata
