"""Date ranges in a reporting timezone: presets, local-day boundaries, and bucket folding.

Pure Python (no Django). The API's buckets are UTC hours; a local day is the hours that start
between two local midnights, so days follow the timezone (and its DST changes) exactly. For the
few zones whose offset isn't a whole hour, an hour counts toward the local day it starts in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

UTC = dt.UTC

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "mtd": "Month to date",
    "last_month": "Last month",
}
DEFAULT_PRESET = "30d"


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` away from `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of a preset, `today` being the current day in the reporting timezone."""
    tomorrow = today + dt.timedelta(days=1)
    if preset in ("7d", "30d", "90d"):
        return tomorrow - dt.timedelta(days=int(preset[:-1])), tomorrow
    if preset == "mtd":
        return first_of_month(today), tomorrow
    if preset == "last_month":
        this_month = first_of_month(today)
        return add_months(this_month, -1), this_month
    raise ValueError(f"unknown preset {preset!r}")


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole local days [start, end) in a timezone."""

    start: dt.date
    end: dt.date
    tz: ZoneInfo

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @cached_property
    def utc_start(self) -> dt.datetime:
        return local_midnight(self.start, self.tz)

    @cached_property
    def utc_end(self) -> dt.datetime:
        return local_midnight(self.end, self.tz)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start, self.tz)


def bucket_of(moment: dt.datetime, width: str, tz: ZoneInfo) -> dt.datetime:
    """The start (UTC) of the `width` bucket holding the UTC hour `moment`, in timezone `tz`."""
    if width == "1h":
        return moment
    local = moment.astimezone(tz)
    return local_midnight(local.date(), tz)


def bucket_starts(period: Period, width: str) -> list[dt.datetime]:
    """Every bucket start (UTC) of a period: one per local day, or one per hour."""
    if width == "1d":
        return [local_midnight(d, period.tz) for d in period.dates()]
    hours = int((period.utc_end - period.utc_start).total_seconds() // 3600)
    return [period.utc_start + dt.timedelta(hours=h) for h in range(hours)]
