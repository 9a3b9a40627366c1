// `troad mydata`: the MyData process (docs/mydata.md). One listener (HTTP on loopback or
// behind a TLS proxy, or HTTPS with [keys] tls_certificate) and one worker thread that
// runs every request through Api against the database, one at a time, so nothing needs
// locks. A daily timer on the worker rotates the consent signing key when it is due.
//
// Thread-safety: Create, Start and Run from one thread; Stop from another.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "core/clock.h"
#include "http/server.h"
#include "mydata/api.h"
#include "mydata/config.h"
#include "store/database.h"

namespace troad::mydata {

// What `troad mydata init` makes.
struct InitMyDataOptions {
  std::string dir;  // created; must not hold a mydata.toml yet
  std::string public_url = "http://localhost:4700";
  std::string listen = "127.0.0.1:4700";
};

struct InitMyDataResult {
  std::string config_file;
  std::string management_token;  // shown once; only its SHA-256 is kept
};

// Writes mydata.toml (0600), creates the database and the first consent signing key.
Result<InitMyDataResult> InitMyData(const InitMyDataOptions& options, const Clock& clock);

// Opens (creating and migrating) the database a configuration names.
Result<std::unique_ptr<store::Database>> OpenMyDataDatabase(const MyDataConfig& config,
                                                            const Clock& clock);

class MyData {
 public:
  static Result<std::unique_ptr<MyData>> Create(MyDataConfig config, const Clock& clock);
  ~MyData();

  Status Start();
  void Run();  // the event loop, in the calling thread, until Stop
  void Stop();
  http::tcp::endpoint endpoint() const;

 private:
  MyData(MyDataConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

  MyDataConfig config_;
  const Clock& clock_;
  http::asio::io_context io_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::asio::steady_timer> key_timer_;
  std::atomic<bool> stopped_{false};
  // Every database access. Declared last: joined first on destruction.
  http::asio::thread_pool worker_{1};
};

}  // namespace troad::mydata
