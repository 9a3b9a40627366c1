// Small file helpers the integration tests share: whole-file reads and writes for
// configuration files, logs and command output, and the end of a long log for a
// failure message. Test-only; the product uses core/file.h.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/subprocess.h"
#include "crypto/random.h"

namespace troad::testing {

// The file's contents; "" when it cannot be read (the assertions using it then fail).
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Replaces the file's contents; a failure fails the calling test.
inline void WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE(out.flush()) << "cannot write " << path;
}

// The last `max` bytes of `text` (all of it when shorter).
inline std::string TailBytes(const std::string& text, size_t max = 4000) {
  return text.size() <= max ? text : text.substr(text.size() - max);
}

// What a finished command printed (stdout and stderr together) and its exit status
// (-1 when it did not start, was killed or ran over a minute).
struct CommandRun {
  int status = -1;
  std::string output;
};

// Runs `args` (the program first) to completion with its output in `log_file`, which
// is replaced.
inline CommandRun RunCommandLine(const std::vector<std::string>& args,
                                 const std::string& log_file) {
  std::remove(log_file.c_str());  // Subprocess appends
  auto child = Subprocess::Start(args, log_file);
  CommandRun r;
  if (!child) return r;
  int status = child->Wait(std::chrono::seconds(60));
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = ReadText(log_file);
  return r;
}

#ifdef TROAD_BINARY
// A test of the troad command line: each test gets a fresh directory under the system's
// temporary folder (removed afterwards), and Troad() runs the binary to completion.
class TroadCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("troad-cli-" + crypto::NewUuid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CommandRun Troad(std::vector<std::string> args) {
    args.insert(args.begin(), TROAD_BINARY);
    return RunCommandLine(args, (dir_ / "out.txt").string());
  }

  std::filesystem::path dir_;
};
#endif

}  // namespace troad::testing
