"""Finished tables for the Costs, Usage and Overview pages: what the selectors' rows add up to.

Totals by currency, group and day, the comparison with the previous period, the cache and batch
splits and the month's spend, as small typed tables. Reads only, through dashboard.selectors;
no labels, URLs or figures: dashboard/pages.py shapes those from these tables.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from dashboard import forecasting, selectors
from dashboard.families import FAMILIES, HEADLINE, Family, Metric
from dashboard.forecasting import MonthForecast
from dashboard.periods import Period, add_months, bucket_starts, first_of_month
from dashboard.selectors import CostQuery, UsageQuery, UsageTable
from orgadmin.models import Organization
from orgadmin.selectors.spend import SpendColumn

ZERO = Decimal(0)
Group = tuple[str, ...]


def change(now: Decimal, before: Decimal) -> Decimal | None:
    """The change from `before` to `now` in percent (None when there was nothing before)."""
    if not before:
        return None
    return (now - before) / before * 100


# --- costs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostGroup:
    """One combination of the grouped dimensions, in the table's currency."""

    key: Group
    amount: Decimal
    quantity: Decimal | None  # only when grouped by line item (a quantity's unit is its own)
    unit: str
    per_day: list[float]  # the amount of each day of the period, for the chart


@dataclass(frozen=True)
class CostTable:
    """A period's costs in its main currency (the one most is spent in), by group and by day."""

    currency: str
    days: list[dt.date]
    groups: list[CostGroup]  # in the order the rows came (by day, then group)
    daily: list[Decimal]  # each day's total
    total: Decimal
    previous_total: Decimal  # the period of the same length before, same filters
    other_currencies: list[tuple[str, Decimal]]  # (currency, total), not in the groups

    @property
    def daily_average(self) -> Decimal:
        return self.total / len(self.days) if self.days else ZERO

    @property
    def change(self) -> Decimal | None:
        return change(self.total, self.previous_total)

    def share(self, group: CostGroup) -> Decimal:
        """A group's part of the total, in percent."""
        return (group.amount / self.total * 100) if self.total else ZERO


def _cost_groups(rows: list[tuple], currency: str, days: list[dt.date]) -> list[CostGroup]:
    # Integer pico-dollars until the end: exact and fast; Decimal for what is shown.
    sums: dict[Group, dict] = {}
    for day, key, row_currency, units, quantity, unit in rows:
        if row_currency != currency:
            continue
        group = sums.get(key)
        if group is None:
            group = sums[key] = {"amount": 0, "quantity": None, "unit": "", "by_day": {}}
        group["amount"] += units
        by_day = group["by_day"]
        by_day[day] = by_day.get(day, 0) + units
        if quantity is not None:
            group["quantity"] = (group["quantity"] or 0) + quantity
            group["unit"] = group["unit"] or unit
    scale = 10**selectors.AMOUNT_PLACES
    return [
        CostGroup(
            key=key,
            amount=selectors.to_amount(g["amount"]),
            quantity=selectors.to_quantity(g["quantity"]),
            unit=g["unit"],
            per_day=[g["by_day"].get(d, 0) / scale for d in days],
        )
        for key, g in sums.items()
    ]


def cost_table(*, org: Organization, query: CostQuery) -> CostTable:
    """A period's costs by group and day, and the total of the period before (two queries)."""
    days = query.period.dates()
    rows = selectors.cost_rows(org=org, query=query)
    by_currency: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for day, _, row_currency, units, _, _ in rows:
        by_currency[row_currency][day] += units
    currency = selectors.main_currency(by_currency)
    daily = {d: selectors.to_amount(v) for d, v in by_currency.get(currency, {}).items()}
    previous = CostQuery(query.period.previous(), (), query.filters)
    return CostTable(
        currency=currency,
        days=days,
        groups=_cost_groups(rows, currency, days),
        daily=[daily.get(d, ZERO) for d in days],
        total=sum(daily.values(), ZERO),
        previous_total=selectors.cost_total(org=org, query=previous, currency=currency),
        other_currencies=sorted(
            (c, selectors.to_amount(sum(v.values())))
            for c, v in by_currency.items()
            if c != currency
        ),
    )


@dataclass(frozen=True)
class OrgTotal:
    """One organization's costs of a period in one currency, and of the period before."""

    org_id: int
    currency: str
    amount: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal | None:
        return change(self.amount, self.previous)


@dataclass(frozen=True)
class AllCostTable:
    """A period's costs of several organizations, by organization and by group, per currency:
    two currencies are never added together."""

    days: list[dt.date]
    currencies: list[str]  # the one most is spent in first
    totals: dict[str, Decimal]  # by currency
    previous_totals: dict[str, Decimal]  # by currency, the period of the same length before
    daily: dict[str, list[Decimal]]  # by currency, each day's total
    orgs: list[OrgTotal]  # by currency (in the order of `currencies`), the biggest first
    groups: dict[str, list[CostGroup]]  # by currency; a key is (org id, *the grouped values)

    def share(self, amount: Decimal, currency: str) -> Decimal:
        """An amount's part of its currency's total, in percent."""
        total = self.totals.get(currency, ZERO)
        return (amount / total * 100) if total else ZERO

    def by_currency(self) -> list[CurrencyTotal]:
        return [
            CurrencyTotal(c, self.totals[c], self.previous_totals[c], len(self.days))
            for c in self.currencies
        ]


@dataclass(frozen=True)
class CurrencyTotal:
    """A period's total in one currency, beside the period before's."""

    currency: str
    total: Decimal
    previous: Decimal
    days: int

    @property
    def daily_average(self) -> Decimal:
        return self.total / self.days if self.days else ZERO

    @property
    def change(self) -> Decimal | None:
        return change(self.total, self.previous)


def all_cost_table(*, orgs: Sequence[Organization], query: CostQuery) -> AllCostTable:
    """A period's costs of several organizations, grouped by organization and then by the
    query's grouping, with each organization's total of the period before (two queries)."""
    days = query.period.dates()
    rows = selectors.cost_rows(
        orgs=orgs, query=CostQuery(query.period, ("org_id", *query.group_by), query.filters)
    )
    by_currency: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    by_org: dict[tuple[int, str], int] = defaultdict(int)
    for day, key, currency, units, _, _ in rows:
        by_currency[currency][day] += units
        by_org[(key[0], currency)] += units
    previous = selectors.org_cost_totals(orgs=orgs, period=query.period.previous())
    spent = {c: sum(v.values()) for c, v in by_currency.items()}
    currencies = sorted(
        spent.keys() | {c for _, c in previous}, key=lambda c: (-spent.get(c, 0), c)
    )
    order = {c: i for i, c in enumerate(currencies)}
    totals = [
        OrgTotal(o, c, selectors.to_amount(by_org.get((o, c), 0)), previous.get((o, c), ZERO))
        for o, c in by_org.keys() | previous.keys()
    ]
    return AllCostTable(
        days=days,
        currencies=currencies,
        totals={c: selectors.to_amount(spent.get(c, 0)) for c in currencies},
        previous_totals={
            c: sum((v for (_, pc), v in previous.items() if pc == c), ZERO) for c in currencies
        },
        daily={
            c: [selectors.to_amount(by_currency[c].get(d, 0)) for d in days] for c in currencies
        },
        orgs=sorted(totals, key=lambda t: (order[t.currency], -t.amount, t.org_id)),
        groups={c: _cost_groups(rows, c, days) for c in currencies},
    )


# --- usage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageGroup:
    key: Group
    per_bucket: list[int | float]  # the chosen metric in each bucket (0 for none)
    totals: dict[str, int | float | None]  # every metric over the period (a gauge: its mean)


@dataclass(frozen=True)
class CacheSplit:
    """Input tokens per bucket, read from the cache or not."""

    cached: list[int]
    uncached: list[int]
    share: float | None  # the cached part of all input tokens, in percent (None without input)


@dataclass(frozen=True)
class BatchSplit:
    """The chosen metric per bucket, through the Batch API or not (or not said, in old rows)."""

    batch: list[int | float]
    non_batch: list[int | float]
    unknown: list[int | float]
    share: float | None  # the part through the Batch API, in percent (None when nothing)


@dataclass(frozen=True)
class UsageReport:
    """A family's usage over a period, by group and bucket, for one of its metrics."""

    family: Family
    metric: Metric
    buckets: list[dt.datetime]  # every bucket start of the period, in its timezone
    groups: list[UsageGroup]  # by group key
    grand: dict[str, int | float | None]  # every metric, over all groups
    cache: CacheSplit | None  # for the families that report cached input
    batch: BatchSplit | None  # for the families that can go through the Batch API

    def ranked(self) -> list[UsageGroup]:
        """The groups, biggest first by the chosen metric."""
        return sorted(self.groups, key=lambda g: -(g.totals[self.metric.name] or 0))


def _grand_total(values: list) -> float | int | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return sum(present)  # gauges: bytes stored across groups add up (each is a mean over time)


def _cache_split(table: UsageTable, buckets: list[dt.datetime]) -> CacheSplit:
    cached: dict[dt.datetime, int] = defaultdict(int)
    uncached: dict[dt.datetime, int] = defaultdict(int)
    for (bucket, _), values in table.cells.items():
        c = values.get("input_cached_tokens") or 0
        u = values.get("input_uncached_tokens")
        if u is None:  # older buckets: input_tokens includes cached and cache-write tokens
            u = (
                (values.get("input_tokens") or 0)
                - c
                - (values.get("input_cache_write_tokens") or 0)
            )
        cached[bucket] += c
        uncached[bucket] += u
    total_c, total_u = sum(cached.values()), sum(uncached.values())
    return CacheSplit(
        cached=[cached[b] for b in buckets],
        uncached=[uncached[b] for b in buckets],
        share=total_c / (total_c + total_u) * 100 if total_c + total_u else None,
    )


def _batch_split(
    *, org: Organization, query: UsageQuery, metric: str, buckets: list[dt.datetime]
) -> BatchSplit:
    split = selectors.usage_table(
        org=org,
        query=UsageQuery(query.family, query.period, query.width, ("batch",), query.filters),
    )
    by: dict[str, dict] = {
        "true": defaultdict(int),
        "false": defaultdict(int),
        "": defaultdict(int),
    }
    for (bucket, (batch,)), values in split.cells.items():
        by.setdefault(batch, defaultdict(int))[bucket] += values.get(metric) or 0
    batch_total = sum(by["true"].values())
    total = batch_total + sum(by["false"].values()) + sum(by[""].values())
    return BatchSplit(
        batch=[by["true"][b] for b in buckets],
        non_batch=[by["false"][b] for b in buckets],
        unknown=[by[""][b] for b in buckets],
        share=batch_total / total * 100 if total else None,
    )


def usage_report(*, org: Organization, query: UsageQuery, metric: str) -> UsageReport:
    """A family's usage by group and bucket, with its splits (one query, two with batch)."""
    family = query.family
    table = selectors.usage_table(org=org, query=query)
    buckets = bucket_starts(query.period, query.width)
    totals = table.totals()
    groups = [
        UsageGroup(
            key=g,
            per_bucket=[(table.cells.get((b, g)) or {}).get(metric) or 0 for b in buckets],
            totals=totals[g],
        )
        for g in table.groups()
    ]
    batch = None
    if "batch" in family.extras:
        batch = _batch_split(org=org, query=query, metric=metric, buckets=buckets)
    return UsageReport(
        family=family,
        metric=family.metric(metric),
        buckets=[b.astimezone(query.period.tz) for b in buckets],
        groups=groups,
        grand={m.name: _grand_total([g.totals[m.name] for g in groups]) for m in family.metrics},
        cache=_cache_split(table, buckets) if "cache" in family.extras else None,
        batch=batch,
    )


# --- overview ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthSpend:
    """This month's spend so far in the main currency, beside last month's by the same day, and
    the month's end forecast from the daily history (dashboard.forecasting)."""

    currency: str
    month_to_date: Decimal
    last_month_to_date: Decimal
    same_day_last_month: dt.date  # the last day counted in last_month_to_date
    forecast: MonthForecast  # the month's end, with its band and method

    @property
    def projected(self) -> Decimal:
        return self.forecast.expected

    @property
    def change(self) -> Decimal | None:
        return change(self.month_to_date, self.last_month_to_date)


def _history_start(today: dt.date) -> dt.date:
    """The first day month_spend reads: last month's first, or as far back as a forecast reads."""
    history = today - dt.timedelta(days=forecasting.HISTORY_DAYS)
    return min(add_months(first_of_month(today), -1), history)


def month_spend(*, org: Organization, today: dt.date, project_id: str | None = None) -> MonthSpend:
    """Month to date, the same part of last month and the month's end forecast, of the
    organization or of one project (one query)."""
    start, end = _history_start(today), today + dt.timedelta(days=1)
    spend = selectors.daily_spend(org=org, start=start, end=end, project_id=project_id)
    return _month_spend(spend, today)


def _month_spend(spend: dict[str, dict], today: dt.date) -> MonthSpend:
    """The month's spend of {currency: {day: amount}} since _history_start(today)."""
    month_start = first_of_month(today)
    last_month_start = add_months(month_start, -1)
    # The main currency: the one most spent in since last month began (the days before that
    # are read for the forecast only).
    recent = {
        c: {d: v for d, v in days.items() if d >= last_month_start} for c, days in spend.items()
    }
    currency = selectors.main_currency(recent)
    days = spend.get(currency, {})

    def total(start: dt.date, end: dt.date) -> Decimal:
        return sum((v for d, v in days.items() if start <= d < end), ZERO)

    last_month_days = calendar.monthrange(last_month_start.year, last_month_start.month)[1]
    same_point = last_month_start + dt.timedelta(days=min(today.day, last_month_days))
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    # Today is still filling up: the forecast reads the days before it and forecasts it whole,
    # at least what it has cost so far.
    forecast = forecasting.forecast_month_end(
        sorted((d, v) for d, v in days.items() if d < today),
        today=today,
        month_end=month_end,
        today_so_far=days.get(today, ZERO),
    )
    return MonthSpend(
        currency=currency,
        month_to_date=total(month_start, today + dt.timedelta(days=1)),
        last_month_to_date=total(last_month_start, same_point),
        same_day_last_month=same_point - dt.timedelta(days=1),
        forecast=forecast,
    )


def org_month_spend(*, orgs: Sequence[Organization], today: dt.date) -> dict[int, MonthSpend]:
    """month_spend of each of several organizations, by org id (one query)."""
    start = _history_start(today)
    spend = selectors.org_daily_spend(orgs=orgs, start=start, end=today + dt.timedelta(days=1))
    return {org.pk: _month_spend(spend.get(org.pk, {}), today) for org in orgs}


@dataclass(frozen=True)
class MonthTotal:
    """The month's spend of several organizations in one currency (each counts its own main
    currency's, as its Overview does)."""

    currency: str
    month_to_date: Decimal
    last_month_to_date: Decimal
    projected: Decimal
    projected_low: Decimal  # the organizations' bands added up: wider than the sum's own
    projected_high: Decimal

    @property
    def change(self) -> Decimal | None:
        return change(self.month_to_date, self.last_month_to_date)


def month_totals(spends: Iterable[MonthSpend]) -> list[MonthTotal]:
    """MonthSpends added up per currency, the one most is spent in first."""
    found: dict[str, list[MonthSpend]] = defaultdict(list)
    for spend in spends:
        found[spend.currency].append(spend)
    totals = [
        MonthTotal(
            currency=c,
            month_to_date=sum((s.month_to_date for s in group), ZERO),
            last_month_to_date=sum((s.last_month_to_date for s in group), ZERO),
            projected=sum((s.projected for s in group), ZERO),
            projected_low=sum((s.forecast.low for s in group), ZERO),
            projected_high=sum((s.forecast.high for s in group), ZERO),
        )
        for c, group in found.items()
    ]
    return sorted(totals, key=lambda t: (-t.month_to_date, t.currency))


def month_spend_now(*, org: Organization, project_id: str | None = None) -> MonthSpend:
    """month_spend as of today in the organization's reporting timezone, as the Overview reads
    it: what the Spend tabs show beside a limit (orgadmin.selectors.spend). Two queries."""
    tz = ZoneInfo(selectors.reporting_timezone(org=org))
    today = timezone.now().astimezone(tz).date()
    return month_spend(org=org, today=today, project_id=project_id)


def project_spend_column(*, org: Organization) -> SpendColumn:
    """Each project's spend this month so far, as the Spend tabs count it (month_spend_now), for
    the Projects list to sort by (orgadmin.selectors.spend). Two queries."""
    tz = ZoneInfo(selectors.reporting_timezone(org=org))
    today = timezone.now().astimezone(tz).date()
    currency, expression = selectors.project_spend(
        org=org, start=first_of_month(today), end=today + dt.timedelta(days=1)
    )
    return SpendColumn(currency=currency, expression=expression)


@dataclass(frozen=True)
class FamilyTrend:
    """A family's headline metric per day of a period (the Overview's sparklines)."""

    family: Family
    values: list[int | float]
    total: int | float  # the sum; for a gauge (bytes stored), the mean
    gauge: bool
    unit: str  # "tokens" when the headline adds input and output tokens


def family_trends(*, org: Organization, period: Period) -> list[FamilyTrend]:
    """Every family's headline metric per local day of a period (one query)."""
    daily = selectors.family_daily_totals(org=org, period=period)
    dates = period.dates()
    trends = []
    for slug, family in FAMILIES.items():
        values = [daily[slug].get(d, 0) for d in dates]
        metric = family.metric(HEADLINE[slug][0])
        gauge = metric.over_time == "gauge"
        trends.append(
            FamilyTrend(
                family=family,
                values=values,
                total=(sum(values) / len(values)) if gauge else sum(values),
                gauge=gauge,
                unit="tokens" if len(HEADLINE[slug]) > 1 else metric.unit,
            )
        )
    return trends
