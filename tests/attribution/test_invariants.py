"""The acceptance invariants on the simulator's demo scenario, 90 days synced: derived prices
reproduce each line item's billed amount, and attribution plus the remainder equals the bill to
the cent (in fact to the pico-dollar) for every day, project and line item. Also the fixed number
of queries and the time it takes (printed: `pytest -s`)."""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.attribution.engine import DERIVED, PICO
from dashboard.attribution.lineitems import STRUCTURAL, item_key
from dashboard.attribution.pricetable import vendored_table
from dashboard.attribution.selectors import attributed_costs, attribution_of, cost_remainder
from dashboard.models import CostBucket
from tests.attribution.conftest import synced_days

CENT = Decimal("0.01")


@pytest.fixture
def quarter(org):
    return synced_days(org, 90)


@pytest.fixture
def month(org):
    return synced_days(org, 30)


def _billed(org, start, end) -> dict[tuple, Decimal]:
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, project, item, amount in CostBucket.objects.filter(
        org=org, day__gte=start, day__lt=end
    ).values_list("day", "project_id", "line_item", "amount"):
        out[(day, project, item)] += amount
    return out


@pytest.mark.django_db
def test_it_adds_attribution_and_remainder_up_to_the_bill_every_day_project_and_line_item(
    org, quarter
):
    start, end = quarter
    billed = _billed(org, start, end)
    explained: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in attributed_costs(org=org, start=start, end=end):
        explained[(row.day, row.project_id, row.line_item)] += row.amount
    for rest in cost_remainder(org=org, start=start, end=end):
        explained[(rest.day, rest.project_id, rest.line_item)] += rest.amount
    assert len({k[0] for k in billed}) == 90  # every day of the scenario has a bill
    assert set(explained) <= set(billed)
    for key, amount in billed.items():
        # Exact, so to the cent as well: no cent is lost to rounding anywhere.
        assert explained[key] == amount, key
        assert explained[key].quantize(CENT) == amount.quantize(CENT)
    by_day: dict = defaultdict(Decimal)
    for (day, _, _), amount in explained.items():
        by_day[day] += amount
    assert sum(by_day.values()) == sum(billed.values())


@pytest.mark.django_db
def test_it_derives_prices_that_reproduce_each_line_items_billed_amount(org, month):
    start, end = month
    prices = attribution_of(org=org, start=start, end=end).prices
    derived = [p for p in prices if p.source == DERIVED]
    # Every line item with a quantity is priced from the bill: all but vector storage (GiB-hours,
    # billed per project) in the demo.
    assert len(derived) >= len(prices) - 30
    for p in derived:
        assert (p.price * p.quantity).quantize(PICO) == p.amount, (p.day, p.line_item)


@pytest.mark.django_db
def test_it_derives_the_price_the_simulator_charged(org, month):
    """The simulator bills usage × its published price table, which the vendored table copies:
    the price derived from the bill is that price, batch and tier rates included."""
    start, end = month
    table = vendored_table()
    per_million = Decimal(10**6)
    checked = 0
    for p in attribution_of(org=org, start=start, end=end).prices:
        if p.source != DERIVED or p.unit != "tokens":
            continue
        published = table.lookup(item_key(p.line_item), p.day)
        assert published is not None, p.line_item
        assert p.price * per_million == published.usd, p.line_item
        checked += 1
    assert checked > 100


@pytest.mark.django_db
def test_it_explains_every_unattributed_dollar_of_the_demo_by_a_missing_dimension(org, month):
    """Usage and costs of the simulator agree, so what stays unattributed is only what has no
    user or key at all: code interpreter sessions and vector storage."""
    start, end = month
    reasons = {r.reason for r in cost_remainder(org=org, start=start, end=end)}
    assert reasons == set(STRUCTURAL.values())


@pytest.mark.django_db
def test_it_reads_a_fixed_number_of_queries_and_measures_the_time(org, quarter):
    start, end = quarter
    with CaptureQueriesContext(connection) as week:
        attribution_of(org=org, start=end.replace(day=1) if end.day > 7 else start, end=end)
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as ninety:
        result = attribution_of(org=org, start=start, end=end)
    seconds = time.perf_counter() - began
    # Costs, overrides, and one per usage family billed in the demo (7).
    assert len(ninety) == len(week) == 9
    print(f"\n90 days: {len(result.attributed)} attributed rows in {seconds:.2f} s")
