#!/usr/bin/env python3
"""Is there a latency spike at batch boundaries? (issue 4)

p99.9 of a saturating wrk run cannot say: on a shared two-core host a single 100 ms
stall from anywhere holds up all 64 connections, and the network without timestamping
shows such stalls too. This measures it directly. It starts the nginx backend and a
`troad init` network whose gateways stamp batches at a `troad tsa` and ship digests to
a `troad ledger` (the same network as `gateway_vs_nginx.py --timestamping`), loads it
with wrk, and meanwhile

  - a probe sends one request at a time over its own keep-alive connection, about
    every 10 ms, and notes when each was sent and how long it took;
  - a poller reads both gateways' /metrics every 25 ms and notes when a timestamp batch
    was stored (troad_gateway_timestamp_batches_total) or a shipment answered
    (troad_gateway_ledger_requests_total) — the moments the background work ends.

A probe is "at a boundary" when it overlaps the 200 ms before such a moment or the 50
ms after it (the work itself runs just before the counter moves). The latencies of the
probes at boundaries are printed next to those of all the others, from the same run:
a spike at batch boundaries shows as a higher p90/p99/max at boundaries.

    python3 bench/batch_boundaries.py --troad build-rel/bin/troad --duration 20

Everything on 127.0.0.1; every process is started here and stopped by PID at the end.
"""

import argparse
import http.client
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_vs_nginx as g  # noqa: E402  (the shared set-up: nginx, troad, wrk)

BEFORE_S = 0.200  # a boundary's window before the counter moves
AFTER_S = 0.050  # and after
COUNTERS = ("troad_gateway_timestamp_batches_total", "troad_gateway_ledger_requests_total")


def admin_urls(base):
    """The /metrics URLs of both gateways of the timestamping network in `base`."""
    out = []
    for name in (g.CONSUMER_GATEWAY, g.PROVIDER_GATEWAY):
        config = Path(g.GATEWAY_CONFIG.format(out=base / "troad-ts-run" / "troad", name=name))
        m = re.search(r'^admin\s*=\s*"([^"]+)"', config.read_text(), re.MULTILINE)
        if not m:
            raise g.SetupError(f"{config}: no [listen] admin address")
        out.append(f"http://{m.group(1)}/metrics")
    return out


def read_counters(url):
    text = urllib.request.urlopen(url, timeout=2).read().decode()
    values = {}
    for line in text.splitlines():
        for name in COUNTERS:
            if line.startswith(name + " "):
                values[name] = float(line.split()[1])
    return values


def poll(urls, stop, events):
    last = {}
    while not stop.is_set():
        now = time.monotonic()
        for url in urls:
            try:
                values = read_counters(url)
            except OSError:
                continue
            for name, v in values.items():
                key = (url, name)
                if key in last and v > last[key]:
                    events.append((now, name))
                last[key] = v
        time.sleep(0.025)


def probe(url, stop, samples):
    parsed = urllib.request.urlparse(url)
    body = g.request_body().encode()
    headers = {"X-Road-Client": g.XROAD_CLIENT, "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    while not stop.is_set():
        start = time.monotonic()
        try:
            conn.request("POST", parsed.path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            ok = False
        end = time.monotonic()
        samples.append((start, end, ok))
        time.sleep(max(0.0, 0.010 - (end - start)))
    conn.close()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def describe(name, latencies):
    ms = [x * 1e3 for x in latencies]
    return (f"{name:<22} {len(ms):>6} {percentile(ms, 50):>8.1f} {percentile(ms, 90):>8.1f} "
            f"{percentile(ms, 99):>8.1f} {max(ms) if ms else float('nan'):>8.1f}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--troad", required=True, help="troad binary (Release build)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load (20)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    ap.add_argument("--nginx", default="nginx")
    ap.add_argument("--wrk", default="wrk")
    ap.add_argument("--cpus", default="auto", help="as gateway_vs_nginx.py --cpus")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (configs, logs of every process)")
    args = ap.parse_args(argv)
    args.warmup = 0
    children = g.Children()
    base = Path(tempfile.mkdtemp(prefix="troad-boundaries-"))
    base.chmod(0o711)
    try:
        g.pin_cpus(args.cpus)
        pki = base / "pki"
        g.make_pki(pki)
        (p_backend,) = g.free_ports(1)
        g.Nginx(children, args.nginx, base, "backend", "nginx_backend.conf.in",
                {"WORKERS": 2, "PKI": pki, "PORT": p_backend,
                 "RESPONSE_BODY": g.backend_body()})
        url, _ = g.start_troad(children, args.troad, base, p_backend, timestamping=True)
        urls = admin_urls(base)
        wrk = g.Wrk(children, args.wrk, base, args)
        g.log("warm-up (5 s)")
        wrk.run("warmup", url, 5)
        stop = threading.Event()
        events, samples = [], []
        threads = [threading.Thread(target=poll, args=(urls, stop, events)),
                   threading.Thread(target=probe, args=(url, stop, samples))]
        for t in threads:
            t.start()
        g.log(f"load: wrk -t{args.threads} -c{args.connections} for {args.duration:.0f} s, "
              "with the probe and the poller")
        try:
            r = wrk.run("load", url, int(args.duration))
        finally:
            stop.set()
            for t in threads:
                t.join()
        begin = min(s for s, _, _ in samples)
        end = max(e for _, e, _ in samples)
        samples = [s for s in samples if s[0] > begin + 1.0 and s[1] < end - 1.0]
        bad = sum(1 for _, _, ok in samples if not ok)
        windows = [(t - BEFORE_S, t + AFTER_S, name) for t, name in events]
        at, away = [], []
        at_kind = {name: [] for name in COUNTERS}
        for s, e, ok in samples:
            if not ok:
                continue
            kinds = {name for w_begin, w_end, name in windows if s < w_end and e > w_begin}
            (at if kinds else away).append(e - s)
            for name in kinds:
                at_kind[name].append(e - s)
        batches = sum(1 for _, n in events if n == COUNTERS[0])
        shipments = sum(1 for _, n in events if n == COUNTERS[1])
        print(f"\nwrk: {r['rps']:,.0f} req/s, p99 {g.fmt_ms(r['p99_us'])}, "
              f"p99.9 {g.fmt_ms(r['p999_us'])}, errors {r['errors']}")
        print(f"boundaries seen: {batches} timestamp batches, {shipments} shipments "
              f"(both gateways); window {BEFORE_S * 1e3:.0f} ms before to "
              f"{AFTER_S * 1e3:.0f} ms after each")
        print(f"probe latency (ms)     {'count':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
        print(describe("at a boundary", at))
        print(describe("  at a batch", at_kind[COUNTERS[0]]))
        print(describe("  at a shipment", at_kind[COUNTERS[1]]))
        print(describe("away from boundaries", away))
        if bad:
            print(f"{bad} probe requests failed")
        if at and away:
            ratio = percentile(at, 99) / percentile(away, 99)
            print(f"p99 at boundaries / away: {ratio:.2f}")
        return 0 if not bad else 1
    except (g.SetupError, g.Interrupted) as e:
        g.log(f"stopped: {e}")
        return 3
    finally:
        children.stop_all()
        if args.keep:
            g.log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
