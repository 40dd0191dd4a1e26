"""xAI's audit events in the audit explorer: synced from the in-process simulator through faults,
each stored once as xAI sent it, found by the words of its description and by its user, and
shown with the user's name and email."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from orgadmin import tasks
from orgadmin.client import install_transport
from orgadmin.models import AuditEvent, AuditEventCount, SyncRun
from orgadmin.sync.audit import audit_events_store
from orgadmin.sync.audit_sources import audit_sync
from orgadmin.xai.client import xai_client
from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY, FaultConfig, create_app
from tests.factories import OrganizationFactory

BASE = "http://xai-simulator.test"
AUDIT_URL = reverse("orgadmin:audit_log")
EVERYTHING = {"start": "2015-01-01"}  # the explorer's window: the whole history


class Clock:
    """The simulator's clock, an hour behind the real one so that its events are all past."""

    def __init__(self) -> None:
        self.seconds = float(int(time.time()) // 60 * 60 - 3600)

    def __call__(self) -> float:
        return self.seconds

    def advance(self, **delta: float) -> None:
        self.seconds += dt.timedelta(**delta).total_seconds()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The client's waits between attempts, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def xai(clock, waits) -> Iterator:
    """The demo team's simulator, mounted in-process at BASE."""
    app = create_app(scenario="demo", seed=0, management_keys=[TEST_MANAGEMENT_KEY], now=clock)
    with install_transport(BASE, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def team(db, xai):
    """An xAI connection to the simulator's demo team."""
    return OrganizationFactory(
        name="Demo Robotics (xAI)",
        provider="xai",
        base_url=BASE,
        admin_key=TEST_MANAGEMENT_KEY,
        account_id=xai.store.team_id,
    )


def _stored(team) -> dict[str, AuditEvent]:
    return {e.event_id: e for e in AuditEvent.objects.filter(org=team)}


def _simulated(xai) -> dict[str, object]:
    return {e.event_id: e for e in xai.store.audit}


def _page(client, **params) -> str:
    response = client.get(AUDIT_URL, EVERYTHING | params)
    assert response.status_code == 200
    return response.content.decode()


# --- the sync --------------------------------------------------------------------------------


def test_a_full_sync_through_faults_stores_every_event_once_as_xai_sent_it(team, xai, waits):
    xai.faults = FaultConfig(retry_after=3, script=["429", "503", "drop", "ok", "503"])
    run = audit_sync(org=team)
    assert run.status == SyncRun.Status.SUCCEEDED
    stored, simulated = _stored(team), _simulated(xai)
    assert set(stored) == set(simulated)
    assert len(stored) == 200
    assert run.rows_written == 200
    assert 3.0 in waits  # the 429's Retry-After was honoured
    some = simulated[next(iter(simulated))]
    event = stored[some.event_id]
    user = xai.store.users[some.user_id]
    # Raw: the JSON as xAI sent it, camelCase, with the user as it came.
    assert event.raw["eventId"] == some.event_id
    assert event.raw["description"] == some.description
    assert event.raw["user"]["email"] == user.email
    assert "type" not in event.raw
    assert (event.actor_type, event.actor_id, event.actor_email, event.actor_key) == (
        "user",
        user.user_id,
        user.email,
        user.email,
    )
    assert event.effective_at == some.event_time
    # The explorer's counts hold every event (the facets and the chart read them).
    counts = AuditEventCount.objects.filter(org=team, level=0, actor_key=AuditEventCount.ALL)
    assert sum(counts.exclude(type=AuditEventCount.ALL).values_list("n", flat=True)) == 200


def test_a_second_sync_over_the_overlap_adds_nothing(team, xai):
    audit_sync(org=team)
    again = audit_sync(org=team)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.rows_written == 0
    assert again.requests_made >= 1  # it did ask, from the watermark minus the overlap
    assert AuditEvent.objects.filter(org=team).count() == 200


def test_the_events_of_a_key_created_since_appear_on_the_next_sync(team, xai, clock):
    audit_sync(org=team)
    clock.advance(minutes=2)
    with xai_client(team) as client:
        client.create_api_key(team.account_id, name="Nightly batch", acls=["api-key:model:*"])
    run = audit_sync(org=team)
    assert run.rows_written == 1
    (new,) = AuditEvent.objects.filter(org=team, raw__description='Created API key "Nightly batch"')
    owner = xai.store.management_keys[TEST_MANAGEMENT_KEY].owner_user_id
    assert new.actor_id == owner
    assert set(_stored(team)) == set(_simulated(xai))


def test_a_run_that_fails_half_way_is_recorded_and_the_next_one_loses_nothing(team, xai):
    # The first page arrives, then the second fails past every retry.
    xai.faults = FaultConfig(script=["ok"] + ["503"] * 10)
    failed = tasks.sync_audit_log(team.pk)
    assert failed == "failed"
    run = SyncRun.objects.filter(org=team, kind=SyncRun.Kind.AUDIT_LOG).latest("started_at")
    assert run.status == SyncRun.Status.FAILED
    assert run.error
    assert AuditEvent.objects.filter(org=team).count() == 100  # the first page is kept
    xai.faults = FaultConfig()
    assert tasks.sync_audit_log(team.pk) == SyncRun.Status.SUCCEEDED
    assert set(_stored(team)) == set(_simulated(xai))
    assert AuditEventCount.objects.filter(org=team, level=0, type=AuditEventCount.ALL).exists()


def test_a_management_key_without_the_audit_acl_ends_not_permitted(db, clock, waits):
    restricted = {TEST_MANAGEMENT_KEY: ["management-api:billing:read"]}
    app = create_app(scenario="demo", seed=0, management_keys=restricted, now=clock)
    with install_transport(BASE, httpx.WSGITransport(app=app)):
        org = OrganizationFactory(
            name="Billing only (xAI)",
            provider="xai",
            base_url=BASE,
            admin_key=TEST_MANAGEMENT_KEY,
            account_id=app.store.team_id,
        )
        run = audit_sync(org=org)
    assert run.status == SyncRun.Status.NOT_PERMITTED
    assert not AuditEvent.objects.filter(org=org).exists()


def test_the_command_syncs_an_xai_team(team, xai):
    out = io.StringIO()
    call_command("sync_audit_logs", "--org", team.name, stdout=out)
    assert "200 new events" in out.getvalue()


# --- the explorer ----------------------------------------------------------------------------


def test_the_free_text_filter_finds_events_by_a_word_of_their_description(
    team, xai, auditor, client_as
):
    audit_sync(org=team)
    expected = [e for e in xai.store.audit if "downloaded" in e.description.lower()]
    assert expected
    html = _page(client_as(auditor), q="Downloaded")
    assert f"{len(expected)} event" in html
    assert expected[-1].description.replace('"', "&quot;") in html


def test_the_free_text_filter_finds_events_by_the_users_email(team, xai, auditor, client_as):
    audit_sync(org=team)
    user = next(iter(xai.store.users.values()))
    expected = [e for e in xai.store.audit if e.user_id == user.user_id]
    assert expected
    html = _page(client_as(auditor), q=user.email.upper())
    assert f"{len(expected)} event" in html
    assert f"{user.given_name} {user.family_name}" in html


def test_the_explorer_shows_the_description_and_the_users_name_and_email(
    team, xai, auditor, client_as
):
    audit_sync(org=team)
    newest = max(xai.store.audit, key=lambda e: (e.event_time, e.event_id))
    user = xai.store.users[newest.user_id]
    html = _page(client_as(auditor))
    assert "as xAI recorded it" in html
    assert "200 events" in html
    assert newest.description.replace('"', "&quot;") in html
    assert f"{user.given_name} {user.family_name}" in html
    assert user.email.split("@")[0] in html  # the email wraps after its @
    # No type to filter on: the type facet is left out rather than showing one made-up type.
    assert "Event types" not in html
    assert "xai.event" not in html


def test_the_event_page_shows_the_description_the_user_and_the_raw_json(
    team, xai, auditor, client_as
):
    audit_sync(org=team)
    event = xai.store.audit[0]
    user = xai.store.users[event.user_id]
    client = client_as(auditor)
    response = client.get(reverse("orgadmin:audit_event", args=[event.event_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert event.description.replace('"', "&quot;") in html
    assert f"{user.given_name} {user.family_name}" in html
    assert user.email in html
    assert "records no event type" in html
    assert "as the xAI API returned it" in html
    raw = json.loads(response.context["raw_json"])
    assert raw["eventId"] == event.event_id
    assert raw["user"]["givenName"] == user.given_name
    # The drawer (htmx) says the same.
    drawer = client.get(
        reverse("orgadmin:audit_event", args=[event.event_id]), headers={"HX-Request": "true"}
    )
    assert user.email in drawer.content.decode()


def test_the_csv_export_holds_each_event_with_its_description(team, xai, auditor, client_as):
    audit_sync(org=team)
    response = client_as(auditor).get(reverse("orgadmin:audit_export_csv"), EVERYTHING)
    text = b"".join(response.streaming_content).decode()
    assert len(text.strip().splitlines()) == 201
    event = xai.store.audit[0]
    user = xai.store.users[event.user_id]
    assert user.email in text
    assert event.event_id in text


def test_an_auditor_reads_the_xai_audit_log_and_finance_may_not(
    team, xai, auditor, finance, client_as
):
    audit_sync(org=team)
    event_url = reverse("orgadmin:audit_event", args=[xai.store.audit[0].event_id])
    assert client_as(auditor).get(AUDIT_URL).status_code == 200
    assert client_as(auditor).get(event_url).status_code == 200
    assert client_as(finance).get(AUDIT_URL).status_code == 403
    assert client_as(finance).get(event_url).status_code == 403


def test_an_event_without_a_user_is_kept_and_one_without_a_time_is_skipped(db, auditor, client_as):
    org = OrganizationFactory(name="Hand-made (xAI)", provider="xai", base_url=BASE)
    raws = [
        {"eventId": "ev-1", "eventTime": "2025-07-01T10:00:00.123456789Z", "description": "Ran"},
        {"eventId": "ev-2", "description": "No time: can't be placed"},
    ]
    with transaction.atomic():
        assert audit_events_store(org=org, raws=raws) == 1
    event = AuditEvent.objects.get(org=org)
    assert event.effective_at == dt.datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    response = client_as(auditor).get(reverse("orgadmin:audit_event", args=["ev-1"]))
    assert response.status_code == 200
    assert "Someone: Ran" in response.content.decode()


def test_sync_now_on_the_explorer_syncs_an_xai_team(
    team, xai, admin, client_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(admin).post(reverse("orgadmin:audit_sync"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(org=team).count() == 200
    run = SyncRun.objects.get(org=team, kind=SyncRun.Kind.AUDIT_LOG)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.triggered_by == admin
