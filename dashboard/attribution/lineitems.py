"""What a cost line item bills, in the usage API's terms: pure, no Django.

A line item is read as (name, kind, qualifier): "gpt-4.1-2025-04-14, cached input (batch)" is
("gpt-4.1-2025-04-14", "cached input", "batch"), "dall-e-3, 1024x1024" is ("dall-e-3",
"1024x1024", ""), "web search tool calls, low context" is ("web search tool calls", "low
context", ""). A usage row gives the same keys for what it used (`usage_keys`), so a line item
and the usage it bills meet on one key, and each family's metric is the quantity the bill counts:

| family | line item | quantity |
|---|---|---|
| completions | `<model>, input[ (batch|flex|priority)]` | input − cached input tokens |
| completions | `<model>, cached input…`, `<model>, output…` | cached input tokens, output tokens |
| embeddings | `<model>, input` | input tokens |
| images | `<model>, <size>` | images |
| audio speeches | `<model>, characters` | characters |
| audio transcriptions | `<model>, audio duration` | seconds |
| web search | `web search tool calls, <level> context` | calls (`num_requests`) |
| file search | `file search tool calls` | calls |

Batch wins over the service tier (a batch row is billed "(batch)" whatever its tier); a tier
without a line item of its own ("default", "auto", "") has no qualifier. Code interpreter
sessions and vector storage are billed per project, and their usage has no user or key: they
are never attributed (STRUCTURAL gives the reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from dashboard.families import line_item_parts

# Billed kinds written other ways, read as the one the usage keys use.
_KIND_SYNONYMS = {
    "input tokens": "input",
    "output tokens": "output",
    "cached input tokens": "cached input",
    "cached tokens": "cached input",
    "duration": "audio duration",
    "seconds": "audio duration",
    "minutes": "audio duration",
}
# Tiers billed under the plain line item.
_PLAIN_TIERS = ("", "default", "auto")
_QUALIFIER = re.compile(r"\s*\((?P<q>[^()]*)\)\s*$")

WEB_SEARCH = "web search tool calls"
FILE_SEARCH = "file search tool calls"
CODE_INTERPRETER = "code interpreter sessions"
VECTOR_STORAGE = "vector store storage"

# Line items billed per project whose usage has no user or key: why they stay unattributed.
STRUCTURAL: dict[str, str] = {
    CODE_INTERPRETER: "code interpreter sessions have no user or key dimension",
    VECTOR_STORAGE: "vector storage is billed per project, with no user or key dimension",
}

# The cost API's quantity units (ADMIN_API.md §5.5): how many of them one unit of the usage
# metric is. A unit not listed can't be compared with usage: its price comes from the table.
UNIT_FACTORS: dict[str, Decimal] = {
    "": Decimal(1),  # calls, sessions: the API gives no unit
    "tokens": Decimal(1),
    "1000_tokens": Decimal("0.001"),
    "images": Decimal(1),
    "characters": Decimal(1),
    "duration_seconds": Decimal(1),
    "duration_minutes": Decimal(1) / Decimal(60),
    "duration_hours": Decimal(1) / Decimal(3600),
}

# The families whose usage rows carry billed quantities, and the dimensions each is read by.
USAGE_GRAIN: dict[str, tuple[str, ...]] = {
    "completions": ("project_id", "api_key_id", "user_id", "model", "batch", "service_tier"),
    "embeddings": ("project_id", "api_key_id", "user_id", "model"),
    "images": ("project_id", "api_key_id", "user_id", "model", "size"),
    "audio_speeches": ("project_id", "api_key_id", "user_id", "model"),
    "audio_transcriptions": ("project_id", "api_key_id", "user_id", "model"),
    "web_search_calls": ("project_id", "api_key_id", "user_id", "model", "context_level"),
    "file_search_calls": ("project_id", "api_key_id", "user_id"),
}
# The metrics each family's rows are read with (summed per day and grain).
USAGE_METRICS: dict[str, tuple[str, ...]] = {
    "completions": ("input_tokens", "input_cached_tokens", "output_tokens"),
    "embeddings": ("input_tokens",),
    "images": ("images",),
    "audio_speeches": ("characters",),
    "audio_transcriptions": ("seconds",),
    "web_search_calls": ("num_requests",),
    "file_search_calls": ("num_requests",),
}


@dataclass(frozen=True)
class ItemKey:
    """A line item as usage meets it: its name (a model, or a tool), kind and qualifier."""

    name: str
    kind: str
    qualifier: str = ""


@lru_cache(maxsize=4096)
def item_key(line_item: str) -> ItemKey:
    """The key of a billed line item ("gpt-4o, input (batch)" → gpt-4o / input / batch)."""
    text = " ".join((line_item or "").split())
    qualifier = ""
    found = _QUALIFIER.search(text)
    if found:
        qualifier = found["q"].strip().lower()
        text = text[: found.start()]
    head, comma, tail = text.partition(",")
    if comma:
        name, kind = head.strip(), tail.strip().lower()
    else:
        parts = line_item_parts(text)
        name, kind = parts.model, parts.kind.lower()
    kind = _KIND_SYNONYMS.get(kind, kind)
    return ItemKey(name=name, kind=kind, qualifier=qualifier)


def structural_reason(line_item: str) -> str | None:
    """Why a line item is never attributed (its usage has no user or key), or None."""
    return STRUCTURAL.get(item_key(line_item).name.lower())


def _qualifier(row: dict[str, Any]) -> str:
    if row.get("batch") == "true":
        return "batch"
    tier = (row.get("service_tier") or "").lower()
    return "" if tier in _PLAIN_TIERS else tier


def usage_keys(family: str, row: dict[str, Any]) -> Iterator[tuple[ItemKey, int]]:
    """The line items a daily usage row (summed by USAGE_GRAIN) is billed under, and how much of
    each (in the usage metric's unit)."""
    model = row.get("model") or ""
    if family == "completions":
        q = _qualifier(row)
        cached = row["input_cached_tokens"] or 0
        yield ItemKey(model, "input", q), (row["input_tokens"] or 0) - cached
        yield ItemKey(model, "cached input", q), cached
        yield ItemKey(model, "output", q), row["output_tokens"] or 0
    elif family == "embeddings":
        yield ItemKey(model, "input"), row["input_tokens"] or 0
    elif family == "images":
        yield ItemKey(model, (row.get("size") or "").lower()), row["images"] or 0
    elif family == "audio_speeches":
        yield ItemKey(model, "characters"), row["characters"] or 0
    elif family == "audio_transcriptions":
        yield ItemKey(model, "audio duration"), row["seconds"] or 0
    elif family == "web_search_calls":
        level = (row.get("context_level") or "").lower()
        yield ItemKey(WEB_SEARCH, f"{level} context"), row["num_requests"] or 0
    elif family == "file_search_calls":
        yield ItemKey(FILE_SEARCH, ""), row["num_requests"] or 0


def families_billing(keys: set[ItemKey]) -> list[str]:
    """The usage families worth reading for these billed line items (the fewer, the fewer
    queries): web and file search by their names, the rest by kind."""
    wanted: set[str] = set()
    for key in keys:
        if key.name == WEB_SEARCH:
            wanted.add("web_search_calls")
        elif key.name == FILE_SEARCH:
            wanted.add("file_search_calls")
        elif key.kind in ("input", "cached input", "output"):
            wanted.update(
                ("completions", "embeddings") if key.kind == "input" else ("completions",)
            )
        elif key.kind == "characters":
            wanted.add("audio_speeches")
        elif key.kind == "audio duration":
            wanted.add("audio_transcriptions")
        elif re.fullmatch(r"\d+x\d+", key.kind):
            wanted.add("images")
    return [f for f in USAGE_GRAIN if f in wanted]
