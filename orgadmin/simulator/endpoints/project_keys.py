"""Project endpoints: service accounts (and their keys), and the project's API keys."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.endpoints._common import emit, project_key_api, service_account_api
from orgadmin.simulator.endpoints.projects import (
    active_project,
    by_created,
    cursor_in,
    path_project,
)
from orgadmin.simulator.errors import conflict, not_found
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import AFTER, LIMIT_1_100, q_enum
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_bool, s_str
from orgadmin.simulator.store import Project, ProjectApiKey, ServiceAccount, redact

# --- service accounts --------------------------------------------------------------------------


@route(
    "GET",
    "/organization/projects/{project_id}/service_accounts",
    "list-project-service-accounts",
    query=(LIMIT_1_100, AFTER),
)
def service_accounts_list(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx, "listed: archived projects have no service accounts")
    accounts = sorted(project.service_accounts.values(), key=by_created)
    page, more = window(
        accounts,
        sort_key=by_created,
        cursor_key=cursor_in(ctx.store, project.service_accounts),
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
    project = active_project(ctx, "given service accounts")
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
    return service_account_api(_sa(ctx, path_project(ctx)))


@route(
    "POST",
    "/organization/projects/{project_id}/service_accounts/{service_account_id}",
    "update-project-service-account",
    body=obj(optional={"name": s_str(), "role": s_str(enum=("member", "owner"))}),
)
def service_accounts_update(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    project = active_project(ctx, "changed: archived projects have no service accounts")
    sa = _sa(ctx, project)
    del project.service_accounts[sa.id]
    store.retire(sa.id, by_created(sa))
    for key in [k for k in store.api_keys.values() if k.owner_id == sa.id]:
        del store.api_keys[key.id]
        store.retire(key.id, by_created(key))
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
    project = active_project(ctx)
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
    project = path_project(ctx)
    # Without `owner_project_access` the older, membership-based visibility applies: keys whose
    # owner lost access to the project are hidden, as the spec warns.
    access = q["owner_project_access"] or "active"
    keys = [
        k
        for k in store.project_keys(project.id)
        if access == "any" or store.key_owner_has_access(k) == (access == "active")
    ]
    keys.sort(key=by_created)
    page, more = window(
        keys,
        sort_key=by_created,
        cursor_key=cursor_in(store, store.api_keys),
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
    return project_key_api(ctx.store, _project_key(ctx, path_project(ctx)), ctx.now)


@route(
    "DELETE",
    "/organization/projects/{project_id}/api_keys/{api_key_id}",
    "delete-project-api-key",
)
def project_keys_delete(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    project = path_project(ctx)
    key = _project_key(ctx, project)
    if key.owner_type == "service_account":
        raise conflict(
            "API keys of service accounts cannot be deleted; delete the service account.",
            param="api_key_id",
        )
    del store.api_keys[key.id]
    store.retire(key.id, by_created(key))
    store.usage.stop(at=ctx.now, key_id=key.id)
    emit(ctx, "api_key.deleted", {"id": key.id}, project=project)
    return {"object": "organization.project.api_key.deleted", "id": key.id, "deleted": True}
