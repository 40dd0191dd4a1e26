"""Dashboard roles: giving a person a role for all connections or on one."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from orgadmin.access import Role
from orgadmin.backends import forget_grants
from orgadmin.models import GrantSource, Organization, RoleGrant
from orgadmin.services.action_log import action_record


def role_grant(*, user: Any, role: Role | str, org: Organization | None = None) -> RoleGrant:
    """Give `user` the dashboard role `role` on `org` (None: for all connections); a role held
    there already stays as it is."""
    grant, _ = RoleGrant.objects.get_or_create(user=user, org=org, role=Role(role).value)
    forget_grants(user)
    return grant


def _where(org_id: int | None, names: dict[int, str]) -> str:
    return f"on {names[org_id]}" if org_id is not None else "on all connections"


def role_grants_sync_sso(*, user: Any, grants: set[tuple[Role, Organization | None]]) -> bool:
    """Make the grants single sign-on gave `user` exactly `grants` (role, connection or None
    for all). Grants an Admin gave stay as they are, and one that already holds a role isn't
    given twice. Any change goes to the action log; True when something changed."""
    wanted = {(role.value, org.pk if org else None) for role, org in grants}
    names = {org.pk: org.name for _, org in grants if org is not None}
    with transaction.atomic():
        held = {
            (g.role, g.org_id): g for g in RoleGrant.objects.filter(user=user).select_related("org")
        }
        from_sso = {key for key, g in held.items() if g.source == GrantSource.SSO}
        gone = from_sso - wanted
        new = wanted - set(held)
        RoleGrant.objects.filter(pk__in=[held[key].pk for key in gone]).delete()
        RoleGrant.objects.bulk_create(
            RoleGrant(user=user, role=role, org_id=org_id, source=GrantSource.SSO)
            for role, org_id in sorted(new, key=str)
        )
        if gone or new:
            names.update({g.org_id: g.org.name for key, g in held.items() if key in gone and g.org})
            given = [f"{role} {_where(org_id, names)}" for role, org_id in sorted(new, key=str)]
            taken = [f"{role} {_where(org_id, names)}" for role, org_id in sorted(gone, key=str)]
            summary = f"Single sign-on set {user.get_username()}'s roles:" + "".join(
                [
                    f" gave {', '.join(given)}." if given else "",
                    f" took {', '.join(taken)}." if taken else "",
                ]
            )
            action_record(actor=user, org=None, action="role.sso_sync", summary=summary)
    forget_grants(user)
    return bool(gone or new)
