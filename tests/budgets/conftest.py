"""Budgets' test data: cost rows as the usage sync stores them, and budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboard.budgets.models import Budget
from dashboard.models import CostBucket, ReportingSettings
from tests.factories import OrganizationFactory


def spend(
    org,
    day: dt.date,
    amount: str | Decimal,
    *,
    model: str = "gpt-4o",
    kind: str = "input",
    project_id: str = "proj_web",
    api_key_id: str = "key_web",
    currency: str = "usd",
) -> CostBucket:
    """One day's cost of one line item, project and key."""
    return CostBucket.objects.create(
        org=org,
        day=day,
        line_item=f"{model}, {kind}",
        project_id=project_id,
        api_key_id=api_key_id,
        amount=Decimal(amount),
        currency=currency,
    )


def spend_daily(org, first: dt.date, last: dt.date, amount: str, **scope) -> Decimal:
    """The same amount each day from `first` to `last` included; returns their total."""
    day, total = first, Decimal(0)
    while day <= last:
        spend(org, day, amount, **scope)
        total += Decimal(amount)
        day += dt.timedelta(days=1)
    return total


def budget(org, **fields) -> Budget:
    values = {"name": "Prod", "amount": Decimal("1000.00"), **fields}
    return Budget.objects.create(org=org, **values)


def reporting_tz(org, name: str) -> None:
    ReportingSettings.objects.update_or_create(org=org, defaults={"timezone": name})


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")


# The alert channels' real local receivers (tests/alerts/conftest.py), shared, not copied.
from tests.alerts.conftest import alert_settings, receiver  # noqa: E402, F401
