"""Digests a person picks (a `Subscription`: which digest, on which connection, sent where) and
each one sent (a `Dispatch`: one per subscription and period, never two, plus any previews)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dashboard.alerts.models import Channel, Delivery
from dashboard.digests.schedule import MONTHLY, WEEKLY
from orgadmin.access import Perm, Role
from orgadmin.models import Organization


class Kind(models.TextChoices):
    FINANCE_WEEKLY = "finance_weekly", "Finance, weekly"
    FINANCE_MONTHLY = "finance_monthly", "Finance, monthly"
    AUDITOR_WEEKLY = "auditor_weekly", "Auditor, weekly"


# What each digest needs on the connection, how often it comes, and what the page says of it.
PERMISSION: dict[str, Perm] = {
    Kind.FINANCE_WEEKLY: Perm.VIEW_SPEND,
    Kind.FINANCE_MONTHLY: Perm.VIEW_SPEND,
    Kind.AUDITOR_WEEKLY: Perm.VIEW_AUDIT_LOG,
}
CADENCE: dict[str, str] = {
    Kind.FINANCE_WEEKLY: WEEKLY,
    Kind.FINANCE_MONTHLY: MONTHLY,
    Kind.AUDITOR_WEEKLY: WEEKLY,
}
ROLES_NEEDED: dict[str, str] = {
    Kind.FINANCE_WEEKLY: f"{Role.FINANCE} or {Role.ADMIN}",
    Kind.FINANCE_MONTHLY: f"{Role.FINANCE} or {Role.ADMIN}",
    Kind.AUDITOR_WEEKLY: f"{Role.AUDITOR} or {Role.ADMIN}",
}
DESCRIPTION: dict[str, str] = {
    Kind.FINANCE_WEEKLY: (
        "Last week's spend against the week before, the month-end forecast, budgets, the "
        "keys, projects and models that rose most, and open anomalies."
    ),
    Kind.FINANCE_MONTHLY: (
        "Last month's spend against the month before, this month's forecast, budgets, the "
        "keys, projects and models that rose most, and open anomalies."
    ),
    Kind.AUDITOR_WEEKLY: (
        "The security summary: key, member, role and certificate changes, sign-in failures "
        "and admin-key activity, with links into the audit log."
    ),
}


class Subscription(models.Model):
    """One person's choice for one digest of one connection: on or off, and where it goes."""

    class Where(models.TextChoices):
        EMAIL = "email", "My account's email"
        CHANNEL = "channel", "An alert channel"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    enabled = models.BooleanField(default=False)
    where = models.CharField(max_length=10, choices=Where.choices, default=Where.EMAIL)
    # Kept as the person's choice when the channel goes: a removed channel fails the digest on
    # the person's page instead of quietly sending it elsewhere.
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When it was last turned on: a period due before that is not sent (no digest of a week
    # that ended before one asked for it).
    enabled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "org", "kind"], name="digest_once_per_person")
        ]
        indexes = [models.Index(fields=["enabled", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user_id} on {self.org_id}"

    @property
    def cadence(self) -> str:
        return CADENCE[self.kind]

    @property
    def permission(self) -> Perm:
        return PERMISSION[self.kind]


class Dispatch(models.Model):
    """One digest sent (or to be sent) for one subscription and period. The unique constraint
    makes it once per period, however often the beat runs; a preview is one more, outside it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, will retry"
        GIVEN_UP = "given_up", "Given up"
        SKIPPED = "skipped", "Not sent"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="dispatches"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    preview = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds it while sending; a worker that dies lets it go when this passes.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Made at the first attempt and kept, so a retry sends the same digest.
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # Where it went, as it was called then ("alice@example.com", "“#finance” (Slack)").
    destination = models.CharField(max_length=300, blank=True)
    # Why it failed or was not sent, as the person reads it.
    error = models.TextField(blank=True)
    # A channel's: the delivery that carries it (its retries and attempts are the alerts').
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=Q(preview=False),
                name="digest_once_per_period",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period_start}: {self.status}"

    @property
    def last_day(self) -> dt.date:
        """The period's last day (period_end is the day after it)."""
        return self.period_end - dt.timedelta(days=1)

    @property
    def outcome(self) -> tuple[str, str]:
        """(what the page says, the badge's kind): a channel's digest is as far as its delivery."""
        if self.status == self.Status.SENT and self.delivery is not None:
            status = Delivery.Status(self.delivery.status)
            kinds = {"sent": "ok", "queued": "info", "failed": "warn", "given_up": "error"}
            return f"{status.label} to the channel", kinds[status.value]
        kinds = {"sent": "ok", "queued": "info", "sending": "info", "failed": "warn"}
        kinds["skipped"] = "warn"
        return self.get_status_display(), kinds.get(self.status, "error")
