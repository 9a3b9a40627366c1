// The central's registry: members, subsystems, gateways, services, access applications
// (and the grants their approvals make), global groups and the grants providers make
// to them, and the certificates the CA issued. Every
// write validates its input and says what was wrong; every write that the global
// configuration reflects advances the registry revision, so the publisher knows to
// publish again. Who may do what is decided by the API layer (central/api.h); the
// registry records who did it.
//
// Thread-safety: none; one Registry per database connection, used from one thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "crypto/x509.h"
#include "globalconf/document.h"
#include "store/database.h"

namespace troad::central {

struct MemberInfo {
  ClientId id;          // "TW/GOV/MOI"
  std::string name;     // zh-TW, required
  std::string name_en;  // may be empty
  SystemTime created_at{};
};

struct SubsystemInfo {
  ClientId id;  // "TW/GOV/MOI/household"
  std::string name;
  SystemTime created_at{};
};

struct GatewayInfo {
  GatewayId id;  // "TW/GOV/MOI/moi-gw"
  std::string host;
  uint16_t port = 0;
  std::vector<ClientId> clients;  // subsystems it serves
  SystemTime created_at{};
};

struct ServiceInfo {
  ServiceId id;
  std::string type = "REST";  // REST or OPENAPI
  std::string description;    // what the backend does, for applicants
  std::string openapi;        // the OpenAPI document (JSON text) or empty
  bool enabled = true;
  std::string disabled_notice;
  std::vector<globalconf::Endpoint> endpoints;
  SystemTime created_at{};
  SystemTime updated_at{};
};

enum class ApplicationStatus { kPending, kApproved, kRejected, kWithdrawn };
std::string_view ApplicationStatusName(ApplicationStatus s);  // "pending", …

struct Application {
  int64_t id = 0;
  ClientId client;  // the applying subsystem
  ServiceId service;
  std::vector<globalconf::Endpoint> rules;  // empty: the whole service
  std::string purpose;
  ApplicationStatus status = ApplicationStatus::kPending;
  std::string applied_by;
  SystemTime applied_at{};
  std::string decided_by;
  std::optional<SystemTime> decided_at;
  std::string decision_reason;
  std::string withdrawn_by;
  std::optional<SystemTime> withdrawn_at;
  std::string withdrawal_reason;
};

// A global group: a named set of subsystems kept by the central operator.
struct GlobalGroupInfo {
  std::string code;               // an identifier part (ValidateIdPart), unique
  std::string description;        // zh-TW, required
  std::string description_en;     // may be empty
  std::vector<ClientId> members;  // subsystems, sorted by id
  SystemTime created_at{};
  SystemTime updated_at{};
};

// A provider's grant of a service (or `rules` of it) to every member of a group, in
// force until withdrawn.
struct GroupGrant {
  int64_t id = 0;
  std::string group;  // the group's code
  ServiceId service;
  std::vector<globalconf::Endpoint> rules;  // empty: the whole service
  std::string reason;
  std::string granted_by;
  SystemTime granted_at{};
  std::string withdrawn_by;
  std::optional<SystemTime> withdrawn_at;
  std::string withdrawal_reason;

  bool in_force() const { return !withdrawn_at.has_value(); }
};

enum class CertKind { kAuthentication, kSigning };
std::string_view CertKindName(CertKind k);  // "authentication", "signing"
Result<CertKind> ParseCertKind(std::string_view name);

struct CertificateInfo {
  std::string fingerprint;  // lower-case hex SHA-256 of the DER
  CertKind kind = CertKind::kAuthentication;
  std::string owner;  // gateway id (authentication) or member id (signing)
  crypto::Certificate certificate;
  SystemTime issued_at{};
  std::optional<int64_t> request_id;
  std::optional<SystemTime> revoked_at;
  std::string revoked_by;
  std::string revocation_reason;
};

// Which records a listing returns: everything, or what concerns one member (its own
// subsystems, gateways and services; applications it made or must decide).
struct Scope {
  std::string member;  // "" for everything

  // SQL condition (and its parameters, appended to `params`) that `column` is the
  // member's id or an id under it ("TW/GOV/MOI" or "TW/GOV/MOI/…"), compared exactly:
  // not LIKE, whose '_' and case folding would let "TW/GOV/M_I" see MOI's records.
  std::string Matches(std::string_view column, std::vector<store::Value>& params) const;
};

class Registry {
 public:
  // `instance` is the network's instance code ("TW"); identifiers of others are refused.
  Registry(store::Database& db, const Clock& clock, std::string instance);

  // kInvalidArgument for a malformed record; kAlreadyExists for a duplicate;
  // kNotFound when what it refers to (a member, a subsystem) is not registered.
  Status AddMember(const MemberInfo& member);
  Result<std::vector<MemberInfo>> Members(const Scope& scope = {});
  Result<MemberInfo> GetMember(const ClientId& id);

  Status AddSubsystem(const SubsystemInfo& subsystem);
  Result<std::vector<SubsystemInfo>> Subsystems(const Scope& scope = {});

  Status AddGateway(const GatewayInfo& gateway);
  // Replaces address and clients (the gateway keeps its certificates).
  Status UpdateGateway(const GatewayInfo& gateway);
  Result<std::vector<GatewayInfo>> Gateways(const Scope& scope = {});
  Result<GatewayInfo> GetGateway(const GatewayId& id);

  Status AddService(const ServiceInfo& service);
  // Replaces everything but id and created_at.
  Status UpdateService(const ServiceInfo& service);
  Result<std::vector<ServiceInfo>> Services(const Scope& scope = {});
  Result<ServiceInfo> GetService(const ServiceId& id);

  // A subsystem applies for a service (or for `rules` of it). kAlreadyExists when the
  // same subsystem already has a pending application for the service.
  Result<int64_t> Apply(const ClientId& client, const ServiceId& service,
                        const std::vector<globalconf::Endpoint>& rules, std::string_view purpose,
                        std::string_view actor);
  // The provider decides a pending application; a rejection needs a reason.
  // kFailedPrecondition when it is not pending.
  Status Decide(int64_t id, bool approve, std::string_view reason, std::string_view actor);
  // Withdraws a pending application or an approved grant; needs a reason.
  Status Withdraw(int64_t id, std::string_view reason, std::string_view actor);
  Result<Application> GetApplication(int64_t id);
  // Scope: applications whose client or service belongs to the member.
  Result<std::vector<Application>> Applications(const Scope& scope = {});

  // Global groups. A new group may come with members. kInvalidArgument for a bad code
  // or description, or a member that is not a subsystem; kAlreadyExists for a code in
  // use; kNotFound for an unknown subsystem.
  Status AddGroup(const GlobalGroupInfo& group);
  // Replaces the descriptions (members are changed with Add/RemoveGroupMembers).
  Status UpdateGroup(const GlobalGroupInfo& group);
  // Deletes a group and its memberships. kFailedPrecondition while a grant to it is in
  // force (withdraw those first: deleting must not silently take access away).
  Status DeleteGroup(std::string_view code);
  // All or nothing: kAlreadyExists when one is a member already, kNotFound (remove)
  // when one is not a member.
  Status AddGroupMembers(std::string_view code, const std::vector<ClientId>& members);
  Status RemoveGroupMembers(std::string_view code, const std::vector<ClientId>& members);
  Result<std::vector<GlobalGroupInfo>> Groups();
  Result<GlobalGroupInfo> GetGroup(std::string_view code);

  // The provider grants `service` (or `rules` of it) to every member of group `code`,
  // with a reason. kAlreadyExists when the same grant is already in force.
  Result<int64_t> GrantToGroup(std::string_view code, const ServiceId& service,
                               const std::vector<globalconf::Endpoint>& rules,
                               std::string_view reason, std::string_view actor);
  // Withdraws a grant in force; needs a reason. kFailedPrecondition when already withdrawn.
  Status WithdrawGroupGrant(int64_t id, std::string_view reason, std::string_view actor);
  Result<GroupGrant> GetGroupGrant(int64_t id);
  // Scope: grants of the member's services, and grants to groups one of its subsystems
  // is a member of.
  Result<std::vector<GroupGrant>> GroupGrants(const Scope& scope = {});

  // Records a certificate the CA issued. kInvalidArgument when the owner does not
  // exist or is of the wrong kind.
  Status AddCertificate(CertKind kind, std::string_view owner, const crypto::Certificate& cert,
                        std::optional<int64_t> request_id);
  // kNotFound for an unknown fingerprint, kFailedPrecondition if already revoked.
  Status Revoke(std::string_view fingerprint, std::string_view reason, std::string_view actor);
  // In the order they were issued.
  Result<std::vector<CertificateInfo>> Certificates(const Scope& scope = {});
  Result<CertificateInfo> GetCertificate(std::string_view fingerprint);

  // Counts changes that the global configuration reflects.
  Result<int64_t> Revision();
  Status Touch();  // advances the revision

  // The registry's part of the global configuration: members with every current
  // signing certificate (newest first), subsystems, gateways that hold a current
  // authentication certificate (the oldest current one as auth_certificate, the others
  // oldest first in additional_auth_certificates, at most
  // globalconf::kMaxAdditionalAuthCertificates of the newest), services, global groups, approved
  // grants and group grants in force, and the fingerprints of revoked certificates that have not
  // yet expired. Instance, version, times, settings and trusted CAs are the publisher's.
  Result<globalconf::Document> Snapshot();

  const std::string& instance() const { return instance_; }

 private:
  Status CheckInstance(const ClientId& id, std::string_view what) const;
  Result<bool> Exists(std::string_view sql, const std::string& key);
  Status AddGatewayClients(const GatewayInfo& g);  // inside the caller's transaction
  Status CheckGroupFields(const GlobalGroupInfo& g) const;
  Status InsertGroupMembers(std::string_view code, const std::vector<ClientId>& members);

  store::Database& db_;
  const Clock& clock_;
  std::string instance_;
};

}  // namespace troad::central
