// `troad verify-log`: checks a gateway's message log against its timestamped batches,
// and its archive files offline (gateway/verify_log.h). Exit status 0 when every batch
// and archive verifies, 1 naming the first bad entry or file, 2 for bad options or a
// log (or archive directory) that cannot be read.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/progress.h"
#include "core/clock.h"
#include "core/file.h"
#include "gateway/config.h"
#include "gateway/verify_log.h"
#include "globalconf/anchor.h"
#include "globalconf/fetcher.h"
#include "globalconf/model.h"

namespace troad::cli {
namespace {

int Usage(const std::string& message) {
  std::fprintf(stderr, "troad verify-log: %s\n", message.c_str());
  return 2;
}

// The timestamping authorities the gateway's global configuration trusts: its local
// file (`troad init` networks) or the signed copy it cached from the central.
Result<std::vector<crypto::Certificate>> TrustedAuthorities(const gateway::GatewayConfig& config) {
  if (!config.globalconf_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(auto conf, globalconf::GlobalConf::LoadFile(config.globalconf_file));
    return conf->timestamping_certificates();
  }
  TROAD_ASSIGN_OR_RETURN(auto anchor, globalconf::LoadAnchorFile(config.anchor_file));
  TROAD_ASSIGN_OR_RETURN(auto fetcher,
                         globalconf::Fetcher::Create(std::move(anchor), config.GlobalConfCacheDir(),
                                                     SystemClock::Get()));
  TROAD_ASSIGN_OR_RETURN(auto cached, fetcher->LoadCached());
  return cached.conf->timestamping_certificates();
}

}  // namespace

int RunVerifyLog(const VerifyLogOptions& options) {
  if (options.config_file.empty() == options.log_file.empty()) {
    return Usage("give either --config gateway.toml or --log messagelog.db");
  }
  gateway::VerifyLogOptions verify;
  std::string log_file = options.log_file;
  verify.archive_dir = options.archive_dir;
  if (!options.config_file.empty()) {
    auto config = gateway::GatewayConfig::Load(options.config_file);
    if (!config) return Usage(config.error().message());
    log_file = config->data_dir + "/messagelog.db";
    if (verify.archive_dir.empty()) verify.archive_dir = config->retention.archive_dir;
    if (options.tsa_certificate_files.empty()) {
      auto trusted = TrustedAuthorities(*config);
      if (!trusted) {
        return Usage("cannot read the timestamping authorities of the global configuration: " +
                     trusted.error().message() + " (or name them with --tsa-certificate)");
      }
      verify.tsa_certificates = std::move(*trusted);
    }
  }
  for (const std::string& file : options.tsa_certificate_files) {
    auto cert = crypto::Certificate::LoadPemFile(file);
    if (!cert) return Usage(cert.error().message());
    verify.tsa_certificates.push_back(std::move(*cert));
  }
  if (verify.tsa_certificates.empty()) {
    return Usage(
        "no timestamping authority is trusted: the global configuration lists none; "
        "name one with --tsa-certificate");
  }
  if (!std::filesystem::exists(log_file)) return Usage(log_file + ": no such message log");
  if (!options.archive_dir.empty() && !std::filesystem::is_directory(options.archive_dir)) {
    return Usage(options.archive_dir + ": no such directory");
  }

  ProgressBar bar("records");
  verify.progress = [&bar](int64_t done, int64_t total) { bar.Update(done, total); };
  auto report = gateway::VerifyMessageLog(log_file, verify);
  bar.Finish();
  if (!report) return Usage(log_file + ": " + report.error().message());
  std::printf("%s: %lld records, %lld in %lld timestamped batches", log_file.c_str(),
              static_cast<long long>(report->records), static_cast<long long>(report->stamped),
              static_cast<long long>(report->batches));
  if (report->unstamped > 0) {
    std::printf(", %lld not timestamped yet (oldest from %s)",
                static_cast<long long>(report->unstamped),
                FormatRfc3339(FromUnixMillis(report->oldest_unstamped_ms)).c_str());
  }
  std::printf("\n");
  if (report->archives_checked && report->archive_files > 0) {
    std::printf(
        "%s: %lld archive files, records 1..%lld, one hash chain up to the head the log "
        "records\n",
        verify.archive_dir.c_str(), static_cast<long long>(report->archive_files),
        static_cast<long long>(report->head_last_seq));
  } else if (!report->archives_checked && report->head_files > 0 && report->problem.empty()) {
    std::printf("archives not checked: %lld files hold records 1..%lld (give --archive-dir)\n",
                static_cast<long long>(report->head_files),
                static_cast<long long>(report->head_last_seq));
  }
  if (!report->pending_archive.empty()) {
    std::printf(
        "%s: written, its records not yet removed from the log (an interrupted pass; "
        "the gateway finishes it)\n",
        report->pending_archive.c_str());
  }
  if (!report->problem.empty()) {
    std::printf("FAILED: %s\n", report->problem.c_str());
    return 1;
  }
  std::fputs(report->archives_checked && report->head_files > 0
                 ? "OK: every archive and every batch verifies\n"
                 : "OK: every batch verifies\n",
             stdout);
  return 0;
}

}  // namespace troad::cli
