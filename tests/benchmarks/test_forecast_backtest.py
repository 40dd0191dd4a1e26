"""Backtest of the month-end forecast (issue 20, item 3; `make bench`).

Three daily cost histories, each forecast from the 7th, the 14th and the 21st of every whole
month that has at least four weeks of history before that day:

- the OpenAI simulator's `demo` scenario (13 months), read from its usage engine's cost ledger,
  the same `cost_groups` the Costs endpoint answers from (what a sync stores, without the HTTP);
- the xAI simulator's `demo` team (120 days), its store's cents per day, what its usage
  analytics answer and a sync stores;
- a synthetic history made here (seeded): a trend, a weekly season, lognormal noise and a step
  change (×1.6 from one day on, mid-month).

For each: the mean absolute percentage error of `forecasting.forecast_month_end` against the
month's actual total, beside the naive projection's (`naive_month_end`: spent so far plus the
average of the last 7 full days × the days left) on the same forecasts, and their ratio (target
≤ 0.8 per history and pooled); how often the 80 % band held the actual total is shown too.
Both simulators are built at a fixed instant so every run measures the same histories.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from dashboard.forecasting import forecast_month_end, naive_month_end

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)  # the histories end on Feb 28, a whole day
ORIGIN_DAYS = (7, 14, 21)
MIN_HISTORY = 28  # days before a forecast: four weeks, so each weekday is seen four times
TARGET = 0.8
ROWS: list[tuple[str, str, str, str]] = []  # measure, value, target, verdict

Series = dict[dt.date, Decimal]


def _openai_demo() -> Series:
    from orgadmin.simulator.scenarios.base import HISTORY_DAYS
    from orgadmin.simulator.scenarios.builder import build
    from orgadmin.simulator.usage.families import DAY, PICO

    now = int(NOW.timestamp())
    store = build("demo", seed=0, now=lambda: now, admin_keys=("sk-admin-bench",))
    start, end = now - HISTORY_DAYS * DAY, now
    groups = store.usage.cost_groups(
        start, end, now=now, width=DAY, base=start, group_by=(), filters={}
    )
    return {
        dt.datetime.fromtimestamp(start + k * DAY, dt.UTC).date(): (
            Decimal(sum(slot[0] for slot in by_group.values())) / PICO
        )
        for k, by_group in groups.items()
    }


def _xai_demo() -> Series:
    from orgadmin.xai.simulator.scenarios import build

    store = build(
        "demo", seed=0, now=NOW.timestamp, management_keys={"bench": ("management-api:*",)}
    )
    return {
        day: Decimal(sum(cents for *_, cents in lines)) / 100 for day, lines in store.usage.items()
    }


def _synthetic(seed: int = 7) -> Series:
    """13 months from 2025-01-01: $200 a day growing 0.15 % a day (about 70 % a year), weekdays
    twice the weekend, lognormal noise (σ 0.15), and ×1.6 from 2025-07-10 on."""
    rng = np.random.default_rng(seed)
    week = (1.0, 1.1, 1.12, 1.05, 0.95, 0.45, 0.38)
    start, step = dt.date(2025, 1, 1), dt.date(2025, 7, 10)
    out = {}
    for i in range(395):
        day = start + dt.timedelta(days=i)
        level = 200 * np.exp(0.0015 * i) * (1.6 if day >= step else 1.0)
        amount = level * week[day.weekday()] * rng.lognormal(0, 0.15)
        out[day] = Decimal(repr(round(float(amount), 2)))
    return out


def _months(series: Series):
    """(first day, last day) of each whole month in the series."""
    first, last = min(series), max(series)
    month = first.replace(day=1)
    while True:
        end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        if end > last:
            return
        if month >= first:
            yield month, end
        month = end + dt.timedelta(days=1)


def _backtest(series: Series) -> list[tuple[float, float, bool]]:
    """(our error, the naive one's, whether our band held the truth) of every forecast."""
    days = sorted(series)
    out = []
    for month, end in _months(series):
        truth = sum(
            (series.get(month + dt.timedelta(days=i), Decimal(0)) for i in range(end.day)),
            Decimal(0),
        )
        for origin in ORIGIN_DAYS:
            today = month.replace(day=origin)
            history = [(d, series[d]) for d in days if d < today]
            if (today - days[0]).days < MIN_HISTORY or not truth:
                continue
            ours = forecast_month_end(history, today=today, month_end=end)
            naive = naive_month_end(history, today=today, month_end=end)
            out.append(
                (
                    float(abs(ours.expected - truth) / truth),
                    float(abs(naive - truth) / truth),
                    ours.low <= truth <= ours.high,
                )
            )
    return out


def _row(measure: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "info" if ok is None else "ok" if ok else "FAIL"
    ROWS.append((measure, value, target, verdict))
    print(f"  {measure}: {value} (target {target}) {verdict}", flush=True)


def _report(name: str, results: list[tuple[float, float, bool]], seconds: float) -> None:
    ours = 100 * float(np.mean([r[0] for r in results]))
    naive = 100 * float(np.mean([r[1] for r in results]))
    held = sum(r[2] for r in results)
    _row(
        f"{name}: MAPE ours vs naive, {len(results)} forecasts",
        f"{ours:.2f} % vs {naive:.2f} % = {ours / naive:.3f}",
        f"≤ {TARGET}",
        ours / naive <= TARGET,
    )
    _row(
        f"{name}: the 80 % band held the month's total",
        f"{held} of {len(results)} ({100 * held / len(results):.0f} %), {seconds:.1f} s",
        "—",
        None,
    )


def test_the_forecast_beats_the_seven_day_average_on_month_ends():
    histories: dict[str, Callable[[], Series]] = {
        "OpenAI demo (13 months)": _openai_demo,
        "xAI demo (120 days)": _xai_demo,
        "synthetic: trend, weekly season, step": _synthetic,
    }
    pooled: list[tuple[float, float, bool]] = []
    print()
    began = time.perf_counter()
    for name, history in histories.items():
        started = time.perf_counter()
        results = _backtest(history())
        _report(name, results, time.perf_counter() - started)
        pooled += results
    _report("all three", pooled, time.perf_counter() - began)
    _table()


def _table() -> None:
    width = max(len(r[0]) for r in ROWS)
    print("\n\nMonth-end forecast backtest (issue 20): forecasts from days 7, 14 and 21")
    print(f"{'measure'.ljust(width)}  {'measured':<34} {'target':<9} verdict")
    for measure, value, target, verdict in ROWS:
        print(f"{measure.ljust(width)}  {value:<34} {target:<9} {verdict}")
    assert all(r[3] in ("ok", "info") for r in ROWS), "the forecast missed its target"
