#include "central/schema.h"

#include "central/admin.h"

namespace troad::central {
namespace {

// Registry, access applications, certificates, enrollment and published
// configurations. `registry_revision` (one row) counts every change the global
// configuration reflects: the publisher republishes when it moved.
constexpr std::string_view kRegistrySql = R"sql(
CREATE TABLE members (
  id TEXT PRIMARY KEY,
  member_class TEXT NOT NULL,
  member_code TEXT NOT NULL,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE subsystems (
  id TEXT PRIMARY KEY,
  member TEXT NOT NULL REFERENCES members(id),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE gateways (
  id TEXT PRIMARY KEY,
  member TEXT NOT NULL REFERENCES members(id),
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE gateway_clients (
  gateway TEXT NOT NULL REFERENCES gateways(id),
  subsystem TEXT NOT NULL REFERENCES subsystems(id),
  PRIMARY KEY (gateway, subsystem)
);
CREATE TABLE services (
  id TEXT PRIMARY KEY,
  subsystem TEXT NOT NULL REFERENCES subsystems(id),
  type TEXT NOT NULL,
  description TEXT NOT NULL,
  openapi TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  disabled_notice TEXT NOT NULL,
  endpoints TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  client TEXT NOT NULL REFERENCES subsystems(id),
  service TEXT NOT NULL REFERENCES services(id),
  rules TEXT NOT NULL,
  purpose TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
  applied_by TEXT NOT NULL,
  applied_at INTEGER NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  decision_reason TEXT,
  withdrawn_by TEXT,
  withdrawn_at INTEGER,
  withdrawal_reason TEXT
);
CREATE INDEX applications_client ON applications (client);
CREATE INDEX applications_service ON applications (service);
CREATE TABLE certificates (
  fingerprint TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('authentication', 'signing')),
  owner TEXT NOT NULL,
  pem TEXT NOT NULL,
  serial TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  request_id INTEGER,
  revoked_at INTEGER,
  revoked_by TEXT,
  revocation_reason TEXT
);
CREATE INDEX certificates_owner ON certificates (owner);
CREATE TABLE certificate_requests (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('authentication', 'signing')),
  owner TEXT NOT NULL,
  csr_pem TEXT NOT NULL,
  subject TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  submitted_at INTEGER NOT NULL,
  submitted_by TEXT NOT NULL,
  submitted_from TEXT NOT NULL,
  enrollment_id INTEGER,
  decided_by TEXT,
  decided_at INTEGER,
  decision_reason TEXT,
  certificate TEXT
);
CREATE TABLE enrollments (
  id INTEGER PRIMARY KEY,
  gateway TEXT NOT NULL REFERENCES gateways(id),
  code_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE published_configurations (
  version INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  document TEXT NOT NULL,
  signature TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  registry_revision INTEGER NOT NULL
);
CREATE TABLE registry_revision (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 1);
)sql";

// Global groups (named sets of subsystems kept by the operator) and the grants
// providers make to them. A group grant is its own table rather than an application
// whose client is the group: an application is a two-party flow (the client applies,
// the provider decides) whose `client` references subsystems, and every reader of it
// — the scoped listings, the withdrawal rights of the applicant — assumes a
// subsystem there. A group grant is one party's decision, kept with who, when and
// why, and withdrawn the same way. `group_grants.group_code` has no foreign key on
// purpose: the history of withdrawn grants outlives a deleted group (a group with a
// grant still in force cannot be deleted; Registry::DeleteGroup).
constexpr std::string_view kGlobalGroupsSql = R"sql(
CREATE TABLE global_groups (
  code TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  description_en TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE global_group_members (
  group_code TEXT NOT NULL REFERENCES global_groups(code),
  subsystem TEXT NOT NULL REFERENCES subsystems(id),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (group_code, subsystem)
);
CREATE INDEX global_group_members_subsystem ON global_group_members (subsystem);
CREATE TABLE group_grants (
  id INTEGER PRIMARY KEY,
  group_code TEXT NOT NULL,
  service TEXT NOT NULL REFERENCES services(id),
  rules TEXT NOT NULL,
  reason TEXT NOT NULL,
  granted_by TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  withdrawn_by TEXT,
  withdrawn_at INTEGER,
  withdrawal_reason TEXT
);
CREATE INDEX group_grants_group ON group_grants (group_code);
CREATE INDEX group_grants_service ON group_grants (service);
)sql";

// Renewals (CertificateAuthority::Renew): the certificate a renewal request was signed
// with, by fingerprint; NULL for requests made with an enrollment code. The status
// query must be made with the same certificate, and a renewal whose certificate has
// been revoked since is not approved.
constexpr std::string_view kRenewalSql = R"sql(
ALTER TABLE certificate_requests ADD COLUMN renewal_of TEXT;
CREATE INDEX certificate_requests_owner ON certificate_requests (owner, kind, status);
)sql";

constexpr store::Migration kMigrations[] = {
    {1, "create registry", kRegistrySql},
    {2, "create administrators, sessions and audit log", kAdminSchemaSql},
    {3, "create global groups and group grants", kGlobalGroupsSql},
    {4, "record which certificate a renewal was signed with", kRenewalSql},
};

}  // namespace

std::span<const store::Migration> CentralMigrations() { return kMigrations; }

}  // namespace troad::central
