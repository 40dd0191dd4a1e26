"""Dashboard people: the roles an Admin gives and takes, and their accounts (deactivate,
reactivate, password reset). Every change goes to the action log, tied to the connection of the
role it changes (None: all connections, or the account as a whole, which spans them all).

The last Admin stays: the last active person holding Admin for all connections (superusers
count as such Admins) can't lose that role nor be deactivated. The check locks those people's
rows first (select_for_update, in the change's transaction), so two Admins demoting each other
at the same moment can't both succeed.
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest

from orgadmin.access import Role
from orgadmin.backends import forget_grants
from orgadmin.models import Organization, RoleGrant
from orgadmin.services.action_log import action_record
from orgadmin.services.changes import ChangeRefused


def _where(org: Organization | None) -> str:
    return f"on {org.name}" if org is not None else "for all connections"


def _admin_for_all() -> Q:
    """People holding Admin for all connections, superusers included."""
    holders = RoleGrant.objects.filter(org__isnull=True, role=Role.ADMIN.value).values("user")
    return Q(is_superuser=True) | Q(pk__in=holders)


def is_admin_for_all(person: Any) -> bool:
    return (
        person.is_superuser
        or RoleGrant.objects.filter(user=person, org__isnull=True, role=Role.ADMIN.value).exists()
    )


def _keep_an_admin(*, person: Any, doing: str) -> None:
    """In a transaction: refuse `doing` to `person` when they are the last active Admin for all
    connections. Those Admins' rows are locked first: a concurrent change to one of them waits
    for this transaction, then counts again."""
    users = get_user_model()._default_manager
    list(users.select_for_update().filter(_admin_for_all(), is_active=True).values_list("pk"))
    others = users.filter(_admin_for_all(), is_active=True).exclude(pk=person.pk)
    if not others.exists():
        raise ChangeRefused(
            f"{person.get_username()} is the last Admin for all connections: {doing} would leave "
            "nobody to manage this dashboard. Make someone else Admin for all connections first."
        )


def person_grant_add(
    *, person: Any, role: Role | str, org: Organization | None, actor: Any
) -> RoleGrant:
    """Give `person` the dashboard role `role` on `org` (None: all connections)."""
    role = Role(role)
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(user=person, org=org, role=role.value)
            action_record(
                actor=actor,
                org=org,
                action="person.role_add",
                summary=f"Gave {person.get_username()} the role {role} {_where(org)}.",
                resource_type="person",
                resource_id=person.get_username(),
            )
    except IntegrityError:
        raise ChangeRefused(
            f"{person.get_username()} holds {role} {_where(org)} already.", field="role"
        ) from None
    forget_grants(person)
    return grant


def person_grant_remove(*, grant: RoleGrant, actor: Any) -> None:
    """Take a dashboard role away; never the last Admin for all connections'."""
    person, org = grant.user, grant.org
    with transaction.atomic():
        admin_for_all = grant.org_id is None and grant.role == Role.ADMIN
        if admin_for_all and person.is_active and not person.is_superuser:
            _keep_an_admin(person=person, doing="taking Admin away")
        deleted, _ = RoleGrant.objects.filter(pk=grant.pk).delete()
        if not deleted:
            raise ChangeRefused("That role was taken away already.")
        action_record(
            actor=actor,
            org=org,
            action="person.role_remove",
            summary=f"Took the role {grant.role} {_where(org)} away from {person.get_username()}.",
            resource_type="person",
            resource_id=person.get_username(),
        )
    forget_grants(person)


def _may_change_account(person: Any, actor: Any, doing: str) -> None:
    if person.is_superuser and not actor.is_superuser:
        raise ChangeRefused(f"Only a superuser may {doing} a superuser.")


def person_deactivate(*, person: Any, actor: Any) -> None:
    """Stop `person` signing in (their sessions end at their next request); never oneself,
    never the last Admin for all connections."""
    if person.pk == actor.pk:
        raise ChangeRefused("You can't deactivate yourself: ask another Admin.")
    _may_change_account(person, actor, "deactivate")
    users = get_user_model()._default_manager
    with transaction.atomic():
        locked = users.select_for_update().get(pk=person.pk)
        if not locked.is_active:
            raise ChangeRefused(f"{person.get_username()} is deactivated already.")
        if is_admin_for_all(locked):
            _keep_an_admin(person=locked, doing="deactivating them")
        users.filter(pk=person.pk).update(is_active=False)
        action_record(
            actor=actor,
            org=None,
            action="person.deactivate",
            summary=f"Deactivated {person.get_username()}: they can't sign in any more.",
            resource_type="person",
            resource_id=person.get_username(),
        )
    person.is_active = False


def person_reactivate(*, person: Any, actor: Any) -> None:
    """Let a deactivated person sign in again, with the roles they held."""
    _may_change_account(person, actor, "reactivate")
    users = get_user_model()._default_manager
    with transaction.atomic():
        if not users.filter(pk=person.pk, is_active=False).update(is_active=True):
            raise ChangeRefused(f"{person.get_username()} is active already.")
        action_record(
            actor=actor,
            org=None,
            action="person.reactivate",
            summary=f"Reactivated {person.get_username()}: they can sign in again.",
            resource_type="person",
            resource_id=person.get_username(),
        )
    person.is_active = True


def person_password_reset(*, request: HttpRequest, person: Any, actor: Any) -> None:
    """Mail `person` allauth's password reset link (the same as "Forgot your password?")."""
    _may_change_account(person, actor, "send a password reset to")
    if not person.is_active:
        raise ChangeRefused(f"{person.get_username()} is deactivated: reactivate them first.")
    form = ResetPasswordForm(data={"email": person.email})
    if not person.email or not form.is_valid():
        raise ChangeRefused(f"{person.get_username()} has no email address to send it to.")
    form.users = [person]  # this person only, even if another account shares the address
    form.save(request)
    action_record(
        actor=actor,
        org=None,
        action="person.password_reset",
        summary=f"Sent {person.get_username()} a link to set a new password ({person.email}).",
        resource_type="person",
        resource_id=person.get_username(),
    )
