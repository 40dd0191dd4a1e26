"""The forecasts kept in the database: the check after a sync stores each budget's, the page
uses it without a fit, and a new cost row, a new amount or new forecasting code makes it
computed again (never shown stale)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import caches

from dashboard import forecasting
from dashboard.budgets import forecasts
from dashboard.budgets.models import StoredForecast
from dashboard.budgets.selectors import budget_statuses
from dashboard.budgets.services import budget_update, budgets_check
from tests.budgets.conftest import budget, spend, spend_daily

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
TODAY = dt.date(2025, 6, 15)


@pytest.fixture
def fits(monkeypatch):
    """The forecaster's fits, counted (each still runs)."""
    calls = []
    real = forecasting.forecast_month_end

    def counted(*args, **kwargs):
        calls.append(kwargs["today"])
        return real(*args, **kwargs)

    monkeypatch.setattr(forecasting, "forecast_month_end", counted)
    return calls


def _forecasts(org):
    return {
        s.budget.name: (s.forecast, s.crosses_on) for s in budget_statuses(org=org, today=TODAY)
    }


def _noisy_history(org, days: int = 60) -> None:
    """Weekdays busier than weekends, and some noise: the forecaster fits a model, with a band."""
    for n in range(days, 0, -1):
        day = TODAY - n * DAY
        spend(org, day, f"{30 + n * 37 % 11 + (0 if day.weekday() < 5 else -20)}.00")


def test_the_check_stores_the_forecasts_the_page_then_shows_without_a_fit(acme, fits):
    _noisy_history(acme)
    budget(acme, name="Prod", amount=Decimal("900.00"))
    budget(acme, name="Web", amount=Decimal("5000.00"), project_id="proj_web")

    budgets_check(org=acme, today=TODAY)
    fitted = len(fits)
    for cache in caches.all(initialized_only=True):
        cache.clear()  # another process: nothing of the worker's memory
    shown = _forecasts(acme)

    assert fitted == len(shown)  # one per budget, in the check
    assert len(fits) == fitted  # the page fitted nothing
    stored = {f.budget.name: f for f in StoredForecast.objects.select_related("budget")}
    for name, (forecast, crosses_on) in shown.items():
        row = stored[name]
        assert (forecast.expected, forecast.low, forecast.high) == (row.expected, row.low, row.high)
        assert forecast.note == row.note
        assert crosses_on == row.crosses_on
    assert shown["Prod"][0].low < shown["Prod"][0].expected < shown["Prod"][0].high


def test_a_new_cost_row_makes_it_computed_again_and_replaced(acme, fits):
    _noisy_history(acme)
    budget(acme)
    ((before, _),) = _forecasts(acme).values()
    first_row = StoredForecast.objects.get()

    spend(acme, TODAY - DAY, "500.00", kind="output")  # a late cost row for yesterday
    ((after, _),) = _forecasts(acme).values()
    again = _forecasts(acme)

    assert len(fits) == 2  # the first page, and the one after the new row; not the third
    assert after.expected > before.expected + Decimal("490.00")
    row = StoredForecast.objects.get()  # still one row for the budget, replaced
    assert row.inputs != first_row.inputs
    assert row.expected == after.expected
    assert row.computed_at >= first_row.computed_at
    assert again["Prod"][0] == after


def test_a_cost_so_far_today_makes_it_computed_again(acme, fits):
    spend_daily(acme, TODAY - 30 * DAY, TODAY - DAY, "10.00")
    budget(acme)
    _forecasts(acme)

    spend(acme, TODAY, "90.00")  # today, so far: a floor for today
    ((forecast, _),) = _forecasts(acme).values()

    assert len(fits) == 2
    spent = Decimal("10.00") * (TODAY.day - 1) + Decimal("90.00")
    assert forecast.expected >= spent


def test_a_row_whose_inputs_are_not_todays_is_never_shown(acme, fits):
    spend_daily(acme, TODAY - 30 * DAY, TODAY - DAY, "10.00")
    budget(acme)
    ((fresh, _),) = _forecasts(acme).values()
    StoredForecast.objects.update(inputs="0" * 64, expected=Decimal("123456.78"))

    ((shown, _),) = _forecasts(acme).values()

    assert shown == fresh
    assert len(fits) == 2
    assert StoredForecast.objects.get().expected == fresh.expected  # replaced


def test_a_new_amount_or_new_forecasting_code_misses_the_stored_forecast(
    acme, admin, fits, monkeypatch
):
    spend_daily(acme, TODAY - 30 * DAY, TODAY - DAY, "40.00")
    b = budget(acme, amount=Decimal("1000.00"))
    ((_, crosses_on),) = _forecasts(acme).values()

    budget_update(budget=b, actor=admin, amount=Decimal("1200.00"))
    ((_, later),) = _forecasts(acme).values()
    monkeypatch.setattr(forecasts, "CODE", "a changed forecasting module")
    _forecasts(acme)

    assert len(fits) == 3
    assert later == crosses_on + 5 * DAY  # $200 more at $40 a day
