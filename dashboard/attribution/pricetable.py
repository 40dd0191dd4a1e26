"""The fallback prices: the vendored table (data/prices.toml, versioned, with effective days)
and an organization's overrides over it. Pure apart from reading the file once."""

from __future__ import annotations

import datetime as dt
import tomllib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from dashboard.attribution.lineitems import ItemKey, item_key
from dashboard.attribution.models import PER_UNITS

TABLE_PATH = Path(__file__).parent / "data" / "prices.toml"
_RESERVED = ("name", "from", "per")


@dataclass(frozen=True)
class TablePrice:
    """A price from the table or an override: US dollars per `per` from `effective_from`."""

    usd: Decimal
    per: str
    effective_from: dt.date
    origin: str  # "table <version>" or "override"

    @property
    def per_metric_unit(self) -> Decimal:
        """Dollars per one unit of the usage metric (a token, an image, a second, a call)."""
        return self.usd / PER_UNITS[self.per]


@dataclass(frozen=True)
class PriceTable:
    version: str
    qualifiers: dict[str, Decimal]
    # (name, kind) → entries sorted by their first day
    entries: dict[tuple[str, str], list[TablePrice]]

    def lookup(self, key: ItemKey, day: dt.date) -> TablePrice | None:
        """The table's price of a line item on a day (times its qualifier's multiplier)."""
        found = _on(self.entries.get((key.name, key.kind), []), day)
        if found is None:
            return None
        if not key.qualifier:
            return found
        multiplier = self.qualifiers.get(key.qualifier)
        if multiplier is None:
            return None
        return TablePrice(found.usd * multiplier, found.per, found.effective_from, found.origin)


def _on(entries: list[TablePrice], day: dt.date) -> TablePrice | None:
    at = bisect_right([e.effective_from for e in entries], day)
    return entries[at - 1] if at else None


def parse_table(text: str) -> PriceTable:
    """A price table from its TOML text (see data/prices.toml)."""
    data = tomllib.loads(text)
    version = str(data["version"])
    entries: dict[tuple[str, str], list[TablePrice]] = {}
    for entry in data.get("prices", []):
        per = entry["per"]
        if per not in PER_UNITS:
            raise ValueError(f"{entry['name']}: unknown unit {per!r}")
        for kind, usd in entry.items():
            if kind in _RESERVED:
                continue
            price = TablePrice(Decimal(usd), per, entry["from"], f"table {version}")
            entries.setdefault((entry["name"], "" if kind == "price" else kind), []).append(price)
    for found in entries.values():
        found.sort(key=lambda e: e.effective_from)
    qualifiers = {q: Decimal(m) for q, m in data.get("qualifiers", {}).items()}
    return PriceTable(version=version, qualifiers=qualifiers, entries=entries)


@cache
def vendored_table() -> PriceTable:
    return parse_table(TABLE_PATH.read_text(encoding="utf-8"))


class Prices:
    """The fallback price of a line item on a day: an override of the organization, else the
    table's."""

    def __init__(self, table: PriceTable, overrides: Iterable) -> None:
        self.table = table
        self.overrides: dict[ItemKey, list[TablePrice]] = {}
        for o in overrides:
            price = TablePrice(o.usd, o.per, o.effective_from, "override")
            self.overrides.setdefault(item_key(o.line_item), []).append(price)
        for found in self.overrides.values():
            found.sort(key=lambda e: e.effective_from)

    def lookup(self, key: ItemKey, day: dt.date) -> TablePrice | None:
        return _on(self.overrides.get(key, []), day) or self.table.lookup(key, day)
