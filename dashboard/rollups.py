"""Which rollup answers a page's query exactly, and the query that reads it (for the selectors).

A rollup (dashboard.models ROLLUP_MODELS, CostRollup) holds the sums along one dimension, or
none, per bucket. It answers a query that groups by at most one dimension and filters on that
same dimension only (or groups by none and filters on one): the sums of its rows are the sums of
the raw rows, bucket by bucket. Anything else (two dimensions, a filter on another one) returns
None here, and the selector reads the raw rows.

Usage buckets come from the grain that cuts them: hours from "1h", whole UTC days from "1d", and
days of the timezone the "local" rollups are cut in from "local"; days of any other timezone are
folded from "1h" by the same SQL as the raw rows (dashboard/buckets.py). Which of "local" and
"1h" a query reads is decided in the query itself, so it stays one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Case, Count, Exists, F, QuerySet, Sum, Value, When

from dashboard.buckets import bucket_key, offset_changes
from dashboard.models import ROLLUP_MODELS, CostRollup, RollupTimezone
from dashboard.periods import Period
from orgadmin.models import Organization

Filters = tuple[tuple[str, tuple[str, ...]], ...]


def dimension_for(group_by: Sequence[str], filters: Filters) -> str | None:
    """The one dimension whose rollup answers a grouping and filters ("" for the total), or
    None when no rollup does."""
    named = set(group_by) | {name for name, _ in filters}
    if len(group_by) > 1 or len(named) > 1:
        return None
    return next(iter(named), "")


def _filter_values(filters: Filters) -> list[str] | None:
    values = [v for _, vs in filters for v in vs]
    return values if filters else None


# --- usage ---------------------------------------------------------------------------------------


def usage_grain(*, org: Organization, period: Period, width: str, distinct_hours: bool = False):
    """The grain that cuts a period's buckets: "1h", "1d", or an SQL expression that picks
    "local" when the local rollups are cut in the period's timezone, "1h" otherwise."""
    if width == "1h" or distinct_hours:
        return "1h"
    if offset_changes(period) == [(None, 0)]:
        return "1d"
    cut_here = RollupTimezone.objects.filter(org=org, timezone=period.tz.key)
    return Case(When(Exists(cut_here), then=Value("local")), default=Value("1h"))


def usage_rollup_rows(*, org: Organization, query: Any) -> QuerySet | None:
    """A UsageQuery's rows (bucket, group, sums, and `hours` for a level) from the rollups, or
    None when they can't answer it exactly."""
    dimension = dimension_for(query.group_by, query.filters)
    if dimension is None:
        return None
    family, period = query.family, query.period
    values = _filter_values(query.filters)
    gauge = any(m.over_time == "gauge" for m in family.metrics)
    # A level over several values, not grouped: the hours with rows of any of them, which the
    # hours of each can't tell (they overlap). The hourly rows can.
    distinct_hours = gauge and not query.group_by and values is not None and len(values) > 1
    grain = usage_grain(org=org, period=period, width=query.width, distinct_hours=distinct_hours)
    rows = ROLLUP_MODELS[family.slug].objects.filter(
        org=org,
        grain=grain,
        dimension=dimension,
        bucket_start__gte=period.utc_start,
        bucket_start__lt=period.utc_end,
    )
    if values is not None:
        rows = rows.filter(value__in=values) if len(values) > 1 else rows.filter(value=values[0])
    sums: dict[str, Any] = {m.name: Sum(m.name) for m in family.metrics}
    if gauge:
        sums["hours"] = Count("bucket_start", distinct=True) if distinct_hours else Sum("hours")
    return (
        rows.annotate(bucket=bucket_key("bucket_start", query.width, period))
        .values("bucket", **{d: F("value") for d in query.group_by})
        .annotate(**sums)
        .order_by("bucket", *query.group_by)
    )


def usage_total_rows(*, org: Organization, slug: str, period: Period) -> QuerySet:
    """A family's total rows (no dimension) of a period's local days, as family_daily_totals
    folds them."""
    return ROLLUP_MODELS[slug].objects.filter(
        org=org,
        grain=usage_grain(org=org, period=period, width="1d"),
        dimension="",
        bucket_start__gte=period.utc_start,
        bucket_start__lt=period.utc_end,
    )


# --- costs ---------------------------------------------------------------------------------------


def cost_rollup_rows(
    *,
    scope: dict[str, Any],
    start: dt.date,
    end: dt.date,
    group_by: Sequence[str],
    filters: Filters,
) -> tuple[QuerySet, dict[str, F]] | None:
    """The cost rollup's rows for a grouping (besides `org_id`) and filters over [start, end),
    with the expression of each grouped dimension; None when the rollup can't answer them."""
    dimension = dimension_for([d for d in group_by if d != "org_id"], filters)
    if dimension is None:
        return None
    rows = CostRollup.objects.filter(**scope, dimension=dimension, day__gte=start, day__lt=end)
    values = _filter_values(filters)
    if values is not None:
        rows = rows.filter(value__in=values) if len(values) > 1 else rows.filter(value=values[0])
    return rows, {d: F("value") for d in group_by if d != "org_id"}


def cost_dimension_rows(
    *, scope: dict[str, Any], start: dt.date, end: dt.date, dimension: str = ""
) -> QuerySet:
    """The cost rollup's rows along one dimension ("" for the total) over [start, end)."""
    return CostRollup.objects.filter(**scope, dimension=dimension, day__gte=start, day__lt=end)
