#include "core/subprocess.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <vector>

namespace troad {
namespace {

TEST(PickFreePortTest, NeverGivesOneProcessTheSamePortTwice) {
  std::set<uint16_t> ports;
  for (int i = 0; i < 200; ++i) {
    auto port = PickFreePort();
    ASSERT_TRUE(port) << port.error().ToString();
    EXPECT_TRUE(ports.insert(*port).second) << "port " << *port << " given twice";
  }
}

TEST(PickFreePortTest, ProcessesSideBySideGetDifferentPorts) {
  std::vector<uint16_t> mine;
  for (int i = 0; i < 100; ++i) mine.push_back(*PickFreePort());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child stands for a second test process: none of its ports may be ours.
    for (int i = 0; i < 100; ++i) {
      auto port = PickFreePort();
      uint16_t p = port ? *port : 0;
      if (write(fds[1], &p, sizeof p) != sizeof p) _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  std::set<uint16_t> theirs;
  uint16_t p = 0;
  while (read(fds[0], &p, sizeof p) == sizeof p) theirs.insert(p);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(theirs.size(), 100u);
  EXPECT_EQ(theirs.count(0), 0u);
  for (uint16_t port : mine) EXPECT_EQ(theirs.count(port), 0u) << "port " << port << " shared";
}

}  // namespace
}  // namespace troad
