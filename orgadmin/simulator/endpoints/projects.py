"""Project endpoints: projects and their users (service accounts and keys: `project_keys`;
limits and settings: `project_settings`)."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.endpoints._common import emit, project_api
from orgadmin.simulator.errors import conflict, invalid, not_found
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import AFTER, LIMIT_1_100, q_bool
from orgadmin.simulator.routing import Ctx, obj, route, s_str
from orgadmin.simulator.store import Project, ProjectMember, RateLimit, Store

RESIDENCIES = (
    "GLOBAL",
    "US_STORAGE_PROCESSING",
    "EU_STORAGE_PROCESSING",
    "JP_STORAGE",
    "KR_STORAGE",
    "CA_STORAGE",
    "SG_STORAGE",
    "IN_STORAGE",
    "AU_STORAGE",
    "GB_STORAGE",
    "AE_STORAGE",
    "AE_STORAGE_PROCESSING",
)


def by_created(item: Any) -> tuple[int, str]:
    """The list order of projects, service accounts and keys: oldest first."""
    return (item.created_at, item.id)


def path_project(ctx: Ctx) -> Project:
    """The project that the path names, or a 404."""
    return ctx.store.get_project(ctx.path["project_id"])


def active_project(ctx: Ctx, what: str = "updated") -> Project:
    """The project, which must not be archived (archived projects cannot be used or updated)."""
    project = path_project(ctx)
    if project.archived_at is not None:
        raise conflict(f"Project '{project.id}' is archived and cannot be {what}.")
    return project


def cursor_in(store: Store, table: dict[str, Any], key: Any = by_created) -> Any:
    """A cursor resolver over `table`: an `after` id's sort key, deleted ids included."""

    def resolve(object_id: str) -> tuple[Any, ...] | None:
        found = table.get(object_id)
        return key(found) if found is not None else store.retired.get(object_id)

    return resolve


def new_rate_limits(store: Store) -> dict[str, RateLimit]:
    """One rate limit per model, at the organization's ceilings."""
    return {
        f"rl-{model}": RateLimit(f"rl-{model}", model, dict(limits), dict(limits))
        for model, limits in store.rate_limit_defaults.items()
    }


# --- projects ----------------------------------------------------------------------------------


@route(
    "GET",
    "/organization/projects",
    "list-projects",
    query=(LIMIT_1_100, AFTER, q_bool("include_archived", default=False)),
)
def projects_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    projects = sorted(store.projects.values(), key=by_created)
    if not q["include_archived"]:
        projects = [p for p in projects if p.archived_at is None]
    page, more = window(
        projects,
        sort_key=by_created,
        cursor_key=cursor_in(store, store.projects),
        limit=q["limit"],
        after=q["after"],
    )
    return list_a([project_api(p) for p in page], more)


@route(
    "POST",
    "/organization/projects",
    "create-project",
    body=obj(
        {"name": s_str()},
        {
            "residency": s_str(nullable=True, enum=RESIDENCIES),
            "external_key_id": s_str(nullable=True),
        },
    ),
)
def projects_create(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    name = body["name"].strip()
    if not name:
        raise invalid("name", "Invalid 'name': a project needs a name.")
    project = Project(
        id=store.new_id("proj_"),
        name=name,
        created_at=ctx.now,
        external_key_id=body.get("external_key_id"),
        residency=body.get("residency") or "GLOBAL",
    )
    project.members[ctx.admin_key.owner_user_id] = ProjectMember("owner", ctx.now)
    project.rate_limits = new_rate_limits(store)
    store.projects[project.id] = project
    emit(ctx, "project.created", {"id": project.id, "data": {"name": name, "title": name}})
    return project_api(project)


@route("GET", "/organization/projects/{project_id}", "retrieve-project")
def projects_get(ctx: Ctx) -> dict[str, Any]:
    return project_api(path_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}",
    "modify-project",
    body=obj(optional={"name": s_str(nullable=True), "external_key_id": s_str(nullable=True)}),
)
def projects_modify(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
    if project.is_default:
        raise conflict("The default project cannot be updated.", param="project_id")
    name = ctx.body.get("name")
    if name is not None:
        if not name.strip():
            raise invalid("name", "Invalid 'name': a project needs a name.")
        if name != project.name:
            project.name = name
            emit(
                ctx,
                "project.updated",
                {"id": project.id, "changes_requested": {"title": name}},
                project=project,
            )
    if "external_key_id" in ctx.body:
        project.external_key_id = ctx.body["external_key_id"]
    return project_api(project)


@route("POST", "/organization/projects/{project_id}/archive", "archive-project")
def projects_archive(ctx: Ctx) -> dict[str, Any]:
    project = path_project(ctx)
    if project.is_default:
        raise conflict("The default project cannot be archived.", param="project_id")
    if project.archived_at is None:
        project.archived_at = ctx.now
        ctx.store.usage.stop(at=ctx.now, project_id=project.id)
        emit(ctx, "project.archived", {"id": project.id}, project=project)
    return project_api(project)


# --- project users -----------------------------------------------------------------------------


def _project_user_api(store: Store, user_id: str, member: ProjectMember) -> dict[str, Any]:
    user = store.users.get(user_id)
    return {
        "object": "organization.project.user",
        "id": user_id,
        "name": user.name if user else None,
        "email": user.email if user else None,
        "role": member.role,
        "added_at": member.added_at,
    }


def _check_project_role(role: Any, param: str = "role") -> str:
    if role not in ("owner", "member"):
        raise invalid(param, f"Invalid '{param}': '{role}'. Must be 'owner' or 'member'.")
    return role


@route(
    "GET",
    "/organization/projects/{project_id}/users",
    "list-project-users",
    query=(LIMIT_1_100, AFTER),
)
def project_users_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    project = active_project(ctx, "listed: archived projects have no users")
    members = sorted(project.members.items(), key=lambda m: (m[1].added_at, m[0]))

    def cursor(user_id: str) -> tuple[Any, ...] | None:
        member = project.members.get(user_id)
        if member is not None:
            return (member.added_at, user_id)
        return store.retired.get(f"{project.id}/{user_id}")

    page, more = window(
        members,
        sort_key=lambda m: (m[1].added_at, m[0]),
        cursor_key=cursor,
        limit=q["limit"],
        after=q["after"],
    )
    return list_a([_project_user_api(store, uid, m) for uid, m in page], more)


@route(
    "POST",
    "/organization/projects/{project_id}/users",
    "create-project-user",
    body=obj({"role": s_str()}, {"user_id": s_str(nullable=True), "email": s_str(nullable=True)}),
)
def project_users_create(ctx: Ctx) -> dict[str, Any]:
    store, body = ctx.store, ctx.body
    project = active_project(ctx)
    role = _check_project_role(body["role"])
    user = None
    if body.get("user_id"):
        user = store.users.get(body["user_id"])
        if user is None:
            raise invalid(
                "user_id", f"User '{body['user_id']}' is not a member of the organization."
            )
    elif body.get("email"):
        wanted = body["email"].lower()
        user = next((u for u in store.users.values() if u.email.lower() == wanted), None)
        if user is None:
            raise invalid("email", f"'{body['email']}' is not a member of the organization.")
    else:
        raise invalid("user_id", "One of 'user_id' or 'email' is required.")
    if user.id in project.members:
        raise conflict(f"User '{user.id}' is already a member of this project.", param="user_id")
    member = project.members[user.id] = ProjectMember(role, ctx.now)
    emit(ctx, "user.added", {"id": user.id, "data": {"role": role}}, project=project)
    return _project_user_api(store, user.id, member)


def _member(ctx: Ctx, project: Project) -> ProjectMember:
    member = project.members.get(ctx.path["user_id"])
    if member is None:
        raise not_found("project user", ctx.path["user_id"])
    return member


@route("GET", "/organization/projects/{project_id}/users/{user_id}", "retrieve-project-user")
def project_users_get(ctx: Ctx) -> dict[str, Any]:
    project = path_project(ctx)
    return _project_user_api(ctx.store, ctx.path["user_id"], _member(ctx, project))


@route(
    "POST",
    "/organization/projects/{project_id}/users/{user_id}",
    "modify-project-user",
    body=obj(optional={"role": s_str(nullable=True)}),
)
def project_users_modify(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
    member = _member(ctx, project)
    role = ctx.body.get("role")
    if role is not None and role != member.role:
        member.role = _check_project_role(role)
        emit(
            ctx,
            "user.updated",
            {"id": ctx.path["user_id"], "changes_requested": {"role": role}},
            project=project,
        )
    return _project_user_api(ctx.store, ctx.path["user_id"], member)


@route("DELETE", "/organization/projects/{project_id}/users/{user_id}", "delete-project-user")
def project_users_delete(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
    member = _member(ctx, project)
    user_id = ctx.path["user_id"]
    del project.members[user_id]
    ctx.store.retire(f"{project.id}/{user_id}", (member.added_at, user_id))
    for key in ctx.store.project_keys(project.id):
        if key.owner_id == user_id:  # the owner lost access: the key stops working
            ctx.store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "user.deleted", {"id": user_id}, project=project)
    return {"object": "organization.project.user.deleted", "id": user_id, "deleted": True}
