"""Attribution itself: each billed cell (a CostBucket: day, line item, project, key) split over
the usage rows that it bills, at the unit price the bill charged. Pure: no Django, no queries.

Money stays exact. Amounts keep the cost rows' 12 places (pico-dollars), never a float:

- where the usage synced for a cell adds up to the billed quantity, the cell's amount is split
  over its usage rows in proportion to their quantities, in whole pico-dollars, by largest
  remainder (`split`): the shares add up to the billed amount exactly, and each is its usage ×
  the cell's unit price to within a pico-dollar;
- elsewhere each row is its usage × the unit price, rounded half-even to the pico-dollar, and
  the cell's remainder is what the bill says minus their sum, exactly, with its reason.

So per cell, and therefore per day, project and line item, attributed + remainder == billed to
the pico-dollar; pages round only what they show, to the cent, from these exact sums.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from dashboard.attribution.lineitems import (
    UNIT_FACTORS,
    ItemKey,
    families_billing,
    item_key,
    structural_reason,
)
from dashboard.attribution.pricetable import Prices
from dashboard.families import line_item_parts

PICO = Decimal("1e-12")
QUANTITY = Decimal("1e-6")  # CostBucket.quantity's places

BILLED, ATTRIBUTED = "billed", "attributed"
DERIVED, TABLE = "derived", "table"

# Why part of a cell stays unattributed (besides lineitems.STRUCTURAL).
NO_USAGE = "no usage synced for this line item"
LESS_USAGE = "less usage synced than billed"
MORE_USAGE = "more usage synced than billed (the bill lags the usage)"
TABLE_DIFFERS = "price from the table differs from the bill"
NO_PRICE = "no price: the bill gives no quantity and the price table has none"
UNMAPPED = "no usage family bills this line item"


@dataclass(frozen=True)
class AttributedCost:
    day: dt.date
    project_id: str
    api_key_id: str
    user_id: str
    model: str
    service_tier: str
    line_item: str
    amount: Decimal
    currency: str
    basis: str  # "billed" | "attributed"
    price_source: str  # "derived" | "table"


@dataclass(frozen=True)
class Remainder:
    day: dt.date
    project_id: str
    api_key_id: str
    line_item: str
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True)
class Cell:
    """One cost row as billed."""

    day: dt.date
    line_item: str
    project_id: str
    api_key_id: str
    amount: Decimal
    currency: str
    quantity: Decimal | None
    quantity_unit: str


@dataclass(frozen=True)
class Use:
    """One daily usage row's quantity of a line item, in the usage metric's unit."""

    project_id: str
    api_key_id: str
    user_id: str
    model: str
    service_tier: str
    quantity: int


@dataclass(frozen=True)
class UnitPrice:
    """A line item's unit price on a day: derived from the bill (amount ÷ quantity over its
    cells), or the fallback's when the bill gives no quantity."""

    day: dt.date
    line_item: str
    currency: str
    unit: str
    amount: Decimal
    quantity: Decimal | None
    price: Decimal | None  # per `unit` (derived) or per `per` (table)
    per: str
    source: str  # "derived" | "table" | "" (none)
    origin: str  # "the bill", "table <version>", "override"


@dataclass
class Attribution:
    attributed: list[AttributedCost] = field(default_factory=list)
    remainders: list[Remainder] = field(default_factory=list)
    prices: list[UnitPrice] = field(default_factory=list)


def split(total: Decimal, weights: list[int]) -> list[Decimal]:
    """`total` (12 places) in shares proportional to `weights`, in whole pico-dollars, adding up
    to it exactly: each share is floored, and the pico-dollars left go one each to the largest
    fractions (ties to the first)."""
    if len(weights) == 1:
        return [total]
    units = int(total.scaleb(12))
    whole = sum(weights)
    floors = [units * w // whole for w in weights]
    fractions = [units * w % whole for w in weights]
    left = units - sum(floors)
    for i in sorted(range(len(weights)), key=lambda i: -fractions[i])[:left]:
        floors[i] += 1
    return [Decimal(f).scaleb(-12) for f in floors]


def _pico(value: Decimal) -> Decimal:
    return value.quantize(PICO, rounding=ROUND_HALF_EVEN)


def billed_only(cells: Iterable[Cell]) -> Attribution:
    """A connection without token usage (xAI): its cost rows are already per key and model."""
    out = Attribution()
    for c in cells:
        out.attributed.append(
            AttributedCost(
                c.day,
                c.project_id,
                c.api_key_id,
                "",
                line_item_parts(c.line_item).model,
                "",
                c.line_item,
                c.amount,
                c.currency,
                BILLED,
                DERIVED,
            )
        )
    return out


def attribute(
    *, cells: list[Cell], usage: dict[tuple[dt.date, ItemKey], list[Use]], prices: Prices
) -> Attribution:
    """Every cell's share per usage row, and what stays unattributed, with why."""
    out = Attribution()
    groups: dict[tuple[dt.date, ItemKey], list[Cell]] = defaultdict(list)
    for cell in cells:
        groups[(cell.day, item_key(cell.line_item))].append(cell)
    for (day, key), group in groups.items():
        assigned = _assign(group, usage.get((day, key), []))
        for cell in group:
            _attribute_cell(cell, key, assigned.get(id(cell), []), prices, out)
    out.prices = _unit_prices(groups, prices)
    return out


def _assign(cells: list[Cell], uses: list[Use]) -> dict[int, list[Use]]:
    """Each usage row to the cell that bills it: its own project and key, else its project's
    cell without a key, its key's without a project, the one with neither (a cost row the API
    gave without that grouping). A row no cell bills is left out (not billed yet)."""
    where: dict[tuple[str, str], Cell] = {}
    for cell in cells:
        where.setdefault((cell.project_id, cell.api_key_id), cell)
    out: dict[int, list[Use]] = defaultdict(list)
    for use in uses:
        p, k = use.project_id, use.api_key_id
        for at in ((p, k), (p, ""), ("", k), ("", "")):
            cell = where.get(at)
            if cell is not None:
                out[id(cell)].append(use)
                break
    return out


def _attribute_cell(
    cell: Cell, key: ItemKey, uses: list[Use], prices: Prices, out: Attribution
) -> None:
    uses = [u for u in uses if u.quantity]
    reason = structural_reason(cell.line_item)
    if reason is None and not uses:
        reason = NO_USAGE if families_billing({key}) else UNMAPPED
    if reason is not None:
        _remain(cell, cell.amount, reason, out)
        return
    factor = UNIT_FACTORS.get(cell.quantity_unit)
    if cell.quantity and factor is not None:
        used = sum(u.quantity for u in uses)
        if _pico(used * factor).quantize(QUANTITY) == cell.quantity:
            amounts = split(cell.amount, [u.quantity for u in uses])
        else:
            price = cell.amount / cell.quantity * factor
            amounts = [_pico(u.quantity * price) for u in uses]
            reason = LESS_USAGE if used * factor < cell.quantity else MORE_USAGE
        source = DERIVED
    else:
        found = prices.lookup(key, cell.day)
        if found is None:
            _remain(cell, cell.amount, NO_PRICE, out)
            return
        amounts = [_pico(u.quantity * found.per_metric_unit) for u in uses]
        reason, source = TABLE_DIFFERS, TABLE
    for use, amount in zip(uses, amounts, strict=True):
        if amount:
            out.attributed.append(_row(cell, use, amount, source))
    left = cell.amount - sum(amounts, Decimal(0))
    if left:
        _remain(cell, left, reason or LESS_USAGE, out)


def _row(cell: Cell, use: Use, amount: Decimal, source: str) -> AttributedCost:
    return AttributedCost(
        day=cell.day,
        project_id=use.project_id,
        api_key_id=use.api_key_id,
        user_id=use.user_id,
        model=use.model or line_item_parts(cell.line_item).model,
        service_tier=use.service_tier,
        line_item=cell.line_item,
        amount=amount,
        currency=cell.currency,
        basis=ATTRIBUTED,
        price_source=source,
    )


def _remain(cell: Cell, amount: Decimal, reason: str, out: Attribution) -> None:
    if amount:
        out.remainders.append(
            Remainder(
                cell.day,
                cell.project_id,
                cell.api_key_id,
                cell.line_item,
                amount,
                cell.currency,
                reason,
            )
        )


def _unit_prices(
    groups: dict[tuple[dt.date, ItemKey], list[Cell]], prices: Prices
) -> list[UnitPrice]:
    """Per day, line item and currency: amount ÷ quantity over its cells, or the fallback."""
    sums: dict[tuple[dt.date, str, str, str], list] = {}
    keys: dict[str, ItemKey] = {}
    for (_day, key), cells in groups.items():
        for c in cells:
            keys[c.line_item] = key
            slot = sums.setdefault((c.day, c.line_item, c.currency, c.quantity_unit), [0, 0])
            slot[0] += c.amount
            slot[1] = (
                slot[1] + c.quantity if c.quantity is not None and slot[1] is not None else None
            )
    out = []
    for (day, item, currency, unit), (amount, quantity) in sorted(sums.items()):
        if quantity and unit in UNIT_FACTORS:
            price = amount / quantity
            out.append(
                UnitPrice(
                    day,
                    item,
                    currency,
                    unit,
                    amount,
                    quantity,
                    price,
                    unit or "unit",
                    DERIVED,
                    "the bill",
                )
            )
            continue
        found = None if structural_reason(item) else prices.lookup(keys[item], day)
        out.append(
            UnitPrice(
                day,
                item,
                currency,
                unit,
                amount,
                quantity,
                found.usd if found else None,
                found.per if found else "",
                TABLE if found else "",
                found.origin if found else "",
            )
        )
    return out
