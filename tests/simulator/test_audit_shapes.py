"""`Quirks.live_audit_shapes`: audit events as the live API shapes them, seeded and switchable."""

from __future__ import annotations

import re
from typing import Any

import httpx

from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.audit import NO_PAYLOAD
from orgadmin.simulator.quirks import Quirks
from tests.simulator.support import KEY, make_app, make_client, scenario_ids

DETAILS = {"country", "city", "region", "region_code", "asn", "latitude", "longitude"}


def _all(app: SimulatorApp, **query: Any) -> list[dict[str, Any]]:
    """Every event the list endpoint gives, page after page, as raw JSON."""
    http = httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://simulator.test/v1",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    events, after = [], None
    while True:
        params = {**query, "limit": 100, **({"after": after} if after else {})}
        page = http.get("/organization/audit_logs", params=params).json()
        events += page["data"]
        if not page["has_more"]:
            return events
        after = page["last_id"]


def _live_app() -> SimulatorApp:
    app = make_app()
    app.quirks = Quirks(live_audit_shapes=True)
    return app


def test_it_lists_the_specs_shapes_with_the_switch_off() -> None:
    app = make_app()
    listed = _all(app)
    ids = {e["id"] for e in listed}  # the ordinary stream: no tenant-scoped events
    assert listed == [e for e in app.store.audit.events() if e["id"] in ids]
    assert not any("object" in e for e in listed)


def test_it_lists_the_same_events_in_the_same_order_with_the_switch_on() -> None:
    app = _live_app()
    live = _all(app)
    app.quirks = Quirks()
    plain = _all(app)

    assert [e["id"] for e in live] == [e["id"] for e in plain]
    assert all(e["object"] == "organization.audit_log" for e in live)
    ids = {e["id"] for e in live}
    assert live == [e for e in app.store.audit.events(live=True) if e["id"] in ids]


def test_it_leaves_out_a_seeded_share_of_projects_and_payloads() -> None:
    app = _live_app()
    live = {e["id"]: e for e in _all(app)}
    app.quirks = Quirks()
    plain = {e["id"]: e for e in _all(app)}

    with_project = [i for i, e in plain.items() if "project" in e]
    without = [i for i in with_project if "project" not in live[i]]
    assert 0.05 < len(without) / len(with_project) < 0.25
    with_payload = [i for i, e in plain.items() if e["type"] in e]
    lacking = [i for i in with_payload if live[i]["type"] not in live[i]]
    assert 0.02 < len(lacking) / len(with_payload) < 0.12
    assert not any(e["type"] in NO_PAYLOAD and e["type"] in e for e in live.values())
    # Apart from what it leaves out and adds, an event is the spec's.
    for event_id, event in live.items():
        added = {"object"} | ({"actor"} if (event.get("actor") or {}).get("session") else set())
        assert {k: v for k, v in event.items() if k not in added} == {
            k: v for k, v in plain[event_id].items() if k in event and k not in added
        }
    # The same seed shapes the same way: a page and its retry agree.
    assert _all(_live_app()) == list(live.values())


def test_it_gives_sessions_tls_fingerprints_and_where_the_address_is() -> None:
    app = _live_app()
    sessions = [
        e for e in _all(app) if e["type"] in ("login.succeeded", "login.failed", "logout.succeeded")
    ]
    assert {e["type"] for e in sessions} == {"login.succeeded", "login.failed", "logout.succeeded"}

    places = set()
    for event in sessions:
        session = event["actor"]["session"]
        assert re.fullmatch(r"[0-9a-f]{32}", session["ja3"])
        assert re.fullmatch(r"t13d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}", session["ja4"])
        details = session["ip_address_details"]
        assert set(details) == DETAILS
        assert all(isinstance(v, str) for v in details.values())  # asn, latitude too
        assert re.fullmatch(r"\d+", details["asn"])
        assert -90 <= float(details["latitude"]) <= 90
        assert -180 <= float(details["longitude"]) <= 180
        places.add((session["ip_address"], details["city"]))
    # One address, one place.
    assert len({ip for ip, _ in places}) == len(places)


def test_it_keeps_an_event_listed_without_its_project_out_of_that_projects_filter() -> None:
    app = _live_app()
    live = {e["id"]: e for e in _all(app)}
    app.quirks = Quirks()
    dropped = [e for e in _all(app) if "project" in e and "project" not in live[e["id"]]]
    project_id = dropped[0]["project"]["id"]
    app.quirks = Quirks(live_audit_shapes=True)

    filtered = _all(app, **{"project_ids[]": project_id})

    assert filtered
    assert all(e["project"]["id"] == project_id for e in filtered)
    assert dropped[0]["id"] not in {e["id"] for e in filtered}


def test_it_shapes_the_events_of_mutations_too_and_the_sdk_reads_them() -> None:
    app = _live_app()
    org = make_client(app).admin.organization
    ids = scenario_ids(app)
    org.projects.rate_limits.update_rate_limit(
        ids.rate_limit, project_id=ids.project, max_requests_per_1_minute=10
    )

    [event] = org.audit_logs.list(event_types=["rate_limit.updated"], limit=1).data

    assert event.type == "rate_limit.updated"
    assert event.to_dict()["object"] == "organization.audit_log"
    assert any(
        e.actor.session.ip_address_details  # type: ignore[attr-defined]
        for e in org.audit_logs.list(event_types=["login.succeeded"], limit=5).data
    )
