"""The last 30 days' spend per key and per project, for the findings and the bulk preview.

The costs are the dashboard app's (`CostRollup`); orgadmin never imports dashboard, so the
dashboard hands its reader in when it starts (`spend_reader_set`, from `DashboardConfig.ready`),
as it does for the Spend tabs (`orgadmin.selectors.spend`). Without it the spend is unknown, and
the page says so rather than show $0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from orgadmin.models import Organization

SPEND_DAYS = 30


@dataclass(frozen=True)
class RecentSpend:
    """Spend since `since` (UTC days) in one currency: by API key id and by project id."""

    currency: str
    by_key: dict[str, Decimal] = field(default_factory=dict)
    by_project: dict[str, Decimal] = field(default_factory=dict)
    known: bool = True  # False: no costs were ever synced for the organization


SpendReader = Callable[..., RecentSpend]  # (org=, since=) -> RecentSpend
_reader: list[SpendReader] = []


def spend_reader_set(reader: SpendReader | None) -> None:
    """Install the spend reader (None removes it)."""
    _reader[:] = [reader] if reader else []


def recent_spend(*, org: Organization, now: dt.datetime) -> RecentSpend:
    """The last SPEND_DAYS UTC days' spend, today included; unknown without the reader. The
    reader's queries (a fixed number whatever the number of keys)."""
    if not _reader:
        return RecentSpend(currency="usd", known=False)
    since = now.astimezone(dt.UTC).date() - dt.timedelta(days=SPEND_DAYS - 1)
    return _reader[0](org=org, since=since)
