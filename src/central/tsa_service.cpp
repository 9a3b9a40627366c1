#include "central/tsa_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>

#include "core/file.h"

namespace troad::central {

namespace bhttp = boost::beast::http;

namespace {

// The serial file holds one decimal number: the highest serial that may be used.
Result<uint64_t> ReadReserved(const std::string& path) {
  if (!std::filesystem::exists(path)) return uint64_t{0};
  TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Fail(ErrorCode::kDataLoss,
                "{}: not a serial number (\"{}\"); it holds the highest TSA serial reserved — "
                "restore it from a backup, or write a number above every serial issued",
                path, text.substr(0, 40));
  }
  return value;
}

}  // namespace

Result<std::unique_ptr<TsaService>> TsaService::Create(const TsaOptions& options,
                                                       const std::string& serial_file,
                                                       const Clock& clock) {
  TROAD_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::LoadPemFile(options.certificate_file));
  TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::LoadPemFile(options.key_file));
  TROAD_ASSIGN_OR_RETURN(uint64_t reserved, ReadReserved(serial_file));
  crypto::TimestampAuthority::Options tsa_options;
  tsa_options.policy = options.policy;
  tsa_options.accuracy_ms = options.accuracy_ms;
  tsa_options.first_serial = reserved + 1;
  auto tsa =
      crypto::TimestampAuthority::Create(std::move(key), std::move(cert), tsa_options, clock);
  if (!tsa) {
    return Fail(std::move(tsa).error().Context(fmt::format(
        "[tsa] certificate {} and key {}", options.certificate_file, options.key_file)));
  }
  std::unique_ptr<TsaService> service(new TsaService(std::move(*tsa), serial_file, reserved));
  TROAD_RETURN_IF_ERROR(service->Reserve(reserved + 1));
  return service;
}

Status TsaService::Reserve(uint64_t serial) {
  // Create (before the service is shared) and Handle (under mu_) serialise calls.
  if (serial <= reserved_) return Ok();
  const uint64_t next = reserved_ + kSerialBlock;
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(serial_file_, fmt::format("{}\n", next), 0600));
  reserved_ = next;
  return Ok();
}

http::Response TsaService::Handle(const http::Request& req) {
  auto plain = [&req](unsigned status, std::string text) {
    return http::MakeResponse(status, std::move(text) + "\n", "text/plain; charset=utf-8",
                              req.version(), req.keep_alive());
  };
  if (req.method() != bhttp::verb::post) {
    auto res = plain(405, "the timestamping authority takes POST (RFC 3161 §3.4)");
    res.set(bhttp::field::allow, "POST");
    return res;
  }
  const auto ctype = req[bhttp::field::content_type];
  if (std::string_view(ctype.data(), ctype.size())
          .substr(0, crypto::kTimestampQueryContentType.size()) !=
      crypto::kTimestampQueryContentType) {
    return plain(415, fmt::format("Content-Type must be {}", crypto::kTimestampQueryContentType));
  }
  if (req.body().empty()) return plain(400, "empty body: send a DER TimeStampReq");
  if (req.body().size() > 64 * 1024) return plain(413, "a TimeStampReq is at most 64 KiB");

  std::lock_guard lock(mu_);
  // Never sign with a serial that is not reserved on disk.
  if (auto st = Reserve(tsa_->last_serial() + 1); !st) {
    spdlog::error("timestamping authority: cannot reserve serial numbers: {}",
                  st.error().message());
    return plain(503, "the timestamping authority cannot record its serial numbers");
  }
  uint64_t serial = 0;
  auto reply = tsa_->Respond(req.body(), &serial);
  if (!reply) {
    spdlog::error("timestamping authority: {}", reply.error().message());
    return plain(500, "the timestamping authority could not sign");
  }
  if (serial == 0) {
    ++rejected_;
  } else {
    ++issued_;
  }
  return http::MakeResponse(200, std::move(*reply), crypto::kTimestampReplyContentType,
                            req.version(), req.keep_alive());
}

uint64_t TsaService::tokens_issued() const {
  std::lock_guard lock(mu_);
  return issued_;
}

uint64_t TsaService::requests_rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

}  // namespace troad::central
