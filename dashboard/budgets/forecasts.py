"""Budgets' forecasts, computed once for each change of what they are made from and kept in the
database (StoredForecast, one row per budget).

A fit takes 0.25 to 0.95 s (statsmodels, 1,000 simulated paths) and the page shows every
budget, so the check that runs in the Celery worker after each usage sync (budgets_check)
computes each current period's forecast and stores it; the page reads them all in one query and
computes, and stores, only the ones it doesn't find.

Nothing stale is shown: a stored forecast is used only when its `inputs` digest is the one of
today's inputs, which are everything the forecast and its crossing day are made from:

- CODE: a digest of dashboard/forecasting.py's and this module's source and of the numpy and
  statsmodels versions, so a change to the method (or to how it is turned into a budget's
  forecast) misses every stored forecast, with no version to bump by hand;
- the scope's daily spend in the HISTORY_DAYS before today (all the forecaster reads), today's
  spend so far, and the period's spend before today: a new or revised cost row is a new digest;
- today, the period's first and last day, and the amount (the crossing day depends on it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path

from django.db import IntegrityError
from django.utils import timezone

from dashboard import forecasting
from dashboard.budgets.models import Budget, StoredForecast

log = logging.getLogger(__name__)
ZERO = Decimal(0)
CENT = Decimal("0.01")
HISTORY = dt.timedelta(days=forecasting.HISTORY_DAYS)


def _code() -> str:
    """What the forecasts are computed by: the two modules' source, the libraries' versions."""
    parts = [Path(forecasting.__file__).read_bytes(), Path(__file__).read_bytes()]
    parts.extend(metadata.version(lib).encode() for lib in ("numpy", "statsmodels"))
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


CODE = _code()


@dataclass(frozen=True)
class BudgetForecast:
    """The period's spend at its last day: spent so far plus a forecast of the days left."""

    expected: Decimal
    low: Decimal
    high: Decimal
    level: float  # of the band (0.8: 80 % likely between low and high)
    note: str  # the forecasting method in a few words


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
        return hashlib.sha256(f"{CODE}\0{self!r}".encode()).hexdigest()


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
        row.budget_id: (_forecast_of(row), row.crosses_on)
        for row in stored
        if row.inputs == digests[row.budget_id]
    }
    computed = {pk: forecast_compute(wanted[pk]) for pk in wanted if pk not in found}
    if computed:
        _store({pk: (digests[pk], forecast) for pk, forecast in computed.items()})
    return found | computed


def _forecast_of(row: StoredForecast) -> BudgetForecast:
    return BudgetForecast(
        expected=row.expected, low=row.low, high=row.high, level=row.level, note=row.note
    )


def _store(computed: dict[int, tuple[str, Forecast]]) -> None:
    """Insert or replace each budget's row (one query). A budget removed meanwhile has none:
    its forecast is shown this once and not kept."""
    now = timezone.now()
    rows = [
        StoredForecast(
            budget_id=pk,
            inputs=digest,
            expected=forecast.expected,
            low=forecast.low,
            high=forecast.high,
            level=forecast.level,
            note=forecast.note,
            crosses_on=crosses_on,
            computed_at=now,
        )
        for pk, (digest, (forecast, crosses_on)) in computed.items()
    ]
    fields = ["inputs", "expected", "low", "high", "level", "note", "crosses_on", "computed_at"]
    try:
        StoredForecast.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["budget"], update_fields=fields
        )
    except IntegrityError:
        log.info("budget forecasts not stored: a budget was removed meanwhile")
