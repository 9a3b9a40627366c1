// Service providers (服務提供者): the banks, counties and agencies that ask MyData for a
// person's datasets (docs/mydata.md, "Roles and registries"). The operator registers
// each one (management API or `troad mydata sp add`) with what it may ask for and how
// it proves who it is:
//  - datasets: the catalogue ids it may request (its scopes); nothing else is ever
//    fetched for it;
//  - modes: online service, counter service and/or multi-person application;
//  - redirect URIs, matched exactly (people are sent back only there);
//  - client authentication, exactly one: `private_key_jwt` (a JWT signed with a key from
//    its registered JWKS, RFC 7523) or `tls_client_auth` (the SHA-256 of the client
//    certificate it presents over mutual TLS, RFC 8705 §2);
//  - the addresses its back end calls from (IP addresses or CIDR prefixes);
//  - the purposes it may state, shown word for word to the person who consents;
//  - optionally a notification endpoint (https) told when a transaction changes state.
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/database.h"

namespace troad::mydata {

enum class SpMode { kOnline, kCounter, kMultiPerson };
std::string_view SpModeName(SpMode mode);  // "online", "counter", "multi_person"

enum class SpAuthMethod { kPrivateKeyJwt, kTlsClientAuth };
std::string_view SpAuthMethodName(SpAuthMethod method);  // "private_key_jwt", …

struct ServiceProvider {
  std::string id;  // as a dataset id: "bot-mortgage"
  std::string name_zh;
  std::string name_en;
  std::vector<std::string> datasets;  // 1 to 100 catalogue ids, no repeats
  std::vector<SpMode> modes;          // at least one, no repeats
  // Exact URIs (core/net.h ValidateRedirectUri), 1 to 10; required unless the provider
  // only serves counters (a clerk's system redirects nobody).
  std::vector<std::string> redirect_uris;
  SpAuthMethod auth_method = SpAuthMethod::kPrivateKeyJwt;
  nlohmann::json jwks = nlohmann::json::object();  // private_key_jwt: {"keys":[1 to 10]}
  std::string cert_sha256;  // tls_client_auth: 64 lower-case hex digits of the DER's SHA-256
  std::string notify_url;   // "" or as a redirect URI
  // 1 to 50 entries: "192.0.2.10", "2001:db8::/32", "10.1.0.0/16".
  std::vector<std::string> allowed_sources;
  std::vector<std::string> purposes;  // 1 to 20, each 1 to 400 bytes of text
  bool enabled = true;
  int64_t created_at = 0;  // set by the registry
  int64_t updated_at = 0;
};

// kInvalidArgument naming the field and what is wrong; does not look at the catalogue.
Status ValidateServiceProvider(const ServiceProvider& sp);

// Whether `address` is one of the provider's allowed sources. An IPv4-mapped IPv6
// address (::ffff:192.0.2.10) counts as its IPv4 address.
bool SourceAllowed(const ServiceProvider& sp, const boost::asio::ip::address& address);

// {"id","name":{"zh-TW","en"},"datasets","modes","redirect_uris",
//  "auth":{"method":"private_key_jwt","jwks":{…}} or {"method":"tls_client_auth",
//  "cert_sha256":"…"},"notify_url","allowed_sources","purposes","enabled"}
nlohmann::json ServiceProviderToJson(const ServiceProvider& sp);
// kInvalidArgument naming the member.
Result<ServiceProvider> ServiceProviderFromJson(const nlohmann::json& json);

class ServiceProviders {
 public:
  ServiceProviders(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kInvalidArgument (also for a dataset not in the catalogue); kAlreadyExists.
  Status Add(const ServiceProvider& sp);
  // Replaces everything but the id and created_at. kNotFound, kInvalidArgument.
  Status Update(const ServiceProvider& sp);
  Result<ServiceProvider> Get(std::string_view id);
  Result<std::vector<ServiceProvider>> List();
  // A disabled provider can start nothing and collect nothing. kNotFound.
  Status SetEnabled(std::string_view id, bool enabled);

 private:
  Status CheckDatasetsExist(const ServiceProvider& sp);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace troad::mydata
