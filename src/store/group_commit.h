// Group commit: many writers' small writes share one transaction (and so one
// fsync). Writers submit work; one writer thread runs every queued piece of work in
// a single transaction, commits, then tells each writer. A writer is told "done"
// only after its work is durable, so a caller may acknowledge its client then.
//
// If a batch fails, each piece of its work is retried in a transaction of its own so
// that one bad write cannot fail the others; each writer gets its own result.
//
// Thread-safety: Submit may be called from any thread. Done callbacks run on the
// writer thread; they must be quick (post to an executor).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "store/database.h"

namespace troad::store {

class GroupCommitter {
 public:
  using Work = std::function<Status(Database&)>;  // runs inside the batch transaction
  using Done = std::function<void(Status)>;       // durable (ok) or why not

  struct Options {
    size_t max_batch = 1024;  // pieces of work per transaction at most
    // Under load, wait this long before committing a batch so that more work joins it
    // (PostgreSQL's commit_delay): fewer, larger commits, so less fsync per piece of
    // work. Only when the batch already has `linger_min_batch` pieces, so that a
    // lightly loaded writer never waits. Zero: never wait.
    std::chrono::microseconds linger{0};
    size_t linger_min_batch = 4;
  };

  // Takes ownership of `db` and starts the writer thread.
  static std::unique_ptr<GroupCommitter> Start(std::unique_ptr<Database> db, Options options);
  ~GroupCommitter();  // Stop()

  // Queues `work`; `done` is called once, after commit (or failure). After Stop,
  // `done` is called at once with kUnavailable.
  void Submit(Work work, Done done);
  // Finishes everything queued, then stops the thread.
  void Stop();

  uint64_t batches_committed() const;
  uint64_t items_committed() const;

 private:
  GroupCommitter(std::unique_ptr<Database> db, Options options);
  void Run();

  struct Item {
    Work work;
    Done done;
  };
  std::unique_ptr<Database> db_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  uint64_t batches_ = 0;    // guarded by mu_
  uint64_t items_ = 0;      // guarded by mu_
  std::thread thread_;
};

}  // namespace troad::store
