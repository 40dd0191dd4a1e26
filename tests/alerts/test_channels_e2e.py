"""Alert channels end to end, with real parts: a local SMTP server receives the email, a local
HTTP receiver checks the webhook's signature, retries and give-ups are logged attempt by attempt,
and a channel that keeps failing shows on every Admin's page. Nothing of the transport is mocked:
Apprise speaks SMTP to aiosmtpd, httpx speaks HTTP to http.server. (Celery runs eagerly in tests,
so a retry runs at once instead of after its backoff.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.alerts import delivery as delivery_module
from dashboard.alerts import services, tasks
from dashboard.alerts.models import Channel, Delivery, DeliveryAttempt
from orgadmin.access import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("alert_settings")

BANNER = "Alerts are not getting through."


def _add(client, capture, **fields):
    with capture(execute=True):
        return client.post(reverse("channel_add"), fields)


def _secret_shown_in(response) -> str:
    """The signing secret as the page shows it once (what the person copies)."""
    match = re.search(r'id="secret-value"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "the new webhook's secret is shown once"
    return match.group(1)


def _send_test(client, capture, channel):
    with capture(execute=True):
        response = client.post(reverse("channel_test", args=[channel.pk]))
    assert response.status_code == 302
    return client.get(response["Location"])


def _expected_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """The receiver's check, written from the documented scheme, not from our code."""
    signed = headers["X-Dashboard-Timestamp"].encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def test_it_emails_a_test_message_through_a_local_smtp_server(
    acme, admin_of_all, client_as, smtp_server, django_capture_on_commit_callbacks
):
    client = client_as(admin_of_all)
    url = f"mailto://127.0.0.1:{smtp_server.port}?from=alerts@example.com&to=finance@example.com"
    added = _add(client, django_capture_on_commit_callbacks, name="Finance mail", url=url)
    assert added.status_code == 200
    channel = Channel.objects.get(name="Finance mail")
    assert channel.kind == Channel.Kind.EMAIL

    page = _send_test(client, django_capture_on_commit_callbacks, channel)

    (message,) = smtp_server.inbox.messages
    assert message["Subject"] == services.TEST_SUBJECT
    assert message["To"] == "finance@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "This is a test of the alert channel “Finance mail”, sent by alice-admin" in text
    assert "Sent" in page.content.decode()  # the outcome, on the channel's deliveries
    channel.refresh_from_db()
    assert channel.last_success_at is not None


def test_it_emails_an_alerts_own_subject_and_body(
    acme, smtp_server, django_capture_on_commit_callbacks
):
    url = f"mailto://127.0.0.1:{smtp_server.port}?from=alerts@example.com&to=ops@example.com"
    _channel, _secret = services.channel_create(org=acme, name="Ops mail", url=url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.notify(
            org=acme,
            subject="Budget “Research” passed 80 %",
            body="Spend is $8,120.00 of $10,000.00 this month.",
        )
    (message,) = smtp_server.inbox.messages
    assert message["Subject"] == "Budget “Research” passed 80 %"
    assert (
        "Spend is $8,120.00 of $10,000.00 this month." in message.get_body(("plain",)).get_content()
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)


def test_it_signs_a_webhook_with_the_channels_secret(
    acme, admin_of_all, client_as, receiver, django_capture_on_commit_callbacks
):
    client = client_as(admin_of_all)
    added = _add(client, django_capture_on_commit_callbacks, name="Receiver", url=receiver.url)
    secret = _secret_shown_in(added)
    channel = Channel.objects.get(name="Receiver")
    assert channel.kind == Channel.Kind.WEBHOOK
    assert secret not in client.get(reverse("channels")).content.decode()  # shown once only

    _send_test(client, django_capture_on_commit_callbacks, channel)

    (got,) = receiver.received
    assert got.path == "/hooks/alerts"
    assert got.headers["Content-Type"] == "application/json"
    assert abs(time.time() - int(got.headers["X-Dashboard-Timestamp"])) < 60
    assert hmac.compare_digest(
        got.headers["X-Dashboard-Signature"], _expected_signature(secret, got.headers, got.body)
    )
    document = json.loads(got.body)
    assert document["subject"] == services.TEST_SUBJECT
    assert document["topic"] == "test"
    assert document["data"] == {"test": True, "channel": "Receiver"}
    # A body changed on the way, or a replayed signature with another timestamp, fails the check.
    tampered = got.body.replace(b"Receiver", b"Receivex")
    assert got.headers["X-Dashboard-Signature"] != _expected_signature(
        secret, got.headers, tampered
    )
    replayed = {**got.headers, "X-Dashboard-Timestamp": str(int(time.time()) + 3600)}
    assert got.headers["X-Dashboard-Signature"] != _expected_signature(secret, replayed, got.body)


def test_it_retries_until_the_receiver_answers_and_logs_every_attempt(
    acme, admin_of_all, client_as, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [500, 500, 500, 200]
    channel, secret = services.channel_create(org=acme, name="Flaky", url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.notify(org=acme, subject="Spike on key-7", body="Cost tripled.")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 4)
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [(a.number, a.ok, a.http_status) for a in attempts] == [
        (1, False, 500),
        (2, False, 500),
        (3, False, 500),
        (4, True, 200),
    ]
    assert attempts[0].error == "HTTP 500 Internal Server Error: receiver is down"
    # Every attempt carried the same body, each one signed.
    assert len({r.body for r in receiver.received}) == 1
    for got in receiver.received:
        assert got.headers["X-Dashboard-Signature"] == _expected_signature(
            secret, got.headers, got.body
        )
    channel.refresh_from_db()
    assert channel.consecutive_failures == 0
    assert not channel.flagged

    page = client_as(admin_of_all).get(reverse("channel_deliveries", args=[channel.pk]))
    text = page.content.decode()
    assert text.count("HTTP 500") == 3
    assert "HTTP 200" in text
    assert BANNER not in text


def test_it_gives_up_flags_the_channel_and_tells_every_admin(
    acme, admin_of_all, client_as, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [503]
    channel, _secret = services.channel_create(org=acme, name="Dead end", url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.notify(org=acme, subject="Budget crossed", body="80 % reached.")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.GIVEN_UP, 5)
    assert len(receiver.received) == 5
    channel.refresh_from_db()
    assert channel.flagged
    assert channel.consecutive_failures == 1
    assert channel.last_failure_message.startswith("HTTP 503 Service Unavailable")

    admin = client_as(admin_of_all)
    link = reverse("channel_deliveries", args=[channel.pk])
    for page in (reverse("home"), reverse("orgadmin:members"), reverse("channels")):
        text = admin.get(page).content.decode()
        assert BANNER in text, page
        assert f'href="{link}">“Dead end”</a>' in text, page
    finance = client_as(UserFactory(username="fred-finance", role=Role.FINANCE))
    auditor = client_as(UserFactory(username="audrey-auditor", role=Role.AUDITOR))
    for client in (finance, auditor):
        page = client.get(reverse("home"))
        assert page.status_code == 200
        assert BANNER not in page.content.decode()
    assert finance.get(reverse("channels")).status_code == 403

    # Fixed on the receiver's side: a test that gets through lifts the flag.
    receiver.script = [200]
    _send_test(admin, django_capture_on_commit_callbacks, channel)
    assert BANNER not in admin.get(reverse("home")).content.decode()


def test_it_flags_a_channel_only_after_the_set_number_of_give_ups(
    acme, receiver, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_CHANNEL_FLAG_AFTER = 2
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    receiver.script = [500]
    channel, _secret = services.channel_create(org=acme, name="Twice", url=receiver.url)
    for expected in (False, True):
        with django_capture_on_commit_callbacks(execute=True):
            services.notify(org=acme, subject="Anomaly", body="Spend jumped.")
        channel.refresh_from_db()
        assert channel.flagged is expected
    assert len(receiver.received) == 4  # two deliveries, two attempts each


def test_it_never_posts_a_webhook_to_this_machine_unless_an_operator_named_the_host(
    acme, receiver, settings, django_capture_on_commit_callbacks
):
    # https to a loopback address is a well-formed channel URL; where it leads is checked as the
    # webhook connects, and refused, so a typed URL can't make the server call itself.
    settings.ALERT_WEBHOOK_HTTP_HOSTS = []
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1
    inside = receiver.url.replace("http://", "https://")
    channel, _secret = services.channel_create(org=acme, name="Inside", url=inside)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(org=acme, subject="Anomaly", body="Spend jumped.")
    (attempt,) = DeliveryAttempt.objects.filter(delivery__channel=channel)
    assert not attempt.ok
    assert "resolves to a loopback, private or link-local address" in attempt.error
    assert receiver.received == []


def test_a_delivery_whose_task_was_lost_is_sent_by_the_next_sweep(
    acme, receiver, alert_settings, monkeypatch
):
    # The broker refuses the task after the commit: the delivery stays queued, untried.
    _channel, _secret = services.channel_create(org=acme, name="Hook", url=receiver.url)
    (delivery,) = services.notify(org=acme, subject="Anomaly", body="Spend jumped.")
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.QUEUED

    assert tasks.resume_deliveries() == 0  # not yet: its task may still be on its way
    later = timezone.now() + delivery_module.STALLED_AFTER + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert tasks.resume_deliveries() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT
    assert len(receiver.received) == 1
    assert tasks.resume_deliveries() == 0  # sent: never again
