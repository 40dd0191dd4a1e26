"""The Digests page: each person sees the digests their roles on the connection allow, turns
them on or off, picks where they go, asks for a preview; bad input is a message, never a 500."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse

from dashboard.alerts import services as alerts
from dashboard.digests import selectors
from dashboard.digests.models import Dispatch, Kind, Subscription
from dashboard.digests.services import PREVIEW_EVERY
from orgadmin.access import Role
from tests.digests.conftest import subscribe
from tests.factories import OrganizationFactory, UserFactory

PAGE = reverse("digests")
SAVE = reverse("digest_save")
PREVIEW = reverse("digest_preview")
WEBHOOK = "https://hooks.example.com/finance?token=s3cr3t-token-value"


def _shown(response) -> set[str]:
    return {row.kind for row in response.context["rows"]}


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (Role.FINANCE, {Kind.FINANCE_WEEKLY, Kind.FINANCE_MONTHLY}),
        (Role.AUDITOR, {Kind.AUDITOR_WEEKLY}),
        (Role.ADMIN, set(Kind)),
    ],
)
def test_it_offers_the_digests_a_role_allows(acme, client_as, role, kinds):
    person = UserFactory(username=f"p-{role}", roles_on={acme: role})
    response = client_as(person).get(PAGE)

    assert response.status_code == 200
    assert _shown(response) == kinds
    body = response.content.decode()
    for kind in set(Kind) - kinds:
        assert f'id="digest-{kind.value}"' not in body


def test_someone_without_a_role_gets_no_digest(acme, client_as, nobody):
    response = client_as(nobody).get(PAGE)
    assert response.status_code == 200
    assert "rows" not in (response.context or {})


def test_it_turns_a_digest_on_to_a_channel_named_by_its_masked_url_only(acme, fiona, client_as):
    channel, _ = alerts.channel_create(org=acme, name="#finance", url=WEBHOOK)
    client = client_as(fiona)
    page = client.get(PAGE).content.decode()
    assert channel.url_masked in html.unescape(page)
    assert "s3cr3t-token-value" not in page

    response = client.post(
        SAVE, {"kind": Kind.FINANCE_WEEKLY, "enabled": "on", "where": f"channel-{channel.pk}"}
    )

    assert response.status_code == 302
    sub = Subscription.objects.get(user=fiona, kind=Kind.FINANCE_WEEKLY)
    assert (sub.enabled, sub.where, sub.channel) == (True, "channel", channel)
    assert sub.enabled_at is not None
    after = client.get(response["Location"]).content.decode()
    assert "The Finance, weekly digest is on: it goes to the channel “#finance”." in after
    assert "Next:" in after


def test_it_turns_a_digest_off_again(acme, fiona, client_as):
    subscribe(fiona, acme)
    client_as(fiona).post(SAVE, {"kind": Kind.FINANCE_WEEKLY, "where": "email"})
    assert not Subscription.objects.get(user=fiona).enabled


def test_it_refuses_another_connections_channel_beside_the_field(acme, fiona, client_as):
    other = OrganizationFactory(name="Other")
    theirs, _ = alerts.channel_create(org=other, name="Their hook", url=WEBHOOK)

    response = client_as(fiona).post(
        SAVE, {"kind": Kind.FINANCE_WEEKLY, "enabled": "on", "where": f"channel-{theirs.pk}"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "Their hook" not in response.content.decode()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "ceo_daily", "enabled": "on", "where": "email"},
        {"kind": "\x00", "where": "channel-<script>"},
        {"kind": Kind.FINANCE_WEEKLY, "enabled": "on", "where": "channel-999999"},
    ],
)
def test_bad_input_is_a_message_never_a_500(acme, fiona, client_as, data):
    client = client_as(fiona)
    for url in (SAVE, PREVIEW):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, (url, data)
    assert not Subscription.objects.filter(enabled=True).exists()
    # Only a real digest's preview was queued (the last body names one, beside a junk channel).
    assert Dispatch.objects.count() == (1 if data.get("kind") == Kind.FINANCE_WEEKLY else 0)


def test_an_auditor_may_not_turn_on_a_finance_digest(acme, aude, client_as):
    client = client_as(aude)
    response = client.post(
        SAVE, {"kind": Kind.FINANCE_WEEKLY, "enabled": "on", "where": "email"}, follow=True
    )

    assert "This digest is for Finance or Admin on Acme." in response.content.decode()
    assert not Subscription.objects.filter(enabled=True).exists()
    preview = client.post(PREVIEW, {"kind": Kind.FINANCE_WEEKLY}, follow=True)
    assert "This digest is for Finance or Admin on Acme." in preview.content.decode()
    assert not Dispatch.objects.exists()


def test_someone_who_lost_the_role_may_still_turn_it_off(acme, fiona, aude, client_as):
    sub = subscribe(aude, acme, Kind.FINANCE_WEEKLY)  # given when aude was Finance too
    client = client_as(aude)
    page = client.get(PAGE).content.decode()
    assert "You no longer hold Finance or Admin on Acme" in page
    assert page.count("Send me a preview now") == 1  # the Auditor digest's only

    client.post(SAVE, {"kind": Kind.FINANCE_WEEKLY, "where": "email"})

    sub.refresh_from_db()
    assert not sub.enabled
    assert "You no longer hold" not in client.get(PAGE).content.decode()


def test_a_preview_goes_out_now_at_most_once_in_a_while(
    acme, fiona, client_as, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_as(fiona)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(PREVIEW, {"kind": Kind.FINANCE_MONTHLY}, follow=True)
        again = client.post(PREVIEW, {"kind": Kind.FINANCE_MONTHLY}, follow=True)

    assert "Queued a preview" in first.content.decode()
    assert "ask again in" in again.content.decode()
    (mail,) = mailoutbox
    assert mail.subject.startswith("Preview: Monthly spend: Acme, ")
    assert mail.to == [fiona.email]
    preview = Dispatch.objects.get()
    assert (preview.preview, preview.status) == (True, Dispatch.Status.SENT)
    # A preview doesn't count as the period's digest, nor turn the digest on.
    assert not Subscription.objects.get(user=fiona).enabled
    assert "Preview of" in client.get(PAGE).content.decode()


def test_a_preview_can_be_asked_again_after_the_wait(acme, fiona, clock, client_as):
    client = client_as(fiona)
    client.post(PREVIEW, {"kind": Kind.FINANCE_WEEKLY})
    clock.set(clock.now + PREVIEW_EVERY + dt.timedelta(seconds=1))
    response = client.post(PREVIEW, {"kind": Kind.FINANCE_WEEKLY}, follow=True)

    assert "Queued a preview" in response.content.decode()
    assert Dispatch.objects.filter(preview=True).count() == 2


def test_the_page_reads_a_fixed_number_of_queries(
    acme, client_as, django_assert_num_queries, clock
):
    admin = UserFactory(username="adm", roles_on={acme: Role.ADMIN})
    for kind in Kind:
        sub = subscribe(admin, acme, kind)
        Dispatch.objects.create(
            subscription=sub, period_start=dt.date(2025, 3, 24), period_end=dt.date(2025, 3, 31)
        )

    with django_assert_num_queries(4):  # the timezone, the grants, the choices, the dispatches
        rows = selectors.digest_rows(user=admin, org=acme, now=clock.now)

    assert [r.last is not None for r in rows] == [True, True, True]
