"""The range of its history a sync holds complete, and the windows a run still has to fetch.

Each stream keeps that range as two watermarks: `<endpoint>` (the high end) and `<endpoint>#from`
(the low end). A run fetches the requested window minus that range, except the last
USAGE_SETTLE_HOURS before the high end, which are fetched again because recent buckets keep
changing for a while. OpenAI's usage and costs (`dashboard.sync.usage`) and an xAI team's costs
(`dashboard.sync.xai_costs`) share them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from orgadmin.models import Organization
from orgadmin.sync.runs import watermark_get, watermark_set


def windows_to_fetch(
    *,
    start: dt.datetime,
    end: dt.datetime,
    known: tuple[dt.datetime, dt.datetime] | None,
    settle: dt.timedelta,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end) not yet held complete: the window minus [low, high - settle)."""
    if start >= end:
        return []
    if known is None:
        return [(start, end)]
    low, high = known
    solid_end = high - settle
    if solid_end <= low:
        return [(start, end)]
    parts = []
    if start < low:
        parts.append((start, min(end, low)))
    tail = max(start, solid_end)
    if tail < end:
        parts.append((tail, end))
    # Two parts that touch are one window: fewer pages.
    if len(parts) == 2 and parts[0][1] >= parts[1][0]:
        parts = [(parts[0][0], parts[1][1])]
    return parts


def known_range(org: Organization, endpoint: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The range [low, high) the endpoint's watermarks say we hold complete, if any."""
    high = watermark_get(org=org, endpoint=endpoint)
    low = watermark_get(org=org, endpoint=f"{endpoint}#from")
    return (low, high) if high is not None and low is not None else None


def extend_known(
    org: Organization,
    endpoint: str,
    known: tuple[dt.datetime, dt.datetime] | None,
    fetched: tuple[dt.datetime, dt.datetime],
) -> tuple[dt.datetime, dt.datetime] | None:
    """Merge what this run has fetched so far into the endpoint's range, when they touch (in the
    caller's transaction: the rows and the watermarks that cover them commit together)."""
    start, end = fetched
    if known is None:
        merged = (start, end)
    elif start <= known[1] and end >= known[0]:
        merged = (min(known[0], start), max(known[1], end))
    else:
        return known  # not contiguous yet: the range would claim a gap
    if merged != known:
        watermark_set(org=org, endpoint=f"{endpoint}#from", value=merged[0])
        watermark_set(org=org, endpoint=endpoint, value=merged[1])
    return merged


def resume_from(org: Organization, endpoint: str, now: dt.datetime) -> dt.datetime:
    """Where a run without `start` begins: the watermark minus the settle window, or a backfill
    of USAGE_BACKFILL_DAYS on the first run."""
    known = known_range(org, endpoint)
    if known is None:
        return now - dt.timedelta(days=settings.USAGE_BACKFILL_DAYS)
    return known[1] - dt.timedelta(hours=settings.USAGE_SETTLE_HOURS)


def settle_window() -> dt.timedelta:
    """How far back from the high watermark every run fetches again."""
    return dt.timedelta(hours=settings.USAGE_SETTLE_HOURS)
