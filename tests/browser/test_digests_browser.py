"""The Digests page in Chromium: an Admin's three digests (one sent to a channel, one whose mail
failed and will be retried, one off), and someone who lost the Finance role, in both themes on a
desktop and a 390 px phone, with axe-core; and turning a digest on from the page."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dashboard.alerts import services as alerts
from dashboard.alerts.models import Delivery
from dashboard.digests.models import Dispatch, Kind, Subscription
from dashboard.models import ReportingSettings
from orgadmin.access import Role
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory

HOOK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"
SMTP_ERROR = "SMTPServerDisconnected: Connection unexpectedly closed by smtp.example.com"


def _states(org, person) -> None:
    now = timezone.now()
    channel, _ = alerts.channel_create(org=org, name="#finance-digests", url=HOOK)
    weekly = Subscription.objects.create(
        user=person, org=org, kind=Kind.FINANCE_WEEKLY, enabled=True, where="channel",
        channel=channel, enabled_at=now - dt.timedelta(days=30),
    )  # fmt: skip
    delivery = Delivery.objects.create(
        channel=channel, org=org, topic="digest", subject="Weekly spend", body="…",
        status=Delivery.Status.SENT, attempts=1, finished_at=now - dt.timedelta(days=2),
    )  # fmt: skip
    Dispatch.objects.create(
        subscription=weekly, period_start=dt.date(2025, 3, 24), period_end=dt.date(2025, 3, 31),
        status=Dispatch.Status.SENT, attempts=1, delivery=delivery,
        destination="“#finance-digests” (Slack)", sent_at=now - dt.timedelta(days=2),
    )  # fmt: skip
    monthly = Subscription.objects.create(
        user=person, org=org, kind=Kind.FINANCE_MONTHLY, enabled=True,
        enabled_at=now - dt.timedelta(days=60),
    )  # fmt: skip
    Dispatch.objects.create(
        subscription=monthly, period_start=dt.date(2025, 2, 1), period_end=dt.date(2025, 3, 1),
        status=Dispatch.Status.FAILED, attempts=2, error=SMTP_ERROR,
        next_attempt_at=now + dt.timedelta(minutes=12), created_at=now - dt.timedelta(hours=1),
    )  # fmt: skip


def _look(page, name: str, expected: str) -> list[str]:
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto("/digests/")
            settle(page)
            screenshot(page, f"i20-{name}-{theme}-{size}")
            where = f"{name}, {theme}, {size}"
            text = page.locator("main").inner_text()
            if expected not in text:
                problems.append(f"{where}: {expected!r} missing")
            if "abcdefghijklmnopqrstuvwx" in page.content():
                problems.append(f"{where}: a secret part of a channel's URL is on the page")
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    return problems


def test_the_digests_page_reads_well_in_both_themes_and_on_a_phone(page, login, db):
    org = OrganizationFactory(name="Acme")
    ReportingSettings.objects.create(org=org, timezone="Europe/Berlin")
    admin = UserFactory(username="alice-admin", roles_on={org: Role.ADMIN})
    _states(org, admin)
    login(admin)
    problems = _look(page, "digests", SMTP_ERROR)

    lost = UserFactory(username="fred-now-auditor", roles_on={org: Role.AUDITOR})
    Subscription.objects.create(
        user=lost, org=org, kind=Kind.FINANCE_WEEKLY, enabled=True, enabled_at=timezone.now()
    )
    page.context.clear_cookies()  # signed out
    login(lost)
    problems += _look(page, "digests-role-lost", "You no longer hold Finance or Admin on Acme")

    assert problems == []
    assert page.js_errors == []


def test_turning_a_digest_on_from_the_page(page, login, db):
    org = OrganizationFactory(name="Acme")
    person = UserFactory(username="fiona", roles_on={org: Role.FINANCE})
    login(person)
    page.goto("/")
    page.click(".user-menu summary")
    page.click("text=My digests")
    page.wait_for_url("**/digests/")
    card = page.locator("#digest-finance_weekly")
    card.get_by_label("Send me this digest").check()
    card.locator("button[type=submit]", has_text="Save").click()
    page.wait_for_load_state()

    assert "The Finance, weekly digest is on: it goes to your email." in page.inner_text("main")
    assert page.locator("#digest-finance_weekly .badge").first.inner_text() == "On"
    assert Subscription.objects.get(user=person, kind=Kind.FINANCE_WEEKLY).enabled
    assert page.js_errors == []
