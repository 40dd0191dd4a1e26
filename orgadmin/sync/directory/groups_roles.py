"""Who may do what: the organization's roles, its groups (their members and roles) and the roles
given to users directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orgadmin.models import (
    GroupMember,
    GroupRoleAssignment,
    Organization,
    OrgGroup,
    OrgRole,
    OrgUser,
    UserRoleAssignment,
)
from orgadmin.sync.directory.base import Fetcher, replace_rows, ts


def role_fields(r: Any) -> dict[str, Any]:
    return {
        "openai_id": r.id,
        "name": r.name,
        "description": r.description or "",
        "permissions": list(r.permissions or []),
        "resource_type": r.resource_type or "",
        "predefined": bool(r.predefined_role),
    }


def group_fields(g: Any) -> dict[str, Any]:
    return {
        "openai_id": g.id,
        "name": g.name,
        "created_at": ts(g.created_at),
        "is_scim_managed": bool(getattr(g, "is_scim_managed", False)),
        "group_type": getattr(g, "group_type", "") or "",
    }


def sync_roles(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows = [role_fields(r) for r in f.all(lambda: f.api.roles.list(limit=1000))]
    return lambda: replace_rows(OrgRole, scope={"org": org}, key="openai_id", rows=rows)


def sync_groups(org: Organization, f: Fetcher) -> Callable[[], int]:
    groups = f.all(lambda: f.api.groups.list(limit=1000))
    members: dict[str, list[dict[str, Any]]] = {}
    roles: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        users = f.all(lambda g=g: f.api.groups.users.list(g.id, limit=1000))
        members[g.id] = [
            {"user_openai_id": u.id, "name": u.name or "", "email": u.email or ""} for u in users
        ]
        assigned = f.all(lambda g=g: f.api.groups.roles.list(g.id, limit=1000))
        roles[g.id] = [{"role_openai_id": r.id} for r in assigned]

    def write() -> int:
        written = replace_rows(
            OrgGroup, scope={"org": org}, key="openai_id", rows=[group_fields(g) for g in groups]
        )
        for group in OrgGroup.objects.filter(org=org):
            scope = {"group": group}
            rows = members.get(group.openai_id, [])
            written += replace_rows(GroupMember, scope=scope, key="user_openai_id", rows=rows)
            rows = roles.get(group.openai_id, [])
            written += replace_rows(
                GroupRoleAssignment, scope=scope, key="role_openai_id", rows=rows
            )
        return written

    return write


def sync_user_roles(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows: list[tuple[str, str]] = []
    for user_id in OrgUser.objects.filter(org=org).values_list("openai_id", flat=True):
        for role in f.all(lambda user_id=user_id: f.api.users.roles.list(user_id, limit=1000)):
            sources = role.assignment_sources or []
            # Roles that reach the user through a group are the group's, not the user's; the
            # predefined ones (owner, reader) are the user's base role, kept on the user.
            if role.predefined_role or (
                sources and not any(s.principal_id == user_id for s in sources)
            ):
                continue
            rows.append((user_id, role.id))
    return lambda: _replace_pairs(org, rows)


def _replace_pairs(org: Organization, rows: list[tuple[str, str]]) -> int:
    """Replace the (user, role) assignments: their natural key spans two columns."""
    wanted = set(rows)
    existing = {
        (u, r): pk
        for pk, u, r in UserRoleAssignment.objects.filter(org=org).values_list(
            "pk", "user_openai_id", "role_openai_id"
        )
    }
    UserRoleAssignment.objects.bulk_create(
        [
            UserRoleAssignment(org=org, user_openai_id=u, role_openai_id=r)
            for u, r in sorted(wanted - set(existing))
        ],
        ignore_conflicts=True,
    )
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    UserRoleAssignment.objects.filter(pk__in=stale).delete()
    return len(wanted - set(existing)) + len(stale)
