"""Anomaly alerts end to end: the simulator's costs with a spike on one key, the real usage sync,
the check that runs after it, and a real webhook receiver that gets the message.

A spike on one key raises exactly one anomaly alert within one sync, naming that key, sent once;
the next syncs update it while it lasts and end it when a normal day follows; marked expected,
the same pattern doesn't fire again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from dashboard.alerts import services
from dashboard.alerts.anomalies import anomalies_check
from dashboard.alerts.models import Alert
from dashboard.sync.usage import usage_sync
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from orgadmin.simulator.usage.surges import Surge
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory.run import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, SIM_NOW, Clock
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SPIKE = Surge(factor=5.0, days=3)
FAMILIES = ["moderations"]  # costs always sync; one small usage family keeps the sync quick


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moving = Clock(SIM_NOW + 1800)
    monkeypatch.setattr(timezone, "now", moving.datetime)
    return moving


@pytest.fixture
def simulated(clock):
    """The demo organization with a 3-day spike on its busiest key, ending yesterday, mounted
    at SIM_BASE_URL; its clock is the test's."""
    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock, surges=[SPIKE])
    org = OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app, org


def _sync(org, clock, *, everything: bool = False) -> None:
    """What the scheduled syncs do: costs (and, `everything`, the directory and the audit log,
    whose names and changes the cause gives)."""
    usage_sync(org=org, families=FAMILIES)
    if everything:
        directory_sync(org=org)
        audit_log_sync(org=org, since=clock.datetime() - dt.timedelta(days=14))


def _check(org, clock, capture):
    with capture(execute=True):
        return anomalies_check(org=org, today=clock.datetime().date())


def test_one_sync_raises_one_anomaly_naming_the_spiked_key_and_sends_it_once(
    simulated,
    clock,
    receiver,
    alert_settings,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    app, org = simulated
    services.channel_create(org=org, name="Hook", url=receiver.url)
    key = app.store.api_keys[app.surges[0].key_id]
    _sync(org, clock, everything=True)

    started = time.perf_counter()
    (alert,) = _check(org, clock, django_capture_on_commit_callbacks)
    took = time.perf_counter() - started

    assert Alert.objects.filter(org=org).count() == 1
    assert alert.kind == Alert.Kind.ANOMALY
    assert alert.key.startswith(f"api_key_id:{key.id}:")
    assert f"key “{key.name}”" in alert.title
    assert f"key “{key.name}”" in alert.summary
    assert alert.ongoing
    assert alert.state == Alert.State.OPEN
    # The cause: the key first, then what rose with it; the raised rate limit, with links.
    details = alert.details
    assert details["movers"][0]["value"] == key.id
    assert details["movers"][0]["url"].startswith("/costs/?")
    assert key.project_id in {r["value"] for r in details["related"]}
    (change,) = details["changes"]
    assert change["type"] == "rate_limit.updated"
    assert "Rate limit changed" in alert.summary
    assert Decimal(details["excess"]) > 3 * Decimal(details["expected"]) / 2
    # One message to the receiver, about that key.
    (message,) = receiver.received
    body = json.loads(message.body)
    assert body["subject"] == alert.title
    assert body["data"]["alert_id"] == alert.pk
    print(f"\nanomalies_check on the demo with a spike: {took * 1000:.0f} ms\n{alert.title}")
    print(alert.summary)

    # The next sync and check, the same hour: nothing new, nothing sent, nothing written; its
    # reads are a fixed number: the alerts marked expected, the detector's 2, the causes' 3, the
    # alerts known.
    _sync(org, clock, everything=True)
    with django_assert_num_queries(7):
        (again,) = _check(org, clock, django_capture_on_commit_callbacks)
    assert again.pk == alert.pk
    assert Alert.objects.filter(org=org).count() == 1
    assert len(receiver.received) == 1


def test_the_alert_lives_as_long_as_the_spike_and_ends_once(
    simulated, clock, receiver, alert_settings, django_capture_on_commit_callbacks
):
    _app, org = simulated
    services.channel_create(org=org, name="Hook", url=receiver.url)
    clock.advance(days=-1)  # the spike's third day is still under way
    _sync(org, clock)
    (alert,) = _check(org, clock, django_capture_on_commit_callbacks)
    assert alert.details["days"] == 2
    assert "since" in alert.title

    clock.advance(days=1)  # its third day is complete: the same alert, one day longer
    _sync(org, clock)
    (same,) = _check(org, clock, django_capture_on_commit_callbacks)
    assert same.pk == alert.pk
    assert same.details["days"] == 3
    assert Decimal(same.details["excess"]) > Decimal(alert.details["excess"])
    assert same.ongoing
    assert len(receiver.received) == 1  # updated, not sent again

    clock.advance(days=1)  # a normal day: the episode is over
    _sync(org, clock)
    (ended,) = _check(org, clock, django_capture_on_commit_callbacks)
    assert ended.pk == alert.pk
    assert not ended.ongoing
    assert ended.state == Alert.State.RESOLVED
    assert "Back to usual" in ended.summary
    subjects = [json.loads(r.body)["subject"] for r in receiver.received]
    assert subjects == [alert.title, f"Ended: {ended.title}"]

    # Later checks leave it be.
    _check(org, clock, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2
    assert Alert.objects.filter(org=org).count() == 1


def test_marked_expected_the_same_spike_doesnt_fire_again(
    simulated, clock, receiver, alert_settings, django_capture_on_commit_callbacks
):
    _app, org = simulated
    _sync(org, clock)
    (alert,) = _check(org, clock, django_capture_on_commit_callbacks)
    services.alert_state_set(alert=alert, state=Alert.State.EXPECTED, actor=UserFactory())
    services.channel_create(org=org, name="Hook", url=receiver.url)

    # Taught: its days are normal now, so no episode, no new alert, nothing sent.
    assert _check(org, clock, django_capture_on_commit_callbacks) == []
    clock.advance(days=1)
    _sync(org, clock)
    assert _check(org, clock, django_capture_on_commit_callbacks) == []
    alert.refresh_from_db()
    assert alert.state == Alert.State.EXPECTED
    assert not alert.ongoing  # over, and still expected
    assert Alert.objects.filter(org=org).count() == 1
    assert receiver.received == []


def test_marked_expected_while_it_goes_on_its_next_days_join_it(
    simulated, clock, receiver, alert_settings, django_capture_on_commit_callbacks
):
    _app, org = simulated
    services.channel_create(org=org, name="Hook", url=receiver.url)
    clock.advance(days=-1)  # two days into the spike
    _sync(org, clock)
    (alert,) = _check(org, clock, django_capture_on_commit_callbacks)
    services.alert_state_set(alert=alert, state=Alert.State.EXPECTED, actor=UserFactory())
    assert _check(org, clock, django_capture_on_commit_callbacks) == []
    alert.refresh_from_db()
    assert alert.ongoing  # it may go on tomorrow

    clock.advance(days=1)  # it did: its third day joins the alert marked expected
    _sync(org, clock)
    (carried,) = _check(org, clock, django_capture_on_commit_callbacks)
    assert carried.pk == alert.pk
    assert carried.state == Alert.State.EXPECTED
    yesterday = (clock.datetime() - dt.timedelta(days=1)).date().isoformat()
    assert carried.details["carried_to"] == yesterday
    group = carried.details["group"]
    assert [*group, yesterday] in carried.details["marked"]
    assert "Marked expected; it went on through" in carried.summary
    assert _check(org, clock, django_capture_on_commit_callbacks) == []  # taught at once

    clock.advance(days=1)  # over: it ends, still expected, and nobody was told anything more
    _sync(org, clock)
    assert _check(org, clock, django_capture_on_commit_callbacks) == []
    carried.refresh_from_db()
    assert not carried.ongoing
    assert carried.state == Alert.State.EXPECTED
    assert Alert.objects.filter(org=org).count() == 1
    assert len(receiver.received) == 1  # the first message only
