"""`manage.py rollups check`: every aggregate computed again from the raw rows, and compared.

Independent of how the sync maintains them (dashboard.sync.rollups): each grain is recomputed
from the raw rows directly, by the same bucket SQL the pages use (dashboard/buckets.py), a month
at a time, and compared row by row with what is stored: a row missing, a row too many, or a sum
that differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Min, Sum

from dashboard.buckets import bucket_key, bucket_start
from dashboard.families import FAMILIES, Family
from dashboard.models import (
    DAILY_MODELS,
    ROLLUP_MODELS,
    USAGE_MODELS,
    CostBucket,
    CostRollup,
    ReportingSettings,
    RollupTimezone,
)
from dashboard.periods import Period
from dashboard.sync.rollups import (
    COST_ROLLUP_DIMENSIONS,
    DAILY,
    FOLD_DAYS,
    HOUR,
    HOURLY,
    LOCAL,
    UTC,
    days_of,
    local_zone,
)
from orgadmin.models import Organization

Rows = dict[tuple, tuple]


@dataclass(frozen=True)
class Difference:
    """One aggregate row that is not what the raw rows add up to."""

    table: str
    key: tuple
    expected: tuple | None  # None: there should be no such row
    found: tuple | None  # None: the row is missing

    def __str__(self) -> str:
        key = ", ".join(_text(k) for k in self.key)
        expected = "no row" if self.expected is None else _text(self.expected)
        found = "no row" if self.found is None else _text(self.found)
        return f"{self.table} ({key}): expected {expected}, found {found}"


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def rollups_check(*, org: Organization, limit: int = 20) -> list[Difference]:
    """The first `limit` differences between the organization's aggregates and its raw rows
    (none: they agree)."""
    found: list[Difference] = []
    for difference in _differences(org):
        found.append(difference)
        if len(found) >= limit:
            break
    return found


def timezone_note(*, org: Organization) -> str | None:
    """Why pages in the reporting timezone don't read the local rollups, if they don't: these
    are cut in another timezone (exact for it; the pages fold the hours instead)."""
    name = ReportingSettings.objects.filter(org=org).values_list("timezone", flat=True).first()
    held = RollupTimezone.objects.filter(org=org).values_list("timezone", flat=True).first()
    if (name or "UTC") == (held or "UTC"):
        return None
    return (
        f"the local rollups are cut in {held or 'UTC'}, the reporting timezone is "
        f"{name or 'UTC'}: pages fold the hours until `rollups rebuild` cuts them in it"
    )


def _differences(org: Organization) -> Iterator[Difference]:
    tz = local_zone(org=org)
    for family in FAMILIES.values():
        yield from _usage_differences(org, family, tz)
    yield from _cost_differences(org)


def _compare(table: str, expected: Rows, found: Rows) -> Iterator[Difference]:
    for key in sorted(expected.keys() | found.keys(), key=_text):
        if expected.get(key) != found.get(key):
            yield Difference(table, key, expected.get(key), found.get(key))


def _int(value: Any) -> int | None:
    # PostgreSQL sums bigints as numeric (a Decimal); SQLite gives an int.
    return None if value is None else int(value)


def _parts(lo: dt.datetime, hi: dt.datetime, tz: ZoneInfo) -> Iterator[Period]:
    """The days of `tz` holding [lo, hi], a month at a time."""
    days = days_of(lo, hi + HOUR, tz)
    for start in range(0, days.days, FOLD_DAYS):
        first = days.start + dt.timedelta(days=start)
        yield Period(first, min(first + dt.timedelta(days=FOLD_DAYS), days.end), tz)


# --- usage ---------------------------------------------------------------------------------------


def _usage_differences(org: Organization, family: Family, tz: ZoneInfo | None):
    slug = family.slug
    bounds = [
        model.objects.filter(org=org).aggregate(lo=Min("bucket_start"), hi=Max("bucket_start"))
        for model in (USAGE_MODELS[slug], ROLLUP_MODELS[slug], DAILY_MODELS[slug])
    ]
    starts = [b["lo"] for b in bounds if b["lo"]] + [b["hi"] for b in bounds if b["hi"]]
    if not starts:
        return
    lo, hi = min(starts), max(starts)
    label = f"{slug} rollup"
    for part in _parts(lo, hi, UTC):
        yield from _compare(
            f"{label} 1h", _expected(org, family, part, "1h"), _found(org, family, HOURLY, part)
        )
        yield from _compare(
            f"{label} 1d", _expected(org, family, part, "1d"), _found(org, family, DAILY, part)
        )
        yield from _compare(
            f"{slug} daily", _expected_daily(org, family, part), _found_daily(org, family, part)
        )
    if tz is None:
        stray = _found(
            org,
            family,
            LOCAL,
            Period(lo.date() - dt.timedelta(days=2), hi.date() + dt.timedelta(days=2), UTC),
        )
        yield from _compare(f"{label} local", {}, stray)
        return
    for part in _parts(lo, hi, tz):
        yield from _compare(
            f"{label} local", _expected(org, family, part, "1d"), _found(org, family, LOCAL, part)
        )


def _expected(org: Organization, family: Family, part: Period, width: str) -> Rows:
    """Each dimension's sums per bucket (an hour, or a day of the part's timezone), and the
    hours with rows, from the raw rows."""
    raw = USAGE_MODELS[family.slug].objects.filter(
        org=org, bucket_start__gte=part.utc_start, bucket_start__lt=part.utc_end
    )
    sums = {m: Sum(m) for m in family.metric_names}
    out: Rows = {}
    for dim in ("", *family.dimensions):
        rows = (
            raw.annotate(key=bucket_key("bucket_start", width, part))
            .values("key", **({"dim_value": F(dim)} if dim else {}))
            .annotate(hours_=Count("bucket_start", distinct=True), **sums)
            .order_by()
        )
        for row in rows:
            start = bucket_start(int(row["key"]), width, part.tz)
            metrics = tuple(_int(row[m]) for m in family.metric_names)
            out[(dim, row.get("dim_value", ""), start)] = (row["hours_"], *metrics)
    return out


def _found(org: Organization, family: Family, grain: str, part: Period) -> Rows:
    rows = ROLLUP_MODELS[family.slug].objects.filter(
        org=org, grain=grain, bucket_start__gte=part.utc_start, bucket_start__lt=part.utc_end
    )
    names = family.metric_names
    return {
        (dim, value, start): (hours, *(_int(v) for v in metrics))
        for dim, value, start, hours, *metrics in rows.values_list(
            "dimension", "value", "bucket_start", "hours", *names
        )
    }


def _expected_daily(org: Organization, family: Family, part: Period) -> Rows:
    """The daily rows at full dimensions: sums, and a gauge's mean rounded half away from 0."""
    dims = family.dimensions
    aggregates: dict[str, Any] = {m: Sum(m) for m in family.metric_names}
    aggregates["rows_"] = Count("id")
    rows = (
        USAGE_MODELS[family.slug]
        .objects.filter(org=org, bucket_start__gte=part.utc_start, bucket_start__lt=part.utc_end)
        .annotate(key=bucket_key("bucket_start", "1d", part))
        .values("key", *dims)
        .annotate(**aggregates)
        .order_by()
    )
    out: Rows = {}
    for row in rows:
        values = []
        for m in family.metrics:
            total = _int(row[m.name])
            if m.over_time == "gauge" and total is not None:
                mean = Decimal(total) / row["rows_"]
                total = int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            values.append(total)
        start = bucket_start(int(row["key"]), "1d", part.tz)
        out[(start, *(row[d] for d in dims))] = tuple(values)
    return out


def _found_daily(org: Organization, family: Family, part: Period) -> Rows:
    rows = DAILY_MODELS[family.slug].objects.filter(
        org=org, bucket_start__gte=part.utc_start, bucket_start__lt=part.utc_end
    )
    dims, names = family.dimensions, family.metric_names
    return {
        tuple(row[: 1 + len(dims)]): tuple(_int(v) for v in row[1 + len(dims) :])
        for row in rows.values_list("bucket_start", *dims, *names)
    }


# --- costs ---------------------------------------------------------------------------------------


def _cost_differences(org: Organization) -> Iterator[Difference]:
    bounds = [
        model.objects.filter(org=org).aggregate(lo=Min("day"), hi=Max("day"))
        for model in (CostBucket, CostRollup)
    ]
    days = [b["lo"] for b in bounds if b["lo"]] + [b["hi"] for b in bounds if b["hi"]]
    if not days:
        return
    day, last = min(days), max(days)
    while day <= last:
        end = day + dt.timedelta(days=FOLD_DAYS)
        yield from _compare(
            "cost rollup", _expected_costs(org, day, end), _found_costs(org, day, end)
        )
        day = end


def _expected_costs(org: Organization, start: dt.date, end: dt.date) -> Rows:
    raw = CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)
    out: Rows = {}
    for dim in COST_ROLLUP_DIMENSIONS:
        rows = (
            raw.values("day", "currency", "quantity_unit", **({"dim_value": F(dim)} if dim else {}))
            .annotate(amount_=Sum("amount"), quantity_=Sum("quantity"))
            .order_by()
        )
        for row in rows:
            key = (dim, row["day"], row.get("dim_value", ""), row["currency"], row["quantity_unit"])
            out[key] = (row["amount_"], row["quantity_"])
    return out


def _found_costs(org: Organization, start: dt.date, end: dt.date) -> Rows:
    rows = CostRollup.objects.filter(org=org, day__gte=start, day__lt=end).values_list(
        "dimension", "day", "value", "currency", "quantity_unit", "amount", "quantity"
    )
    return {tuple(row[:5]): tuple(row[5:]) for row in rows}
