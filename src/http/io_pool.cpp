#include "http/io_pool.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <thread>

namespace troad::http {

IoPool::IoPool(int threads) {
  const int n = std::max(1, threads);
  contexts_.reserve(static_cast<size_t>(n));
  // Concurrency hint 1: one thread runs each context, so Asio need not wake others.
  for (int i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

asio::io_context& IoPool::Next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoPool::Run() {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  guards.reserve(contexts_.size());
  for (auto& io : contexts_) guards.push_back(asio::make_work_guard(*io));
  std::vector<std::thread> threads;
  threads.reserve(contexts_.size() - 1);
  for (size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([io = contexts_[i].get()] { io->run(); });
  }
  contexts_[0]->run();
  for (auto& t : threads) t.join();
}

void IoPool::Stop() {
  for (auto& io : contexts_) io->stop();
}

bool IoPool::RunningInThisThread() const {
  return std::any_of(contexts_.begin(), contexts_.end(),
                     [](const auto& io) { return io->get_executor().running_in_this_thread(); });
}

bool IoPool::Stopped() const {
  return std::all_of(contexts_.begin(), contexts_.end(),
                     [](const auto& io) { return io->stopped(); });
}

}  // namespace troad::http
