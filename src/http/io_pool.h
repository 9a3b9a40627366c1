// A fixed set of io_contexts, each run by exactly one thread: the shape Asio and Beast
// recommend for servers (one event loop per core, nothing shared between them). A
// connection lives on one context for its whole life, so its handlers, its timers and
// the server's stop notifications never run concurrently: no strands are needed, and
// no handler hops between threads on the way.
//
// Measured (bench/beast_proxy.cpp --shared-context, docs/performance.md): one shared
// io_context run by two threads with a strand per connection costs a TLS proxy hop
// 10-20 % more CPU per request than one context per thread.
//
// Thread-safety: Get, contexts and size from any thread; Run once, from one thread;
// Stop from any thread.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "http/types.h"

namespace troad::http {

class IoPool {
 public:
  explicit IoPool(int threads);  // at least 1
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  size_t size() const { return contexts_.size(); }
  asio::io_context& Get(size_t i) { return *contexts_[i]; }
  // All of them, for a server that spreads its connections over them.
  std::vector<asio::io_context*> contexts() const;

  // Runs every context on a thread of its own (the calling thread runs the first)
  // until Stop; returns when all have stopped.
  void Run();
  // Stops every context: handlers not yet run are dropped. Stop the servers first.
  void Stop();

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
};

}  // namespace troad::http
