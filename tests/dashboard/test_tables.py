"""The finished tables the pages shape: totals by currency, group and day, the period before, the
cache and batch splits, the month's spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard import forecasting, tables
from dashboard.families import FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.periods import Period
from dashboard.selectors import CostQuery, UsageQuery
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def _cost(org, day, item, amount, currency="usd", quantity=None):
    CostBucket.objects.create(
        org=org, day=day, line_item=item, project_id="proj_a", api_key_id="key_1",
        amount=Decimal(amount), currency=currency, quantity=quantity,
        quantity_unit="tokens" if quantity else "",
    )  # fmt: skip


def test_it_totals_costs_by_group_and_day_in_the_main_currency(django_assert_num_queries):
    org = OrganizationFactory(name="Tables")
    _cost(org, D1, "input", "1.10", quantity=10)
    _cost(org, D1, "output", "2.20")
    _cost(org, D2, "input", "0.70", quantity=5)
    _cost(org, D1, "support", "3.00", currency="eur")
    _cost(org, D1 - dt.timedelta(days=2), "input", "2.00")  # the period before
    query = CostQuery(Period(D1, D2 + dt.timedelta(days=1), UTC), ("line_item",))

    with django_assert_num_queries(2):  # the rows, the period before
        table = tables.cost_table(org=org, query=query)

    assert table.currency == "usd"
    assert [(g.key, g.amount, g.quantity, g.unit, g.per_day) for g in table.groups] == [
        (("input",), Decimal("1.80"), Decimal(15), "tokens", [1.1, 0.7]),
        (("output",), Decimal("2.20"), None, "", [2.2, 0.0]),
    ]
    assert table.days == [D1, D2]
    assert table.daily == [Decimal("3.30"), Decimal("0.70")]
    assert table.total == Decimal("4.00")
    assert table.daily_average == Decimal("2.00")
    assert table.previous_total == Decimal("2.00")
    assert table.change == Decimal(100)
    assert table.share(table.groups[1]) == Decimal(55)
    assert table.other_currencies == [("eur", Decimal("3.00"))]


def test_it_has_no_change_without_a_previous_period():
    assert tables.change(Decimal(5), Decimal(0)) is None
    assert tables.change(Decimal(5), Decimal(10)) == Decimal(-50)


def test_it_reports_usage_by_group_and_hour_with_its_cache_and_batch_splits(
    django_assert_num_queries,
):
    org = OrganizationFactory(name="Usage tables")
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    for hour, model, batch, tokens, cached in [
        (0, "gpt-5", "false", 100, 40),
        (1, "gpt-5", "true", 60, 0),
        (1, "gpt-5-mini", "", 300, 100),
    ]:
        USAGE_MODELS["completions"].objects.create(
            org=org, bucket_start=start + dt.timedelta(hours=hour), project_id="proj_a",
            user_id="user_1", api_key_id="key_1", model=model, batch=batch,
            service_tier="default", input_tokens=tokens, output_tokens=10, num_model_requests=1,
            input_cached_tokens=cached, input_uncached_tokens=tokens - cached,
        )  # fmt: skip
    query = UsageQuery(FAMILIES["completions"], Period(D1, D2, UTC), "1h", ("model",))

    with django_assert_num_queries(2):  # the table, the batch split
        report = tables.usage_report(org=org, query=query, metric="input_tokens")

    assert len(report.buckets) == 24
    assert report.buckets[1] == start + dt.timedelta(hours=1)
    assert [g.key for g in report.groups] == [("gpt-5",), ("gpt-5-mini",)]
    assert report.groups[0].per_bucket[:3] == [100, 60, 0]
    assert [g.key for g in report.ranked()] == [("gpt-5-mini",), ("gpt-5",)]
    assert report.grand["input_tokens"] == 460
    assert report.grand["num_model_requests"] == 3
    assert report.cache.cached[:2] == [40, 100]
    assert report.cache.uncached[:2] == [60, 260]
    assert report.cache.share == pytest.approx(140 / 460 * 100)
    assert report.batch.batch[:2] == [0, 60]
    assert report.batch.non_batch[:2] == [100, 0]
    assert report.batch.unknown[:2] == [0, 300]
    assert report.batch.share == pytest.approx(60 / 460 * 100)


def test_it_reports_a_family_without_splits_in_one_query(django_assert_num_queries):
    org = OrganizationFactory(name="Embeddings")
    query = UsageQuery(FAMILIES["embeddings"], Period(D1, D2, UTC), "1h")

    with django_assert_num_queries(1):
        report = tables.usage_report(org=org, query=query, metric="input_tokens")

    assert report.groups == []
    assert report.cache is None
    assert report.batch is None


def test_it_forecasts_the_month_end_from_the_daily_history(django_assert_num_queries):
    org = OrganizationFactory(name="Month")
    today = dt.date(2025, 3, 10)
    for day in range(1, 11):
        _cost(org, dt.date(2025, 3, day), "input", "1.00")
    _cost(org, dt.date(2025, 2, 5), "input", "4.00")
    _cost(org, dt.date(2025, 2, 20), "input", "9.00")  # after Feb 10: not "by the same day"
    _cost(org, dt.date(2024, 12, 20), "input", "5.00")  # before last month: the forecast's

    with django_assert_num_queries(1):
        spend = tables.month_spend(org=org, today=today)

    assert spend.currency == "usd"
    assert spend.month_to_date == Decimal(10)
    assert spend.last_month_to_date == Decimal(4)
    assert spend.same_day_last_month == dt.date(2025, 2, 10)
    assert spend.change == Decimal(150)
    # The forecast reads every day before today (today's $1 so far is its floor for today).
    history = [
        (dt.date(2024, 12, 20), Decimal(5)), (dt.date(2025, 2, 5), Decimal(4)),
        (dt.date(2025, 2, 20), Decimal(9)),
        *((dt.date(2025, 3, day), Decimal(1)) for day in range(1, 10)),
    ]  # fmt: skip
    assert spend.forecast == forecasting.forecast_month_end(
        history, today=today, month_end=dt.date(2025, 3, 31), today_so_far=Decimal(1)
    )
    assert spend.projected == spend.forecast.expected
    assert spend.forecast.spent == Decimal(9)  # March before today
    assert spend.forecast.low <= spend.projected <= spend.forecast.high
