// Renewing a gateway's certificates before they expire (`troad gateway renew`,
// docs/central.md "Renewal"): for each pair in gateway.toml — the authentication pair and
// every signing pair — a new key is made, its CSR is signed with the CURRENT key (that is
// the proof; no enrollment code), and the central issues the new certificate at once or
// after an operator's review. The central then publishes old and new certificates side by
// side (docs/protocol.md §8), so peers accept either.
//
// Switching without refused exchanges: the new pairs are installed only once the central's
// published document lists every new certificate and peers have had time to fetch it
// (WaitUntilPublished), then the gateway picks them up (a restart, or SIGHUP when it
// reloads keys). Until installed, new keys wait as "<key file>.pending" and new
// certificates as "<certificate file>.pending", and the requests sent are on record in
// <data_dir>/renewal.json, so an interrupted run is picked up by the next one.
//
// Thread-safety: a Renewer is used by one thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "gateway/config.h"
#include "gateway/enroll.h"
#include "globalconf/anchor.h"

namespace troad::gateway {

// What a renewal's signatures sign (the central's kRenewalSignaturePrefix and
// kRenewalStatusSignaturePrefix, central/ca_service.h): these bytes, then the new CSR's
// DER, or the request id in decimal.
inline constexpr std::string_view kRenewalSignaturePrefix = "troad-renewal/1\n";
inline constexpr std::string_view kRenewalStatusSignaturePrefix = "troad-renewal-status/1\n";
inline constexpr std::string_view kRenewalPath = "/api/v1/renewal";
inline constexpr std::string_view kRenewalStatusPath = "/api/v1/renewal/status";
inline constexpr std::string_view kRenewalRecordFile = "renewal.json";

struct RenewalItem {
  std::string kind;                        // "authentication" | "signing"
  std::string owner;                       // the gateway id | the member id
  std::string certificate_file, key_file;  // from gateway.toml (absolute)
  std::string current_sha256;              // the certificate the request is signed with
  SystemTime current_not_after{};
  int64_t request_id = 0;  // 0: not sent
  std::string status;      // "due", "pending", "approved", "rejected", "installed"
  std::string reason;      // the operator's, for a rejection
  std::string new_sha256;  // once issued
};

struct RenewalProgress {
  std::vector<RenewalItem> items;
  bool approved = false;  // every request approved; new certificates saved as .pending
  bool rejected = false;  // a request was rejected: the record is gone
};

class Renewer {
 public:
  // Reads the pairs gateway.toml names and the record of an earlier run, if any.
  static Result<Renewer> Open(const GatewayConfig& config, globalconf::Anchor anchor,
                              CentralTransport transport, const Clock& clock);

  const std::vector<RenewalItem>& items() const { return items_; }
  bool HasRequestsOnRecord() const;

  // Sends requests for the pairs whose certificate expires within `within` (all when
  // `force`); returns how many were sent (0: nothing due). kFailedPrecondition when
  // requests are already on record.
  Result<size_t> Submit(std::chrono::hours within, bool force);

  // Asks the central how the recorded requests stand; once all are approved, checks each
  // new certificate (our new key, the anchor's CA, the subject) and saves it as
  // "<certificate file>.pending". A rejection removes the record (the pending keys stay).
  Result<RenewalProgress> Check();

  // Whether the central's current document lists every new certificate; *refresh_s is
  // its refresh interval (how long peers may take to see it).
  Result<bool> Published(int64_t* refresh_s);

  // Moves every pending pair into place (key first, then certificate, each atomically),
  // then removes the record. Idempotent after an interruption.
  Status Install();

 private:
  Renewer(GatewayConfig config, globalconf::Anchor anchor, CentralTransport transport,
          const Clock& clock)
      : config_(std::move(config)),
        anchor_(std::move(anchor)),
        transport_(std::move(transport)),
        clock_(clock) {}
  std::string RecordPath() const;
  Status SaveRecord() const;
  Status RemoveRecord() const;
  Result<std::string> Sign(const RenewalItem& item, std::string_view data) const;

  GatewayConfig config_;
  globalconf::Anchor anchor_;
  CentralTransport transport_;
  const Clock& clock_;
  std::vector<RenewalItem> items_;
};

}  // namespace troad::gateway
