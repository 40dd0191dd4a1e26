"""Audit log sync against the simulator: exact, idempotent, resumable, gapless under faults."""

from __future__ import annotations

import datetime as dt
import io

import openai
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from orgadmin.client import OrgAPIError, admin_client
from orgadmin.models import AuditEvent, AuditEventCount, SyncLock, SyncRun, SyncWatermark
from orgadmin.simulator import FaultConfig
from orgadmin.simulator.audit import Actor
from orgadmin.sync import audit as audit_sync
from orgadmin.sync.audit import audit_counts_rebuild, audit_events_store, audit_log_sync
from orgadmin.sync.runs import SyncBusy


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """The SDK's own backoff (0.5 s and up) would make the fault tests slow."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.002)


@pytest.fixture(autouse=True)
def _overlap_covers_the_simulator_clock(settings):
    """The simulator's clock stands at the start of the hour, so the events a mutation appends
    can be up to an hour older than our wall clock: the overlap must reach back that far."""
    settings.AUDIT_LOG_OVERLAP_SECONDS = 2 * 3600


def _stored(org) -> list[str]:
    return list(AuditEvent.objects.filter(org=org).values_list("event_id", flat=True))


def _counts(org) -> dict[tuple, int]:
    cells = AuditEventCount.objects.filter(org=org)
    return {
        (c.level, c.block, c.type, c.actor_key, c.project_id): c.n
        for c in cells.only("level", "block", "type", "actor_key", "project_id", "n")
    }


def _sync_until_done(org, *, attempts: int = 40) -> int:
    """Run the sync like beat would, until a run succeeds; returns how many runs failed."""
    failures = 0
    for _ in range(attempts):
        try:
            audit_log_sync(org=org)
        except OrgAPIError:
            failures += 1
            continue
        return failures
    raise AssertionError(f"no run succeeded in {attempts} attempts")


def test_it_syncs_the_whole_demo_history_exactly_and_again_adds_nothing(org, simulator):
    truth = simulator.store.audit_event_ids()
    assert len(truth) > 1000  # a year of history, tenant-scoped events included

    run = audit_log_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    stored = _stored(org)
    assert len(stored) == len(truth)
    assert set(stored) == set(truth)
    assert run.rows_written == len(truth)
    tenant = simulator.store.audit_event_ids(include_tenant=True)
    assert set(tenant) - set(simulator.store.audit_event_ids(include_tenant=False)) <= set(stored)

    again = audit_log_sync(org=org)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.rows_written == 0
    assert AuditEvent.objects.filter(org=org).count() == len(truth)
    # An incremental run reads only the overlap: one page per stream.
    assert again.requests_made == len(audit_sync.STREAMS)


def test_it_stores_each_event_exactly_as_the_api_returned_it(org, simulator):
    audit_log_sync(org=org)
    by_id = {e["id"]: e for e in simulator.store.audit.events()}
    for event in AuditEvent.objects.filter(org=org).iterator():
        assert event.raw == by_id[event.event_id]


def test_it_indexes_actor_project_session_and_resource_columns(org, simulator):
    audit_log_sync(org=org)
    raw = next(
        e
        for e in simulator.store.audit.events()
        if e["type"] == "rate_limit.updated" and e["actor"]["type"] == "api_key"
    )
    event = AuditEvent.objects.get(org=org, event_id=raw["id"])
    assert event.type == "rate_limit.updated"
    assert event.category == "rate_limit"
    assert event.effective_at == dt.datetime.fromtimestamp(raw["effective_at"], tz=dt.UTC)
    assert event.actor_type == "api_key"
    assert event.api_key_id == raw["actor"]["api_key"]["id"]
    assert event.actor_email == raw["actor"]["api_key"]["user"]["email"]
    assert event.project_id == raw["project"]["id"]
    assert event.resource_id == raw["rate_limit.updated"]["id"]
    assert raw["rate_limit.updated"]["id"] in set(
        event.resources.values_list("resource_id", flat=True)
    )

    login = next(e for e in simulator.store.audit.events() if e["type"] == "login.succeeded")
    session = login["actor"]["session"]
    stored = AuditEvent.objects.get(org=org, event_id=login["id"])
    assert (stored.actor_type, stored.ip_address) == ("session", session["ip_address"])
    assert stored.user_agent == session.get("user_agent", "")
    assert stored.actor_email == session["user"]["email"]


def test_it_keeps_the_counts_equal_to_a_recount_of_the_events(org, simulator):
    audit_log_sync(org=org)
    simulator.store.audit.add(
        event_id="audit_log-late_one",
        type="project.updated",
        effective_at=int(simulator.now()) - 60,
        actor=Actor("session", "user-x", "x@example.com", ip_address="198.51.100.7"),
        payload={"id": "proj_x", "changes_requested": {"title": "X"}},
    )
    audit_log_sync(org=org)
    kept = _counts(org)

    audit_counts_rebuild(org=org)

    assert kept == _counts(org)
    every = AuditEventCount.objects.filter(org=org, level=0, actor_key=AuditEventCount.ALL)
    assert every.exclude(type=AuditEventCount.ALL).aggregate(n=Sum("n"))["n"] == len(
        simulator.store.audit_event_ids()
    )


def test_it_picks_up_new_events_incrementally(org, simulator):
    audit_log_sync(org=org)
    before = AuditEvent.objects.filter(org=org).count()
    # A mutation through the API appends its audit event, as OpenAI's does.
    admin_client(org).invites.create(email="new.person@example.com", role="reader")

    run = audit_log_sync(org=org)

    assert run.rows_written == 1
    assert AuditEvent.objects.filter(org=org).count() == before + 1
    assert AuditEvent.objects.filter(org=org, type="invite.sent").filter(
        search_text__contains="new.person@example.com"
    )


def test_it_is_exact_under_injected_faults(org, simulator):
    simulator.faults = FaultConfig(
        rate=0.3, mix={"429": 3, "500": 1, "502": 1, "503": 1, "drop": 1}, retry_after_ms=1, seed=7
    )

    failures = _sync_until_done(org)

    assert sum(simulator.fault_counts.values()) > 10
    assert set(_stored(org)) == set(simulator.store.audit_event_ids())
    assert len(_stored(org)) == len(simulator.store.audit_event_ids())
    _sync_until_done(org)  # and again, through the same storm: nothing new
    assert SyncRun.objects.filter(org=org, status=SyncRun.Status.SUCCEEDED).last().rows_written
    assert (
        SyncRun.objects.filter(org=org, status=SyncRun.Status.SUCCEEDED).first().rows_written == 0
    )
    assert len(_stored(org)) == len(simulator.store.audit_event_ids())
    # Runs that gave up were recorded with the reason, and the ones after them resumed.
    failed = SyncRun.objects.filter(org=org, status=SyncRun.Status.FAILED)
    assert failed.count() >= failures
    assert all("HTTP" in run.error or "reach" in run.error for run in failed)


def test_it_resumes_after_a_storm_of_server_errors_without_a_gap(org, simulator, settings):
    settings.OPENAI_MAX_RETRIES = 1
    first = audit_log_sync(org=org)
    watermark = SyncWatermark.objects.get(org=org, endpoint="audit_logs").value
    assert first.status == SyncRun.Status.SUCCEEDED
    # Older events we never saw: the API recorded them late, inside the overlap window.
    late = [
        simulator.store.audit.add(
            event_id=f"audit_log-late_{i}",
            type="user.updated",
            effective_at=int(watermark.timestamp()) - 120 - i,
            actor=Actor("session", "user-y", "y@example.com", ip_address="198.51.100.8"),
            payload={"id": f"user-{i}", "changes_requested": {"role": "owner"}},
        )["id"]
        for i in range(3)
    ]
    simulator.faults = FaultConfig(script=["500"] * 2)  # one try and its one retry

    with pytest.raises(OrgAPIError):
        audit_log_sync(org=org)
    assert SyncWatermark.objects.get(org=org, endpoint="audit_logs").value == watermark
    assert SyncRun.objects.filter(org=org).first().status == SyncRun.Status.FAILED

    audit_log_sync(org=org)
    assert set(late) <= set(_stored(org))
    assert set(_stored(org)) == set(simulator.store.audit_event_ids())


def test_it_resumes_after_the_worker_died_half_way(org, simulator, monkeypatch):
    real_store = audit_sync.audit_events_store
    pages = {"n": 0}

    def dies_on_the_twentieth_page(**kwargs):
        pages["n"] += 1
        if pages["n"] == 20:
            raise SystemExit("worker killed")
        return real_store(**kwargs)

    monkeypatch.setattr(audit_sync, "audit_events_store", dies_on_the_twentieth_page)
    with pytest.raises(SystemExit):
        audit_log_sync(org=org)
    partial = len(_stored(org))
    assert 0 < partial < len(simulator.store.audit_event_ids())
    # A killed worker doesn't get to release its lock; the lease runs out instead.
    run = SyncRun.objects.get(org=org)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, finished_at=None)
    SyncLock.objects.filter(org=org).update(
        run=run, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    monkeypatch.setattr(audit_sync, "audit_events_store", real_store)

    resumed = audit_log_sync(org=org)

    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.ABANDONED
    assert set(_stored(org)) == set(simulator.store.audit_event_ids())
    assert resumed.rows_written == len(simulator.store.audit_event_ids()) - partial
    # It went on from the watermark, not from the start of history.
    assert resumed.requests_made < SyncRun.objects.get(pk=run.pk).requests_made + 74


def test_it_refuses_a_second_run_while_one_holds_the_lock(org, simulator):
    SyncLock.objects.create(
        org=org,
        kind=SyncRun.Kind.AUDIT_LOG,
        run=SyncRun.objects.create(org=org, kind=SyncRun.Kind.AUDIT_LOG),
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    with pytest.raises(SyncBusy):
        audit_log_sync(org=org)
    assert not AuditEvent.objects.filter(org=org).exists()


def test_it_stores_unknown_event_types_and_skips_nothing(org):
    from django.db import transaction

    raws = [
        {
            "id": "audit_log-future_1",
            "type": "quantum_link.entangled",
            "effective_at": 1_790_000_000,
            "actor": None,
            "quantum_link.entangled": {"id": "ql_1", "partner_id": "ql_2", "data": {"x": [1, 2]}},
        },
        {
            "id": "audit_log-no-payload",
            "type": "tenant.sso.migrated",
            "effective_at": 1_790_000_001,
        },
        {
            "id": "audit_log-odd",
            "type": "project.updated",
            "effective_at": 1_790_000_002,
            "project.updated": "??",
        },
    ]
    with transaction.atomic():
        assert audit_events_store(org=org, raws=raws) == 3
    future = AuditEvent.objects.get(org=org, event_id="audit_log-future_1")
    assert (future.type, future.category, future.resource_id) == (
        "quantum_link.entangled",
        "quantum_link",
        "ql_1",
    )
    assert {"ql_1", "ql_2"} <= set(future.resources.values_list("resource_id", flat=True))


def test_it_has_a_command_that_backfills_from_a_date(org, simulator):
    out = io.StringIO()
    call_command("sync_audit_logs", "--org", org.name, "--days", "30", stdout=out)

    cutoff = timezone.now() - dt.timedelta(days=30)
    expected = {
        e["id"]
        for e in simulator.store.audit.events()
        if e["effective_at"] >= cutoff.timestamp() + 5
    }
    assert expected <= set(_stored(org))
    assert not AuditEvent.objects.filter(org=org, effective_at__lt=cutoff - dt.timedelta(minutes=1))
    assert "new events" in out.getvalue()

    call_command(
        "sync_audit_logs", "--org", org.name, "--since", "2015-01-01", stdout=io.StringIO()
    )
    assert set(_stored(org)) == set(simulator.store.audit_event_ids())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "Nope"], "No connection named"),
        (["--since", "2025-02-30"], "--since must be a date"),
        (["--days", "0"], "--days must be between"),
        (["--since", "2999-01-01"], "in the future"),
    ],
)
def test_it_explains_bad_command_arguments(org, args, message):
    if args[0] != "--org":
        args = ["--org", org.name, *args]
    with pytest.raises(CommandError, match=message):
        call_command("sync_audit_logs", *args)


def test_it_runs_every_five_minutes_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["sync-audit-logs"]
    assert entry["task"] == "orgadmin.tasks.sync_audit_logs"
    assert entry["schedule"].minute == {0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}


def test_it_has_a_task_that_syncs_every_connection(org, simulator):
    from orgadmin import tasks

    assert tasks.sync_audit_logs() == [org.pk]  # each connection's run queued (run eagerly here)
    assert set(_stored(org)) == set(simulator.store.audit_event_ids())
    assert tasks.sync_audit_log(org.pk) == "succeeded"
    simulator.faults = FaultConfig(script=["500"] * 10)
    assert tasks.sync_audit_log(org.pk) == "failed"
