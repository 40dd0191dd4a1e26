"""Presets, local days, DST, exact parsing of amounts, and which windows a sync fetches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard.periods import Period, bucket_of, bucket_starts, preset_range
from dashboard.sync.usage import windows_to_fetch
from dashboard.sync.writer import SyncDataError, parse_decimal

UTC = dt.UTC


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        ("7d", dt.date(2025, 3, 10), (dt.date(2025, 3, 4), dt.date(2025, 3, 11))),
        ("mtd", dt.date(2025, 3, 10), (dt.date(2025, 3, 1), dt.date(2025, 3, 11))),
        ("last_month", dt.date(2025, 3, 10), (dt.date(2025, 2, 1), dt.date(2025, 3, 1))),
        ("last_month", dt.date(2025, 1, 5), (dt.date(2024, 12, 1), dt.date(2025, 1, 1))),
        ("90d", dt.date(2025, 3, 10), (dt.date(2024, 12, 11), dt.date(2025, 3, 11))),
    ],
)
def test_it_resolves_presets_to_whole_local_days(preset, today, expected):
    assert preset_range(preset, today) == expected


def test_it_cuts_local_days_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    period = Period(dt.date(2025, 3, 29), dt.date(2025, 4, 1), berlin)

    starts = bucket_starts(period, "1d")

    # Clocks go forward on March 30: that day has 23 hours.
    assert starts == [
        dt.datetime(2025, 3, 28, 23, tzinfo=UTC),
        dt.datetime(2025, 3, 29, 23, tzinfo=UTC),
        dt.datetime(2025, 3, 30, 22, tzinfo=UTC),
    ]
    assert len(bucket_starts(period, "1h")) == 24 + 23 + 24
    assert bucket_of(dt.datetime(2025, 3, 30, 22, tzinfo=UTC), "1d", berlin) == starts[2]
    assert bucket_of(dt.datetime(2025, 3, 30, 21, tzinfo=UTC), "1d", berlin) == starts[1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),
        (0.000123456789012, Decimal("0.000123456789012")),
        ("0.06", Decimal("0.06")),
        (" 12.5 ", Decimal("12.5")),
        (7, Decimal(7)),
        (1e-07, Decimal("1E-7")),
        (None, None),
    ],
)
def test_it_parses_amounts_without_float_artefacts(value, expected):
    assert parse_decimal(value) == expected


@pytest.mark.parametrize("value", ["abc", "NaN", float("inf"), True, [1]])
def test_it_refuses_what_is_not_a_number(value):
    with pytest.raises(SyncDataError):
        parse_decimal(value)


def h(n: int) -> dt.datetime:
    return dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(hours=n)


SETTLE = dt.timedelta(hours=10)


@pytest.mark.parametrize(
    ("start", "end", "known", "expected"),
    [
        (h(0), h(100), None, [(h(0), h(100))]),  # nothing held: everything
        (h(50), h(100), (h(0), h(90)), [(h(80), h(100))]),  # resume before the settle window
        (h(0), h(100), (h(40), h(90)), [(h(0), h(40)), (h(80), h(100))]),  # older + recent
        (h(0), h(100), (h(5), h(12)), [(h(0), h(100))]),  # tiny range: one window
        (h(0), h(30), (h(0), h(90)), []),  # all held and settled
    ],
)
def test_it_fetches_the_window_minus_what_is_held_and_settled(start, end, known, expected):
    assert windows_to_fetch(start=start, end=end, known=known, settle=SETTLE) == expected
