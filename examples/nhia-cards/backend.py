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
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import agency  # noqa: E402  (examples/common: the server every sample agency shares)


def route(data, parts):
    if len(parts) == 3 and parts[:2] == ["api", "insured"]:
        insured = data["insured"].get(parts[2])
        if insured is None:
            return 404, {"error": "no such insured person", "id": parts[2]}
        return 200, {"national_id": parts[2], "card_number": insured["card_number"],
                     "card_status": insured["card_status"]}
    return None

if __name__ == "__main__":
    agency.serve("nhia-cards", 9002, route, __doc__, HERE)
