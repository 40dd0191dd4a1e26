"""budget_statuses: each budget's period in the reporting timezone, its spend, its forecast to
the period's end (a month, a quarter or a custom range), its status and its costs link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from dashboard.budgets.selectors import (
    ENDED,
    FORECAST_OVER,
    NOT_STARTED,
    ON_TRACK,
    OVER,
    budget_statuses,
    today_in,
)
from tests.budgets.conftest import budget, reporting_tz, spend, spend_daily

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
TODAY = dt.date(2025, 6, 15)


def _one(org, today=TODAY):
    (status,) = budget_statuses(org=org, today=today)
    return status


def test_it_counts_the_month_so_far_and_forecasts_its_end_at_a_steady_rate(acme):
    rate = Decimal("20.00")
    spend_daily(acme, TODAY - 60 * DAY, TODAY - DAY, str(rate))
    spend(acme, TODAY, "5.00", kind="output")  # today so far
    b = budget(acme, amount=Decimal("500.00"))

    s = _one(acme)

    before = rate * (TODAY.day - 1)
    assert (s.period_start, s.period_end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert s.spent == before + Decimal("5.00")
    days_left = (s.period_end - TODAY).days + 1
    assert s.days_left == days_left
    # The same amount every day: that amount for today and each day left, no band.
    assert s.forecast.expected == before + rate * days_left
    assert s.forecast.low == s.forecast.high == s.forecast.expected
    assert s.status == FORECAST_OVER
    # At $20 a day from $280, the budget's $500 is reached on the day the sum first gets there.
    needed = -(-(b.amount - before) // rate)  # days, rounded up
    assert s.crosses_on == TODAY + (int(needed) - 1) * DAY
    assert s.crossed_on is None
    assert s.percent == (100 * s.spent / b.amount).quantize(Decimal("0.1"))
    assert s.crossed == [p for p in b.thresholds if s.spent >= b.amount * p / 100]


def test_a_budget_its_forecast_stays_under_is_on_track(acme):
    spend_daily(acme, TODAY - 30 * DAY, TODAY - DAY, "1.00")
    budget(acme, amount=Decimal("1000.00"))

    s = _one(acme)

    assert s.status == ON_TRACK
    assert s.forecast.expected < s.budget.amount
    assert s.crosses_on is None


def test_over_budget_says_the_day_it_went_over(acme):
    first = TODAY.replace(day=1)
    spend_daily(acme, first, TODAY, "100.00")
    b = budget(acme, amount=Decimal("450.00"))

    s = _one(acme)

    assert s.status == OVER
    assert s.spent > b.amount
    assert s.crossed_on == first + 4 * DAY  # the fifth $100 day reaches $450
    assert s.crosses_on is None
    assert s.crossed == sorted(b.thresholds)


def test_a_quarter_counts_every_day_since_its_start_and_forecasts_to_its_end(acme):
    today = dt.date(2025, 5, 10)
    rate = Decimal("10.00")
    spend_daily(acme, dt.date(2025, 1, 1), today - DAY, str(rate))
    budget(acme, period="quarter", amount=Decimal("2000.00"))

    s = _one(acme, today)

    assert (s.period_start, s.period_end) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    days_before = (today - s.period_start).days  # April 1 to May 9: not only May's days
    assert s.spent == rate * days_before
    days_left = (s.period_end - today).days + 1
    assert s.forecast.expected == rate * (days_before + days_left)
    assert s.status == ON_TRACK


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2025, 1, 1), (dt.date(2025, 1, 1), dt.date(2025, 3, 31))),
        (dt.date(2025, 3, 31), (dt.date(2025, 1, 1), dt.date(2025, 3, 31))),
        (dt.date(2025, 12, 31), (dt.date(2025, 10, 1), dt.date(2025, 12, 31))),
        (dt.date(2024, 2, 29), (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
    ],
)
def test_quarters_start_and_end_on_their_months(acme, today, quarter):
    b = budget(acme, period="quarter")
    assert b.period_of(today) == quarter


def test_a_custom_range_under_way_counts_from_its_first_day_across_months(acme):
    start, end, today = dt.date(2025, 5, 20), dt.date(2025, 6, 10), dt.date(2025, 6, 1)
    spend_daily(acme, dt.date(2025, 4, 1), today - DAY, "10.00")
    budget(acme, period="custom", start=start, end=end, amount=Decimal("100.00"))

    s = _one(acme, today)

    assert (s.period_start, s.period_end) == (start, end)
    assert s.spent == Decimal("10.00") * (today - start).days  # May 20 to 31, not April's
    assert s.forecast.expected == Decimal("10.00") * ((end - start).days + 1)
    assert s.status == OVER


def test_a_custom_range_before_it_starts_and_after_it_ends(acme):
    spend_daily(acme, dt.date(2025, 5, 1), TODAY, "10.00")
    budget(acme, name="Later", period="custom", start=TODAY + DAY, end=TODAY + 9 * DAY)
    budget(acme, name="May", period="custom", start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 31))

    later, may = budget_statuses(org=acme, today=TODAY)

    assert later.status == NOT_STARTED
    assert later.spent == 0
    assert later.forecast is None
    assert may.status == ENDED
    assert may.spent == Decimal("10.00") * 31  # the whole range, not June's days
    assert may.forecast is None
    assert parse_qs(urlsplit(may.costs_url).query)["end"] == ["2025-06-01"]


def test_each_scope_and_combination_counts_only_its_costs(acme):
    rows = [
        ("proj_a", "key_1", "gpt-4o", "3.00"),
        ("proj_a", "key_2", "gpt-4o-mini", "5.00"),
        ("proj_b", "key_1", "gpt-4o", "7.00"),
        ("proj_b", "key_3", "o3", "11.00"),
    ]
    day = TODAY.replace(day=2)
    for project, key, model, amount in rows:
        spend(acme, day, amount, project_id=project, api_key_id=key, model=model)
    spend(acme, day, "13.00", project_id="proj_a", currency="eur")  # not the budget's currency
    scopes = {
        "all": {},
        "project": {"project_id": "proj_a"},
        "key": {"api_key_id": "key_1"},
        "model": {"model": "gpt-4o"},
        "project+model": {"project_id": "proj_b", "model": "gpt-4o"},
        "project+key+model": {"project_id": "proj_a", "api_key_id": "key_2", "model": "o3"},
    }
    for name, scope in scopes.items():
        budget(acme, name=name, **scope)

    spent = {s.budget.name: s.spent for s in budget_statuses(org=acme, today=TODAY)}

    fields = ("project_id", "api_key_id", "model")
    for name, scope in scopes.items():
        wanted = sum(
            (
                Decimal(amount)
                for *values, amount in rows
                if all(scope.get(f) in (None, v) for f, v in zip(fields, values, strict=True))
            ),
            Decimal(0),
        )
        assert spent[name] == wanted, name


def test_the_costs_link_opens_the_scope_and_period_in_the_reporting_timezone(
    acme, client_as, admin
):
    reporting_tz(acme, "America/Los_Angeles")
    spend(acme, TODAY.replace(day=3), "42.00", project_id="proj_a", api_key_id="key_1")
    budget(acme, project_id="proj_a", model="gpt-4o")

    s = _one(acme)

    query = parse_qs(urlsplit(s.costs_url).query)
    assert query["start"] == [s.period_start.isoformat()]
    assert query["end"] == [(TODAY + DAY).isoformat()]
    assert query["tz"] == ["America/Los_Angeles"]
    assert query["project_id"] == ["proj_a"]
    assert query["model"] == ["gpt-4o"]
    page = client_as(admin).get(s.costs_url)
    assert page.status_code == 200
    assert "$42.00" in page.content.decode()


def test_the_period_is_the_reporting_timezones(acme, monkeypatch):
    # 03:00 UTC on July 1st is still June 30th in Los Angeles: June's budget, June's spend.
    moment = dt.datetime(2025, 7, 1, 3, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    reporting_tz(acme, "America/Los_Angeles")
    spend(acme, dt.date(2025, 6, 30), "30.00")
    spend(acme, dt.date(2025, 7, 1), "99.00")  # a day the organization hasn't reached yet
    budget(acme)

    today = today_in(org=acme)
    s = _one(acme, today)

    assert today == dt.date(2025, 6, 30)
    assert (s.period_start, s.period_end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert s.spent == Decimal("30.00")
    assert s.days_left == 1
    reporting_tz(acme, "UTC")
    assert _one(acme, today_in(org=acme)).period_start == dt.date(2025, 7, 1)


def test_a_few_days_of_history_forecast_with_a_wide_band(acme):
    for n, amount in enumerate(["8.00", "12.00", "10.00"], start=1):
        spend(acme, TODAY - n * DAY, amount)
    budget(acme)

    s = _one(acme)

    assert s.forecast.low < s.forecast.expected < s.forecast.high
    assert (s.forecast.high - s.forecast.expected) >= (s.forecast.expected - s.spent) / 2
    assert "average" in s.forecast.note


def test_nothing_spent_yet_forecasts_nothing(acme):
    budget(acme)

    s = _one(acme)

    assert s.spent == 0
    assert s.forecast.expected == 0
    assert s.status == ON_TRACK


def test_it_reads_any_number_of_budgets_in_five_queries_once_forecasts_are_stored(
    acme, django_assert_num_queries
):
    spend_daily(acme, TODAY - 100 * DAY, TODAY, "10.00", project_id="proj_a")
    for n in range(8):
        budget(acme, name=f"B{n}", project_id="proj_a" if n % 2 else "", amount=Decimal(100 + n))
    # the budgets, their daily spend, their stored forecasts, the reporting timezone, the
    # projects' and keys' names; and, when none is stored yet, one more to store them all
    with django_assert_num_queries(6):
        cold = budget_statuses(org=acme, today=TODAY)
    with django_assert_num_queries(5):
        warm = budget_statuses(org=acme, today=TODAY)
    assert len(cold) == len(warm) == 8
    assert [s.forecast for s in warm] == [s.forecast for s in cold]
