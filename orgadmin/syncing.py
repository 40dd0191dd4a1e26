"""The shared machinery of every sync job: a recorded run, a lease lock, and watermarks.

    with sync_run(org=org, kind=SyncRun.Kind.USAGE, params={...}) as run:
        for page in pages:
            with transaction.atomic():
                written = upsert(page)
            run.page(rows=written)          # counts, and renews the lease

A run holds a lease on (org, kind). A second run started meanwhile raises SyncBusy. If a worker
dies mid-run, its lease runs out after SYNC_LEASE_SECONDS; the next run takes over and marks the
dead one abandoned. A run that lost its lease stops at its next page (SyncLeaseLost) instead of
writing beside the newer run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from orgadmin.models import Organization, SyncLock, SyncRun, SyncWatermark


class SyncBusy(Exception):
    """Another run of the same kind is under way for this organization."""


class SyncLeaseLost(Exception):
    """This run's lease ran out and another run took over."""


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SYNC_LEASE_SECONDS", 300))


class RunRecorder:
    """Counts a run's requests and rows, and renews its lease as pages go by."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run

    def page(self, *, rows: int = 0, requests: int = 1) -> None:
        """Record one page fetched and its rows written; renew the lease."""
        now = timezone.now()
        renewed = SyncLock.objects.filter(
            org_id=self.run.org_id, kind=self.run.kind, run=self.run
        ).update(expires_at=now + _lease())
        if not renewed:
            raise SyncLeaseLost(f"{self.run} lost its lease")
        SyncRun.objects.filter(pk=self.run.pk).update(
            requests_made=F("requests_made") + requests,
            rows_written=F("rows_written") + rows,
            heartbeat_at=now,
        )
        self.run.requests_made += requests
        self.run.rows_written += rows
        self.run.heartbeat_at = now


def _acquire(*, org: Organization, kind: str, params: dict, triggered_by: Any) -> SyncRun:
    # Created concurrently by another run? Fine: the row exists either way.
    with suppress(IntegrityError):
        SyncLock.objects.get_or_create(org=org, kind=kind)
    now = timezone.now()
    with transaction.atomic():
        stale = SyncLock.objects.filter(org=org, kind=kind).values_list("run_id", flat=True)
        stale_run_id = next(iter(stale), None)
        user = triggered_by if getattr(triggered_by, "is_authenticated", False) else None
        run = SyncRun.objects.create(org=org, kind=kind, params=params, triggered_by=user)
        taken = (
            SyncLock.objects.filter(org=org, kind=kind)
            .filter(Q(run__isnull=True) | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
            .update(run=run, expires_at=now + _lease())
        )
        if not taken:
            raise SyncBusy(f"A {run.get_kind_display().lower()} sync of {org} is already running.")
        if stale_run_id:
            SyncRun.objects.filter(pk=stale_run_id, status=SyncRun.Status.RUNNING).update(
                status=SyncRun.Status.ABANDONED, finished_at=now
            )
    return run


def _release(run: SyncRun) -> None:
    SyncLock.objects.filter(org_id=run.org_id, kind=run.kind, run=run).update(
        run=None, expires_at=None
    )


@contextmanager
def sync_run(
    *, org: Organization, kind: str, params: dict | None = None, triggered_by: Any = None
) -> Iterator[RunRecorder]:
    """Run a sync under the (org, kind) lock, recording it as a SyncRun."""
    run = _acquire(org=org, kind=kind, params=params or {}, triggered_by=triggered_by)
    recorder = RunRecorder(run)
    try:
        yield recorder
    except BaseException as exc:
        run.status = SyncRun.Status.FAILED
        run.error = str(exc) or exc.__class__.__name__
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        _release(run)
        raise
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    _release(run)


def is_running(*, org: Organization, kind: str) -> bool:
    """True while a live (unexpired) run of this kind holds the lock."""
    return SyncLock.objects.filter(
        org=org, kind=kind, run__isnull=False, expires_at__gte=timezone.now()
    ).exists()


def watermark_get(*, org: Organization, endpoint: str) -> dt.datetime | None:
    """Where the last run for this endpoint got to, or None before the first run."""
    return (
        SyncWatermark.objects.filter(org=org, endpoint=endpoint)
        .values_list("value", flat=True)
        .first()
    )


def watermark_set(*, org: Organization, endpoint: str, value: dt.datetime) -> None:
    """Move an endpoint's watermark (call it inside the transaction that wrote the data)."""
    SyncWatermark.objects.update_or_create(org=org, endpoint=endpoint, defaults={"value": value})
