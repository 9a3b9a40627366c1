// `troad verify-ledger`: checks the central transparency ledger (docs/protocol.md §12)
// in one of three ways — this gateway's records are in it (gateway/verify_ledger.h),
// one signed tree head extends another (the same), or a copy of its database holds
// exactly the log a checkpoint signs (ledger/audit.h, offline). Exit status 0 when all
// holds, 1 naming the first bad record, entry, row or head, 2 for bad options, input
// that cannot be read or a ledger that cannot be reached.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/progress.h"
#include "core/clock.h"
#include "core/file.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "gateway/config.h"
#include "gateway/verify_ledger.h"
#include "globalconf/anchor.h"
#include "globalconf/fetcher.h"
#include "globalconf/model.h"
#include "http/client.h"
#include "http/tls.h"
#include "ledger/audit.h"
#include "ledger/checkpoint.h"

namespace troad::cli {
namespace {

int Usage(const std::string& message) {
  std::fprintf(stderr, "troad verify-ledger: %s\n", message.c_str());
  return 2;
}

// The ledger as this run trusts it: from the gateway's global configuration, each part
// replaceable by an option.
struct Trust {
  std::optional<gateway::GatewayConfig> config;
  std::string url;
  std::optional<crypto::PublicKey> key;
  std::string origin;
  std::optional<crypto::Certificate> ca;  // checks an https:// ledger's certificate
};

// A public key, or the public half of a private key (the central's keys/ledger.key).
Result<crypto::PublicKey> LoadLedgerKey(const std::string& path) {
  TROAD_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  if (auto key = crypto::PublicKey::FromPem(pem)) return *key;
  auto private_key = crypto::PrivateKey::FromPem(pem);
  if (!private_key) {
    return Fail(ErrorCode::kInvalidArgument, "{}: neither a public nor a private key (PEM)", path);
  }
  return private_key->Public();
}

// The gateway's global configuration: its local file (`troad init` networks), or the
// signed copy it cached from the central (with the anchor's CA).
Result<std::pair<std::shared_ptr<const globalconf::GlobalConf>, std::optional<crypto::Certificate>>>
LoadGlobalConf(const gateway::GatewayConfig& config) {
  if (!config.globalconf_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(auto conf, globalconf::GlobalConf::LoadFile(config.globalconf_file));
    return std::pair(std::move(conf), std::optional<crypto::Certificate>());
  }
  TROAD_ASSIGN_OR_RETURN(auto anchor, globalconf::LoadAnchorFile(config.anchor_file));
  std::optional<crypto::Certificate> ca = anchor.ca_certificate;
  TROAD_ASSIGN_OR_RETURN(auto fetcher,
                         globalconf::Fetcher::Create(std::move(anchor), config.GlobalConfCacheDir(),
                                                     SystemClock::Get()));
  TROAD_ASSIGN_OR_RETURN(auto cached, fetcher->LoadCached());
  return std::pair(std::move(cached.conf), std::move(ca));
}

Result<Trust> LoadTrust(const VerifyLedgerOptions& options) {
  Trust trust;
  if (!options.config_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(trust.config, gateway::GatewayConfig::Load(options.config_file));
    auto conf = LoadGlobalConf(*trust.config);
    if (!conf) {
      return Fail(
          std::move(conf.error())
              .Context("cannot read the gateway's global configuration (the ledger's key)"));
    }
    trust.ca = std::move(conf->second);
    if (const auto& ledger = conf->first->ledger()) {
      trust.url = ledger->url;
      trust.key = ledger->public_key;
      trust.origin = ledger->origin;
    } else if (options.ledger_key_file.empty()) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "the global configuration names no ledger (or give --ledger-url and "
                  "--ledger-key)");
    }
  }
  if (!options.ledger_url.empty()) trust.url = options.ledger_url;
  if (!options.ledger_key_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(trust.key, LoadLedgerKey(options.ledger_key_file));
  }
  if (!options.origin.empty()) trust.origin = options.origin;
  if (!options.ca_certificate_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(trust.ca, crypto::Certificate::LoadPemFile(options.ca_certificate_file));
  }
  if (!trust.key) {
    return Fail(ErrorCode::kInvalidArgument,
                "the ledger's key is needed: give --config gateway.toml or --ledger-key key.pem");
  }
  return trust;
}

Result<std::unique_ptr<gateway::LedgerClient>> ClientFor(const Trust& trust) {
  if (trust.url.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the ledger's URL is needed: give --config gateway.toml or --ledger-url URL");
  }
  TROAD_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseUrl(trust.url));
  std::shared_ptr<http::SslContext> tls;
  if (parsed.endpoint.tls) {
    if (!trust.ca) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{} is https: give --ca-certificate ca.pem (the network CA) to check it",
                  trust.url);
    }
    TROAD_ASSIGN_OR_RETURN(tls, http::MakeClientTlsContextForHost(*trust.ca, parsed.endpoint.host));
  }
  return gateway::LedgerClient::Create(trust.url, std::move(tls));
}

int RunRecords(const VerifyLedgerOptions& options, const Trust& trust) {
  if (!trust.config) return Usage("checking records needs --config gateway.toml");
  const std::string log_file = trust.config->data_dir + "/messagelog.db";
  if (!std::filesystem::exists(log_file)) return Usage(log_file + ": no such message log");
  globalconf::LedgerInfo ledger{trust.url, trust.origin, *trust.key};
  auto client = ClientFor(trust);
  if (!client) return Usage(client.error().message());

  gateway::RecordQuery query;
  std::string selected;  // "" for all records
  if (!options.message_id.empty()) {
    query = {gateway::RecordQuery::By::kMessageId, options.message_id};
    selected = " with message id \"" + options.message_id + "\"";
  } else if (!options.request_id.empty()) {
    query = {gateway::RecordQuery::By::kRequestId, options.request_id};
    selected = " with request id \"" + options.request_id + "\"";
  }
  ProgressBar bar("records");
  std::function<void(int64_t, int64_t)> progress;
  if (options.all) progress = [&bar](int64_t done, int64_t total) { bar.Update(done, total); };
  auto report =
      gateway::VerifyRecordsInLedger(log_file, trust.config->id, ledger, **client, query, progress);
  bar.Finish();
  if (!report) return Usage(report.error().message());

  if (!report->alarm.empty()) {
    std::printf("note: this gateway's ledger shipper has raised its alarm: %s\n",
                report->alarm.c_str());
  }
  if (!report->current_note.empty() && !report->heads_disagree) {
    std::printf("ledger %s: head of %s\n", ledger.url.c_str(),
                gateway::DescribeCheckpoint(report->current).c_str());
  }
  if (!report->problem.empty()) {
    if (report->heads_disagree) {
      std::printf("the head this gateway accepted (ledger_state.checkpoint):\n%s",
                  report->accepted_note.empty() ? "(none)\n" : report->accepted_note.c_str());
      std::printf("the head the ledger serves (%s/checkpoint):\n%s", ledger.url.c_str(),
                  report->current_note.c_str());
    }
    std::printf("FAILED: %s\n", report->problem.c_str());
    return 1;
  }
  if (report->accepted_note.empty()) {
    std::printf("this gateway has not shipped to the ledger yet\n");
  } else {
    std::printf("consistent with the head this gateway accepted (size %llu)\n",
                static_cast<unsigned long long>(report->accepted.size));
  }
  if (query.by != gateway::RecordQuery::By::kAll && report->records == 0) {
    return Usage(log_file + ": no record" + selected);
  }
  std::printf(
      "%s: %lld records%s: %lld in the ledger (inclusion proofs verified), %lld not "
      "shipped yet\n",
      log_file.c_str(), static_cast<long long>(report->records), selected.c_str(),
      static_cast<long long>(report->in_ledger), static_cast<long long>(report->not_shipped));
  std::fputs("OK: every shipped record is in the ledger\n", stdout);
  return 0;
}

int RunConsistency(const VerifyLedgerOptions& options, const Trust& trust) {
  std::string notes[2];
  for (size_t i = 0; i < 2; ++i) {
    const std::string& file = options.consistency[i];
    auto text = ReadFile(file);
    if (!text) return Usage(text.error().message());
    if (auto parsed = ledger::ParseSignedCheckpoint(*text); !parsed) {
      return Usage(file + ": not a signed checkpoint: " + parsed.error().message());
    }
    notes[i] = std::move(*text);
  }
  // Two heads of one size, or an empty old one, need no proof: no ledger is asked.
  std::unique_ptr<gateway::LedgerClient> client;
  if (!trust.url.empty()) {
    auto made = ClientFor(trust);
    if (!made) return Usage(made.error().message());
    client = std::move(*made);
  }
  auto report =
      gateway::VerifyLedgerConsistency(client.get(), *trust.key, trust.origin, notes[0], notes[1]);
  if (!report) {
    if (report.error().code() == ErrorCode::kFailedPrecondition) {
      return Usage(report.error().message() + ": give --ledger-url URL (or --config)");
    }
    return Usage(report.error().message());
  }
  if (!report->problem.empty()) {
    std::printf("%s:\n%s%s:\n%s", options.consistency[0].c_str(), notes[0].c_str(),
                options.consistency[1].c_str(), notes[1].c_str());
    std::printf("FAILED: %s\n", report->problem.c_str());
    return 1;
  }
  std::printf("old (%s): %s\nnew (%s): %s\n", options.consistency[0].c_str(),
              gateway::DescribeCheckpoint(report->old_head).c_str(), options.consistency[1].c_str(),
              gateway::DescribeCheckpoint(report->new_head).c_str());
  if (report->old_head.size == report->new_head.size) {
    std::fputs("OK: both heads sign the same tree\n", stdout);
  } else if (report->old_head.size == 0 || client == nullptr) {
    std::fputs("OK: the new head extends the old, empty one\n", stdout);
  } else {
    std::printf(
        "OK: the new head extends the old one (consistency proof of %zu hashes from %s "
        "verified)\n",
        report->proof_hashes, client->url().c_str());
  }
  return 0;
}

int RunAudit(const VerifyLedgerOptions& options, const Trust& trust) {
  if (options.checkpoint_file.empty()) {
    return Usage("--audit needs --checkpoint NOTE_FILE (a checkpoint the ledger signed)");
  }
  if (!std::filesystem::exists(options.audit_db)) return Usage(options.audit_db + ": no such file");
  auto note = ReadFile(options.checkpoint_file);
  if (!note) return Usage(note.error().message());
  if (auto parsed = ledger::ParseSignedCheckpoint(*note); !parsed) {
    return Usage(options.checkpoint_file +
                 ": not a signed checkpoint: " + parsed.error().message());
  }
  ProgressBar bar("entries");
  ledger::AuditOptions audit;
  audit.origin = trust.origin;
  audit.progress = [&bar](uint64_t done, uint64_t total) {
    bar.Update(static_cast<int64_t>(done), static_cast<int64_t>(total));
  };
  auto report = ledger::AuditLedgerFile(options.audit_db, *note, *trust.key, audit);
  bar.Finish();
  if (!report) return Usage(report.error().message());
  std::printf("%s: %llu entries and %llu stored nodes checked\n", options.audit_db.c_str(),
              static_cast<unsigned long long>(report->entries),
              static_cast<unsigned long long>(report->nodes));
  if (!report->problem.empty()) {
    std::printf("FAILED: %s\n", report->problem.c_str());
    return 1;
  }
  std::printf("checkpoint (%s): %s\n", options.checkpoint_file.c_str(),
              gateway::DescribeCheckpoint(report->checkpoint).c_str());
  if (report->beyond_checkpoint > 0) {
    std::printf(
        "%llu entries beyond the checkpoint's size (appended after it was signed), "
        "checked alike\n",
        static_cast<unsigned long long>(report->beyond_checkpoint));
  }
  std::fputs("OK: every entry and every stored node verifies, and the root is the checkpoint's\n",
             stdout);
  return 0;
}

}  // namespace

int RunVerifyLedger(const VerifyLedgerOptions& options) {
  const int modes = static_cast<int>(!options.message_id.empty()) +
                    static_cast<int>(!options.request_id.empty()) + static_cast<int>(options.all) +
                    static_cast<int>(!options.consistency.empty()) +
                    static_cast<int>(!options.audit_db.empty());
  if (modes != 1) {
    return Usage(
        "give exactly one of --message-id ID, --request-id ID, --all (this gateway's records), "
        "--consistency OLD.note NEW.note, --audit ledger.db");
  }
  if (options.consistency.size() != 0 && options.consistency.size() != 2) {
    return Usage("--consistency takes two checkpoint files: OLD.note NEW.note");
  }
  if (!options.checkpoint_file.empty() && options.audit_db.empty()) {
    return Usage("--checkpoint goes with --audit ledger.db");
  }
  auto trust = LoadTrust(options);
  if (!trust) return Usage(trust.error().message());
  if (!options.audit_db.empty()) return RunAudit(options, *trust);
  if (!options.consistency.empty()) return RunConsistency(options, *trust);
  return RunRecords(options, *trust);
}

}  // namespace troad::cli
