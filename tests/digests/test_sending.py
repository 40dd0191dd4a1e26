"""Digests go out once per period, however often the beat runs and whatever dies when; a failed
mail is retried and shows; a person who lost the role stops getting it. Celery runs eagerly in
tests: the beat's `digests_tick` sends what it queues at once."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.alerts import services as alerts
from dashboard.alerts.models import Delivery
from dashboard.digests import sending
from dashboard.digests.models import Dispatch, Kind
from dashboard.digests.tasks import digests_tick
from orgadmin.access import Role
from orgadmin.models import RoleGrant
from tests.digests.conftest import BERLIN, free_port, reporting_tz, subscribe
from tests.factories import UserFactory

# Monday 2025-03-31, the first Monday of Berlin's summer time: 08:00 local is 06:00 UTC.
DUE = dt.datetime(2025, 3, 31, 6, 0, tzinfo=dt.UTC)
JUST_SUBSCRIBED = dt.datetime(2025, 3, 25, tzinfo=dt.UTC)  # after the week before was due


@pytest.fixture
def berlin(acme):
    reporting_tz(acme, BERLIN)
    return acme


def test_it_sends_once_per_period_however_often_the_beat_runs(berlin, fiona, clock, mailoutbox):
    subscribe(fiona, berlin, since=JUST_SUBSCRIBED)
    clock.set(DUE - dt.timedelta(minutes=5))
    digests_tick()
    assert mailoutbox == []  # 07:55 in Berlin: not due yet

    clock.set(DUE + dt.timedelta(minutes=1))
    for _ in range(4):  # the beat every 15 minutes, then the rest of the week
        digests_tick()
        clock.advance(minutes=15)
    clock.advance(days=5)
    digests_tick()

    (mail,) = mailoutbox
    assert mail.to == [fiona.email]
    assert mail.subject == "Weekly spend: Acme, Mar 24 – Mar 30, 2025"
    (dispatch,) = Dispatch.objects.all()
    assert (dispatch.status, dispatch.attempts) == (Dispatch.Status.SENT, 1)

    clock.set(DUE + dt.timedelta(days=7, minutes=1))  # the next Monday
    digests_tick()
    digests_tick()
    assert [m.subject for m in mailoutbox][1:] == ["Weekly spend: Acme, Mar 31 – Apr 6, 2025"]


def test_two_beats_at_once_record_and_send_it_once(berlin, fiona, clock, mailoutbox):
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))

    first, second = sending.digests_due(), sending.digests_due()
    assert first == second
    assert len(first) == 1
    sent = [sending.dispatch_send(dispatch_id=i) for i in first + second]

    assert [d is not None for d in sent] == [True, False]  # the second worker didn't get it
    assert len(mailoutbox) == 1


def test_a_period_due_before_one_subscribed_is_not_sent(berlin, fiona, clock, mailoutbox):
    subscribe(fiona, berlin, since=DUE + dt.timedelta(hours=2))
    clock.set(DUE + dt.timedelta(hours=3))
    digests_tick()
    assert mailoutbox == []

    clock.advance(days=7)
    digests_tick()
    assert [m.subject for m in mailoutbox] == ["Weekly spend: Acme, Mar 31 – Apr 6, 2025"]


def test_a_worker_killed_mid_send_neither_loses_nor_doubles_it(berlin, fiona, clock, mailoutbox):
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))
    (dispatch_id,) = sending.digests_due()
    assert sending._claim(dispatch_id, clock.now)  # a worker took it, then was killed

    clock.set(clock.now + sending.LEASE - dt.timedelta(minutes=1))
    digests_tick()  # its lease still holds: nobody sends it twice
    assert mailoutbox == []

    clock.advance(minutes=2)
    digests_tick()  # the lease passed: the next beat sends it
    clock.advance(minutes=15)
    digests_tick()

    assert len(mailoutbox) == 1
    dispatch = Dispatch.objects.get()
    assert (dispatch.status, dispatch.attempts) == (Dispatch.Status.SENT, 2)


def test_a_mail_sent_again_after_a_kill_is_the_same_message(
    berlin, fiona, clock, mailoutbox, monkeypatch
):
    """The one case no sender rules out: the SMTP server took it, the worker died before writing
    it down. The copy sent again carries the same Message-ID, which mail systems recognise."""
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))
    real_mail = sending._mail

    def mail_then_die(dispatch):
        real_mail(dispatch)
        raise SystemExit("worker killed")

    monkeypatch.setattr(sending, "_mail", mail_then_die)
    (dispatch_id,) = sending.digests_due()
    with pytest.raises(SystemExit):
        sending.dispatch_send(dispatch_id=dispatch_id)
    monkeypatch.setattr(sending, "_mail", real_mail)

    clock.advance(minutes=15)
    clock.set(clock.now + sending.LEASE)
    digests_tick()
    clock.advance(minutes=15)
    digests_tick()

    first, again = mailoutbox
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert first.body == again.body
    assert Dispatch.objects.get().status == Dispatch.Status.SENT


def test_a_channel_digest_killed_mid_handover_makes_one_delivery(
    berlin,
    fiona,
    clock,
    receiver,
    alert_settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    channel, _ = alerts.channel_create(org=berlin, name="#finance", url=receiver.url)
    subscribe(fiona, berlin, channel=channel)
    clock.set(DUE + dt.timedelta(minutes=1))
    real_notify = sending.notify

    def notify_then_die(**kwargs):
        real_notify(**kwargs)
        raise SystemExit("worker killed")

    monkeypatch.setattr(sending, "notify", notify_then_die)
    (dispatch_id,) = sending.digests_due()
    with pytest.raises(SystemExit):
        sending.dispatch_send(dispatch_id=dispatch_id)
    assert Delivery.objects.count() == 0  # the hand-over's transaction rolled back
    monkeypatch.setattr(sending, "notify", real_notify)

    clock.set(clock.now + sending.LEASE + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        digests_tick()
        clock.advance(minutes=15)
        digests_tick()

    (delivery,) = Delivery.objects.all()
    assert (delivery.topic, delivery.status) == ("digest", Delivery.Status.SENT)
    assert len(receiver.received) == 1
    assert Dispatch.objects.get().delivery == delivery


def test_a_failed_mail_shows_is_retried_and_then_goes_out(
    berlin, fiona, clock, settings, smtp_server, client_as
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))

    digests_tick()
    dispatch = Dispatch.objects.get()
    assert dispatch.status == Dispatch.Status.FAILED
    assert "Connection refused" in dispatch.error or "ConnectionRefused" in dispatch.error
    page = client_as(fiona).get("/digests/").content.decode()
    assert "Failed, will retry" in page
    assert "Next try in" in page

    digests_tick()  # before its backoff: not tried again
    assert Dispatch.objects.get().attempts == 1

    settings.EMAIL_PORT = smtp_server.port  # the mail server is back
    clock.advance(minutes=15)
    digests_tick()

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (Dispatch.Status.SENT, 2)
    (message,) = smtp_server.inbox.messages
    assert message["Subject"] == dispatch.subject


def test_a_mail_that_keeps_failing_is_given_up_and_says_so(
    berlin, fiona, clock, settings, client_as
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))

    for _ in range(sending.MAX_ATTEMPTS + 3):
        digests_tick()
        clock.advance(hours=1)

    dispatch = Dispatch.objects.get()
    assert (dispatch.status, dispatch.attempts) == (Dispatch.Status.GIVEN_UP, sending.MAX_ATTEMPTS)
    page = client_as(fiona).get("/digests/").content.decode()
    assert "Given up" in page


def test_someone_who_lost_the_role_stops_getting_it_and_is_told_why(
    berlin, clock, mailoutbox, client_as
):
    person = UserFactory(username="fin-then-audit", roles_on={berlin: Role.FINANCE})
    RoleGrant.objects.create(user=person, org=berlin, role=Role.AUDITOR)
    subscribe(person, berlin, Kind.FINANCE_WEEKLY)
    subscribe(person, berlin, Kind.AUDITOR_WEEKLY)
    RoleGrant.objects.filter(user=person, role=Role.FINANCE).delete()  # Finance taken away
    clock.set(DUE + dt.timedelta(minutes=1))

    digests_tick()

    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Weekly security digest"]
    skipped = Dispatch.objects.get(subscription__kind=Kind.FINANCE_WEEKLY)
    assert skipped.status == Dispatch.Status.SKIPPED
    assert "no longer hold Finance or Admin on Acme" in skipped.error
    page = client_as(person).get("/digests/").content.decode()
    assert "You no longer hold Finance or Admin on Acme" in page
    assert "Not sent" in page


def test_a_removed_channel_fails_the_digest_instead_of_sending_it_elsewhere(
    berlin, fiona, clock, mailoutbox, receiver, alert_settings
):
    channel, _ = alerts.channel_create(org=berlin, name="#finance", url=receiver.url)
    subscribe(fiona, berlin, channel=channel)
    alerts.channel_delete(channel=channel)
    clock.set(DUE + dt.timedelta(minutes=1))

    digests_tick()

    dispatch = Dispatch.objects.get()
    assert dispatch.status == Dispatch.Status.SKIPPED
    assert "was removed" in dispatch.error
    assert mailoutbox == []
    assert receiver.received == []


def test_the_beat_and_the_command_run_the_same_sending(berlin, fiona, clock, mailoutbox, settings):
    from django.core.management import call_command

    entry = settings.CELERY_BEAT_SCHEDULE["send-digests"]
    assert entry["task"] == digests_tick.name
    assert len(entry["schedule"].minute) == 4  # every 15 minutes
    subscribe(fiona, berlin)
    clock.set(DUE + dt.timedelta(minutes=1))

    call_command("digests", "send")
    call_command("digests", "send")

    assert len(mailoutbox) == 1
