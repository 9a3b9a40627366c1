#!/usr/bin/env python3
"""內政部戶政司 — sample household-registration information system (provider side).

A synthetic stand-in for the Ministry of the Interior's household registry, as a T-Road
data provider would run it behind its gateway. It serves the REST service that the
MOI gateway publishes as TW/GOV/MOI/household/registry:

    GET /api/persons/{national_id}      one person's registration record
    GET /api/households/{household_id}  the members of a household

It logs the X-Road headers its gateway adds (X-Road-Client, X-Road-Id, ...), so you can
see who asked. All data in records.json is synthetic.

    python3 backend.py --port 9001 [--data records.json]
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "moi-household/1.0"
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
        if len(parts) == 3 and parts[:2] == ["api", "persons"]:
            person = self.data["persons"].get(parts[2])
            if person is None:
                return self._send(404, {"error": "no such person", "id": parts[2]})
            return self._send(200, dict(national_id=parts[2], **person))
        if len(parts) == 3 and parts[:2] == ["api", "households"]:
            household = self.data["households"].get(parts[2])
            if household is None:
                return self._send(404, {"error": "no such household", "id": parts[2]})
            members = [dict(national_id=i, name=self.data["persons"][i]["name"],
                            relation=self.data["persons"][i]["relation"])
                       for i in household["members"]]
            return self._send(200, {"household_id": parts[2], "address": household["address"],
                                    "members": members})
        return self._send(404, {"error": "not found", "path": path, "client": client})

    def do_POST(self):
        self._drain()
        self._send(405, {"error": "method not allowed"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, fmt, *args):
        sys.stderr.write("moi-household: %s %s (X-Road-Client: %s, X-Road-Id: %s)\n" % (
            self.command, self.path, self.headers.get("X-Road-Client", "-"),
            self.headers.get("X-Road-Id", "-")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--data", default=os.path.join(HERE, "records.json"))
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as f:
        Handler.data = json.load(f)
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 refuses bursts
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"moi-household listening on http://{args.host}:{args.port}/api", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
