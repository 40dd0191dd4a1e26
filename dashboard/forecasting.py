"""Month-end spend forecasts from a daily cost history, with an uncertainty band (no Django here).

`forecast_month_end(history, today=, month_end=)` is what the Overview shows; `naive_month_end`
is the projection it replaced (spent so far + the average of the last 7 full days × the days
left), kept for comparison (tests/benchmarks/test_forecast_backtest.py measures both).

How today is counted: today is still filling up, so only the days before it are history (entries
on or after `today` are ignored); today is forecast as a whole day, like every day left, and what
it has cost so far (`today_so_far`) is a floor for it.

The method depends on how much history there is, counted from the first day with spend (a day
missing in between costs nothing):

- six weeks or more: the mean of two statsmodels forecasts with a weekly season: Holt-Winters
  with an additive trend (the last 13 weeks) and Theta (the last 8 weeks);
- two to six weeks: Holt-Winters with a weekly season and no trend (a trend fitted on a few weeks
  follows the noise, or the ramp of an account's first days);
- one to two weeks: simple exponential smoothing, too short for a season;
- the same amount every day for a week or more: that amount, with no band;
- less than a week: the average so far, with a band of at least ±50 %;
- nothing spent in the last 7 days (after spending before): nothing more expected, the band's top
  at the rate before;
- nothing spent at all: zero.

With four weeks or more, a level shift in the last week (three days or more whose median, the
weekly season divided out, is 6 standard errors away from the four weeks before) scales the days
before it to the new level before the fit, so that the forecast starts from it at once: the
smoothed level alone takes weeks to get there, and the 7-day average did better on a step.

Chosen by the backtest (tests/benchmarks/test_forecast_backtest.py), which also measured: on the
log scale (a multiplicative season) the simulated mean explodes on a history with near-empty days
(the xAI demo's weekends); a damped trend, Theta alone or Holt-Winters alone miss by more; a
trend from four weeks instead of six follows an account's first ramp.

The band (`level`, 80 % by default) comes from 1,000 simulated paths of the Holt-Winters model:
their quantiles of the month's rest relative to their mean, around the forecast, 1.5 times as
wide: the simulations know the day-to-day noise but not the model's own error, and 1.5 is what
makes the 80 % band hold the month's total about 80 % of the time in the backtest. Money is
Decimal in and out, rounded to the cent; floats live only inside the fits.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import numpy as np

ZERO = Decimal(0)
CENT = Decimal("0.01")
WEEK = 7
MIN_MODEL_DAYS = 7  # fewer: the average so far
MIN_SEASON_DAYS = 14  # fewer: no weekly season (two of each weekday at least)
MIN_TREND_DAYS = 42  # fewer: no trend, one model
HOLT_DAYS = 91  # Holt-Winters' window (13 weeks)
THETA_DAYS = 56  # Theta's (8 weeks)
HISTORY_DAYS = max(HOLT_DAYS, THETA_DAYS)  # the most the methods read: a caller fetches no more
BAND_SCALE = 1.5  # the simulated band's widening (calibrated by the backtest)
SIMULATIONS = 1000
SHIFT_MIN_DAYS = 3  # a level shift lasts this many days at least
SHIFT_Z = 6.0
MEAN_RATE_BAND = 0.5  # a mean rate's band: at least ±50 % of the rest of the month

History = Sequence[tuple[dt.date, Decimal]]
Day = tuple[dt.date, Decimal, Decimal, Decimal]  # (day, expected, low, high)
K = TypeVar("K", bound=Hashable)

METHODS = {  # what a page says of each method (MonthForecast.note)
    "none": "Nothing spent yet, so nothing forecast.",
    "mean-rate": "At the average of the {days} days so far: too few for a model, so a wide range.",
    "stopped": "Nothing spent in the last 7 days, so nothing more expected; the range goes up to "
    "the rate before.",
    "constant": "The same amount each of the last {days} days, so that amount each day left.",
    "ets": "Exponential smoothing of the {days} days so far (too few for a weekly pattern).",
    "ets-weekly": "Exponential smoothing with the weekly pattern of the {days} days so far.",
    "ets+theta": "Exponential smoothing and Theta with the weekly pattern and trend of the last "
    "{days} days, averaged.",
}


@dataclass(frozen=True)
class MonthForecast:
    """The month's expected end and its band, in the history's currency (to the cent)."""

    expected: Decimal
    low: Decimal
    high: Decimal
    method: str  # a key of METHODS
    daily: list[Day]  # each day from today to the month's end
    spent: Decimal  # this month before today
    level: float  # of the band
    days: int  # of history read by the method

    @property
    def note(self) -> str:
        """The method in a few words, for a page."""
        return METHODS[self.method].format(days=self.days)


@dataclass(frozen=True)
class _Rest:
    """The forecast of the days left, in floats: per day and in total, with their bands."""

    method: str
    days: int
    path: np.ndarray  # expected per day
    low: np.ndarray
    high: np.ndarray
    total: tuple[float, float, float]  # expected, low, high of the sum


def forecast_month_end(
    history: History,
    *,
    today: dt.date,
    month_end: dt.date,
    level: float = 0.8,
    today_so_far: Decimal = ZERO,
) -> MonthForecast:
    """The month's spend at `month_end`: spent before today plus a forecast of today and each
    day left, with a `level` band (see the module's docstring)."""
    days, spent = _days_before(history, today=today, month_end=month_end)
    spent, today_so_far = _round(spent), _round(today_so_far)
    horizon = (month_end - today).days + 1
    rest = _forecast_rest(days, horizon, level) if horizon > 0 else _nothing_left()
    dates = [today + dt.timedelta(days=i) for i in range(max(horizon, 0))]
    daily = [
        (d, _cents(rest.path[i]), _cents(rest.low[i]), _cents(rest.high[i]))
        for i, d in enumerate(dates)
    ]
    expected, low, high = (spent + _cents(v) for v in rest.total)
    if daily and today_so_far > daily[0][1]:  # today already cost more than forecast
        extra = today_so_far - daily[0][1]
        expected, low, high = expected + extra, low + extra, high + extra
        daily[0] = (today, today_so_far, max(daily[0][2], today_so_far), daily[0][3] + extra)
    low = max(low, spent + today_so_far)
    return MonthForecast(
        expected=expected,
        low=min(low, expected),
        high=max(high, expected),
        method=rest.method,
        daily=daily,
        spent=spent,
        level=level,
        days=rest.days,
    )


def forecast_groups(
    series: Mapping[K, History],
    *,
    today: dt.date,
    month_end: dt.date,
    level: float = 0.8,
    today_so_far: Mapping[K, Decimal] | None = None,
) -> dict[K, MonthForecast]:
    """forecast_month_end of each of several daily series (per project, key or model), by key."""
    so_far = today_so_far or {}
    return {
        key: forecast_month_end(
            history,
            today=today,
            month_end=month_end,
            level=level,
            today_so_far=so_far.get(key, ZERO),
        )
        for key, history in series.items()
    }


def naive_month_end(history: History, *, today: dt.date, month_end: dt.date) -> Decimal:
    """The projection the Overview showed before: spent before today plus the average of the
    last 7 full days times the days left, today included (exact, not rounded)."""
    month_start = month_end.replace(day=1)
    week_start = today - dt.timedelta(days=WEEK)
    spent = sum((a for d, a in history if month_start <= d < today), ZERO)
    rate = sum((a for d, a in history if week_start <= d < today), ZERO) / WEEK
    return spent + rate * ((month_end - today).days + 1)


# --- the history ---------------------------------------------------------------------------------


def _days_before(
    history: History, *, today: dt.date, month_end: dt.date
) -> tuple[np.ndarray, Decimal]:
    """(each day's spend from the first day with any to yesterday, as floats; this month's
    spend before today, exact)."""
    month_start = month_end.replace(day=1)
    by_day: dict[dt.date, Decimal] = {}
    for day, amount in history:
        if day < today:
            by_day[day] = by_day.get(day, ZERO) + amount
    spent = sum((a for d, a in by_day.items() if d >= month_start), ZERO)
    spending = sorted(d for d, a in by_day.items() if a)
    if not spending:
        return np.zeros(0), spent
    first = spending[0]
    values = np.zeros((today - first).days)
    for day, amount in by_day.items():
        if day >= first:
            values[(day - first).days] = float(amount)
    return np.clip(values, 0.0, None), spent  # a refund day counts as nothing spent


def _cents(value: float) -> Decimal:
    return _round(Decimal(repr(float(value))))


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- the methods ---------------------------------------------------------------------------------


def _forecast_rest(y: np.ndarray, horizon: int, level: float) -> _Rest:
    """The method for this much history, and its forecast of the next `horizon` days."""
    if not y.size:
        return _flat("none", 0, np.zeros(horizon), 0.0, 0.0)
    if not y[-WEEK:].any() and y.size >= WEEK:
        return _stopped(y, horizon)
    if y.size < MIN_MODEL_DAYS:
        return _mean_rate(y, horizon, level)
    if np.ptp(y) == 0:  # the same every day (a model's fit would be degenerate)
        return _flat("constant", int(y.size), np.full(horizon, y[0]), 0.0, 0.0)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # convergence notes: the result is checked below
            rest = _modelled(y, horizon, level)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        rest = None
    if rest is None or not np.all(np.isfinite(rest.total)):
        return _mean_rate(y, horizon, level)
    return rest


def _modelled(y: np.ndarray, horizon: int, level: float) -> _Rest:
    y = _after_level_shift(y)
    if y.size < MIN_SEASON_DAYS:
        path, sims = _holt_winters(y, horizon, trend=False, season=False)
        return _banded("ets", y.size, path, sims, level)
    if y.size < MIN_TREND_DAYS:
        path, sims = _holt_winters(y, horizon, trend=False, season=True)
        return _banded("ets-weekly", y.size, path, sims, level)
    holt, sims = _holt_winters(y[-HOLT_DAYS:], horizon, trend=True, season=True)
    path = (holt + _theta(y[-THETA_DAYS:], horizon)) / 2
    return _banded("ets+theta", min(y.size, HISTORY_DAYS), path, sims, level)


def _after_level_shift(y: np.ndarray) -> np.ndarray:
    """`y` with the days before a level shift of the last week scaled to the level after it,
    so that the models keep the season and the trend they learnt but start from the new level
    (a smoothed level would take weeks to get there). A shift is a run of at least
    SHIFT_MIN_DAYS days up to yesterday whose median, with the weekly season divided out, is
    SHIFT_Z standard errors away from the four weeks before it."""
    if y.size < 4 * WEEK + SHIFT_MIN_DAYS:
        return y
    base = y[-4 * WEEK - WEEK : -WEEK]
    profile = np.array([base[i::WEEK].mean() for i in range(WEEK)])
    if not base.mean() or (profile <= 0).any():
        return y
    first = y.size - base.size - WEEK  # base's first day: the profile's weekday 0
    adjusted = y / (profile / base.mean())[(np.arange(y.size) - first) % WEEK]
    best, shift = 0.0, 0
    for days in range(SHIFT_MIN_DAYS, WEEK + 1):
        before = adjusted[-days - 4 * WEEK : -days]
        error = before.std(ddof=1) / np.sqrt(days)
        z = (np.median(adjusted[-days:]) - np.median(before)) / error if error else 0.0
        if abs(z) > max(best, SHIFT_Z):
            best, shift = abs(z), days
    if not shift:
        return y
    ratio = np.median(adjusted[-shift:]) / np.median(adjusted[-shift - 4 * WEEK : -shift])
    return np.concatenate([y[:-shift] * ratio, y[-shift:]])


def _holt_winters(
    y: np.ndarray, horizon: int, *, trend: bool, season: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Holt-Winters (additive trend and weekly season, or less): (its forecast, SIMULATIONS
    simulated paths by day, from one seed so that a page shows the same band each time)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    fit = ExponentialSmoothing(
        y,
        trend="add" if trend else None,
        seasonal="add" if season else None,
        seasonal_periods=WEEK if season else None,
        initialization_method="estimated",
    ).fit()
    sims = fit.simulate(horizon, repetitions=SIMULATIONS, error="add", rng=np.random.default_rng(0))
    sims = np.clip(np.asarray(sims).reshape(horizon, SIMULATIONS), 0.0, None)
    return np.clip(np.asarray(fit.forecast(horizon)), 0.0, None), sims


def _theta(y: np.ndarray, horizon: int) -> np.ndarray:
    """Theta (exponential smoothing with half the linear trend as drift) on the series with its
    weekly season divided out; a tenth of a typical day is added first, so that the season's
    factors stay finite when some days cost nothing."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    recent = y[-4 * WEEK :]
    c = max(float(np.median(recent)) * 0.1, float(recent.mean()) * 0.01, 1e-6)
    fit = ThetaModel(
        y + c, period=WEEK, deseasonalize=True, method="multiplicative", use_test=False
    ).fit()
    return np.clip(np.asarray(fit.forecast(horizon)) - c, 0.0, None)


def _banded(method: str, days: int, path: np.ndarray, sims: np.ndarray, level: float) -> _Rest:
    """`path` with the band of the simulated paths `sims`: their quantiles relative to their
    mean, per day and for the sum."""
    tail = (1 - level) / 2

    def around(expected, samples, axis=None):
        mean = np.mean(samples, axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            lo = np.where(mean > 0, np.quantile(samples, tail, axis=axis) / mean, 1.0)
            hi = np.where(mean > 0, np.quantile(samples, 1 - tail, axis=axis) / mean, 1.0)
        return expected * np.clip(1 - (1 - lo) * BAND_SCALE, 0.0, None), expected * (
            1 + (hi - 1) * BAND_SCALE
        )

    low, high = around(path, sims, axis=1)
    total_low, total_high = around(path.sum(), sims.sum(axis=0))
    total = (float(path.sum()), float(total_low), float(total_high))
    return _Rest(method, days, path, low, high, total)


def _flat(method: str, days: int, path: np.ndarray, low: float, high: float) -> _Rest:
    """A constant rate `path` with a band of ±(low, high) times it, per day and in total."""
    total = float(path.sum())
    return _Rest(method, days, path, path * (1 - low), path * (1 + high), (
        total, total * (1 - low), total * (1 + high)
    ))  # fmt: skip


def _mean_rate(y: np.ndarray, horizon: int, level: float) -> _Rest:
    """The average day so far, with a band from how much the days vary and how few they are,
    never narrower than ±MEAN_RATE_BAND."""
    from scipy.stats import norm

    rate = float(y.mean())
    spread = float(y.std(ddof=1)) if y.size > 1 else rate
    z = float(norm.ppf(0.5 + level / 2))
    # The days left vary around the rate, and the rate itself is known from y.size days only.
    sd = spread * np.sqrt(horizon) + spread * horizon / np.sqrt(y.size)
    half = max(z * sd / (rate * horizon), MEAN_RATE_BAND) if rate and horizon else MEAN_RATE_BAND
    return _flat("mean-rate", int(y.size), np.full(horizon, rate), min(half, 1.0), half)


def _stopped(y: np.ndarray, horizon: int) -> _Rest:
    """Nothing in the last week: nothing expected, up to the average day of the 4 weeks before."""
    before = y[:-WEEK][-4 * WEEK :]
    rate = float(before.mean()) if before.size else 0.0
    zeros = np.zeros(horizon)
    rest = np.full(horizon, rate)
    return _Rest("stopped", int(y.size), zeros, zeros, rest, (0.0, 0.0, float(rest.sum())))


def _nothing_left() -> _Rest:
    empty = np.zeros(0)
    return _Rest("none", 0, empty, empty, empty, (0.0, 0.0, 0.0))
