-- wrk script for the gateway benchmark: the same X-Road REST call for every target.
--
-- Each request is `POST <url path>` with `X-Road-Client`, `Content-Type: application/json`
-- and a JSON body of exactly BENCH_BODY_BYTES bytes (default 1024). nginx targets get the
-- identical request, so the bytes on the wire are the same for every target.
--
-- Every status other than BENCH_EXPECT_STATUS (default 200) is counted: wrk itself only
-- counts statuses above 399, and a gateway answering 1xx/3xx/204 must not pass as success.
-- done() prints one machine-readable line starting with "BENCH_RESULT" that
-- bench/gateway_vs_nginx.py parses (latencies in microseconds).
--
-- Standalone use:
--   BENCH_XROAD_CLIENT=TW/GOV/BLI/insurance wrk -t2 -c64 -d15s --latency \
--     -s bench/gateway/post_1k.lua http://127.0.0.1:8080/r1/TW/GOV/MOI/household/bench

local client = os.getenv("BENCH_XROAD_CLIENT") or "TW/GOV/BLI/insurance"
local size = tonumber(os.getenv("BENCH_BODY_BYTES") or "1024")
local expect = tonumber(os.getenv("BENCH_EXPECT_STATUS") or "200")

local head = '{"query":"bench","pad":"'
local tail = '"}'
if size < #head + #tail then
  size = #head + #tail
end

wrk.method = "POST"
wrk.body = head .. string.rep("x", size - #head - #tail) .. tail
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Road-Client"] = client

-- setup() and done() share one Lua state; each thread has its own, read back via get().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad_status = 0
  first_bad_status = 0
end

function response(status, headers, body)
  if status ~= expect then
    bad_status = bad_status + 1
    if first_bad_status == 0 then
      first_bad_status = status
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("bad_status")
    local f = t:get("first_bad_status")
    if first == 0 and f ~= 0 then
      first = f
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d bytes=%d p50_us=%.1f p90_us=%.1f " ..
    "p99_us=%.1f p999_us=%.1f max_us=%.1f bad_status=%d first_bad_status=%d " ..
    "connect=%d read=%d write=%d timeout=%d status_gt399=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, bad, first,
    e.connect, e.read, e.write, e.timeout, e.status))
end
