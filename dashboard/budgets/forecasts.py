"""Budgets' forecasts, computed once for each change of what they are made from and kept in the
database (StoredForecast, one row per budget), by the mechanism the Overview's forecasts per
project and model share (dashboard/forecast_store.py).

A fit takes 0.25 to 0.95 s (statsmodels, 1,000 simulated paths) and the page shows every
budget, so the check that runs in the Celery worker after each usage sync (budgets_check)
computes each current period's forecast and stores it; the page reads them all in one query and
computes, and stores, only the ones it doesn't find.

Nothing stale is shown: a stored forecast is used only when its `inputs` digest is the one of
today's inputs, which are everything the forecast and its crossing day are made from:

- CODE: a digest of dashboard/forecasting.py's, dashboard/forecast_store.py's and this module's
  source and of the numpy and statsmodels versions, so a change to the method (or to how it is
  turned into a budget's forecast) misses every stored forecast, with no version to bump by hand;
- the scope's daily spend in the HISTORY_DAYS before today (all the forecaster reads), today's
  spend so far, and the period's spend before today: a new or revised cost row is a new digest;
- today, the period's first and last day, and the amount (the crossing day depends on it).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError

from dashboard import forecast_store, forecasting
from dashboard.budgets.models import Budget, StoredForecast

log = logging.getLogger(__name__)
ZERO = Decimal(0)
CENT = Decimal("0.01")
HISTORY = dt.timedelta(days=forecasting.HISTORY_DAYS)
CODE = forecast_store.code_digest(__file__)
# The period's spend at its last day: spent so far plus a forecast of the days left.
BudgetForecast = forecast_store.Band

Forecast = tuple[BudgetForecast, dt.date | None]  # and the day it crosses the amount, if it does


@dataclass(frozen=True)
class Inputs:
    """What one budget's forecast is made from."""

    history: tuple[tuple[dt.date, Decimal], ...]  # the days before today, oldest first
    so_far: Decimal  # today's spend so far
    before: Decimal  # the period's spend before today
    today: dt.date
    start: dt.date
    end: dt.date
    amount: Decimal

    @property
    def digest(self) -> str:
        return forecast_store.inputs_digest(CODE, self)


def forecast_inputs(
    budget: Budget, days: dict[dt.date, Decimal], period: tuple[dt.date, dt.date], today: dt.date
) -> Inputs:
    """A budget's inputs from its daily spend (`days`, as budget_statuses reads it)."""
    start, end = period
    first = today - HISTORY
    return Inputs(
        history=tuple(sorted((d, v) for d, v in days.items() if first <= d < today)),
        so_far=days.get(today, ZERO),
        before=sum((v for d, v in days.items() if start <= d < today), ZERO).quantize(CENT),
        today=today,
        start=start,
        end=end,
        amount=budget.amount,
    )


def forecast_compute(inputs: Inputs) -> Forecast:
    """The period's end forecast and the day the expected path crosses the amount (if it
    does): the fit. forecast_month_end counts as spent the days of `end`'s month before today;
    the period's own days before today replace them (a quarter, a custom range)."""
    month = forecasting.forecast_month_end(
        list(inputs.history), today=inputs.today, month_end=inputs.end, today_so_far=inputs.so_far
    )
    shift = inputs.before - month.spent
    forecast = BudgetForecast(
        expected=month.expected + shift,
        low=month.low + shift,
        high=month.high + shift,
        level=month.level,
        note=month.note,
    )
    running = inputs.before
    for day, expected, _low, _high in month.daily:
        running += expected
        if running >= inputs.amount:
            return forecast, day
    return forecast, None


def budget_forecasts(*, wanted: dict[int, Inputs]) -> dict[int, Forecast]:
    """{budget id: forecast} for each budget of `wanted` ({budget id: its inputs}): the stored
    one when its digest matches, else computed and stored (one query to read, one to write
    when any was missing)."""
    if not wanted:
        return {}
    digests = {pk: inputs.digest for pk, inputs in wanted.items()}
    stored = StoredForecast.objects.filter(budget_id__in=list(wanted))
    found: dict[int, Forecast] = {
        pk: (forecast_store.band_of(row), row.crosses_on)
        for pk, row in forecast_store.matching(stored, digests, key=lambda r: r.budget_id).items()
    }
    computed = {pk: forecast_compute(wanted[pk]) for pk in wanted if pk not in found}
    if computed:
        _store({pk: (digests[pk], forecast) for pk, forecast in computed.items()})
    return found | computed


def _store(computed: dict[int, tuple[str, Forecast]]) -> None:
    """Insert or replace each budget's row (one query). A budget removed meanwhile has none:
    its forecast is shown this once and not kept."""
    rows = [
        StoredForecast(
            budget_id=pk, crosses_on=crosses_on, **forecast_store.row_fields(digest, forecast)
        )
        for pk, (digest, (forecast, crosses_on)) in computed.items()
    ]
    try:
        forecast_store.stored_upsert(
            StoredForecast, rows, unique_fields=["budget"], extra_fields=["crosses_on"]
        )
    except IntegrityError:
        log.info("budget forecasts not stored: a budget was removed meanwhile")
