"""When a digest is due, in an organization's reporting timezone: pure date arithmetic, no Django.

A weekly digest covers Monday to Sunday and is due the next Monday at SEND_AT local time; a
monthly one covers a calendar month and is due on the 1st of the next at SEND_AT. Local times
are built with zoneinfo, so a DST change moves the UTC moment, never the local hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SEND_AT = dt.time(8, 0)
WEEKLY = "weekly"
MONTHLY = "monthly"


@dataclass(frozen=True)
class DigestPeriod:
    """Local days [start, end) that one digest covers, and when it is due (UTC)."""

    start: dt.date
    end: dt.date
    due_at: dt.datetime

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def due_moment(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """SEND_AT on `day` in `tz`, as a UTC instant."""
    return dt.datetime.combine(day, SEND_AT, tzinfo=tz).astimezone(dt.UTC)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period(cadence: str, sent_on: dt.date, tz: ZoneInfo) -> DigestPeriod:
    """The period whose digest is sent on `sent_on` (a Monday, or a 1st)."""
    if cadence == WEEKLY:
        start = sent_on - dt.timedelta(days=7)
    elif cadence == MONTHLY:
        start = _add_months(sent_on, -1)
    else:
        raise ValueError(f"unknown cadence {cadence!r}")
    return DigestPeriod(start, sent_on, due_moment(sent_on, tz))


def _send_day_on_or_before(cadence: str, day: dt.date) -> dt.date:
    if cadence == WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def latest_due(cadence: str, *, now: dt.datetime, tz: ZoneInfo) -> DigestPeriod:
    """The latest period whose digest is due at `now` (its due moment is `now` or before)."""
    sent_on = _send_day_on_or_before(cadence, now.astimezone(tz).date())
    period = _period(cadence, sent_on, tz)
    if period.due_at > now:
        earlier = sent_on - dt.timedelta(days=1)
        period = _period(cadence, _send_day_on_or_before(cadence, earlier), tz)
    return period


def next_due(cadence: str, *, now: dt.datetime, tz: ZoneInfo) -> DigestPeriod:
    """The first period whose digest is due after `now`."""
    latest = latest_due(cadence, now=now, tz=tz)
    if cadence == WEEKLY:
        return _period(cadence, latest.end + dt.timedelta(days=7), tz)
    return _period(cadence, _add_months(latest.end, 1), tz)
