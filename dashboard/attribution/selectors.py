"""Attribution's reads: cost per user, key, model, project and service tier, and the remainder
of the bill that usage doesn't explain. Our tables only, never the API.

The public API (chargeback and FOCUS build on it):

    attributed_costs(*, org, start, end) -> list[AttributedCost]
    cost_remainder(*, org, start, end) -> list[Remainder]

over the UTC days [start, end). Per day, project and line item (in fact per cost row: day,
line item, project and key), the attributed amounts plus the remainder equal the billed amount
exactly: amounts keep the cost rows' 12 places (see engine.py for how, and why no rounding
remainder arises). An xAI team has no token usage: its cost rows, already per key and model, come
back as they are, basis "billed".

Queries: the cost rows (1), the organization's price overrides (1), and one per usage family that
bills one of the period's line items (at most 7), each summed per UTC day at the usage API's grain
from the daily usage tables: at most 9, whatever the period's length.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Sum

from dashboard.attribution.engine import (
    AttributedCost,
    Attribution,
    Cell,
    Remainder,
    Use,
    attribute,
    billed_only,
)
from dashboard.attribution.lineitems import (
    USAGE_GRAIN,
    USAGE_METRICS,
    ItemKey,
    families_billing,
    item_key,
    usage_keys,
)
from dashboard.attribution.models import PriceOverride
from dashboard.attribution.pricetable import Prices, vendored_table
from dashboard.models import DAILY_MODELS, CostBucket
from orgadmin.models import Organization
from orgadmin.providers import Capability

__all__ = [
    "AttributedCost",
    "Remainder",
    "attributed_costs",
    "attribution_of",
    "cost_remainder",
]

MAX_DAYS = 366  # the longest range a page asks for


def attributed_costs(*, org: Organization, start: dt.date, end: dt.date) -> list[AttributedCost]:
    """Cost per day, project, key, user, model, service tier and line item over the UTC days
    [start, end): usage × the unit price the bill charged (or the table's)."""
    return attribution_of(org=org, start=start, end=end).attributed


def cost_remainder(*, org: Organization, start: dt.date, end: dt.date) -> list[Remainder]:
    """What the bill of [start, end) holds that usage doesn't explain, per cost row, and why."""
    return attribution_of(org=org, start=start, end=end).remainders


def attribution_of(*, org: Organization, start: dt.date, end: dt.date) -> Attribution:
    """Both lists and the unit prices at once (a page needs all three from one reading)."""
    cells = _cells(org, start, end)
    if not org.has_capability(Capability.USAGE):
        return billed_only(cells)
    keys = {item_key(item) for item in {c.line_item for c in cells}}
    usage = _usage(org, start, end, families_billing(keys), keys)
    prices = Prices(vendored_table(), PriceOverride.objects.filter(org=org))
    return attribute(cells=cells, usage=usage, prices=prices)


def _cells(org: Organization, start: dt.date, end: dt.date) -> list[Cell]:
    rows = CostBucket.objects.filter(org=org, day__gte=start, day__lt=end).values_list(
        "day",
        "line_item",
        "project_id",
        "api_key_id",
        "amount",
        "currency",
        "quantity",
        "quantity_unit",
    )
    return [Cell(*row) for row in rows.order_by("day", "line_item", "project_id", "api_key_id")]


def _usage(
    org: Organization, start: dt.date, end: dt.date, families: list[str], keys: set[ItemKey]
) -> dict[tuple[dt.date, ItemKey], list[Use]]:
    """Each family's daily usage summed at its grain, as the line items it is billed under (only
    those billed in the period): one query per family."""
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC)
    out: dict[tuple[dt.date, ItemKey], list[Use]] = defaultdict(list)
    for family in families:
        grain = USAGE_GRAIN[family]
        rows = (
            DAILY_MODELS[family]
            .objects.filter(org=org, bucket_start__gte=lo, bucket_start__lt=hi)
            .values("bucket_start", *grain)
            .annotate(**{m: Sum(m) for m in USAGE_METRICS[family]})
            .order_by()
        )
        for row in rows:
            day = row["bucket_start"].astimezone(dt.UTC).date()
            for key, quantity in usage_keys(family, row):
                if quantity and key in keys:
                    out[(day, key)].append(
                        Use(
                            project_id=row["project_id"],
                            api_key_id=row["api_key_id"],
                            user_id=row["user_id"],
                            model=row.get("model", ""),
                            service_tier=row.get("service_tier", ""),
                            quantity=quantity,
                        )
                    )
    return out
