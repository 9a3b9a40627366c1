#include "core/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <cstring>
#include <thread>

extern char** environ;

namespace troad {

Result<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                     const std::string& log_file,
                                     const std::vector<std::string>& extra_env) {
  if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "no program to start");
  int log_fd = -1;
  if (!log_file.empty()) {
    log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return Fail(ErrorCode::kIo, "cannot open log file {}: {}", log_file, std::strerror(errno));
    }
  }
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are made.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    if (log_fd >= 0) close(log_fd);
    return Fail(ErrorCode::kIo, "fork failed: {}", std::strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execvpe(args[0], args.data(), env.data());
    _exit(127);
  }
  if (log_fd >= 0) close(log_fd);
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    Stop();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() { Stop(); }

int Subprocess::Reap(bool block) {
  if (pid_ < 0) return status_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
  }
  return pid_ < 0 ? status_ : -1;
}

bool Subprocess::Running() { return pid_ >= 0 && Reap(false) == -1 && pid_ >= 0; }

int Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ >= 0) {
    if (Reap(false) != -1 || pid_ < 0) break;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_;
}

int Subprocess::Stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return status_;
  kill(pid_, SIGTERM);
  if (Wait(grace) != -1 || pid_ < 0) return status_;
  return Kill();
}

int Subprocess::Kill() {
  if (pid_ < 0) return status_;
  kill(pid_, SIGKILL);
  return Reap(true);
}

Status WaitForPort(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool v6 = host.find(':') != std::string::npos;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Fail(ErrorCode::kIo, "socket: {}", std::strerror(errno));
    int rc;
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_port = htons(port);
      inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr);
      rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
      rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    close(fd);
    if (rc == 0) return Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(ErrorCode::kDeadlineExceeded, "{}:{} did not accept connections within {} ms",
                  host, port, timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

namespace {

bool CanBind(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Claims `port` for this process until it exits, so that test processes running side
// by side (ctest -j) never hand out the same port: a free port is only free until
// its server binds it, and two processes that both found it free would both use it.
// The claim is an flock on /tmp/troad-port-locks/<port>, held by a descriptor that
// stays open (the kernel drops the lock when the process ends, however it ends). An
// flock also conflicts with another descriptor of the same process, so one process
// never gets a port twice either.
bool ClaimPort(uint16_t port) {
  static const bool dir_ok = [] {
    const char* dir = "/tmp/troad-port-locks";
    if (mkdir(dir, 01777) == 0) (void)chmod(dir, 01777);  // whatever the umask
    return access(dir, W_OK) == 0;
  }();
  if (!dir_ok) return true;  // no claims possible: fall back to "free a moment ago"
  const std::string path = "/tmp/troad-port-locks/" + std::to_string(port);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return false;  // another process (or an earlier call here) holds it
  }
  return true;  // fd stays open: the claim lasts as long as this process
}

}  // namespace

Result<uint16_t> PickFreePort() {
  // Below the kernel's ephemeral range (ip_local_port_range, 32768 and up by
  // default): a port handed out from that range can be taken by any outgoing
  // connection — a test's own clients — before the server that was meant to have it
  // binds it. Random, so that test processes running side by side rarely meet.
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  constexpr int kFirst = 20000;
  if (low > kFirst + 1000) {
    static thread_local std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(kFirst, low - 1);
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto port = static_cast<uint16_t>(pick(rng));
      if (ClaimPort(port) && CanBind(port)) return port;
    }
  }
  // Fall back to a port the kernel chooses.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kIo, "socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return Fail(ErrorCode::kIo, "bind: {}", std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace troad
