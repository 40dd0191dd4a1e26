"""xAI's audit events into the audit explorer: every event stored once, as xAI sent it, resumable.

`GET /audit/teams/{team}/events` lists a team's events oldest first (`TIME_ASCENDING`) from
`eventTimeFrom`, page after page. A run reads from the watermark minus
AUDIT_LOG_OVERLAP_SECONDS (so an event the API stamped a little late, or one sharing the
watermark's instant, is read again and skipped by its id) to the newest event. The watermark is
the newest event time stored; it moves in the transaction that stores each page, and never
otherwise. A run that fails half-way (a storm of 5xx past the client's retries, a dropped
connection) leaves it at its last stored page: the next run reads on from there, and nothing is
skipped or counted twice.

The events have no type, only a description and a user: `orgadmin.audit.untyped` maps each one
onto the explorer's columns, and `audit_events_store` stores them like OpenAI's (unique by
organization and id, with their counts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orgadmin.audit.untyped import event_time
from orgadmin.client import OrgAPIError
from orgadmin.models import Organization, SyncRun
from orgadmin.services.teams import team_id
from orgadmin.sync.audit import audit_events_store
from orgadmin.sync.runs import (
    NothingPermitted,
    RunRecorder,
    sync_run,
    watermark_get,
    watermark_set,
)
from orgadmin.xai.client import XAIClient, xai_client

STREAM = "xai:audit_events"  # the watermark's name
PAGE_SIZE = 100
AREA = "audit_log"  # what the management key must be allowed to read (orgadmin.areas)


def xai_audit_log_sync(
    *, org: Organization, since: dt.datetime | None = None, triggered_by: Any = None
) -> SyncRun:
    """Bring an xAI team's stored audit log up to date: from the watermark, or from `since`.

    When the management key may not read the audit log, the run ends "not permitted"
    (recorded on the connection, no failure) and the events stored before stay as they are.
    """
    params = {"since": since.date().isoformat()} if since else {}
    with sync_run(
        org=org, kind=SyncRun.Kind.AUDIT_LOG, params=params, triggered_by=triggered_by
    ) as run:
        try:
            with xai_client(org) as client:
                _sync(client, run, org=org, since=since)
        except OrgAPIError as exc:
            if not exc.permission_denied:
                raise
            run.area_refused(area=AREA, error=exc)
            raise NothingPermitted(
                "This connection's management key may not read the audit log."
            ) from None
        run.area_read(AREA)
    return run.run


def _sync(
    client: XAIClient, run: RunRecorder, *, org: Organization, since: dt.datetime | None
) -> None:
    watermark = watermark_get(org=org, endpoint=STREAM)
    start: dt.datetime | None
    if since is not None:
        start = since
    elif watermark is not None:
        start = watermark - dt.timedelta(seconds=settings.AUDIT_LOG_OVERLAP_SECONDS)
    else:
        start = None  # the first run reads the whole history
    # The watermark may only move over a contiguous stretch: a backfill that starts after it
    # would otherwise leave a gap behind it.
    advance = watermark is None or (start is not None and start <= watermark)
    team = team_id(org)
    for events in client.audit_events_raw(team, since=start, page_size=PAGE_SIZE):
        with transaction.atomic():
            written = audit_events_store(org=org, raws=events)
            newest = _newest(events)
            if advance and newest is not None:
                current = watermark_get(org=org, endpoint=STREAM)
                if current is None or current < newest:
                    watermark_set(org=org, endpoint=STREAM, value=newest)
        run.page(rows=written)


def _newest(events: list[dict[str, Any]]) -> dt.datetime | None:
    """The newest event time of a page, never past now (a clock ahead would skip events)."""
    times = [t for t in map(event_time, events) if t is not None]
    return min(max(times), timezone.now()) if times else None
