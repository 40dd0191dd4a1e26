"""Splitting money to the cent with nothing lost: the largest-remainder method. Pure Python.

Every amount here is an integer count of the currency's minor unit (cents for US dollars).
`apportion(total, exact)` gives each item the whole cents below its exact amount, then hands
the cents still missing from `total`, one each, to the items with the largest fractions
(earlier items first on a tie), so the parts always sum to `total` exactly. `split(total,
weights)` is the same with each item's exact amount `total × weight ÷ Σ weights`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# Digits after the point of each currency's minor unit (ISO 4217); 2 when not listed. The same
# table as the exports' (dashboard.exports.CURRENCY_PLACES), which this pure module can't import.
CURRENCY_PLACES = {"jpy": 0, "krw": 0, "vnd": 0, "clp": 0, "isk": 0, "bhd": 3, "kwd": 3, "jod": 3}


def places(currency: str) -> int:
    return CURRENCY_PLACES.get(currency.lower(), 2)


def to_minor(amount: Decimal, currency: str) -> Fraction:
    """An exact amount in minor units (a fraction: nothing rounded yet)."""
    return Fraction(amount) * 10 ** places(currency)


def round_minor(amount: Decimal, currency: str) -> int:
    """An amount rounded half up to the minor unit, as an integer count of it."""
    unit = Decimal(1).scaleb(-places(currency))
    return int(amount.quantize(unit, rounding=ROUND_HALF_UP).scaleb(places(currency)))


def from_minor(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-places(currency))


def apportion(total: int, exact: Sequence[Fraction]) -> list[int]:
    """Whole units per item summing to `total`, each within one unit of its exact amount.

    `total` must be within one unit per item of sum(exact) (e.g. the sum rounded): anything
    further off is a bug upstream, refused with a ValueError rather than hidden."""
    floors = [math.floor(x) for x in exact]
    missing = total - sum(floors)
    if not 0 <= missing <= len(exact):
        raise ValueError(
            f"cannot apportion {total} over {len(exact)} items summing to {sum(exact)}"
        )
    by_fraction = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_fraction[:missing]:
        floors[i] += 1
    return floors


def split(total: int, weights: Sequence[Fraction | Decimal | int]) -> list[int]:
    """`total` units split in proportion to `weights` (≥ 0, not all 0), summing to `total`."""
    if any(w < 0 for w in weights):
        raise ValueError("weights can't be negative")
    whole = sum(Fraction(w) for w in weights)
    if not whole:
        raise ValueError("weights can't all be zero")
    return apportion(total, [Fraction(total) * Fraction(w) / whole for w in weights])
