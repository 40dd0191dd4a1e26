"""Reads for pages: plain rows, one query each."""

from __future__ import annotations

from orgadmin.models import Organization, SyncRun


def latest_sync_runs(*, org: Organization) -> list[SyncRun]:
    """The newest run of each sync kind for an organization (one query)."""
    runs = SyncRun.objects.filter(org=org).order_by("kind", "-started_at")
    latest: dict[str, SyncRun] = {}
    for run in runs.only("kind", "status", "started_at", "finished_at", "rows_written", "error")[
        :200
    ]:
        latest.setdefault(run.kind, run)
    return [latest[k] for k in SyncRun.Kind.values if k in latest]
