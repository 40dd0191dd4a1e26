"""Reads for the budgets page, the budget checks and the digests: our tables only, a fixed number
of queries whatever the number of budgets.

`budget_statuses(org=, today=)` reads every budget's daily spend in one query (a conditional sum
per budget over the raw cost rows: a budget may combine a project, a key and a model, which no
rollup answers) and forecasts each current period's end with dashboard.forecasting, the
Overview's method. A period's days are dates of the reporting timezone compared with the cost
rows' days, as on the Costs page; `today` is the reporting timezone's.

A quarter or a custom range is forecast as a month is: the forecaster reads the same history
(the 13 weeks before today, whatever the period) and forecasts each day left to the period's
end; what the period spent before today replaces the month's part that it counts. A fit takes
0.25 to 0.95 s, so the forecasts are kept in the database under a digest of their inputs
(dashboard/budgets/forecasts.py): the check after each sync stores them, the page reads them in
one query, and one whose inputs changed (a new cost row) is computed again, never shown stale.

`budget_statuses_ended(org=, today=, within_days=)` is each budget's period that ended in the
last few days, as it stands now: the check's look back for costs recorded after a period ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from dashboard import forecasting
from dashboard.budgets.forecasts import BudgetForecast, Forecast, budget_forecasts, forecast_inputs
from dashboard.budgets.models import Budget
from dashboard.models import CostBucket, CostRollup
from dashboard.selectors import names_for, reporting_timezone
from orgadmin.models import Organization, Project, SpendAlert
from orgadmin.providers import Capability
from orgadmin.selectors import org_settings

ZERO = Decimal(0)
CENT = Decimal("0.01")

ON_TRACK = "on track"
FORECAST_OVER = "forecast to exceed"
OVER = "over budget"
ENDED = "ended"
NOT_STARTED = "not started"
STATUSES = (ON_TRACK, FORECAST_OVER, OVER, ENDED, NOT_STARTED)
STATUS_BADGES = {ON_TRACK: "ok", FORECAST_OVER: "warn", OVER: "error", ENDED: "", NOT_STARTED: ""}


@dataclass(frozen=True)
class Mark:
    """A threshold on the progress bar."""

    percent: int
    amount: Decimal
    at: str  # its position, a CSS percentage of the bar
    reached: bool


@dataclass(frozen=True)
class BudgetStatus:
    """One budget in its current period (a custom budget: its range, before, in or after it)."""

    budget: Budget
    period_start: dt.date
    period_end: dt.date  # the period's last day, included
    spent: Decimal  # from the period's start to today included (the whole range once ended)
    percent: Decimal  # spent, as a percent of the amount (one decimal)
    forecast: BudgetForecast | None  # None unless today is in the period
    status: str  # one of STATUSES
    crosses_on: dt.date | None  # at this rate, the day spend crosses the amount (not yet over)
    crossed_on: dt.date | None  # the day spend crossed the amount (over it)
    crossed: list[int]  # the thresholds actual spend has crossed, ascending
    costs_url: str  # the Costs page on the budget's scope and period
    scope_label: str  # "Whole organization", "Project “Prod” · API key “ci”"
    days_left: int  # in the period, today included (0 unless today is in it)

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]

    # --- the progress bar: 0 to the largest of the amount, the spend and the forecast's top ---

    @property
    def scale(self) -> Decimal:
        top = self.forecast.high if self.forecast else ZERO
        return max(self.budget.amount, self.spent, top)

    def _at(self, amount: Decimal) -> str:
        return f"{min(Decimal(100), 100 * amount / self.scale):.1f}" if self.scale else "0.0"

    @property
    def aria_max(self) -> str:
        """The progress bar's maximum for assistive technology: the amount, or the spend
        when over it (aria-valuenow stays within its range)."""
        return str(max(self.budget.amount, self.spent))

    @property
    def spent_at(self) -> str:
        return self._at(self.spent)

    @property
    def amount_at(self) -> str:
        return self._at(self.budget.amount)

    @property
    def expected_at(self) -> str:
        return self._at(self.forecast.expected) if self.forecast else self.spent_at

    @property
    def band(self) -> tuple[str, str]:
        """(left, width) of the forecast's band on the bar, CSS percentages."""
        if not self.forecast:
            return "0.0", "0.0"
        low, high = self._at(self.forecast.low), self._at(self.forecast.high)
        return low, f"{float(high) - float(low):.1f}"

    @property
    def marks(self) -> list[Mark]:
        """The thresholds that fit on the bar."""
        found = []
        for percent in sorted(self.budget.thresholds):
            amount = self.budget.threshold_amount(percent)
            if amount <= self.scale:
                found.append(Mark(percent, amount, self._at(amount), percent in self.crossed))
        return found


def budget_list(*, org: Organization) -> list[Budget]:
    """The organization's budgets by name (one query)."""
    return list(Budget.objects.filter(org=org).order_by("name", "pk"))


def budget_get(*, org: Organization, budget_id: int) -> Budget | None:
    """One budget of `org`, else None (another organization's is not found)."""
    return Budget.objects.filter(org=org, pk=budget_id).first()


def today_in(*, org: Organization) -> dt.date:
    """Today in the organization's reporting timezone (one query)."""
    return timezone.now().astimezone(ZoneInfo(reporting_timezone(org=org))).date()


def budget_statuses(*, org: Organization, today: dt.date) -> list[BudgetStatus]:
    """Each budget of `org` in the period `today` falls in, with its spend, forecast, status
    and link to its costs (five queries at most: the budgets, their daily spend, the reporting
    timezone, the names of the projects and keys they are scoped to, their stored forecasts;
    and one more to store the forecasts that had to be computed)."""
    budgets = budget_list(org=org)
    if not budgets:
        return []
    periods = {b.pk: b.period_of(today) for b in budgets}
    spend = _daily_spend(org, budgets, periods, today)
    current = [b for b in budgets if periods[b.pk][0] <= today <= periods[b.pk][1]]
    forecasts = budget_forecasts(
        wanted={
            b.pk: forecast_inputs(b, spend.get(b.pk, {}), periods[b.pk], today) for b in current
        }
    )
    tz = reporting_timezone(org=org)
    return _statuses(org, budgets, periods, spend, today, forecasts, tz)


def budget_statuses_ended(
    *, org: Organization, today: dt.date, within_days: int
) -> list[BudgetStatus]:
    """Each budget's last period that ended in the `within_days` days before `today` (the
    month or quarter before the current one, a custom range just over), as its spend stands
    now, and only if its terms were set before that period ended: status "ended", no forecast
    (four queries at most: the budgets, the reporting timezone, their daily spend, names)."""
    budgets = budget_list(org=org)
    tz = reporting_timezone(org=org)
    periods = {}
    for budget in budgets:
        period = budget.previous_period(today)
        if period is None or not 1 <= (today - period[1]).days <= within_days:
            continue
        if budget.terms_set_at.astimezone(ZoneInfo(tz)).date() <= period[1]:
            periods[budget.pk] = period
    budgets = [b for b in budgets if b.pk in periods]
    if not budgets:
        return []
    spend = _daily_spend(org, budgets, periods, today, history=False)
    return _statuses(org, budgets, periods, spend, today, {}, tz)


def _statuses(
    org: Organization,
    budgets: list[Budget],
    periods: dict[int, tuple[dt.date, dt.date]],
    spend: dict[int, dict[dt.date, Decimal]],
    today: dt.date,
    forecasts: dict[int, Forecast],
    tz: str,
) -> list[BudgetStatus]:
    """The budgets' statuses, with their costs links and scopes (one query: the names)."""
    names = names_for(org=org, ids=[i for b in budgets for i in (b.project_id, b.api_key_id)])
    statuses = []
    for budget in budgets:
        period = periods[budget.pk]
        statuses.append(
            _status(
                budget,
                period,
                spend.get(budget.pk, {}),
                today,
                forecasts.get(budget.pk),
                costs_url=_costs_url(org, budget, period, today, tz),
                scope_label=_scope_label(budget, names),
            )
        )
    return statuses


# --- the spend ------------------------------------------------------------------------------------


def _scope_q(budget: Budget) -> Q:
    q = Q(currency=budget.currency)
    for field in ("project_id", "api_key_id", "model"):
        value = getattr(budget, field)
        if value:
            q &= Q(**{field: value})
    return q


def _daily_spend(
    org: Organization,
    budgets: list[Budget],
    periods: dict[int, tuple[dt.date, dt.date]],
    today: dt.date,
    *,
    history: bool = True,
) -> dict[int, dict[dt.date, Decimal]]:
    """{budget id: {day: amount}} from the forecast's history (13 weeks before today, unless
    not `history`) or the earliest period's start, to today or the latest period's end if
    earlier (one query)."""
    started = [(s, e) for s, e in periods.values() if s <= today]
    if not started:
        return {}
    starts = [s for s, _ in started]
    if history:
        starts.append(today - dt.timedelta(days=forecasting.HISTORY_DAYS))
    first = min(starts)
    last = min(today, max(e for _, e in started))
    sums = {f"b{b.pk}": Sum("amount", filter=_scope_q(b)) for b in budgets}
    rows = (
        CostBucket.objects.filter(org=org, day__gte=first, day__lte=last)
        .values("day")
        .annotate(**sums)
        .order_by()
    )
    out: dict[int, dict[dt.date, Decimal]] = {b.pk: {} for b in budgets}
    for row in rows:
        for budget in budgets:
            amount = row[f"b{budget.pk}"]
            if amount:
                out[budget.pk][row["day"]] = amount
    return out


def _status(
    budget: Budget,
    period: tuple[dt.date, dt.date],
    days: dict[dt.date, Decimal],
    today: dt.date,
    forecast_crossing: Forecast | None,
    *,
    costs_url: str,
    scope_label: str,
) -> BudgetStatus:
    start, end = period
    through = min(today, end)
    spent = _round(sum((v for d, v in days.items() if start <= d <= through), ZERO))
    forecast, crosses_on = forecast_crossing or (None, None)
    amount = budget.amount
    if today < start:
        status = NOT_STARTED
    elif today > end:
        status = ENDED
    elif spent >= amount:
        status = OVER
    elif forecast is not None and forecast.expected > amount:
        status = FORECAST_OVER
    else:
        status = ON_TRACK
    return BudgetStatus(
        budget=budget,
        period_start=start,
        period_end=end,
        spent=spent,
        percent=(100 * spent / amount).quantize(Decimal("0.1")),
        forecast=forecast,
        status=status,
        crosses_on=crosses_on if spent < amount else None,
        crossed_on=_crossed_on(days, start, through, amount),
        crossed=[p for p in sorted(budget.thresholds) if spent >= budget.threshold_amount(p)],
        costs_url=costs_url,
        scope_label=scope_label,
        days_left=(end - today).days + 1 if forecast else 0,
    )


def _crossed_on(
    days: dict[dt.date, Decimal], start: dt.date, through: dt.date, amount: Decimal
) -> dt.date | None:
    running = ZERO
    for day in sorted(d for d in days if start <= d <= through):
        running += days[day]
        if running >= amount:
            return day
    return None


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


# --- what the page shows of the scope -------------------------------------------------------------


def _scope_label(budget: Budget, names: dict[str, str]) -> str:
    parts = []
    if budget.project_id:
        parts.append(f"Project “{names.get(budget.project_id, budget.project_id)}”")
    if budget.api_key_id:
        parts.append(f"API key “{names.get(budget.api_key_id, budget.api_key_id)}”")
    if budget.model:
        parts.append(f"Model {budget.model}")
    return " · ".join(parts) or "Whole organization"


def _costs_url(
    org: Organization, budget: Budget, period: tuple[dt.date, dt.date], today: dt.date, tz: str
) -> str:
    """The Costs page on the budget's scope, from the period's start to today (the whole range
    once it ended or before it starts), grouped by what the scope leaves open."""
    start, end = period
    last = end if today < start or today > end else today
    open_dims = [
        d
        for d in ("project_id", "api_key_id")
        if not getattr(budget, d) and (d != "project_id" or org.has_capability(Capability.PROJECTS))
    ]
    query = {
        "start": start.isoformat(),
        "end": (last + dt.timedelta(days=1)).isoformat(),
        "tz": tz,
        "group_by": (open_dims or ["line_item"])[0],
    }
    for field in ("project_id", "api_key_id", "model"):
        if getattr(budget, field):
            query[field] = getattr(budget, field)
    return f"{reverse('costs')}?{urlencode(query)}"


# --- what a budget can be scoped to ---------------------------------------------------------------

SCOPE_DAYS = 92  # the projects, keys and models with costs this recently are offered


def scope_choices(*, org: Organization, today: dt.date) -> dict[str, list[tuple[str, str]]]:
    """{"project_id" | "api_key_id" | "model": [(value, label)]}: the directory's projects and
    whatever had costs in the last SCOPE_DAYS days, named as the Costs page names them (three
    queries: the cost rollup's values, the projects, the names)."""
    since = today - dt.timedelta(days=SCOPE_DAYS)
    seen = (
        CostRollup.objects.filter(
            org=org, dimension__in=("project_id", "api_key_id", "model"), day__gte=since
        )
        .exclude(value="")
        .values_list("dimension", "value")
        .distinct()
    )
    values: dict[str, set[str]] = {"project_id": set(), "api_key_id": set(), "model": set()}
    for dimension, value in seen:
        values[dimension].add(value)
    if org.has_capability(Capability.PROJECTS):
        values["project_id"].update(
            Project.objects.filter(org=org).values_list("openai_id", flat=True)
        )
    names = names_for(org=org, ids=values["project_id"] | values["api_key_id"])
    return {
        dim: sorted(((v, names.get(v, v)) for v in found), key=lambda c: (c[1].casefold(), c[0]))
        for dim, found in values.items()
    }


# --- what the provider itself enforces ------------------------------------------------------------


@dataclass(frozen=True)
class ProviderLimit:
    """A hard spend limit or spend alerts set in OpenAI, of the organization or of a project."""

    label: str  # "Organization" or the project's name
    project: Project | None
    limit_cents: int | None
    limit_interval: str
    enforcing: bool
    alerts: list[SpendAlert]
    manage_url: str  # where our pages manage it (the Spend tab)


def provider_limits(*, org: Organization) -> list[ProviderLimit] | None:
    """OpenAI's own hard spend limits and spend alerts, as the directory sync cached them: the
    organization's first, then each project with either (three queries). None when the
    connection's API has none (an xAI team: its limits are on its Billing page)."""
    if not org.has_capability(Capability.ORG_SETTINGS):
        return None
    settings = org_settings(org=org)
    alerts = list(SpendAlert.objects.filter(org=org).order_by("threshold_cents", "openai_id"))
    projects = Project.objects.filter(org=org).filter(
        Q(spend_limit_cents__isnull=False) | Q(spend_alerts__isnull=False)
    )
    found = [
        ProviderLimit(
            label="Organization",
            project=None,
            limit_cents=settings.spend_limit_cents,
            limit_interval=settings.spend_limit_interval or "month",
            enforcing=settings.spend_limit_enforcement == "enforcing",
            alerts=[a for a in alerts if a.project_id is None],
            manage_url=reverse("orgadmin:org_settings_tab", kwargs={"tab": "spend"}),
        )
    ]
    for project in projects.distinct().order_by("name", "openai_id"):
        found.append(
            ProviderLimit(
                label=project.name or project.openai_id,
                project=project,
                limit_cents=project.spend_limit_cents,
                limit_interval=project.spend_limit_interval or "month",
                enforcing=project.spend_limit_enforcement == "enforcing",
                alerts=[a for a in alerts if a.project_id == project.pk],
                manage_url=reverse(
                    "orgadmin:project_tab", kwargs={"project_id": project.openai_id, "tab": "spend"}
                ),
            )
        )
    return found
