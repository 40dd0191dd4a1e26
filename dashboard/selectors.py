"""Reads for the usage and cost pages and exports: our tables only, never the API.

Each selector runs one query. Where a rollup can answer it exactly (a grouping by one dimension
or none, filters on that dimension only: see dashboard/rollups.py), the query reads the rollup,
whose size doesn't grow with the raw rows; otherwise the raw rows. Either way the database cuts
the buckets (dashboard/buckets.py), in the reporting timezone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Count, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from dashboard import rollups
from dashboard.buckets import bucket_key, bucket_start, offset_changes
from dashboard.families import FAMILIES, HEADLINE, NAMED_DIMENSIONS, Family
from dashboard.models import DAILY_MODELS, USAGE_MODELS, CostBucket, ReportingSettings
from dashboard.periods import Period
from orgadmin.models import Organization, Project, SyncRun
from orgadmin.selectors import display_names

Filters = tuple[tuple[str, tuple[str, ...]], ...]


def _filter_kwargs(filters: Filters) -> dict[str, Any]:
    return {
        (f"{name}__in" if len(values) > 1 else name): (values if len(values) > 1 else values[0])
        for name, values in filters
    }


def reporting_timezone(*, org: Organization) -> str:
    """The organization's reporting timezone (UTC until an admin picks another)."""
    value = ReportingSettings.objects.filter(org=org).values_list("timezone", flat=True).first()
    return value or "UTC"


def names_for(*, org: Organization, ids: Iterable[str]) -> dict[str, str]:
    """Display names of project, key and user ids from the directory cache (missing: unknown)."""
    return display_names(org=org, ids=ids)


# --- costs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostQuery:
    period: Period
    group_by: tuple[str, ...] = ("line_item",)
    filters: Filters = ()


def _scope(org: Organization | None, orgs: Sequence[Organization]) -> dict[str, Any]:
    # One connection (`org`), or several at once (`orgs`, the All organizations view; none: no
    # rows).
    return {"org": org} if org is not None else {"org__in": [o.pk for o in orgs]}


def _cost_queryset(
    *, org: Organization | None = None, orgs: Sequence[Organization] = (), query: CostQuery
):
    # Costs come from the API in UTC days; a day is listed under its own date.
    return CostBucket.objects.filter(
        **_scope(org, orgs),
        day__gte=query.period.start,
        day__lt=query.period.end,
        **_filter_kwargs(query.filters),
    )


AMOUNT_PLACES = CostBucket._meta.get_field("amount").places
QUANTITY_PLACES = CostBucket._meta.get_field("quantity").places


def to_amount(units: int | None) -> Decimal | None:
    """Integer pico-dollars (as the cost rows sum them) as an exact Decimal."""
    return None if units is None else Decimal(units).scaleb(-AMOUNT_PLACES)


def to_quantity(units: int | None) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(-QUANTITY_PLACES)


def _cost_grouped(
    *, org: Organization | None = None, orgs: Sequence[Organization] = (), query: CostQuery
):
    # Sums stay integers (pico-dollars) on the way out: exact, and no per-row Decimal to build.
    # `org_id` may lead the grouping, for the All organizations view.
    fields = ["day", *query.group_by, "currency"]
    sums: dict[str, Any] = {"amount_units": Sum("amount", output_field=BigIntegerField())}
    if "line_item" in query.group_by:
        # A quantity adds up only within one line item; across line items it mixes units.
        sums["quantity_units"] = Sum("quantity", output_field=BigIntegerField())
        sums["quantity_unit"] = Max("quantity_unit")
    rolled = _cost_rollup(org=org, orgs=orgs, query=query)
    if rolled is not None:
        rows, grouped = rolled
        plain = [f for f in fields if f not in grouped]
        return rows.values(*plain, **grouped).annotate(**sums).order_by(*fields)
    rows = _cost_queryset(org=org, orgs=orgs, query=query)
    return rows.values(*fields).annotate(**sums).order_by(*fields)


def _cost_rollup(
    *, org: Organization | None = None, orgs: Sequence[Organization] = (), query: CostQuery
):
    """The cost rollup's rows for a query and the expressions of its groups (None: the raw
    rows answer it)."""
    return rollups.cost_rollup_rows(
        scope=_scope(org, orgs),
        start=query.period.start,
        end=query.period.end,
        group_by=query.group_by,
        filters=query.filters,
    )


def _fetch(queryset) -> tuple[dict[str, int], list[tuple]]:
    """A queryset's SQL run as it is, its rows as the driver gives them: ({column: index}, rows).

    For the pages' aggregations, whose rows are many and whose values need no model converters:
    the page then costs little more than the SQL itself.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = {c[0]: i for i, c in enumerate(cursor.description)}
        return columns, cursor.fetchall()


def _as_int(value: Any) -> int | None:
    # PostgreSQL sums bigints as numeric (a Decimal); SQLite gives an int.
    return value if value is None or type(value) is int else int(value)


def _as_date(value: Any, known: dict[Any, dt.date]) -> dt.date:
    day = known.get(value)
    if day is None:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return day


def cost_rows(
    *, org: Organization | None = None, orgs: Sequence[Organization] = (), query: CostQuery
) -> list[tuple]:
    """(day, group, currency, amount pico-dollars, quantity units, quantity unit) per day,
    currency and grouping, of one connection or of several (one query). The quantity is None
    unless grouped by line item."""
    columns, rows = _fetch(_cost_grouped(org=org, orgs=orgs, query=query))
    day_i, cur_i, amount_i = columns["day"], columns["currency"], columns["amount_units"]
    group_i = [columns[d] for d in query.group_by]
    qty_i, unit_i = columns.get("quantity_units"), columns.get("quantity_unit")
    dates = {d.isoformat(): d for d in query.period.dates()}
    as_int = _as_int if connection.vendor != "sqlite" else (lambda v: v)
    return [
        (
            _as_date(row[day_i], dates),
            tuple([row[i] for i in group_i]),
            row[cur_i],
            as_int(row[amount_i]),
            None if qty_i is None else as_int(row[qty_i]),
            "" if unit_i is None else (row[unit_i] or ""),
        )
        for row in rows
    ]


def cost_export_rows(
    *, org: Organization | None = None, orgs: Sequence[Organization] = (), query: CostQuery
) -> Iterator[dict[str, Any]]:
    """The same rows as cost_rows, streamed from the database for an export."""
    return _cost_grouped(org=org, orgs=orgs, query=query).iterator(chunk_size=2000)


def cost_project_ids(*, org: Organization, query: CostQuery) -> list[str]:
    """The projects with costs in a query's period (one query)."""
    by_project = CostQuery(query.period, ("project_id",), query.filters)
    rolled = _cost_rollup(org=org, query=by_project)
    if rolled is not None:
        return list(
            rolled[0].exclude(value="").values_list("value", flat=True).distinct().order_by()
        )
    return list(
        _cost_queryset(org=org, query=query)
        .exclude(project_id="")
        .values_list("project_id", flat=True)
        .distinct()
        .order_by()
    )


def cost_total(*, org: Organization, query: CostQuery, currency: str) -> Decimal:
    """The total amount of a period in one currency (one query)."""
    total_query = CostQuery(query.period, (), query.filters)
    rolled = _cost_rollup(org=org, query=total_query)
    rows = _cost_queryset(org=org, query=query) if rolled is None else rolled[0]
    total = rows.filter(currency=currency).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def daily_spend(
    *, org: Organization, start: dt.date, end: dt.date, project_id: str | None = None
) -> dict[str, dict]:
    """{currency: {day: amount}} for [start, end), of one project if given (one query)."""
    dimension = "project_id" if project_id is not None else ""
    rows = rollups.cost_dimension_rows(
        scope={"org": org}, start=start, end=end, dimension=dimension
    )
    if project_id is not None:
        rows = rows.filter(value=project_id)
    rows = rows.values("currency", "day").annotate(amount=Sum("amount")).order_by()
    out: dict[str, dict] = defaultdict(dict)
    for row in rows:
        out[row["currency"]][row["day"]] = row["amount"]
    return dict(out)


def project_spend(*, org: Organization, start: dt.date, end: dt.date) -> tuple[str, Any]:
    """(currency, expression): each project's spend in [start, end), in the currency most of it
    is in, as an expression over `Project` rows (0 when it spent nothing), so that a list of
    projects sorts and pages by it in the database (one query, for the currency)."""
    scope = {"org": org}
    totals = (
        rollups.cost_dimension_rows(scope=scope, start=start, end=end)
        .values("currency")
        .annotate(amount=Sum("amount"))
        .order_by("-amount", "currency")
    )
    currency = next((row["currency"] for row in totals[:1]), "usd")
    per_project = (
        rollups.cost_dimension_rows(scope=scope, start=start, end=end, dimension="project_id")
        .filter(currency=currency, value=OuterRef("openai_id"))
        .order_by()
        .values("value")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    amount = CostBucket._meta.get_field("amount")
    return currency, Coalesce(Subquery(per_project), Value(0), output_field=amount)


def top_costs(
    *,
    org: Organization,
    start: dt.date,
    end: dt.date,
    dimension: str,
    currency: str,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """The biggest spenders along one dimension (project or key) in [start, end) (one query)."""
    return list(
        rollups.cost_dimension_rows(scope={"org": org}, start=start, end=end, dimension=dimension)
        .filter(currency=currency)
        .exclude(value="")
        .values(**{dimension: F("value")})
        .annotate(amount=Sum("amount"))
        .order_by("-amount", dimension)[:limit]
    )


def top_cost_models(
    *, org: Organization, start: dt.date, end: dt.date, currency: str, limit: int = 5
) -> list[dict[str, Any]]:
    """The models that cost most in [start, end), with the tokens billed for them (one query).

    A model is what its line items bill (see families.line_item_parts): "gpt-4.1, input" and
    "gpt-4.1, output" add up to "gpt-4.1". `tokens` is None when no line item counts tokens.
    """
    return list(
        rollups.cost_dimension_rows(scope={"org": org}, start=start, end=end, dimension="model")
        .filter(currency=currency)
        .exclude(value="")
        .values(model=F("value"))
        .annotate(
            amount=Sum("amount"),
            tokens=Sum("quantity", filter=Q(quantity_unit="tokens")),
        )
        .order_by("-amount", "model")[:limit]
    )


# --- several organizations at once (the All organizations view) ------------------------------


def _pks(orgs: Sequence[Organization]) -> list[int]:
    return [o.pk for o in orgs]


def org_cost_totals(
    *, orgs: Sequence[Organization], period: Period
) -> dict[tuple[int, str], Decimal]:
    """Each organization's costs of a period by currency: {(org id, currency): amount} (one
    query)."""
    rows = (
        rollups.cost_dimension_rows(
            scope={"org__in": _pks(orgs)}, start=period.start, end=period.end
        )
        .values("org_id", "currency")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    return {(row["org_id"], row["currency"]): row["amount"] for row in rows}


def org_daily_spend(
    *, orgs: Sequence[Organization], start: dt.date, end: dt.date
) -> dict[int, dict[str, dict[dt.date, Decimal]]]:
    """daily_spend of several organizations: {org id: {currency: {day: amount}}} (one query)."""
    rows = (
        rollups.cost_dimension_rows(scope={"org__in": _pks(orgs)}, start=start, end=end)
        .values("org_id", "currency", "day")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    out: dict[int, dict[str, dict[dt.date, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        out[row["org_id"]][row["currency"]][row["day"]] = row["amount"]
    return {org_id: dict(by_currency) for org_id, by_currency in out.items()}


def org_top_projects(
    *, orgs: Sequence[Organization], start: dt.date, end: dt.date, currency: str, limit: int = 5
) -> list[dict[str, Any]]:
    """The projects that cost most in [start, end) across organizations, in one currency (one
    query): rows of org_id, project_id and amount."""
    scope = {"org__in": _pks(orgs)}
    return list(
        rollups.cost_dimension_rows(scope=scope, start=start, end=end, dimension="project_id")
        .filter(currency=currency)
        .exclude(value="")
        .values("org_id", project_id=F("value"))
        .annotate(amount=Sum("amount"))
        .order_by("-amount", "org_id", "project_id")[:limit]
    )


def org_project_names(
    *, orgs: Sequence[Organization], ids: Iterable[str] | None
) -> dict[tuple[int, str], str]:
    """Project names by (org id, project id) from the directory cache, of `ids` (None: every
    project of `orgs`, for an export) (one query, none without ids). A project id means
    something only in its own organization."""
    rows = Project.objects.filter(org__in=_pks(orgs)).exclude(name="")
    if ids is not None:
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        rows = rows.filter(openai_id__in=wanted)
    return {(o, i): name for o, i, name in rows.values_list("org_id", "openai_id", "name")}


def org_last_synced(*, orgs: Sequence[Organization], kind: str) -> dict[int, dt.datetime]:
    """When each organization's last sync of `kind` that stored data ended (one query)."""
    stored = [SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL]
    rows = (
        SyncRun.objects.filter(org__in=_pks(orgs), kind=kind, status__in=stored)
        .values("org_id")
        .annotate(at=Max("finished_at"))
        .order_by()
    )
    return {row["org_id"]: row["at"] for row in rows if row["at"] is not None}


# --- usage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageQuery:
    family: Family
    period: Period
    width: str = "1d"
    group_by: tuple[str, ...] = ()
    filters: Filters = ()


@dataclass
class UsageTable:
    """Usage folded into buckets: {(bucket_start, group): {metric: value}}."""

    family: Family
    group_by: tuple[str, ...]
    cells: dict[tuple[dt.datetime, tuple[str, ...]], dict[str, int | float | None]] = field(
        default_factory=dict
    )

    def groups(self) -> list[tuple[str, ...]]:
        return sorted({g for _, g in self.cells})

    def totals(self) -> dict[tuple[str, ...], dict[str, float | int | None]]:
        """Per group over the whole period: sums, and the mean bucket for gauges (bytes)."""
        sums: dict[tuple[str, ...], dict[str, Any]] = defaultdict(dict)
        counts: dict[tuple[str, ...], int] = defaultdict(int)
        for (_, group), values in self.cells.items():
            counts[group] += 1
            target = sums[group]
            for name, value in values.items():
                if value is not None:
                    target[name] = target.get(name, 0) + value
        out = {}
        for group, values in sums.items():
            out[group] = {
                m.name: (
                    values.get(m.name, 0) / counts[group]
                    if m.over_time == "gauge"
                    else values.get(m.name, 0 if m.required else None)
                )
                for m in self.family.metrics
            }
        return out


def _usage_model(query: UsageQuery):
    """Whole UTC days come from the daily rollup; hours, and days cut elsewhere, from the hours."""
    utc_days = query.width == "1d" and offset_changes(query.period) == [(None, 0)]
    return (DAILY_MODELS if utc_days else USAGE_MODELS)[query.family.slug]


def _usage_queryset(*, org: Organization, query: UsageQuery):
    """One row per bucket and group, cut by the database (see dashboard/buckets.py), from a
    rollup when one answers the query."""
    rolled = rollups.usage_rollup_rows(org=org, query=query)
    if rolled is not None:
        return rolled
    model = _usage_model(query)
    sums: dict[str, Any] = {m.name: Sum(m.name) for m in query.family.metrics}
    if any(m.over_time == "gauge" for m in query.family.metrics):
        sums["hours"] = Count("bucket_start", distinct=True)
    return (
        model.objects.filter(
            org=org,
            bucket_start__gte=query.period.utc_start,
            bucket_start__lt=query.period.utc_end,
            **_filter_kwargs(query.filters),
        )
        .annotate(bucket=bucket_key("bucket_start", query.width, query.period))
        .values("bucket", *query.group_by)
        .annotate(**sums)
        .order_by("bucket", *query.group_by)
    )


def _rows(rows: Iterable[dict[str, Any]], query: UsageQuery) -> Iterator[tuple]:
    """(bucket_start, group, {metric: value}); a gauge (bytes stored) is its hours' mean."""
    metrics = query.family.metrics
    width, tz = query.width, query.period.tz
    for row in rows:
        values = {m.name: row[m.name] for m in metrics}
        for m in metrics:
            if m.over_time == "gauge" and values[m.name] is not None:
                values[m.name] = values[m.name] / row["hours"]
        group = tuple(row[d] for d in query.group_by)
        yield bucket_start(row["bucket"], width, tz), group, values


def usage_table(*, org: Organization, query: UsageQuery) -> UsageTable:
    """A family's metrics per bucket and group over a period (one query)."""
    table = UsageTable(family=query.family, group_by=query.group_by)
    columns, rows = _fetch(_usage_queryset(org=org, query=query))
    metrics = query.family.metrics
    names = [m.name for m in metrics]
    metric_i = [columns[n] for n in names]
    gauges = [(m.name, columns[m.name]) for m in metrics if m.over_time == "gauge"]
    hours_i = columns.get("hours")
    group_i = [columns[d] for d in query.group_by]
    bucket_i, width, tz = columns["bucket"], query.width, query.period.tz
    cells = table.cells
    for row in rows:
        values = dict(zip(names, [_as_int(row[i]) for i in metric_i], strict=True))
        for name, i in gauges:
            if row[i] is not None:
                values[name] = _as_int(row[i]) / row[hours_i]
        group = tuple(row[i] for i in group_i)
        cells[(bucket_start(int(row[bucket_i]), width, tz), group)] = values
    return table


def usage_export_rows(*, org: Organization, query: UsageQuery) -> Iterator[tuple]:
    """(bucket_start, group, metrics) rows streamed from the database for an export."""
    return _rows(_usage_queryset(org=org, query=query).iterator(chunk_size=5000), query)


def family_daily_totals(*, org: Organization, period: Period) -> dict[str, dict[dt.date, float]]:
    """Each family's headline metric per local day (one UNION query over every family), from
    the rollups' totals."""
    key = bucket_key("bucket_start", "1d", period)
    parts = []
    for slug, metrics in HEADLINE.items():
        total = sum((F(m) for m in metrics[1:]), F(metrics[0]))
        parts.append(
            rollups.usage_total_rows(org=org, slug=slug, period=period)
            .annotate(family=Value(slug), bucket=key)
            .values("family", "bucket")
            .annotate(value=Coalesce(Sum(total), 0), hours=Sum("hours"))
            .order_by()
        )
    result: dict[str, dict[dt.date, float]] = {slug: {} for slug in HEADLINE}
    for row in parts[0].union(*parts[1:], all=True):
        day = dt.date(1970, 1, 1) + dt.timedelta(days=row["bucket"])
        gauge = FAMILIES[row["family"]].metric(HEADLINE[row["family"]][0]).over_time == "gauge"
        result[row["family"]][day] = row["value"] / row["hours"] if gauge else row["value"]
    return result


def main_currency(amounts: dict[str, dict]) -> str:
    """The currency most of the spend is in ("usd" when there is none)."""
    if not amounts:
        return "usd"
    return max(amounts, key=lambda c: (sum(amounts[c].values(), Decimal(0)), c))


def label_ids(*, org: Organization, groups: Iterable[tuple[str, ...]], dims: tuple[str, ...]):
    """Names for the id dimensions found in `groups` (one query, none if nothing to name)."""
    ids = {g[i] for g in groups for i, d in enumerate(dims) if d in NAMED_DIMENSIONS and g[i]}
    return names_for(org=org, ids=ids) if ids else {}
