"""An alert is raised once per key, sent once to each channel, updated while it lasts, and
ended once; people move its state, and who did is kept."""

from __future__ import annotations

import json

import pytest

from dashboard.alerts import services
from dashboard.alerts.models import Alert
from orgadmin.models import ActionLog
from orgadmin.services.changes import ChangeRefused
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _raise(org, **changes):
    fields = {
        "org": org,
        "kind": Alert.Kind.ANOMALY,
        "key": "api_key_id:key_abc:2026-11-03",
        "title": "Spend on key “batch” is 5× its usual",
        "summary": "$512.00 on Nov 3, usually $98.00.",
        "details": {"excess": "414.00"},
    }
    return services.alert_raise(**{**fields, **changes})


def test_a_check_that_runs_after_every_sync_sends_the_alert_once(
    acme, receiver, alert_settings, django_capture_on_commit_callbacks
):
    services.channel_create(org=acme, name="Hook", url=receiver.url)
    for day in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            alert, created = _raise(acme, summary=f"Day {day + 1} of the spike.")
        assert created is (day == 0)
    assert Alert.objects.filter(org=acme).count() == 1
    assert len(receiver.received) == 1
    sent = json.loads(receiver.received[0].body)
    assert sent["subject"] == "Spend on key “batch” is 5× its usual"
    assert sent["data"]["alert_id"] == alert.pk
    alert.refresh_from_db()
    assert alert.summary == "Day 3 of the spike."  # updated while it lasts


def test_ending_resolves_it_and_says_so_once(
    acme, receiver, alert_settings, django_capture_on_commit_callbacks
):
    services.channel_create(org=acme, name="Hook", url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        alert, _ = _raise(acme)
        services.alert_end(alert=alert, summary="Back to usual on Nov 6.")
        services.alert_end(alert=alert)
    alert.refresh_from_db()
    assert (alert.state, alert.ongoing) == (Alert.State.RESOLVED, False)
    subjects = [json.loads(r.body)["subject"] for r in receiver.received]
    assert subjects == [alert.title, f"Ended: {alert.title}"]
    assert alert.deliveries.count() == 2


def test_an_alert_marked_expected_stays_expected_when_it_ends(acme, alert_settings):
    person = UserFactory()
    alert, _ = _raise(acme)
    services.alert_state_set(alert=alert, state=Alert.State.EXPECTED, actor=person)
    services.alert_end(alert=alert)
    alert.refresh_from_db()
    assert alert.state == Alert.State.EXPECTED
    assert alert.state_by == person
    assert alert.deliveries.count() == 0  # no channels: nothing sent, nothing lost
    logged = ActionLog.objects.get(action="alert.expected")
    assert "expected" in logged.summary


def test_an_unknown_state_is_refused(acme):
    alert, _ = _raise(acme)
    with pytest.raises(ChangeRefused):
        services.alert_state_set(alert=alert, state="snoozed", actor=UserFactory())
