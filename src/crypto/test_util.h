// Test-only helpers for crypto tests: a scratch directory and running the `openssl`
// command line tool to cross-check our output. Not part of troad_crypto.
// Thread-safety: use from one test thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/clock.h"
#include "core/file.h"
#include "core/result.h"
#include "crypto/ca.h"
#include "crypto/random.h"

namespace troad::crypto::testutil {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("troad-crypto-test-" + NewUuid())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// The file's contents, or "" if it cannot be read (the test's assertions then fail).
inline std::string ReadFile(const std::string& path) { return troad::ReadFile(path).value_or(""); }

// Now, to the second: certificates carry whole seconds.
inline SystemTime NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell (std::system), capturing its output in `dir`.
inline CommandResult RunCommand(const TempDir& dir, const std::string& command) {
  std::string out_file = dir.File("command-output.txt");
  int status = std::system(("(" + command + ") > " + out_file + " 2>&1").c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = ReadFile(out_file);
  return result;
}

// Checks that `result` failed with `code` and a message containing `fragment`.
template <typename T>
void ExpectError(const Result<T>& result, ErrorCode code, const std::string& fragment) {
  ASSERT_FALSE(result.has_value()) << "accepted, but expected an error containing: " << fragment;
  EXPECT_EQ(result.error().code(), code) << result.error().ToString();
  EXPECT_NE(result.error().message().find(fragment), std::string::npos)
      << "message: " << result.error().message() << "\nexpected fragment: " << fragment;
}

// `openssl ca`'s time form (-startdate, -enddate, -crl_lastupdate), YYYYMMDDHHMMSSZ.
inline std::string OpensslCaTime(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

// The cross-checks need the `openssl` command (Debian package `openssl`).
// Debian's Python when there is one: the tests use the modules Debian packages for it
// (python3-cryptography, python3-aiosmtpd), which another python3 first on PATH may lack.
inline std::string Python3() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

inline bool HaveOpensslCli() { return std::system("openssl version > /dev/null 2>&1") == 0; }

#define TROAD_REQUIRE_OPENSSL_CLI()                                                       \
  ASSERT_TRUE(::troad::crypto::testutil::HaveOpensslCli())                                \
      << "the openssl command line tool is needed for this cross-check (apt-get install " \
         "openssl)"

// A fresh CA and one pair it issued for `usage` (valid from now, real clock), for
// tests that need a certificate of some kind and its issuer.
struct IssuedPair {
  Certificate ca;
  PrivateKey ca_key;
  Certificate certificate;
  PrivateKey key;
};
inline IssuedPair IssueTestPair(CertUsage usage, const std::string& common_name) {
  auto ca_key = PrivateKey::GenerateEcP256().value();
  CertificateRequest ca_req;
  ca_req.common_name = common_name + " test CA";
  ca_req.usage = CertUsage::kCa;
  auto ca = CreateSelfSignedCa(ca_key, ca_req, SystemClock::Get()).value();
  auto key = PrivateKey::GenerateEcP256().value();
  CertificateRequest req;
  req.common_name = common_name;
  req.usage = usage;
  auto cert = IssueCertificate(ca, ca_key, key.Public(), req, SystemClock::Get()).value();
  return IssuedPair{ca, ca_key, cert, key};
}

}  // namespace troad::crypto::testutil
