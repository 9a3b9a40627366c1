// `troad gateway enroll`: joins a central (gateway/enroll.h); `troad gateway renew`:
// renews its certificates (gateway/renew.h). Exit status 0 when the certificates are
// installed (or nothing is due), 3 when requests are still waiting for an operator or
// for publication (`--wait 0`, or the wait ran out: run the same command again), 1 when
// a request was rejected or something failed, 2 for bad options.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "core/file.h"
#include "core/ids.h"
#include "gateway/config.h"
#include "gateway/enroll.h"
#include "gateway/renew.h"
#include "globalconf/anchor.h"

namespace troad::cli {
namespace {

constexpr int kStillPending = 3;

int Fail(const std::string& message, int status = 1) {
  std::fprintf(stderr, "troad gateway enroll: %s\n", message.c_str());
  return status;
}

Result<std::string> ReadCode(const EnrollOptions& options) {
  std::string code;
  if (options.code_file == "-") {
    std::getline(std::cin, code);
  } else if (!options.code_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(options.code_file));
    code = text.substr(0, text.find('\n'));
  } else if (const char* env = std::getenv("TROAD_ENROLLMENT_CODE")) {
    code = env;
  }
  while (!code.empty() && (code.back() == '\r' || code.back() == ' ')) code.pop_back();
  if (code.empty()) {
    return troad::Fail(ErrorCode::kInvalidArgument,
                       "the enrollment code is missing: --code-file FILE, '-' for standard "
                       "input, or TROAD_ENROLLMENT_CODE (your member's administrator creates "
                       "it: troad gateway code)");
  }
  return code;
}

void PrintItems(const std::vector<gateway::EnrollmentItem>& items) {
  for (const auto& item : items) {
    std::printf("  request %-6lld %-15s %-40s %s%s%s\n", static_cast<long long>(item.request_id),
                item.kind.c_str(), item.owner.c_str(), item.status.c_str(),
                item.reason.empty() ? "" : ": ", item.reason.c_str());
  }
}

}  // namespace

int RunGatewayEnroll(const EnrollOptions& options) {
  auto gateway = GatewayId::Parse(options.gateway);
  if (!gateway) return Fail("--gateway: " + gateway.error().message(), 2);
  std::vector<ClientId> sign_for, clients;
  for (const std::string& m : options.sign_for) {
    auto id = ClientId::Parse(m);
    if (!id || id->is_subsystem()) return Fail("--sign-for " + m + ": not a member id", 2);
    sign_for.push_back(*id);
  }
  for (const std::string& c : options.clients) {
    auto id = ClientId::Parse(c);
    if (!id || !id->is_subsystem()) return Fail("--client " + c + ": not a subsystem id", 2);
    clients.push_back(*id);
  }
  auto code = ReadCode(options);
  if (!code) return Fail(code.error().message(), 2);
  auto anchor_text = ReadFile(options.anchor_file);
  if (!anchor_text) return Fail(anchor_text.error().message(), 2);
  auto anchor = globalconf::ParseAnchor(*anchor_text);
  if (!anchor) return Fail(options.anchor_file + ": " + anchor.error().message(), 2);
  auto transport = gateway::HttpsCentralTransport(*anchor);
  if (!transport) return Fail(transport.error().message());
  auto enroller = gateway::Enroller::Open({options.dir, *gateway, sign_for}, *anchor, *anchor_text,
                                          std::move(*transport), SystemClock::Get());
  if (!enroller) return Fail(enroller.error().message());

  if (enroller->RecordedWithAnotherCode(*code)) {
    std::printf(
        "the requests on record were sent with another enrollment code; sending them "
        "again with this one (same keys)\n");
    if (auto st = enroller->Abandon(); !st) return Fail(st.error().message());
  }
  if (enroller->HasPendingRequests()) {
    std::printf("requests sent earlier are on record; checking on them\n");
    PrintItems(enroller->items());
  } else {
    if (auto st = enroller->Submit(*code); !st) return Fail(st.error().message());
    std::printf("sent to %s; an operator of the central reviews them:\n",
                anchor->central_url.c_str());
    PrintItems(enroller->items());
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.wait_s);
  std::vector<gateway::EnrollmentItem> last = enroller->items();  // as just printed
  for (;;) {
    auto progress = enroller->Check(*code);
    if (!progress) return Fail(progress.error().message());
    if (progress->rejected) {
      PrintItems(progress->items);
      return Fail(
          "a request was rejected (reason above); fix what it says and run this command again "
          "with a new code");
    }
    if (progress->installed) {
      PrintItems(progress->items);
      auto written = gateway::WriteStarterConfig(
          options.dir, *gateway, gateway::SigningMembers(*gateway, sign_for),
          {clients, options.consumer_listen, options.provider_listen, options.admin_listen,
           {anchor->central_url + "/tsa"}});
      if (!written) return Fail(written.error().message());
      std::printf("certificates installed in %s\n", options.dir.c_str());
      std::printf(*written ? "wrote %s/gateway.toml; add its [[service]] entries, then:\n"
                           : "kept the existing %s/gateway.toml (check that it names anchor.json, "
                             "auth.crt and the sign-*.crt files), then:\n",
                  options.dir.c_str());
      std::printf("  troad gateway --config %s/gateway.toml\n", options.dir.c_str());
      return 0;
    }
    bool changed = progress->items.size() != last.size();
    for (size_t i = 0; !changed && i < last.size(); ++i) {
      changed = last[i].status != progress->items[i].status;
    }
    if (changed) {
      std::printf("waiting for approval (troad cert approve ID, by an operator):\n");
      PrintItems(progress->items);
      std::fflush(stdout);
      last = progress->items;
    }
    if (std::chrono::steady_clock::now() + std::chrono::seconds(options.poll_s) > deadline) {
      std::printf("still pending; run the same command again to collect the certificates\n");
      return kStillPending;
    }
    std::this_thread::sleep_for(std::chrono::seconds(options.poll_s));
  }
}

namespace {

int RenewFail(const std::string& message, int status = 1) {
  std::fprintf(stderr, "troad gateway renew: %s\n", message.c_str());
  return status;
}

void PrintRenewal(const std::vector<gateway::RenewalItem>& items) {
  for (const auto& item : items) {
    std::printf("  %-15s %-40s request %-6lld %s%s%s\n", item.kind.c_str(), item.owner.c_str(),
                static_cast<long long>(item.request_id), item.status.c_str(),
                item.reason.empty() ? "" : ": ", item.reason.c_str());
  }
}

}  // namespace

int RunGatewayRenew(const RenewOptions& options) {
  auto config = gateway::GatewayConfig::Load(options.config_file);
  if (!config) return RenewFail(config.error().message(), 2);
  if (config->anchor_file.empty()) {
    return RenewFail(options.config_file +
                         ": renewal is done with the central; this gateway has no `anchor =` "
                         "(its certificates come from troad init: make new ones there)",
                     2);
  }
  auto anchor = globalconf::LoadAnchorFile(config->anchor_file);
  if (!anchor) return RenewFail(anchor.error().message(), 2);
  auto transport = gateway::HttpsCentralTransport(*anchor);
  if (!transport) return RenewFail(transport.error().message());
  auto renewer =
      gateway::Renewer::Open(*config, *anchor, std::move(*transport), SystemClock::Get());
  if (!renewer) return RenewFail(renewer.error().message());

  if (renewer->HasRequestsOnRecord()) {
    std::printf("requests sent earlier are on record; checking on them\n");
  } else {
    auto sent = renewer->Submit(std::chrono::hours(24 * options.within_days), options.force);
    if (!sent) return RenewFail(sent.error().message());
    if (*sent == 0) {
      std::printf("nothing to renew: no certificate expires within %d days (--force renews now)\n",
                  options.within_days);
      return 0;
    }
    std::printf("renewal requests sent to %s (signed with the current keys):\n",
                anchor->central_url.c_str());
    PrintRenewal(renewer->items());
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.wait_s);
  auto out_of_time = [&] {
    return std::chrono::steady_clock::now() + std::chrono::seconds(options.poll_s) > deadline;
  };
  bool said_waiting = false;
  for (;;) {
    auto progress = renewer->Check();
    if (!progress) return RenewFail(progress.error().message());
    if (progress->rejected) {
      PrintRenewal(progress->items);
      return RenewFail(
          "a request was rejected (reason above); the current certificates stay in "
          "use; run again to send new requests");
    }
    if (progress->approved) break;
    if (!said_waiting) {
      std::printf("waiting for an operator to approve (troad cert approve ID)\n");
      std::fflush(stdout);
      said_waiting = true;
    }
    if (out_of_time()) {
      std::printf("still pending; run the same command again to continue\n");
      return kStillPending;
    }
    std::this_thread::sleep_for(std::chrono::seconds(options.poll_s));
  }
  std::printf("new certificates issued and checked:\n");
  PrintRenewal(renewer->items());

  // Peers must know the new certificates before this gateway shows them.
  int64_t refresh_s = 60;
  for (;;) {
    auto published = renewer->Published(&refresh_s);
    if (!published) return RenewFail(published.error().message());
    if (*published) break;
    if (out_of_time()) {
      std::printf("the central has not published them yet; run the same command again\n");
      return kStillPending;
    }
    std::this_thread::sleep_for(std::chrono::seconds(options.poll_s));
  }
  const auto settle = std::chrono::seconds(2 * refresh_s);
  std::printf("published; waiting %lld s (two refresh intervals) for peers to fetch them\n",
              static_cast<long long>(settle.count()));
  std::fflush(stdout);
  std::this_thread::sleep_for(settle);
  if (auto st = renewer->Install(); !st) return RenewFail(st.error().message());
  std::printf(
      "installed. Tell the running gateway to use the new keys — no restart, exchanges in "
      "progress finish, peers accept old and new:\n  kill -HUP <pid of troad gateway --config "
      "%s>\n"
      "Once it runs with them, the old certificates can be revoked (troad cert revoke "
      "FINGERPRINT --reason superseded):\n",
      options.config_file.c_str());
  for (const auto& item : renewer->items()) {
    std::printf("  %s  (%s %s)\n", item.current_sha256.c_str(), item.kind.c_str(),
                item.owner.c_str());
  }
  return 0;
}

}  // namespace troad::cli
