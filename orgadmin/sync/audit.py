"""Audit log sync: the API's events into our database, complete, idempotent and resumable.

The API lists events newest first, with id cursors, and filters on `effective_at`. A run walks
forward in time through slices `[lo, hi)`, reading each slice newest first to its end. The
watermark means "every event before it is stored"; it moves to `hi` in the transaction that
stores the slice's last page, and never otherwise. A run killed half-way (a dead worker, a storm
of 5xx past the SDK's retries) leaves the watermark at the start of the unfinished slice, so the
next run reads that slice again: events are upserted by id, nothing is skipped and nothing is
counted twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from orgadmin.audit import MalformedEvent, Normalized, normalize
from orgadmin.client import OrgAPIError, admin_client, api_errors
from orgadmin.models import (
    AuditEvent,
    AuditEventCount,
    AuditEventResource,
    AuditName,
    Organization,
    SyncRun,
)
from orgadmin.sync.audit_chain import chain_link, chain_lock
from orgadmin.sync.runs import (
    NothingPermitted,
    RunRecorder,
    sync_run,
    watermark_get,
    watermark_set,
)

logger = logging.getLogger(__name__)

# The API lists tenant-scoped events (tenant.*, role.bound_to_resource, …) only when asked with
# tenant_only=true, and then only those: two streams, each with its own watermark.
STREAMS: dict[str, dict[str, Any]] = {
    "audit_logs": {},
    "audit_logs:tenant": {"tenant_only": True},
}
PAGE_LIMIT = 100  # the API's maximum
FIRST_SLICE = dt.timedelta(days=1)
MAX_SLICE = dt.timedelta(days=32)
MIN_SLICE = dt.timedelta(hours=1)
BUSY_SLICE_PAGES = 20  # a slice that took more pages than this halves the next one
HISTORY_FLOOR = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)  # before OpenAI existed
AREA = "audit_log"  # what an admin key must be allowed to read (orgadmin.areas)


def audit_log_sync(
    *, org: Organization, since: dt.datetime | None = None, triggered_by: Any = None
) -> SyncRun:
    """Bring the stored audit log up to date: from the watermarks, or from `since` when given.

    When the admin key may not read the audit log, the run ends "not permitted" (recorded on
    the connection, no failure) and the events stored before stay as they are.
    """
    now = timezone.now().replace(microsecond=0)
    params = {"since": since.date().isoformat()} if since else {}
    with sync_run(
        org=org, kind=SyncRun.Kind.AUDIT_LOG, params=params, triggered_by=triggered_by
    ) as run:
        client = admin_client(org)
        for endpoint, extra in STREAMS.items():
            if not run.may_read(AREA):
                break  # refused for the other listing already: the same permission
            stream = _Stream(client, run, org=org, endpoint=endpoint, extra=extra)
            try:
                _sync_stream(stream, org=org, since=since, now=now)
            except OrgAPIError as exc:
                if not exc.permission_denied:
                    raise
                run.area_refused(area=AREA, error=exc)
                continue
            run.area_read(AREA)
        if run.refused and not run.read:
            raise NothingPermitted("This connection's admin key may not read the audit log.")
    return run.run


def _sync_stream(
    stream: _Stream, *, org: Organization, since: dt.datetime | None, now: dt.datetime
) -> None:
    watermark = watermark_get(org=org, endpoint=stream.endpoint)
    if since is not None:
        start = since
    elif watermark is not None:
        start = watermark - dt.timedelta(seconds=settings.AUDIT_LOG_OVERLAP_SECONDS)
    else:
        start = stream.history_start(now)
    # The watermark may only move over a contiguous stretch: a backfill that starts after it
    # would otherwise leave a gap behind it.
    stream.advance = watermark is None or start <= watermark
    stream.sync(start=max(start, HISTORY_FLOOR), end=now)


class _Stream:
    """One listing of the audit log (all events, or the tenant-scoped ones) and its watermark."""

    def __init__(
        self,
        client: Any,
        run: RunRecorder,
        *,
        org: Organization,
        endpoint: str,
        extra: dict[str, Any],
    ) -> None:
        self.client = client
        self.run = run
        self.org = org
        self.endpoint = endpoint
        self.extra = extra
        self.advance = True

    def page(self, *, lo: int, hi: int, after: str | None, limit: int = PAGE_LIMIT):
        """One page of events with lo <= effective_at < hi, newest first: (events, has_more)."""
        kwargs: dict[str, Any] = {"effective_at": {"gte": lo, "lt": hi}, "limit": limit}
        if after:
            kwargs["after"] = after
        with api_errors():
            response = self.client.audit_logs.with_raw_response.list(**kwargs, **self.extra)
        try:
            body = json.loads(response.text)
            events, has_more = body["data"], bool(body.get("has_more"))
        except (ValueError, KeyError, TypeError):
            events, has_more = None, False
        if not isinstance(events, list):
            raise OrgAPIError(
                "The OpenAI API sent an audit log page we could not read.",
                status=response.status_code,
                request_id=response.request_id,
            )
        return events, has_more

    def history_start(self, now: dt.datetime) -> dt.datetime:
        """How far back a first run must read: double the look-back until nothing is older."""
        look_back = dt.timedelta(days=7)
        while now - look_back > HISTORY_FLOOR:
            probe = now - look_back
            events, _ = self.page(lo=0, hi=int(probe.timestamp()), after=None, limit=1)
            self.run.page(rows=0)
            if not events:
                return probe
            look_back *= 2
        return HISTORY_FLOOR

    def sync(self, *, start: dt.datetime, end: dt.datetime) -> None:
        """Store every event of [start, end), slice after slice, oldest slice first."""
        lo, span = start, FIRST_SLICE
        while lo < end:
            hi = min(lo + span, end)
            pages = self.sync_slice(lo=lo, hi=hi)
            lo = hi
            if pages > BUSY_SLICE_PAGES:
                span = max(span / 2, MIN_SLICE)
            elif pages <= 1:
                span = min(span * 2, MAX_SLICE)

    def sync_slice(self, *, lo: dt.datetime, hi: dt.datetime) -> int:
        """Store every event of [lo, hi); move the watermark to hi with the slice's last page.
        Returns the number of pages read."""
        pages, after = 0, None
        while True:
            events, has_more = self.page(
                lo=int(lo.timestamp()), hi=int(hi.timestamp()), after=after
            )
            pages += 1
            last = not has_more or not events
            with transaction.atomic():
                written = audit_events_store(org=self.org, raws=events)
                if last and self.advance:
                    current = watermark_get(org=self.org, endpoint=self.endpoint)
                    if current is None or current < hi:
                        watermark_set(org=self.org, endpoint=self.endpoint, value=hi)
            self.run.page(rows=written)
            if last:
                return pages
            after = events[-1].get("id") if isinstance(events[-1], dict) else None
            if not after:
                raise OrgAPIError(
                    "The OpenAI API sent an audit log page whose last event has no id."
                )


def audit_events_store(*, org: Organization, raws: Iterable[dict]) -> int:
    """Store the events not stored yet (by id), with their ids and counts; returns how many.

    Call it inside a transaction: events, resources, counts and the chain's links are written
    together or not at all. The chain's head is locked before deciding what is new, so two
    writers of the same events link each of them once (orgadmin.sync.audit_chain).
    """
    raws = list(raws)
    if not raws:
        return 0
    head = chain_lock(org=org)
    new = _unstored(org, raws)
    if not new:
        return 0
    now = timezone.now()
    events = [
        AuditEvent(
            org=org,
            event_id=n.event_id,
            type=n.type,
            category=n.category,
            effective_at=n.effective_at,
            day=n.day,
            actor_type=n.actor_type,
            actor_id=n.actor_id,
            actor_email=n.actor_email,
            actor_key=n.actor_key,
            api_key_id=n.api_key_id,
            ip_address=n.ip_address,
            user_agent=n.user_agent,
            project_id=n.project_id,
            project_name=n.project_name,
            resource_id=n.resource_id,
            search_text=n.search_text,
            raw=raw,
            synced_at=now,
        )
        for n, raw in new
    ]
    chain_link(head=head, events=events)
    events = AuditEvent.objects.bulk_create(events)
    AuditEventResource.objects.bulk_create(
        [
            AuditEventResource(
                event=event, org=org, resource_id=resource_id, effective_at=n.effective_at
            )
            for event, (n, _) in zip(events, new, strict=True)
            for resource_id in n.resource_ids
        ]
    )
    _counts_add(org, [n for n, _ in new])
    _names_add(org, [n for n, _ in new])
    return len(new)


def _unstored(org: Organization, raws: Iterable[dict]) -> list[tuple[Normalized, dict]]:
    """The events of `raws` not stored yet, each once, normalized and with its raw dict."""
    fresh: dict[str, tuple[Normalized, dict]] = {}
    for raw in raws:
        try:
            n = normalize(raw)
        except MalformedEvent as exc:
            # The spec requires id, type and effective_at; without them an event can't be
            # placed or de-duplicated. Say so loudly rather than guess.
            logger.warning("Skipped a malformed audit event for %s: %s", org, exc)
            continue
        fresh.setdefault(n.event_id, (n, raw))
    if not fresh:
        return []
    stored = set(
        AuditEvent.objects.filter(org=org, event_id__in=list(fresh)).values_list(
            "event_id", flat=True
        )
    )
    return [pair for event_id, pair in fresh.items() if event_id not in stored]


def _names_add(org: Organization, events: list[Normalized]) -> None:
    """Remember the newest name each id had in these events (an older event never wins)."""
    newest: dict[str, tuple[dt.datetime, str]] = {}
    for n in events:
        for object_id, name in n.names.items():
            if object_id not in newest or newest[object_id][0] <= n.effective_at:
                newest[object_id] = (n.effective_at, name)
    names_remember(org=org, names=newest)


def names_remember(*, org: Organization, names: dict[str, tuple[dt.datetime, str]]) -> None:
    """Keep the name each id had at a moment (id → (seen_at, name)) in AuditName, unless a
    newer one is known. Rows are never deleted: a deleted key keeps its name. The audit sync
    gives the names its events reveal, the directory sync what its cache knew."""
    if not names:
        return
    table = connection.ops.quote_name(AuditName._meta.db_table)
    # The table name comes from the model; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (org_id, object_id, name, seen_at) VALUES (%s, %s, %s, %s) "  # noqa: S608
        "ON CONFLICT (org_id, object_id) DO UPDATE SET name = excluded.name, "
        f"seen_at = excluded.seen_at WHERE excluded.seen_at >= {table}.seen_at"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (org.pk, object_id[:200], name[:254], adapt(seen_at))
                for object_id, (seen_at, name) in names.items()
                if object_id and name
            ],
        )


def _counts_add(org: Organization, events: list[Normalized]) -> None:
    """Add these events to the block counts, at every level (see AuditEventCount)."""
    every = AuditEventCount.ALL
    cells: Counter[tuple] = Counter()
    for n in events:
        cells[(0, n.day, f"{n.category}.*", n.category, AuditEventCount.BY_CATEGORY, every)] += 1
        for level in range(AuditEventCount.TOP_LEVEL + 1):
            block = n.day >> level << level
            cells[(level, block, n.type, n.category, n.actor_key, n.project_id)] += 1
            cells[(level, block, n.type, n.category, every, n.project_id)] += 1
            cells[(level, block, every, every, n.actor_key, n.project_id)] += 1
            cells[(level, block, every, every, n.actor_key, every)] += 1
    table = connection.ops.quote_name(AuditEventCount._meta.db_table)
    # An additive upsert: the ORM's update_conflicts can only overwrite. The same statement
    # works on SQLite (3.24+) and PostgreSQL.
    sql = (
        f"INSERT INTO {table} (org_id, level, block, type, category, actor_key, project_id, n) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (org_id, level, block, type, actor_key, project_id) "
        f"DO UPDATE SET n = {table}.n + excluded.n"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(org.pk, *cell, count) for cell, count in cells.items()])


def audit_counts_rebuild(*, org: Organization) -> int:
    """Recompute every block count of an organization from its stored events; returns the cells."""
    events = connection.ops.quote_name(AuditEvent._meta.db_table)
    table = connection.ops.quote_name(AuditEventCount._meta.db_table)
    every = AuditEventCount.ALL
    # (type, category, actor, project) selected and grouped for each kind of cell.
    kinds = [
        ("type, category, actor_key, project_id", "type, category, actor_key, project_id", []),
        ("type, category, %s, project_id", "type, category, project_id", [every]),
        ("%s, %s, actor_key, project_id", "actor_key, project_id", [every, every]),
        ("%s, %s, actor_key, %s", "actor_key", [every, every, every]),
    ]
    # Days also count whole categories ("api_key.*") for everyone: `||` joins on both databases.
    by_category = (
        "category || '.*', category, %s, %s",
        "category",
        [AuditEventCount.BY_CATEGORY, every],
    )
    with transaction.atomic(), connection.cursor() as cursor:
        AuditEventCount.objects.filter(org=org).delete()
        for level in range(AuditEventCount.TOP_LEVEL + 1):
            block = f"(day / {2**level}) * {2**level}"  # integer division on both databases
            for selected, grouped, params in kinds + ([by_category] if level == 0 else []):
                cursor.execute(
                    f"INSERT INTO {table} "  # noqa: S608 (table names and integers only)
                    "(org_id, level, block, type, category, actor_key, project_id, n) "
                    f"SELECT org_id, {level}, {block}, {selected}, COUNT(*) "
                    f"FROM {events} WHERE org_id = %s GROUP BY org_id, {block}, {grouped}",
                    [*params, org.pk],
                )
    return AuditEventCount.objects.filter(org=org).count()
