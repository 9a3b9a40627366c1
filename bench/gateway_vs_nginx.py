#!/usr/bin/env python3
"""Side-by-side benchmark: troad's two gateways against an nginx two-hop mTLS chain.

In one run, on the same cores, it starts
  - a backend (nginx `return 200` with a fixed 1 KiB JSON body),
  - the nginx chain: client -> hop A (plain) -> mutual TLS 1.3 -> hop B -> backend,
  - optionally (--one-hop) one TLS hop: client -TLS-> nginx -> backend,
  - troad (--troad PATH): `troad init` from bench/gateway/network.toml.in, then a
    consumer and a provider `troad gateway` in front of the same backend,
and drives each with wrk (1 KiB JSON POST, bench/gateway/post_1k.lua), interleaving the
targets run by run so that drift hits all of them alike. It prints medians, the ratios
troad / nginx-chain for req/s and p99, and PASS/FAIL against the issue's targets
(req/s ratio >= 0.5, p99 ratio <= 2.0).

Exit status: 0 troad measured and PASS with clean runs; 1 troad measured but FAIL or a
run had errors; 2 troad not measured (no --troad, or it failed to start); 3 the nginx
side could not be set up or verified (no baseline, nothing to compare).

Python 3 standard library only. Everything binds 127.0.0.1; every child is started by
this script in its own session and stopped by PID at the end, also on Ctrl-C.
See bench/README.md.
"""

import argparse
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = BENCH_DIR / "gateway"
REPO_DIR = BENCH_DIR.parent
WRK_SCRIPT = TEMPLATE_DIR / "post_1k.lua"

# The X-Road call every target receives (nginx targets ignore path and headers).
XROAD_CLIENT = "TW/GOV/BLI/insurance"
SERVICE_PATH = "/r1/TW/GOV/MOI/household/bench"
BODY_BYTES = 1024

# troad side. The layout `troad init` writes is still being designed; keep every guess
# about it here and in bench/gateway/network.toml.in.
CONSUMER_GATEWAY = "bli-gw"
PROVIDER_GATEWAY = "moi-gw"
GATEWAY_CONFIG = "{out}/{name}/gateway.toml"

# The issue's targets.
TARGET_RPS_RATIO = 0.5  # troad req/s >= 0.5 x nginx chain
TARGET_P99_RATIO = 2.0  # troad p99 <= 2 x nginx chain
TARGET_TIMESTAMPING_RATIO = 0.9  # troad with timestamps >= 0.9 x troad without (issue 4)

# The name hop A checks in hop B's certificate. nginx matches proxy_ssl_name with
# X509_check_host, which looks at DNS names only, so the certificate carries this DNS
# name beside its IP address 127.0.0.1 (which curl checks).
HOP_B_NAME = "hop-b.troad-bench.test"

EXIT_OK, EXIT_FAIL, EXIT_TROAD_NOT_MEASURED, EXIT_SETUP = 0, 1, 2, 3


class SetupError(Exception):
    """The harness could not bring a target up or verify it; the message says why."""


class Interrupted(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loud(msg):
    log("!!! " + msg)


# --------------------------------------------------------------------------- processes


class Children:
    """Every process this script starts, so that all of them are stopped by PID."""

    def __init__(self):
        self._procs = []  # (name, Popen, stop signal, log file)

    def start(self, name, argv, log_path, stop_signal=signal.SIGTERM, env=None, cwd=None):
        log_file = open(log_path, "wb")
        try:
            # A session of its own: Ctrl-C at the terminal reaches only this script,
            # which then stops the children in order; and the group id (= the child's
            # PID) lets a SIGKILL reach nginx's workers too.
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=env, cwd=cwd)
        except OSError as e:
            log_file.close()
            raise SetupError(f"cannot start {name} ({argv[0]}): {e}") from e
        self._procs.append((name, proc, stop_signal, log_file))
        return proc

    def stop(self, proc, timeout=10.0):
        for entry in list(self._procs):
            if entry[1] is proc:
                self._stop(*entry, timeout=timeout)
                self._procs.remove(entry)

    def stop_all(self):
        for entry in reversed(self._procs):
            self._stop(*entry)
        self._procs.clear()

    @staticmethod
    def _stop(name, proc, stop_signal, log_file, timeout=10.0):
        try:
            if proc.poll() is None:
                try:
                    proc.send_signal(stop_signal)
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    log(f"{name} (pid {proc.pid}) did not stop in {timeout:.0f} s; SIGKILL")
                    # The child is not reaped yet, so its PID (= its process group id)
                    # cannot have been reused: this reaches exactly its own group.
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            log(f"could not stop {name} (pid {proc.pid}): {e}")
        finally:
            log_file.close()


def run_checked(argv, what, timeout=60, cwd=None):
    try:
        r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SetupError(f"{what}: {' '.join(map(str, argv))}: {e}") from e
    if r.returncode != 0:
        raise SetupError(f"{what}: {' '.join(map(str, argv))} exited {r.returncode}:\n"
                         f"{r.stdout}{r.stderr}")
    return r.stdout


def free_ports(n):
    """n distinct free loopback ports (held open together so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for_port(port, proc, name, log_path, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"{name} exited with status {proc.returncode} before "
                             f"listening on 127.0.0.1:{port}:\n{tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.05)
    raise SetupError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s:\n"
                     f"{tail(log_path)}")


def group_cpu_seconds(pgids):
    """User + system CPU seconds used so far by every live process in these process
    groups (each process this script starts leads its own group; nginx workers and
    gateway threads are counted with it)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) in pgids:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def tail(path, lines=15):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join("    " + line for line in text[-lines:]) or f"    ({path} is empty)"


def render(template, values):
    """Substitutes @KEY@ placeholders; refuses unknown or unused ones."""
    text = (TEMPLATE_DIR / template).read_text()
    found = set(re.findall(r"@([A-Z][A-Z0-9_]*)@", text))
    missing = found - set(values)
    if missing:
        raise SetupError(f"{TEMPLATE_DIR / template}: no value for placeholder(s) "
                         f"{', '.join(sorted(missing))}")
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    return text


# --------------------------------------------------------------------------- PKI


def make_pki(pki):
    """A private CA, hop B's server certificate, hop A's client certificate, and a
    rogue client certificate from another CA (to check that hop B refuses it).
    All keys ECDSA P-256, made with the openssl command line."""
    pki.mkdir(mode=0o700)

    def key(name):
        run_checked(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", pki / f"{name}.key"], "key")

    def self_signed(name, cn):
        key(name)
        run_checked(["openssl", "req", "-x509", "-new", "-key", pki / f"{name}.key",
                     "-sha256", "-days", "2", "-subj", f"/CN={cn}",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                     "-out", pki / f"{name}.crt"], "CA certificate")

    def issue(name, cn, ca, extensions):
        key(name)
        run_checked(["openssl", "req", "-new", "-key", pki / f"{name}.key",
                     "-subj", f"/CN={cn}", "-out", pki / f"{name}.csr"], "CSR")
        (pki / f"{name}.ext").write_text("\n".join(extensions) + "\n")
        run_checked(["openssl", "x509", "-req", "-in", pki / f"{name}.csr",
                     "-CA", pki / f"{ca}.crt", "-CAkey", pki / f"{ca}.key",
                     "-set_serial", "0x" + secrets.token_hex(12), "-days", "2",
                     "-sha256", "-extfile", pki / f"{name}.ext",
                     "-out", pki / f"{name}.crt"], "certificate")

    leaf = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"]
    self_signed("ca", "troad bench CA")
    issue("hop_b", "hop B", "ca",
          leaf + ["extendedKeyUsage=serverAuth",
                  f"subjectAltName=IP:127.0.0.1,DNS:{HOP_B_NAME}"])
    issue("hop_a", "hop A", "ca", leaf + ["extendedKeyUsage=clientAuth"])
    self_signed("rogue_ca", "not the bench CA")
    issue("rogue", "rogue client", "rogue_ca", leaf + ["extendedKeyUsage=clientAuth"])
    run_checked(["openssl", "verify", "-CAfile", pki / "ca.crt",
                 pki / "hop_b.crt", pki / "hop_a.crt"], "verifying the chain certificates")


# --------------------------------------------------------------------------- nginx


class Nginx:
    """One nginx instance with its own prefix, pid file and error log."""

    def __init__(self, children, nginx_bin, base, name, template, values):
        self.name = name
        self.prefix = base / name
        self.prefix.mkdir()
        (self.prefix / "tmp").mkdir()
        self.port = values["PORT"]
        conf = self.prefix / "nginx.conf"
        conf.write_text(render(template, dict(values, PREFIX=self.prefix)))
        self.error_log = self.prefix / "error.log"
        argv = [nginx_bin, "-p", f"{self.prefix}/", "-c", str(conf),
                "-e", str(self.error_log), "-g", "daemon off;"]
        run_checked(argv[:-2] + ["-t", "-q"], f"nginx -t for {name}")
        self.proc = children.start(name, argv, self.prefix / "stdout.log",
                                   stop_signal=signal.SIGQUIT)
        wait_for_port(self.port, self.proc, f"nginx {name}", self.error_log)


def backend_body():
    """The backend's fixed 1 KiB JSON answer (no characters nginx would interpret)."""
    head = '{"status":"ok","service":"TW/GOV/MOI/household/bench","data":"'
    tail_ = '"}'
    return head + "y" * (BODY_BYTES - len(head) - len(tail_)) + tail_


def request_body():
    """Same bytes as bench/gateway/post_1k.lua sends."""
    head, tail_ = '{"query":"bench","pad":"', '"}'
    return head + "x" * (BODY_BYTES - len(head) - len(tail_)) + tail_


def curl(url, base, *extra):
    """(HTTP status or None, body, curl's message) for one POST like wrk's."""
    body_file = base / "curl_request.json"
    body_file.write_text(request_body())
    out_file = base / "curl_response"
    if out_file.exists():
        out_file.unlink()
    argv = ["curl", "-sS", "--max-time", "10", "-o", str(out_file), "-w", "%{http_code}",
            "-X", "POST", "-H", "Content-Type: application/json",
            "-H", f"X-Road-Client: {XROAD_CLIENT}", "--data-binary", f"@{body_file}",
            *extra, url]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "", str(e)
    code = int(r.stdout) if r.stdout.strip().isdigit() else 0
    body = out_file.read_text(errors="replace") if out_file.exists() else ""
    return (code or None), body, r.stderr.strip()


def verify_nginx_chain(base, pki, backend, hop_b, hop_a, one_hop):
    """Proves the chain is what it claims before it is measured; SetupError otherwise."""
    expected = backend_body()
    cert = ["--cert", str(pki / "hop_a.crt"), "--key", str(pki / "hop_a.key")]
    cacert = ["--cacert", str(pki / "ca.crt")]
    checks = [
        ("backend answers 200 with its 1 KiB body",
         f"http://127.0.0.1:{backend.port}{SERVICE_PATH}", [], True),
        ("hop B answers a client with the CA's client certificate",
         f"https://127.0.0.1:{hop_b.port}{SERVICE_PATH}", cacert + cert, True),
        ("whole chain (hop A -> mTLS -> hop B -> backend) answers 200 with the body",
         f"http://127.0.0.1:{hop_a.port}{SERVICE_PATH}", [], True),
        ("hop B refuses a client without a certificate",
         f"https://127.0.0.1:{hop_b.port}{SERVICE_PATH}", cacert, False),
        ("hop B refuses a client certificate from another CA",
         f"https://127.0.0.1:{hop_b.port}{SERVICE_PATH}",
         cacert + ["--cert", str(pki / "rogue.crt"), "--key", str(pki / "rogue.key")],
         False),
    ]
    if one_hop is not None:
        checks.append(("one TLS hop answers 200 with the body",
                       f"https://127.0.0.1:{one_hop.port}{SERVICE_PATH}", cacert, True))
    for what, url, extra, should_pass in checks:
        code, body, msg = curl(url, base, *extra)
        if should_pass:
            ok = code == 200 and body == expected
            seen = f"HTTP {code}, {len(body)}-byte body" + ("" if body == expected
                                                           else " (not the backend's)")
        else:
            ok = code != 200
            seen = f"HTTP {code}" if code else f"refused: {msg or 'no response'}"
        log(f"  check: {what}: {seen} -> {'ok' if ok else 'WRONG'}")
        if not ok:
            raise SetupError(f"check failed: {what} ({url}): {seen} {msg}\n"
                             f"  hop A log:\n{tail(hop_a.error_log)}\n"
                             f"  hop B log:\n{tail(hop_b.error_log)}")


# --------------------------------------------------------------------------- beast


def start_beast_chain(children, proxy_bin, base, pki, backend_port, workers):
    """Two bare Beast proxies (bench/beast_proxy.cpp) chained like the nginx hops: the
    framework's own cost, without anything a gateway does. Returns (url, pids);
    SetupError if they do not start or the chain does not answer like the backend."""
    proxy_bin = Path(proxy_bin).resolve()
    if not (proxy_bin.is_file() and os.access(proxy_bin, os.X_OK)):
        raise SetupError(f"--beast-proxy {proxy_bin}: not an executable file "
                         "(build it with -DTROAD_BUILD_BENCHMARKS=ON)")
    p_b, p_a = free_ports(2)
    threads = ["--threads", str(workers)]
    hop_b_argv = [str(proxy_bin), "--listen", str(p_b), "--upstream", str(backend_port),
                  "--tls-cert", str(pki / "hop_b.crt"), "--tls-key", str(pki / "hop_b.key"),
                  "--tls-client-ca", str(pki / "ca.crt"), *threads]
    hop_a_argv = [str(proxy_bin), "--listen", str(p_a), "--upstream", str(p_b),
                  "--upstream-cert", str(pki / "hop_a.crt"),
                  "--upstream-key", str(pki / "hop_a.key"),
                  "--upstream-ca", str(pki / "ca.crt"), "--upstream-name", HOP_B_NAME,
                  *threads]
    procs = []
    for name, argv, port in (("beast hop B", hop_b_argv, p_b), ("beast hop A", hop_a_argv, p_a)):
        log_path = base / f"{name.replace(' ', '_')}.log"
        proc = children.start(name, argv, log_path)
        wait_for_port(port, proc, name, log_path)
        procs.append(proc)
    url = f"http://127.0.0.1:{p_a}{SERVICE_PATH}"
    code, body, msg = curl(url, base)
    ok = code == 200 and body == backend_body()
    log(f"  check: beast chain (hop A -> mTLS -> hop B -> backend) answers 200 with the "
        f"body: HTTP {code} -> {'ok' if ok else 'WRONG'}")
    if not ok:
        raise SetupError(f"beast chain {url} answered {code or msg}: {body[:300]}")
    code, _, msg = curl(f"https://127.0.0.1:{p_b}{SERVICE_PATH}", base,
                        "--cacert", str(pki / "ca.crt"))
    log(f"  check: beast hop B refuses a client without a certificate: "
        f"{'HTTP ' + str(code) if code else 'refused'} -> {'ok' if code != 200 else 'WRONG'}")
    if code == 200:
        raise SetupError("beast hop B answered a client without a certificate")
    return url, [proc.pid for proc in procs]


# --------------------------------------------------------------------------- troad


def start_troad(children, troad_bin, base, backend_port, timestamping=False):
    """Runs `troad init` and starts both gateways; returns the consumer's URL. With
    `timestamping`, the network gets a timestamping authority (`troad tsa`, network
    [tsa]) that both gateways stamp their record batches at, and a transparency ledger
    (`troad ledger`, network [ledger]) both ship their record digests to; their PIDs
    are returned with the gateways'. Raises SetupError with the reason if anything fails."""
    if not Path(troad_bin).is_file() and shutil.which(troad_bin):
        troad_bin = shutil.which(troad_bin)
    troad_bin = Path(troad_bin).resolve()
    if not (troad_bin.is_file() and os.access(troad_bin, os.X_OK)):
        raise SetupError(f"--troad {troad_bin}: not an executable file")
    names = ["CONSUMER_LOCAL_PORT", "CONSUMER_PEER_PORT", "CONSUMER_ADMIN_PORT",
             "PROVIDER_LOCAL_PORT", "PROVIDER_PEER_PORT", "PROVIDER_ADMIN_PORT"]
    ports = free_ports(len(names) + 2)
    values = dict(zip(names, ports))
    tsa_port, ledger_port = ports[-2], ports[-1]
    values.update(CONSUMER_GATEWAY=CONSUMER_GATEWAY, PROVIDER_GATEWAY=PROVIDER_GATEWAY,
                  BACKEND_URL=f"http://127.0.0.1:{backend_port}")
    tdir = base / ("troad-ts-run" if timestamping else "troad-run")
    tdir.mkdir()
    network = tdir / "network.toml"
    text = render("network.toml.in", values)
    if timestamping:
        text += f'\n[tsa]\nlisten = "127.0.0.1:{tsa_port}"\n'
        text += f'\n[ledger]\nlisten = "127.0.0.1:{ledger_port}"\n'
    network.write_text(text)
    out = tdir / "troad"
    log(f"troad: {troad_bin} init --network {network} --out {out}")
    run_checked([troad_bin, "init", "--network", network, "--out", out],
                "troad init", timeout=120, cwd=tdir)
    ready = [(CONSUMER_GATEWAY, values["CONSUMER_LOCAL_PORT"]),
             (PROVIDER_GATEWAY, values["PROVIDER_PEER_PORT"])]
    procs = {}
    if timestamping:
        tsa_dir = out / "tsa"
        tsa_log = tdir / "tsa.log"
        procs["tsa"] = (children.start(
            "troad tsa", [str(troad_bin), "tsa", "--certificate", str(tsa_dir / "tsa.crt"),
                          "--key", str(tsa_dir / "tsa.key"), "--listen",
                          f"127.0.0.1:{tsa_port}", "--data-dir", str(tsa_dir / "data")],
            tsa_log, cwd=tdir), tsa_log)
        wait_for_port(tsa_port, procs["tsa"][0], "troad tsa", tsa_log, timeout=30.0)
        ledger_dir = out / "ledger"
        ledger_log = tdir / "ledger.log"
        procs["ledger"] = (children.start(
            "troad ledger", [str(troad_bin), "ledger", "--key", str(ledger_dir / "ledger.key"),
                             "--globalconf", str(out / "globalconf.json"), "--origin",
                             "troad-ledger/TW", "--listen", f"127.0.0.1:{ledger_port}",
                             "--data-dir", str(ledger_dir / "data")],
            ledger_log, cwd=tdir), ledger_log)
        wait_for_port(ledger_port, procs["ledger"][0], "troad ledger", ledger_log, timeout=30.0)
    for name, _ in ready:
        config = Path(GATEWAY_CONFIG.format(out=out, name=name))
        if not config.is_file():
            raise SetupError(f"troad init did not write {config} (GATEWAY_CONFIG in "
                             f"{Path(__file__).name} guesses the layout)")
        log_path = tdir / f"{name}.log"
        procs[name] = (children.start(f"troad gateway {name}",
                                      [str(troad_bin), "gateway", "--config", str(config)],
                                      log_path, cwd=tdir), log_path)
    for name, port in ready:
        proc, log_path = procs[name]
        wait_for_port(port, proc, f"troad gateway {name}", log_path, timeout=30.0)
    url = f"http://127.0.0.1:{values['CONSUMER_LOCAL_PORT']}{SERVICE_PATH}"
    # The first call may wait on key loading or a first handshake; allow a few tries.
    deadline = time.monotonic() + 15.0
    while True:
        code, body, msg = curl(url, base)
        if code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if code != 200:
        logs = "\n".join(f"  {n} log:\n{tail(p)}" for n, (_, p) in procs.items())
        raise SetupError(f"troad smoke call {url} answered {code or msg}: "
                         f"{body[:300]}\n{logs}")
    if body != backend_body():
        loud(f"troad answered 200 but not with the backend's body ({len(body)} bytes)")
    log(f"  check: troad consumer gateway answers 200 ({len(body)}-byte body) -> ok")
    return url, [proc.pid for proc, _ in procs.values()]


# --------------------------------------------------------------------------- wrk


UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_wrk(text):
    """Figures from wrk's text output and the BENCH_RESULT line of post_1k.lua.
    Latencies in microseconds; None for anything wrk did not print."""
    r = {"rps": None, "p50_us": None, "p99_us": None, "p999_us": None,
         "requests": None, "bad_status": None, "first_bad_status": 0,
         "non_2xx_3xx": 0, "socket_errors": {"connect": 0, "read": 0, "write": 0,
                                             "timeout": 0}}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
        if m:
            r[key] = float(m.group(1)) * UNITS_US[m.group(2)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                  text)
    if m:
        r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                      map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non_2xx_3xx"] = int(m.group(1))
    m = re.search(r"^BENCH_RESULT (.*)$", text, re.M)
    if m:
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        # The script's percentiles are exact microseconds; wrk's text rounds them.
        r["p50_us"] = float(fields["p50_us"])
        r["p99_us"] = float(fields["p99_us"])
        r["p999_us"] = float(fields["p999_us"])
        r["requests"] = int(fields["requests"])
        r["bad_status"] = int(fields["bad_status"])
        r["first_bad_status"] = int(fields["first_bad_status"])
    m = re.search(r"(\d+) requests in ", text)
    if m and r["requests"] is None:
        r["requests"] = int(m.group(1))
    bad = r["bad_status"] if r["bad_status"] is not None else r["non_2xx_3xx"]
    r["errors"] = bad + sum(r["socket_errors"].values())
    return r


class Wrk:
    def __init__(self, children, wrk_bin, base, args):
        self.children = children
        self.wrk_bin = wrk_bin
        self.base = base
        self.args = args
        self.count = 0

    def run(self, label, url, duration):
        self.count += 1
        out = self.base / f"wrk-{self.count:03d}-{label}.txt"
        argv = [self.wrk_bin, f"-t{self.args.threads}", f"-c{self.args.connections}",
                f"-d{duration}s", "--latency", "-s", str(WRK_SCRIPT), url]
        env = dict(os.environ, BENCH_XROAD_CLIENT=XROAD_CLIENT,
                   BENCH_BODY_BYTES=str(BODY_BYTES), BENCH_EXPECT_STATUS="200")
        proc = self.children.start(f"wrk {label}", argv, out, stop_signal=signal.SIGINT,
                                   env=env)
        try:
            proc.wait(timeout=duration + 30)
        except subprocess.TimeoutExpired:
            self.children.stop(proc)
            raise SetupError(f"wrk against {label} did not finish in {duration + 30} s")
        self.children.stop(proc)  # already exited: closes the log
        text = out.read_text(errors="replace")
        if proc.returncode != 0:
            raise SetupError(f"wrk against {label} exited {proc.returncode}:\n{text}")
        r = parse_wrk(text)
        if r["rps"] is None or r["p99_us"] is None:
            raise SetupError(f"could not read wrk's output ({out}):\n{text}")
        return r


# --------------------------------------------------------------------------- report


def machine_info():
    info = {"cpu_model": "unknown", "nproc": None, "cpus_used": None, "commit": "unknown"}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True,
                                           timeout=5).stdout.strip())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        info["nproc"] = os.cpu_count()
    info["cpus_used"] = sorted(os.sched_getaffinity(0))
    try:
        r = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0:
            info["commit"] = r.stdout.strip()
            # --no-optional-locks: never take the index lock of a tree others work in.
            d = subprocess.run(["git", "--no-optional-locks", "-C", str(REPO_DIR),
                                "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
            if d.returncode == 0 and d.stdout.strip():
                info["commit"] += "-dirty"
    except (OSError, subprocess.TimeoutExpired):
        pass
    info["loadavg_at_start"] = os.getloadavg()[0]
    return info


def tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        first = (r.stdout + r.stderr).strip().splitlines()
        return first[0] if first else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def summarize(runs):
    def med(key):
        vals = [r[key] for r in runs if r[key] is not None]
        return statistics.median(vals) if vals else None
    return {"rps": med("rps"), "p50_us": med("p50_us"), "p99_us": med("p99_us"),
            "p999_us": med("p999_us"), "errors": sum(r["errors"] for r in runs),
            "cpu_us_per_req": med("cpu_us_per_req"), "runs": len(runs)}


def fmt_cpu(us):
    return "-" if us is None else f"{us:.0f} us"


def fmt_ms(us):
    return "-" if us is None else f"{us / 1000:.2f} ms"


def print_table(targets, results):
    print()
    print(f"{'target':<44} {'req/s':>9} {'p50':>10} {'p99':>10} {'p99.9':>10} {'errors':>7}"
          f" {'CPU/req':>9}")
    for key, label, _ in targets:
        s = results[key]["median"]
        flag = "  <-- ERRORS" if s["errors"] else ""
        print(f"{label:<44} {s['rps']:>9,.0f} {fmt_ms(s['p50_us']):>10} "
              f"{fmt_ms(s['p99_us']):>10} {fmt_ms(s['p999_us']):>10} {s['errors']:>7}"
              f" {fmt_cpu(s['cpu_us_per_req']):>9}{flag}")
    print("(CPU/req: CPU time of the target's own processes per request: both proxies "
          "of a chain, not wrk or the backend)")


def write_markdown(path, info, args, targets, results, ratios, command):
    lines = [f"Measured {info['date']} on {info['cpu_model']}, nproc {info['nproc']}, "
             f"commit {info['commit']}; wrk -t{args.threads} -c{args.connections}, "
             f"1 KiB POST, medians of {args.runs} runs of {args.duration} s.", "",
             "| target | req/s | p50 | p99 | p99.9 | errors | CPU per request |",
             "|---|---|---|---|---|---|---|"]
    for key, label, _ in targets:
        s = results[key]["median"]
        lines.append(f"| {label} | {s['rps']:,.0f} | {fmt_ms(s['p50_us'])} | "
                     f"{fmt_ms(s['p99_us'])} | {fmt_ms(s['p999_us'])} | {s['errors']} | "
                     f"{fmt_cpu(s['cpu_us_per_req']).replace('us', 'µs')} |")
    lines += ["", "CPU per request: user + system time of the target's own processes "
              "(both proxies of a chain; not wrk, not the backend) divided by requests."]
    if ratios:
        lines += ["", f"troad / nginx two-hop: req/s {ratios['rps']:.2f} (target ≥ "
                  f"{TARGET_RPS_RATIO}), p99 {ratios['p99']:.2f} (target ≤ "
                  f"{TARGET_P99_RATIO}): **{ratios['verdict']}**"]
    else:
        lines += ["", "troad not measured."]
    lines += ["", "```", command, "```", ""]
    Path(path).write_text("\n".join(lines))


# --------------------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="troad's two gateways vs an nginx two-hop mutual-TLS chain (wrk).")
    p.add_argument("--troad", metavar="PATH", help="troad binary; without it only the "
                   "nginx side is measured (exit status 2)")
    p.add_argument("--duration", type=int, default=15, help="seconds per run (15)")
    p.add_argument("--runs", type=int, default=3, help="runs per target (3)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per target (3)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    p.add_argument("--nginx-workers", type=int, default=2,
                   help="worker_processes of every nginx instance (2)")
    p.add_argument("--beast-proxy", metavar="PATH",
                   help="also measure two bare Beast/Asio proxies chained like the nginx "
                   "hops (build/bin/beast_proxy, -DTROAD_BUILD_BENCHMARKS=ON): the cost "
                   "of the framework troad is built on, without signing or logging")
    p.add_argument("--timestamping", action="store_true",
                   help="also measure troad with its record batches timestamped by a "
                   "`troad tsa` authority and its records shipped to a `troad ledger` (the "
                   "CPU of both counts), next to troad without; target: within 10 %% of "
                   "the rate without")
    p.add_argument("--one-hop", action="store_true",
                   help="also measure one TLS hop (client -TLS-> nginx -> backend)")
    p.add_argument("--cpus", default="auto", help="CPUs everything runs on: 'auto' (the "
                   "first two this process may use), 'all', or a list like 0,1")
    p.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    p.add_argument("--markdown", metavar="FILE",
                   help="write a Markdown table (for docs/performance.md)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temp dir (configs, certificates, logs, wrk output)")
    p.add_argument("--nginx", default="nginx", help="nginx binary (nginx)")
    p.add_argument("--wrk", default="wrk", help="wrk binary (wrk)")
    args = p.parse_args(argv)
    for name in ("duration", "runs", "threads", "connections", "nginx_workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must not be negative")
    if args.connections < args.threads:
        p.error("--connections must be at least --threads (wrk's rule)")
    return args


def pin_cpus(spec):
    """Restricts this process (and so every child) to the CPUs the comparison is on."""
    if spec == "all":
        return
    allowed = sorted(os.sched_getaffinity(0))
    if spec == "auto":
        cpus = allowed[:2]
    else:
        try:
            cpus = sorted({int(c) for c in spec.split(",")})
        except ValueError:
            raise SetupError(f"--cpus {spec!r}: expected 'auto', 'all' or a list like 0,1")
        if not set(cpus) <= set(allowed):
            raise SetupError(f"--cpus {spec}: this process may only use {allowed}")
    os.sched_setaffinity(0, cpus)


def main(argv):
    args = parse_args(argv)
    command = "python3 bench/gateway_vs_nginx.py " + " ".join(argv)
    for tool in ("openssl", "curl", args.nginx, args.wrk):
        if shutil.which(tool) is None:
            log(f"{tool} not found; on Debian: apt-get install -y wrk nginx-light curl openssl")
            return EXIT_SETUP

    def on_signal(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    children = Children()
    base = Path(tempfile.mkdtemp(prefix="troad-bench-"))
    # nginx workers drop root to "nobody": they may pass through, not list.
    base.chmod(0o711)
    exit_code = EXIT_SETUP
    try:
        pin_cpus(args.cpus)
        info = machine_info()
        info["date"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        info["nginx"] = tool_version([args.nginx, "-v"])
        info["wrk"] = tool_version([args.wrk, "--version"]).split(" Copyright")[0]
        info["openssl"] = tool_version(["openssl", "version"])
        log(f"CPU {info['cpu_model']}, nproc {info['nproc']}, running on CPUs "
            f"{info['cpus_used']}, commit {info['commit']}, load {info['loadavg_at_start']:.2f}")
        if info["loadavg_at_start"] > 0.5:
            loud(f"load average is {info['loadavg_at_start']:.2f}: something else is using "
                 "the CPUs; absolute figures will be low, ratios noisier")
        log(f"work dir {base}")

        pki = base / "pki"
        make_pki(pki)
        p_backend, p_hop_b, p_hop_a, p_one = free_ports(4)
        common = {"WORKERS": args.nginx_workers, "PKI": pki}
        backend = Nginx(children, args.nginx, base, "backend", "nginx_backend.conf.in",
                        dict(common, PORT=p_backend, RESPONSE_BODY=backend_body()))
        hop_b = Nginx(children, args.nginx, base, "hop_b", "nginx_hop_b.conf.in",
                      dict(common, PORT=p_hop_b, BACKEND_PORT=p_backend))
        hop_a = Nginx(children, args.nginx, base, "hop_a", "nginx_hop_a.conf.in",
                      dict(common, PORT=p_hop_a, HOP_B_PORT=p_hop_b, HOP_B_NAME=HOP_B_NAME))
        one_hop = None
        if args.one_hop:
            one_hop = Nginx(children, args.nginx, base, "one_hop", "nginx_one_hop.conf.in",
                            dict(common, PORT=p_one, BACKEND_PORT=p_backend))
        log("nginx: backend :%d, hop B :%d (mTLS), hop A :%d" % (p_backend, p_hop_b, p_hop_a))
        verify_nginx_chain(base, pki, backend, hop_b, hop_a, one_hop)

        # Whose CPU time counts for each target: the proxies only, not wrk or backend.
        groups = {"backend": {backend.proc.pid},
                  "nginx_two_hop": {hop_a.proc.pid, hop_b.proc.pid}}
        if one_hop is not None:
            groups["nginx_one_hop"] = {one_hop.proc.pid}
        targets = [("backend", "backend alone (nginx return 200)",
                    f"http://127.0.0.1:{p_backend}{SERVICE_PATH}")]
        if one_hop is not None:
            targets.append(("nginx_one_hop", "nginx one TLS hop",
                            f"https://127.0.0.1:{p_one}{SERVICE_PATH}"))
        targets.append(("nginx_two_hop", "nginx two hops, mTLS between",
                        f"http://127.0.0.1:{p_hop_a}{SERVICE_PATH}"))

        if args.beast_proxy:
            beast_url, beast_pids = start_beast_chain(children, args.beast_proxy, base, pki,
                                                      p_backend, args.nginx_workers)
            targets.append(("beast_two_hop", "bare Beast two hops, mTLS between",
                            beast_url))
            groups["beast_two_hop"] = set(beast_pids)

        troad_error = None
        if args.troad:
            try:
                troad_url, troad_pids = start_troad(children, args.troad, base, p_backend)
                targets.append(("troad", "troad two gateways (signed, durable log)",
                                troad_url))
                groups["troad"] = set(troad_pids)
            except SetupError as e:
                troad_error = str(e)
                loud(f"troad side failed to start; measuring nginx only:\n{e}")
            if args.timestamping and troad_error is None:
                ts_url, ts_pids = start_troad(children, args.troad, base, p_backend,
                                              timestamping=True)
                targets.append(("troad_ts", "troad, records timestamped (RFC 3161) and shipped to the ledger", ts_url))
                groups["troad_ts"] = set(ts_pids)
        else:
            troad_error = "no --troad given"

        wrk = Wrk(children, args.wrk, base, args)
        results = {key: {"label": label, "url": url, "runs": [], "warmup": None}
                   for key, label, url in targets}
        if args.warmup:
            for key, _, url in targets:
                log(f"warm-up {key} ({args.warmup} s)")
                w = wrk.run(f"warmup-{key}", url, args.warmup)
                results[key]["warmup"] = w
                if w["errors"]:
                    loud(f"warm-up of {key}: {w['errors']} errors")
        # Alternate the order run by run (A B C, C B A, ...) so slow drift of the
        # machine cancels between targets instead of favouring the first.
        for i in range(args.runs):
            order = targets if i % 2 == 0 else list(reversed(targets))
            for key, _, url in order:
                log(f"run {i + 1}/{args.runs} {key} ({args.duration} s)")
                cpu_before = group_cpu_seconds(groups[key])
                r = wrk.run(f"run{i + 1}-{key}", url, args.duration)
                cpu = group_cpu_seconds(groups[key]) - cpu_before
                r["cpu_us_per_req"] = (cpu * 1e6 / (r["rps"] * args.duration)
                                       if r["rps"] else None)
                results[key]["runs"].append(r)
                log(f"  {r['rps']:,.0f} req/s, p50 {fmt_ms(r['p50_us'])}, "
                    f"p99 {fmt_ms(r['p99_us'])}, p99.9 {fmt_ms(r['p999_us'])}, "
                    f"errors {r['errors']}")
                if r["errors"]:
                    se = r["socket_errors"]
                    loud(f"{key} run {i + 1}: {r['bad_status'] or 0} non-200 responses "
                         f"(first status {r['first_bad_status']}), socket errors connect "
                         f"{se['connect']} read {se['read']} write {se['write']} "
                         f"timeout {se['timeout']}")
        for key in results:
            results[key]["median"] = summarize(results[key]["runs"])
        info["loadavg_at_end"] = os.getloadavg()[0]

        print(f"\ngateway benchmark: 1 KiB JSON POST, wrk -t{args.threads} "
              f"-c{args.connections}, medians of {args.runs} x {args.duration} s, "
              f"CPUs {info['cpus_used']}")
        print(f"CPU {info['cpu_model']}, nproc {info['nproc']}, commit {info['commit']}, "
              f"{info['nginx']}, {info['wrk']}")
        print_table(targets, results)

        if "beast_two_hop" in results:
            b, n = results["beast_two_hop"]["median"], results["nginx_two_hop"]["median"]
            if b["rps"] and n["rps"]:
                print(f"\nbare Beast / nginx two-hop: req/s {b['rps'] / n['rps']:.2f}, p99 "
                      f"{b['p99_us'] / n['p99_us']:.2f} (the framework alone, no gateway work)")
        ratios = None
        any_errors = any(results[k]["median"]["errors"] for k in results)
        if "troad" in results:
            t, n = results["troad"]["median"], results["nginx_two_hop"]["median"]
            ratios = {"rps": t["rps"] / n["rps"], "p99": t["p99_us"] / n["p99_us"]}
            rps_ok = ratios["rps"] >= TARGET_RPS_RATIO
            p99_ok = ratios["p99"] <= TARGET_P99_RATIO
            clean = t["errors"] == 0
            ratios["verdict"] = "PASS" if rps_ok and p99_ok and clean else "FAIL"
            print(f"\ntroad / nginx two-hop: req/s {ratios['rps']:.2f} (target >= "
                  f"{TARGET_RPS_RATIO}) {'PASS' if rps_ok else 'FAIL'}; p99 "
                  f"{ratios['p99']:.2f} (target <= {TARGET_P99_RATIO}) "
                  f"{'PASS' if p99_ok else 'FAIL'}")
            if not clean:
                print(f"troad runs had {t['errors']} errors: FAIL whatever the rate")
            print(f"verdict: {ratios['verdict']}")
            exit_code = EXIT_OK if ratios["verdict"] == "PASS" and not any_errors \
                else EXIT_FAIL
        else:
            print(f"\nTROAD NOT MEASURED ({troad_error.splitlines()[0]}): only the nginx "
                  "side above; no ratio, no verdict.")
            exit_code = EXIT_TROAD_NOT_MEASURED
        if "troad_ts" in results and "troad" in results:
            t, o = results["troad_ts"]["median"], results["troad"]["median"]
            ts_ratio = t["rps"] / o["rps"] if o["rps"] else 0.0
            ok = ts_ratio >= TARGET_TIMESTAMPING_RATIO
            print(f"\ntimestamping + ledger on / off: req/s {ts_ratio:.3f} (target >= "
                  f"{TARGET_TIMESTAMPING_RATIO}) {'PASS' if ok else 'FAIL'}; p99.9 "
                  f"{fmt_ms(t['p999_us'])} vs {fmt_ms(o['p999_us'])}")
            if ratios is not None:
                ratios["timestamping_rps"] = ts_ratio
        if any_errors:
            loud("some runs had errors (non-200 responses or socket errors); see above")
        if info["loadavg_at_end"] is not None and info["loadavg_at_start"] > 0.5:
            loud("the machine was busy when the benchmark started; re-run on a quiet one")

        if args.json:
            Path(args.json).write_text(json.dumps({
                "command": command, "machine": info,
                "settings": {"threads": args.threads, "connections": args.connections,
                             "duration_s": args.duration, "runs": args.runs,
                             "warmup_s": args.warmup, "body_bytes": BODY_BYTES,
                             "nginx_workers": args.nginx_workers},
                "targets": results, "ratios": ratios,
                "targets_required": {"rps_ratio_min": TARGET_RPS_RATIO,
                                     "p99_ratio_max": TARGET_P99_RATIO},
                "troad_measured": ratios is not None, "troad_error": troad_error,
            }, indent=2) + "\n")
            log(f"wrote {args.json}")
        if args.markdown:
            write_markdown(args.markdown, info, args, targets, results, ratios, command)
            log(f"wrote {args.markdown}")
    except SetupError as e:
        loud(str(e))
        exit_code = EXIT_SETUP
    except Interrupted as e:
        loud(f"interrupted by {e}; stopping everything")
        exit_code = 130
    finally:
        # A second Ctrl-C must not cut the clean-up short; it is bounded anyway.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        children.stop_all()
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
