"""Chargeback's test data: cost rows as the usage sync stores them, centres, assignments and
rules, made through the services (so each is in the action log, as an Admin's would be)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboard.chargeback import services
from dashboard.chargeback.models import CostCentre, SharedRule
from dashboard.models import CostBucket
from tests.factories import OrganizationFactory


def cost(
    org,
    day: dt.date,
    amount: str | Decimal,
    *,
    project_id: str = "proj_web",
    api_key_id: str = "key_web",
    line_item: str = "gpt-4o, input",
    currency: str = "usd",
) -> CostBucket:
    """One day's billed cost of one line item, project and key (no usage behind it)."""
    return CostBucket.objects.create(
        org=org,
        day=day,
        line_item=line_item,
        project_id=project_id,
        api_key_id=api_key_id,
        amount=Decimal(amount),
        currency=currency,
    )


def centre(org, name: str, code: str = "") -> CostCentre:
    return services.centre_create(org=org, actor=None, name=name, code=code, owner="")


def assign(org, kind: str, value: str, to: CostCentre):
    return services.assignment_create(org=org, actor=None, kind=kind, value=value, centre=to)


def rule(org, name: str, *, shares, project_id: str = "", method: str = "fixed") -> SharedRule:
    target = SharedRule.Target.PROJECT if project_id else SharedRule.Target.REMAINDER
    return services.rule_create(
        org=org,
        actor=None,
        name=name,
        target=target,
        project_id=project_id,
        method=method,
        shares=[(c, Decimal(p) if p is not None else None) for c, p in shares],
    )


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")
