"""Attribution cell by cell, on cost rows and usage made by hand: the exact split, the fallback
to the price table and an Admin's override, and each reason for a remainder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.attribution.engine import (
    DERIVED,
    LESS_USAGE,
    MORE_USAGE,
    NO_PRICE,
    NO_USAGE,
    TABLE,
    TABLE_DIFFERS,
    UNMAPPED,
    Cell,
    Use,
    attribute,
    split,
)
from dashboard.attribution.lineitems import STRUCTURAL, item_key
from dashboard.attribution.pricetable import Prices, parse_table, vendored_table

DAY = dt.date(2025, 6, 2)
TABLE_TEXT = """
version = "test-1"
[qualifiers]
batch = "0.5"
[[prices]]
name = "gpt-4o"
from = 2025-01-01
per = "1M tokens"
input = "2.5"
[[prices]]
name = "gpt-4o"
from = 2025-06-01
per = "1M tokens"
input = "2"
"""


def cell(item="gpt-4o, input", amount="10", quantity="4000000", unit="tokens", key="key_a"):
    q = None if quantity is None else Decimal(quantity)
    return Cell(DAY, item, "proj_a", key, Decimal(amount), "usd", q, unit if q else "")


def use(user, quantity, key="key_a"):
    return Use("proj_a", key, user, "gpt-4o", "default", quantity)


def run(cells, uses, overrides=(), table=None):
    usage = {(DAY, item_key(cells[0].line_item)): uses}
    prices = Prices(table or parse_table(TABLE_TEXT), overrides)
    return attribute(cells=cells, usage=usage, prices=prices)


@given(
    total=st.integers(min_value=-(10**15), max_value=10**15),
    weights=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30),
)
def test_it_splits_an_amount_exactly_in_proportion(total, weights):
    amount = Decimal(total).scaleb(-12)
    shares = split(amount, weights)
    assert sum(shares) == amount
    whole = sum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert abs(share - amount * w / whole) < Decimal("1e-12")


def test_it_gives_each_person_their_usage_at_the_billed_price():
    out = run([cell(amount="10", quantity="4000000")], [use("u1", 3_000_000), use("u2", 1_000_000)])
    amounts = {r.user_id: r.amount for r in out.attributed}
    assert amounts == {"u1": Decimal("7.5"), "u2": Decimal("2.5")}
    assert {r.price_source for r in out.attributed} == {DERIVED}
    assert {r.basis for r in out.attributed} == {"attributed"}
    assert out.remainders == []


def test_it_falls_back_to_the_table_price_in_effect_that_day_when_the_bill_has_no_quantity():
    out = run([cell(amount="2.10", quantity=None)], [use("u1", 1_000_000)])
    # The table's June price (2), not January's (2.5).
    assert [(r.amount, r.price_source) for r in out.attributed] == [(Decimal("2"), TABLE)]
    [rest] = out.remainders
    assert (rest.amount, rest.reason) == (Decimal("0.10"), TABLE_DIFFERS)
    assert out.prices[0].source == TABLE
    assert out.prices[0].price == Decimal("2")


def test_it_applies_the_qualifiers_multiplier_to_the_table_price():
    out = run([cell(item="gpt-4o, input (batch)", amount="1", quantity=None)], [use("u1", 10**6)])
    assert out.attributed[0].amount == Decimal("1")
    assert out.remainders == []


def test_it_prefers_an_admins_override_from_its_day_on():
    class Override:
        line_item, usd, per, effective_from = "gpt-4o, input", Decimal("3"), "1M tokens", DAY

    out = run([cell(amount="3", quantity=None)], [use("u1", 10**6)], overrides=[Override()])
    assert out.attributed[0].amount == Decimal("3")
    assert out.prices[0].origin == "override"
    assert out.remainders == []


def test_it_says_why_a_cell_stays_unattributed():
    cases = [
        (cell(), [], NO_USAGE),
        (cell(amount="10", quantity="4000000"), [use("u1", 2_000_000)], LESS_USAGE),
        (cell(amount="10", quantity="4000000"), [use("u1", 5_000_000)], MORE_USAGE),
        (cell(item="fine-tuning training, hours", quantity=None), [], UNMAPPED),
        (cell(item="gpt-9, input", quantity=None), [use("u1", 5)], NO_PRICE),
        (cell(item="code interpreter sessions", quantity="10", unit=""), [],
         STRUCTURAL["code interpreter sessions"]),
    ]  # fmt: skip
    for billed, uses, reason in cases:
        out = run([billed], uses)
        assert [r.reason for r in out.remainders] == [reason], billed.line_item
        assert sum(r.amount for r in out.attributed) + out.remainders[0].amount == billed.amount


def test_it_bills_a_keys_usage_to_the_projects_cell_without_a_key():
    """A cost row without a key (the API refused that grouping) bills every key's usage of its
    project; a key with a cell of its own keeps to it."""
    own, rest = cell(amount="1", quantity="1000000"), cell(amount="3", quantity="3000000", key="")
    out = attribute(
        cells=[own, rest],
        usage={(DAY, item_key(own.line_item)): [use("u1", 10**6), use("u2", 3 * 10**6, "key_b")]},
        prices=Prices(parse_table(TABLE_TEXT), []),
    )
    assert {(r.api_key_id, r.amount) for r in out.attributed} == {
        ("key_a", Decimal("1")),
        ("key_b", Decimal("3")),
    }
    assert out.remainders == []


def test_it_reads_the_vendored_table():
    table = vendored_table()
    price = table.lookup(item_key("gpt-4.1-2025-04-14, output (batch)"), DAY)
    assert price is not None
    assert price.usd == Decimal("4")
    assert price.per == "1M tokens"
    assert table.lookup(item_key("web search tool calls, high context"), DAY).usd == Decimal("30")


@pytest.mark.parametrize(
    ("text", "name", "kind", "qualifier"),
    [
        ("gpt-4.1-2025-04-14, cached input (batch)", "gpt-4.1-2025-04-14", "cached input", "batch"),
        ("gpt-4o, input (priority)", "gpt-4o", "input", "priority"),
        ("dall-e-3, 1024x1024", "dall-e-3", "1024x1024", ""),
        ("web search tool calls, low context", "web search tool calls", "low context", ""),
        ("file search tool calls", "file search tool calls", "", ""),
        ("gpt-4.1 input", "gpt-4.1", "input", ""),
    ],
)
def test_it_reads_a_line_item_as_the_usage_it_bills(text, name, kind, qualifier):
    assert item_key(text) == item_key(text)
    key = item_key(text)
    assert (key.name, key.kind, key.qualifier) == (name, kind, qualifier)
