"""A person's read-only access token for BI tools: only its SHA-256 is stored, never the token."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "odt_"
# PREFIX and 43 URL-safe base64 characters: 32 random bytes (secrets.token_urlsafe(32)).
SHAPE = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{43}}")


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex. A 256-bit random token needs no salt or
    slow hash (nothing to guess from a dictionary), and no server secret that a key rotation
    would turn into every BI tool's schedule failing at once."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccessToken(models.Model):
    """Reads the exports as its person, with their roles of the moment, until it expires or is
    revoked (orgadmin/tokens/middleware.py)."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def masked(self) -> str:
        """How the token is recognised on the page and in the action log: odt_…abcd."""
        return f"{PREFIX}…{self.last4}"

    def state(self, now: dt.datetime | None = None) -> State:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return self.State.EXPIRED
        return self.State.ACTIVE
