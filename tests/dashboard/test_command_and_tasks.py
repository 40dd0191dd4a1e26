"""The sync_usage command and the Celery tasks call the same service."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from dashboard import tasks
from dashboard.models import USAGE_MODELS, CostBucket
from orgadmin.models import SyncRun
from orgadmin.sync.runs import sync_run


def test_it_backfills_a_number_of_days_from_the_command(org, simulator, capsys):
    call_command("sync_usage", "--org", org.name, "--days", "2")

    out = capsys.readouterr().out
    assert f"{org.name}: 11 pages" in out
    assert USAGE_MODELS["completions"].objects.exists()
    assert CostBucket.objects.exists()
    assert SyncRun.objects.get().params["start"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2025-13-01"], "--since takes a date as YYYY-MM-DD"),
        (["--days", "0"], "--days must be at least 1"),
        (["--org", "Nobody"], "No connection is called “Nobody”"),
        (["--since", "2999-01-01"], "--since must be a day in the past"),
    ],
)
def test_it_explains_bad_command_arguments(org, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sync_usage", *args)


def test_it_reports_busy_when_a_run_holds_the_lock(org, simulator):
    with sync_run(org=org, kind=SyncRun.Kind.USAGE):
        assert tasks.sync_usage(org.pk) == "busy"


def test_it_syncs_one_connection_per_task_and_queues_every_connection(org, simulator, settings):
    settings.USAGE_BACKFILL_DAYS = 1

    assert tasks.sync_usage(org.pk) == "succeeded"
    assert tasks.sync_usage(999999) == "gone"
    assert tasks.sync_usage_all() == 1
    assert SyncRun.objects.filter(status="succeeded").count() == 2


def test_a_starting_worker_gives_never_synced_connections_their_first_syncs(
    org, simulator, settings
):
    from celery.signals import worker_ready

    from orgadmin.models import AuditEvent, OrgUser

    settings.USAGE_BACKFILL_DAYS = 1
    org.status = org.Status.UNVERIFIED
    org.save()
    # A connection that has its directory already gets only what it lacks.
    with sync_run(org=org, kind=SyncRun.Kind.DIRECTORY):
        pass

    worker_ready.send(sender=None)  # eager in tests: the queued syncs run inline

    assert set(SyncRun.objects.values_list("kind", flat=True)) == {
        "directory",
        "audit_log",
        "usage",
    }
    assert SyncRun.objects.filter(kind="directory").count() == 1
    assert AuditEvent.objects.exists()
    assert CostBucket.objects.exists()
    assert not OrgUser.objects.exists()
    org.refresh_from_db()
    assert org.status == org.Status.OK
    # Once each kind has run, a restarted worker queues nothing more.
    assert tasks.sync_never_synced() == {}
