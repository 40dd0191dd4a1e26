"""Usage and costs endpoints (pagination style C: `page` / `next_page`)."""

from __future__ import annotations

import json
from typing import Any

from orgadmin.simulator.errors import invalid
from orgadmin.simulator.params import Param, q_array, q_bool, q_enum, q_int, q_str
from orgadmin.simulator.routing import Ctx, RawJSON, route
from orgadmin.simulator.usage import (
    COST_LIMIT,
    FAMILIES,
    LIMITS,
    PICO,
    WIDTHS,
    Family,
    decode_page,
    encode_page,
    sort_key,
)

COST_DIMS = ("project_id", "line_item", "api_key_id")
_FILTER_ENUMS = {
    "sources": ("image.generation", "image.edit", "image.variation"),
    "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
    "context_levels": ("low", "medium", "high"),
}


def _usage_query(family: Family) -> tuple[Param, ...]:
    filters: list[Param] = []
    for name, _dim in family.filters:
        if name == "batch":
            filters.append(q_bool("batch"))
        else:
            filters.append(q_array(name, enum=_FILTER_ENUMS.get(name)))
    return (
        q_int("start_time", required=True),
        q_int("end_time"),
        q_enum("bucket_width", ("1m", "1h", "1d"), default="1d"),
        *filters,
        q_array("group_by", enum=family.group_by),
        q_int("limit"),
        q_str("page"),
    )


def _window(ctx: Ctx, width: int, limit: int) -> tuple[int, int, list[int], int | None]:
    """The query's window and this page's bucket starts; also the next page's first bucket."""
    q = ctx.query
    start, end = q["start_time"], q["end_time"]
    if start < 0:
        raise invalid("start_time", f"Invalid 'start_time': {start}. It must be a Unix time.")
    if end is not None and end <= start:
        raise invalid("end_time", "Invalid 'end_time': it must be later than 'start_time'.")
    stop = min(end if end is not None else ctx.now + 1, ctx.now + 1)
    first = start - start % width
    cursor = first if q["page"] is None else decode_page(q["page"], start=start, width=width)
    buckets = []
    b = cursor
    while b < stop and len(buckets) < limit:
        buckets.append(b)
        b += width
    following = b if b < stop and buckets else None
    return start, (end if end is not None else ctx.now + 1), buckets, following


def _page_json(data: list[dict[str, Any]], following: int | None, start: int) -> RawJSON:
    page = {
        "object": "page",
        "data": data,
        "has_more": following is not None,
        "next_page": encode_page(following, start) if following is not None else None,
    }
    return RawJSON(json.dumps(page, separators=(",", ":")).encode())


def _limit(ctx: Ctx, default: int, maximum: int) -> int:
    limit = ctx.query["limit"]
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise invalid("limit", f"Invalid 'limit': {limit}. It must be between 1 and {maximum}.")
    return limit


def _usage_handler(family: Family) -> Any:
    def handle(ctx: Ctx) -> RawJSON:
        q = ctx.query
        width_name = q["bucket_width"]
        width = WIDTHS[width_name]
        limit = _limit(ctx, *LIMITS[width_name])
        start, end, buckets, following = _window(ctx, width, limit)
        engine = ctx.store.usage
        group_by = [d for d in family.dims if d in set(q["group_by"] or ())]
        group_idx = tuple(family.dims.index(d) for d in group_by)
        filters = {p: q[p] for p, _ in family.filters if q[p] is not None}
        sums: dict[int, dict[tuple[Any, ...], list[int]]] = {}
        if buckets:
            base = start - start % width
            sums = engine.accumulate(
                family.name,
                max(start, buckets[0]),
                min(end, buckets[-1] + width),
                now=ctx.now,
                width=width,
                base=base,
                group_idx=group_idx,
                allowed=engine._allowed(family.name, filters),
            )
        data = []
        for b in buckets:
            groups = sums.get((b - (start - start % width)) // width, {})
            results = []
            for group in sorted(groups, key=sort_key):
                result: dict[str, Any] = {"object": family.result_object}
                result.update(family.derive(groups[group]))
                named = dict(zip(group_by, group, strict=True))
                for dim in family.dims:
                    result[dim] = named.get(dim)
                results.append(result)
            data.append(
                {"object": "bucket", "start_time": b, "end_time": b + width, "results": results}
            )
        return _page_json(data, following, start)

    handle.__name__ = f"usage_{family.name}"
    return handle


for _family in FAMILIES.values():
    route(
        "GET",
        _family.path,
        "usage-" + _family.name.replace("_", "-"),
        query=_usage_query(_family),
        locked=False,
    )(_usage_handler(_family))


@route(
    "GET",
    "/organization/costs",
    "usage-costs",
    query=(
        q_int("start_time", required=True),
        q_int("end_time"),
        q_enum("bucket_width", ("1d",), default="1d"),
        q_array("project_ids"),
        q_array("api_key_ids"),
        q_array("group_by", enum=COST_DIMS),
        q_int("limit", default=COST_LIMIT[0], minimum=1, maximum=COST_LIMIT[1]),
        q_str("page"),
    ),
    locked=False,
)
def costs(ctx: Ctx) -> RawJSON:
    q = ctx.query
    width = WIDTHS["1d"]
    start, end, buckets, following = _window(ctx, width, q["limit"])
    group_by = tuple(d for d in COST_DIMS if d in set(q["group_by"] or ()))
    filters = {p: q[p] for p in ("project_ids", "api_key_ids") if q[p]}
    base = start - start % width
    sums: dict[int, dict[tuple[Any, ...], list[Any]]] = {}
    if buckets:
        sums = ctx.store.usage.cost_groups(
            max(start, buckets[0]),
            min(end, buckets[-1] + width),
            now=ctx.now,
            width=width,
            base=base,
            group_by=group_by,
            filters=filters,
        )
    data = []
    for b in buckets:
        groups = sums.get((b - base) // width, {})
        results = []
        for group in sorted(groups, key=sort_key):
            pico, quantity, unit = groups[group]
            named = dict(zip(group_by, group, strict=True))
            results.append(
                {
                    "object": "organization.costs.result",
                    "amount": {"value": pico / PICO, "currency": "usd"},
                    "line_item": named.get("line_item"),
                    "project_id": named.get("project_id"),
                    "api_key_id": named.get("api_key_id"),
                    "quantity": quantity,
                    "quantity_unit": unit,
                }
            )
        data.append(
            {"object": "bucket", "start_time": b, "end_time": b + width, "results": results}
        )
    return _page_json(data, following, start)
