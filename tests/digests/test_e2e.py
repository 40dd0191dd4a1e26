"""Digests end to end with real parts: the beat's task mails the Finance digest through a local
SMTP server (aiosmtpd), and hands the Auditor digest to a webhook channel whose local HTTP
receiver checks the signature. Nothing of the transport is mocked."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from dashboard.alerts import services as alerts
from dashboard.alerts.models import Delivery
from dashboard.digests.models import Dispatch, Kind
from dashboard.digests.tasks import digests_tick
from orgadmin.templatetags.directory import money
from tests.digests.conftest import BERLIN, reporting_tz, spend, subscribe

DUE = dt.datetime(2025, 3, 31, 6, 1, tzinfo=dt.UTC)  # Monday 08:01 in Berlin


@pytest.fixture
def berlin(acme, settings):
    settings.SITE_URL = "https://dash.example.com"
    reporting_tz(acme, BERLIN)
    return acme


def test_the_finance_digest_arrives_by_mail_through_a_local_smtp_server(
    berlin, fiona, clock, settings, smtp_server
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    amounts = ["12.40", "8.05", "30.00"]
    for offset, amount in enumerate(amounts):  # Tuesday to Thursday of the week before
        spend(berlin, dt.date(2025, 3, 25) + dt.timedelta(days=offset), amount)
    subscribe(fiona, berlin)
    clock.set(DUE)

    assert digests_tick() == 1

    (message,) = smtp_server.inbox.messages
    (envelope,) = smtp_server.inbox.envelopes
    assert envelope.rcpt_tos == [fiona.email]
    assert message["Subject"] == "Weekly spend: Acme, Mar 24 – Mar 30, 2025"
    dispatch = Dispatch.objects.get()
    assert message["Message-ID"] == f"<digest-{dispatch.pk}@dash.example.com>"
    text = message.get_body(("plain",)).get_content()
    total = sum((Decimal(a) for a in amounts), Decimal(0))
    assert f"{money(total)} in Mar 24 – Mar 30, 2025" in text
    assert "https://dash.example.com/costs/?start=2025-03-24&end=2025-03-31" in text
    assert dispatch.status == Dispatch.Status.SENT
    assert dispatch.destination == fiona.email


def _signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """The receiver's check, from the documented scheme (X-Dashboard-Timestamp, a dot, body)."""
    signed = headers["X-Dashboard-Timestamp"].encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def test_the_auditor_digest_arrives_signed_at_a_webhook_channel(
    berlin, aude, clock, receiver, alert_settings, django_capture_on_commit_callbacks, client_as
):
    channel, secret = alerts.channel_create(org=berlin, name="Security hook", url=receiver.url)
    subscribe(aude, berlin, Kind.AUDITOR_WEEKLY, channel=channel)
    clock.set(DUE)

    with django_capture_on_commit_callbacks(execute=True):
        digests_tick()

    (received,) = receiver.received
    assert received.headers["X-Dashboard-Signature"] == _signature(
        secret, received.headers, received.body
    )
    document = json.loads(received.body)
    assert document["topic"] == "digest"
    assert document["subject"] == "Weekly security digest: Acme, Mar 24 – Mar 30, 2025"
    assert "SECURITY SUMMARY" in document["body"]
    assert document["data"] == {
        "digest": Kind.AUDITOR_WEEKLY,
        "period_start": "2025-03-24",
        "period_end": "2025-03-31",
        "preview": False,
    }
    (delivery,) = Delivery.objects.all()
    assert delivery.status == Delivery.Status.SENT
    page = client_as(aude).get(reverse("digests")).content.decode()
    assert "Sent to the channel" in page
    assert "Security hook" in page
