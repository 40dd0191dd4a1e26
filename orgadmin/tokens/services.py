"""Creating, revoking, checking and using access tokens. Every create, revoke and use (at most
once a minute per token) goes into the action log, by the token's mask, never the token."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused
from orgadmin.tokens.models import PREFIX, SHAPE, AccessToken, token_digest

MAX_ACTIVE = 20  # per person: more than a BI team needs, few enough to review on one page
USE_LOGGED_EVERY = dt.timedelta(minutes=1)


class TokenRefused(Exception):
    """A bearer token that does not let anyone in: unknown, expired, revoked, or its person's
    account closed. The message says which, and what to do."""


def token_create(*, user: Any, name: str, days: int) -> tuple[AccessToken, str]:
    """A new token for `user`, valid `days` days: (the row, the token, which is not stored)."""
    now = timezone.now()
    mine = AccessToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if mine.filter(name=name).exists():
        raise ChangeRefused(f"You already have an active token named “{name}”.", field="name")
    if mine.count() >= MAX_ACTIVE:
        raise ChangeRefused(
            f"You have {MAX_ACTIVE} active tokens, the most one person may hold: revoke one first."
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=user,
            name=name,
            digest=token_digest(secret),
            last4=secret[-4:],
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        _log(token, None, "token.create", f"Created the access token “{name}” ({token.masked})")
    return token, secret


def token_revoke(*, token: AccessToken) -> AccessToken:
    """Revoke a token now: the next request that carries it gets 401."""
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _log(token, None, "token.revoke", f"Revoked the access token “{token}”")
    return token


def token_check(*, raw: str) -> AccessToken:
    """The token a request's bearer value names, if it lets its person in; else TokenRefused."""
    if not SHAPE.fullmatch(raw):
        raise TokenRefused(
            f"This is not an access token of this dashboard (they start with {PREFIX})."
        )
    token = AccessToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None:
        raise TokenRefused("This access token is unknown here: check it was copied whole.")
    when = timezone.localtime
    if token.revoked_at is not None:
        revoked = when(token.revoked_at).strftime("%Y-%m-%d %H:%M %Z")
        raise TokenRefused(f"This access token ({token.masked}) was revoked on {revoked}.")
    if token.expires_at <= timezone.now():
        expired = when(token.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        raise TokenRefused(
            f"This access token ({token.masked}) expired on {expired}: create a new one."
        )
    if not token.user.is_active:
        raise TokenRefused("The person this access token belongs to can no longer sign in.")
    return token


def token_used(
    *, token: AccessToken, org: Organization | None, path: str, status: int = 200
) -> bool:
    """Note a use of `token`: its last use, and one action-log line, at most once a minute
    (a conditional update, so two processes don't both log it). True when it was logged."""
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at > now - USE_LOGGED_EVERY:
        return False  # as read a moment ago: no write at all (SQLite's writer lock is shared)
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - USE_LOGGED_EVERY)
    with transaction.atomic():
        if not AccessToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
            return False
        token.last_used_at = now
        did = "Read" if status < 400 else f"Was refused ({status})"
        _log(token, org, "token.use", f"{did} {path[:300]} with the access token “{token}”")
    return True


def _log(token: AccessToken, org: Organization | None, action: str, summary: str) -> None:
    action_record(
        actor=token.user,
        org=org,
        action=action,
        summary=summary,
        resource_type="access_token",
        resource_id=token.masked,
    )
