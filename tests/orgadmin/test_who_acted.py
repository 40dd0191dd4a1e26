"""Issue 16, items 5 and 6: who really acted (our action log joined to the audit log, both ways)
and names rather than bare ids (kept after the thing is deleted, and found by the search)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time

import httpx
import pytest
from django.urls import reverse

from orgadmin.audit.actors import MATCH_WINDOW, Candidate, best_match
from orgadmin.models import ActionLog, AuditEvent, AuditName, ProjectApiKey
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, install_transport
from tests.factories import UserFactory
from tests.orgadmin.conftest import HX, active_project

AUDIT = reverse("orgadmin:audit_log")


@pytest.fixture
def simulator():
    """The demo simulator on the wall clock, as our action log is: an event and our log line of
    the same change are a moment apart, as they are in production."""
    from orgadmin.simulator import create_app

    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=time.time)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def ana(db):
    from orgadmin.access import Role

    return UserFactory(username="ana", first_name="Ana", last_name="Silva", role=Role.ADMIN)


def text(response) -> str:
    body = response.content if not response.streaming else b"".join(response.streaming_content)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body.decode())))


def _owner(simulator) -> str:
    store = simulator.store
    key = next(k for k in store.admin_keys.values() if k.owner_user_id in store.users)
    return store.users[key.owner_user_id].name


def synced_later(org) -> None:
    """Sync the audit log a second later: a sync reads the events before its own second."""
    time.sleep(1.05)
    audit_log_sync(org=org)


def _rename(client, project_id: str, name: str) -> None:
    response = client.post(
        reverse("orgadmin:project_rename", args=[project_id]), {"name": name}, headers=HX
    )
    assert response.status_code == 200


def test_it_says_who_acted_through_the_dashboard_in_list_drawer_export_and_activity(
    client_as, ana, auditor, org, simulator
):
    directory_sync(org=org)
    project = active_project(simulator.store)
    _rename(client_as(ana), project.id, "Renamed by Ana")
    synced_later(org)
    event = AuditEvent.objects.get(org=org, type="project.updated", resource_id=project.id)
    assert event.actor_type == "api_key"  # OpenAI saw the admin key, not Ana
    label = f"Ana Silva via this dashboard (admin key of {_owner(simulator)})"
    reader = client_as(auditor)

    assert label in text(reader.get(AUDIT))
    drawer = reader.get(reverse("orgadmin:audit_event", args=[event.event_id]), headers=HX)
    assert label in text(drawer)
    assert 'id="event-via"' in drawer.content.decode()
    export = reader.get(reverse("orgadmin:audit_export_csv"))
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text_of(export)))}
    assert rows[event.event_id]["dashboard_actor"] == label

    activity = reader.get(reverse("orgadmin:activity"))
    line = ActionLog.objects.get(action="project.update")
    link = activity.context["event_links"][line.pk]
    assert f"event={event.event_id}" in link
    assert html.escape(link) in activity.content.decode()
    opened = reader.get(link)
    assert opened.context["event"] == event
    assert label in text(opened)


def text_of(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_it_leaves_the_recorded_actor_when_no_action_of_ours_explains_the_event(
    client_as, ana, auditor, org, simulator
):
    directory_sync(org=org)
    project = active_project(simulator.store)
    _rename(client_as(ana), project.id, "Renamed later")
    ActionLog.objects.update(created_at=dt.datetime.now(dt.UTC) - MATCH_WINDOW * 3)  # long before
    synced_later(org)
    assert "via this dashboard" not in text(client_as(auditor).get(AUDIT))
    activity = client_as(auditor).get(reverse("orgadmin:activity"))
    assert activity.context["event_links"] == {}


def test_it_pairs_on_resource_time_and_request_id():
    at = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    near = Candidate(1, "proj_1", at + dt.timedelta(seconds=4), "req_a")
    far = Candidate(2, "proj_1", at + dt.timedelta(minutes=4), "")
    other = Candidate(3, "proj_2", at, "")
    assert best_match(resource_ids={"proj_1"}, at=at, request_id="", candidates=[far, near]) == near
    assert best_match(resource_ids={"proj_1"}, at=at, request_id="req_b", candidates=[near]) is None
    assert best_match(resource_ids={"proj_1"}, at=at, request_id="req_b", candidates=[far]) == far
    assert best_match(resource_ids={"proj_3"}, at=at, request_id="", candidates=[other]) is None
    late = Candidate(4, "proj_1", at + MATCH_WINDOW + dt.timedelta(seconds=1), "")
    assert best_match(resource_ids={"proj_1"}, at=at, request_id="", candidates=[late]) is None


def test_it_joins_a_page_in_a_fixed_number_of_queries(
    client_as, ana, auditor, org, simulator, django_assert_max_num_queries
):
    directory_sync(org=org)
    client = client_as(ana)
    for n, project in enumerate(
        p for p in simulator.store.projects.values() if not p.is_default and not p.archived_at
    ):
        _rename(client, project.id, f"Renamed {n}")
    synced_later(org)
    reader = client_as(auditor)
    reader.get(AUDIT)  # warm the session
    # The explorer's own (see test_audit_log) + one for our action log's lines near the page's
    # events + one for the admin key owners' names, however many renames the page shows.
    with django_assert_max_num_queries(20):
        page = reader.get(AUDIT)
    assert text(page).count("via this dashboard") >= 2


# --- names, not bare ids (item 6) ----------------------------------------------------------------


def _a_user_key(store):
    return next(
        k
        for k in store.api_keys.values()
        if k.owner_type == "user" and store.projects[k.project_id].archived_at is None and k.name
    )


def test_it_names_a_deleted_key_and_finds_its_events_by_that_name(
    client_as, ana, auditor, org, simulator
):
    directory_sync(org=org)
    key = _a_user_key(simulator.store)
    assert AuditName.objects.get(org=org, object_id=key.id).name == key.name  # kept by the sync
    client_as(ana).post(
        reverse("orgadmin:project_key_delete", args=[key.project_id, key.id]), headers=HX
    )
    directory_sync(org=org)  # the cache forgets the key
    assert not ProjectApiKey.objects.filter(org=org, openai_id=key.id).exists()
    synced_later(org)
    event = AuditEvent.objects.get(org=org, type="api_key.deleted", resource_id=key.id)
    assert key.name.lower() not in event.search_text  # the event itself names only the id

    reader = client_as(auditor)
    found = reader.get(AUDIT, {"q": key.name})
    assert [row["event"] for row in found.context["rows"]] == [event]
    assert key.name in text(found)
    drawer = text(reader.get(reverse("orgadmin:audit_event", args=[event.event_id])))
    assert key.name in drawer
    assert key.id in drawer  # the id beside it
    chips = reader.get(AUDIT, {"resource": key.id}).context["chips"]
    assert f"Resource: {key.name} ({key.id})" in [c["label"] for c in chips]


def test_it_names_the_key_an_api_key_actor_used(client_as, auditor, org):
    audit_log_sync(org=org)
    event = AuditEvent.objects.filter(org=org, actor_type="api_key").exclude(api_key_id="").first()
    assert event is not None  # the demo history has changes made with admin keys
    AuditName.objects.update_or_create(
        org=org,
        object_id=event.api_key_id,
        defaults={"name": "Ops admin key", "seen_at": dt.datetime.now(dt.UTC)},
    )
    drawer = client_as(auditor).get(reverse("orgadmin:audit_event", args=[event.event_id]))
    assert "with API key “Ops admin key”" in text(drawer)
