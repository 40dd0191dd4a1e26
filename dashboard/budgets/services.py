"""Writes for budgets: add, change, remove (an Admin, in the action log), and the check that
alerts when a budget's spend crosses a threshold or its forecast exceeds it.

`budgets_check(org=, today=)` runs after every usage sync. Each alert is keyed by the budget,
its period, the revision of its terms and the threshold, and `alert_raise` sends only a new
one, so a threshold alerts once per period however many syncs follow:

- actual spend: only the highest threshold crossed is raised, and only if no higher one was
  raised in the period. When a sync crosses 50 % and 80 % at once, one message says "passed
  80 %" (and names 50 % among those passed): the 50 % news is already stale, and two messages
  in the same minute about the same budget read as noise. The thresholds below it are never
  raised later in the period either (a refund bringing spend back under 80 % does not make
  50 % news).
- the forecast: once per period, when the forecast's expected end exceeds the amount and spend
  has not reached it yet (then the thresholds speak).

The period that just ended is judged again for LATE_DAYS days after its last day: the costs of
its last days keep arriving after it is over (the API revises a day's bucket for up to
USAGE_SETTLE_HOURS after it closes, and each usage sync fetches that window again), and the
sync that brings its last hours may run after midnight, when "today" is already the next
period. Only its thresholds on actual spend, under the same keys as while it was current (so a
threshold already alerted stays quiet), with a title that says it was the previous period; no
forecast alert for a period that is over. A budget whose terms were set (added, or amount,
period or scope changed) after that period ended doesn't judge it: they weren't its terms.

Budget alerts are raised as not ongoing: a crossing is an event, not a condition that ends
within the period, so no "Ended" message follows them at the period's end.

Changing a budget's amount, currency, period or scope (models.TERMS) bumps its revision: the
alerts already raised in the current period stay in the inbox as they were (they describe the
old terms, which their text names), and crossings of the new terms alert anew, the first check
after the change included. Its name, thresholds and forecast switch are not terms: changing
them keeps the period's alerts (a threshold added below the spend alerts at the next check,
unless a higher one already did).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.alerts.models import Alert
from dashboard.alerts.services import alert_raise
from dashboard.budgets.models import FIELDS, TERMS, Budget
from dashboard.budgets.selectors import (
    ENDED,
    FORECAST_OVER,
    NOT_STARTED,
    BudgetStatus,
    budget_statuses,
    budget_statuses_ended,
    today_in,
)
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused

# How many days after a period's last day the check still judges it (3 by default): a cost of
# the last day can be recorded until USAGE_SETTLE_HOURS (48) after that day's bucket closes at
# midnight UTC, so through the second day after it; in a reporting timezone ahead of UTC that
# moment is already the third day after it. Later than that, the sync no longer fetches the day.
LATE_DAYS = math.ceil(settings.USAGE_SETTLE_HOURS / 24) + 1


def money(amount: Decimal, currency: str) -> str:
    """“$1,000.00” for US dollars, “1,000.00 EUR” otherwise."""
    if currency.lower() == "usd":
        return f"${amount:,.2f}"
    return f"{amount:,.2f} {currency.upper()}"


# --- add, change, remove --------------------------------------------------------------------------


def budget_create(*, org: Organization, actor: Any, **fields: Any) -> Budget:
    """Add a budget to `org` (FIELDS by keyword); refused with the field at fault."""
    budget = Budget(org=org, created_by=actor if getattr(actor, "pk", None) else None)
    _assign(budget, fields)
    _save(budget)
    _record(actor, budget, "create", f"Added the budget “{budget.name}” ({_terms(budget)})")
    return budget


def budget_update(*, budget: Budget, actor: Any, **fields: Any) -> Budget:
    """Change a budget (FIELDS by keyword). A change of its terms (amount, period, scope)
    starts its current period's alerts over (see the module's docstring)."""
    before = {f: getattr(budget, f) for f in TERMS}
    old_terms = _terms(budget)
    _assign(budget, fields)
    changed = any(getattr(budget, f) != before[f] for f in TERMS)
    budget.updated_at = timezone.now()
    if changed:
        budget.revision += 1
        budget.terms_set_at = budget.updated_at
    _save(budget)
    summary = f"Changed the budget “{budget.name}”"
    if changed:
        summary += f" from {old_terms} to {_terms(budget)}; its alerts start over"
    _record(actor, budget, "update", summary)
    return budget


def budget_delete(*, budget: Budget, actor: Any) -> None:
    """Remove a budget. The alerts it raised stay in the inbox."""
    with transaction.atomic():
        _record(actor, budget, "delete", f"Removed the budget “{budget.name}” ({_terms(budget)})")
        budget.delete()


def _assign(budget: Budget, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"not a budget field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(budget, name, value)
    if isinstance(budget.thresholds, list):
        budget.thresholds = sorted(budget.thresholds)


def _save(budget: Budget) -> None:
    """Validate (the form did already; this guards the other callers) and save."""
    try:
        budget.full_clean(exclude=["org", "created_by"], validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        field = None if field == "__all__" else field
        raise ChangeRefused(" ".join(messages), field=field) from None
    try:
        with transaction.atomic():
            budget.save()
    except IntegrityError:
        raise ChangeRefused("A budget has this name already.", field="name") from None


def _terms(budget: Budget) -> str:
    """“$1,000.00 each month, project proj_1, model gpt-4o”."""
    if budget.period == Budget.Period.CUSTOM:
        when = f"from {budget.start} to {budget.end}"
    else:
        when = "each month" if budget.period == Budget.Period.MONTH else "each quarter"
    scope = [
        f"{label} {value}"
        for label, value in (
            ("project", budget.project_id),
            ("API key", budget.api_key_id),
            ("model", budget.model),
        )
        if value
    ]
    return ", ".join([f"{money(budget.amount, budget.currency)} {when}", *scope])


def _record(actor: Any, budget: Budget, action: str, summary: str) -> None:
    action_record(
        actor=actor,
        org=budget.org,
        action=f"budget.{action}",
        summary=summary,
        resource_type="budget",
        resource_id=str(budget.pk),
    )


# --- the check ------------------------------------------------------------------------------------


def budgets_check(*, org: Organization, today: dt.date) -> list[Alert]:
    """Raise the alerts of `org`'s budgets that their current period's spend or forecast calls
    for, or the spend of their period that ended in the last LATE_DAYS days, and that weren't
    raised before in that period; returns the new ones (each sent to the organization's
    channels once). `today` is the reporting timezone's. Stores the current periods'
    forecasts, which the page then reads."""
    statuses = [
        s for s in budget_statuses(org=org, today=today) if s.status not in (NOT_STARTED, ENDED)
    ]
    statuses += budget_statuses_ended(org=org, today=today, within_days=LATE_DAYS)
    keys = {k for s in statuses for k in _keys(s)}
    raised = set(
        Alert.objects.filter(org=org, kind=Alert.Kind.BUDGET, key__in=keys).values_list(
            "key", flat=True
        )
    )
    new: list[Alert] = []
    for status in statuses:
        for key, title, summary, details in _due(status, raised):
            alert, created = alert_raise(
                org=org,
                kind=Alert.Kind.BUDGET,
                key=key,
                title=title,
                summary=summary,
                details=details,
                ongoing=False,
            )
            if created:
                new.append(alert)
    return new


def budgets_check_now(*, org: Organization) -> list[Alert]:
    """budgets_check as of today in the organization's reporting timezone: what runs after a
    usage sync succeeds."""
    return budgets_check(org=org, today=today_in(org=org))


def _prefix(status: BudgetStatus) -> str:
    budget = status.budget
    return f"{budget.pk}:{status.period_start.isoformat()}:r{budget.revision}"


def actual_key(status: BudgetStatus, percent: int) -> str:
    return f"{_prefix(status)}:actual:{percent}"


def forecast_key(status: BudgetStatus) -> str:
    return f"{_prefix(status)}:forecast"


def _keys(status: BudgetStatus) -> list[str]:
    return [actual_key(status, p) for p in status.budget.thresholds] + [forecast_key(status)]


def _due(status: BudgetStatus, raised: set[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(key, title, summary, details) of each alert the status calls for and that wasn't raised."""
    due = []
    budget = status.budget
    if status.crossed:
        top = status.crossed[-1]
        higher = [p for p in budget.thresholds if p >= top]
        if not any(actual_key(status, p) in raised for p in higher):
            due.append((actual_key(status, top), *_actual_text(status, top)))
    wants_forecast = budget.forecast_alert and status.status == FORECAST_OVER
    if wants_forecast and forecast_key(status) not in raised:
        due.append((forecast_key(status), *_forecast_text(status)))
    return due


def _actual_text(status: BudgetStatus, percent: int) -> tuple[str, str, dict[str, Any]]:
    budget = status.budget
    spent, amount = money(status.spent, budget.currency), money(budget.amount, budget.currency)
    ended = status.status == ENDED
    when = " in the previous period" if ended else ""
    title = f"Budget “{budget.name}” passed {percent} %{when}: {spent} of {amount}"
    period = f"the previous period, {_period_words(status)}" if ended else _period_words(status)
    lines = [f"{status.scope_label}, {period}: {spent} spent of {amount} ({status.percent} %)."]
    if ended:
        lines.append("It got there with costs recorded after the period's last check.")
    lower = [p for p in status.crossed if p < percent]
    if lower:
        lines.append(f"Also past {', '.join(f'{p} %' for p in lower)} (one message for all).")
    lines.extend(_forecast_lines(status))
    if ended:
        lines.append(f"Its costs on the dashboard: {status.costs_url}")
    return title, " ".join(lines), _details(status, "actual", percent)


def _forecast_text(status: BudgetStatus) -> tuple[str, str, dict[str, Any]]:
    budget = status.budget
    forecast = status.forecast
    assert forecast is not None  # FORECAST_OVER has one
    expected = money(forecast.expected, budget.currency)
    amount = money(budget.amount, budget.currency)
    title = f"Budget “{budget.name}” is forecast to exceed {amount}: {expected} expected"
    lines = [
        f"{status.scope_label}, {_period_words(status)}: "
        f"{money(status.spent, budget.currency)} spent so far ({status.percent} %).",
        *_forecast_lines(status),
    ]
    return title, " ".join(lines), _details(status, "forecast", None)


def _forecast_lines(status: BudgetStatus) -> list[str]:
    forecast, currency = status.forecast, status.budget.currency
    if forecast is None:
        return []
    lines = [
        f"Forecast for {status.period_end:%b} {status.period_end.day}: "
        f"{money(forecast.expected, currency)} (likely {money(forecast.low, currency)}–"
        f"{money(forecast.high, currency)})."
    ]
    if status.crosses_on:
        lines.append(
            f"At this rate it crosses the budget on {status.crosses_on:%b} {status.crosses_on.day}."
        )
    lines.append(f"Its costs on the dashboard: {status.costs_url}")
    return lines


def _period_words(status: BudgetStatus) -> str:
    start, end = status.period_start, status.period_end
    return f"{start:%b} {start.day} – {end:%b} {end.day}, {end.year}"


def _details(status: BudgetStatus, what: str, percent: int | None) -> dict[str, Any]:
    """What the inbox and a webhook's JSON get: the budget and its figures, as strings."""
    budget, forecast = status.budget, status.forecast
    return {
        "budget_id": budget.pk,
        "budget": budget.name,
        "what": what,
        "threshold_percent": percent,
        "amount": str(budget.amount),
        "currency": budget.currency,
        "spent": str(status.spent),
        "percent": str(status.percent),
        "period_start": status.period_start.isoformat(),
        "period_end": status.period_end.isoformat(),
        "previous_period": status.status == ENDED,
        "scope": status.scope_label,
        "forecast": str(forecast.expected) if forecast else None,
        "forecast_low": str(forecast.low) if forecast else None,
        "forecast_high": str(forecast.high) if forecast else None,
        "crosses_on": status.crosses_on.isoformat() if status.crosses_on else None,
        "costs_url": status.costs_url,
    }
