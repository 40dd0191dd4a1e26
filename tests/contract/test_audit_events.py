"""Every audit event the simulator emits is typed as the spec's `AuditLog` schema says.

The sweep (test_sweep.py) lists the seeded history; this checks the events that each mutation
appends, which no listing of the scenario shows, plus one event of every seeded type with the
live API's shapes on. A payload value the schema types a string must never be null.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.quirks import Quirks
from tests.contract.calls import CALLS, CERT_PEM
from tests.contract.spec_tools import Operation, operations, schema_errors, unknown_fields
from tests.simulator.support import KEY, NOW, make_app, make_client, scenario_ids

AUDIT_LOG = {"$ref": "#/components/schemas/AuditLog"}
MUTATIONS = [op for op in operations() if op.method != "GET"]
# What the live API adds beyond the schema (Quirks.live_audit_shapes); user_agent is in the
# spec's own examples (spec_tools.ALLOWED_EXTRA).
LIVE_EXTRA = {"object", "ja3", "ja4", "ip_address_details"}


def _listed(app: SimulatorApp, **query: Any) -> list[dict[str, Any]]:
    """Every event the API lists with these filters, both streams (tenant-scoped and not)."""
    http = httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://simulator.test/v1",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    events = []
    for tenant_only in ("false", "true"):
        after = None
        while True:
            params = {**query, "limit": 100, "tenant_only": tenant_only}
            if after:
                params["after"] = after
            page = http.get("/organization/audit_logs", params=params).json()
            events += page["data"]
            if not page["has_more"]:
                break
            after = page["last_id"]
    return events


def _problems(events: list[dict[str, Any]]) -> list[str]:
    return [f"{e['type']} {problem}" for e in events for problem in schema_errors(e, AUDIT_LOG)]


def _appended(app: SimulatorApp) -> list[dict[str, Any]]:
    """The events the calls appended (a mutation's event is at the simulator's now)."""
    return _listed(app, **{"effective_at[gte]": NOW})


@pytest.mark.parametrize("op", MUTATIONS, ids=lambda op: op.operation_id)
def test_it_types_each_mutations_event_as_the_spec_says(op: Operation) -> None:
    app = make_app()
    CALLS[op.operation_id](make_client(app).admin.organization, scenario_ids(app))

    events = _appended(app)

    assert _problems(events) == []
    assert [f for e in events for f in unknown_fields(e, AUDIT_LOG)] == []
    app.quirks = Quirks(live_audit_shapes=True)
    live = _appended(app)
    assert [e["id"] for e in live] == [e["id"] for e in events]
    assert _problems(live) == []


def test_it_sends_a_cleared_role_description_as_a_string() -> None:
    app = make_app()
    org = make_client(app).admin.organization
    role = scenario_ids(app).custom_role
    org.roles.update(role, description="Reads usage")
    org.roles.update(role, description=None)

    updates = [e for e in _appended(app) if e["type"] == "role.updated"]

    assert [e["role.updated"]["changes_requested"]["description"] for e in updates] == [
        "",
        "Reads usage",
    ]
    assert _problems(updates) == []


def test_it_leaves_out_the_name_of_a_certificate_uploaded_without_one() -> None:
    app = make_app()
    org = make_client(app).admin.organization
    project = scenario_ids(app).project
    certificate = org.certificates.create(certificate=CERT_PEM).id
    org.certificates.activate(certificate_ids=[certificate])
    org.certificates.deactivate(certificate_ids=[certificate])
    org.projects.certificates.activate(project, certificate_ids=[certificate])
    org.projects.certificates.deactivate(project, certificate_ids=[certificate])
    org.certificates.delete(certificate)

    events = _appended(app)

    assert {e["type"] for e in events} >= {
        "certificate.created",
        "certificates.activated",
        "certificates.deactivated",
        "certificate.deleted",
    }
    assert _problems(events) == []
    assert "null" not in json.dumps([e[e["type"]] for e in events])


def test_it_types_every_seeded_event_type_as_the_spec_says_with_the_live_shapes_too() -> None:
    app = make_app()
    app.quirks = Quirks(live_audit_shapes=True)

    events = _listed(app)

    one_of_each = {e["type"]: e for e in reversed(events)}
    assert len(one_of_each) > 40
    assert _problems(list(one_of_each.values())) == []
    extras = {f.rsplit("/", 1)[-1] for e in events for f in unknown_fields(e, AUDIT_LOG)}
    assert extras == LIVE_EXTRA
    details = [
        e["actor"]["session"]["ip_address_details"]
        for e in events
        if e["type"].startswith(("login.", "logout."))
    ]
    assert details
    assert all(isinstance(v, str) for d in details for v in d.values())
