"""A budget's 80 % threshold end to end: the simulator's costs, the real usage sync, the check
that runs after it, and a real local webhook receiver. Crossed once, alerted once, however many
syncs and checks follow."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_UP, Decimal

import httpx
import pytest

from dashboard.alerts.models import Alert
from dashboard.alerts.services import channel_create
from dashboard.budgets.models import Budget
from dashboard.budgets.selectors import budget_statuses, today_in
from dashboard.budgets.services import budgets_check_now
from dashboard.sync.usage import usage_sync
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import OrganizationFactory

FAMILIES = ["moderations"]  # costs always sync; one small usage family keeps the sync quick


@pytest.fixture
def simulated(clock):
    """The demo simulator on the test's clock, mounted for SIM_BASE_URL."""
    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.mark.django_db
def test_a_budget_crossing_80_percent_alerts_once_across_syncs(
    simulated, clock, receiver, alert_settings, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )
    channel_create(org=org, name="Finance hook", url=receiver.url)
    usage_sync(org=org, families=FAMILIES)
    today = today_in(org=org)
    # A range of three weeks up to today and ten days on, its amount set from what the sync
    # stored so that its spend is past 80 % and short of 100 %.
    budget = Budget.objects.create(
        org=org,
        name="Q-end push",
        period=Budget.Period.CUSTOM,
        start=today - dt.timedelta(days=20),
        end=today + dt.timedelta(days=10),
        amount=Decimal(1),
        forecast_alert=False,
    )
    (before,) = budget_statuses(org=org, today=today)
    assert before.spent > 0
    budget.amount = (before.spent / Decimal("0.85")).quantize(Decimal("0.01"), rounding=ROUND_UP)
    budget.save()

    for _sync in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            budgets_check_now(org=org)
        clock.advance(hours=2)
        usage_sync(org=org, families=FAMILIES)

    (status,) = budget_statuses(org=org, today=today_in(org=org))
    assert status.crossed[-1] == 80  # still between 80 and 100 % after the later syncs
    (alert,) = Alert.objects.filter(org=org, kind=Alert.Kind.BUDGET)
    assert alert.key.endswith(":actual:80")
    assert len(receiver.received) == 1
    sent = json.loads(receiver.received[0].body)
    assert "“Q-end push”" in sent["subject"]
    assert "80 %" in sent["subject"]
    assert sent["data"]["budget"] == "Q-end push"
    assert sent["data"]["threshold_percent"] == 80
    assert "X-Dashboard-Signature" in receiver.received[0].headers
