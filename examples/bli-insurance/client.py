#!/usr/bin/env python3
"""勞動部勞工保險局 — sample labour-insurance information system (consumer side).

Shows how an agency's information system uses T-Road: it calls its OWN gateway with
plain X-Road REST (no signing, no certificates in the application), naming itself in
X-Road-Client and the service in the path. Its gateway signs, sends over mutual TLS,
checks the answer and records the exchange.

    python3 client.py --gateway http://127.0.0.1:8080 person A123456789
    python3 client.py --gateway http://127.0.0.1:8080 household H0000001
    python3 client.py --gateway http://127.0.0.1:8080 list-methods
"""
import argparse
import json
import sys
import urllib.error
import urllib.request

CLIENT = "TW/GOV/BLI/insurance"
SERVICE = "TW/GOV/MOI/household/registry"


def call(gateway, path, user_id="bli-clerk-042", issue=None):
    url = f"{gateway}/r1/{path}"
    headers = {"X-Road-Client": CLIENT, "X-Road-UserId": user_id, "Accept": "application/json"}
    if issue:
        headers["X-Road-Issue"] = issue
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


def show(title, status, headers, body):
    print(f"  {title}")
    print(f"    HTTP {status}")
    for name in ("X-Road-Id", "X-Road-Request-Id", "X-Road-Request-Hash", "X-Road-Error"):
        if name in headers:
            print(f"    {name}: {headers[name]}")
    try:
        print("    " + json.dumps(json.loads(body), ensure_ascii=False))
    except ValueError:
        print("    " + body[:300])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gateway", default="http://127.0.0.1:8080")
    ap.add_argument("what", choices=["person", "household", "list-methods", "allowed-methods"])
    ap.add_argument("id", nargs="?")
    args = ap.parse_args()
    if args.what == "person":
        status, headers, body = call(args.gateway, f"{SERVICE}/persons/{args.id or 'A123456789'}",
                                     issue="BLI-2026-000123")
    elif args.what == "household":
        status, headers, body = call(args.gateway, f"{SERVICE}/households/{args.id or 'H0000001'}")
    elif args.what == "list-methods":
        status, headers, body = call(args.gateway, "TW/GOV/MOI/household/listMethods")
    else:
        status, headers, body = call(args.gateway, "TW/GOV/MOI/household/allowedMethods")
    show(f"{args.what} {args.id or ''}".strip(), status, headers, body)
    return 0 if status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
