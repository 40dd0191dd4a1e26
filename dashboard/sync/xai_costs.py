"""An xAI team's costs: its usage analytics by UTC day, billed item and API key, into CostBucket.

xAI's Management API has no token usage by family, only the cost analytics query (`POST
/v1/billing/teams/{team}/usage`), so `usage_sync` runs this for a connection without
Capability.USAGE, under the same run, lock and watermarks as OpenAI's costs stream (the endpoint
"costs", `dashboard.sync.windows`): the requested window minus the range held complete, the last
USAGE_SETTLE_HOURS of it fetched again, a first run backfilling USAGE_BACKFILL_DAYS.

Each window is asked by day (timezone UTC, grouped by description and api_key_id, values usd
summed) and stored in one transaction with the watermarks: the window's days are replaced whole
(`write_cost_page`: a day that shrank keeps no stale row, a day the API now leaves empty is
emptied) and their cost rollups rebuilt. A row's line item is the billed item ("grok-4 input
tokens"), its model the model the item names (`model_of_description`), its amount the USD value
as the exact decimal the API wrote, no project, no quantity.

The answer is capped (*inferred*: 10,000 points, series × days). A window is as wide as the last
answer's number of series leaves room for, at most MAX_WINDOW_DAYS; an answer with
`limitReached` is never stored: its window is halved and asked again, and a single day that is
still too big is asked key by key. A window that fails after the client's retries is recorded on
the run, which goes on with the next one and ends "partial"; the watermarks cover only what was
stored contiguously, so the next run fetches the failed window again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.families import COSTS_ENDPOINT, line_item_parts
from dashboard.sync.windows import (
    extend_known,
    known_range,
    resume_from,
    settle_window,
    windows_to_fetch,
)
from dashboard.sync.writer import DAY, SyncDataError, ceil_to, floor_to, write_cost_page
from orgadmin.client import OrgAPIError
from orgadmin.models import Organization, SyncRun
from orgadmin.services.teams import team_id
from orgadmin.sync.audit import names_remember
from orgadmin.sync.runs import NothingPermitted, RunRecorder, sync_run
from orgadmin.xai.client import XAIClient, xai_client
from orgadmin.xai.types import UsageAnswer

log = logging.getLogger(__name__)

GROUP_BY = ("description", "api_key_id")
POINT_CAP = 10_000  # *inferred*: the most points (series × buckets) one answer holds
MAX_WINDOW_DAYS = 31  # the widest window asked at once
LABEL = "Costs"
AREA = "costs"


# --- billed items ----------------------------------------------------------------------------

# A model id as xAI writes one: lower case, no spaces, in parts joined by "-" or ".", at least one
# of them after the first ("grok-4", "grok-3-mini", "grok-code-fast-1", "grok-4-0709").
_MODEL_ID = re.compile(r"^[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+$")


def model_of_description(description: str) -> str:
    """The model a billed item names: "grok-4 input tokens" → "grok-4", "grok-4, input" →
    "grok-4". An item that names none ("Live Search sources") is its own model, as OpenAI's are
    (`line_item_parts`), so that grouping by model never merges what it can't tell apart."""
    text = " ".join((description or "").split())
    head, _, rest = text.partition(" ")
    if rest and _MODEL_ID.match(head.rstrip(",")):
        return head.rstrip(",")
    return line_item_parts(text).model


# --- the answer as cost buckets --------------------------------------------------------------


def _key_names(answers: list[UsageAnswer], seen: dt.datetime) -> dict[str, tuple[dt.datetime, str]]:
    """The API keys' names the answers label their groups with (`groupLabels`, in the order of
    `groupBy`; *inferred*: xAI's docs show the field, not what it holds), so the pages name a
    key as xAI does, also once it is deleted. A label that is the id itself names nothing."""
    names: dict[str, tuple[dt.datetime, str]] = {}
    for answer in answers:
        for series in answer.time_series:
            if len(series.group) == len(GROUP_BY) and len(series.group_labels) == len(GROUP_BY):
                key_id, label = series.group[1], series.group_labels[1]
                if key_id and label and label != key_id:
                    names[key_id] = (seen, label)
    return names


def _buckets(answers: list[UsageAnswer], start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Every day of [start, end) as a cost bucket (a day without a cent too, so that what we held
    of it goes), with one result per (billed item, key) that cost something."""
    days: dict[dt.datetime, dict[tuple[str, str], Decimal]] = {}
    day = start
    while day < end:
        days[day] = {}
        day += DAY
    for answer in answers:
        for series in answer.time_series:
            if len(series.group) != len(GROUP_BY):
                raise SyncDataError(f"expected a group of {GROUP_BY}, got {series.group!r}")
            key = (series.group[0], series.group[1])
            for point in series.data_points:
                held = days.get(floor_to(point.timestamp, DAY))
                value = point.values[0] if point.values else Decimal(0)
                if held is None or not value:
                    continue  # outside the window, or nothing spent (the series are dense)
                held[key] = held.get(key, Decimal(0)) + value
    return [
        {
            "start_time": int(moment.timestamp()),
            "results": [
                {
                    "line_item": item,
                    "project_id": "",
                    "api_key_id": key_id,
                    "amount": {"value": value, "currency": "usd"},
                    "quantity": None,
                }
                for (item, key_id), value in sorted(results.items())
            ],
        }
        for moment, results in days.items()
    ]


# --- the run ---------------------------------------------------------------------------------


@dataclass
class _Run:
    org: Organization
    client: XAIClient
    team: str
    recorder: RunRecorder
    now: dt.datetime
    known: tuple[dt.datetime, dt.datetime] | None
    width: int = 0  # days per window (MAX_WINDOW_DAYS at first), fitted to the answers' series
    stored: int = 0  # windows stored
    last_error: Exception | None = None

    def ask(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        filters: tuple[str, ...] = (),
        group_by: tuple[str, ...] = GROUP_BY,
    ) -> UsageAnswer:
        """One analytics request by UTC day, counted on the run (which renews its lease)."""
        try:
            return self.client.usage(
                self.team,
                start=start,
                end=end,
                time_unit="TIME_UNIT_DAY",
                group_by=group_by,
                filters=filters,
                timezone="UTC",
            )
        finally:
            self.recorder.page(rows=0)


def costs_sync(
    *,
    org: Organization,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    refetch: bool = False,
    triggered_by: Any = None,
) -> SyncRun:
    """Sync an xAI team's costs of [start, end) into the cost tables; returns the recorded run.

    The same contract as `usage_sync`: without `start` the run resumes from the watermark minus
    the settle window (a first run backfills); `refetch` fetches the whole window again. Raises
    SyncBusy when a usage sync of the connection is running, and OrgAPIError (recorded on the run)
    when nothing could be stored or the key is refused; a key that may not read costs ends the
    run "not permitted".
    """
    now = timezone.now()
    end = min(end or now, now)
    params = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat(),
        "refetch": refetch,
        "families": "costs",
    }
    kind = SyncRun.Kind.USAGE
    with (
        sync_run(org=org, kind=kind, params=params, triggered_by=triggered_by) as recorder,
        xai_client(org, timeout=settings.USAGE_SYNC_TIMEOUT) as client,
    ):
        known = known_range(org, COSTS_ENDPOINT)
        run = _Run(org, client, team_id(org), recorder, now, known, width=MAX_WINDOW_DAYS)
        _sync(run, start=start, end=end, refetch=refetch)
    return recorder.run


def _sync(run: _Run, *, start: dt.datetime | None, end: dt.datetime, refetch: bool) -> None:
    lo = floor_to(start or resume_from(run.org, COSTS_ENDPOINT, run.now), DAY)
    hi = ceil_to(end, DAY)
    parts = (
        [(lo, hi)]
        if refetch
        else windows_to_fetch(start=lo, end=hi, known=run.known, settle=settle_window())
    )
    for part in parts:
        _sync_part(run, floor_to(part[0], DAY), ceil_to(part[1], DAY))
    _finish(run)


def _finish(run: _Run) -> None:
    recorder = run.recorder
    if recorder.refused:
        raise NothingPermitted("This connection's management key may not read costs.")
    if run.last_error is not None and not run.stored:
        raise run.last_error
    recorder.area_read(AREA)


def _sync_part(run: _Run, start: dt.datetime, end: dt.datetime) -> None:
    """The days [start, end), a window at a time, oldest first."""
    pending: deque[tuple[dt.datetime, dt.datetime]] = deque()
    cursor = start
    while (cursor < end or pending) and not run.recorder.refused:
        if pending:
            window = pending.popleft()
        else:
            window = (cursor, min(cursor + run.width * DAY, end))
            cursor = window[1]
        try:
            halves = _sync_window(run, *window)
        except (OrgAPIError, SyncDataError) as exc:
            _failed(run, window, exc)
            continue
        pending.extendleft(reversed(halves))


def _sync_window(run: _Run, start: dt.datetime, end: dt.datetime) -> list:
    """Fetch and store one window; the halves to ask instead when its answer was capped."""
    answer = run.ask(start, end)
    days = (end - start) // DAY
    if answer.limit_reached and days > 1:
        middle = start + (days // 2) * DAY
        run.width = max(1, days // 2)
        return [(start, middle), (middle, end)]
    answers = _by_key(run, start, end) if answer.limit_reached else [answer]
    # The next window: as many days as leave room for these series (one, after a capped day).
    series = POINT_CAP if answer.limit_reached else max(len(answer.time_series), 1)
    run.width = max(1, min(MAX_WINDOW_DAYS, POINT_CAP * 4 // 5 // series))
    _store(run, start, end, answers)
    return []


def _by_key(run: _Run, start: dt.datetime, end: dt.datetime) -> list[UsageAnswer]:
    """One day whose every (item, key) is too many for an answer: asked key by key."""
    keys = run.ask(start, end, group_by=("api_key_id",))
    if keys.limit_reached:
        raise SyncDataError("xAI's answer is capped even for one day's API keys.")
    answers = []
    for key_id in sorted({s.group[0] for s in keys.time_series if s.group}):
        answer = run.ask(start, end, filters=(f"api_key_id:{key_id}",))
        if answer.limit_reached:
            raise SyncDataError(f"xAI's answer is capped even for one day of key {key_id}.")
        answers.append(answer)
    return answers


def _store(run: _Run, start: dt.datetime, end: dt.datetime, answers: list[UsageAnswer]) -> None:
    """The window's days replaced and rolled up, and the watermarks moved, in one transaction."""
    buckets = _buckets(answers, start, end)
    with transaction.atomic():
        page = write_cost_page(run.org, buckets, timezone.now(), model_of=model_of_description)
        names_remember(org=run.org, names=_key_names(answers, end))
        # Never claim beyond the moment of fetching: today is still being spent.
        fetched_to = min(page.last_end if page else end, run.now)
        run.known = extend_known(run.org, COSTS_ENDPOINT, run.known, (start, fetched_to))
    run.stored += 1
    run.recorder.page(rows=page.rows if page else 0, requests=0)


def _failed(run: _Run, window: tuple[dt.datetime, dt.datetime], exc: Exception) -> None:
    """A window that failed after the retries: recorded, and the run goes on (see the module's
    docstring); an error that would fail every window ends the run."""
    if isinstance(exc, OrgAPIError) and exc.permission_denied:
        run.recorder.area_refused(area=AREA, error=exc)
        return
    if isinstance(exc, OrgAPIError) and exc.account_wide:
        raise exc
    first, last = window[0].date(), (window[1] - DAY).date()
    days = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
    log.warning("costs sync of %s: %s failed: %s", run.org, days, exc)
    run.recorder.stream_failed(stream=COSTS_ENDPOINT, label=f"{LABEL} {days}", error=exc)
    run.last_error = exc
