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
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import agency  # noqa: E402  (examples/common: the server every sample agency shares)


def route(data, parts):
    if len(parts) == 3 and parts[:2] == ["api", "persons"]:
        person = data["persons"].get(parts[2])
        if person is None:
            return 404, {"error": "no such person", "id": parts[2]}
        return 200, dict(national_id=parts[2], **person)
    if len(parts) == 3 and parts[:2] == ["api", "households"]:
        household = data["households"].get(parts[2])
        if household is None:
            return 404, {"error": "no such household", "id": parts[2]}
        members = [dict(national_id=i, name=data["persons"][i]["name"],
                        relation=data["persons"][i]["relation"])
                   for i in household["members"]]
        return 200, {"household_id": parts[2], "address": household["address"],
                     "members": members}
    return None

if __name__ == "__main__":
    agency.serve("moi-household", 9001, route, __doc__, HERE)
