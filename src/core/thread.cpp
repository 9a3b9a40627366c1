#include "core/thread.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace troad {

void LowerThreadPriority(std::string_view who, int nice) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    spdlog::debug("{}: could not lower its thread priority: {}", who, std::strerror(errno));
  }
}

std::string LowerProcessPriority(int nice) {
  // PRIO_PROCESS with 0 changes the calling thread only (Linux), which is the whole
  // process while it has one thread; the threads it starts later inherit it.
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, 0);
  if (errno == 0 && current > nice) nice = current;  // only ever lower
  if (setpriority(PRIO_PROCESS, 0, nice) != 0) {
    return fmt::format("could not set nice {}: {}", nice, std::strerror(errno));
  }
  std::string done = fmt::format("nice {}", nice);
  if (getsid(0) != getpid()) return done + " (sharing its session: its autogroup left alone)";
  std::ifstream enabled("/proc/sys/kernel/sched_autogroup_enabled");
  int on = 0;
  if (!(enabled >> on) || on == 0) return done;
  std::ofstream group("/proc/self/autogroup");
  group << nice;
  group.flush();
  if (!group) {
    return done +
           fmt::format(" (its autogroup: could not set nice {}: {})", nice, std::strerror(errno));
  }
  return done + fmt::format(", and its session's autogroup nice {}", nice);
}

}  // namespace troad
