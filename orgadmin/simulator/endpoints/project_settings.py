"""Project endpoints: rate limits, data retention, model and hosted-tool permissions, and the
project's spend alerts and limit."""

from __future__ import annotations

from typing import Any

from orgadmin.simulator.endpoints._common import emit
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
from orgadmin.simulator.endpoints.projects import active_project, by_created, path_project
from orgadmin.simulator.errors import invalid, not_found
from orgadmin.simulator.paging import list_a, window
from orgadmin.simulator.params import AFTER, BEFORE, q_int
from orgadmin.simulator.routing import Ctx, obj, route, s_array, s_bool, s_int, s_str
from orgadmin.simulator.store import HOSTED_TOOLS, Project, RateLimit, SpendLimit

RATE_FIELDS = (
    "max_requests_per_1_minute",
    "max_tokens_per_1_minute",
    "max_images_per_1_minute",
    "max_audio_megabytes_per_1_minute",
    "max_requests_per_1_day",
    "batch_1_day_max_input_tokens",
)
PROJECT_RETENTION_TYPES = ("organization_default", "none", *RETENTION_TYPES)

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
    project = path_project(ctx)
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
    project = active_project(ctx)
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
    return {"object": "project.data_retention", "type": path_project(ctx).data_retention}


@route(
    "POST",
    "/organization/projects/{project_id}/data_retention",
    "update-project-data-retention",
    body=obj({"retention_type": s_str(enum=PROJECT_RETENTION_TYPES)}),
)
def project_retention_update(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    return _model_permissions_api(path_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}/model_permissions",
    "update-project-model-permissions",
    body=obj({"mode": s_str(enum=("allow_list", "deny_list")), "model_ids": s_array(s_str())}),
)
def model_permissions_update(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
    project.model_permissions = (ctx.body["mode"], list(dict.fromkeys(ctx.body["model_ids"])))
    emit(ctx, "tenant.resource_access.updated", project=project)
    return _model_permissions_api(project)


@route(
    "DELETE",
    "/organization/projects/{project_id}/model_permissions",
    "delete-project-model-permissions",
)
def model_permissions_delete(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    return _hosted_tools_api(path_project(ctx))


@route(
    "POST",
    "/organization/projects/{project_id}/hosted_tool_permissions",
    "update-project-hosted-tool-permissions",
    body=obj(optional={t: {**obj({"enabled": s_bool()}), "nullable": True} for t in HOSTED_TOOLS}),
)
def hosted_tools_update(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    return list_alerts(ctx, path_project(ctx).spend_alerts, "project")


@route(
    "POST",
    "/organization/projects/{project_id}/spend_alerts",
    "create-project-spend-alert",
    body=SPEND_ALERT_BODY,
)
def project_alerts_create(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    return alert_api(_project_alert(ctx, path_project(ctx)), "project")


@route(
    "POST",
    "/organization/projects/{project_id}/spend_alerts/{alert_id}",
    "update-project-spend-alert",
    body=SPEND_ALERT_BODY,
)
def project_alerts_update(ctx: Ctx) -> dict[str, Any]:
    project = active_project(ctx)
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
    project = path_project(ctx)
    alert = _project_alert(ctx, project)
    del project.spend_alerts[alert.id]
    ctx.store.retire(alert.id, by_created(alert))
    emit(ctx, "tenant.billing.alerts.updated", project=project, resource_ids=(alert.id,))
    return {"id": alert.id, "object": "project.spend_alert.deleted", "deleted": True}


@route("GET", "/organization/projects/{project_id}/spend_limit", "Getprojectspendlimit")
def project_limit_get(ctx: Ctx) -> dict[str, Any]:
    project = path_project(ctx)
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
    project = active_project(ctx)
    body = ctx.body
    project.spend_limit = SpendLimit(body["threshold_amount"], body["currency"], body["interval"])
    emit(ctx, "tenant.usage_limit.workspace.updated", project=project)
    return limit_api(ctx, project.spend_limit, "project", project.id)


@route("DELETE", "/organization/projects/{project_id}/spend_limit", "Deleteprojectspendlimit")
def project_limit_delete(ctx: Ctx) -> dict[str, Any]:
    project = path_project(ctx)
    if project.spend_limit is None:
        raise not_found("spend limit", project.id)
    project.spend_limit = None
    emit(ctx, "tenant.usage_limit.workspace.updated", project=project)
    return {"object": "project.spend_limit.deleted", "deleted": True}
