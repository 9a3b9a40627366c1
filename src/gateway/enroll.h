// Enrolling a gateway with the central (`troad gateway enroll`, docs/central.md
// "Certificates and enrollment"): the gateway makes its own keys — they never leave it —,
// sends certificate requests with the one-time enrollment code its member's administrator
// created, waits until an operator has approved them, checks what came back and installs
// it next to the keys, with a gateway.toml that follows the central (`anchor =`).
//
// Files in the gateway's directory:
//   anchor.json                 the central's anchor (copied in: gateway.toml names it)
//   auth.key, auth.crt          the authentication key and certificate (peers, mTLS)
//   sign-<CLASS>-<MEMBER>.key/.crt  one signing pair per member the gateway signs for
//   <name>.key.pending          a key whose certificate has not been installed yet
//   enrollment.json             the requests on record while they are pending
//   gateway.toml                written when absent; never overwritten
//
// A run is resumable: it submits only when no requests are on record, and a later run
// (after a crash, a timeout, or `--wait 0`) picks the same requests up again. New keys
// wait under `.pending` names, so a gateway that is re-enrolling (say, after a
// revocation) keeps its installed pair until the new certificates arrive. Installing is
// idempotent: each pending key is renamed into place, then its certificate written
// (both atomically and durably), and the record is removed last.
//
// Every certificate is checked before it is installed: it must carry our key, chain to
// the anchor's CA, be valid now, and name the subject we asked for.
//
// Thread-safety: an Enroller is used by one thread.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "crypto/csr.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "globalconf/anchor.h"

namespace troad::gateway {

inline constexpr std::string_view kEnrollmentStateFile = "enrollment.json";
inline constexpr std::string_view kEnrolledAnchorFile = "anchor.json";
inline constexpr std::string_view kEnrolledConfigFile = "gateway.toml";
// The central's enrollment endpoints, below the anchor's central_url.
inline constexpr std::string_view kEnrollmentPath = "/api/v1/enrollment";
inline constexpr std::string_view kEnrollmentStatusPath = "/api/v1/enrollment/status";

// "auth" for the authentication pair, "sign-GOV-MOI" for a member's signing pair.
std::string SigningFileStem(const ClientId& member);

// A PEM CSR asking for `owner`'s certificate of `kind` ("authentication": owner is the
// gateway id; "signing": a member id) with the subject the central issues
// (CertificateAuthority::SubjectFor, central/ca_service.h): C = `ca`'s country (TW when it
// has none), serialNumber = the member id, CN = the owner. Its key is the one in
// `pending_key_file`, made there (EC P-256, mode 0600) when the file does not exist yet:
// a run that was interrupted or rejected asks again for the same key.
Result<std::string> PendingKeyCsr(const std::string& pending_key_file, std::string_view kind,
                                  const GatewayId& gateway, std::string_view owner,
                                  const crypto::Certificate& ca);

// Sends `body` as JSON to the central's `path` (POST; a null `body` sends GET) and returns
// the answer's JSON for a 2xx; otherwise an error with the central's message (its
// {"error":{"code","message"}}), the code following the HTTP status (400
// kInvalidArgument, 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 409
// kFailedPrecondition, ...) and kUnavailable when it cannot be reached. Used for
// enrollment and renewal (gateway/renew.h).
using CentralTransport =
    std::function<Result<nlohmann::json>(std::string_view path, const nlohmann::json& body)>;

// The real transport: https to the anchor's central_url, the central's certificate
// checked against the anchor's CA and host.
Result<CentralTransport> HttpsCentralTransport(const globalconf::Anchor& anchor);

struct EnrollmentPlan {
  std::string dir;
  GatewayId gateway;
  // Members to ask signing certificates for besides the owner (the members whose
  // subsystems the gateway serves); duplicates and the owner are ignored.
  std::vector<ClientId> sign_for;
};

// One certificate being asked for.
struct EnrollmentItem {
  std::string kind;   // "authentication" | "signing"
  std::string owner;  // the gateway id | the member id
  std::string stem;   // file names: <stem>.key, <stem>.crt
  int64_t request_id = 0;
  std::string status;  // "pending" | "approved" | "rejected" | "installed" (this side)
  std::string reason;  // the operator's, for a rejection
};

struct EnrollmentProgress {
  std::vector<EnrollmentItem> items;
  bool installed = false;  // every certificate is in place; the record is gone
  bool rejected = false;   // at least one was rejected: the record is gone, run again
};

class Enroller {
 public:
  // Validates the plan against the anchor, creates `plan.dir` (0700) and copies the
  // anchor into it (refusing a different anchor already there), and reads the record of
  // an earlier run if there is one (it must be for the same gateway and central).
  static Result<Enroller> Open(EnrollmentPlan plan, globalconf::Anchor anchor,
                               std::string anchor_text, CentralTransport transport,
                               const Clock& clock);

  // True when an earlier run's requests are on record (Submit would not send again).
  bool HasPendingRequests() const { return !record_.empty(); }
  const std::vector<EnrollmentItem>& items() const { return record_; }

  // True when the requests on record were sent with another enrollment code (say, the
  // first expired and the administrator made a new one): the central reports on them
  // only to the code they came with, so they must be sent again with this one.
  bool RecordedWithAnotherCode(std::string_view code) const;
  // Forgets the requests on record; the pending keys stay and the next Submit reuses them.
  Status Abandon();

  // Makes the pending keys and CSRs and sends them with `code`; records the request
  // ids before returning. kFailedPrecondition when requests are already on record.
  Status Submit(std::string_view code);

  // Asks the central how the recorded requests stand; installs every certificate once
  // all are approved. On a rejection the record is removed (the pending keys stay and
  // are reused by the next Submit) and progress.rejected says so.
  Result<EnrollmentProgress> Check(std::string_view code);

 private:
  Enroller(EnrollmentPlan plan, globalconf::Anchor anchor, CentralTransport transport,
           const Clock& clock)
      : plan_(std::move(plan)),
        anchor_(std::move(anchor)),
        transport_(std::move(transport)),
        clock_(clock) {}

  std::string PathOf(std::string_view name) const;
  Status SaveRecord() const;
  Status RemoveRecord() const;
  Status Install(EnrollmentItem& item, const std::string& certificate_pem);

  EnrollmentPlan plan_;
  globalconf::Anchor anchor_;
  CentralTransport transport_;
  const Clock& clock_;
  std::vector<EnrollmentItem> record_;
  std::string record_code_sha256_;  // hex SHA-256 of the code record_ was sent with
};

// Options for a gateway.toml written after enrollment.
struct StarterConfig {
  std::vector<ClientId> clients;  // [[client]] entries, connection "http"
  std::string consumer_listen = "127.0.0.1:8080";
  std::string provider_listen = "0.0.0.0:8443";
  std::string admin_listen = "127.0.0.1:4000";
  // [timestamping] authorities: the central's own (central URL + "/tsa"), if known.
  std::vector<std::string> timestamping_authorities = {};
};

// Writes <dir>/gateway.toml for an enrolled gateway — `anchor = "anchor.json"`, the
// installed pairs, the listeners and clients, and commented examples for services —
// unless one exists. Returns true when it wrote one. The file is checked by loading it
// as the gateway will.
Result<bool> WriteStarterConfig(const std::string& dir, const GatewayId& gateway,
                                const std::vector<ClientId>& signing_members,
                                const StarterConfig& starter);

// Checks a certificate the central issued before it is installed: it carries `key`'s
// public key, chains to `ca` and is valid at `now`, and its CN is `expected_cn`.
// kUnauthenticated says which of these fails; kInvalidArgument for PEM that is no
// certificate.
Result<crypto::Certificate> CheckIssuedCertificate(std::string_view pem,
                                                   const crypto::PrivateKey& key,
                                                   const crypto::Certificate& ca,
                                                   std::string_view expected_cn, SystemTime now);

// The members a gateway signs for: its owner first, then `sign_for` without repeats.
std::vector<ClientId> SigningMembers(const GatewayId& gateway,
                                     const std::vector<ClientId>& sign_for);

}  // namespace troad::gateway
