// The central's RFC 3161 timestamping authority over HTTP (RFC 3161 §3.4): `POST /tsa`
// with Content-Type application/timestamp-query and a DER TimeStampReq; the answer is
// a DER TimeStampResp as application/timestamp-reply. Gateways timestamp the Merkle
// roots of their record batches here (gateway/timestamper.h); any RFC 3161 client
// works too (`openssl ts -query … | curl --data-binary @- -H 'Content-Type:
// application/timestamp-query' …`).
//
// Serial numbers never repeat, across restarts too: blocks of them are reserved in
// `<data_dir>/tsa-serial` (written durably before any serial of a block is used), so a
// crash skips at most the rest of a block.
//
// Thread-safety: Handle may be called from several threads.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/timestamp.h"
#include "http/types.h"

namespace troad::central {

struct TsaOptions {
  std::string certificate_file;  // [tsa] certificate; empty = no timestamping authority
  std::string key_file;          // [tsa] key
  std::string policy = std::string(crypto::kDefaultTimestampPolicy);
  uint32_t accuracy_ms = 1000;
};

class TsaService {
 public:
  // Loads the pair (the certificate must be a timestamping certificate of that key)
  // and reserves the first block of serial numbers in `serial_file`.
  static Result<std::unique_ptr<TsaService>> Create(const TsaOptions& options,
                                                    const std::string& serial_file,
                                                    const Clock& clock);

  // Answers one request (any method/target checks are the caller's routing; this
  // checks method, Content-Type and body). Refusals of the HTTP request itself are
  // 4xx with a plain-text reason; a malformed TimeStampReq gets a rejection
  // TimeStampResp (HTTP 200), as RFC 3161 asks.
  http::Response Handle(const http::Request& req);

  const crypto::Certificate& certificate() const { return tsa_->certificate(); }
  uint64_t tokens_issued() const;
  uint64_t requests_rejected() const;

  static constexpr uint64_t kSerialBlock = 1'000'000;

 private:
  TsaService(std::unique_ptr<crypto::TimestampAuthority> tsa, std::string serial_file,
             uint64_t reserved)
      : tsa_(std::move(tsa)), serial_file_(std::move(serial_file)), reserved_(reserved) {}
  // Makes sure serials up to at least `serial` are reserved on disk.
  Status Reserve(uint64_t serial);

  std::unique_ptr<crypto::TimestampAuthority> tsa_;
  const std::string serial_file_;
  mutable std::mutex mu_;
  uint64_t reserved_;      // guarded by mu_: serials up to this one may be used
  uint64_t issued_ = 0;    // guarded by mu_
  uint64_t rejected_ = 0;  // guarded by mu_
};

}  // namespace troad::central
