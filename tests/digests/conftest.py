"""Digests' test data: people with roles, cost rows, a clock both sides read, and the alerts'
real local receivers (tests/alerts/conftest.py), reused as they are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.digests.models import Kind, Subscription
from dashboard.models import CostBucket, ReportingSettings
from orgadmin.access import Role
from tests.alerts import conftest as alerts_fixtures
from tests.factories import UserFactory

# The alerts' fixtures, as they are: a connection, and the real local SMTP and HTTP receivers.
acme = alerts_fixtures.acme
alert_settings = alerts_fixtures.alert_settings
receiver = alerts_fixtures.receiver
smtp_server = alerts_fixtures.smtp_server
free_port = alerts_fixtures.free_port

BERLIN = "Europe/Berlin"


def spend(
    org,
    day: dt.date,
    amount: str | Decimal,
    *,
    model: str = "gpt-4o",
    project_id: str = "proj_web",
    api_key_id: str = "key_web",
) -> None:
    """One day's cost of one line item, as the usage sync stores it (the rollups follow)."""
    CostBucket.objects.create(
        org=org,
        day=day,
        line_item=f"{model}, input",
        model=model,
        project_id=project_id,
        api_key_id=api_key_id,
        amount=Decimal(amount),
        currency="usd",
    )


def reporting_tz(org, name: str) -> None:
    ReportingSettings.objects.update_or_create(org=org, defaults={"timezone": name})


def subscribe(user, org, kind=Kind.FINANCE_WEEKLY, *, channel=None, since=None) -> Subscription:
    """`user` turned on the digest `kind` of `org` at `since` (long ago by default)."""
    return Subscription.objects.create(
        user=user,
        org=org,
        kind=kind,
        enabled=True,
        where=Subscription.Where.CHANNEL if channel else Subscription.Where.EMAIL,
        channel=channel,
        enabled_at=since or dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )


class Clock:
    """timezone.now for the code under test, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moving = Clock(dt.datetime(2025, 3, 31, 6, 5, tzinfo=dt.UTC))
    monkeypatch.setattr(timezone, "now", moving)
    return moving


@pytest.fixture
def fiona(db, acme):
    """Finance on Acme only."""
    return UserFactory(username="fiona-finance", roles_on={acme: Role.FINANCE})


@pytest.fixture
def aude(db, acme):
    """Auditor on Acme only."""
    return UserFactory(username="aude-auditor", roles_on={acme: Role.AUDITOR})
