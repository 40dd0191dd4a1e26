"""Invitations to the dashboard: made, mailed, resent, revoked and accepted.

A link's token is random (256 bits), mailed once and kept only as a hash; a resend makes a new
one (the older link stops working). A link works once, until INVITE_TTL_DAYS after it was sent.
Accepting makes the account (its email in lower case, also as allauth's verified primary
address, which signing in by email reads) and gives the invited role, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from orgadmin.access import Role
from orgadmin.models import Invitation, Organization
from orgadmin.models.people import token_hash
from orgadmin.selectors.people import email_taken, username_taken
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused
from orgadmin.services.roles import role_grant

log = logging.getLogger(__name__)

# Why a link doesn't work any more, by the invitation's status.
NOT_PENDING = {
    Invitation.Status.ACCEPTED: "This invitation was accepted already: sign in instead.",
    Invitation.Status.REVOKED: "This invitation was revoked.",
    Invitation.Status.EXPIRED: "This invitation has expired.",
}


@dataclass(frozen=True)
class Issued:
    """A link just made: the invitation, the link (to show once where mail goes nowhere), and
    the mail's failure, if it failed."""

    invitation: Invitation
    link: str
    mail_error: str = ""


def _where(org: Organization | None) -> str:
    return f"on {org.name}" if org is not None else "for all connections"


def _expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=settings.INVITE_TTL_DAYS)


def _mail(invitation: Invitation, token: str, link_for: Callable[[str], str], actor: Any) -> Issued:
    """Mail the link; a mail server's refusal is logged (as a failed action) and returned."""
    link = link_for(token)
    context = {
        "invitation": invitation,
        "link": link,
        "inviter": actor.get_full_name() or actor.get_username(),
        "days": settings.INVITE_TTL_DAYS,
    }
    subject = render_to_string("people/email/invitation_subject.txt", context).strip()
    body = render_to_string("people/email/invitation_message.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("The invitation mail to %s could not be sent: %s", invitation.email, exc)
        action_record(
            actor=actor,
            org=invitation.org,
            action="person.invite_mail",
            summary=f"Mailing the invitation to {invitation.email} failed.",
            resource_type="invitation",
            resource_id=invitation.email,
            error=exc,
        )
        return Issued(invitation, link, mail_error=str(exc) or exc.__class__.__name__)
    return Issued(invitation, link)


def invitation_create(
    *,
    email: str,
    role: Role | str,
    org: Organization | None,
    actor: Any,
    link_for: Callable[[str], str],
) -> Issued:
    """Invite `email` to hold `role` on `org` (None: all connections) and mail the link, which
    `link_for(token)` makes."""
    email, role = email.strip().lower(), Role(role)
    if email_taken(email=email):
        raise ChangeRefused(
            "Someone here signs in with this address already: give them a role in their row.",
            field="email",
        )
    now = timezone.now()
    pending = Invitation.objects.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    if pending.exists():
        raise ChangeRefused(
            "This address has a pending invitation: resend or revoke it below.", field="email"
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            role=role.value,
            org=org,
            token_hash=token_hash(token),
            invited_by=actor,
            created_at=now,
            sent_at=now,
            expires_at=_expiry(now),
        )
        action_record(
            actor=actor,
            org=org,
            action="person.invite",
            summary=f"Invited {email} as {role} {_where(org)}.",
            resource_type="invitation",
            resource_id=email,
        )
    return _mail(invitation, token, link_for, actor)


def invitation_resend(
    *, invitation: Invitation, actor: Any, link_for: Callable[[str], str]
) -> Issued:
    """Mail a new link, valid INVITE_TTL_DAYS from now; the earlier link stops working."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(token_hash=token_hash(token), sent_at=now, expires_at=_expiry(now))
        if not changed:
            raise ChangeRefused("This invitation was accepted or revoked meanwhile.")
        action_record(
            actor=actor,
            org=invitation.org,
            action="person.invite_resend",
            summary=f"Sent the invitation of {invitation.email} again; the earlier link stops "
            "working.",
            resource_type="invitation",
            resource_id=invitation.email,
        )
    invitation.sent_at, invitation.expires_at = now, _expiry(now)
    return _mail(invitation, token, link_for, actor)


def invitation_revoke(*, invitation: Invitation, actor: Any) -> None:
    """Make the invitation's link stop working."""
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if not changed:
            raise ChangeRefused("This invitation was accepted or revoked meanwhile.")
        action_record(
            actor=actor,
            org=invitation.org,
            action="person.invite_revoke",
            summary=f"Revoked the invitation of {invitation.email}.",
            resource_type="invitation",
            resource_id=invitation.email,
        )


def invitation_accept(
    *, invitation: Invitation, username: str, password: str | None, name: str = ""
) -> Any:
    """Make the invited person's account (no password when `password` is None: single sign-on
    only) and give them the invited role; the link is spent. Returns the new user."""
    users = get_user_model()._default_manager
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("org")
            .get(pk=invitation.pk)
        )
        if locked.status != Invitation.Status.PENDING:
            raise ChangeRefused(NOT_PENDING[locked.status])
        if email_taken(email=locked.email):
            raise ChangeRefused("An account with this address exists already: sign in instead.")
        if username_taken(username=username):
            raise ChangeRefused("This username is taken: choose another.", field="username")
        first, _, last = name.strip().partition(" ")
        user = users.model(username=username, email=locked.email, first_name=first, last_name=last)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise ChangeRefused(
                "This username is taken: choose another.", field="username"
            ) from None
        EmailAddress.objects.create(user=user, email=locked.email, verified=True, primary=True)
        role_grant(user=user, role=locked.role, org=locked.org)
        locked.accepted_at, locked.accepted_by = timezone.now(), user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        action_record(
            actor=user,
            org=locked.org,
            action="person.invite_accept",
            summary=f"{username} accepted the invitation of {locked.email}: {locked.role} "
            f"{_where(locked.org)}.",
            resource_type="invitation",
            resource_id=locked.email,
        )
    return user
