"""The reader that orgadmin's hygiene findings ask for recent spend (orgadmin.hygiene.spend)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from dashboard.models import CostRollup
from orgadmin.hygiene.spend import RecentSpend
from orgadmin.models import Organization

_DIMENSIONS = {"api_key_id": "by_key", "project_id": "by_project"}


def recent_spend(*, org: Organization, since: dt.date) -> RecentSpend:
    """Spend per API key and per project since `since`, in the organization's main currency
    (the one it spent most in). One query from the cost rollups, a second when it finds none."""
    rows = (
        CostRollup.objects.filter(org=org, dimension__in=list(_DIMENSIONS), day__gte=since)
        .exclude(value="")
        .values("dimension", "value", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_currency: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: {"by_key": {}, "by_project": {}}
    )
    for row in rows:
        side = by_currency[row["currency"].lower()][_DIMENSIONS[row["dimension"]]]
        side[row["value"]] = side.get(row["value"], Decimal(0)) + Decimal(row["total"])
    if not by_currency:
        known = CostRollup.objects.filter(org=org).exists()
        return RecentSpend(currency="usd", known=known)
    currency = max(by_currency, key=lambda c: sum(by_currency[c]["by_project"].values()))
    return RecentSpend(currency=currency, **by_currency[currency])
