"""Reads for pages: plain rows, one query each."""

from __future__ import annotations

from orgadmin.models import ApiCapability, Organization, SyncRun


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
