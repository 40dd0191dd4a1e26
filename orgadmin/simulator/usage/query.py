"""The query side of usage pages: the cache of serialised buckets, page cursors, group order."""

from __future__ import annotations

import base64
import struct
import threading
from collections import OrderedDict
from typing import Any

from orgadmin.simulator.errors import invalid


class BucketCache:
    """Serialised JSON of complete past buckets, bounded by size (least recently used first).

    A bucket that ended before "now" never changes, so a repeated query (a second sync, a
    benchmark run) reuses its JSON instead of computing and serialising it again.
    """

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> str | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: str) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __getstate__(self) -> dict[str, Any]:
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_bytes"])  # type: ignore[misc]


# --- page cursors ------------------------------------------------------------------------------


def encode_page(bucket_start: int, query_start: int) -> str:
    """An opaque `next_page` cursor, shaped like the real API's `page_AAAA...`."""
    raw = struct.pack(">qq", bucket_start, query_start)
    return "page_" + base64.urlsafe_b64encode(raw).decode()


def decode_page(cursor: str, *, start: int, width: int, base: int = 0) -> int:
    """The bucket start that a `page` cursor points at; a 400 if it is not one of ours.

    Buckets are `base + k * width` (base 0: aligned to the width)."""
    try:
        if not cursor.startswith("page_"):
            raise ValueError(cursor)
        bucket_start, query_start = struct.unpack(">qq", base64.urlsafe_b64decode(cursor[5:]))
    except (ValueError, struct.error, TypeError) as exc:
        raise invalid("page", f"Invalid 'page' cursor: '{cursor}'.") from exc
    if query_start != start or (bucket_start - base) % width or bucket_start < start - width:
        raise invalid("page", f"Invalid 'page' cursor for this query: '{cursor}'.")
    return bucket_start


def sort_key(group: tuple[Any, ...]) -> tuple[str, ...]:
    """Order groups deterministically even when they hold None or booleans."""
    return tuple("" if v is None else str(v) for v in group)
