"""What every sample agency's information system shares: a small JSON-over-HTTP server
behind the agency's gateway. GET requests go to the agency's `route` function; other
methods are refused; every request is logged with the X-Road headers the gateway adds
(X-Road-Client, X-Road-Id), so you can see who asked.

An agency's backend.py gives its name, default port and route:

    def route(data, parts):            # parts: the path split at "/", e.g. ["api", "persons", "A123456789"]
        return 200, {...}              # or None: 404 "not found"

    agency.serve("moi-household", 9001, route, __doc__, HERE)
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    name = "agency"
    data = {}
    route = None

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
        path = self.path.split("?", 1)[0]
        answer = type(self).route(self.data, [p for p in path.split("/") if p])
        if answer is None:
            client = self.headers.get("X-Road-Client", "-")
            return self._send(404, {"error": "not found", "path": path, "client": client})
        return self._send(*answer)

    def do_POST(self):
        self._drain()
        self._send(405, {"error": "method not allowed"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, fmt, *args):
        sys.stderr.write("%s: %s %s (X-Road-Client: %s, X-Road-Id: %s)\n" % (
            self.name, self.command, self.path, self.headers.get("X-Road-Client", "-"),
            self.headers.get("X-Road-Id", "-")))


def serve(name, default_port, route, doc, here):
    """Parses --port, --host and --data, loads the records and serves until Ctrl-C."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--port", type=int, default=default_port)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--data", default=os.path.join(here, "records.json"))
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    handler = type("Handler", (Handler,), {"name": name, "server_version": name + "/1.0",
                                           "data": data, "route": staticmethod(route)})
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 refuses bursts
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    print(f"{name} listening on http://{args.host}:{args.port}/api", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
