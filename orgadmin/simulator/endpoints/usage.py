"""Usage and costs endpoints (pagination style C: `page` / `next_page`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from orgadmin.simulator.errors import invalid
from orgadmin.simulator.params import Param, q_array, q_bool, q_enum, q_int, q_str
from orgadmin.simulator.routing import Ctx, RawJSON, route
from orgadmin.simulator.usage.costs import COST_DIMS
from orgadmin.simulator.usage.families import COST_LIMIT, FAMILIES, LIMITS, PICO, WIDTHS, Family
from orgadmin.simulator.usage.query import decode_page, encode_page, sort_key

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


def _base(ctx: Ctx, width: int) -> int:
    """Where the query's buckets start: aligned to the width (the spec's reading), or, as the
    live API does, at `start_time` truncated to the minute."""
    start = ctx.query["start_time"]
    return start - start % 60 if ctx.store.quirks.live_buckets else start - start % width


def _window(ctx: Ctx, width: int, limit: int) -> tuple[int, int, list[int], int | None]:
    """The query's window and this page's bucket starts; also the next page's first bucket."""
    q = ctx.query
    start, end = q["start_time"], q["end_time"]
    if start < 0:
        raise invalid("start_time", f"Invalid 'start_time': {start}. It must be a Unix time.")
    if end is not None and end <= start:
        raise invalid("end_time", "Invalid 'end_time': it must be later than 'start_time'.")
    stop = min(end if end is not None else ctx.now + 1, ctx.now + 1)
    first = _base(ctx, width)
    cursor = (
        first if q["page"] is None else decode_page(q["page"], start=start, width=width, base=first)
    )
    buckets = []
    b = cursor
    while b < stop and len(buckets) < limit:
        buckets.append(b)
        b += width
    following = b if b < stop and buckets else None
    return start, (end if end is not None else ctx.now + 1), buckets, following


def _page_json(parts: list[str], following: int | None, start: int) -> RawJSON:
    """The page envelope around already serialised buckets."""
    next_page = json.dumps(encode_page(following, start)) if following is not None else "null"
    has_more = "true" if following is not None else "false"
    body = f'{{"object":"page","data":[{",".join(parts)}],"has_more":{has_more},"next_page":{next_page}}}'  # noqa: E501
    return RawJSON(body.encode())


def _bucket_json(start: int, width: int, results: list[dict[str, Any]], now: int) -> str:
    bucket = {
        "object": "bucket",
        "start_time": start,
        # The live API ends the open bucket at "now" (with `live_buckets`; see _buckets).
        "end_time": min(start + width, now) if now else start + width,
        "results": results,
    }
    return json.dumps(bucket, separators=(",", ":"))


def _buckets(
    ctx: Ctx,
    kind: str,
    buckets: list[int],
    width: int,
    start: int,
    end: int,
    variant: tuple[Any, ...],
    compute: Any,
) -> list[str]:
    """Each bucket's JSON: complete past buckets come from the cache, the rest are computed.

    `compute(lo, hi)` returns {bucket start: [result dicts]} for the buckets in `[lo, hi)`.
    """
    engine = ctx.store.usage
    cache = engine.bucket_cache
    open_end = ctx.now if ctx.store.quirks.live_buckets else 0

    def cacheable(b: int) -> bool:
        # Only a closed bucket that no late report can still change.
        return start <= b and b + width <= end and engine.settled(b + width, ctx.now)

    parts: dict[int, str] = {}
    missing = []
    for b in buckets:
        found = cache.get((kind, b, width, variant)) if cacheable(b) else None
        if found is None:
            missing.append(b)
        else:
            parts[b] = found
    if missing:
        computed = compute(max(start, missing[0]), min(end, missing[-1] + width))
        for b in missing:
            parts[b] = _bucket_json(b, width, computed.get(b, []), open_end)
            if cacheable(b):
                cache.put((kind, b, width, variant), parts[b])
    return [parts[b] for b in buckets]


def _variant(q: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    """What besides the bucket decides its content: group_by and filters."""
    out = []
    for name in names:
        value = q.get(name)
        out.append(tuple(sorted(set(value))) if isinstance(value, list) else value)
    return tuple(out)


def _limit(ctx: Ctx, default: int, maximum: int) -> int:
    limit = ctx.query["limit"]
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise invalid("limit", f"Invalid 'limit': {limit}. It must be between 1 and {maximum}.")
    return limit


def _usage_handler(family: Family) -> Any:
    filter_names = tuple(p for p, _ in family.filters)

    def handle(ctx: Ctx) -> RawJSON:
        q = ctx.query
        width_name = q["bucket_width"]
        width = WIDTHS[width_name]
        limit = _limit(ctx, *LIMITS[width_name])
        start, end, buckets, following = _window(ctx, width, limit)
        engine = ctx.store.usage
        group_by = [d for d in family.dims if d in set(q["group_by"] or ())]
        group_idx = tuple(family.dims.index(d) for d in group_by)
        filters = {p: q[p] for p in filter_names if q[p] is not None}
        base = _base(ctx, width)

        def compute(lo: int, hi: int) -> dict[int, list[dict[str, Any]]]:
            sums = engine.accumulate(
                family.name, lo, hi, now=ctx.now, width=width, base=base,
                group_idx=group_idx, allowed=engine._allowed(family.name, filters),
            )  # fmt: skip
            out = {}
            for k, groups in sums.items():
                results = []
                for group in sorted(groups, key=sort_key):
                    result: dict[str, Any] = {"object": family.result_object}
                    result.update(family.derive(groups[group]))
                    named = dict(zip(group_by, group, strict=True))
                    for dim in family.dims:
                        result[dim] = named.get(dim)
                    results.append(result)
                out[base + k * width] = results
            return out

        variant = _variant({**q, "group_by": group_by}, ("group_by", *filter_names))
        parts = _buckets(ctx, family.name, buckets, width, start, end, variant, compute)
        return _page_json(parts, following, start)

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
    quirks = ctx.store.quirks
    width = WIDTHS["1d"]
    if quirks.strict_costs:
        _refuse_key_costs(q)
    start, end, buckets, following = _window(ctx, width, q["limit"])
    group_by = tuple(d for d in COST_DIMS if d in set(q["group_by"] or ()))
    filters = {p: q[p] for p in ("project_ids", "api_key_ids") if q[p]}
    base = _base(ctx, width)

    def compute(lo: int, hi: int) -> dict[int, list[dict[str, Any]]]:
        sums = ctx.store.usage.cost_groups(
            lo, hi, now=ctx.now, width=width, base=base, group_by=group_by, filters=filters
        )
        out = {}
        for k, groups in sums.items():
            results = []
            for i, group in enumerate(sorted(groups, key=sort_key)):
                # Live: some amounts come as decimal strings ("12.5"), not numbers.
                as_text = quirks.string_amounts and (k + i) % 3 == 0
                results.append(_cost_result(group_by, group, groups[group], as_text=as_text))
            out[base + k * width] = results
        return out

    variant = (
        *_variant({**q, "group_by": list(group_by)}, ("group_by", "project_ids", "api_key_ids")),
        quirks.string_amounts,
    )
    return _page_json(
        _buckets(ctx, "costs", buckets, width, start, end, variant, compute), following, start
    )


def _cost_result(
    group_by: tuple[str, ...], group: tuple[Any, ...], sums: list[Any], *, as_text: bool
) -> dict[str, Any]:
    """One costs result: a group's `[pico-dollars, quantity, unit]`, its amount as a number
    (or, `as_text`, as a decimal string)."""
    pico, quantity, unit = sums
    named = dict(zip(group_by, group, strict=True))
    return {
        "object": "organization.costs.result",
        "amount": {
            "value": _decimal_text(pico) if as_text else pico / PICO,
            "currency": "usd",
        },
        "line_item": named.get("line_item"),
        "project_id": named.get("project_id"),
        "api_key_id": named.get("api_key_id"),
        "quantity": quantity,
        "quantity_unit": unit,
    }


def _decimal_text(pico: int) -> str:
    """Pico-dollars as the live API's string amounts: a plain decimal, e.g. "12.5"."""
    return format((Decimal(pico) / PICO).normalize(), "f")


def _refuse_key_costs(q: dict[str, Any]) -> None:
    """`strict_costs`: the 400 a live organization was reported to answer for costs by key."""
    if "api_key_id" in (q["group_by"] or ()):
        raise invalid(
            "group_by",
            "Invalid value for 'group_by': only `project_id` and `line_item` are supported "
            "for this organization.",
        )
    if q["api_key_ids"]:
        raise invalid(
            "api_key_ids",
            "Unrecognized request argument supplied: api_key_ids. Filtering costs by API key "
            "is not supported for this organization.",
        )
