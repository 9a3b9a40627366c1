// JSON parsing as troad does it (troad::ParseJson: simdjson, rebuilt as nlohmann
// values) next to nlohmann's own parser, on the two shapes that matter: a signature
// part as gateways exchange it on every message, and a ledger add-entries body of
// 1000 base64 entries as a shipper sends it. Same input, same result (checked), one
// run: the ratio is the figure (docs/performance.md).
//
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DTROAD_BUILD_BENCHMARKS=ON
//   ninja -C build-rel json_bench && build-rel/bench/json_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/encoding.h"
#include "core/json.h"
#include "core/json_writer.h"

namespace {

std::string SignaturePart() {
  std::string out;
  troad::JsonWriter w(out);
  w.BeginObject()
      .Member("alg", "ES256")
      .Member("cert", std::string(64, 'a'))
      .Member("batch_size", int64_t{7})
      .Member("leaf_index", int64_t{3});
  w.Key("path").BeginArray();
  for (int i = 0; i < 3; ++i) w.String(troad::Base64Encode(std::string(32, char('a' + i))));
  w.EndArray();
  w.Member("signature", troad::Base64Encode(std::string(72, 's'))).EndObject();
  return out;
}

std::string AddBody() {
  std::string out;
  troad::JsonWriter w(out);
  w.BeginObject().Member("gateway", "TW/GOV/00000002/gw1").Member("known_size", int64_t{123456});
  w.Key("entries").BeginArray();
  for (int i = 0; i < 1000; ++i)
    w.String(troad::Base64Encode(std::string(460, char('A' + i % 26))));
  w.EndArray().EndObject();
  return out;
}

const std::string& Doc(int which) {
  static const std::string part = SignaturePart();
  static const std::string body = AddBody();
  return which == 0 ? part : body;
}

void Check(int which) {
  auto ours = troad::ParseJson(Doc(which), "bench");
  if (!ours || *ours != nlohmann::json::parse(Doc(which))) {
    std::fprintf(stderr, "ParseJson and nlohmann disagree on document %d\n", which);
    std::abort();
  }
}

void BM_ParseJson(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  Check(which);
  for (auto _ : state) benchmark::DoNotOptimize(troad::ParseJson(Doc(which), "bench"));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Doc(which).size()));
  state.SetLabel(which == 0 ? "signature part" : "add-entries body, 1000 entries");
}
BENCHMARK(BM_ParseJson)->Arg(0)->Arg(1);

void BM_NlohmannParse(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(nlohmann::json::parse(Doc(which), nullptr, false));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Doc(which).size()));
  state.SetLabel(which == 0 ? "signature part" : "add-entries body, 1000 entries");
}
BENCHMARK(BM_NlohmannParse)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
