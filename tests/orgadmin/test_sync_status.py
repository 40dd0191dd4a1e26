"""One status read and one banner for the three syncs: the cursor, the give-up rule, a dead
worker, and the last success further back than the newest runs."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from orgadmin.models import SyncRun
from orgadmin.selectors import sync_status
from orgadmin.selectors.sync import SYNC_WAIT
from tests.factories import OrganizationFactory

KINDS = [
    (SyncRun.Kind.USAGE, "usage_sync_status", "usageSynced"),
    (SyncRun.Kind.AUDIT_LOG, "orgadmin:audit_sync_status", "auditSynced"),
    (SyncRun.Kind.DIRECTORY, "orgadmin:directory_status", "directoryChanged"),
]


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")


def _now() -> int:
    """Now as the banner's cursor: epoch milliseconds."""
    return int(timezone.now().timestamp() * 1000)


def test_it_waits_for_the_run_asked_for_then_follows_it(acme):
    asked = _now()
    old = SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.AUDIT_LOG, status="succeeded", finished_at=timezone.now(),
        started_at=timezone.now() - dt.timedelta(minutes=5),
    )  # fmt: skip

    waiting = sync_status(org=acme, kind=SyncRun.Kind.AUDIT_LOG, since=asked)
    assert waiting.waiting
    assert waiting.poll
    assert waiting.run is None
    assert waiting.last_success == old

    run = SyncRun.objects.create(org=acme, kind=SyncRun.Kind.AUDIT_LOG)
    running = sync_status(org=acme, kind=SyncRun.Kind.AUDIT_LOG, since=asked)
    assert running.run == run
    assert running.running
    assert not running.waiting

    SyncRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    done = sync_status(org=acme, kind=SyncRun.Kind.AUDIT_LOG, since=asked)
    assert not done.poll
    assert done.last_success == run


def test_it_gives_up_waiting_for_a_run_no_worker_took(acme):
    late = sync_status(
        org=acme,
        kind=SyncRun.Kind.USAGE,
        since=_now() - 1000 - int(SYNC_WAIT.total_seconds() * 1000),
    )
    assert late.since is None
    assert not late.poll
    future = sync_status(org=acme, kind=SyncRun.Kind.USAGE, since=_now() + 3_600_000)
    assert future.since is None
    assert not future.poll


def test_it_does_not_follow_a_run_whose_worker_died(acme, settings):
    settings.SYNC_LEASE_SECONDS = 300
    dead = timezone.now() - dt.timedelta(seconds=301)
    SyncRun.objects.create(org=acme, kind=SyncRun.Kind.DIRECTORY, heartbeat_at=dead)
    assert not sync_status(org=acme, kind=SyncRun.Kind.DIRECTORY).running


def test_it_finds_the_last_success_behind_many_failed_runs(acme, django_assert_num_queries):
    start = timezone.now() - dt.timedelta(days=3)
    ok = SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.USAGE, status="succeeded", started_at=start, finished_at=start
    )
    for i in range(50):
        SyncRun.objects.create(
            org=acme, kind=SyncRun.Kind.USAGE, status="failed",
            started_at=start + dt.timedelta(minutes=i + 1), finished_at=timezone.now(),
        )  # fmt: skip
    with django_assert_num_queries(2):
        status = sync_status(org=acme, kind=SyncRun.Kind.USAGE)
    assert status.last_success == ok
    assert status.latest.status == "failed"
    assert status.stale  # three days without a usage success


@pytest.mark.parametrize(("kind", "url", "event"), KINDS)
def test_every_kind_polls_with_the_same_cursor_and_stops_with_its_event(
    client_as, admin, org, kind, url, event
):
    client = client_as(admin)
    asked = _now()
    waiting = client.get(reverse(url), {"since": asked}, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200
    poll = re.search(r'hx-get="([^"]+)" hx-trigger="every 2s"', waiting.content.decode())
    assert poll.group(1).endswith(f"?since={asked}")

    SyncRun.objects.create(org=org, kind=kind, status="succeeded", finished_at=timezone.now())
    done = client.get(reverse(url), {"since": asked}, HTTP_HX_REQUEST="true")
    assert done.status_code == 286
    assert event in json.loads(done["HX-Trigger"])
    assert "every 2s" not in done.content.decode()


def test_sync_now_while_a_run_is_under_way_follows_that_run(client_as, admin, org, monkeypatch):
    from orgadmin import tasks

    queued = []
    monkeypatch.setattr(tasks.sync_audit_log, "delay_on_commit", lambda *a: queued.append(a))
    SyncRun.objects.create(org=org, kind=SyncRun.Kind.AUDIT_LOG)  # running, its worker alive

    response = client_as(admin).post(reverse("orgadmin:audit_sync"), HTTP_HX_REQUEST="true")

    assert queued == []
    body = response.content.decode()
    assert "already running" in body
    assert f'hx-get="{reverse("orgadmin:audit_sync_status")}" hx-trigger="every 2s"' in body


def test_a_run_that_ended_just_before_the_request_is_not_the_one_asked_for(acme):
    """Sync now right after a run, within the same second: the banner waits for the new run,
    it doesn't take the old one for the answer and stop at once."""
    ended = SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.DIRECTORY, status="succeeded", finished_at=timezone.now()
    )
    time.sleep(0.002)  # the click, a moment after the run ended
    asked = _now()

    status = sync_status(org=acme, kind=SyncRun.Kind.DIRECTORY, since=asked)

    assert status.waiting
    assert status.poll
    assert status.last_success == ended
