"""Dashboard roles: giving a person a role for all connections or on one."""

from __future__ import annotations

from typing import Any

from orgadmin.access import Role
from orgadmin.backends import forget_grants
from orgadmin.models import Organization, RoleGrant


def role_grant(*, user: Any, role: Role | str, org: Organization | None = None) -> RoleGrant:
    """Give `user` the dashboard role `role` on `org` (None: for all connections); a role held
    there already stays as it is."""
    grant, _ = RoleGrant.objects.get_or_create(user=user, org=org, role=Role(role).value)
    forget_grants(user)
    return grant
