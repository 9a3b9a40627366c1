#include "store/group_commit.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <semaphore>
#include <set>
#include <thread>
#include <vector>

namespace troad::store {
namespace {

GroupCommitter::Work Insert(int64_t id, int64_t writer = 0) {
  return [id, writer](Database& db) -> Status {
    TROAD_RETURN_IF_ERROR(db.Execute("INSERT INTO log (id, writer) VALUES (?, ?)", {id, writer}));
    return Ok();
  };
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "troad_group_commit_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    path_ = (dir_ / "log.db").string();
    auto db = OpenSqlite(path_);
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(
        db_->ExecuteScript("CREATE TABLE log (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL);"));
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<GroupCommitter> StartCommitter(SqliteOptions options = {},
                                                 GroupCommitter::Options commit = {}) {
    auto db = OpenSqlite(path_, options);
    EXPECT_TRUE(db) << db.error().ToString();
    return GroupCommitter::Start(std::move(*db), commit);
  }

  std::set<int64_t> Ids() {
    std::set<int64_t> ids;
    auto rows = db_->Query("SELECT id FROM log");
    EXPECT_TRUE(rows) << rows.error().ToString();
    if (rows) {
      for (const Row& row : *rows) ids.insert(*row.Int(0));
    }
    return ids;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

// Holds the writer thread inside a piece of work until released, so that what is
// submitted meanwhile queues up: batching is then certain, not a matter of timing.
class Gate {
 public:
  GroupCommitter::Work Work() {
    return [this](Database&) -> Status {
      released_.wait();
      return Ok();
    };
  }
  void Release() { promise_.set_value(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> released_ = promise_.get_future().share();
};

TEST_F(GroupCommitTest, ConcurrentWritersShareTransactions) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  auto committer = StartCommitter();
  Gate gate;
  std::promise<Status> gate_done;
  committer->Submit(gate.Work(), [&](Status s) { gate_done.set_value(std::move(s)); });

  std::atomic<int> ok{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t id = int64_t{t} * kPerThread + i + 1;
        committer->Submit(Insert(id, t), [&](Status s) {
          if (s) {
            ok.fetch_add(1);
          } else {
            std::lock_guard lock(failures_mu);
            failures.push_back(s.error().ToString());
          }
        });
      }
    });
  }
  for (auto& w : writers) w.join();
  gate.Release();
  committer->Stop();  // drains the queue

  EXPECT_TRUE(gate_done.get_future().get());
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(Ids().size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(committer->items_committed(), static_cast<uint64_t>(kThreads * kPerThread + 1));
  EXPECT_LT(committer->batches_committed(), committer->items_committed());
  // Everything but the gate was queued when the gate opened: at most the gate's
  // batch plus ceil(16000 / 1024) full batches.
  EXPECT_LE(committer->batches_committed(), 17u);
}

TEST_F(GroupCommitTest, BusyWriterLingersSoThatLaterWorkJoinsTheCommit) {
  GroupCommitter::Options commit;
  commit.linger = std::chrono::seconds(2);
  commit.linger_min_batch = 2;
  auto committer = StartCommitter({}, commit);
  // Hold the writer inside a first commit while two pieces of work queue behind it.
  std::promise<void> entered;
  Gate gate;
  std::promise<Status> gate_done;
  committer->Submit(
      [&, hold = gate.Work()](Database& db) {
        entered.set_value();
        return hold(db);
      },
      [&](Status s) { gate_done.set_value(std::move(s)); });
  entered.get_future().wait();
  std::atomic<int> ok{0};
  auto count = [&](Status s) {
    if (s) ok.fetch_add(1);
  };
  committer->Submit(Insert(1, 0), count);
  committer->Submit(Insert(2, 0), count);
  gate.Release();
  // The writer now finds two waiting ("busy") and lingers. Work that arrives a little
  // later, well within the linger, joins their commit; without the linger, 1 and 2
  // would already be committed by themselves and 3 would need a commit of its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  committer->Submit(Insert(3, 0), count);
  committer->Stop();

  EXPECT_TRUE(gate_done.get_future().get());
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(Ids(), (std::set<int64_t>{1, 2, 3}));
  EXPECT_EQ(committer->batches_committed(), 2u);  // the gate's, then one for 1, 2 and 3
}

TEST_F(GroupCommitTest, LightlyLoadedWriterDoesNotLinger) {
  GroupCommitter::Options commit;
  commit.linger = std::chrono::hours(1);  // would hang the test if it applied
  commit.linger_min_batch = 4;
  auto committer = StartCommitter({}, commit);
  std::promise<Status> done;
  auto future = done.get_future();
  committer->Submit(Insert(7, 0), [&](Status s) { done.set_value(std::move(s)); });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(future.get());
  EXPECT_EQ(Ids(), (std::set<int64_t>{7}));
}

TEST_F(GroupCommitTest, FailingWorkFailsOnlyItself) {
  auto committer = StartCommitter();
  Gate gate;
  committer->Submit(gate.Work(), [](Status) {});

  constexpr int kItems = 10;
  std::vector<std::promise<Status>> results(kItems);
  for (int i = 1; i <= kItems; ++i) {
    GroupCommitter::Work work = Insert(i);
    if (i == 5) work = Insert(1);  // a duplicate of the first
    if (i == 7) {
      // Writes, then fails: its write must not survive.
      work = [](Database& db) -> Status {
        TROAD_RETURN_IF_ERROR(db.Execute("INSERT INTO log (id, writer) VALUES (7, 0)"));
        return Fail(ErrorCode::kInvalidArgument, "record 7 is malformed");
      };
    }
    committer->Submit(std::move(work), [&results, i](Status s) {
      results[static_cast<size_t>(i - 1)].set_value(std::move(s));
    });
  }
  gate.Release();
  committer->Stop();

  for (int i = 1; i <= kItems; ++i) {
    Status s = results[static_cast<size_t>(i - 1)].get_future().get();
    if (i == 5) {
      ASSERT_FALSE(s);
      EXPECT_EQ(s.error().code(), ErrorCode::kAlreadyExists);
    } else if (i == 7) {
      ASSERT_FALSE(s);
      EXPECT_EQ(s.error().message(), "record 7 is malformed");
    } else {
      EXPECT_TRUE(s) << "item " << i << ": " << s.error().ToString();
    }
  }
  EXPECT_EQ(Ids(), (std::set<int64_t>{1, 2, 3, 4, 6, 8, 9, 10}));
  EXPECT_EQ(committer->items_committed(), 9u);  // the gate and eight inserts
}

TEST_F(GroupCommitTest, EngineFailureIsReportedToEveryWriter) {
  auto committer = StartCommitter({.busy_timeout_ms = 0});
  // Another connection holds the write lock: the batch cannot begin, nor can any
  // item on its own.
  ASSERT_TRUE(db_->Begin());
  constexpr int kItems = 3;
  Gate gate;
  committer->Submit(gate.Work(), [](Status) {});
  std::vector<std::promise<Status>> results(kItems);
  for (int i = 0; i < kItems; ++i) {
    committer->Submit(Insert(i + 1), [&results, i](Status s) {
      results[static_cast<size_t>(i)].set_value(std::move(s));
    });
  }
  gate.Release();
  for (auto& r : results) {
    Status s = r.get_future().get();
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable) << s.error().ToString();
  }
  ASSERT_TRUE(db_->Rollback());

  std::promise<Status> after;
  committer->Submit(Insert(100), [&](Status s) { after.set_value(std::move(s)); });
  EXPECT_TRUE(after.get_future().get());
  committer->Stop();
  EXPECT_EQ(Ids(), std::set<int64_t>{100});
}

TEST_F(GroupCommitTest, SubmitAfterStopIsUnavailableAtOnce) {
  auto committer = StartCommitter();
  committer->Stop();
  bool ran = false;
  bool called = false;
  committer->Submit(
      [&](Database&) -> Status {
        ran = true;
        return Ok();
      },
      [&](Status s) {
        called = true;
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
      });
  EXPECT_TRUE(called);  // before Submit returned
  EXPECT_FALSE(ran);
  committer->Stop();  // a second Stop is harmless
}

// The child: writes through a GroupCommitter until killed, reporting each id on
// `fd` only once its Done(Ok) arrives. Never returns.
[[noreturn]] void WriteUntilKilled(const std::string& path, int fd) {
  auto db = OpenSqlite(path);
  if (!db) _exit(2);
  auto committer = GroupCommitter::Start(std::move(*db), {});
  std::counting_semaphore<512> window(512);  // bounds the queue, not the rate
  for (int64_t id = 1;; ++id) {
    window.acquire();
    committer->Submit(Insert(id), [id, fd, &window](Status s) {
      if (!s) _exit(3);
      char line[32];
      const int n = std::snprintf(line, sizeof line, "%lld\n", static_cast<long long>(id));
      // Shorter than PIPE_BUF, so one write, never interleaved or split.
      if (write(fd, line, static_cast<size_t>(n)) != n) _exit(4);
      window.release();
    });
  }
}

TEST_F(GroupCommitTest, KilledProcessLosesNothingItAcknowledged) {
  constexpr size_t kKillAfter = 3000;
  // SQLite connections must not cross fork(): the child opens its own.
  db_.reset();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    WriteUntilKilled(path_, fds[1]);
  }
  close(fds[1]);

  std::set<int64_t> acknowledged;
  std::string pending;
  bool killed = false;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child is gone and everything it wrote has been read
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      acknowledged.insert(std::stoll(pending.substr(start, nl - start)));
    }
    pending.erase(0, start);
    if (!killed && acknowledged.size() >= kKillAfter) {
      ASSERT_EQ(kill(pid, SIGKILL), 0);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child ended on its own with status " << status;
  EXPECT_TRUE(pending.empty());
  ASSERT_GE(acknowledged.size(), kKillAfter);

  auto db = OpenSqlite(path_);
  ASSERT_TRUE(db) << db.error().ToString();
  db_ = std::move(*db);
  const std::set<int64_t> stored = Ids();
  std::vector<int64_t> lost;
  for (int64_t id : acknowledged) {
    if (!stored.contains(id)) lost.push_back(id);
  }
  EXPECT_TRUE(lost.empty()) << lost.size() << " acknowledged records lost, first " << lost.front();
  auto check = db_->Query("PRAGMA integrity_check");
  ASSERT_TRUE(check);
  EXPECT_EQ(*(*check)[0].Text(0), "ok");
}

}  // namespace
}  // namespace troad::store
