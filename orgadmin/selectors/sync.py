"""Reads for pages: plain rows, one query each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from orgadmin.models import ApiCapability, Organization, SyncRun

# A sync asked for by hand that no run has picked up after this long is given up on: the status
# banner stops waiting for it (and shows what the runs say).
SYNC_WAIT = dt.timedelta(minutes=10)
# A kind whose scheduled runs should keep its data this fresh; past it, its banner warns.
STALE_AFTER = {SyncRun.Kind.USAGE: dt.timedelta(hours=2, minutes=15)}
# The runs read at once; the last success further back costs one more query.
_RECENT = 50
_FIELDS = (
    "kind",
    "org_id",
    "status",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "requests_made",
    "rows_written",
    "error",
    "failures",
    "params",
)


def latest_sync_runs(*, org: Organization) -> list[SyncRun]:
    """The newest run of each sync kind for an organization (one query)."""
    runs = SyncRun.objects.filter(org=org).order_by("kind", "-started_at")
    latest: dict[str, SyncRun] = {}
    fields = ("kind", "status", "started_at", "finished_at", "rows_written", "error", "failures")
    for run in runs.only(*fields)[:200]:
        latest.setdefault(run.kind, run)
    return [latest[k] for k in SyncRun.Kind.values if k in latest]


def refused_options(*, org: Organization) -> dict[str, ApiCapability]:
    """What each endpoint of the connection's API refuses, by endpoint (one query)."""
    return {c.endpoint: c for c in ApiCapability.objects.filter(org=org) if c.refused}


@dataclass(frozen=True)
class SyncStatus:
    """What a sync's status banner shows, and whether it should keep polling."""

    kind: str
    latest: SyncRun | None  # the newest run
    last_success: SyncRun | None  # the newest run that stored its data (succeeded or partial)
    run: SyncRun | None  # the run followed: the first one since `since`, else the newest
    since: int | None  # when a sync was asked for (epoch milliseconds), until SYNC_WAIT gives up
    running: bool  # `run` is under way, and its worker is alive
    stale: bool  # scheduled runs have not stored data for too long (STALE_AFTER)

    @property
    def waiting(self) -> bool:
        """A sync was asked for and no run has started since."""
        return self.since is not None and self.run is None

    @property
    def poll(self) -> bool:
        return self.waiting or self.running

    @property
    def synced_at(self) -> dt.datetime | None:
        return self.last_success.finished_at if self.last_success else None


def _asked(since: int | None, now: dt.datetime) -> dt.datetime | None:
    """`since` (epoch milliseconds) as a moment, or None when absent, in the future or older
    than SYNC_WAIT. Milliseconds, not seconds: a run that ended earlier in the same second as the
    request must not pass for the one it asked for."""
    if since is None or not 0 <= now.timestamp() * 1000 - since < SYNC_WAIT.total_seconds() * 1000:
        return None
    return dt.datetime.fromtimestamp(since / 1000, tz=dt.UTC)


def _alive(run: SyncRun, now: dt.datetime) -> bool:
    """A running run whose worker renewed its lease in time (see orgadmin.sync.runs)."""
    lease = dt.timedelta(seconds=getattr(settings, "SYNC_LEASE_SECONDS", 300))
    return run.is_running and run.heartbeat_at >= now - lease


def sync_status(*, org: Organization, kind: str, since: int | None = None) -> SyncStatus:
    """The status of one kind of sync: its newest run and last success, and, when a sync was
    asked for at `since` (epoch milliseconds), the run that answered it, if one has started (one
    query; two when the last success is older than the newest runs)."""
    now = timezone.now()
    runs = list(
        SyncRun.objects.filter(org=org, kind=kind).only(*_FIELDS).order_by("-started_at")[:_RECENT]
    )
    latest = runs[0] if runs else None
    success = next((r for r in runs if r.stored_data), None)
    if success is None and len(runs) == _RECENT:
        stored = [SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL]
        success = SyncRun.objects.filter(org=org, kind=kind, status__in=stored).first()
    asked = _asked(since, now)
    run = latest
    if asked is not None:
        run = next((r for r in reversed(runs) if r.started_at >= asked), None)
    stale_after = STALE_AFTER.get(kind)
    synced_at = success.finished_at if success else None
    return SyncStatus(
        kind=kind,
        latest=latest,
        last_success=success,
        run=run,
        since=since if asked is not None else None,
        running=run is not None and _alive(run, now),
        stale=stale_after is not None and (synced_at is None or now - synced_at > stale_after),
    )
