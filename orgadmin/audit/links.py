"""The audit log's hash chain, pure: an event's canonical content, its link, and the verdict over
an organization's links read in order. No Django here: the sync, the migration's backfill, the
verification and anyone re-implementing it outside this code (an auditor's script) read the same
rules, written down once.

An event's link is `sha256(previous link + "\\n" + sequence + "\\n" + canonical content)`, hex;
the first event's previous link is `GENESIS` (64 zeros); sequences run 1, 2, 3… per organization,
in the order the events were stored. The canonical content is the JSON object of `CONTENT_FIELDS`
(every column of the row that a page, a filter or an export shows: the raw event and the columns
read from it, and when we stored it; not the surrogate id, the organization or the chain's own
two columns), with sorted keys, no whitespace, non-ASCII escaped (`\\uXXXX`), datetimes as UTC
`YYYY-MM-DDTHH:MM:SS.ffffffZ`, and floats that are whole numbers written as the integers their
shortest text says (PostgreSQL's jsonb gives `1e20` back as the integer 100000000000000000000:
this way both databases hash what they hand back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
CONTENT_FIELDS = (
    "event_id",
    "type",
    "category",
    "effective_at",
    "day",
    "actor_type",
    "actor_id",
    "actor_email",
    "actor_key",
    "api_key_id",
    "ip_address",
    "user_agent",
    "project_id",
    "project_name",
    "resource_id",
    "search_text",
    "raw",
    "synced_at",
)
# What a verification reads of each row, in this order: the chain's columns, then the content.
ROW_FIELDS = ("id", "chain_seq", "chain_hash", *CONTENT_FIELDS)


@dataclass(frozen=True)
class ChainHead:
    """Where an organization's chain ends: how many events, the last link, when it moved."""

    count: int
    head: str
    at: dt.datetime


@dataclass(frozen=True)
class BadLink:
    """The event where a chain first goes wrong."""

    pk: int
    event_id: str
    seq: int | None
    type: str
    effective_at: dt.datetime

    def label(self) -> str:
        seq = "no sequence" if self.seq is None else f"sequence {self.seq}"
        when = _utc(self.effective_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"event {self.event_id} ({seq}, {self.type}, {when})"


@dataclass(frozen=True)
class Verdict:
    """What a verification found: every link good (`ok`), or the first bad one and why."""

    ok: bool
    count: int  # events verified in order before the first bad link (all of them when ok)
    head: str  # the last good link
    message: str
    problem: str = ""  # "changed", "missing", "inserted", "removed", "head"
    event: BadLink | None = None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _plain(value: Any) -> Any:
    """The value as JSON that both databases give back unchanged (see the module's docstring)."""
    kind = type(value)
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    if kind is float and value.is_integer():
        # Through its shortest text, as jsonb keeps it: 1e300 is 10**300, not the binary float.
        return int(Decimal(repr(value)))
    if isinstance(value, dt.datetime):
        return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(content: Mapping[str, Any]) -> bytes:
    """An event's canonical content: the JSON of its CONTENT_FIELDS (see the module's docstring)."""
    document = {name: _plain(content[name]) for name in CONTENT_FIELDS}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True
    ).encode("ascii")


def link(previous: str, seq: int, content: Mapping[str, Any]) -> str:
    """The link of the event at `seq` whose predecessor's link is `previous`."""
    digest = hashlib.sha256(f"{previous}\n{seq}\n".encode("ascii"))
    digest.update(canonical(content))
    return digest.hexdigest()


def _bad(row: Mapping[str, Any]) -> BadLink:
    return BadLink(
        pk=row["id"],
        event_id=row["event_id"],
        seq=row["chain_seq"],
        type=row["type"],
        effective_at=row["effective_at"],
    )


def failure(count: int, head: str, problem: str, why: str, row: Mapping | None = None) -> Verdict:
    event = _bad(row) if row is not None else None
    where = f"{event.label()}: " if event else ""
    return Verdict(False, count, head, f"{where}{why}", problem, event)


def verify(rows: Iterable[Mapping[str, Any]], *, stored: ChainHead | None) -> Verdict:
    """Check linked rows, read in sequence order, against the organization's head row.

    Stops at the first bad link and says what is wrong with it: its content changed since it was
    linked, events are missing before it, it was inserted (a sequence past the head's count, or
    one already used), or the last events were removed (fewer events than the head counts).
    """
    count, head = 0, GENESIS
    last: Mapping[str, Any] | None = None
    for row in rows:
        seq = row["chain_seq"]
        if stored is None or seq > stored.count or seq <= count:
            counted = "no head row" if stored is None else f"the head counts {stored.count}"
            why = f"an event was inserted (sequence {seq}; {counted})"
            return failure(count, head, "inserted", why, row)
        if seq > count + 1:
            gone = seq - count - 1
            why = f"{gone} event{'s are' if gone > 1 else ' is'} missing before it"
            return failure(count, head, "missing", f"{why} (sequence {count + 1} on)", row)
        if link(head, seq, row) != row["chain_hash"]:
            why = "its content changed since it was stored (its link no longer matches)"
            return failure(count, head, "changed", why, row)
        count, head, last = seq, row["chain_hash"], row
    return _end(count, head, last, stored)


def _end(count: int, head: str, last: Mapping | None, stored: ChainHead | None) -> Verdict:
    """The verdict once every row has checked out: it must end where the head row says."""
    if stored is None or stored.count == 0:
        return Verdict(True, count, head, f"verified {count} events, head {head}")
    if count < stored.count:
        gone = stored.count - count
        after = f"after {_bad(last).label()}" if last else "from the start"
        why = (
            f"the last {gone} event{'s were' if gone > 1 else ' was'} removed, {after}: "
            f"the head row counts {stored.count} events, head {stored.head}"
        )
        return failure(count, head, "removed", why)
    if head != stored.head:
        why = f"the head row says {stored.head}, the last event's link is {head}"
        return failure(count, head, "head", why, last)
    at = _utc(stored.at).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Verdict(True, count, head, f"verified {count} events, head {head} (as of {at})")
