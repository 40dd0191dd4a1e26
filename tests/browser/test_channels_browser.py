"""The Channels pages in Chromium: the list (working, retrying, failing, paused and shared
channels), a failing channel's deliveries with their attempts, and the banner every Admin page
carries while a channel fails, in both themes on a desktop and a 390 px phone, with axe-core;
and adding a webhook, whose signing secret shows once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dashboard.alerts import services
from dashboard.alerts.models import Channel, Delivery, DeliveryAttempt
from orgadmin.access import Role
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory

HOOK = "https://hooks.example.com/ingest/hookSecretPath987?token=queryToken654"
SLACK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"
MAIL = "mailtos://alerts:SmtpPassw0rd@smtp.example.com:587?to=finance@example.com"
TEAMS = (
    "https://prod-07.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f/triggers/manual/"
    "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TeamsSig123456"
)
ERROR = "HTTP 503 Service Unavailable: upstream connect error or disconnect/reset before headers"


def _channels(org) -> Channel:
    """A channel of each state; returns the failing one, with a given-up delivery."""
    now = timezone.now()
    slack, _ = services.channel_create(org=org, name="#finance-alerts", url=SLACK)
    Channel.objects.filter(pk=slack.pk).update(last_success_at=now - dt.timedelta(hours=2))
    mail, _ = services.channel_create(org=org, name="Finance mailbox", url=MAIL)
    Channel.objects.filter(pk=mail.pk).update(
        last_success_at=now - dt.timedelta(days=1),
        last_failure_at=now - dt.timedelta(minutes=3),
        last_failure_message='Connection error while submitting email to "smtp.example.com"',
    )
    services.channel_create(org=None, name="Ops (Teams)", url=TEAMS)
    paused, _ = services.channel_create(org=org, name="Old webhook", url=HOOK)
    Channel.objects.filter(pk=paused.pk).update(disabled=True)
    failing, _ = services.channel_create(org=org, name="On-call receiver", url=HOOK + "&x=2")
    Channel.objects.filter(pk=failing.pk).update(
        consecutive_failures=1,
        last_failure_at=now - dt.timedelta(minutes=1),
        last_failure_message=ERROR,
    )
    delivery = Delivery.objects.create(
        channel=failing,
        org=org,
        subject="Budget “Research” passed 80 %",
        body="…",
        status=Delivery.Status.GIVEN_UP,
        attempts=5,
        finished_at=now,
    )
    for number in range(1, 6):
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            duration_ms=40 + number,
            error=ERROR,
            http_status=503,
            started_at=now - dt.timedelta(minutes=30 - 5 * number),
        )
    sent = Delivery.objects.create(
        channel=failing,
        org=org,
        topic="test",
        subject=services.TEST_SUBJECT,
        body="…",
        status=Delivery.Status.SENT,
        attempts=1,
        finished_at=now - dt.timedelta(days=2),
        created_at=now - dt.timedelta(days=2),
    )
    DeliveryAttempt.objects.create(
        delivery=sent,
        number=1,
        ok=True,
        http_status=200,
        duration_ms=87,
        started_at=sent.created_at,
    )
    return Channel.objects.get(pk=failing.pk)


def test_the_channels_pages_read_well_in_both_themes_and_on_a_phone(page, login, db):
    org = OrganizationFactory(name="Acme")
    failing = _channels(org)
    login(UserFactory(username="alice-admin", role=Role.ADMIN))
    pages = {
        "channels": ("/channels/", "#finance-alerts"),
        "channel-deliveries": (f"/channels/{failing.pk}/", "Given up"),
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
                screenshot(page, f"{name}-{theme}-{size}")
                where = f"{name}, {theme}, {size}"
                text = page.locator("main").inner_text()
                if expected not in text or "Alerts are not getting through." not in text:
                    problems.append(f"{where}: {expected!r} or the banner missing")
                if any(s in page.content() for s in ("hookSecretPath987", "TeamsSig123456")):
                    problems.append(f"{where}: a secret part of a URL is on the page")
                if not fits(page, size):
                    problems.append(f"{where}: wider than the screen")
                problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == []
    assert page.js_errors == []


def test_adding_a_webhook_shows_its_secret_once(page, login, db):
    OrganizationFactory(name="Acme")
    login(UserFactory(username="alice-admin", role=Role.ADMIN))
    page.goto("/channels/")
    page.fill("#id_name", "On-call webhook")
    page.fill("#id_url", "msteams://a/b/c")
    page.click("#channel-form button[type=submit]")
    settle(page)
    assert "Microsoft retired the Teams connectors" in page.locator("#channel-form").inner_text()
    page.fill("#id_url", HOOK)
    page.click("#channel-form button[type=submit]")
    settle(page)
    secret = page.input_value("#secret-value")
    assert secret.startswith("whsec_")
    screenshot(page, "channel-added-secret")
    # The list reloaded with the new channel; a reload shows the secret no more.
    assert "On-call webhook" in page.locator("#channel-list").inner_text()
    page.reload()
    assert secret not in page.content()
    assert page.js_errors == []
