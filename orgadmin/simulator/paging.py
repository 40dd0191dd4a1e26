"""The spec's id-cursor pagination (style A `first_id/last_id`, style B `next`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from orgadmin.simulator.errors import invalid

T = TypeVar("T")
SortKey = tuple[Any, ...]


def window(
    items: Sequence[T],
    *,
    sort_key: Callable[[T], SortKey],
    cursor_key: Callable[[str], SortKey | None],
    limit: int,
    after: str | None = None,
    before: str | None = None,
    descending: bool = False,
) -> tuple[list[T], bool]:
    """Cut one page out of `items` (already in list order); return it and `has_more`.

    `after` returns the items that follow the cursor; `before` the `limit` items that
    immediately precede it. A cursor may name a deleted object, so a client that pages
    while others delete does not fail; an id that never existed is a 400.
    """
    if after is not None and before is not None:
        raise invalid("before", "Only one of 'after' and 'before' can be given.")
    if after is not None:
        key = _resolve(cursor_key, after, "after")
        rest = [i for i in items if (sort_key(i) < key if descending else sort_key(i) > key)]
        return rest[:limit], len(rest) > limit
    if before is not None:
        key = _resolve(cursor_key, before, "before")
        head = [i for i in items if (sort_key(i) > key if descending else sort_key(i) < key)]
        page = head[-limit:] if limit else []
        return page, len(head) > limit
    return list(items[:limit]), len(items) > limit


def _resolve(cursor_key: Callable[[str], SortKey | None], cursor: str, param: str) -> SortKey:
    key = cursor_key(cursor)
    if key is None:
        raise invalid(param, f"Invalid '{param}' cursor: no object with id '{cursor}'.")
    return key


def list_a(data: list[dict[str, Any]], has_more: bool, *, id_field: str = "id") -> dict[str, Any]:
    """A style-A list envelope."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0][id_field] if data else None,
        "last_id": data[-1][id_field] if data else None,
        "has_more": has_more,
    }


def list_b(data: list[dict[str, Any]], has_more: bool, next_id: str | None) -> dict[str, Any]:
    """A style-B list envelope; `next` is the cursor for `after`."""
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "next": next_id if has_more else None,
    }
