"""Access review campaigns: who had access (a snapshot taken at the start), who reviewed it,
what they decided, what was revoked through the API, and what was left as an exception."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgadmin.access_matrix.selectors import KIND_LABELS
from orgadmin.models import Organization


class Campaign(models.Model):
    """One review of a connection's project access, from its start to its close."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    all_projects = models.BooleanField(default=True)
    # The projects chosen (OpenAI ids) when not all of them; the snapshot says what was in scope.
    project_ids = models.JSONField(default=list, blank=True)
    due_on = models.DateField()
    auto_revoke = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_name = models.CharField(max_length=150)
    started_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by_name = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The audit log chain's head when the campaign closed (orgadmin.audit.chain.chain_head).
    chain_count = models.PositiveIntegerField(null=True, blank=True)
    chain_head = models.CharField(max_length=64, blank=True)
    chain_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Reviewer(models.Model):
    """A dashboard person who reviews one project of a campaign: one of its owners (matched by
    email) or someone the Admin named."""

    class Source(models.TextChoices):
        OWNER = "owner", "Project owner"
        NAMED = "named", "Named by the Admin"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=150)  # kept for the evidence if the account goes
    email = models.CharField(max_length=254, blank=True)
    project_id = models.CharField(max_length=100)
    project_name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        ordering = ["project_name", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "project_id", "user"], name="reviewer_once_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.project_name}"


class Item(models.Model):
    """One access path frozen at the start (a person, service account or key in a project), its
    decision and, for a revocation, its outcome at OpenAI."""

    class Decision(models.TextChoices):
        KEEP = "keep", "Keep"
        REVOKE = "revoke", "Revoke"

    class Revocation(models.TextChoices):
        PENDING = "pending", "To carry out"
        RUNNING = "running", "Running"
        DONE = "done", "Revoked"
        GONE = "gone", "Already gone"
        FAILED = "failed", "Failed"

    class Exception_(models.TextChoices):
        UNDECIDED = "undecided", "Not decided by the close"
        NOT_REVOKED = "not_revoked", "Revocation not carried out by the close"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    project_id = models.CharField(max_length=100)
    project_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20)  # "user" | "service_account" | "api_key"
    subject_id = models.CharField(max_length=100)
    label = models.CharField(max_length=300)
    email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=40, blank=True)
    via = models.CharField(max_length=300, blank=True)
    # What a revocation acts on besides the subject: the group of a person reached through one,
    # the service account that owns a key.
    target_id = models.CharField(max_length=100, blank=True)
    effect = models.CharField(max_length=500, blank=True)  # what revoking does, in words
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    revocation = models.CharField(max_length=10, choices=Revocation.choices, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)  # the last attempt's start
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    revoke_error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    exception = models.CharField(max_length=20, choices=Exception_.choices, blank=True)

    class Meta:
        ordering = ["project_name", "project_id", "kind", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "project_id", "kind", "subject_id", "via"],
                name="review_item_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} in {self.project_name}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class Reminder(models.Model):
    """One reminder to one reviewer about one campaign, at most one a day (UTC)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    undecided = models.PositiveIntegerField()
    channels = models.PositiveIntegerField(default=0)  # deliveries queued on alert channels
    emailed = models.BooleanField(default=False)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user", "day"], name="reminder_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.user_id} · {self.day}"
