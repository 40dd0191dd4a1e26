"""Findings, stored after each sync with their outcome, and each organization's thresholds."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgadmin.hygiene.rules import KINDS, Group, Kind, Severity, Thresholds
from orgadmin.models import Organization

_DEFAULTS = Thresholds()
KIND_CHOICES = [(k.value, KINDS[k][0]) for k in Kind]
SEVERITY_CHOICES = [(s.value, s.value.title()) for s in Severity]
BADGES = {"high": "error", "medium": "warn", "low": "info", "info": "ok"}  # the badge's class


class HygieneSettings(models.Model):
    """An organization's thresholds (the rules' defaults until an Admin changes them)."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    key_unused_days = models.PositiveIntegerField(
        "Key unused after (days)", default=_DEFAULTS.key_unused_days
    )
    key_grace_days = models.PositiveIntegerField(
        "New key grace period (days)", default=_DEFAULTS.key_grace_days
    )
    admin_key_max_age_days = models.PositiveIntegerField(
        "Admin key old after (days)", default=_DEFAULTS.admin_key_max_age_days
    )
    admin_key_unused_days = models.PositiveIntegerField(
        "Admin key unused after (days)", default=_DEFAULTS.admin_key_unused_days
    )
    max_owners = models.PositiveIntegerField(
        "Most organization owners", default=_DEFAULTS.max_owners
    )
    member_dormant_days = models.PositiveIntegerField(
        "Member not signed in after (days)", default=_DEFAULTS.member_dormant_days
    )
    invite_pending_days = models.PositiveIntegerField(
        "Invite pending after (days)", default=_DEFAULTS.invite_pending_days
    )
    certificate_warning_days = models.PositiveIntegerField(
        "Certificate warning (days before expiry)", default=_DEFAULTS.certificate_warning_days
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"hygiene thresholds of org {self.org_id}"

    def thresholds(self) -> Thresholds:
        return Thresholds(**{f: getattr(self, f) for f in Thresholds.__dataclass_fields__})


class Finding(models.Model):
    """One thing wrong, keyed on what it is about; `resolved_at` once the condition clears."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        IGNORED = "ignored", "Ignored"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    subject = models.CharField(max_length=200)
    group = models.CharField(max_length=20, choices=[(g.value, g.value) for g in Group])
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES)
    rank = models.PositiveSmallIntegerField(default=0)  # 0 for the most severe, for ordering
    title = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict)
    fix = models.CharField(max_length=500)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    reason = models.TextField(blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "rank", "title"]
        constraints = [
            models.UniqueConstraint(fields=["org", "kind", "subject"], name="finding_natural_key")
        ]
        indexes = [models.Index(fields=["org", "resolved_at", "outcome"])]

    def __str__(self) -> str:
        return self.title

    @property
    def badge(self) -> str:
        return BADGES[self.severity]


def open_q(now: dt.datetime) -> Q:
    """Findings that count: current, and open, or accepted until a day that has come."""
    return Q(resolved_at__isnull=True) & (
        Q(outcome=Finding.Outcome.OPEN)
        | Q(outcome=Finding.Outcome.ACCEPTED, accepted_until__lte=now.date())
    )
