// Child processes for `troad demo` and the integration tests: start a program with
// its output sent to a file, wait for a TCP port to accept, stop it by PID (SIGTERM,
// then SIGKILL after a grace period). Only processes started here are ever signalled.
// Thread-safety: a Subprocess object belongs to one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace troad {

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/'), stdout and stderr appended
  // to `log_file` ("" = inherit). The child is put in its own process group.
  static Result<Subprocess> Start(const std::vector<std::string>& argv, const std::string& log_file,
                                  const std::vector<std::string>& extra_env = {});
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();  // Stop()

  pid_t pid() const { return pid_; }
  bool Running();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (as waitpid).
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL at once (fault tests), then reap.
  int Kill();
  // Waits for the process to exit by itself, up to `timeout`. -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  int Reap(bool block);
  pid_t pid_ = -1;
  int status_ = -1;
};

// Polls until 127.0.0.1:`port` (or `host`) accepts a TCP connection, up to `timeout`.
Status WaitForPort(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago, chosen below the ephemeral range
// so that outgoing connections cannot take it before a server binds it, and claimed
// for this process's lifetime (a lock file under /tmp/troad-port-locks) so that no
// other caller, here or in a process running beside it, is given the same port.
Result<uint16_t> PickFreePort();

// The absolute path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace troad
