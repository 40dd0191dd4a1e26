"""Access endpoints: organization roles, the roles assigned to users, and the groups that have
access to a project (groups themselves, and their roles: `groups`)."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.endpoints._common import assigned_role_api, emit, role_api, user_api
from orgadmin.simulator.endpoints.groups import ROLE_LIST_QUERY, org_role, page_b, role_assignment
from orgadmin.simulator.errors import conflict, invalid, not_found
from orgadmin.simulator.params import AFTER, ORDER_ASC, q_enum, q_int
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_str
from orgadmin.simulator.store import ULID, Project, Role, Store

# --- organization roles ------------------------------------------------------------------------


@route(
    "GET",
    "/organization/roles",
    "list-roles",
    query=(q_int("limit", default=1000, minimum=0, maximum=1000), AFTER, ORDER_ASC),
)
def roles_list(ctx: Ctx) -> dict[str, Any]:
    roles = list(ctx.store.roles.values())
    return page_b(
        ctx,
        roles,
        sort_key=lambda r: (r.created_at or 0, r.id),
        id_of=lambda r: r.id,
        serialize=role_api,
    )


def _check_permissions(permissions: list[str], param: str = "permissions") -> list[str]:
    for index, permission in enumerate(permissions):
        if not permission.startswith("api.") or " " in permission:
            raise invalid(f"{param}[{index}]", f"Unknown permission: '{permission}'.")
    return list(dict.fromkeys(permissions))


@route(
    "POST",
    "/organization/roles",
    "create-role",
    body=obj(
        {"role_name": s_str(), "permissions": s_array(s_str())},
        {"description": s_str(nullable=True)},
    ),
)
def roles_create(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    name = body["role_name"].strip()
    if not name:
        raise invalid("role_name", "Invalid 'role_name': a role needs a name.")
    if any(r.name.lower() == name.lower() for r in store.roles.values()):
        raise conflict(f"A role named '{name}' already exists.", param="role_name")
    role = Role(
        id=store.new_id("role_", 26, ULID),
        name=name,
        description=body.get("description"),
        permissions=_check_permissions(body["permissions"]),
        resource_type="api.organization",
        predefined=False,
        created_at=ctx.now,
        updated_at=ctx.now,
        created_by=ctx.admin_key.owner_user_id,
    )
    store.roles[role.id] = role
    emit(
        ctx,
        "role.created",
        {
            "id": role.id,
            "role_name": role.name,
            "permissions": list(role.permissions),
            "resource_type": role.resource_type,
            "resource_id": store.org_id,
        },
    )
    return role_api(role)


def _role(ctx: Ctx, *, custom: bool = False) -> Role:
    role = ctx.store.get_role(ctx.path["role_id"])
    if custom and role.predefined:
        raise conflict(f"Role '{role.id}' is predefined and cannot be changed.", param="role_id")
    return role


@route("GET", "/organization/roles/{role_id}", "retrieve-role")
def roles_get(ctx: Ctx) -> dict[str, Any]:
    return role_api(_role(ctx))


@route(
    "POST",
    "/organization/roles/{role_id}",
    "update-role",
    body=obj(
        optional={
            "permissions": s_array(s_str(), nullable=True),
            "description": s_str(nullable=True),
            "role_name": s_str(nullable=True),
        }
    ),
)
def roles_update(ctx: Ctx) -> dict[str, Any]:
    role = _role(ctx, custom=True)
    body = ctx.body
    changes: dict[str, Any] = {}
    if body.get("role_name") is not None and body["role_name"] != role.name:
        changes["role_name"] = role.name = body["role_name"]
    if body.get("permissions") is not None:
        new = _check_permissions(body["permissions"])
        added = [p for p in new if p not in role.permissions]
        removed = [p for p in role.permissions if p not in new]
        if added or removed:
            changes.update(permissions_added=added, permissions_removed=removed)
            role.permissions = new
    if "description" in body and body["description"] != role.description:
        role.description = body["description"]
        # The spec types it a string: a cleared description is "" in the event, not null.
        changes["description"] = role.description or ""
    if changes:
        role.updated_at = ctx.now
        emit(ctx, "role.updated", {"id": role.id, "changes_requested": changes})
    return role_api(role)


@route("DELETE", "/organization/roles/{role_id}", "delete-role")
def roles_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    role = _role(ctx, custom=True)
    del store.roles[role.id]
    store.retire(role.id, (role.created_at or 0, role.id))
    for assigned in store.user_roles.values():
        assigned.pop(role.id, None)
    for group in store.groups.values():
        group.roles.pop(role.id, None)
    emit(ctx, "role.deleted", {"id": role.id})
    return {"object": "role.deleted", "id": role.id, "deleted": True}


# --- user roles --------------------------------------------------------------------------------


def _base_role(store: Store, role_name: str) -> Role | None:
    """The predefined organization role that matches a user's `owner`/`reader` role."""
    return next(
        (r for r in store.roles.values() if r.predefined and r.name.lower() == role_name),
        None,
    )


def _user_assignments(store: Store, user_id: str) -> list[tuple[Role, int]]:
    user = store.get_user(user_id)
    found: list[tuple[Role, int]] = []
    base = _base_role(store, user.role)
    if base is not None:
        found.append((base, user.added_at))
    for role_id, at in store.user_roles.get(user_id, {}).items():
        if role_id in store.roles:
            found.append((store.roles[role_id], at))
    return found


@route(
    "GET",
    "/organization/users/{user_id}/roles",
    "list-user-role-assignments",
    query=ROLE_LIST_QUERY,
)
def user_roles_list(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    user_id = ctx.path["user_id"]
    return page_b(
        ctx,
        _user_assignments(store, user_id),
        sort_key=lambda a: (a[1], a[0].id),
        id_of=lambda a: a[0].id,
        serialize=lambda a: assigned_role_api(store, a[0], user_id, "user"),
        retired_prefix=f"{user_id}/",
    )


@route(
    "POST",
    "/organization/users/{user_id}/roles",
    "assign-user-role",
    body=obj({"role_id": s_str()}),
)
def user_roles_assign(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    user = store.get_user(ctx.path["user_id"])
    role = org_role(store, ctx.body["role_id"])
    if role.predefined:
        # A predefined role replaces the user's base role (owner or reader).
        if user.role != role.name.lower():
            user.role = role.name.lower()
            emit(ctx, "user.updated", {"id": user.id, "changes_requested": {"role": user.role}})
    elif role.id not in store.user_roles.setdefault(user.id, {}):
        store.user_roles[user.id][role.id] = ctx.now
        emit(ctx, "role.assignment.created", role_assignment(store, role, user.id, "user"))
    return {"object": "user.role", "user": user_api(store, user), "role": role_api(role)}


@route("GET", "/organization/users/{user_id}/roles/{role_id}", "retrieve-user-role")
def user_roles_get(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    user_id = ctx.path["user_id"]
    for role, _at in _user_assignments(store, user_id):
        if role.id == ctx.path["role_id"]:
            return assigned_role_api(store, role, user_id, "user")
    raise not_found("user role assignment", ctx.path["role_id"])


@route("DELETE", "/organization/users/{user_id}/roles/{role_id}", "unassign-user-role")
def user_roles_unassign(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    user = store.get_user(ctx.path["user_id"])
    role_id = ctx.path["role_id"]
    base = _base_role(store, user.role)
    if base is not None and base.id == role_id:
        raise conflict(
            "A user's base role cannot be unassigned; give the user another role instead.",
            param="role_id",
        )
    assigned = store.user_roles.get(user.id, {}).pop(role_id, None)
    if assigned is None:
        raise not_found("user role assignment", role_id)
    store.retire(f"{user.id}/{role_id}", (assigned, role_id))
    role = store.roles.get(role_id)
    if role is not None:
        emit(ctx, "role.assignment.deleted", role_assignment(store, role, user.id, "user"))
    return {"object": "user.role.deleted", "deleted": True}


# --- project groups ----------------------------------------------------------------------------


def _project_group_api(store: Store, project: Project, group_id: str) -> dict[str, Any]:
    group = store.groups[group_id]
    return {
        "object": "project.group",
        "project_id": project.id,
        "group_id": group.id,
        "group_name": group.name,
        "group_type": group.group_type,
        "created_at": project.groups[group_id][1],
    }


def _project_assignment(project: Project, group_id: str, role_id: str) -> dict[str, Any]:
    return {
        "id": role_id,
        "principal_id": group_id,
        "principal_type": "group",
        "resource_id": project.id,
        "resource_type": "api.project",
    }


@route(
    "GET",
    "/organization/projects/{project_id}/groups",
    "list-project-groups",
    query=(q_int("limit", default=20, minimum=0, maximum=100), AFTER, ORDER_ASC),
)
def project_groups_list(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = store.get_project(ctx.path["project_id"])
    attached = [gid for gid in project.groups if gid in store.groups]
    return page_b(
        ctx,
        attached,
        sort_key=lambda gid: (project.groups[gid][1], gid),
        id_of=lambda gid: gid,
        serialize=lambda gid: _project_group_api(store, project, gid),
        retired_prefix=f"{project.id}/",
    )


@route(
    "POST",
    "/organization/projects/{project_id}/groups",
    "add-project-group",
    body=obj({"group_id": s_str(), "role": s_str()}),
)
def project_groups_add(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    project = store.get_project(ctx.path["project_id"])
    if project.archived_at is not None:
        raise conflict(f"Project '{project.id}' is archived and cannot be updated.")
    if body["group_id"] not in store.groups:
        raise invalid("group_id", f"Invalid 'group_id': no group with id '{body['group_id']}'.")
    if body["role"] not in store.project_roles:
        raise invalid("role", f"Invalid 'role': no project role with id '{body['role']}'.")
    if body["group_id"] in project.groups:
        raise conflict("This group already has access to the project.", param="group_id")
    project.groups[body["group_id"]] = (body["role"], ctx.now)
    emit(
        ctx,
        "role.assignment.created",
        _project_assignment(project, body["group_id"], body["role"]),
        project=project,
    )
    return _project_group_api(store, project, body["group_id"])


@route(
    "GET",
    "/organization/projects/{project_id}/groups/{group_id}",
    "retrieve-project-group",
    query=(q_enum("group_type", ("group", "tenant_group"), default="group"),),
)
def project_groups_get(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = store.get_project(ctx.path["project_id"])
    group_id = ctx.path["group_id"]
    group = store.groups.get(group_id)
    if (
        group is None
        or group_id not in project.groups
        or group.group_type != ctx.query["group_type"]
    ):
        raise not_found("project group", group_id)
    return _project_group_api(store, project, group_id)


@route(
    "DELETE",
    "/organization/projects/{project_id}/groups/{group_id}",
    "remove-project-group",
)
def project_groups_remove(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = store.get_project(ctx.path["project_id"])
    group_id = ctx.path["group_id"]
    found = project.groups.pop(group_id, None)
    if found is None:
        raise not_found("project group", group_id)
    store.retire(f"{project.id}/{group_id}", (found[1], group_id))
    emit(
        ctx,
        "role.assignment.deleted",
        _project_assignment(project, group_id, found[0]),
        project=project,
    )
    return {"object": "project.group.deleted", "deleted": True}
