"""Response shapes shared by several endpoints, and the audit helper for mutations."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.audit import audit_id
from orgadmin.simulator.routing import Ctx
from orgadmin.simulator.store import (
    AdminKey,
    Group,
    Project,
    ProjectApiKey,
    Role,
    ServiceAccount,
    Store,
    User,
)


def emit(
    ctx: Ctx,
    type: str,
    payload: dict[str, Any] | None = None,
    *,
    project: Project | None = None,
    resource_ids: tuple[str, ...] = (),
) -> None:
    """Append the audit event of a mutation made through the API by the request's admin key.

    Project-scoped events name their project; the spec ties every other action taken with an
    admin API key to the default project.
    """
    store = ctx.store
    if project is None:
        project = store.projects.get(store.default_project_id)
    elif project.id not in resource_ids:
        resource_ids = (*resource_ids, project.id)
    store.audit.add(
        event_id=audit_id(store.new_id("", 24), ctx.now),
        type=type,
        effective_at=ctx.now,
        actor=ctx.actor,
        payload=payload,
        project={"id": project.id, "name": project.name} if project else None,
        resource_ids=resource_ids,
    )


def user_api(store: Store, user: User) -> dict[str, Any]:
    """An `organization.user`."""
    projects = [
        {"id": p.id, "name": p.name, "role": p.members[user.id].role}
        for p in store.projects.values()
        if user.id in p.members
    ]
    return {
        "object": "organization.user",
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "added_at": user.added_at,
        "is_default": user.id == store.owner_user_id,
        "created": user.created,
        "user": {
            "object": "user",
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "picture": user.picture,
            "enabled": True,
            "banned": False,
            "banned_at": None,
        },
        "is_service_account": False,
        "is_scale_tier_authorized_purchaser": user.role == "owner",
        "is_scim_managed": user.is_scim_managed,
        "technical_level": user.technical_level,
        "developer_persona": user.developer_persona,
        "projects": {"object": "list", "data": projects},
    }


def project_api(project: Project) -> dict[str, Any]:
    """An `organization.project`."""
    return {
        "id": project.id,
        "object": "organization.project",
        "name": project.name,
        "created_at": project.created_at,
        "archived_at": project.archived_at,
        "status": project.status,
        "external_key_id": project.external_key_id,
        "residency": project.residency,
    }


def service_account_api(sa: ServiceAccount) -> dict[str, Any]:
    """An `organization.project.service_account`."""
    return {
        "object": "organization.project.service_account",
        "id": sa.id,
        "name": sa.name,
        "role": sa.role,
        "created_at": sa.created_at,
    }


def project_key_api(store: Store, key: ProjectApiKey, now: int) -> dict[str, Any]:
    """An `organization.project.api_key`."""
    project = store.projects[key.project_id]
    owner: dict[str, Any] = {"type": key.owner_type}
    if key.owner_type == "user":
        user = store.users.get(key.owner_id)
        member = project.members.get(key.owner_id)
        owner["user"] = {
            "id": key.owner_id,
            "email": user.email if user else "",
            "name": user.name if user else "",
            "created_at": user.added_at if user else key.created_at,
            "role": member.role if member else "member",
        }
    else:
        sa = project.service_accounts.get(key.owner_id)
        owner["service_account"] = {
            "id": key.owner_id,
            "name": sa.name if sa else "",
            "created_at": sa.created_at if sa else key.created_at,
            "role": sa.role if sa else "member",
        }
    return {
        "object": "organization.project.api_key",
        "redacted_value": key.redacted_value,
        "name": key.name,
        "created_at": key.created_at,
        "last_used_at": store.key_last_used_at(key, now),
        "id": key.id,
        "owner_project_access": "active" if store.key_owner_has_access(key) else "inactive",
        "owner": owner,
    }


def admin_key_api(store: Store, key: AdminKey) -> dict[str, Any]:
    """An `organization.admin_api_key` (without its secret value)."""
    owner = store.users.get(key.owner_user_id)
    return {
        "object": "organization.admin_api_key",
        "id": key.id,
        "name": key.name,
        "redacted_value": key.redacted_value,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "owner": {
            "type": "user",
            "object": "organization.user",
            "id": key.owner_user_id,
            "name": owner.name if owner else "",
            "created_at": owner.added_at if owner else key.created_at,
            "role": "owner",
        },
    }


def role_api(role: Role) -> dict[str, Any]:
    """A `role`."""
    return {
        "object": "role",
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
        "resource_type": role.resource_type,
        "predefined_role": role.predefined,
    }


def assigned_role_api(
    store: Store, role: Role, principal_id: str, principal_type: str
) -> dict[str, Any]:
    """An `AssignedRoleDetails`: the role as assigned to one user or group."""
    creator = store.users.get(role.created_by or "")
    return {
        "id": role.id,
        "name": role.name,
        "permissions": list(role.permissions),
        "resource_type": role.resource_type,
        "predefined_role": role.predefined,
        "description": role.description,
        "created_at": role.created_at,
        "updated_at": role.updated_at,
        "created_by": role.created_by,
        "created_by_user_obj": (
            {"id": creator.id, "name": creator.name, "email": creator.email} if creator else None
        ),
        "metadata": {},
        "assignment_sources": [{"principal_id": principal_id, "principal_type": principal_type}],
    }


def group_api(group: Group) -> dict[str, Any]:
    """A `GroupResponse`."""
    return {
        "id": group.id,
        "name": group.name,
        "created_at": group.created_at,
        "is_scim_managed": group.is_scim_managed,
        "group_type": group.group_type,
    }
