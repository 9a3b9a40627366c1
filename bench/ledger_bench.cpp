// Ledger benchmarks (Google Benchmark): appends per second in batches of 1000, and the
// latency of proofs in a log of 10^7 entries, on temp-file SQLite databases.
//
//   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
//         -DTROAD_BUILD_TESTS=OFF -DTROAD_BUILD_BENCHMARKS=ON
//   ninja -C build-rel ledger_bench && build-rel/bench/ledger_bench
//
// SQLite runs with synchronous=NORMAL unless a benchmark's name says "full": in WAL
// mode NORMAL keeps every commit through a process crash but not a power cut (the
// WAL is fsynced at checkpoints, not at each commit); FULL fsyncs at every commit.
// Entries are 64 bytes (a record digest and some metadata) and distinct, so the
// leaf-hash index sees random keys as it would in production.
//
// The 10^7-entry log is built once, in batches of 1000, before the first benchmark
// that needs it (about a minute or two; progress, RSS and file size go to stderr).
// TROAD_LEDGER_BENCH_ENTRIES=<n> builds a smaller one for a quick run.
// TROAD_LEDGER_BENCH_PRAGMAS="PRAGMA …; …" runs on every connection before the log
// opens it, to try SQLite settings (by default there are none: SQLite's 2 MiB page
// cache, no mmap). Temp files are removed at exit.
//
// Thread-safety: single-threaded.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "ledger/log.h"
#include "ledger/proof.h"
#include "store/database.h"

namespace troad::ledger {
namespace {

namespace fs = std::filesystem;

constexpr size_t kEntryBytes = 64;

// A directory under the system temp dir, removed (with everything in it) at exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "troad-ledger-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TempDir& Dir() {
  static TempDir dir;
  return dir;
}

// Distinct 64-byte entries: the counter in front, filler behind.
std::vector<std::string> MakeEntries(uint64_t first, size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string e(kEntryBytes, '\x5a');
    const uint64_t n = first + i;
    for (int b = 0; b < 8; ++b) e[static_cast<size_t>(b)] = static_cast<char>(n >> (8 * b));
    out.push_back(std::move(e));
  }
  return out;
}

std::unique_ptr<Log> OpenLog(const std::string& path, bool synchronous_full) {
  store::SqliteOptions options;
  options.synchronous_full = synchronous_full;
  auto db = store::OpenSqlite(path, options);
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().ToString().c_str());
    std::abort();
  }
  if (const char* pragmas = std::getenv("TROAD_LEDGER_BENCH_PRAGMAS")) {
    auto ran = (*db)->ExecuteScript(pragmas);
    if (!ran) {
      std::fprintf(stderr, "%s\n", ran.error().ToString().c_str());
      std::abort();
    }
  }
  auto log = Log::Open(std::move(*db), SystemClock::Get());
  if (!log) {
    std::fprintf(stderr, "%s\n", log.error().ToString().c_str());
    std::abort();
  }
  return std::move(*log);
}

long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

uint64_t FileBytes(const std::string& path) {
  std::error_code ec;
  uint64_t total = fs::file_size(path, ec);
  uint64_t wal = fs::file_size(path + "-wal", ec);
  return total + (ec ? 0 : wal);
}

// Appends batches of 1000 to a log that starts empty for each benchmark run (the log
// grows by 1000 entries per iteration).
void BM_AppendBatch1000(benchmark::State& state) {
  const bool full = state.range(0) != 0;
  static int run = 0;
  const std::string path = Dir().File("append-" + std::to_string(run++) + ".db");
  auto log = OpenLog(path, full);
  for (auto _ : state) {
    auto appended = log->AppendBatch(MakeEntries(log->Size(), 1000));
    if (!appended) {
      state.SkipWithError(appended.error().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(log->Size()));
  state.counters["log_size"] = static_cast<double>(log->Size());
  log.reset();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
}
BENCHMARK(BM_AppendBatch1000)
    ->ArgName("full")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

uint64_t LargeSize() {
  if (const char* n = std::getenv("TROAD_LEDGER_BENCH_ENTRIES")) return std::stoull(n);
  return 10'000'000;
}

// The large log, built on first use.
Log& LargeLog() {
  static std::unique_ptr<Log> log = [] {
    const std::string path = Dir().File("large.db");
    auto built = OpenLog(path, /*synchronous_full=*/false);
    const uint64_t target = LargeSize();
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    uint64_t last_size = 0;
    std::fprintf(stderr, "building a log of %llu entries in %s (RSS %ld KiB)\n",
                 static_cast<unsigned long long>(target), path.c_str(), RssKib());
    while (built->Size() < target) {
      const size_t batch = static_cast<size_t>(std::min<uint64_t>(1000, target - built->Size()));
      auto appended = built->AppendBatch(MakeEntries(built->Size(), batch));
      if (!appended) {
        std::fprintf(stderr, "%s\n", appended.error().ToString().c_str());
        std::abort();
      }
      if (built->Size() % 1'000'000 == 0 || built->Size() == target) {
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - last).count();
        std::fprintf(stderr,
                     "  %9llu entries: %8.0f entries/s over the last %llu, RSS %ld KiB, "
                     "file %.0f MB\n",
                     static_cast<unsigned long long>(built->Size()),
                     static_cast<double>(built->Size() - last_size) / seconds,
                     static_cast<unsigned long long>(built->Size() - last_size), RssKib(),
                     static_cast<double>(FileBytes(path)) / 1e6);
        last = now;
        last_size = built->Size();
      }
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "built in %.1f s: %.0f entries/s on average\n", total,
                 static_cast<double>(target) / total);
    return built;
  }();
  return *log;
}

// An inclusion proof of a random leaf at the current size (frontier in memory).
void BM_InclusionProofCurrentSize(benchmark::State& state) {
  Log& log = LargeLog();
  std::mt19937_64 rng(1);
  const uint64_t size = log.Size();
  for (auto _ : state) {
    auto proof = log.InclusionProof(rng() % size, size);
    if (!proof) {
      state.SkipWithError(proof.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(proof->data());
  }
  state.counters["log_size"] = static_cast<double>(size);
}
BENCHMARK(BM_InclusionProofCurrentSize)->Unit(benchmark::kMicrosecond);

// An inclusion proof of a random leaf in a random earlier tree (every node from disk).
void BM_InclusionProofEarlierSize(benchmark::State& state) {
  Log& log = LargeLog();
  std::mt19937_64 rng(2);
  const uint64_t size = log.Size();
  for (auto _ : state) {
    const uint64_t tree = 1 + rng() % (size - 1);
    auto proof = log.InclusionProof(rng() % tree, tree);
    if (!proof) {
      state.SkipWithError(proof.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(proof->data());
  }
  state.counters["log_size"] = static_cast<double>(size);
}
BENCHMARK(BM_InclusionProofEarlierSize)->Unit(benchmark::kMicrosecond);

// A consistency proof from a random earlier size to the current one.
void BM_ConsistencyProof(benchmark::State& state) {
  Log& log = LargeLog();
  std::mt19937_64 rng(3);
  const uint64_t size = log.Size();
  for (auto _ : state) {
    auto proof = log.ConsistencyProof(1 + rng() % (size - 1), size);
    if (!proof) {
      state.SkipWithError(proof.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(proof->data());
  }
}
BENCHMARK(BM_ConsistencyProof)->Unit(benchmark::kMicrosecond);

// The root of a random earlier tree.
void BM_RootAtEarlierSize(benchmark::State& state) {
  Log& log = LargeLog();
  std::mt19937_64 rng(4);
  const uint64_t size = log.Size();
  for (auto _ : state) {
    auto root = log.Root(1 + rng() % (size - 1));
    if (!root) {
      state.SkipWithError(root.error().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(root->data());
  }
}
BENCHMARK(BM_RootAtEarlierSize)->Unit(benchmark::kMicrosecond);

// Finding an entry's index from its leaf hash (the indexed column).
void BM_LeafIndex(benchmark::State& state) {
  Log& log = LargeLog();
  std::mt19937_64 rng(5);
  const uint64_t size = log.Size();
  for (auto _ : state) {
    const uint64_t i = rng() % size;
    auto index = log.LeafIndex(LeafHash(MakeEntries(i, 1)[0]));
    if (!index || *index != i) {
      state.SkipWithError("LeafIndex did not find the entry");
      break;
    }
  }
}
BENCHMARK(BM_LeafIndex)->Unit(benchmark::kMicrosecond);

// Verifying an inclusion proof at the large size (pure hashing, no I/O).
void BM_VerifyInclusion(benchmark::State& state) {
  Log& log = LargeLog();
  const uint64_t size = log.Size();
  const uint64_t index = size / 3;
  const Hash leaf = LeafHash(MakeEntries(index, 1)[0]);
  const std::vector<Hash> proof = *log.InclusionProof(index, size);
  const Hash root = log.Root();
  for (auto _ : state) {
    Status ok = VerifyInclusion(index, size, leaf, proof, root);
    if (!ok) {
      state.SkipWithError(ok.error().ToString().c_str());
      break;
    }
  }
}
BENCHMARK(BM_VerifyInclusion)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace troad::ledger

BENCHMARK_MAIN();
