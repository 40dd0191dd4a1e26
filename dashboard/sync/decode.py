"""Reading the API's usage and cost pages: JSON decoded by msgspec into typed structs.

A page is `{data: [bucket], has_more, next_page}` and a bucket `{start_time, end_time,
results}`; a usage result has its family's dimensions and metrics, a cost result its dimensions,
`amount {value, currency}`, `quantity` and `quantity_unit`. The structs take what the live API
is known to send besides the spec: a metric as a string or a float, a dimension as null or the
batch flag as a boolean, an amount as a decimal string, a missing optional field (None), and
fields we don't know (ignored). Anything else is a page that is not the JSON we expect.

Results are structs, a fraction of the size of dicts, which the garbage collector never scans
(`gc=False`: they hold only scalars). Amounts and quantities are read from the JSON text
straight into exact Decimals, never through a float.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec

from dashboard.families import FAMILIES
from orgadmin.client import OrgAPIError

log = logging.getLogger(__name__)

# What a field may hold: a dimension is a string (the batch flag a boolean), a metric an integer.
Dimension = str | bool | int | float | None
Metric = int | float | str | None


class Amount(msgspec.Struct, gc=False):
    value: Decimal | None = None
    currency: str | None = None


class CostResult(msgspec.Struct, gc=False):
    # COST_DIMENSIONS, then what a cost is.
    project_id: Dimension = None
    line_item: Dimension = None
    api_key_id: Dimension = None
    amount: Amount | None = None
    quantity: Decimal | None = None
    quantity_unit: str | None = None


@dataclass(frozen=True, slots=True)
class ApiPage:
    """A decoded page: its buckets (structs with `start_time`, `end_time`, `results`), the next
    page's cursor (None on the last page), the request id of the answer and its size."""

    buckets: Any  # the decoded buckets, or what the stream made of them (PreparedPage)
    next_page: str | None
    request_id: str | None
    size: int = 0  # bytes of the answer: what holding it decoded costs, roughly


def _page_type(name: str, result: type) -> type:
    bucket = msgspec.defstruct(
        f"{name}Bucket",
        [("start_time", int), ("end_time", int | None, None), ("results", list[result], [])],
        gc=False,
    )
    return msgspec.defstruct(
        f"{name}Page",
        [("data", list[bucket]), ("has_more", bool, False), ("next_page", str | None, None)],
    )


@cache
def _decoder(slug: str | None) -> msgspec.json.Decoder:
    """The decoder of a usage family's pages (by slug), or of the costs' pages (None)."""
    if slug is None:
        return msgspec.json.Decoder(_page_type("Costs", CostResult))
    family = FAMILIES[slug]
    name = "".join(part.title() for part in slug.split("_")) + "Usage"  # CompletionsUsage...
    result = msgspec.defstruct(
        f"{name}Result",
        [(d, Dimension, None) for d in family.dimensions]
        + [(m, Metric, None) for m in family.metric_names],
        gc=False,
    )
    return msgspec.json.Decoder(_page_type(name, result))


def page_decoder(slug: str | None) -> Callable[[bytes, str | None], ApiPage]:
    """decode(content, request_id) -> ApiPage for a usage family's pages (None: the costs').

    Raises OrgAPIError, with the request id, when the page is not the JSON we expect.
    """
    decoder = _decoder(slug)

    def decode(content: bytes, request_id: str | None) -> ApiPage:
        try:
            page = decoder.decode(content)
        except msgspec.DecodeError as exc:
            log.warning("usage page %s: %s", request_id, exc)  # where in the page, for a bug
            raise _not_expected(request_id) from exc
        if not page.has_more:
            return ApiPage(page.data, None, request_id, len(content))
        if not page.next_page:
            raise _not_expected(request_id)  # more to come and no way to ask for it
        return ApiPage(page.data, page.next_page, request_id, len(content))

    return decode


def _not_expected(request_id: str | None) -> OrgAPIError:
    return OrgAPIError(
        "The OpenAI API sent a page that is not the JSON we expect.", request_id=request_id
    )
