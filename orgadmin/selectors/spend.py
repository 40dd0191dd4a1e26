"""This month's spend beside a spend limit and its alerts (the Spend tabs), and the organization's
rate-limit ceilings (the Rate limits tab).

The month-to-date spend and its projection are the Overview's: `dashboard.tables.month_spend`,
over the cost rows the dashboard app syncs (`CostBucket`, a dashboard model). orgadmin never
imports dashboard (the usage analytics sit on top of it), so the dashboard hands its reader in
when it starts (`month_spend_reader_set`, from `DashboardConfig.ready`) and the Spend tabs ask
through `spend_gauge`. One projection for both pages, no import upwards, no second copy of the
arithmetic; without the dashboard app the tabs show the limit alone.

The Projects list sorts by spend the same way: the dashboard hands in a column
(`project_spend_column_set`), an expression of each project's month-to-date spend that the list
annotates, so that it sorts and pages in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.db.models import Expression, Max

from orgadmin.models import RATE_LIMIT_FIELDS, Organization, Project, RateLimit, SpendAlert


class MonthSpend(Protocol):
    """What the reader gives: the month so far and its projected end, in `currency` (dollars)."""

    currency: str
    month_to_date: Decimal
    projected: Decimal


MonthSpendReader = Callable[..., MonthSpend]  # (org=, project_id=None) -> MonthSpend
_reader: list[MonthSpendReader] = []


def month_spend_reader_set(reader: MonthSpendReader | None) -> None:
    """Install the month-to-date reader (None removes it)."""
    _reader[:] = [reader] if reader else []


@dataclass(frozen=True)
class SpendColumn:
    """Each project's spend this month, as an expression over `Project` rows (an amount in
    `currency`, 0 for a project that spent nothing)."""

    currency: str
    expression: Expression


SpendColumnMaker = Callable[..., SpendColumn]  # (org=) -> SpendColumn
_column: list[SpendColumnMaker] = []


def project_spend_column_set(maker: SpendColumnMaker | None) -> None:
    """Install what makes the Projects list's spend column (None removes it)."""
    _column[:] = [maker] if maker else []


def project_spend_column(*, org: Organization) -> SpendColumn | None:
    """The spend column of the organization's projects; None without the dashboard app."""
    return _column[0](org=org) if _column else None


def _cents(dollars: Decimal) -> int:
    return int((dollars * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _at(cents: int, scale: int) -> str:
    """A position on the bar as a CSS percentage ("." decimals, whatever the locale)."""
    return f"{min(100.0, 100 * cents / scale):.1f}" if scale else "0.0"


@dataclass(frozen=True)
class GaugeMark:
    """A threshold on the bar: an alert or the hard limit."""

    kind: str  # "alert" or "limit"
    cents: int
    at: str  # its position, a percentage of the bar
    reached: bool  # by the month-to-date spend
    projected: bool  # reached by the month's end at the current rate


@dataclass(frozen=True)
class SpendGauge:
    """Month-to-date spend against a limit and alerts, for a progress bar with markers."""

    currency: str
    spent_cents: int
    projected_cents: int
    limit_cents: int | None
    scale_cents: int  # the bar's full width: the highest of the thresholds and the projection
    marks: list[GaugeMark]

    @property
    def spent_at(self) -> str:
        return _at(self.spent_cents, self.scale_cents)

    @property
    def projected_at(self) -> str:
        return _at(self.projected_cents, self.scale_cents)

    @property
    def target_cents(self) -> int | None:
        """What the bar fills towards: the limit, else the highest alert."""
        if self.limit_cents is not None:
            return self.limit_cents
        return max((m.cents for m in self.marks), default=None)

    @property
    def percent(self) -> int | None:
        target = self.target_cents
        return round(100 * self.spent_cents / target) if target else None

    @property
    def comparable(self) -> bool:
        """Limits are in US dollars: a bar only makes sense for spend in the same currency."""
        return self.currency.lower() == "usd"


def spend_gauge(
    *,
    org: Organization,
    project: Project | None = None,
    limit_cents: int | None,
    alerts: Iterable[SpendAlert],
) -> SpendGauge | None:
    """The month so far of the organization (project None) or of a project, against its limit
    and alerts. None when no reader is installed. The reader's queries (the Overview's: the
    reporting timezone, then one for the spend)."""
    if not _reader:
        return None
    spend = _reader[0](org=org, project_id=project.openai_id if project else None)
    spent, projected = _cents(spend.month_to_date), _cents(spend.projected)
    thresholds = [("alert", a.threshold_cents) for a in alerts]
    if limit_cents is not None:
        thresholds.append(("limit", limit_cents))
    scale = max([spent, projected, *(c for _, c in thresholds)])
    marks = [
        GaugeMark(kind, cents, _at(cents, scale), spent >= cents, projected >= cents)
        for kind, cents in sorted(thresholds, key=lambda t: t[1])
    ]
    return SpendGauge(spend.currency, spent, projected, limit_cents, scale, marks)


def rate_limit_ceilings(
    *, org: Organization, model: str | None = None
) -> dict[str, dict[str, int]]:
    """{model: {field: the organization's maximum}}, of every model or of one (one query).

    The Admin API lists each project's limits but not the organization's own: a project's limits
    start at the organization's and can only be lowered, so the highest value any of its
    projects has for a model is that maximum as far as this dashboard can know it.
    """
    scope = {"model": model} if model is not None else {}
    rows = (
        RateLimit.objects.filter(project__org=org, **scope)
        .values("model")
        .annotate(**{f: Max(f) for f in RATE_LIMIT_FIELDS})
        .order_by()
    )
    return {
        row["model"]: {f: row[f] for f in RATE_LIMIT_FIELDS if row[f] is not None} for row in rows
    }
