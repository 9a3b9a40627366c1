// The global configuration: one JSON document that tells every gateway who is in the
// network — members and their signing certificates, subsystems, global groups of
// subsystems, gateways with their addresses and authentication certificates, services,
// access grants (to a client or to a global group), trusted CAs and revoked
// certificates. Byte-level format: docs/protocol.md §8. The central signs it
// (globalconf/signed.h, §9); `troad init` still writes it unsigned for local networks.
//
// GlobalConf is parsed once, validated completely, indexed, and then immutable: every
// request of a gateway reads the same shared_ptr<const GlobalConf>.
// Thread-safety: immutable after Parse; share freely.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "crypto/x509.h"

namespace troad::globalconf {

inline constexpr std::string_view kFormat = "troad-globalconf/1";

struct Member {
  ClientId id;
  std::string name;  // zh-TW
  std::string name_en;
  std::vector<crypto::Certificate> signing_certificates;
};

struct Subsystem {
  ClientId id;
  std::string name;
};

// A named set of subsystems kept by the central operator ("all municipalities"); a
// grant to the group is a grant to each of its members (X-Road's global group).
struct GlobalGroup {
  std::string code;               // an identifier part (ValidateIdPart), unique in the document
  std::string description;        // zh-TW
  std::string description_en;     // may be empty
  std::vector<ClientId> members;  // subsystems listed in the document
};

// A gateway lists at most this many certificates besides its primary one (a renewal
// needs one; a few allow for an overlap of two).
inline constexpr size_t kMaxAdditionalAuthCertificates = 4;
// Timestamping authorities listed in one document, at most.
inline constexpr size_t kMaxTimestampingCertificates = 16;

struct Gateway {
  GatewayId id;
  std::string host;  // address peers connect to
  uint16_t port = 0;
  crypto::Certificate auth_certificate;
  std::vector<ClientId> clients;  // subsystems this gateway serves
  // Other authentication certificates the gateway may present: during a renewal the new
  // one is listed here (or the old one, once the new is primary) so that peers accept
  // either while the gateway switches (docs/protocol.md §8). Usually empty.
  std::vector<crypto::Certificate> additional_auth_certificates = {};

  // auth_certificate and then the additional ones.
  std::vector<crypto::Certificate> AuthCertificates() const;
  // Their SHA-256 fingerprints joined with ',' — what an http::Endpoint pins. A gateway
  // read by GlobalConf::Parse has them at hand (every exchange asks); others compute them.
  std::string AuthCertificatePins() const;
  std::string parsed_pins = {};  // set by GlobalConf::Parse; not part of the document
};

struct Endpoint {
  std::string method;  // "GET", … or "*"
  std::string path;    // "/records/*", "/records/{id}" or "*"
};

struct Service {
  ServiceId id;
  std::string type = "REST";  // "REST" or "OPENAPI"
  bool enabled = true;
  std::string disabled_notice;
  std::vector<Endpoint> endpoints;
};

// What is wrong with an endpoint or grant rule, as {field, message} ("method", "\"GET \"
// is not an HTTP method or \"*\""); nullopt when nothing is.
std::optional<std::pair<std::string, std::string>> EndpointProblem(const Endpoint& e);

// An access right: `client` — or, when `group` is set, every member of that global
// group — may call `service`, restricted to `rules` when not empty. Exactly one of
// `client` and `group` is set (a group grant has a default-constructed `client`).
struct Grant {
  ClientId client;
  ServiceId service;
  std::vector<Endpoint> rules;  // empty: the whole service
  std::string group = {};       // a GlobalGroup's code, or empty

  bool is_group_grant() const { return !group.empty(); }
};

struct Settings {
  int64_t max_clock_skew_ms = 60'000;
  int64_t refresh_interval_s = 60;
};

// The central transparency ledger (docs/protocol.md §12): where gateways ship their
// record digests and the key its signed checkpoints verify with.
struct LedgerInfo {
  std::string url;                // "https://central:4400/ledger/v1" (no trailing slash)
  std::string origin;             // the checkpoints' origin line (ledger/checkpoint.h)
  crypto::PublicKey public_key;   // ECDSA P-256
};

// What a certificate fingerprint names.
struct CertificateOwner {
  enum class Kind { kGatewayAuthentication, kMemberSigning } kind;
  std::string owner;  // gateway id or member id
  crypto::Certificate certificate;
};

class GlobalConf {
 public:
  // Parses and validates the whole document; errors name the JSON path
  // ("services[2].id: ...").
  static Result<std::shared_ptr<const GlobalConf>> Parse(std::string_view json);
  static Result<std::shared_ptr<const GlobalConf>> LoadFile(const std::string& path);

  const std::string& instance() const { return instance_; }
  int64_t version() const { return version_; }
  SystemTime issued_at() const { return issued_at_; }
  SystemTime expires_at() const { return expires_at_; }
  bool IsExpired(SystemTime now) const { return now >= expires_at_; }
  const Settings& settings() const { return settings_; }

  const std::vector<Member>& members() const { return members_; }
  const std::vector<Subsystem>& subsystems() const { return subsystems_; }
  const std::vector<Gateway>& gateways() const { return gateways_; }
  const std::vector<Service>& services() const { return services_; }
  const std::vector<GlobalGroup>& global_groups() const { return global_groups_; }
  const std::vector<Grant>& grants() const { return grants_; }
  const crypto::TrustStore& trust() const { return *trust_; }
  const std::vector<crypto::Certificate>& trusted_cas() const { return trusted_cas_; }
  // RFC 3161 timestamping authorities whose tokens gateways accept (possibly none).
  const std::vector<crypto::Certificate>& timestamping_certificates() const {
    return timestamping_certificates_;
  }
  // The central ledger, when the document names one.
  const std::optional<LedgerInfo>& ledger() const { return ledger_; }

  const Member* FindMember(const ClientId& member) const;
  const Subsystem* FindSubsystem(const ClientId& subsystem) const;
  const Gateway* FindGateway(const GatewayId& id) const;
  const Service* FindService(const ServiceId& id) const;
  const GlobalGroup* FindGlobalGroup(std::string_view code) const;
  // Codes of the global groups `client` is a member of, sorted.
  std::vector<std::string> GroupsOf(const ClientId& client) const;
  // Gateways that serve `client`, in document order.
  std::vector<const Gateway*> GatewaysServing(const ClientId& client) const;
  // The grants that let `client` call `service`: those naming the client, then those
  // naming a global group it is a member of, each in document order. Nothing is
  // inherited between a member and its subsystems.
  std::vector<const Grant*> GrantsFor(const ClientId& client, const ServiceId& service) const;
  bool IsRevoked(const std::string& sha256_fingerprint) const;
  const CertificateOwner* OwnerOf(const std::string& sha256_fingerprint) const;
  // Whether `client` is a registered member, or a subsystem of one.
  bool IsKnownClient(const ClientId& client) const;

  // The document's JSON text as parsed (for writing the last good copy to disk).
  const std::string& source() const { return source_; }

 private:
  GlobalConf() = default;

  std::string source_;
  std::string instance_;
  int64_t version_ = 0;
  SystemTime issued_at_{};
  SystemTime expires_at_{};
  Settings settings_;
  std::vector<Member> members_;
  std::vector<Subsystem> subsystems_;
  std::vector<Gateway> gateways_;
  std::vector<Service> services_;
  std::vector<GlobalGroup> global_groups_;
  std::vector<Grant> grants_;
  std::vector<crypto::Certificate> trusted_cas_;
  std::vector<crypto::Certificate> timestamping_certificates_;
  std::optional<LedgerInfo> ledger_;
  std::optional<crypto::TrustStore> trust_;
  std::vector<std::string> revoked_;  // sorted fingerprints
  std::map<std::string, CertificateOwner> cert_owners_;
  std::map<std::string, size_t, std::less<>> member_index_, subsystem_index_, gateway_index_,
      service_index_, group_index_;
  // (client, service) for direct grants; (group code, service) for group grants.
  std::multimap<std::pair<std::string, std::string>, size_t> grant_index_, group_grant_index_;
  std::multimap<std::string, std::string> groups_of_;  // subsystem id -> group code
};

}  // namespace troad::globalconf
