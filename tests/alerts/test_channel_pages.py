"""The Channels pages as people use them: who may, what the form says, what is shown (masked,
once), pausing, removing, the deliveries list that follows a test, CSRF, and query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.alerts import services
from dashboard.alerts.models import Channel, Delivery
from orgadmin.access import Role
from orgadmin.middleware import SESSION_KEY
from orgadmin.models import ActionLog
from tests.factories import OrganizationFactory, UserFactory

HOOK = "https://hooks.example.com/ingest/hookSecretPath987?token=queryToken654"
SLACK = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"


@pytest.fixture
def hook(acme):
    return services.channel_create(org=acme, name="Ops hook", url=HOOK)[0]


def test_only_an_admin_opens_the_channels_pages(acme, hook, client_as):
    for role in (Role.FINANCE, Role.AUDITOR):
        client = client_as(UserFactory(username=f"someone-{role}", role=role))
        assert client.get(reverse("channels")).status_code == 403
        assert client.get(reverse("channel_deliveries", args=[hook.pk])).status_code == 403
        assert client.post(reverse("channel_test", args=[hook.pk])).status_code == 403
    admin = client_as(UserFactory(username="admin", role=Role.ADMIN))
    page = admin.get(reverse("channels"))
    assert page.status_code == 200
    assert 'href="/channels/"' in page.content.decode()  # in the Admin's navigation


def test_it_lists_a_channel_masked_and_never_its_url(acme, hook, admin_of_all, client_as):
    text = client_as(admin_of_all).get(reverse("channels")).content.decode()
    assert "Ops hook" in text
    assert "Webhook (signed JSON)" in text
    assert "<code>https://hooks.example.com/…</code>" in text
    assert "Not tried yet" in text
    for secret in ("hookSecretPath987", "queryToken654", "ingest"):
        assert secret not in text
    # Its pages are addressed by its id, never by anything of its URL.
    assert f'href="/channels/{hook.pk}/"' in text


def test_it_adds_a_slack_channel_and_shows_no_secret(acme, admin_of_all, client_as):
    client = client_as(admin_of_all)
    answer = client.post(reverse("channel_add"), {"name": "#finance", "url": SLACK})
    assert answer.status_code == 200
    assert answer["Cache-Control"].startswith("max-age=0")  # never cached, like a new key
    text = answer.content.decode()
    assert "Added the channel “#finance”" in text
    assert 'id="secret-value"' not in text  # Slack signs nothing: no secret to show
    assert "abcdefghijklmnopqrstuvwx" not in text  # nor the URL, even in the form
    channel = Channel.objects.get(name="#finance")
    assert (channel.kind, channel.org, channel.created_by) == ("slack", acme, admin_of_all)
    log = ActionLog.objects.get(action="alert_channel.create")
    assert log.summary == (
        "Added the alert channel “#finance” (Slack, https://hooks.slack.com/…, this connection)"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("msteams://a/b/c", "Microsoft retired the Teams connectors"),
        ("gopher://example.com", "Apprise can&#x27;t read this gopher:// URL"),
        ("http://hooks.example.com/in", "Use https"),
        ("", "This field is required."),
    ],
)
def test_it_explains_a_url_it_refuses_and_keeps_nothing(acme, admin_of_all, client_as, url, says):
    answer = client_as(admin_of_all).post(reverse("channel_add"), {"name": "X", "url": url})
    assert answer.status_code == 200
    assert says in answer.content.decode()
    assert not Channel.objects.exists()


def test_it_refuses_a_second_channel_of_the_same_name(acme, hook, admin_of_all, client_as):
    client = client_as(admin_of_all)
    answer = client.post(reverse("channel_add"), {"name": "Ops hook", "url": SLACK})
    assert "A channel has this name already." in answer.content.decode()
    assert Channel.objects.count() == 1


def test_an_htmx_add_answers_with_the_form_card(acme, admin_of_all, client_as):
    answer = client_as(admin_of_all).post(
        reverse("channel_add"), {"name": "", "url": SLACK}, headers={"HX-Request": "true"}
    )
    text = answer.content.decode()
    assert text.lstrip().startswith('<article id="channel-form"')
    assert "Give the channel a name." in text or "This field is required." in text


def test_a_channel_for_all_connections_is_changed_only_by_an_admin_of_all(
    acme, client_as, admin_of_all
):
    shared, _ = services.channel_create(org=None, name="Everyone", url=SLACK)
    admin_of_acme = client_as(UserFactory(username="acme-admin", roles_on={acme: Role.ADMIN}))
    page = admin_of_acme.get(reverse("channels")).content.decode()
    assert "Everyone" in page
    assert "all connections" in page
    assert "An Admin of all connections manages it." in page
    assert 'name="for_all"' not in page  # nor may they add one
    for name in ("channel_test", "channel_toggle", "channel_remove"):
        assert admin_of_acme.post(reverse(name, args=[shared.pk])).status_code == 403
    assert admin_of_acme.get(reverse("channel_deliveries", args=[shared.pk])).status_code == 200
    # An Admin of all connections may add one for all.
    client = client_as(admin_of_all)
    assert 'name="for_all"' in client.get(reverse("channels")).content.decode()
    client.post(reverse("channel_add"), {"name": "All hook", "url": HOOK, "for_all": "on"})
    assert Channel.objects.get(name="All hook").org is None


def test_another_connections_channel_is_not_found(acme, hook, client_as):
    bravo = OrganizationFactory(name="Bravo")
    theirs, _ = services.channel_create(org=bravo, name="Bravo-only hook", url=HOOK)
    client = client_as(UserFactory(username="acme-admin", roles_on={acme: Role.ADMIN}))
    session = client.session
    session[SESSION_KEY] = bravo.pk  # a stale or hand-made session
    session.save()
    assert "Bravo-only hook" not in client.get(reverse("channels")).content.decode()
    assert client.get(reverse("channel_deliveries", args=[theirs.pk])).status_code == 404
    for name in ("channel_test", "channel_toggle", "channel_remove"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    assert Channel.objects.filter(pk=theirs.pk, disabled=False).exists()
    assert not Delivery.objects.exists()


def test_a_paused_channel_gets_no_alerts_until_resumed(acme, hook, admin_of_all, client_as):
    client = client_as(admin_of_all)
    client.post(reverse("channel_toggle", args=[hook.pk]))
    assert "Paused" in client.get(reverse("channels")).content.decode()
    assert services.notify(org=acme, subject="s", body="b") == []
    client.post(reverse("channel_toggle", args=[hook.pk]))
    assert [d.channel for d in services.notify(org=acme, subject="s", body="b")] == [hook]


def test_removing_a_channel_takes_its_deliveries(acme, hook, admin_of_all, client_as):
    services.notify(org=acme, subject="s", body="b")
    client = client_as(admin_of_all)
    answer = client.post(reverse("channel_remove", args=[hook.pk]), headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "directoryChanged" in answer["HX-Trigger"]
    assert not Channel.objects.exists()
    assert not Delivery.objects.exists()
    assert ActionLog.objects.filter(action="alert_channel.delete").count() == 1
    # The message comes with the answer (out of band), the list reloads on the event.
    assert "Removed the channel “Ops hook” and its deliveries." in answer.content.decode()


def test_the_remove_button_asks_first_naming_the_channel(acme, hook, admin_of_all, client_as):
    text = client_as(admin_of_all).get(reverse("channels")).content.decode()
    assert (
        'data-confirm="Remove the channel “Ops hook” (https://hooks.example.com/…)? Alerts stop '
        'going there, and its delivery history is deleted."'
    ) in text


def test_the_deliveries_list_polls_while_a_delivery_is_pending(acme, hook, admin_of_all, client_as):
    client = client_as(admin_of_all)
    # Queued (the transaction never commits here, so the task never runs): the list polls.
    answer = client.post(reverse("channel_test", args=[hook.pk]))
    assert answer["Location"] == reverse("channel_deliveries", args=[hook.pk])
    page = client.get(answer["Location"]).content.decode()
    assert "Queued a test message to “Ops hook”" in page
    assert 'hx-trigger="every 2s"' in page
    assert "Not tried yet." in page
    Delivery.objects.update(status=Delivery.Status.SENT)
    fragment = client.get(answer["Location"], headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="delivery-list"')
    assert "every 2s" not in fragment  # done: the swapped-in list stops polling


def test_every_post_needs_its_csrf_token(acme, hook, admin_of_all):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_of_all)
    posts = [
        (reverse("channel_add"), {"name": "New", "url": SLACK}),
        (reverse("channel_test", args=[hook.pk]), {}),
        (reverse("channel_toggle", args=[hook.pk]), {}),
        (reverse("channel_remove", args=[hook.pk]), {}),
    ]
    for url, data in posts:
        answer = client.post(url, data)
        assert answer.status_code == 403, url
        assert b"CSRF" in answer.content, url
    assert list(Channel.objects.values_list("name", "disabled")) == [("Ops hook", False)]
    assert not Delivery.objects.exists()


def test_the_pages_ask_a_fixed_number_of_queries(
    acme, hook, admin_of_all, client_as, django_assert_num_queries
):
    for n in range(3):
        services.channel_create(org=acme, name=f"Hook {n}", url=HOOK)
        delivery = services.notify(org=acme, subject=f"s{n}", body="b")[0]
        Delivery.objects.filter(pk=delivery.pk).update(attempts=1)
    client = client_as(admin_of_all)
    client.get(reverse("channels"))  # the session, written once
    # Every page's (session, user, grants, connections) + the banner's + the list.
    with django_assert_num_queries(6):
        client.get(reverse("channels"))
    # + the channel, the deliveries and their attempts (one each, however many).
    with django_assert_num_queries(8):
        client.get(reverse("channel_deliveries", args=[hook.pk]))
