"""What a channel URL is, how it shows, and how it is kept: the kind from Apprise's reading, a
mask with the scheme and host only, encryption at rest, and never a secret part in a log line or
a stored error."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.db import connection

from dashboard.alerts import services
from dashboard.alerts.models import Channel, Delivery
from dashboard.alerts.targets import TargetRefused, mask, scrub, target_of
from orgadmin.models import ActionLog

SLACK_TOKEN = "T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"
SLACK = f"https://hooks.slack.com/services/{SLACK_TOKEN}"
DISCORD = "https://discord.com/api/webhooks/123456789012345678/discordSecretToken_abcdef"
TEAMS = (
    "https://prod-07.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f/triggers/manual/"
    "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TeamsSig123456"
)
MAIL = "mailtos://alerts:SmtpPassw0rd@smtp.example.com:587?to=finance@example.com"
HOOK = "https://hooks.example.com/ingest/hookSecretPath987?token=queryToken654"


@pytest.mark.parametrize(
    ("url", "kind", "masked"),
    [
        (SLACK, "slack", "https://hooks.slack.com/…"),
        (f"slack://{SLACK_TOKEN}", "slack", "slack://…"),
        (DISCORD, "discord", "https://discord.com/…"),
        ("discord://123456789012345678/discordSecretToken_abcdef", "discord", "discord://…"),
        (TEAMS, "msteams", "https://prod-07.westeurope.logic.azure.com:443/…"),
        (MAIL, "email", "mailtos://smtp.example.com:587/…"),
        (HOOK, "webhook", "https://hooks.example.com/…"),
        (
            "jsons://hooks.example.com/ingest/hookSecretPath987",
            "webhook",
            "jsons://hooks.example.com/…",
        ),
    ],
)
def test_it_reads_the_kind_from_the_url_and_masks_all_but_scheme_and_host(url, kind, masked):
    target = target_of(url)
    assert (target.kind, target.masked) == (kind, masked)
    for secret in (
        "abcdefghijklmnopqrstuvwx",
        "discordSecretToken",
        "TeamsSig",
        "SmtpPassw0rd",
        "hookSecretPath987",
        "queryToken654",
        "alerts:",
        "0a1b2c3d4e5f",
    ):
        assert secret not in target.masked


def test_it_posts_json_urls_to_their_http_equivalent(settings):
    settings.ALERT_WEBHOOK_HTTP_HOSTS = ["receiver.internal:8080"]
    assert target_of("jsons://hooks.example.com/a/b?x=1").webhook_url == (
        "https://hooks.example.com/a/b?x=1"
    )
    assert target_of("json://receiver.internal:8080/in").webhook_url == (
        "http://receiver.internal:8080/in"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("msteams://team/abc/def", "Microsoft retired the Teams connectors"),
        ("hooks.example.com/in", "starts with its service"),
        ("ftp://files.example.com/drop", "Apprise can't read this ftp:// URL"),
        ("slack://T0AAAAAAA", "Apprise can't read this slack:// URL"),
        ("tgram://123456789:ABCdefGhIJKlmnOPqrstUVwxyz/12345", "This is a Telegram URL"),
        ("http://hooks.example.com/in", "Use https"),
        ("json://hooks.example.com/in", "Use https"),
        ("https://hooks.example.com/in#part", "fragment"),
        ("https://hooks.example.com/a b", "one line without spaces"),
    ],
)
def test_it_refuses_a_url_it_cant_use_and_says_why(url, says):
    with pytest.raises(TargetRefused) as refused:
        target_of(url)
    assert says in refused.value.message
    assert url not in refused.value.message


def test_it_lets_plain_http_reach_only_the_hosts_an_operator_allows(settings):
    settings.ALERT_WEBHOOK_HTTP_HOSTS = ["127.0.0.1:9000"]
    assert target_of("http://127.0.0.1:9000/in").kind == "webhook"
    with pytest.raises(TargetRefused):
        target_of("http://127.0.0.1:9001/in")


def test_it_scrubs_every_secret_part_of_a_url_from_a_text():
    text = f"POST {TEAMS} failed; sig=TeamsSig123456 workflow 0a1b2c3d4e5f"
    cleaned = scrub(text, TEAMS)
    assert "TeamsSig123456" not in cleaned
    assert "0a1b2c3d4e5f" not in cleaned
    assert cleaned.startswith("POST … failed")
    assert "SmtpPassw0rd" not in scrub("login alerts:SmtpPassw0rd refused", MAIL)
    assert mask("not a url") == "…"


def test_it_keeps_the_url_and_the_secret_encrypted_at_rest(db):
    channel, secret = services.channel_create(org=None, name="Hook", url=HOOK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM alerts_channel WHERE id = %s", [channel.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    for part in (HOOK, "hookSecretPath987", "queryToken654", secret, secret[6:]):
        assert part not in row
    assert "https://hooks.example.com/…" in row  # the mask, for the pages
    stored = Channel.objects.get(pk=channel.pk)
    assert (stored.url, stored.secret) == (HOOK, secret)
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    # Slack and the others sign nothing: no secret is made for them.
    slack, none = services.channel_create(org=None, name="Slack", url=SLACK)
    assert none == ""
    assert slack.secret == ""


def test_a_channel_whose_key_is_gone_fails_its_deliveries_with_a_reason(
    db, settings, django_capture_on_commit_callbacks
):
    channel, _secret = services.channel_create(org=None, name="Hook", url=HOOK)
    settings.FIELD_ENCRYPTION_KEYS = ["bmV3LWtleS1ub3QtdGhlLW9uZS11c2VkLWJlZm9yZTA="]
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.notify(org=None, subject="s", body="b", channels=[channel])
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.GIVEN_UP
    assert "can't be decrypted" in delivery.attempt_log.get().error


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the console handler writes (the house method: tests/test_log_redaction.py), with
    Apprise's DEBUG lines let through, where it prints the URLs it posts to."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    apprise_logger = logging.getLogger("apprise")
    level = apprise_logger.level
    apprise_logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        apprise_logger.setLevel(level)
        handler.setStream(previous)


def test_no_log_line_or_stored_error_carries_a_channels_url(
    db, console, receiver, settings, django_capture_on_commit_callbacks
):
    """A webhook with tokens in its path and query, a Teams workflow (Apprise posts it over
    https to a local plain-http receiver: a TLS error) and an unreadable https URL: every log
    line, attempt error and channel message is free of their secret parts."""
    settings.ALERT_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    receiver.script = [500]
    port = receiver.url.split(":")[2].split("/")[0]
    hook = f"http://127.0.0.1:{port}/in/hookSecretPath987?token=queryToken654"
    teams = f"workflows://127.0.0.1:{port}/0a1b2c3d4e5f/TeamsSig123456/"
    channels = [
        services.channel_create(org=None, name=name, url=url)[0]
        for name, url in (("Hook", hook), ("Teams", teams))
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(org=None, subject="Spike", body="Spend jumped.", channels=channels)
    with pytest.raises(TargetRefused):
        target_of("ftp://user:ftpSecret55@files.example.com/dropSecret77")

    output = console.getvalue()
    stored = " ".join(
        [a.error for d in Delivery.objects.all() for a in d.attempt_log.all()]
        + [c.last_failure_message for c in Channel.objects.all()]
        + list(ActionLog.objects.values_list("summary", flat=True))
    )
    assert "given up after 2 attempts" in output  # the lines were captured
    assert "Added the alert channel “Hook” (Webhook (signed JSON), http://127.0.0.1:" in stored
    for secret in (
        "hookSecretPath987",
        "queryToken654",
        "0a1b2c3d4e5f",
        "TeamsSig123456",
        "ftpSecret55",
        "dropSecret77",
    ):
        assert secret not in output, secret
        assert secret not in stored, secret
