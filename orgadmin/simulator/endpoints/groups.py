"""Group endpoints: groups, their users and their organization roles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from orgadmin.simulator.endpoints._common import assigned_role_api, emit, group_api, role_api
from orgadmin.simulator.errors import conflict, invalid, not_found
from orgadmin.simulator.paging import list_b, window
from orgadmin.simulator.params import AFTER, ORDER_ASC, ORDER_DESC, q_enum, q_int
from orgadmin.simulator.routing import Ctx, obj, route, s_str
from orgadmin.simulator.store import ULID, Group, Role, Store

T = TypeVar("T")
ORDER_ANY = q_enum("order", ("asc", "desc"))


def page_b(
    ctx: Ctx,
    items: Sequence[T],
    *,
    sort_key: Callable[[T], tuple[Any, ...]],
    id_of: Callable[[T], str],
    serialize: Callable[[T], dict[str, Any]],
    retired_prefix: str = "",
) -> dict[str, Any]:
    """A style-B page; `next` is the id of the page's last item."""
    descending = ctx.query.get("order") == "desc"
    ordered = sorted(items, key=sort_key, reverse=descending)
    keys = {id_of(i): sort_key(i) for i in ordered}

    def cursor(object_id: str) -> tuple[Any, ...] | None:
        return keys.get(object_id) or ctx.store.retired.get(retired_prefix + object_id)

    limit = ctx.query["limit"]
    page, more = window(
        ordered,
        sort_key=sort_key,
        cursor_key=cursor,
        limit=limit if limit is not None else 1000,
        after=ctx.query["after"],
        descending=descending,
    )
    return list_b([serialize(i) for i in page], more, id_of(page[-1]) if page else None)


def _group(ctx: Ctx, *, writable: bool = False) -> Group:
    group = ctx.store.get_group(ctx.path["group_id"])
    if writable and group.is_scim_managed:
        raise conflict(
            f"Group '{group.id}' is managed by SCIM; change it in your identity provider.",
            param="group_id",
        )
    return group


def org_role(store: Store, role_id: str, param: str = "role_id") -> Role:
    """The organization role a body names, or a 400."""
    role = store.roles.get(role_id)
    if role is None:
        raise invalid(param, f"Invalid '{param}': no organization role with id '{role_id}'.")
    return role


def _group_object(group: Group) -> dict[str, Any]:
    return {
        "object": "group",
        "id": group.id,
        "name": group.name,
        "created_at": group.created_at,
        "scim_managed": group.is_scim_managed,
    }


def role_assignment(
    store: Store, role: Role, principal_id: str, principal_type: str
) -> dict[str, Any]:
    """The audit payload of an organization role assigned to (or taken from) a principal."""
    return {
        "id": role.id,
        "principal_id": principal_id,
        "principal_type": principal_type,
        "resource_id": store.org_id,
        "resource_type": "api.organization",
    }


# --- groups ------------------------------------------------------------------------------------

GROUP_NAME = s_str(minLength=1, maxLength=255)


def _created(item: Any) -> tuple[int, str]:
    return (item.created_at, item.id)


@route(
    "GET",
    "/organization/groups",
    "list-groups",
    query=(q_int("limit", default=100, minimum=0, maximum=1000), AFTER, ORDER_ASC),
)
def groups_list(ctx: Ctx) -> dict[str, Any]:
    return page_b(
        ctx,
        list(ctx.store.groups.values()),
        sort_key=_created,
        id_of=lambda g: g.id,
        serialize=group_api,
    )


@route("POST", "/organization/groups", "create-group", body=obj({"name": GROUP_NAME}))
def groups_create(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    name = ctx.body["name"]
    if any(g.name.lower() == name.lower() for g in store.groups.values()):
        raise conflict(f"A group named '{name}' already exists.", param="name")
    group = Group(id=store.new_id("group_", 26, ULID), name=name, created_at=ctx.now)
    store.groups[group.id] = group
    emit(ctx, "group.created", {"id": group.id, "data": {"group_name": name}})
    return group_api(group)


@route("GET", "/organization/groups/{group_id}", "retrieve-group")
def groups_get(ctx: Ctx) -> dict[str, Any]:
    return group_api(_group(ctx))


@route(
    "POST",
    "/organization/groups/{group_id}",
    "update-group",
    body=obj({"name": GROUP_NAME}),
)
def groups_update(ctx: Ctx) -> dict[str, Any]:
    group = _group(ctx, writable=True)
    if ctx.body["name"] != group.name:
        group.name = ctx.body["name"]
        emit(
            ctx, "group.updated", {"id": group.id, "changes_requested": {"group_name": group.name}}
        )
    return {
        "id": group.id,
        "name": group.name,
        "created_at": group.created_at,
        "is_scim_managed": group.is_scim_managed,
    }


@route("DELETE", "/organization/groups/{group_id}", "delete-group")
def groups_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx, writable=True)
    del store.groups[group.id]
    store.retire(group.id, _created(group))
    for project in store.projects.values():
        project.groups.pop(group.id, None)
    emit(ctx, "group.deleted", {"id": group.id})
    return {"object": "group.deleted", "id": group.id, "deleted": True}


# --- group users -------------------------------------------------------------------------------


@route(
    "GET",
    "/organization/groups/{group_id}/users",
    "list-group-users",
    query=(q_int("limit", default=100, minimum=0, maximum=1000), AFTER, ORDER_DESC),
)
def group_users_list(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx)
    members = [(uid, at) for uid, at in group.users.items() if uid in store.users]

    def serialize(member: tuple[str, int]) -> dict[str, Any]:
        user = store.users[member[0]]
        return {"id": user.id, "name": user.name, "email": user.email}

    return page_b(
        ctx,
        members,
        sort_key=lambda m: (m[1], m[0]),
        id_of=lambda m: m[0],
        serialize=serialize,
        retired_prefix=f"{group.id}/",
    )


@route(
    "POST",
    "/organization/groups/{group_id}/users",
    "add-group-user",
    body=obj({"user_id": s_str()}),
)
def group_users_add(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx, writable=True)
    user_id = ctx.body["user_id"]
    if user_id not in store.users:
        raise invalid("user_id", f"User '{user_id}' is not a member of the organization.")
    if user_id not in group.users:
        group.users[user_id] = ctx.now
        emit(ctx, "tenant.group.member.added", resource_ids=(group.id, user_id))
    return {"object": "group.user", "user_id": user_id, "group_id": group.id}


@route("GET", "/organization/groups/{group_id}/users/{user_id}", "retrieve-group-user")
def group_users_get(ctx: Ctx) -> dict[str, Any]:
    group = _group(ctx)
    user = ctx.store.users.get(ctx.path["user_id"])
    if user is None or user.id not in group.users:
        raise not_found("group user", ctx.path["user_id"])
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "picture": user.picture,
        "is_service_account": False,
        "user_type": "user",
    }


@route("DELETE", "/organization/groups/{group_id}/users/{user_id}", "remove-group-user")
def group_users_remove(ctx: Ctx) -> dict[str, Any]:
    group = _group(ctx, writable=True)
    user_id = ctx.path["user_id"]
    added = group.users.pop(user_id, None)
    if added is None:
        raise not_found("group user", user_id)
    ctx.store.retire(f"{group.id}/{user_id}", (added, user_id))
    emit(ctx, "tenant.group.member.removed", resource_ids=(group.id, user_id))
    return {"object": "group.user.deleted", "deleted": True}


# --- group roles -------------------------------------------------------------------------------

ROLE_LIST_QUERY = (q_int("limit", minimum=0, maximum=1000), AFTER, ORDER_ANY)


@route(
    "GET",
    "/organization/groups/{group_id}/roles",
    "list-group-role-assignments",
    query=ROLE_LIST_QUERY,
)
def group_roles_list(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx)
    assigned = [(store.roles[rid], at) for rid, at in group.roles.items() if rid in store.roles]
    return page_b(
        ctx,
        assigned,
        sort_key=lambda a: (a[1], a[0].id),
        id_of=lambda a: a[0].id,
        serialize=lambda a: assigned_role_api(store, a[0], group.id, "group"),
        retired_prefix=f"{group.id}/",
    )


@route(
    "POST",
    "/organization/groups/{group_id}/roles",
    "assign-group-role",
    body=obj({"role_id": s_str()}),
)
def group_roles_assign(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx)
    role = org_role(store, ctx.body["role_id"])
    if role.id not in group.roles:
        group.roles[role.id] = ctx.now
        emit(ctx, "role.assignment.created", role_assignment(store, role, group.id, "group"))
    return {"object": "group.role", "group": _group_object(group), "role": role_api(role)}


@route("GET", "/organization/groups/{group_id}/roles/{role_id}", "retrieve-group-role")
def group_roles_get(ctx: Ctx) -> dict[str, Any]:
    group = _group(ctx)
    role = ctx.store.roles.get(ctx.path["role_id"])
    if role is None or role.id not in group.roles:
        raise not_found("group role assignment", ctx.path["role_id"])
    return assigned_role_api(ctx.store, role, group.id, "group")


@route("DELETE", "/organization/groups/{group_id}/roles/{role_id}", "unassign-group-role")
def group_roles_unassign(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    group = _group(ctx)
    role_id = ctx.path["role_id"]
    assigned = group.roles.pop(role_id, None)
    if assigned is None:
        raise not_found("group role assignment", role_id)
    store.retire(f"{group.id}/{role_id}", (assigned, role_id))
    role = store.roles.get(role_id)
    if role is not None:
        emit(ctx, "role.assignment.deleted", role_assignment(store, role, group.id, "group"))
    return {"object": "group.role.deleted", "deleted": True}
