"""Costs: usage times the price table, daily, in integer pico-dollars."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from orgadmin.simulator.usage.families import DAY, FAMILIES, PICO
from orgadmin.simulator.usage.prices import (
    MIB,
    VECTOR_STORE_LINE_ITEM,
    VECTOR_STORE_PICO_MIB_HOUR,
    LineItem,
    line_items,
)

COST_DIMS = ("project_id", "line_item", "api_key_id")


class _CostSums:
    """Costs by bucket and group: `[pico-dollars, quantity, unit]`; the quantity and the unit
    only when grouped by line item (they add up within one line item only)."""

    def __init__(self, group_by: tuple[str, ...]) -> None:
        self.by_item = "line_item" in group_by
        self.picks = tuple(COST_DIMS.index(g) for g in group_by)
        self.out: dict[int, dict[tuple[Any, ...], list[Any]]] = {}

    def put(self, bucket: int, row: tuple[Any, ...], unit: str | None, qty: Any, pico: int) -> None:
        """Add one cost line; `row` is (project id, line item, key id)."""
        groups = self.out.get(bucket)
        if groups is None:
            groups = self.out[bucket] = {}
        group = tuple(row[i] for i in self.picks)
        slot = groups.get(group)
        if slot is None:
            by_item = self.by_item
            groups[group] = [pico, qty if by_item else None, unit if by_item else None]
        else:
            slot[0] += pico
            if self.by_item:
                slot[1] += qty


class CostLedger:
    """The cost side of `UsageEngine`, a mixin: it reads the engine's streams and days
    (`streams`, `_day`, `settled`, `accumulate`)."""

    def cost_groups(
        self,
        start: int,
        end: int,
        *,
        now: int,
        width: int | None,
        base: int,
        group_by: tuple[str, ...],
        filters: dict[str, Iterable[Any]],
    ) -> dict[int, dict[tuple[Any, ...], list[Any]]]:
        """Costs over `[start, end)` by daily bucket and group: `[pico-dollars, quantity, unit]`.

        `width` is one day (aligned on `base`) or None for a single bucket.
        """
        project_ids = set(filters["project_ids"]) if filters.get("project_ids") else None
        key_ids = set(filters["api_key_ids"]) if filters.get("api_key_ids") else None
        sums = _CostSums(group_by)
        stop = min(end, now + 1)
        days = range(start // DAY, (stop - 1) // DAY + 1) if stop > start else range(0)
        for family, fam in FAMILIES.items():
            if fam.gauge:
                self._gauge_costs(start, stop, days, width, base, project_ids, key_ids, sums.put)
                continue
            allowed = None
            if project_ids is not None or key_ids is not None:
                allowed = {
                    s.index
                    for s in self.streams[family]
                    if (project_ids is None or s.project_id in project_ids)
                    and (key_ids is None or s.key_id in key_ids)
                }
            for day in days:
                bucket = 0 if width is None else (day * DAY - base) // width
                self._day_costs(family, day, start, stop, now, allowed, bucket, sums.put)
        return sums.out

    def _day_costs(
        self,
        family: str,
        day: int,
        start: int,
        stop: int,
        now: int,
        allowed: set[int] | None,
        bucket: int,
        put: Callable[..., None],
    ) -> None:
        """One family's costs of one day within `[start, stop)`: whole days from the cached
        daily lines, the rest (a partial day, a stream cut off that day) from its usage."""
        fam = FAMILIES[family]
        streams = self.streams[family]
        day0, day1 = day * DAY, (day + 1) * DAY
        whole = start <= day0 and day1 <= stop and self.settled(day1, now)
        partial: set[int] = set()
        for index, rows in self._cost_rows(family, day):
            if allowed is not None and index not in allowed:
                continue
            stream = streams[index]
            if not whole or (stream.cutoff is not None and stream.cutoff < day1):
                partial.add(index)
                continue
            for name, unit, qty, pico in rows:
                put(bucket, (stream.project_id, name, stream.key_id), unit, qty, pico)
        if not partial:
            return
        sums = self.accumulate(
            family, max(start, day0), min(stop, day1), now=now, width=None, base=day0,
            group_idx=tuple(range(len(fam.dims))), allowed=partial,
        )  # fmt: skip
        project_at = fam.dims.index("project_id")
        key_at = fam.dims.index("api_key_id") if "api_key_id" in fam.dims else None
        for dims, leaves in sums.get(0, {}).items():
            key = None if key_at is None else dims[key_at]
            for item in self._items(family, dims):
                qty = sum([leaves[i] for i in item.leaves])
                if qty:
                    row = (dims[project_at], item.name, key)
                    put(bucket, row, item.unit, qty, qty * item.pico_per_unit)

    def _cost_rows(
        self, family: str, day: int
    ) -> list[tuple[int, tuple[tuple[str, str | None, int, int], ...]]]:
        """Each stream's whole-day cost lines: (name, unit, quantity, pico-dollars)."""
        data = self._day(family, day)
        if data.cost_rows is None:
            streams = self.streams[family]
            rows = []
            for index, leaves in data.values:
                lines = []
                for item in streams[index].items:
                    qty = _quantity(item.leaves)(leaves)
                    if qty:
                        lines.append((item.name, item.unit, qty, qty * item.pico_per_unit))
                if lines:
                    rows.append((index, tuple(lines)))
            data.cost_rows = rows
        return data.cost_rows

    def _items(self, family: str, dims: tuple[Any, ...]) -> tuple[LineItem, ...]:
        found = self._items_by_dims.get((family, dims))
        if found is None:
            fam = FAMILIES[family]
            found = line_items(family, dict(zip(fam.dims, dims, strict=True)))
            self._items_by_dims[(family, dims)] = found
        return found

    def _gauge_costs(
        self,
        start: int,
        stop: int,
        days: range,
        width: int | None,
        base: int,
        project_ids: set[str] | None,
        key_ids: set[str] | None,
        put: Callable[..., None],
    ) -> None:
        """Vector storage is billed per GiB-hour of each day's level, to the project."""
        if key_ids is not None:
            return  # storage is billed to the project, not to an API key
        streams = self.streams["vector_stores"]
        for day in days:
            day0 = day * DAY
            bucket = 0 if width is None else (day0 - base) // width
            for index, leaves in self._day("vector_stores", day).values:
                project = streams[index].dims[0]
                if project_ids is not None and project not in project_ids:
                    continue
                cutoff = streams[index].cutoff
                until = (
                    min(stop, day0 + DAY) if cutoff is None else min(stop, day0 + DAY, cutoff + 1)
                )
                hours = (until - max(start, day0)) // 3600
                if hours <= 0:
                    continue
                mib_hours = leaves[0] // MIB * hours
                row = (project, VECTOR_STORE_LINE_ITEM, None)
                put(
                    bucket,
                    row,
                    "gibibyte_hours",
                    mib_hours / 1024,
                    mib_hours * VECTOR_STORE_PICO_MIB_HOUR,
                )

    def cost_total(
        self, start: int, end: int, *, now: int, filters: dict[str, Iterable[Any]]
    ) -> Decimal:
        """The exact total cost over `[start, end)`, in dollars."""
        groups = self.cost_groups(
            start, end, now=now, width=None, base=start, group_by=(), filters=filters
        )
        pico = sum(slot[0] for bucket in groups.values() for slot in bucket.values())
        return Decimal(pico) / PICO


_QUANTITY: dict[tuple[int, ...], Callable[[tuple[int, ...]], int]] = {}


def _quantity(leaves: tuple[int, ...]) -> Callable[[tuple[int, ...]], int]:
    """A fast function summing the given leaf positions of a values tuple."""
    found = _QUANTITY.get(leaves)
    if found is None:
        if len(leaves) == 1:
            found = itemgetter(leaves[0])
        else:
            pick = itemgetter(*leaves)
            found = _QUANTITY[leaves] = lambda values: sum(pick(values))
        _QUANTITY[leaves] = found
    return found
