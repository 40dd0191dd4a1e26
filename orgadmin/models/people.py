"""Invitations to this dashboard: a colleague asked by email to sign in here with a role.

Not an OpenAI organization invite (orgadmin.models.Invite, from the API): this one makes an
account of ours. Its link carries a random token that is kept only as a SHA-256 hash, so a copy
of the database holds no usable link.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgadmin.access import Role
from orgadmin.models.core import Organization


def token_hash(token: str) -> str:
    """The hash an invitation keeps of its link's token (a random 256-bit value: a plain
    SHA-256 is enough, nothing to guess)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """One person invited by email to hold `role` on `org` (None: every connection)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    email = models.EmailField(max_length=254)  # lower case
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    # None: for every connection, those added later too (as a RoleGrant without one).
    org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # The link's token, hashed; a resend replaces it, so the older link stops working.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.email} · {self.role} · {self.where}"

    @property
    def where(self) -> str:
        return self.org.name if self.org_id else "all connections"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
