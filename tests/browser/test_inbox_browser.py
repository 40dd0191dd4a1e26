"""The alert inbox in Chromium: the list (an anomaly raised by the real check on the simulator's
spiked key, budget alerts acknowledged and resolved, deliveries sent, retrying and given up) and
the anomaly's page with its cause and chart, in both themes on a desktop and a 390 px phone, with
axe-core; and acknowledging from the list."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from dashboard.alerts import services
from dashboard.alerts.anomalies import anomalies_check
from dashboard.alerts.models import Alert, Channel, Delivery, DeliveryAttempt
from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from orgadmin.simulator.usage.surges import Surge
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory.run import directory_sync
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, SIM_NOW
from tests.factories import OrganizationFactory, UserFactory

HOOK = "https://hooks.example.com/ingest/hookSecretPath987?token=queryToken654"
SLACK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"


@pytest.fixture
def inbox(transactional_db, django_capture_on_commit_callbacks):
    """The simulator's organization, synced, with its spiked key's anomaly and a few budget
    alerts in other states; returns the anomaly."""
    app = create_app(
        scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=lambda: SIM_NOW,
        surges=[Surge(factor=5.0, days=3)],
    )  # fmt: skip
    org = OrganizationFactory(name="Acme", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY)
    slack, _ = services.channel_create(org=org, name="#finance-alerts", url=SLACK)
    hook, _ = services.channel_create(org=org, name="On-call webhook", url=HOOK)
    Channel.objects.update(disabled=True)  # nothing leaves the test; deliveries are made below
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        usage_sync(org=org, families=["moderations"])
        directory_sync(org=org)
        audit_log_sync(org=org, since=dt.datetime.fromtimestamp(SIM_NOW, dt.UTC) - dt.timedelta(14))
    (anomaly,) = anomalies_check(org=org, today=dt.datetime.fromtimestamp(SIM_NOW, dt.UTC).date())
    _deliveries(anomaly, {slack: "sent", hook: "failed"})
    fred = UserFactory(username="fred-finance", role=Role.FINANCE)
    now = timezone.now()
    for n, (name, state, statuses) in enumerate(
        [
            ("Research", Alert.State.ACKNOWLEDGED, {slack: "sent", hook: "sent"}),
            ("Support bots", Alert.State.RESOLVED, {slack: "sent", hook: "given_up"}),
            ("Data Pipeline", Alert.State.OPEN, {slack: "sent"}),
        ]
    ):
        alert, _ = services.alert_raise(
            org=org, kind=Alert.Kind.BUDGET, key=f"budget:{n}",
            title=f"Budget “{name}” passed 80 % of $2,000.00 this month",
            summary=f"$1,6{n}2.40 spent of $2,000.00.", ongoing=False,  # an event, as budgets raise
        )  # fmt: skip
        Alert.objects.filter(pk=alert.pk).update(opened_at=now - dt.timedelta(days=n + 1, hours=3))
        if state != Alert.State.OPEN:
            services.alert_state_set(alert=alert, state=state, actor=fred)
        _deliveries(alert, statuses)
    return anomaly


def _deliveries(alert: Alert, statuses: dict) -> None:
    for channel, status in statuses.items():
        delivery = Delivery.objects.create(
            channel=channel, org=alert.org, alert=alert, subject=alert.title, body=alert.summary,
            status=status, attempts=2 if status == "failed" else 1,
        )  # fmt: skip
        DeliveryAttempt.objects.create(
            delivery=delivery, number=1, ok=status == "sent", duration_ms=120,
            http_status=200 if status == "sent" else 503,
            error="" if status == "sent" else "HTTP 503 Service Unavailable",
        )  # fmt: skip


def test_the_inbox_and_an_anomaly_read_well_in_both_themes_and_on_a_phone(page, login, inbox):
    login(UserFactory(username="alice-admin", role=Role.ADMIN))
    pages = {
        "inbox": ("/alerts/", "Data Pipeline"),
        "anomaly": (f"/alerts/{inbox.pk}/", "Likely cause"),
    }
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            for name, (path, expected) in pages.items():
                page.goto(path)
                settle(page)
                if name == "anomaly":
                    page.wait_for_selector("#chart-anomaly[data-rendered=true]")
                screenshot(page, f"i20-{name}-{theme}-{size}")
                where = f"{name}, {theme}, {size}"
                text = page.locator("main").inner_text()
                if expected not in text or inbox.details["name"] not in text:
                    problems.append(f"{where}: {expected!r} or the key's name missing")
                if not fits(page, size):
                    problems.append(f"{where}: wider than the screen")
                problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == []
    assert page.js_errors == []


def test_finance_acknowledges_from_the_list(page, login, inbox):
    login(UserFactory(username="fiona-finance", role=Role.FINANCE))
    page.goto("/alerts/")
    page.get_by_role("button", name=f"Acknowledge “{inbox.title}”").click()
    settle(page)
    assert f"Acknowledged “{inbox.title}”" in page.locator("main").inner_text()
    row = page.locator(".inbox-list li", has_text=inbox.title)
    assert "by fiona-finance" in row.inner_text()
    page.select_option("#alert-state", "acknowledged")
    settle(page)
    assert "/alerts/?state=acknowledged" in page.url
    assert page.locator(".inbox-list > li").count() == 2  # it, and the budget fred acknowledged
    assert page.js_errors == []
