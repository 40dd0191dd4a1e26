"""Attribution's test data: the simulator's demo scenario synced over a period, and cost rows
made by hand for the cases the demo doesn't have."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboard.models import CostBucket
from dashboard.sync.usage import usage_sync
from tests.conftest import SIM_NOW

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)
TODAY = NOW.date()


def synced_days(org, days: int):
    """Sync the demo's last `days` UTC days (usage and costs) and return (start, end): the
    whole days synced, today excluded (its costs are still coming in)."""
    start = dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    usage_sync(org=org, start=start)
    return start.date(), TODAY


@pytest.fixture
def week(org):
    """The demo's last 7 whole days, synced."""
    return synced_days(org, 7)


def cost(org, day, line_item, amount, *, quantity=None, unit="tokens", project="proj_a", key=""):
    return CostBucket.objects.create(
        org=org,
        day=day,
        line_item=line_item,
        project_id=project,
        api_key_id=key,
        amount=Decimal(amount),
        quantity=None if quantity is None else Decimal(quantity),
        quantity_unit=unit if quantity is not None else "",
    )
