"""The audit log with the live API's event shapes (`Quirks.live_audit_shapes`): a top-level
`object`, events without `project` or without their payload, sessions with TLS fingerprints
and `ip_address_details`. The sync stays exact, and the pages, the drawer and the exports
read them without a 500 and with a sentence a person understands."""

from __future__ import annotations

import html
import json
import re

import openai
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgadmin.audit import DESCRIBERS
from orgadmin.client import OrgAPIError
from orgadmin.models import AuditEvent, SyncRun
from orgadmin.simulator import FaultConfig
from orgadmin.simulator.quirks import Quirks
from orgadmin.sync.audit import audit_events_store, audit_log_sync
from tests.factories import OrganizationFactory

URL = reverse("orgadmin:audit_log")
EVERY_FAULT = {"429": 3, "quota": 1, "500": 1, "502": 1, "503": 1, "slow": 1, "drop": 1}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch, settings):
    """As in tests/test_fault_mix.py: the SDK's own backoff would make the storm slow."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.002)
    settings.OPENAI_MAX_RETRIES = 3
    settings.AUDIT_LOG_OVERLAP_SECONDS = 2 * 3600  # see tests/orgadmin/test_audit_sync.py


@pytest.fixture
def live(simulator):
    simulator.quirks = Quirks(live_audit_shapes=True)
    return simulator


@pytest.fixture
def synced(org, live):
    run = audit_log_sync(org=org)
    assert run.status == SyncRun.Status.SUCCEEDED
    return org


def _stored_ids(org) -> list[str]:
    return list(AuditEvent.objects.filter(org=org).values_list("event_id", flat=True))


def _text(response) -> str:
    """The page's text as a reader sees it: no tags, entities unescaped ("Search &amp; …")."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", response.content.decode())))


def _drawer(client, event: AuditEvent, *, htmx: bool = False):
    url = reverse("orgadmin:audit_event", args=[event.event_id])
    return client.get(url, HTTP_HX_REQUEST="true") if htmx else client.get(url)


# --- the sync ----------------------------------------------------------------------------------


def test_it_stores_exactly_the_simulators_events_as_the_live_api_shapes_them(synced, live):
    truth = live.store.audit_event_ids()
    stored = _stored_ids(synced)
    assert len(stored) == len(truth)
    assert set(stored) == set(truth)
    shaped = {e["id"]: e for e in live.store.audit.events(live=True)}
    raws = {e.event_id: e.raw for e in AuditEvent.objects.filter(org=synced)}
    assert raws == {event_id: shaped[event_id] for event_id in truth}
    # The shapes the dashboard must cope with are all there.
    assert all(raw["object"] == "organization.audit_log" for raw in raws.values())
    plain = {e["id"]: e for e in live.store.audit.events()}
    assert any("project" in plain[i] and "project" not in r for i, r in raws.items())
    assert any(plain[i]["type"] in plain[i] and r["type"] not in r for i, r in raws.items())

    again = audit_log_sync(org=synced)
    assert again.rows_written == 0
    assert len(_stored_ids(synced)) == len(truth)


def test_it_stores_each_event_once_under_the_fault_mix(org, live):
    live.faults = FaultConfig(rate=0.3, mix=EVERY_FAULT, retry_after_ms=1, slow_ms=20, seed=21)

    for _ in range(40):
        try:
            run = audit_log_sync(org=org)
        except OrgAPIError:
            continue
        if run.status == SyncRun.Status.SUCCEEDED:
            break
    else:
        raise AssertionError("no run succeeded in 40 attempts")

    assert sum(live.fault_counts.values()) >= 5
    assert sorted(_stored_ids(org)) == sorted(live.store.audit_event_ids())  # no gap, no twin


def test_it_keeps_the_project_less_events_out_of_a_project_filter(synced, live, client_as, auditor):
    plain = {e["id"]: e for e in live.store.audit.events()}
    dropped = next(
        e
        for e in AuditEvent.objects.filter(org=synced)
        if "project" in plain[e.event_id] and not e.project_id
    )
    project_id = plain[dropped.event_id]["project"]["id"]

    response = client_as(auditor).get(URL, {"project": project_id, "start": "2015-01-01"})

    assert response.status_code == 200
    assert dropped.event_id not in response.content.decode()
    shown = {row["event"].event_id for row in response.context["rows"]}
    assert shown
    assert all(plain[i]["project"]["id"] == project_id for i in shown)


# --- the page and the drawer -------------------------------------------------------------------


def test_it_shows_an_event_without_its_project(synced, live, client_as, auditor):
    plain = {e["id"]: e for e in live.store.audit.events()}
    event = next(
        e
        for e in AuditEvent.objects.filter(org=synced).order_by("-effective_at")
        if "project" in plain[e.event_id] and "project" not in e.raw and e.type in e.raw
    )
    client = client_as(auditor)

    page = client.get(URL, {"type": event.type, "start": "2015-01-01", "event": event.event_id})
    fragment = _drawer(client, event, htmx=True)
    full = _drawer(client, event)

    assert page.status_code == fragment.status_code == full.status_code == 200
    sentence = fragment.context["description"].sentence.text()
    assert "(unknown)" not in sentence
    assert " in " not in sentence.removeprefix(event.actor_email)  # no project to be in
    assert sentence in _text(full)
    assert event.event_id in page.content.decode()


def test_it_shows_an_event_without_its_payload(synced, client_as, auditor):
    event = next(
        e
        for e in AuditEvent.objects.filter(org=synced).order_by("-effective_at")
        if e.type in DESCRIBERS and e.type not in e.raw and not e.type.startswith("log")
    )
    client = client_as(auditor)

    page = client.get(URL, {"type": event.type, "start": "2015-01-01"})
    fragment = _drawer(client, event, htmx=True)
    full = _drawer(client, event)

    assert page.status_code == fragment.status_code == full.status_code == 200
    description = fragment.context["description"]
    assert description.payload_missing
    sentence = description.sentence.text()
    assert "(unknown)" not in sentence
    assert re.search(r" (created|updated|deleted|added|sent|archived|accepted) (an? )?\w", sentence)
    assert sentence in _text(full)
    assert "without its details" in _text(full)
    assert description.sentence.predicate() in _text(page)


def test_it_shows_where_a_sign_in_came_from(synced, client_as, auditor):
    event = AuditEvent.objects.filter(org=synced, type="login.succeeded").first()
    details = event.raw["actor"]["session"]["ip_address_details"]
    assert {"ja3", "ja4"} <= event.raw["actor"]["session"].keys()

    fragment = _drawer(client_as(auditor), event, htmx=True)

    assert fragment.status_code == 200
    location = re.search(r'id="event-location">([^<]*)<', fragment.content.decode()).group(1)
    assert location.startswith(details["city"])
    assert location.endswith(details["country"])
    assert f"AS{details['asn']}" in fragment.content.decode()
    assert event.ip_address in fragment.content.decode()


@pytest.mark.parametrize(
    "actor",
    [
        None,  # the spec allows a null actor
        {"type": "session", "session": None},
        {"type": "session", "session": {"ip_address": "1.2.3.4", "ip_address_details": "?"}},
        {
            "type": "session",
            "session": {
                "ip_address": "1.2.3.4",
                "ip_address_details": {"city": None, "country": 7, "asn": ["x"], "latitude": {}},
            },
        },
    ],
)
def test_it_opens_any_actor_in_the_drawer(client_as, auditor, db, actor):
    org = OrganizationFactory(name="Odd actors")
    raw = {
        "object": "organization.audit_log",
        "id": "audit_log-odd_actor",
        "type": "api_key.created",
        "effective_at": int(timezone.now().timestamp()) - 60,
        "actor": actor,
    }
    with transaction.atomic():
        audit_events_store(org=org, raws=[raw])
    event = AuditEvent.objects.get(org=org)

    response = _drawer(client_as(auditor), event, htmx=True)

    assert response.status_code == 200
    assert "created an API key" in response.context["description"].sentence.text()


def test_it_does_not_take_another_projects_limit_as_the_before(client_as, auditor, db):
    org = OrganizationFactory(name="Limits")
    now = int(timezone.now().timestamp())

    def limit(event_id, at, value, project=None):
        raw = {
            "id": event_id,
            "type": "rate_limit.updated",
            "effective_at": at,
            "rate_limit.updated": {
                "id": "rl-gpt-4o",
                "changes_requested": {"max_requests_per_1_minute": value},
            },
        }
        return raw | ({"project": project} if project else {})

    with transaction.atomic():
        audit_events_store(
            org=org,
            raws=[
                limit("audit_log-a", now - 600, 500, {"id": "proj_a", "name": "A"}),
                limit("audit_log-b", now - 300, 700),  # the live API left its project out
                limit("audit_log-c", now - 60, 900),
            ],
        )
    event = AuditEvent.objects.get(org=org, event_id="audit_log-c")

    response = _drawer(client_as(auditor), event, htmx=True)

    [change] = response.context["description"].changes
    assert change.field == "max_requests_per_1_minute"
    assert repr(change.before) == "UNKNOWN"  # not 700: that was some project's, maybe another's


# --- the exports -------------------------------------------------------------------------------


def test_it_exports_the_live_shapes(synced, client_as, auditor):
    client = client_as(auditor)
    params = {"start": "2015-01-01"}

    csv_response = client.get(reverse("orgadmin:audit_export_csv"), params)
    jsonl_response = client.get(reverse("orgadmin:audit_export_jsonl"), params)

    assert csv_response.status_code == jsonl_response.status_code == 200
    csv_text = b"".join(csv_response.streaming_content).decode()
    *lines, _chain_head = b"".join(jsonl_response.streaming_content).decode().splitlines()
    stored = {e.event_id: e.raw for e in AuditEvent.objects.filter(org=synced)}
    assert {json.loads(line)["id"]: json.loads(line) for line in lines} == stored
    assert all(event_id in csv_text for event_id in stored)
