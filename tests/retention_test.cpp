// Retention on a real gateway process: BLI's gateway restarted with [retention]
// max_age_s = 1 archives its old timestamped records into hash-chained files while it
// keeps exchanging; `troad verify-log --config` checks the archives and the live log
// together, /metrics counts what was archived, new records continue above the
// archived seqs, and an archived record altered afterwards is named.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "core/subprocess.h"
#include "gateway/archive.h"
#include "gateway/message_log.h"
#include "network_fixture.h"
#include "test_files.h"

namespace troad::testing {
namespace {

using http::bhttp::verb;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kWait = std::chrono::seconds(30);

class RetentionTest : public NetworkTest {
 protected:
  // One call to MOI's echo service through BLI's gateway; its message id.
  std::string Exchange(const std::string& tag) {
    const std::string id = NewTestMessageId(tag);
    auto res = net().Call(
        net().ports(Gw::kBli).consumer,
        MakeRestRequest(verb::get, "/r1/TW/GOV/MOI/household/echo/" + tag, kBliClient, id));
    EXPECT_TRUE(res) << (res ? "" : res.error().message()) << Diag();
    if (res) {
      EXPECT_EQ(res->result_int(), 200u) << res->body() << Diag();
    }
    return id;
  }
  // The value of a /metrics line without labels, or -1.
  double Metric(Gw gw, const std::string& name) {
    auto res = net().Call(net().ports(gw).admin, http::Request{verb::get, "/metrics", 11});
    if (!res) return -1;
    std::istringstream lines(res->body());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
  }
  // `troad verify-log ARGS…`: its exit code and output.
  std::pair<int, std::string> VerifyLog(const std::vector<std::string>& args) {
    const std::string log = net().dir() + "/verify-log-retention.log";
    std::error_code ec;
    fs::remove(log, ec);
    std::vector<std::string> argv = {TROAD_BINARY, "verify-log"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = Subprocess::Start(argv, log);
    if (!child) return {-1, child.error().ToString()};
    const int status = child->Wait(std::chrono::seconds(60));
    return {status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadText(log)};
  }
  std::string LogPath() const { return net().GatewayDir(Gw::kBli) + "/data/messagelog.db"; }
  std::string ArchiveDir() const { return net().GatewayDir(Gw::kBli) + "/data/archive"; }
  std::vector<std::string> ArchiveFiles() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(ArchiveDir(), ec)) {
      if (gateway::ParseArchiveFileName(e.path().filename().string())) {
        out.push_back(e.path().string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(RetentionTest, OldRecordsAreArchivedAndVerifyWithTheLiveLog) {
  for (int i = 0; i < 4; ++i) Exchange(fmt::format("before-{}", i));

  ASSERT_NE(net().StopGateway(Gw::kBli, 5s), -1);
  const std::string toml = net().GatewayDir(Gw::kBli) + "/gateway.toml";
  WriteText(toml, ReadText(toml) + "\n[retention]\nmax_age_s = 1\ninterval_s = 1\n");
  ASSERT_TRUE(net().StartGateway(Gw::kBli)) << Diag();

  // Exchanges go on while the archiver works; every second older batches leave.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    Exchange("during");
    // The counters move just after a file is in place: wait for both, or a check in
    // between sees the file but not yet its count.
    if (Metric(Gw::kBli, "troad_gateway_archived_records_total") >= 4 &&
        ArchiveFiles().size() >= 2 && Metric(Gw::kBli, "troad_gateway_archive_files_total") >= 2) {
      break;
    }
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_GE(Metric(Gw::kBli, "troad_gateway_archived_records_total"), 4) << Diag();
  ASSERT_GE(ArchiveFiles().size(), 2u) << Diag();
  EXPECT_GE(Metric(Gw::kBli, "troad_gateway_archive_files_total"), 2);
  EXPECT_EQ(Metric(Gw::kBli, "troad_gateway_archive_failures_total"), 0);
  EXPECT_GT(Metric(Gw::kBli, "troad_gateway_archive_last_success_seconds"), 0);

  // The live log starts after the archives; a new record is numbered above them.
  auto reader = gateway::MessageLogReader::Open(LogPath());
  ASSERT_TRUE(reader) << reader.error().message();
  auto head = (*reader)->LastArchive();
  ASSERT_TRUE(head && *head) << Diag();
  const std::string fresh = Exchange("after");
  auto records = net().Records(Gw::kBli, "message_id", fresh);
  ASSERT_TRUE(records && records->size() == 1u) << Diag();
  EXPECT_GT(records->front().seq, (*head)->last_seq);

  // verify-log --config finds the archive directory in [retention].
  auto [code, out] = net().VerifyLog(Gw::kBli);
  EXPECT_EQ(code, 0) << out << Diag();
  EXPECT_NE(out.find("archive files, records 1.."), std::string::npos) << out;
  EXPECT_NE(out.find("OK: every archive and every batch verifies"), std::string::npos) << out;

  // Offline, on the files alone: --log with --archive-dir and the authority's certificate.
  const std::string tsa = net().dir() + "/net/tsa/tsa.crt";
  auto [offline_code, offline_out] =
      VerifyLog({"--log", LogPath(), "--archive-dir", ArchiveDir(), "--tsa-certificate", tsa});
  EXPECT_EQ(offline_code, 0) << offline_out;
  EXPECT_NE(offline_out.find("OK: every archive and every batch verifies"), std::string::npos)
      << offline_out;
  // Without the archives the live log still verifies, and says what it did not check.
  auto [live_code, live_out] = VerifyLog({"--log", LogPath(), "--tsa-certificate", tsa});
  EXPECT_EQ(live_code, 0) << live_out;
  EXPECT_NE(live_out.find("archives not checked"), std::string::npos) << live_out;
  // A directory that is not there is a usage error (exit 2), not a verdict.
  EXPECT_EQ(VerifyLog({"--log", LogPath(), "--archive-dir", ArchiveDir() + "-missing",
                       "--tsa-certificate", tsa})
                .first,
            2);

  // An archived record altered afterwards is named, with its file.
  const std::string first = ArchiveFiles().front();
  std::string text = ReadText(first);
  const size_t at = text.find("\"status\":200");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "\"status\":204");
  WriteText(first, text);
  auto [bad_code, bad_out] = net().VerifyLog(Gw::kBli);
  EXPECT_EQ(bad_code, 1) << bad_out;
  EXPECT_NE(bad_out.find("FAILED: archive " + fs::path(first).filename().string() + ": record seq"),
            std::string::npos)
      << bad_out;
  EXPECT_NE(bad_out.find("was altered after its batch"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace troad::testing
