"""Project endpoints: projects, members, service accounts, keys, limits and settings."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.endpoints._common import (
    emit,
    project_api,
    project_key_api,
    service_account_api,
)
from orgadmin.simulator.endpoints.org import (
    RETENTION_TYPES,
    SPEND_ALERT_BODY,
    SPEND_ALERT_LIST_QUERY,
    SPEND_LIMIT_BODY,
    alert_api,
    limit_api,
    list_alerts,
    save_alert,
)
from orgadmin.simulator.errors import conflict, invalid, not_found
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import AFTER, BEFORE, LIMIT_1_100, q_bool, q_enum, q_int
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_bool, s_int, s_str
from orgadmin.simulator.store import (
    HOSTED_TOOLS,
    Project,
    ProjectApiKey,
    ProjectMember,
    RateLimit,
    ServiceAccount,
    SpendLimit,
    Store,
    redact,
)

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
RATE_FIELDS = (
    "max_requests_per_1_minute",
    "max_tokens_per_1_minute",
    "max_images_per_1_minute",
    "max_audio_megabytes_per_1_minute",
    "max_requests_per_1_day",
    "batch_1_day_max_input_tokens",
)
PROJECT_RETENTION_TYPES = ("organization_default", "none", *RETENTION_TYPES)


def _key(item: Any) -> tuple[int, str]:
    return (item.created_at, item.id)


def _project(ctx: Ctx) -> Project:
    return ctx.store.get_project(ctx.path["project_id"])


def _active(ctx: Ctx, what: str = "updated") -> Project:
    """The project, which must not be archived (archived projects cannot be used or updated)."""
    project = _project(ctx)
    if project.archived_at is not None:
        raise conflict(f"Project '{project.id}' is archived and cannot be {what}.")
    return project


def _cursor(store: Store, table: dict[str, Any], key: Any = _key) -> Any:
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
    projects = sorted(store.projects.values(), key=_key)
    if not q["include_archived"]:
        projects = [p for p in projects if p.archived_at is None]
    page, more = window(
        projects,
        sort_key=_key,
        cursor_key=_cursor(store, store.projects),
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
    return project_api(_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}",
    "modify-project",
    body=obj(optional={"name": s_str(nullable=True), "external_key_id": s_str(nullable=True)}),
)
def projects_modify(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
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
    project = _project(ctx)
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
    project = _active(ctx, "listed: archived projects have no users")
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
    project = _active(ctx)
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
    project = _project(ctx)
    return _project_user_api(ctx.store, ctx.path["user_id"], _member(ctx, project))


@route(
    "POST",
    "/organization/projects/{project_id}/users/{user_id}",
    "modify-project-user",
    body=obj(optional={"role": s_str(nullable=True)}),
)
def project_users_modify(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
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
    project = _active(ctx)
    member = _member(ctx, project)
    user_id = ctx.path["user_id"]
    del project.members[user_id]
    ctx.store.retire(f"{project.id}/{user_id}", (member.added_at, user_id))
    for key in ctx.store.project_keys(project.id):
        if key.owner_id == user_id:  # the owner lost access: the key stops working
            ctx.store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "user.deleted", {"id": user_id}, project=project)
    return {"object": "organization.project.user.deleted", "id": user_id, "deleted": True}


# --- service accounts --------------------------------------------------------------------------


@route(
    "GET",
    "/organization/projects/{project_id}/service_accounts",
    "list-project-service-accounts",
    query=(LIMIT_1_100, AFTER),
)
def service_accounts_list(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx, "listed: archived projects have no service accounts")
    accounts = sorted(project.service_accounts.values(), key=_key)
    page, more = window(
        accounts,
        sort_key=_key,
        cursor_key=_cursor(ctx.store, project.service_accounts),
        limit=ctx.query["limit"],
        after=ctx.query["after"],
    )
    return list_a([service_account_api(a) for a in page], more)


def _new_sa_key(
    ctx: Ctx, project: Project, sa: ServiceAccount, name: str, scopes: list[str]
) -> dict[str, Any]:
    store = ctx.store
    value = store.new_secret("sk-svcacct-", 64)
    key = ProjectApiKey(
        id=store.new_id("key_", 16),
        project_id=project.id,
        name=name,
        created_at=ctx.now,
        owner_type="service_account",
        owner_id=sa.id,
        redacted_value=redact(value, "sk-svcacct-"),
        value=value,
        scopes=scopes,
    )
    store.api_keys[key.id] = key
    emit(ctx, "api_key.created", {"id": key.id, "data": {"scopes": scopes}}, project=project)
    return {
        "object": "organization.project.service_account.api_key",
        "value": value,
        "name": name,
        "created_at": ctx.now,
        "id": key.id,
    }


@route(
    "POST",
    "/organization/projects/{project_id}/service_accounts",
    "create-project-service-account",
    body=obj({"name": s_str()}, {"create_service_account_only": s_bool(nullable=True)}),
)
def service_accounts_create(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = _active(ctx, "given service accounts")
    only = bool(ctx.body.get("create_service_account_only"))
    sa = ServiceAccount(
        id=store.new_id("svc_acct_"),
        project_id=project.id,
        name=ctx.body["name"],
        role="none" if only else "member",
        created_at=ctx.now,
    )
    project.service_accounts[sa.id] = sa
    emit(ctx, "service_account.created", {"id": sa.id, "data": {"role": sa.role}}, project=project)
    api_key = None if only else _new_sa_key(ctx, project, sa, "Secret Key", ["api.all"])
    return {**service_account_api(sa), "api_key": api_key}


def _sa(ctx: Ctx, project: Project) -> ServiceAccount:
    sa = project.service_accounts.get(ctx.path["service_account_id"])
    if sa is None:
        raise not_found("service account", ctx.path["service_account_id"])
    return sa


@route(
    "GET",
    "/organization/projects/{project_id}/service_accounts/{service_account_id}",
    "retrieve-project-service-account",
)
def service_accounts_get(ctx: Ctx) -> dict[str, Any]:
    return service_account_api(_sa(ctx, _project(ctx)))


@route(
    "POST",
    "/organization/projects/{project_id}/service_accounts/{service_account_id}",
    "update-project-service-account",
    body=obj(optional={"name": s_str(), "role": s_str(enum=("member", "owner"))}),
)
def service_accounts_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    sa = _sa(ctx, project)
    if "name" in ctx.body:
        sa.name = ctx.body["name"]
    if "role" in ctx.body and ctx.body["role"] != sa.role:
        sa.role = ctx.body["role"]
        emit(
            ctx,
            "service_account.updated",
            {"id": sa.id, "changes_requested": {"role": sa.role}},
            project=project,
        )
    return service_account_api(sa)


@route(
    "DELETE",
    "/organization/projects/{project_id}/service_accounts/{service_account_id}",
    "delete-project-service-account",
)
def service_accounts_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = _active(ctx, "changed: archived projects have no service accounts")
    sa = _sa(ctx, project)
    del project.service_accounts[sa.id]
    store.retire(sa.id, _key(sa))
    for key in [k for k in store.api_keys.values() if k.owner_id == sa.id]:
        del store.api_keys[key.id]
        store.retire(key.id, _key(key))
        store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "service_account.deleted", {"id": sa.id}, project=project)
    return {"object": "organization.project.service_account.deleted", "id": sa.id, "deleted": True}


@route(
    "POST",
    "/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys",
    "CreateanAPIkeyforaserviceaccount",
    body=obj(optional={"name": s_str(), "scopes": s_array(s_str())}),
    body_optional=True,
)
def service_account_keys_create(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    sa = _sa(ctx, project)
    name = ctx.body.get("name") or "Secret Key"
    return _new_sa_key(ctx, project, sa, name, list(ctx.body.get("scopes") or ["api.all"]))


# --- project API keys --------------------------------------------------------------------------


@route(
    "GET",
    "/organization/projects/{project_id}/api_keys",
    "list-project-api-keys",
    query=(LIMIT_1_100, AFTER, q_enum("owner_project_access", ("active", "inactive", "any"))),
)
def project_keys_list(ctx: Ctx) -> dict[str, Any]:
    store, q = ctx.store, ctx.query
    project = _project(ctx)
    # Without `owner_project_access` the older, membership-based visibility applies: keys whose
    # owner lost access to the project are hidden, as the spec warns.
    access = q["owner_project_access"] or "active"
    keys = [
        k
        for k in store.project_keys(project.id)
        if access == "any" or store.key_owner_has_access(k) == (access == "active")
    ]
    keys.sort(key=_key)
    page, more = window(
        keys,
        sort_key=_key,
        cursor_key=_cursor(store, store.api_keys),
        limit=q["limit"],
        after=q["after"],
    )
    return list_a([project_key_api(store, k, ctx.now) for k in page], more)


def _project_key(ctx: Ctx, project: Project) -> ProjectApiKey:
    key = ctx.store.api_keys.get(ctx.path["api_key_id"])
    if key is None or key.project_id != project.id:
        raise not_found("API key", ctx.path["api_key_id"])
    return key


@route(
    "GET",
    "/organization/projects/{project_id}/api_keys/{api_key_id}",
    "retrieve-project-api-key",
)
def project_keys_get(ctx: Ctx) -> dict[str, Any]:
    return project_key_api(ctx.store, _project_key(ctx, _project(ctx)), ctx.now)


@route(
    "DELETE",
    "/organization/projects/{project_id}/api_keys/{api_key_id}",
    "delete-project-api-key",
)
def project_keys_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = _project(ctx)
    key = _project_key(ctx, project)
    if key.owner_type == "service_account":
        raise conflict(
            "API keys of service accounts cannot be deleted; delete the service account.",
            param="api_key_id",
        )
    del store.api_keys[key.id]
    store.retire(key.id, _key(key))
    store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "api_key.deleted", {"id": key.id}, project=project)
    return {"object": "organization.project.api_key.deleted", "id": key.id, "deleted": True}


# --- rate limits -------------------------------------------------------------------------------


def _rate_limit_api(limit: RateLimit) -> dict[str, Any]:
    return {"object": "project.rate_limit", "id": limit.id, "model": limit.model, **limit.limits}


@route(
    "GET",
    "/organization/projects/{project_id}/rate_limits",
    "list-project-rate-limits",
    query=(q_int("limit", default=100, minimum=1), AFTER, BEFORE),
)
def rate_limits_list(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx)
    limits = list(project.rate_limits.values())
    position = {rl.id: (i,) for i, rl in enumerate(limits)}
    page, more = window(
        limits,
        sort_key=lambda rl: position[rl.id],
        cursor_key=position.get,
        limit=ctx.query["limit"],
        after=ctx.query["after"],
        before=ctx.query["before"],
    )
    return list_a([_rate_limit_api(rl) for rl in page], more)


@route(
    "POST",
    "/organization/projects/{project_id}/rate_limits/{rate_limit_id}",
    "update-project-rate-limits",
    body=obj(optional={f: s_int() for f in RATE_FIELDS}),
)
def rate_limits_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    limit = project.rate_limits.get(ctx.path["rate_limit_id"])
    if limit is None:
        raise not_found("rate limit", ctx.path["rate_limit_id"])
    for field, value in ctx.body.items():
        if field not in limit.limits:
            raise invalid(field, f"'{field}' does not apply to model '{limit.model}'.")
        if value < 1:
            raise invalid(field, f"Invalid '{field}': {value}. It must be at least 1.")
        ceiling = limit.org_limits[field]
        if value > ceiling:
            raise invalid(
                field,
                f"Invalid '{field}': {value}. It cannot exceed the organization's limit of "
                f"{ceiling} for {limit.model}.",
            )
    if ctx.body:
        limit.limits.update(ctx.body)
        emit(
            ctx,
            "rate_limit.updated",
            {"id": limit.id, "changes_requested": dict(ctx.body)},
            project=project,
        )
    return _rate_limit_api(limit)


# --- settings: data retention, model and hosted-tool permissions -------------------------------


@route(
    "GET",
    "/organization/projects/{project_id}/data_retention",
    "retrieve-project-data-retention",
)
def project_retention_get(ctx: Ctx) -> dict[str, Any]:
    return {"object": "project.data_retention", "type": _project(ctx).data_retention}


@route(
    "POST",
    "/organization/projects/{project_id}/data_retention",
    "update-project-data-retention",
    body=obj({"retention_type": s_str(enum=PROJECT_RETENTION_TYPES)}),
)
def project_retention_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    if ctx.body["retention_type"] != project.data_retention:
        project.data_retention = ctx.body["retention_type"]
        emit(ctx, "tenant.resource_access.updated", project=project)
    return {"object": "project.data_retention", "type": project.data_retention}


def _model_permissions_api(project: Project) -> dict[str, Any]:
    mode, models = project.model_permissions or ("deny_list", [])
    return {"object": "project.model_permissions", "mode": mode, "model_ids": list(models)}


@route(
    "GET",
    "/organization/projects/{project_id}/model_permissions",
    "retrieve-project-model-permissions",
)
def model_permissions_get(ctx: Ctx) -> dict[str, Any]:
    return _model_permissions_api(_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}/model_permissions",
    "update-project-model-permissions",
    body=obj({"mode": s_str(enum=("allow_list", "deny_list")), "model_ids": s_array(s_str())}),
)
def model_permissions_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    project.model_permissions = (ctx.body["mode"], list(dict.fromkeys(ctx.body["model_ids"])))
    emit(ctx, "tenant.resource_access.updated", project=project)
    return _model_permissions_api(project)


@route(
    "DELETE",
    "/organization/projects/{project_id}/model_permissions",
    "delete-project-model-permissions",
)
def model_permissions_delete(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    project.model_permissions = None
    emit(ctx, "tenant.resource_access.deleted", project=project)
    return {"object": "project.model_permissions.deleted", "deleted": True}


def _hosted_tools_api(project: Project) -> dict[str, Any]:
    return {tool: {"enabled": project.hosted_tools[tool]} for tool in HOSTED_TOOLS}


@route(
    "GET",
    "/organization/projects/{project_id}/hosted_tool_permissions",
    "retrieve-project-hosted-tool-permissions",
)
def hosted_tools_get(ctx: Ctx) -> dict[str, Any]:
    return _hosted_tools_api(_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}/hosted_tool_permissions",
    "update-project-hosted-tool-permissions",
    body=obj(optional={t: {**obj({"enabled": s_bool()}), "nullable": True} for t in HOSTED_TOOLS}),
)
def hosted_tools_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    changed = False
    for tool, setting in ctx.body.items():
        if setting is not None and project.hosted_tools[tool] != setting["enabled"]:
            project.hosted_tools[tool] = setting["enabled"]
            changed = True
    if changed:
        emit(ctx, "tenant.resource_access.updated", project=project)
    return _hosted_tools_api(project)


# --- project spend alerts and limit ------------------------------------------------------------


@route(
    "GET",
    "/organization/projects/{project_id}/spend_alerts",
    "list-project-spend-alerts",
    query=SPEND_ALERT_LIST_QUERY,
)
def project_alerts_list(ctx: Ctx) -> dict[str, Any]:
    return list_alerts(ctx, _project(ctx).spend_alerts, "project")


@route(
    "POST",
    "/organization/projects/{project_id}/spend_alerts",
    "create-project-spend-alert",
    body=SPEND_ALERT_BODY,
)
def project_alerts_create(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    alert = save_alert(ctx, None, ctx.now)
    project.spend_alerts[alert.id] = alert
    emit(ctx, "tenant.billing.alerts.updated", project=project, resource_ids=(alert.id,))
    return alert_api(alert, "project")


def _project_alert(ctx: Ctx, project: Project) -> Any:
    alert = project.spend_alerts.get(ctx.path["alert_id"])
    if alert is None:
        raise not_found("spend alert", ctx.path["alert_id"])
    return alert


@route(
    "GET",
    "/organization/projects/{project_id}/spend_alerts/{alert_id}",
    "retrieve-project-spend-alert",
)
def project_alerts_get(ctx: Ctx) -> dict[str, Any]:
    return alert_api(_project_alert(ctx, _project(ctx)), "project")


@route(
    "POST",
    "/organization/projects/{project_id}/spend_alerts/{alert_id}",
    "update-project-spend-alert",
    body=SPEND_ALERT_BODY,
)
def project_alerts_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    old = _project_alert(ctx, project)
    alert = save_alert(ctx, old.id, old.created_at)
    project.spend_alerts[alert.id] = alert
    emit(ctx, "tenant.billing.alerts.updated", project=project, resource_ids=(alert.id,))
    return alert_api(alert, "project")


@route(
    "DELETE",
    "/organization/projects/{project_id}/spend_alerts/{alert_id}",
    "delete-project-spend-alert",
)
def project_alerts_delete(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx)
    alert = _project_alert(ctx, project)
    del project.spend_alerts[alert.id]
    ctx.store.retire(alert.id, _key(alert))
    emit(ctx, "tenant.billing.alerts.updated", project=project, resource_ids=(alert.id,))
    return {"id": alert.id, "object": "project.spend_alert.deleted", "deleted": True}


@route("GET", "/organization/projects/{project_id}/spend_limit", "Getprojectspendlimit")
def project_limit_get(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx)
    if project.spend_limit is None:
        raise not_found("spend limit", project.id)
    return limit_api(ctx, project.spend_limit, "project", project.id)


@route(
    "POST",
    "/organization/projects/{project_id}/spend_limit",
    "Updateprojectspendlimit",
    body=SPEND_LIMIT_BODY,
)
def project_limit_update(ctx: Ctx) -> dict[str, Any]:
    project = _active(ctx)
    body = ctx.body
    project.spend_limit = SpendLimit(body["threshold_amount"], body["currency"], body["interval"])
    emit(ctx, "tenant.usage_limit.workspace.updated", project=project)
    return limit_api(ctx, project.spend_limit, "project", project.id)


@route("DELETE", "/organization/projects/{project_id}/spend_limit", "Deleteprojectspendlimit")
def project_limit_delete(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx)
    if project.spend_limit is None:
        raise not_found("spend limit", project.id)
    project.spend_limit = None
    emit(ctx, "tenant.usage_limit.workspace.updated", project=project)
    return {"object": "project.spend_limit.deleted", "deleted": True}
