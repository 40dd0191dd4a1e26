"""Projects: the list of them, and each project's own section (its members, service accounts,
keys, rate limits, certificates, groups, spend alerts and settings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from orgadmin.models import (
    Organization,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectGroup,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SpendAlert,
)
from orgadmin.sync.directory.base import Fetcher, replace_rows, ts
from orgadmin.sync.directory.org_settings import (
    certificate_fields,
    spend_alert_fields,
    spend_limit_fields,
)


def project_fields(p: Any) -> dict[str, Any]:
    residency = getattr(p, "residency", None) or getattr(p, "geography", None) or ""
    return {
        "openai_id": p.id,
        "name": p.name or "",
        "status": p.status or ("archived" if p.archived_at else "active"),
        "created_at": ts(p.created_at),
        "archived_at": ts(p.archived_at),
        "residency": str(residency),
    }


def project_user_fields(u: Any) -> dict[str, Any]:
    return {
        "user_openai_id": u.id,
        "email": u.email or "",
        "name": u.name or "",
        "role": u.role,
        "added_at": ts(u.added_at),
    }


def service_account_fields(s: Any) -> dict[str, Any]:
    return {
        "openai_id": s.id,
        "name": s.name or "",
        "role": s.role or "",
        "created_at": ts(s.created_at),
    }


def project_key_fields(k: Any) -> dict[str, Any]:
    owner = k.owner
    person = owner.user if owner and owner.type == "user" else None
    account = owner.service_account if owner and owner.type == "service_account" else None
    return {
        "openai_id": k.id,
        "name": k.name or "",
        "redacted_value": k.redacted_value or "",
        "created_at": ts(k.created_at),
        "last_used_at": ts(k.last_used_at),
        "expires_at": ts(getattr(k, "expires_at", None)),
        "owner_type": (owner.type or "") if owner else "",
        "owner_id": (person or account).id if (person or account) else "",
        "owner_name": (person or account).name if (person or account) else "",
        "owner_email": person.email if person else "",
        "owner_project_access": k.owner_project_access or "",
    }


def rate_limit_fields(r: Any) -> dict[str, Any]:
    return {
        "openai_id": r.id,
        "model": r.model,
        "max_requests_per_1_minute": r.max_requests_per_1_minute,
        "max_tokens_per_1_minute": r.max_tokens_per_1_minute,
        "max_images_per_1_minute": r.max_images_per_1_minute,
        "max_audio_megabytes_per_1_minute": r.max_audio_megabytes_per_1_minute,
        "max_requests_per_1_day": r.max_requests_per_1_day,
        "batch_1_day_max_input_tokens": r.batch_1_day_max_input_tokens,
    }


def model_permission_fields(perm: Any | None) -> dict[str, Any]:
    if perm is None:
        return {"model_permissions_mode": "", "model_ids": []}
    return {"model_permissions_mode": perm.mode, "model_ids": list(perm.api_model_ids)}


def hosted_tool_fields(tools: Any) -> dict[str, Any]:
    return {
        "hosted_tools": {
            name: bool(getattr(getattr(tools, name, None), "enabled", False))
            for name in Project.HostedTool.values
        }
    }


def project_group_fields(g: Any) -> dict[str, Any]:
    return {
        "group_openai_id": g.group_id,
        "group_name": g.group_name or "",
        "group_type": g.group_type or "",
        "created_at": ts(g.created_at),
    }


def sync_projects(org: Organization, f: Fetcher) -> Callable[[], int]:
    listed = f.all(lambda: f.api.projects.list(limit=100, include_archived=True))
    rows = [project_fields(p) for p in listed]
    return lambda: replace_rows(Project, scope={"org": org}, key="openai_id", rows=rows)


@dataclass
class _ProjectRows:
    """What one project's section fetched, as cache rows. None: not fetched (an archived
    project's settings, or an area the key may not read), so the cache keeps what it has."""

    keys: list[dict[str, Any]] | None = None
    users: list[dict[str, Any]] | None = None
    accounts: list[dict[str, Any]] | None = None
    limits: list[dict[str, Any]] | None = None
    certificates: list[dict[str, Any]] | None = None
    groups: list[dict[str, Any]] | None = None
    alerts: list[dict[str, Any]] | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the Project's own columns fetched


def sync_project(org: Organization, f: Fetcher, project_id: str) -> Callable[[], int]:
    project = Project.objects.filter(org=org, openai_id=project_id).first()
    if project is None:
        return lambda: 0  # gone since the projects section ran; the next run drops it
    api = f.api.projects
    rows = _ProjectRows(
        keys=f.readable(
            "keys",
            lambda: [
                {**project_key_fields(k), "org": org}
                for k in f.all(
                    lambda: api.api_keys.list(project_id, limit=100, owner_project_access="any")
                )
            ],
        )
    )
    # Archived projects have no users or service accounts (the API answers 400), and can't be
    # changed, so their other settings stay as last seen.
    if project.is_archived:
        rows.users, rows.accounts = [], []
    else:
        _fetch_active(f, project_id, rows)
    return lambda: _write_project(org, project, rows)


def _fetch_active(f: Fetcher, project_id: str, rows: _ProjectRows) -> None:
    """The lists and settings of an active project that the key may read, into `rows`."""
    api = f.api.projects

    def listed(area: str, call: Callable[[], Any], fields: Callable[[Any], dict]) -> list | None:
        return f.readable(area, lambda: [fields(item) for item in f.all(call)])

    rows.users = listed(
        "projects", lambda: api.users.list(project_id, limit=100), project_user_fields
    )
    rows.accounts = listed(
        "projects", lambda: api.service_accounts.list(project_id, limit=100), service_account_fields
    )
    rows.limits = listed(
        "rate_limits",
        lambda: api.rate_limits.list_rate_limits(project_id, limit=100),
        rate_limit_fields,
    )
    rows.certificates = listed(
        "certificates",
        lambda: api.certificates.list(project_id, limit=100),
        lambda c: certificate_fields(c, key="certificate_openai_id"),
    )
    rows.groups = listed(
        "groups_roles", lambda: api.groups.list(project_id, limit=100), project_group_fields
    )
    rows.alerts = listed(
        "settings", lambda: api.spend_alerts.list(project_id, limit=100), spend_alert_fields
    )
    spend = f.readable(
        "settings",
        lambda: (
            f.one(lambda: api.spend_limit.retrieve(project_id), missing_ok=True),
            f.one(lambda: api.data_retention.retrieve(project_id), missing_ok=True),
        ),
    )
    if spend is not None:
        limit, retention = spend
        rows.settings.update(spend_limit_fields(limit))
        rows.settings["data_retention"] = retention.type if retention else ""
    access = f.readable(
        "projects",
        lambda: (
            f.one(lambda: api.model_permissions.retrieve(project_id), missing_ok=True),
            f.one(lambda: api.hosted_tool_permissions.retrieve(project_id), missing_ok=True),
        ),
    )
    if access is not None:
        models_allowed, tools = access
        rows.settings.update(model_permission_fields(models_allowed))
        if tools is not None:
            rows.settings.update(hosted_tool_fields(tools))


def _write_project(org: Organization, project: Project, rows: _ProjectRows) -> int:
    """Replace the project's cached rows that were fetched (and the settings read)."""
    scope = {"project": project}
    written = 0
    for model, key, fetched in (
        (ProjectUser, "user_openai_id", rows.users),
        (ServiceAccount, "openai_id", rows.accounts),
        (ProjectApiKey, "openai_id", rows.keys),
        (RateLimit, "openai_id", rows.limits),
        (ProjectCertificate, "certificate_openai_id", rows.certificates),
        (ProjectGroup, "group_openai_id", rows.groups),
    ):
        if fetched is not None:
            written += replace_rows(model, scope=scope, key=key, rows=fetched)
    if rows.alerts is not None:
        written += replace_rows(
            SpendAlert,
            scope={"org": org, "project": project},
            key="openai_id",
            rows=rows.alerts,
            unique=["org", "openai_id"],
        )
    if rows.settings:
        Project.objects.filter(pk=project.pk).update(
            **rows.settings, settings_synced_at=timezone.now()
        )
        written += 1
    return written
