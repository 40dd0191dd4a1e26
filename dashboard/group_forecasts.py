"""This month's end forecast of each project and each model, with its band: computed after each
usage sync, stored, and shown on the Overview ("Month-end forecast by project", "by model").

Which ones: the TOP_GROUPS projects (and models) that spent most this month so far, in the
organization's main currency (the Overview's); the rest are one more row, "Others", forecast
from its own daily series: each day's total minus the top ones' that day (the other projects,
and the costs of no project). Its forecast is the rest's as a whole, not a sum of forecasts.

A fit takes 0.05 to 0.9 s, so the page fits none (PAGE_FITS): `group_forecasts_refresh(org=)`,
which the Celery task `dashboard.tasks.check_alerts` runs after every usage sync, computes the
ones whose inputs changed and stores them (`GroupForecast`, one row per project, model and
"Others", kept and matched by dashboard/forecast_store.py as budgets' are). The page reads the
same inputs (two queries) and the stored rows (one), and shows a stored forecast only while its
digest is the one of today's inputs; a row without one says its forecast comes after the next
sync. A stored forecast appearing changes the Overview's page-cache fingerprint
(dashboard/page_cache.py reads the latest `computed_at`), so the cached page shows it at once.

Days are as on the Overview: the cost rows' (UTC) days, "today" the reporting timezone's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from dashboard import forecast_store, forecasting, selectors
from dashboard.forecast_store import Band
from dashboard.models import CostRollup, GroupForecast
from dashboard.periods import add_months, first_of_month
from orgadmin.models import Organization
from orgadmin.providers import Capability

TOP_GROUPS = 12  # per dimension: the projects (models) that spent most this month; the rest: Others
OTHERS = "*"  # the value "Others" is stored under
PAGE_FITS = 0  # what a page view may fit: none (a fit takes 0.05 to 0.9 s, measured ~0.3 s)
LEVEL = 0.8  # the band's: 80 % likely between its low and its high
HISTORY = dt.timedelta(days=forecasting.HISTORY_DAYS)
ZERO = Decimal(0)
CODE = forecast_store.code_digest(__file__)
NOUNS = {"project_id": ("project", "projects"), "model": ("model", "models")}

Key = tuple[str, str]  # (dimension, value)


@dataclass(frozen=True)
class GroupInputs:
    """What one project's, model's or the rest's forecast is made from."""

    history: tuple[tuple[dt.date, Decimal], ...]  # the days before today with spend, oldest first
    so_far: Decimal  # today's spend so far
    today: dt.date
    month_end: dt.date
    currency: str

    @property
    def digest(self) -> str:
        return forecast_store.inputs_digest(CODE, self)

    @property
    def spent(self) -> Decimal:
        """This month to date, today included (exact)."""
        first = self.today.replace(day=1)
        return sum((v for d, v in self.history if d >= first), self.so_far)


@dataclass(frozen=True)
class Group:
    """A project, a model, or the rest of them (`value` OTHERS), with its inputs."""

    dimension: str  # project_id or model
    value: str
    inputs: GroupInputs
    others: int = 0  # Others: how many projects (models) it adds up
    unassigned: bool = False  # Others: it holds costs of no project (model)

    @property
    def key(self) -> Key:
        return self.dimension, self.value


@dataclass(frozen=True)
class MonthGroups:
    """This month's groups of each dimension, the most spent first, Others last."""

    today: dt.date
    currency: str
    groups: dict[str, list[Group]] = field(default_factory=dict)  # by dimension

    def all(self) -> list[Group]:
        return [g for groups in self.groups.values() for g in groups]

    @property
    def project_ids(self) -> list[str]:
        return [g.value for g in self.groups.get("project_id", []) if g.value != OTHERS]


@dataclass(frozen=True)
class GroupRow:
    """One line of the Overview's table."""

    label: str
    detail: str  # Others: what it adds up
    spent: Decimal
    forecast: Band | None  # None: no stored forecast of today's inputs (after the next sync)
    url: str


@dataclass(frozen=True)
class GroupTable:
    """The Overview's "Month-end forecast by project" (or model)."""

    dimension: str
    noun: str  # "project", "model"
    rows: list[GroupRow]
    top: int = TOP_GROUPS
    level: int = round(LEVEL * 100)  # percent


# --- reads ----------------------------------------------------------------------------------------


def month_groups(*, org: Organization, today: dt.date, currency: str) -> MonthGroups:
    """The projects and models with spend this month in `currency` (the top TOP_GROUPS of each,
    the rest as Others) and their forecasts' inputs (two queries: the month's totals per group,
    the daily history of the top ones and of the total)."""
    dimensions = [d for d in NOUNS if d != "project_id" or org.has_capability(Capability.PROJECTS)]
    first = first_of_month(today)
    totals = (
        CostRollup.objects.filter(
            org=org, dimension__in=dimensions, currency=currency, day__gte=first, day__lte=today
        )
        .values("dimension", "value")
        .annotate(amount=Sum("amount"))
        .order_by("dimension", "-amount", "value")
    )
    ranked: dict[str, list[str]] = {d: [] for d in dimensions}
    unassigned: set[str] = set()
    for row in totals:
        if not row["value"] and row["amount"]:
            unassigned.add(row["dimension"])
        elif row["value"] and row["amount"] > 0:
            ranked[row["dimension"]].append(row["value"])
    top = {d: values[:TOP_GROUPS] for d, values in ranked.items()}
    series = _daily(org, today, currency, top)
    month_end = add_months(first, 1) - dt.timedelta(days=1)

    def inputs(days: dict[dt.date, Decimal]) -> GroupInputs:
        start = today - HISTORY
        history = tuple(sorted((d, v) for d, v in days.items() if start <= d < today and v))
        return GroupInputs(history, days.get(today, ZERO), today, month_end, currency)

    found = MonthGroups(today=today, currency=currency)
    for dim in dimensions:
        groups = [Group(dim, v, inputs(series.get((dim, v), {}))) for v in top[dim]]
        others = len(ranked[dim]) - len(top[dim])
        if others or dim in unassigned:
            rest = defaultdict(lambda: ZERO, series.get(("", ""), {}))
            for value in top[dim]:
                for day, amount in series.get((dim, value), {}).items():
                    rest[day] -= amount
            groups.append(Group(dim, OTHERS, inputs(rest), others, dim in unassigned))
        found.groups[dim] = groups
    return found


def _daily(
    org: Organization, today: dt.date, currency: str, top: dict[str, list[str]]
) -> dict[Key, dict[dt.date, Decimal]]:
    """{(dimension, value): {day: amount}} of the top groups and of the total ("", "") over the
    forecast's history and today (one query)."""
    wanted = Q(dimension="")
    for dim, values in top.items():
        if values:
            wanted |= Q(dimension=dim, value__in=values)
    rows = (
        CostRollup.objects.filter(
            wanted, org=org, currency=currency, day__gte=today - HISTORY, day__lte=today
        )
        .values("dimension", "value", "day")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    out: dict[Key, dict[dt.date, Decimal]] = defaultdict(dict)
    for row in rows:
        out[row["dimension"], row["value"]][row["day"]] = row["amount"]
    return out


def stored_forecasts(*, org: Organization, groups: MonthGroups) -> dict[Key, Band]:
    """The stored forecasts of `groups` whose inputs are today's (one query)."""
    digests = {g.key: g.inputs.digest for g in groups.all()}
    rows = GroupForecast.objects.filter(org=org)
    found = forecast_store.matching(rows, digests, key=lambda r: (r.dimension, r.value))
    return {key: forecast_store.band_of(row) for key, row in found.items()}


# --- the refresh after a sync ---------------------------------------------------------------------


def group_forecasts_refresh(*, org: Organization, today: dt.date | None = None) -> dict[str, int]:
    """Forecast this month's end of each project and model with spend this month (the top
    TOP_GROUPS of each and Others) and store those whose inputs changed; drop the rest's rows.
    Returns how many were computed and how many kept."""
    if today is None:
        today = timezone.now().astimezone(ZoneInfo(selectors.reporting_timezone(org=org))).date()
    recent = selectors.daily_spend(
        org=org, start=add_months(first_of_month(today), -1), end=today + dt.timedelta(days=1)
    )
    groups = month_groups(org=org, today=today, currency=selectors.main_currency(recent))
    digests = {g.key: g.inputs.digest for g in groups.all()}
    stored = list(GroupForecast.objects.filter(org=org))
    kept = forecast_store.matching(stored, digests, key=lambda r: (r.dimension, r.value))
    rows = [
        GroupForecast(
            org=org,
            dimension=g.dimension,
            value=g.value,
            **forecast_store.row_fields(digests[g.key], _compute(g.inputs)),
        )
        for g in groups.all()
        if g.key not in kept
    ]
    gone = [row.pk for row in stored if (row.dimension, row.value) not in digests]
    with transaction.atomic():
        GroupForecast.objects.filter(pk__in=gone).delete()
        forecast_store.stored_upsert(
            GroupForecast, rows, unique_fields=["org", "dimension", "value"]
        )
    return {"computed": len(rows), "kept": len(kept), "dropped": len(gone)}


def _compute(inputs: GroupInputs) -> Band:
    """The fit."""
    month = forecasting.forecast_month_end(
        list(inputs.history),
        today=inputs.today,
        month_end=inputs.month_end,
        today_so_far=inputs.so_far,
        level=LEVEL,
    )
    return Band.of(month)


# --- the Overview's tables ------------------------------------------------------------------------


def group_tables(
    *, groups: MonthGroups, forecasts: dict[Key, Band], names: dict[str, str]
) -> list[GroupTable]:
    """The Overview's tables, projects first, each row linking to its costs this month."""
    return [
        GroupTable(dim, NOUNS[dim][0], [_row(g, forecasts.get(g.key), names) for g in rows])
        for dim, rows in groups.groups.items()
    ]


def _row(group: Group, forecast: Band | None, names: dict[str, str]) -> GroupRow:
    dim, value = group.dimension, group.value
    query = {"preset": "mtd", "group_by": "line_item"}
    if value == OTHERS:
        one, many = NOUNS[dim]
        parts = []
        if group.others:
            parts.append(f"{group.others} more {one if group.others == 1 else many}")
        if group.unassigned:
            parts.append(f"costs of no {one}")
        label, detail, query["group_by"] = "Others", " and ".join(parts), dim
    else:
        label, detail, query[dim] = names.get(value, value), "", value
    return GroupRow(
        label=label,
        detail=detail,
        spent=group.inputs.spent,
        forecast=forecast,
        url=f"{reverse('costs')}?{urlencode(query)}",
    )
