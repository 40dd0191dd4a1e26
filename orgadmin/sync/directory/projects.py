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
    """What one project's section fetched, as cache rows. An archived project has only keys."""

    keys: list[dict[str, Any]]
    users: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    limits: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] | None = None  # the Project's own columns; None when archived


def sync_project(org: Organization, f: Fetcher, project_id: str) -> Callable[[], int]:
    project = Project.objects.filter(org=org, openai_id=project_id).first()
    if project is None:
        return lambda: 0  # gone since the projects section ran; the next run drops it
    api = f.api.projects
    rows = _ProjectRows(
        keys=[
            {**project_key_fields(k), "org": org}
            for k in f.all(
                lambda: api.api_keys.list(project_id, limit=100, owner_project_access="any")
            )
        ]
    )
    # Archived projects have no users or service accounts (the API answers 400), and can't be
    # changed, so their other settings stay as last seen.
    if not project.is_archived:
        _fetch_active(f, project_id, rows)
    return lambda: _write_project(org, project, rows)


def _fetch_active(f: Fetcher, project_id: str, rows: _ProjectRows) -> None:
    """The lists and settings of an active project, into `rows`."""
    api = f.api.projects
    rows.users = [
        project_user_fields(u) for u in f.all(lambda: api.users.list(project_id, limit=100))
    ]
    rows.accounts = [
        service_account_fields(s)
        for s in f.all(lambda: api.service_accounts.list(project_id, limit=100))
    ]
    rows.limits = [
        rate_limit_fields(r)
        for r in f.all(lambda: api.rate_limits.list_rate_limits(project_id, limit=100))
    ]
    rows.certificates = [
        certificate_fields(c, key="certificate_openai_id")
        for c in f.all(lambda: api.certificates.list(project_id, limit=100))
    ]
    rows.groups = [
        project_group_fields(g) for g in f.all(lambda: api.groups.list(project_id, limit=100))
    ]
    rows.alerts = [
        spend_alert_fields(a) for a in f.all(lambda: api.spend_alerts.list(project_id, limit=100))
    ]
    limit = f.one(lambda: api.spend_limit.retrieve(project_id), missing_ok=True)
    retention = f.one(lambda: api.data_retention.retrieve(project_id), missing_ok=True)
    models_allowed = f.one(lambda: api.model_permissions.retrieve(project_id), missing_ok=True)
    tools = f.one(lambda: api.hosted_tool_permissions.retrieve(project_id), missing_ok=True)
    rows.settings = {
        **spend_limit_fields(limit),
        **model_permission_fields(models_allowed),
        "data_retention": retention.type if retention else "",
    }
    if tools is not None:
        rows.settings.update(hosted_tool_fields(tools))


def _write_project(org: Organization, project: Project, rows: _ProjectRows) -> int:
    """Replace the project's cached rows (and, unless archived, its settings)."""
    scope = {"project": project}
    written = replace_rows(ProjectUser, scope=scope, key="user_openai_id", rows=rows.users)
    written += replace_rows(ServiceAccount, scope=scope, key="openai_id", rows=rows.accounts)
    written += replace_rows(ProjectApiKey, scope=scope, key="openai_id", rows=rows.keys)
    if rows.settings is None:
        return written
    written += replace_rows(RateLimit, scope=scope, key="openai_id", rows=rows.limits)
    written += replace_rows(
        ProjectCertificate, scope=scope, key="certificate_openai_id", rows=rows.certificates
    )
    written += replace_rows(ProjectGroup, scope=scope, key="group_openai_id", rows=rows.groups)
    written += replace_rows(
        SpendAlert,
        scope={"org": org, "project": project},
        key="openai_id",
        rows=rows.alerts,
        unique=["org", "openai_id"],
    )
    Project.objects.filter(pk=project.pk).update(**rows.settings, settings_synced_at=timezone.now())
    return written + 1
