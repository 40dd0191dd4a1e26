"""The access history: each path to a project (who, in what role, by which path) as an interval,
from the directory sync that first saw it to the one that no longer did."""

from __future__ import annotations

from django.db import models

from orgadmin.models import Organization


class AccessGrant(models.Model):
    """One grant over its life: `ended_at` is null while the directory cache still shows it.

    A role change ends one grant and opens another. Times are those of the directory syncs that
    saw the change, not of the change itself (the audit log has those).
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    project_id = models.CharField(max_length=100)
    project_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20)  # selectors.KINDS
    subject_id = models.CharField(max_length=100)
    # What makes two paths of one subject different: the group's name for a person reached
    # through a group, blank otherwise (a key's owner is shown in `via`, not part of the path).
    path = models.CharField(max_length=300, blank=True)
    label = models.CharField(max_length=400, blank=True)
    email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=40, blank=True)
    via = models.CharField(max_length=400, blank=True)
    first_seen = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_name", "project_id", "kind", "label", "first_seen"]
        indexes = [
            models.Index(fields=["org", "ended_at"], name="accessgrant_open"),
            models.Index(fields=["org", "first_seen"], name="accessgrant_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_id} in {self.project_id} ({self.role or '—'})"


class AccessHistory(models.Model):
    """When the access history of an organization began: nothing before it is known."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"access history of org {self.org_id} since {self.started_at:%Y-%m-%d}"
