// Group commit: one writer thread, one transaction per batch; see group_commit.h.
#include "store/group_commit.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace troad::store {
namespace {

// Runs one piece of work in a transaction of its own.
Status RunAlone(Database& db, const GroupCommitter::Work& work) {
  TROAD_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  TROAD_RETURN_IF_ERROR(work(db));
  return tx.Commit();
}

}  // namespace

std::unique_ptr<GroupCommitter> GroupCommitter::Start(std::unique_ptr<Database> db,
                                                      Options options) {
  options.max_batch = std::max<size_t>(options.max_batch, 1);
  std::unique_ptr<GroupCommitter> committer(new GroupCommitter(std::move(db), options));
  committer->thread_ = std::thread([c = committer.get()] { c->Run(); });
  return committer;
}

GroupCommitter::GroupCommitter(std::unique_ptr<Database> db, Options options)
    : db_(std::move(db)), options_(options) {}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Submit(Work work, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(work), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(tl::unexpected(Error(ErrorCode::kUnavailable, "group committer is stopped")));
}

void GroupCommitter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  // From a Done callback (the writer thread itself) the thread cannot join itself;
  // it ends once the queue is drained and the destructor joins it.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

uint64_t GroupCommitter::batches_committed() const {
  std::lock_guard lock(mu_);
  return batches_;
}

uint64_t GroupCommitter::items_committed() const {
  std::lock_guard lock(mu_);
  return items_;
}

void GroupCommitter::Run() {
  std::vector<Item> batch;
  batch.reserve(std::min<size_t>(options_.max_batch, 4096));
  std::vector<Status> results;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      if (options_.linger.count() > 0 && queue_.size() >= options_.linger_min_batch &&
          queue_.size() < options_.max_batch && !stopping_) {
        // Busy: let more work join this commit. A plain sleep, not a wait on cv_:
        // every Submit notifies, and waking for each would cost a context switch per
        // piece of work, which is what batching is meant to save.
        lock.unlock();
        std::this_thread::sleep_for(options_.linger);
        lock.lock();
      }
      const size_t n = std::min(options_.max_batch, queue_.size());
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }

    // The SQL runs without the mutex so that writers can keep queueing meanwhile;
    // what they queue is the next batch.
    uint64_t batches = 0;
    uint64_t items = 0;
    results.clear();
    Status outcome = db_->Begin();
    if (outcome) {
      for (const Item& item : batch) {
        outcome = item.work(*db_);
        if (!outcome) break;
      }
      if (outcome) {
        outcome = db_->Commit();
      }
      // A failed COMMIT may already have rolled back; ROLLBACK then only complains
      // that no transaction is active.
      if (!outcome) (void)db_->Rollback();
    }
    if (outcome) {
      results.assign(batch.size(), Ok());
      batches = 1;
      items = batch.size();
    } else {
      // Everything was rolled back, the good writes with the bad one. Each piece
      // is retried alone so that only the piece that fails (or every piece, when
      // the engine itself is failing) is told so.
      for (const Item& item : batch) {
        results.push_back(RunAlone(*db_, item.work));
        if (results.back()) {
          ++batches;
          ++items;
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      batches_ += batches;
      items_ += items;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
    batch.clear();
  }
}

}  // namespace troad::store
