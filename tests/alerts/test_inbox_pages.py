"""The alert inbox as people use it: who may open it and change states, what each alert shows
(its state, who moved it, its deliveries), the anomaly page with its cause and chart, filters,
bad input, CSRF, paging, and a query count that doesn't grow with the number of alerts."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.alerts import services
from dashboard.alerts.anomalies import anomalies_check
from dashboard.alerts.inbox import PER_PAGE
from dashboard.alerts.models import Alert, Delivery, DeliveryAttempt
from dashboard.models import CostBucket
from dashboard.sync.rollups import cost_update
from orgadmin.access import Role
from orgadmin.models import ActionLog
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 18)  # a Wednesday
KEY, PROJECT, LINE = "key_batch", "proj_research", "gpt-4.1-2025-04-14, input"
WEEKDAY = (1.0, 1.08, 1.1, 1.06, 0.97, 0.42, 0.36)


def _costs(org, *, spike_days: int, factor: float = 5.0, days: int = 120) -> None:
    """A key's daily cost with a weekly rhythm and some noise up to yesterday, the last
    `spike_days` of them `factor` times as much; and the rollups the checks read."""
    rng = random.Random(7)
    rows = []
    for n in range(days, 0, -1):
        day = TODAY - dt.timedelta(days=n)
        value = 300 * WEEKDAY[day.weekday()] * math.exp(rng.gauss(0, 0.1))
        value *= factor if n <= spike_days else 1.0
        rows.append(
            CostBucket(
                org=org,
                day=day,
                line_item=LINE,
                model="gpt-4.1-2025-04-14",
                project_id=PROJECT,
                api_key_id=KEY,
                amount=Decimal(f"{value:.2f}"),
            )
        )
    CostBucket.objects.bulk_create(rows)
    cost_update(org=org, start=TODAY - dt.timedelta(days=days), end=TODAY)


@pytest.fixture
def spiked(acme, django_capture_on_commit_callbacks):
    """Acme's key spiking for 3 days up to yesterday, and its anomaly alert."""
    _costs(acme, spike_days=3)
    with django_capture_on_commit_callbacks(execute=True):
        (alert,) = anomalies_check(org=acme, today=TODAY)
    return alert


def _alert(org, n: int = 0, **fields) -> Alert:
    alert, _ = services.alert_raise(
        org=org,
        kind=fields.pop("kind", Alert.Kind.BUDGET),
        key=f"budget:{n}",
        title=fields.pop("title", f"Budget “Team {n}” passed 80 %"),
        summary="Spent $800.00 of $1,000.00.",
    )
    return alert


def test_finance_and_admins_open_the_inbox_others_get_403(acme, spiked, client_as):
    for role in (Role.FINANCE, Role.ADMIN):
        client = client_as(UserFactory(username=f"who-{role}", role=role))
        page = client.get(reverse("alert_inbox"))
        assert page.status_code == 200
        assert 'href="/alerts/"' in page.content.decode()  # "Alerts" in their navigation
        assert client.get(reverse("alert_detail", args=[spiked.pk])).status_code == 200
    auditor = client_as(UserFactory(username="audrey", role=Role.AUDITOR))
    assert auditor.get(reverse("alert_inbox")).status_code == 403
    assert auditor.get(reverse("alert_detail", args=[spiked.pk])).status_code == 403
    answer = auditor.post(reverse("alert_state", args=[spiked.pk]), {"state": "resolved"})
    assert answer.status_code == 403
    assert 'href="/alerts/"' not in auditor.get(reverse("home")).content.decode()
    spiked.refresh_from_db()
    assert spiked.state == Alert.State.OPEN


def test_another_connections_alert_is_not_found(acme, client_as, finance):
    theirs = _alert(OrganizationFactory(name="Other"), title="Budget “Other team” passed 80 %")
    client = client_as(finance)
    assert client.get(reverse("alert_detail", args=[theirs.pk])).status_code == 404
    answer = client.post(reverse("alert_state", args=[theirs.pk]), {"state": "resolved"})
    assert answer.status_code == 404
    assert "Other team" not in client.get(reverse("alert_inbox")).content.decode()
    theirs.refresh_from_db()
    assert theirs.state == Alert.State.OPEN


def test_it_explains_what_lands_here_when_there_is_nothing(acme, client_as, finance):
    text = client_as(finance).get(reverse("alert_inbox")).content.decode()
    assert "No alerts yet" in text
    assert "checked after every usage sync" in text


def test_it_lists_alerts_newest_first_with_state_who_and_deliveries(
    acme, client_as, finance, admin
):
    hook = services.channel_create(org=acme, name="Ops hook", url="https://hooks.example.com/a")[0]
    slack = services.channel_create(
        org=acme, name="#finance", url="https://hooks.slack.com/services/T0A/B0B/abcdefghijklmnop"
    )[0]
    older = _alert(acme, 1)
    Alert.objects.filter(pk=older.pk).update(opened_at=timezone.now() - dt.timedelta(days=2))
    newer = _alert(acme, 2)
    Delivery.objects.create(
        channel=hook, org=acme, alert=newer, subject="s", body="b", status="sent"
    )
    Delivery.objects.create(
        channel=slack, org=acme, alert=newer, subject="s", body="b", status="failed"
    )
    Delivery.objects.create(
        channel=hook, org=acme, alert=older, subject="s", body="b", status="given_up"
    )
    services.alert_state_set(alert=older, state=Alert.State.ACKNOWLEDGED, actor=admin)
    services.alert_end(alert=older)

    text = client_as(finance).get(reverse("alert_inbox")).content.decode()

    assert text.index(newer.title) < text.index(older.title)
    newer_row = text[text.index(newer.title) : text.index(older.title)]
    assert "Open</span>" in newer_row
    assert "ongoing" in newer_row
    assert 'Ops hook: <span class="badge badge-ok">sent</span>' in newer_row
    assert '#finance: <span class="badge badge-warn">retrying</span>' in newer_row
    older_row = text[text.index(older.title) :]
    assert "Resolved</span>" in older_row  # acknowledged, then ended: resolved
    assert f"by {admin.username}" in older_row
    assert "ended" in older_row
    assert "given up" in older_row


def test_it_filters_by_state_and_kind_and_says_what_it_refuses(acme, spiked, client_as, finance):
    budget = _alert(acme, 1)
    services.alert_state_set(alert=budget, state=Alert.State.RESOLVED, actor=finance)
    client = client_as(finance)

    anomalies = client.get(reverse("alert_inbox"), {"kind": "anomaly"}).content.decode()
    assert spiked.title in anomalies
    assert budget.title not in anomalies
    resolved = client.get(reverse("alert_inbox"), {"state": "resolved"}).content.decode()
    assert budget.title in resolved
    assert spiked.title not in resolved
    assert "Resolved (1)" in resolved  # each state's count in the filter
    none = client.get(reverse("alert_inbox"), {"state": "expected"}).content.decode()
    assert "No alert matches these filters." in none
    fragment = client.get(
        reverse("alert_inbox"), {"kind": "budget"}, headers={"HX-Request": "true"}
    )
    assert fragment.content.decode().lstrip().startswith('<div id="alert-list">')

    junk = client.get(reverse("alert_inbox"), {"state": "snoozed", "kind": "\x00"})
    assert junk.status_code == 200
    text = junk.content.decode()
    assert "Select a valid choice" in text
    assert spiked.title in text
    assert budget.title in text


def test_an_anomaly_shows_its_amounts_cause_chart_and_deliveries(
    acme, client_as, finance, admin, receiver, alert_settings, django_capture_on_commit_callbacks
):
    services.channel_create(org=acme, name="Hook", url=receiver.url)
    _costs(acme, spike_days=3)
    with django_capture_on_commit_callbacks(execute=True):
        (alert,) = anomalies_check(org=acme, today=TODAY)

    text = client_as(finance).get(reverse("alert_detail", args=[alert.pk])).content.decode()

    assert alert.title in text
    assert "key “key_batch”" in alert.title  # no directory: the key's id names it
    assert alert.summary in text
    details = alert.details
    for amount in (details["actual"], details["expected"], details["excess"]):
        assert f"${Decimal(amount):,.2f}" in text
    costs = details["movers"][0]["url"]
    assert f'href="{costs.replace("&", "&amp;")}"' in text  # the key's costs, around the days
    assert "Likely cause" in text
    assert LINE in text
    assert 'id="chart-anomaly"' in text
    assert "plotly-cartesian" in text
    assert "Hook</strong>" in text
    assert "#1" in text
    assert "sent</span>" in text
    assert "Mark expected" in text
    assert "Acknowledge" in text
    # A click leads to that key's costs.
    assert client_as(admin).get(costs).status_code == 200


def test_finance_acknowledges_and_the_inbox_says_who(acme, spiked, client_as, finance):
    client = client_as(finance, enforce_csrf_checks=True)
    client.get(reverse("alert_detail", args=[spiked.pk]))
    token = client.cookies["csrftoken"].value
    refused = client.post(reverse("alert_state", args=[spiked.pk]), {"state": "acknowledged"})
    assert refused.status_code == 403  # no CSRF token
    answer = client.post(
        reverse("alert_state", args=[spiked.pk]),
        {"state": "acknowledged", "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert f"Acknowledged “{spiked.title}”" in text
    assert f"acknowledged by {finance.username}" in text
    spiked.refresh_from_db()
    assert (spiked.state, spiked.state_by) == (Alert.State.ACKNOWLEDGED, finance)
    assert ActionLog.objects.filter(action="alert.acknowledged", actor=finance).exists()


def test_marking_an_anomaly_expected_teaches_the_next_check(acme, spiked, client_as, finance):
    answer = client_as(finance).post(
        reverse("alert_state", args=[spiked.pk]), {"state": "expected"}, follow=True
    )
    assert "count its days as normal" in answer.content.decode()
    assert anomalies_check(org=acme, today=TODAY) == []
    spiked.refresh_from_db()
    assert spiked.state == Alert.State.EXPECTED
    # Reopened, it is an anomaly again: the same alert, no new one.
    client_as(finance).post(reverse("alert_state", args=[spiked.pk]), {"state": "open"})
    (again,) = anomalies_check(org=acme, today=TODAY)
    assert again.pk == spiked.pk
    assert Alert.objects.filter(org=acme).count() == 1


@pytest.mark.parametrize("state", ["", "snoozed", "OPEN", "x" * 500, "\x00"])
def test_a_bad_state_changes_nothing_and_says_so(acme, spiked, client_as, finance, state):
    answer = client_as(finance).post(
        reverse("alert_state", args=[spiked.pk]), {"state": state}, follow=True
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "Nothing changed." in text
    spiked.refresh_from_db()
    assert spiked.state == Alert.State.OPEN
    assert spiked.state_by is None


def test_it_pages_thousands_of_alerts_in_the_same_number_of_queries(
    acme, client_as, finance, django_assert_max_num_queries
):
    hook = services.channel_create(org=acme, name="Hook", url="https://hooks.example.com/a")[0]

    def add(count: int, start: int) -> None:
        alerts = Alert.objects.bulk_create(
            Alert(org=acme, kind="budget", key=f"b:{start + i}", title=f"Budget {start + i}")
            for i in range(count)
        )
        deliveries = Delivery.objects.bulk_create(
            Delivery(channel=hook, org=acme, alert=a, subject=a.title, body="b") for a in alerts
        )
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(delivery=d, number=1, ok=True) for d in deliveries
        )

    client = client_as(finance)
    add(PER_PAGE + 5, 0)
    client.get(reverse("alert_inbox"))  # warm: the session, the person's grants
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("alert_inbox")).status_code == 200
    add(3000, 1000)
    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("alert_inbox"), {"page": 2})
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count('class="delivery-chip"') == PER_PAGE
    assert f"Page 2 of {math.ceil((3000 + PER_PAGE + 5) / PER_PAGE)}" in text
