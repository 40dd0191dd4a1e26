"""Alerts (an `Alert`: a budget threshold crossed, an anomaly), where they go (a `Channel`), and
what happened to each message sent there (a `Delivery`, one per message and channel, and its
`DeliveryAttempt`s)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orgadmin import crypto
from orgadmin.models import Organization

if TYPE_CHECKING:
    from dashboard.alerts.targets import Target


class ChannelUnreadable(Exception):
    """No configured FIELD_ENCRYPTION_KEYS key decrypts the stored URL or secret."""

    def __str__(self) -> str:
        return (
            "The channel's stored URL can't be decrypted with the configured encryption keys: "
            "remove the channel and add it again."
        )


class Channel(models.Model):
    """One place alerts are sent: an Apprise URL, kept encrypted like an admin key and only ever
    shown masked. For one connection (`org`), or for all of them (no `org`), as role grants are."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MSTEAMS = "msteams", "Microsoft Teams"
        DISCORD = "discord", "Discord"
        EMAIL = "email", "Email (SMTP)"
        WEBHOOK = "webhook", "Webhook (signed JSON)"

    # None: the alerts of every connection, those added later too.
    org = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_channels",
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, editable=False)
    # Fernet tokens (orgadmin.crypto); never the URL or the secret themselves.
    url_encrypted = models.TextField(editable=False)
    url_masked = models.CharField(max_length=200, editable=False)
    # A webhook's HMAC-SHA256 signing secret (blank for the other kinds).
    secret_encrypted = models.TextField(editable=False, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    disabled = models.BooleanField(default=False)
    # Deliveries given up on in a row; a sent one resets it. Flagged at ALERT_CHANNEL_FLAG_AFTER.
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_message = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            # Two, as for role grants: NULLs are distinct in a unique index.
            models.UniqueConstraint(
                fields=["org", "name"], condition=Q(org__isnull=False), name="channel_name_per_org"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(org__isnull=True), name="channel_name_for_all"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_target(self, target: Target) -> None:
        """Store a checked URL (encrypted), its mask and its kind; the caller saves."""
        self.kind = target.kind
        self.url_encrypted = crypto.encrypt(target.url)
        self.url_masked = target.masked[:200]

    def new_secret(self) -> str:
        """A fresh webhook signing secret, stored encrypted; returned to be shown once."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        self.secret_encrypted = crypto.encrypt(secret)
        return secret

    @property
    def url(self) -> str:
        return self._decrypt(self.url_encrypted)

    @property
    def secret(self) -> str:
        return self._decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @staticmethod
    def _decrypt(token: str) -> str:
        try:
            return crypto.decrypt(token)
        except crypto.InvalidToken:
            raise ChannelUnreadable from None

    @property
    def flagged(self) -> bool:
        """Failing: its last ALERT_CHANNEL_FLAG_AFTER deliveries were all given up on."""
        return self.consecutive_failures >= settings.ALERT_CHANNEL_FLAG_AFTER

    @property
    def for_all(self) -> bool:
        return self.org_id is None

    @property
    def state(self) -> tuple[str, str]:
        """(what the list says, the badge's kind): paused, failing, a failed attempt since the
        last success, working, or never tried."""
        if self.disabled:
            return "Paused", ""
        if self.flagged:
            return "Failing", "error"
        failed_last = self.last_failure_at and (
            self.last_success_at is None or self.last_failure_at > self.last_success_at
        )
        if failed_last:
            return "Retrying", "warn"
        if self.last_success_at:
            return "Working", "ok"
        return "Not tried yet", "info"


class Alert(models.Model):
    """One thing people should know about, once: a budget threshold crossed in a period, or an
    anomaly episode (updated while it lasts, closed when it ends). `key` says what makes it the
    same alert on the next check, so a check that runs after every sync raises it only once."""

    class Kind(models.TextChoices):
        BUDGET = "budget", "Budget"
        ANOMALY = "anomaly", "Anomaly"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        EXPECTED = "expected", "Expected"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What makes it one alert: an anomaly's "<dimension>:<value>:<first day>", a budget's
    # "<budget id>:<period start>:<threshold>".
    key = models.CharField(max_length=300)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    # What the inbox shows beside the summary (amounts, the likely cause, links), JSON-safe.
    details = models.JSONField(default=dict, blank=True)
    # The condition still holds (an anomaly still going on); cleared when it ends.
    ongoing = models.BooleanField(default=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Who last moved its state (acknowledged, resolved, marked expected, reopened), and when.
    state_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "kind", "key"], name="alert_once_per_key")
        ]
        indexes = [models.Index(fields=["org", "state", "-opened_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def badge(self) -> str:
        """The status badge's kind for its state."""
        return {
            self.State.OPEN: "error",
            self.State.ACKNOWLEDGED: "warn",
            self.State.RESOLVED: "ok",
            self.State.EXPECTED: "info",
        }[self.State(self.state)]


class Delivery(models.Model):
    """One message to one channel, tried until sent or given up."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        FAILED = "failed", "Failed, will retry"
        SENT = "sent", "Sent"
        GIVEN_UP = "given_up", "Given up"

    DONE = (Status.SENT, Status.GIVEN_UP)

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    # The connection whose alert this is (a channel for all connections carries several).
    org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The alert it tells of (none for a test or a digest).
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # What sent it: "test" (the Send a test button), or the caller's word ("budget", "anomaly").
    topic = models.CharField(max_length=40, default="alert")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Extra fields for webhooks (the JSON body's "data"); other kinds get the subject and body.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["channel", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} → {self.channel}"

    @property
    def done(self) -> bool:
        return self.status in self.DONE


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: when, how it went, and why not."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    # What went wrong, as the service or the network said it, the channel's URL scrubbed out.
    error = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {'sent' if self.ok else 'failed'}"
