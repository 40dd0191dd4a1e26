"""Month-end forecasts (issue 20, item 2): dashboard/forecasting.py, pure (no database)."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import numpy as np

from dashboard.forecasting import (
    MEAN_RATE_BAND,
    forecast_groups,
    forecast_month_end,
    naive_month_end,
)

# Monday..Sunday: a team that works weekdays and runs little at weekends.
WEEKDAY_HEAVY = (1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.15)


def _series(start: dt.date, days: int, *, level=100.0, week=WEEKDAY_HEAVY, noise=0.05, seed=1):
    """Daily spend from `start`: `level` times the weekday's factor, lognormal noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        amount = level * week[day.weekday()] * rng.lognormal(0, noise) if noise else level
        out.append((day, Decimal(repr(round(float(amount), 2)))))
    return out


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _rest(forecast) -> Decimal:
    return forecast.expected - forecast.spent


def test_it_projects_a_few_days_at_their_average_with_a_wide_band():
    history = [(dt.date(2026, 5, d), Decimal(a)) for d, a in ((1, "10"), (2, "14"), (3, "12"))]
    today = dt.date(2026, 5, 4)

    forecast = forecast_month_end(history, today=today, month_end=dt.date(2026, 5, 31))

    assert forecast.method == "mean-rate"
    assert forecast.spent == Decimal("36.00")
    assert forecast.expected == forecast.spent + Decimal(12) * 28  # the average, 28 days left
    assert forecast.high - forecast.expected >= _rest(forecast) * Decimal(MEAN_RATE_BAND)
    assert forecast.expected - forecast.low >= _rest(forecast) * Decimal(MEAN_RATE_BAND)
    assert "3 days" in forecast.note


def test_without_spend_it_forecasts_nothing():
    today, end = dt.date(2026, 5, 10), dt.date(2026, 5, 31)
    zeros = [(dt.date(2026, 5, d), Decimal(0)) for d in range(1, 10)]

    for history in ([], zeros):
        forecast = forecast_month_end(history, today=today, month_end=end)
        assert (forecast.expected, forecast.low, forecast.high) == (0, 0, 0)
        assert forecast.method == "none"
        assert len(forecast.daily) == 22  # today and the 21 days after it


def test_a_month_with_nothing_spent_since_spending_stopped_expects_nothing_more():
    before = _series(dt.date(2026, 3, 1), 61)  # March and April
    quiet = [(dt.date(2026, 5, d), Decimal(0)) for d in range(1, 10)]

    forecast = forecast_month_end(
        before + quiet, today=dt.date(2026, 5, 10), month_end=dt.date(2026, 5, 31)
    )

    assert forecast.method == "stopped"
    assert forecast.expected == forecast.low == 0
    april_rate = sum(a for d, a in before if d.month == 4) / 30
    assert forecast.high > april_rate * 15  # spending may come back at the rate before


def test_one_to_two_weeks_are_smoothed_without_a_season_and_two_weeks_with_one():
    short = forecast_month_end(
        _series(dt.date(2026, 5, 1), 10), today=dt.date(2026, 5, 11), month_end=_month_end
        (dt.date(2026, 5, 11))
    )  # fmt: skip
    weekly = forecast_month_end(
        _series(dt.date(2026, 5, 1), 20), today=dt.date(2026, 5, 21), month_end=_month_end
        (dt.date(2026, 5, 21))
    )  # fmt: skip

    assert short.method == "ets"
    assert weekly.method == "ets-weekly"
    # Two weeks show the weekends: the season is followed day by day.
    weekend = [e for d, e, _, _ in weekly.daily if d.weekday() >= 5]
    weekdays = [e for d, e, _, _ in weekly.daily if d.weekday() < 5]
    assert max(weekend) < min(weekdays) / 2


def test_a_weekday_heavy_history_forecasts_more_for_more_weekdays_left():
    history = _series(dt.date(2026, 1, 1), 200)  # to Jul 19 (a Sunday)

    def rest_of_july(today: dt.date) -> tuple[Decimal, int]:
        forecast = forecast_month_end(
            [(d, a) for d, a in history if d < today], today=today, month_end=today
            + dt.timedelta(days=9)
        )  # fmt: skip
        weekdays = sum((today + dt.timedelta(days=i)).weekday() < 5 for i in range(10))
        return _rest(forecast), weekdays

    many, many_weekdays = rest_of_july(dt.date(2026, 7, 13))  # Mon: 8 weekdays in 10 days
    few, few_weekdays = rest_of_july(dt.date(2026, 7, 18))  # Sat: 6 weekdays in 10 days
    assert (many_weekdays, few_weekdays) == (8, 6)
    assert many > few * Decimal("1.2")
    # Each within 10 % of what those days cost without noise.
    for rest, weekdays in ((many, many_weekdays), (few, few_weekdays)):
        truth = Decimal(100 * weekdays + 15 * (10 - weekdays))
        assert abs(rest - truth) < truth / 10
    # The 7-day average can't tell the two apart: it projects the same rate for both.
    naive_many = naive_month_end(
        history, today=dt.date(2026, 7, 13), month_end=dt.date(2026, 7, 22)
    ) - sum(a for d, a in history if dt.date(2026, 7, 1) <= d < dt.date(2026, 7, 13))
    assert abs(naive_many - Decimal(100 * 8 + 15 * 2)) > abs(many - Decimal(100 * 8 + 15 * 2))


def test_the_band_holds_the_month_end_most_of_the_time_on_a_noisy_series():
    series = _series(dt.date(2025, 1, 1), 540, noise=0.35, seed=4)
    held = total = 0
    for month in range(3, 18):  # Mar 2025 .. Jun 2026, each from day 7, 14 and 21
        start = dt.date(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        end = _month_end(start)
        truth = sum(a for d, a in series if start <= d <= end)
        for origin in (7, 14, 21):
            today = start.replace(day=origin)
            forecast = forecast_month_end(
                [(d, a) for d, a in series if d < today], today=today, month_end=end
            )
            assert forecast.low < forecast.expected < forecast.high
            held += forecast.low <= truth <= forecast.high
            total += 1
    assert total == 45
    assert held >= 0.7 * total  # an 80 % band: about 36 of 45


def test_every_amount_is_decimal_to_the_cent():
    history = [(d, a / 3) for d, a in _series(dt.date(2026, 1, 1), 90)]  # 28 decimal places

    forecast = forecast_month_end(history, today=dt.date(2026, 4, 1), month_end=_month_end(
        dt.date(2026, 4, 1)))  # fmt: skip

    amounts = [forecast.expected, forecast.low, forecast.high, forecast.spent]
    amounts += [a for _, *day in forecast.daily for a in day]
    assert all(isinstance(a, Decimal) and a == a.quantize(Decimal("0.01")) for a in amounts)
    assert forecast.low <= forecast.expected <= forecast.high
    assert [d for d, *_ in forecast.daily] == [dt.date(2026, 4, d) for d in range(1, 31)]
    assert all(low <= e <= high for _, e, low, high in forecast.daily)


def test_a_step_change_is_followed_within_a_week():
    before = _series(dt.date(2026, 1, 1), 150)  # to May 30, at 100 a weekday
    after = _series(dt.date(2026, 5, 31), 7, level=200, seed=2)  # May 31 .. Jun 6: doubled
    today = dt.date(2026, 6, 7)

    forecast = forecast_month_end(before + after, today=today, month_end=dt.date(2026, 6, 30))

    rest = [today + dt.timedelta(days=i) for i in range(24)]
    doubled = Decimal(sum(200 * WEEKDAY_HEAVY[d.weekday()] for d in rest))
    assert abs(_rest(forecast) - doubled) < doubled * Decimal("0.15")
    assert forecast.low <= forecast.spent + doubled <= forecast.high


def test_what_today_already_cost_is_a_floor():
    history = _series(dt.date(2026, 1, 1), 120)  # to Apr 30
    today = dt.date(2026, 5, 1)
    plain = forecast_month_end(history, today=today, month_end=dt.date(2026, 5, 31))
    busy = plain.daily[0][1] + 500

    forecast = forecast_month_end(
        history, today=today, month_end=dt.date(2026, 5, 31), today_so_far=busy
    )

    assert forecast.daily[0][1] == busy
    assert forecast.expected == plain.expected + 500
    assert forecast.low >= busy


def test_history_from_today_on_is_not_read():
    history = _series(dt.date(2026, 1, 1), 120)
    today = dt.date(2026, 4, 20)
    past = [(d, a) for d, a in history if d < today]

    assert forecast_month_end(history, today=today, month_end=dt.date(2026, 4, 30)) == (
        forecast_month_end(past, today=today, month_end=dt.date(2026, 4, 30))
    )


def test_the_same_spend_every_day_is_projected_exactly():
    history = [(dt.date(2026, 11, d), Decimal("10")) for d in range(1, 20)]

    forecast = forecast_month_end(
        history, today=dt.date(2026, 11, 20), month_end=dt.date(2026, 11, 30)
    )

    assert forecast.method == "constant"
    assert forecast.expected == forecast.low == forecast.high == Decimal(190 + 11 * 10)


def test_the_naive_projection_is_the_last_seven_full_days_average():
    history = [(dt.date(2025, 3, d), Decimal("1.00")) for d in range(1, 11)]
    history += [(dt.date(2025, 2, 27), Decimal("7.00"))]  # before the last 7 full days

    naive = naive_month_end(history, today=dt.date(2025, 3, 10), month_end=dt.date(2025, 3, 31))

    assert naive == Decimal(9) + Decimal(1) * 22  # 9 days spent, 22 (today on) at $1


def test_it_forecasts_several_series_at_once():
    today, end = dt.date(2026, 5, 15), dt.date(2026, 5, 31)
    series = {
        ("proj_a", "gpt-5"): _series(dt.date(2026, 1, 1), 134),
        ("proj_b", "gpt-5"): _series(dt.date(2026, 1, 1), 134, level=20, seed=3),
        ("proj_c", "o3"): [],
    }

    forecasts = forecast_groups(
        series, today=today, month_end=end, today_so_far={("proj_b", "gpt-5"): Decimal(90)}
    )

    assert list(forecasts) == list(series)
    assert forecasts[("proj_a", "gpt-5")] == forecast_month_end(
        series[("proj_a", "gpt-5")], today=today, month_end=end
    )
    assert forecasts[("proj_b", "gpt-5")].daily[0][1] == Decimal(90)  # its today so far
    assert forecasts[("proj_a", "gpt-5")].expected > 4 * forecasts[("proj_b", "gpt-5")].expected
    assert forecasts[("proj_c", "o3")].expected == 0
