#!/usr/bin/env python3
"""衛生福利部中央健康保險署 — sample NHI card information system (provider side).

A synthetic stand-in for the National Health Insurance Administration's card registry,
as a T-Road data provider would run it behind its gateway. It serves the REST service
that the NHIA gateway publishes as TW/GOV/NHIA/cards/insured:

    GET /api/insured/{national_id}      one insured person's NHI card number and status

The card status is "valid" or "reported_lost". The identity centre (TW/GOV/MODA/idp)
uses it, together with MOI's household registry, to check a dual-document sign-in.

It logs the X-Road headers its gateway adds (X-Road-Client, X-Road-Id, ...), so you can
see who asked. All data in records.json is synthetic.

    python3 backend.py --port 9002 [--data records.json]
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nhia-cards/1.0"
    data = {}

    def _send(self, status, body):
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self):
        self._drain()
        client = self.headers.get("X-Road-Client", "-")
        path = self.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p]
        if len(parts) == 3 and parts[:2] == ["api", "insured"]:
            insured = self.data["insured"].get(parts[2])
            if insured is None:
                return self._send(404, {"error": "no such insured person", "id": parts[2]})
            return self._send(200, {"national_id": parts[2],
                                    "card_number": insured["card_number"],
                                    "card_status": insured["card_status"]})
        return self._send(404, {"error": "not found", "path": path, "client": client})

    def do_POST(self):
        self._drain()
        self._send(405, {"error": "method not allowed"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, fmt, *args):
        sys.stderr.write("nhia-cards: %s %s (X-Road-Client: %s, X-Road-Id: %s)\n" % (
            self.command, self.path, self.headers.get("X-Road-Client", "-"),
            self.headers.get("X-Road-Id", "-")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9002)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--data", default=os.path.join(HERE, "records.json"))
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as f:
        Handler.data = json.load(f)
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 refuses bursts
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"nhia-cards listening on http://{args.host}:{args.port}/api", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
