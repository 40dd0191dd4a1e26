"""The aggregates the pages read, kept equal to the raw rows in the transaction that writes them.

After a page of hours is written (dashboard.sync.writer), the aggregates of those hours are
rebuilt from the raw rows: the daily copies at full dimensions (DAILY_MODELS), then the hourly
rollups (ROLLUP_MODELS, grain "1h": the total and one branch per dimension, in one INSERT ...
SELECT; or on PostgreSQL summed from the page's rows by `hourly_rows` off the writer's thread,
and inserted as they are), then the UTC days ("1d") and the days of the local timezone
("local") that those hours touch, folded from the hourly rollups. A page of cost days rebuilds
those days' CostRollup rows from the cost rows. A revised bucket is a page written again: it
takes the same path.

Every such write first moves the organization's DataGeneration (`data_changed`), which the page
cache keys on. Being first, that update also orders the writers of one organization: it locks the
row until the commit, so a change of the reporting timezone and a sync page never interleave
(the page reads the timezone only once it holds the lock).

Ranges here are whole UTC hours (usage) or days (costs); the callers align them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max, Min, Sum

from dashboard.buckets import bucket_key
from dashboard.families import COST_GROUPINGS, FAMILIES, Family
from dashboard.models import (
    DAILY_MODELS,
    ROLLUP_MODELS,
    USAGE_MODELS,
    CostBucket,
    CostRollup,
    DataGeneration,
    ReportingSettings,
    RollupTimezone,
)
from dashboard.periods import Period, local_midnight
from dashboard.sync.bulk import insert_rows
from orgadmin.models import Organization

HOURLY, DAILY, LOCAL = "1h", "1d", "local"
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
UTC = ZoneInfo("UTC")
EPOCH = dt.date(1970, 1, 1)
FOLD_DAYS = 31  # days folded per statement (each day is one WHEN of its CASE)
COST_ROLLUP_DIMENSIONS = ("", *COST_GROUPINGS)


def data_changed(*, org: Organization) -> None:
    """Move the organization's data generation by one (created at 1), in the caller's
    transaction; one statement, which holds the row's lock until the commit."""
    table = connection.ops.quote_name(DataGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Our table's name, quoted; the value is a bound parameter.
            f"INSERT INTO {table} (org_id, value) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT (org_id) DO UPDATE SET value = {table}.value + 1",
            [org.pk],
        )


def _dimensions(family: Family) -> tuple[str, ...]:
    return ("", *family.dimensions)


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- usage ---------------------------------------------------------------------------------------


def usage_update(
    *,
    org: Organization,
    family: Family,
    start: dt.datetime,
    end: dt.datetime,
    stamp: dt.datetime,
    hours: list[tuple] | None = None,
) -> None:
    """Rebuild every aggregate of the hours [start, end) from the raw rows: the daily rows and
    the rollups of each UTC day they touch, the hourly rollups, and the local days'. `hours`,
    when given, are the hourly rollups of exactly those hours, summed already (`hourly_rows`)
    from the rows that were just written there: they are inserted as they are."""
    if start >= end:
        return
    _daily_rows_update(org, family, start, end, stamp)
    _hours_update(org, family, start, end, hours)
    _fold_days(org, family, DAILY, days_of(start, end, UTC))
    tz = local_zone(org=org)
    if tz is not None:
        _fold_days(org, family, LOCAL, days_of(start, end, tz))


def days_of(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> Period:
    """The days of `tz` that the hours [start, end) count toward (an hour counts toward the
    day it starts in)."""
    return Period(start.astimezone(tz).date(), (end - HOUR).astimezone(tz).date() + DAY, tz)


def local_zone(*, org: Organization) -> ZoneInfo | None:
    """The timezone the organization's local rollups are cut in (None: UTC, whose days "1d"
    already holds)."""
    name = RollupTimezone.objects.filter(org=org).values_list("timezone", flat=True).first()
    return ZoneInfo(name) if name and name != "UTC" else None


def _daily_rows_update(
    org: Organization, family: Family, start: dt.datetime, end: dt.datetime, stamp: dt.datetime
) -> None:
    """The daily rows at full dimensions of every UTC day the hours touch; a gauge (bytes
    stored) holds the day's mean."""
    days = days_of(start, end, UTC)
    day_lo, day_hi = days.utc_start, days.utc_end
    daily = DAILY_MODELS[family.slug]
    daily.objects.filter(org=org, bucket_start__gte=day_lo, bucket_start__lt=day_hi).delete()
    adapt = connection.ops.adapt_datetimefield_value
    _execute(_daily_sql(family), [adapt(stamp), org.pk, adapt(day_lo), adapt(day_hi)])


@cache
def _daily_sql(family: Family) -> str:
    qn = connection.ops.quote_name
    hourly, daily = USAGE_MODELS[family.slug], DAILY_MODELS[family.slug]
    day = (
        # Django stores a datetime as "YYYY-MM-DD HH:MM:SS" text: its day is the first ten.
        "substr(bucket_start, 1, 10) || ' 00:00:00'"
        if connection.vendor == "sqlite"
        else "date_trunc('day', bucket_start)"  # the session is in UTC
    )
    integer = "INTEGER" if connection.vendor == "sqlite" else "BIGINT"
    dims = ", ".join(qn(d) for d in family.dimensions)
    sums = ", ".join(
        f"CAST(ROUND(AVG({qn(m.name)})) AS {integer})"
        if m.over_time == "gauge"
        else f"SUM({qn(m.name)})"
        for m in family.metrics
    )
    metrics = ", ".join(qn(m) for m in family.metric_names)
    # Table and column names come from our models, quoted; every value is a bound parameter.
    return (
        f"INSERT INTO {qn(daily._meta.db_table)} (org_id, bucket_start, {dims}, {metrics}, "  # noqa: S608
        f"fetched_at) SELECT org_id, {day}, {dims}, {sums}, %s FROM {qn(hourly._meta.db_table)} "
        f"WHERE org_id = %s AND bucket_start >= %s AND bucket_start < %s "
        f"GROUP BY org_id, {day}, {dims}"
    )


def _hours_update(
    org: Organization,
    family: Family,
    start: dt.datetime,
    end: dt.datetime,
    hours: list[tuple] | None,
) -> None:
    """The hourly rollups of [start, end): `hours` when given, else summed from the raw rows."""
    model = ROLLUP_MODELS[family.slug]
    model.objects.filter(
        org=org,
        grain=HOURLY,
        dimension__in=_dimensions(family),
        bucket_start__gte=start,
        bucket_start__lt=end,
    ).delete()
    if hours is not None:
        insert_rows(model, _ROLLUP_COLUMNS + family.metric_names, hours)
        return
    adapt = connection.ops.adapt_datetimefield_value
    sql, branches = _hours_sql(family)
    _execute(sql, [org.pk, adapt(start), adapt(end)] * branches)


@cache
def _hours_sql(family: Family) -> tuple[str, int]:
    """INSERT ... SELECT of a range's hourly rollups, and how many times it takes (org, start,
    end): the total and each dimension's sums per hour."""
    qn = connection.ops.quote_name
    raw, rollup = USAGE_MODELS[family.slug], ROLLUP_MODELS[family.slug]
    metrics = ", ".join(qn(m) for m in family.metric_names)
    sums = ", ".join(f"SUM({qn(m)})" for m in family.metric_names)
    where = "WHERE org_id = %s AND bucket_start >= %s AND bucket_start < %s"
    head = (
        f"INSERT INTO {qn(rollup._meta.db_table)} "
        f"(org_id, grain, dimension, value, bucket_start, hours, {metrics}) "
    )
    table = qn(raw._meta.db_table)
    if connection.vendor == "postgresql":
        # One pass over the rows: a grouping set per dimension. In each set only its own
        # dimension is grouped (the others are NULL, and no stored value is: "" stands for none).
        dims = [qn(d) for d in family.dimensions]
        which = " ".join(
            f"WHEN GROUPING({d}) = 0 THEN '{name}'"
            for d, name in zip(dims, family.dimensions, strict=True)
        )
        sets = ", ".join(["()", *(f"({d})" for d in dims)])
        return (
            head + f"SELECT org_id, '{HOURLY}', CASE {which} ELSE '' END, "  # noqa: S608
            f"COALESCE({', '.join(dims)}, ''), bucket_start, 1, {sums} FROM {table} {where} "
            f"GROUP BY org_id, bucket_start, GROUPING SETS ({sets})",
            1,
        )
    branches = []
    for dim in _dimensions(family):
        value, group = (qn(dim), f", {qn(dim)}") if dim else ("''", "")
        branches.append(
            f"SELECT org_id, '{HOURLY}', '{dim}', {value}, bucket_start, 1, {sums} "  # noqa: S608
            f"FROM {table} {where} GROUP BY org_id, bucket_start{group}"
        )
    return head + " UNION ALL ".join(branches), len(branches)


_ROLLUP_COLUMNS = ("org_id", "grain", "dimension", "value", "bucket_start", "hours")


def hourly_rows(family: Family, org_pk: int, buckets: Iterable[list[tuple]]) -> list[tuple]:
    """The hourly rollup rows (as _ROLLUP_COLUMNS, then the family's metrics) of the raw rows
    of whole hours, one list per hour, each row as the writer inserts it: (org, hour, the
    dimensions, the metrics, fetched at). The same sums as the SQL of `_hours_sql`: a metric
    that is null in every row of a group is null. No database here: the preparing thread runs it."""
    n = len(family.dimensions)
    metrics = slice(2 + n, 2 + n + len(family.metric_names))
    out: list[tuple] = []
    for rows in buckets:
        if not rows:
            continue
        start, values = rows[0][1], [row[metrics] for row in rows]
        out.append((org_pk, HOURLY, "", "", start, 1, *map(_sum, zip(*values, strict=True))))
        for d, name in enumerate(family.dimensions, start=2):
            groups: dict[str, list[tuple]] = {}
            for row, counts in zip(rows, values, strict=True):
                groups.setdefault(row[d], []).append(counts)
            for value, each in groups.items():
                summed = each[0] if len(each) == 1 else tuple(map(_sum, zip(*each, strict=True)))
                out.append((org_pk, HOURLY, name, value, start, 1, *summed))
    return out


def _sum(values: tuple) -> int | None:
    """SQL's SUM: the nulls left out, null when all are."""
    total = sum(filter(None, values))
    if total == 0 and None in values:
        return None if all(v is None for v in values) else 0
    return total


def _fold_days(org: Organization, family: Family, grain: str, days: Period) -> None:
    """The `grain` rollups ("1d" or "local") of these days, folded from the hourly ones."""
    model = ROLLUP_MODELS[family.slug]
    mine = model.objects.filter(org=org, dimension__in=_dimensions(family))
    in_days = {"bucket_start__gte": days.utc_start, "bucket_start__lt": days.utc_end}
    mine.filter(grain=grain, **in_days).delete()
    if days.days > FOLD_DAYS:
        # A long range (a rebuild): only the days that have hours.
        held = mine.filter(grain=HOURLY, **in_days).aggregate(
            lo=Min("bucket_start"), hi=Max("bucket_start")
        )
        if held["lo"] is None:
            return
        days = days_of(max(held["lo"], days.utc_start), held["hi"] + HOUR, days.tz)
    for start in range(0, days.days, FOLD_DAYS):
        first = days.start + dt.timedelta(days=start)
        part = Period(first, min(first + dt.timedelta(days=FOLD_DAYS), days.end), days.tz)
        _fold_part(org, family, grain, part)


def _fold_part(org: Organization, family: Family, grain: str, days: Period) -> None:
    qn = connection.ops.quote_name
    model = ROLLUP_MODELS[family.slug]
    folded = (
        model.objects.filter(
            org=org,
            grain=HOURLY,
            dimension__in=_dimensions(family),
            bucket_start__gte=days.utc_start,
            bucket_start__lt=days.utc_end,
        )
        .annotate(day=bucket_key("bucket_start", "1d", days))
        .values("day", "dimension", "value")
        .annotate(n_hours=Sum("hours"), **{m: Sum(m) for m in family.metric_names})
        .order_by()
    )
    select, params = folded.query.sql_with_params()
    adapt = connection.ops.adapt_datetimefield_value
    # Each day's key (as bucket_key gives it) becomes the day's midnight in its timezone.
    starts: list = []
    for day in days.dates():
        starts += [(day - EPOCH).days, adapt(local_midnight(day, days.tz))]
    whens = " ".join(["WHEN %s THEN %s"] * len(days.dates()))
    metrics = ", ".join(qn(m) for m in family.metric_names)
    _execute(
        # Table and column names come from our models, quoted; every value is a bound parameter.
        f"INSERT INTO {qn(model._meta.db_table)} "  # noqa: S608
        f"(org_id, grain, dimension, value, bucket_start, hours, {metrics}) "
        f"SELECT %s, %s, dimension, value, CASE day {whens} END, n_hours, {metrics} "
        f"FROM ({select}) folded",
        [org.pk, grain, *starts, *params],
    )


def rollups_timezone_set(*, org: Organization, timezone: str) -> None:
    """Cut the organization's local rollups in `timezone`, folded from the hourly ones, in the
    caller's transaction (nothing to do when they already are)."""
    data_changed(org=org)
    held = RollupTimezone.objects.filter(org=org).values_list("timezone", flat=True).first()
    if held == timezone:
        return
    RollupTimezone.objects.update_or_create(org=org, defaults={"timezone": timezone})
    tz = local_zone(org=org)
    for slug, model in ROLLUP_MODELS.items():
        model.objects.filter(org=org, grain=LOCAL).delete()
        hours = model.objects.filter(org=org, grain=HOURLY, dimension="").aggregate(
            lo=Min("bucket_start"), hi=Max("bucket_start")
        )
        if tz is not None and hours["lo"] is not None:
            _fold_days(org, FAMILIES[slug], LOCAL, days_of(hours["lo"], hours["hi"] + HOUR, tz))


# --- costs ---------------------------------------------------------------------------------------


def cost_update(*, org: Organization, start: dt.date, end: dt.date) -> None:
    """Rebuild the cost rollups of the days [start, end) from the cost rows."""
    if start >= end:
        return
    CostRollup.objects.filter(
        org=org, dimension__in=COST_ROLLUP_DIMENSIONS, day__gte=start, day__lt=end
    ).delete()
    adapt = connection.ops.adapt_datefield_value
    sql, branches = _cost_sql()
    _execute(sql, [org.pk, adapt(start), adapt(end)] * branches)


@cache
def _cost_sql() -> tuple[str, int]:
    qn = connection.ops.quote_name
    table = qn(CostBucket._meta.db_table)
    branches = []
    for dim in COST_ROLLUP_DIMENSIONS:
        value, group = (qn(dim), f", {qn(dim)}") if dim else ("''", "")
        branches.append(
            f"SELECT org_id, '{dim}', day, {value}, currency, quantity_unit, SUM(amount), "  # noqa: S608
            f"SUM(quantity) FROM {table} WHERE org_id = %s AND day >= %s AND day < %s "
            f"GROUP BY org_id, day, currency, quantity_unit{group}"
        )
    return (
        f"INSERT INTO {qn(CostRollup._meta.db_table)} (org_id, dimension, day, value, "
        "currency, quantity_unit, amount, quantity) " + " UNION ALL ".join(branches),
        len(branches),
    )


# --- from scratch --------------------------------------------------------------------------------


def rollups_rebuild(*, org: Organization) -> None:
    """Rebuild every aggregate of the organization from its raw rows (the caller's transaction):
    the daily rows, the usage rollups (local ones in its reporting timezone) and the cost
    rollups."""
    data_changed(org=org)
    if connection.vendor == "postgresql":
        # A month of rows per statement: let its grouping sort and hash in memory.
        _execute("SET LOCAL work_mem = '256MB'", [])
    name = ReportingSettings.objects.filter(org=org).values_list("timezone", flat=True).first()
    RollupTimezone.objects.update_or_create(org=org, defaults={"timezone": name or "UTC"})
    stamp = dt.datetime.now(dt.UTC)
    for slug, family in FAMILIES.items():
        raw = USAGE_MODELS[slug].objects.filter(org=org)
        DAILY_MODELS[slug].objects.filter(org=org).delete()
        ROLLUP_MODELS[slug].objects.filter(org=org).delete()
        held = raw.aggregate(lo=Min("bucket_start"), hi=Max("bucket_start"))
        if held["lo"] is None:
            continue
        # A month at a time, as pages would: each statement's sort stays a month's rows. A local
        # day across two months is folded again, whole, with the second.
        start = held["lo"].replace(hour=0, minute=0, second=0, microsecond=0)
        while start <= held["hi"]:
            end = start + FOLD_DAYS * DAY
            usage_update(org=org, family=family, start=start, end=end, stamp=stamp)
            start = end
    CostRollup.objects.filter(org=org).delete()
    days = CostBucket.objects.filter(org=org).aggregate(lo=Min("day"), hi=Max("day"))
    if days["lo"] is not None:
        cost_update(org=org, start=days["lo"], end=days["hi"] + DAY)
