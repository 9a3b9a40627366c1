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

std::vector<asio::io_context*> IoPool::contexts() const {
  std::vector<asio::io_context*> out;
  out.reserve(contexts_.size());
  for (const auto& io : contexts_) out.push_back(io.get());
  return out;
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

}  // namespace troad::http
