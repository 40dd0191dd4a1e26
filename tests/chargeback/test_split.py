"""Allocation splits shared cost exactly: whatever the amounts and the rule, the shares add up to
the shared amount to the cent, and the report's lines to the bill to the cent (no cent lost to
rounding). Property-based, over many random amounts, percentages and weights."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.chargeback import report as rp
from dashboard.chargeback.split import apportion, round_minor, split

CENTS = st.integers(min_value=-(10**9), max_value=10**9)
# An amount as the API gives it: up to 12 places (pico-dollars), credits included.
PICO = st.integers(min_value=-(10**15), max_value=10**16).map(lambda n: Decimal(n).scaleb(-12))


def _percents(n: int) -> st.SearchStrategy[list[Decimal]]:
    """n positive percents with two decimals that add up to exactly 100."""
    cuts = st.lists(st.integers(1, 9999), min_size=n - 1, max_size=n - 1, unique=True)

    def to_percents(points: list[int]) -> list[Decimal]:
        edges = [0, *sorted(points), 10000]
        return [Decimal(b - a).scaleb(-2) for a, b in itertools.pairwise(edges)]

    return cuts.map(to_percents)


@given(total=CENTS, percents=st.integers(1, 12).flatmap(_percents))
def test_it_splits_by_fixed_percentages_to_the_cent(total, percents):
    parts = split(total, percents)

    assert sum(parts) == total
    for part, percent in zip(parts, percents, strict=True):
        exact = Fraction(total) * Fraction(percent) / 100
        assert abs(part - exact) < 1  # each share within a cent of its exact share


@given(total=CENTS, weights=st.lists(st.integers(0, 10**12), min_size=1, max_size=20))
def test_it_splits_in_proportion_to_usage_to_the_cent(total, weights):
    if not any(weights):
        weights[0] = 1
    parts = split(total, weights)

    assert sum(parts) == total
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)


@given(amounts=st.lists(PICO, min_size=1, max_size=30))
def test_lines_rounded_against_the_rounded_total_lose_nothing(amounts):
    total = round_minor(sum(amounts, Decimal(0)), "usd")
    exact = [Fraction(a) * 100 for a in amounts]

    parts = apportion(total, exact)

    assert sum(parts) == total
    assert all(abs(p - x) < 1 for p, x in zip(parts, exact, strict=True))


def test_it_refuses_a_total_that_is_not_the_items():
    with pytest.raises(ValueError, match="cannot apportion 500 over 2 items"):
        apportion(500, [Fraction(1), Fraction(2)])
    with pytest.raises(ValueError, match="can't all be zero"):
        split(100, [0, 0])


# --- the report's lines ------------------------------------------------------------------------

LINE = st.builds(
    rp.CostLine,
    project_id=st.sampled_from(["proj_a", "proj_b", "proj_default", ""]),
    api_key_id=st.sampled_from(["key_1", "key_2", "key_3", ""]),
    user_id=st.sampled_from(["user-1", "user-2", ""]),
    basis=st.sampled_from(["attributed", "billed", "remainder"]),
    amount=PICO,
    currency=st.just("usd"),
)


def _setup(percents: list[Decimal], method: str) -> rp.Setup:
    centres = {i: rp.Centre(i, f"Centre {i}") for i in range(1, len(percents) + 1)}
    shares = tuple(
        (i, p if method == "fixed" else None) for i, p in zip(centres, percents, strict=False)
    )
    return rp.Setup(
        centres=centres,
        by_key={"key_1": 1},
        by_user={"user-2": len(centres)},
        by_project={"proj_a": 1},
        project_rules={"proj_default": rp.Rule(1, "Default", method, shares, "proj_default")},
        remainder_rule=rp.Rule(2, "Remainder", "usage", ()),
    )


@given(
    costs=st.lists(LINE, min_size=1, max_size=40),
    percents=st.integers(1, 6).flatmap(_percents),
    method=st.sampled_from(["fixed", "usage"]),
)
def test_every_line_adds_up_to_the_bill_and_every_pool_is_split_exactly(costs, percents, method):
    lines = rp.build_lines(
        costs=costs,
        revisions=[],
        revision_totals={},
        setup=_setup(percents, method),
        names={},
    )

    bill = round_minor(sum((c.amount for c in costs), Decimal(0)), "usd")
    assert round_minor(sum((line.amount for line in lines), Decimal(0)), "usd") == bill
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in lines)
    # Each pool's shares add up to what the pool's own cost lines come to, to the cent.
    for name, project in (("Default", "proj_default"), ("Remainder", None)):
        shared = sum((x.amount for x in lines if x.rule == name), Decimal(0))
        pooled = [
            c for c in costs if _pool_of(c, project) and c.api_key_id != "key_1"
            and c.user_id != "user-2"
        ]  # fmt: skip
        if not pooled:
            assert shared == 0
        assert abs(shared - sum((c.amount for c in pooled), Decimal(0))) <= Decimal("0.01") * len(
            pooled
        )


def _pool_of(cost: rp.CostLine, project: str | None) -> bool:
    if project is not None:
        return cost.project_id == project
    return cost.basis == "remainder" and cost.project_id not in ("proj_a", "proj_default")
