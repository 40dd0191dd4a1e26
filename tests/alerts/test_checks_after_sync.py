"""The scheduled usage sync (the Celery task, run eagerly in tests) checks the budgets and the
anomalies as soon as it succeeds: a spike on one key and a budget past 80 % each alert once,
however many syncs follow."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_UP, Decimal

import httpx
import pytest
from django.utils import timezone

from dashboard import tasks
from dashboard.alerts import services
from dashboard.alerts.models import Alert
from dashboard.budgets.models import Budget
from dashboard.budgets.selectors import budget_statuses, today_in
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from orgadmin.simulator.usage.surges import Surge
from orgadmin.sync.directory.run import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, SIM_NOW, Clock
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moving = Clock(SIM_NOW + 1800)
    monkeypatch.setattr(timezone, "now", moving.datetime)
    return moving


def test_each_sync_checks_and_each_alert_is_sent_once(
    clock, receiver, alert_settings, django_capture_on_commit_callbacks
):
    spike = Surge(factor=5.0, days=3)
    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock, surges=[spike])
    org = OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )
    services.channel_create(org=org, name="Hook", url=receiver.url)
    today = today_in(org=org)
    budget = Budget.objects.create(
        org=org,
        name="Last three weeks",
        period=Budget.Period.CUSTOM,
        start=today - dt.timedelta(days=20),
        end=today + dt.timedelta(days=10),
        amount=Decimal("1000000"),
        forecast_alert=False,
    )
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        directory_sync(org=org)  # the keys' names, which the alert uses
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sync_usage(org.pk) == "succeeded"
        # The spike raised its anomaly within that one sync; the budget is far from 80 %.
        (anomaly,) = Alert.objects.filter(org=org)
        key = app.store.api_keys[app.surges[0].key_id]
        assert anomaly.kind == Alert.Kind.ANOMALY
        assert f"key “{key.name}”" in anomaly.title
        # Now its amount puts the spend past 80 % and short of 100 %.
        (status,) = budget_statuses(org=org, today=today)
        budget.amount = (status.spent / Decimal("0.85")).quantize(Decimal("0.01"), ROUND_UP)
        budget.save()
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                assert tasks.sync_usage(org.pk) == "succeeded"

    alerts = Alert.objects.filter(org=org)
    assert sorted(alerts.values_list("kind", flat=True)) == ["anomaly", "budget"]
    subjects = [json.loads(r.body)["subject"] for r in receiver.received]
    budget_alert = alerts.get(kind=Alert.Kind.BUDGET)
    assert subjects == [anomaly.title, budget_alert.title]
    assert "Last three weeks" in budget_alert.title
    assert "80 %" in budget_alert.title
