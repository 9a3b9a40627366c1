// A gateway's local configuration (gateway.toml): who it is, where it listens, its
// keys, the local information systems that may act as which subsystem, and where
// the services it provides are really served. Every key is documented in
// docs/configuration.md. Parsed once at start-up into an immutable GatewayConfig.
// Thread-safety: immutable after Load.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/net.h"
#include "core/result.h"

namespace troad::gateway {

// How a local information system proves it may act as a subsystem (X-Road's
// NOSSL / SSLNOAUTH / SSLAUTH).
enum class ConnectionType { kHttp, kHttps, kHttpsClientCert };

struct LocalClient {
  ClientId id;
  ConnectionType connection = ConnectionType::kHttp;
  // With kHttpsClientCert: SHA-256 fingerprints of the certificates that may act as
  // this subsystem (read from the PEM files named in the configuration).
  std::vector<std::string> certificate_sha256;
};

struct LocalService {
  ServiceId id;
  std::string backend_url;   // base URL; the r1 rest path and query are appended
  std::string openapi_file;  // absolute path, or empty
  std::chrono::milliseconds timeout{30'000};
};

struct SigningKey {
  ClientId member;
  std::string certificate_file;
  std::string key_file;
};

// [timestamping] (gateway/timestamper.h).
struct TimestamperOptions {
  // RFC 3161 authorities, tried in order ("http://host:port/path" or https://).
  std::vector<std::string> authorities;
  int64_t max_batch = 10'000;                       // records per batch at most
  std::chrono::milliseconds interval{1'000};        // a batch closes at least this often
  std::chrono::seconds acceptable_failure{14'400};  // then exchanges are refused
  std::chrono::milliseconds request_timeout{10'000};
};

// [ledger] (gateway/shipper.h): shipping record digests to the central ledger named by
// the global configuration (docs/protocol.md §12.5).
struct ShipperOptions {
  bool enabled = true;                             // ship when the configuration names a ledger
  int64_t max_batch = 1'000;                       // entries per request (the ledger's limit)
  std::chrono::milliseconds interval{1'000};       // ship at least this often
  std::chrono::milliseconds retry_min{1'000};      // first back-off after a failure
  std::chrono::milliseconds retry_max{60'000};     // longest back-off; alarm re-check period
  std::chrono::milliseconds request_timeout{10'000};
};

// [retention] (gateway/archive.h): timestamped records older than max_age move from
// the live log to hash-chained archive files.
struct RetentionOptions {
  std::chrono::seconds max_age{0};  // 0: keep every record in the live log forever
  std::string archive_dir;          // absolute; default <data_dir>/archive
  std::chrono::seconds interval{3'600};
  int64_t max_records_per_file = 10'000;  // a file holds whole batches, one at least
};

struct GatewayConfig {
  std::string config_file;  // the file this came from
  GatewayId id;
  // Exactly one of these two is set. globalconf_file: an unsigned local file, reread
  // when it changes (`troad init` networks). anchor_file: the central's anchor; the
  // signed configuration is fetched from the central and cached in
  // GlobalConfCacheDir() (docs/protocol.md §10).
  std::string globalconf_file;
  std::string anchor_file;
  // How often the global configuration is checked for a new copy; 0: the document's
  // settings.refresh_interval_s.
  std::chrono::seconds globalconf_refresh{0};
  std::string data_dir;

  std::string consumer_listen;      // "127.0.0.1:8080"
  std::string consumer_tls_listen;  // "" for none
  std::string provider_listen;      // "127.0.0.1:8443"
  std::string admin_listen;         // "127.0.0.1:4000"
  int threads = 0;                  // 0: one per core

  std::string auth_certificate_file;
  std::string auth_key_file;
  // Certificate and key the consumer TLS listener shows local systems; defaults to
  // the authentication certificate.
  std::string local_tls_certificate_file;
  std::string local_tls_key_file;

  std::vector<SigningKey> signing_keys;
  std::vector<LocalClient> clients;
  std::vector<LocalService> services;

  size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds exchange_timeout{60'000};  // whole exchange, consumer side
  bool sync_full = true;                               // message log fsync on every group commit
  std::chrono::microseconds commit_delay{1000};        // busy group commit waits this long

  // [timestamping]: RFC 3161 authorities; none = records are not timestamped.
  TimestamperOptions timestamping;
  // [ledger]: shipping digests to the central ledger.
  ShipperOptions ledger;

  // [retention]: archiving of old records; off unless max_age_days (or max_age_s) is set.
  RetentionOptions retention;

  std::string log_level = "info";
  bool log_json = true;

  // <data_dir>/globalconf: the last good signed copy when anchor_file is set.
  std::string GlobalConfCacheDir() const;

  const LocalClient* FindClient(const ClientId& client) const;
  const LocalService* FindService(const ServiceId& service) const;
  const SigningKey* FindSigningKey(const ClientId& member) const;

  // Reads and validates `path`; relative file names inside are taken relative to the
  // directory of `path`.
  static Result<GatewayConfig> Load(const std::string& path);
};

}  // namespace troad::gateway
