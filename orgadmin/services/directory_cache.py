"""`directory_sync`: make the directory cache exactly what the Admin API says.

The directory is synced in *sections* ("users", "invites", …, and one "project:<id>" per
project). A section reads every page of its lists first and then replaces its rows in one
transaction: upserts on the natural key, deletes what the API no longer lists. So a page that
fails (after the SDK's own retries on 429, 5xx and timeouts) leaves that section exactly as it
was, and a run killed midway leaves every section either old or new, never half-replaced.

Each finished section is recorded on the run (`params["done"]`) in the same transaction as its
rows. A full sync that follows a failed or abandoned one within RESUME_WINDOW skips the sections
that one finished, so a large organization is not fetched again from the start.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from orgadmin.client import OrgAPIError, admin_client, api_errors
from orgadmin.models import (
    AdminApiKey,
    Certificate,
    GroupMember,
    GroupRoleAssignment,
    Invite,
    KeyUnreadable,
    Organization,
    OrgGroup,
    OrgRole,
    OrgSettings,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectGroup,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SpendAlert,
    SyncRun,
    UserRoleAssignment,
)
from orgadmin.syncing import RunRecorder, sync_run

log = logging.getLogger(__name__)

# The organization-wide sections, in the order they run (projects before their own sections).
ORG_SECTIONS: tuple[str, ...] = (
    "users",
    "invites",
    "projects",
    "admin_keys",
    "certificates",
    "roles",
    "groups",
    "user_roles",
    "org_settings",
)
PROJECT_PREFIX = "project:"
RESUME_WINDOW = dt.timedelta(minutes=15)
# Renew the run's lease every this many requests inside one long section.
_RENEW_EVERY = 50
HOSTED_TOOLS = ("file_search", "web_search", "image_generation", "mcp", "code_interpreter")


class DirectorySyncIncomplete(Exception):
    """Some sections could not be fetched; the others were synced."""


def project_section(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


# --- SDK objects → cache fields (also used by the mutation services) ----------------------


def ts(value: int | None) -> dt.datetime | None:
    """A Unix timestamp from the API as an aware datetime."""
    return dt.datetime.fromtimestamp(value, tz=dt.UTC) if value is not None else None


def user_fields(u: Any) -> dict[str, Any]:
    return {
        "openai_id": u.id,
        "email": u.email or "",
        "name": u.name or "",
        "role": u.role or "",
        "added_at": ts(u.added_at),
    }


def invite_fields(i: Any) -> dict[str, Any]:
    return {
        "openai_id": i.id,
        "email": i.email,
        "role": i.role,
        "status": i.status,
        "created_at": ts(i.created_at),
        "expires_at": ts(i.expires_at),
        "accepted_at": ts(i.accepted_at),
        "projects": [{"id": p.id, "role": p.role} for p in (i.projects or [])],
    }


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


def admin_key_fields(k: Any) -> dict[str, Any]:
    owner = k.owner
    return {
        "openai_id": k.id,
        "name": k.name or "",
        "redacted_value": k.redacted_value or "",
        "created_at": ts(k.created_at),
        "expires_at": ts(k.expires_at),
        "last_used_at": ts(k.last_used_at),
        "owner_type": (owner.type or "") if owner else "",
        "owner_id": (owner.id or "") if owner else "",
        "owner_name": (owner.name or "") if owner else "",
    }


def certificate_fields(c: Any, *, key: str = "openai_id") -> dict[str, Any]:
    details = c.certificate_details
    return {
        key: c.id,
        "name": c.name or "",
        "created_at": ts(c.created_at),
        "valid_at": ts(details.valid_at) if details else None,
        "expires_at": ts(details.expires_at) if details else None,
        "active": bool(c.active),
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


def spend_alert_fields(a: Any) -> dict[str, Any]:
    channel = a.notification_channel
    return {
        "openai_id": a.id,
        "threshold_cents": a.threshold_amount,
        "currency": a.currency,
        "interval": a.interval,
        "recipients": list(channel.recipients) if channel else [],
        "subject_prefix": (channel.subject_prefix or "") if channel else "",
    }


def spend_limit_fields(limit: Any | None) -> dict[str, Any]:
    """The hard-limit columns for a limit object, or for "no limit" when None."""
    if limit is None:
        return {
            "spend_limit_cents": None,
            "spend_limit_currency": "",
            "spend_limit_interval": "",
            "spend_limit_enforcement": "",
        }
    return {
        "spend_limit_cents": limit.threshold_amount,
        "spend_limit_currency": str(limit.currency),
        "spend_limit_interval": str(limit.interval),
        "spend_limit_enforcement": str(limit.enforcement.status) if limit.enforcement else "",
    }


def model_permission_fields(perm: Any | None) -> dict[str, Any]:
    if perm is None:
        return {"model_permissions_mode": "", "model_ids": []}
    return {"model_permissions_mode": perm.mode, "model_ids": list(perm.api_model_ids)}


def hosted_tool_fields(tools: Any) -> dict[str, Any]:
    return {
        "hosted_tools": {
            name: bool(getattr(getattr(tools, name, None), "enabled", False))
            for name in HOSTED_TOOLS
        }
    }


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


def project_group_fields(g: Any) -> dict[str, Any]:
    return {
        "group_openai_id": g.group_id,
        "group_name": g.group_name or "",
        "group_type": g.group_type or "",
        "created_at": ts(g.created_at),
    }


# --- writing a section ----------------------------------------------------------------------


def replace_rows(
    model: type[models.Model],
    *,
    scope: dict[str, Any],
    key: str,
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str] | None = None,
) -> int:
    """Make `model`'s rows within `scope` exactly `rows`: upsert on the natural key, delete the
    rest. Returns how many rows were written or deleted. Call it inside a transaction."""
    unique_fields = list(unique or [*scope, key])
    if rows:
        objs = [model(**scope, **row) for row in rows]
        fields = sorted({f for row in rows for f in row} - set(unique_fields))
        if fields:
            model.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=unique_fields,
                update_fields=fields,
                batch_size=500,
            )
        else:
            model.objects.bulk_create(objs, ignore_conflicts=True, batch_size=500)
    seen = {row[key] for row in rows}
    existing = set(model.objects.filter(**scope).values_list(key, flat=True))
    stale = sorted(existing - seen)
    for start in range(0, len(stale), 500):
        model.objects.filter(**scope, **{f"{key}__in": stale[start : start + 500]}).delete()
    return len(rows) + len(stale)


# --- fetching ---------------------------------------------------------------------------------


class _Fetcher:
    """Calls the API for one run: counts requests and keeps the run's lease alive."""

    def __init__(self, org: Organization, recorder: RunRecorder | None) -> None:
        try:
            self.api = admin_client(org)
        except KeyUnreadable:
            raise OrgAPIError(
                "The stored admin key can't be decrypted any more. Re-enter it on Connections."
            ) from None
        self.recorder = recorder
        self.pending = 0

    def _count(self, n: int = 1) -> None:
        self.pending += n
        if self.recorder is not None and self.pending >= _RENEW_EVERY:
            self.recorder.page(rows=0, requests=self.pending)
            self.pending = 0

    def all(self, call: Callable[[], Any]) -> list[Any]:
        """Every item of a paginated list, following the SDK's cursor to the last page."""
        items: list[Any] = []
        with api_errors():
            for page in call().iter_pages():
                items.extend(page.data or [])
                self._count()
        return items

    def one(self, call: Callable[[], Any], *, missing_ok: bool = False) -> Any | None:
        """One object; None when `missing_ok` and the API answers 404 (nothing configured)."""
        try:
            with api_errors():
                return call()
        except OrgAPIError as exc:
            if missing_ok and exc.status == 404:
                return None
            raise
        finally:
            self._count()


# --- the sections ---------------------------------------------------------------------------


def _sync_users(org: Organization, f: _Fetcher) -> Callable[[], int]:
    rows = [user_fields(u) for u in f.all(lambda: f.api.users.list(limit=100))]
    return lambda: replace_rows(OrgUser, scope={"org": org}, key="openai_id", rows=rows)


def _sync_invites(org: Organization, f: _Fetcher) -> Callable[[], int]:
    rows = [invite_fields(i) for i in f.all(lambda: f.api.invites.list(limit=100))]
    return lambda: replace_rows(Invite, scope={"org": org}, key="openai_id", rows=rows)


def _sync_projects(org: Organization, f: _Fetcher) -> Callable[[], int]:
    listed = f.all(lambda: f.api.projects.list(limit=100, include_archived=True))
    rows = [project_fields(p) for p in listed]
    return lambda: replace_rows(Project, scope={"org": org}, key="openai_id", rows=rows)


def _sync_admin_keys(org: Organization, f: _Fetcher) -> Callable[[], int]:
    rows = [admin_key_fields(k) for k in f.all(lambda: f.api.admin_api_keys.list(limit=100))]
    return lambda: replace_rows(AdminApiKey, scope={"org": org}, key="openai_id", rows=rows)


def _sync_certificates(org: Organization, f: _Fetcher) -> Callable[[], int]:
    rows = [certificate_fields(c) for c in f.all(lambda: f.api.certificates.list(limit=100))]
    return lambda: replace_rows(Certificate, scope={"org": org}, key="openai_id", rows=rows)


def _sync_roles(org: Organization, f: _Fetcher) -> Callable[[], int]:
    rows = [role_fields(r) for r in f.all(lambda: f.api.roles.list(limit=1000))]
    return lambda: replace_rows(OrgRole, scope={"org": org}, key="openai_id", rows=rows)


def _sync_groups(org: Organization, f: _Fetcher) -> Callable[[], int]:
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


def _sync_user_roles(org: Organization, f: _Fetcher) -> Callable[[], int]:
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


def _sync_org_settings(org: Organization, f: _Fetcher) -> Callable[[], int]:
    limit = f.one(lambda: f.api.spend_limit.retrieve(), missing_ok=True)
    alerts = [spend_alert_fields(a) for a in f.all(lambda: f.api.spend_alerts.list(limit=100))]
    retention = f.one(lambda: f.api.data_retention.retrieve(), missing_ok=True)

    def write() -> int:
        OrgSettings.objects.update_or_create(
            org=org,
            defaults={
                **spend_limit_fields(limit),
                "data_retention": retention.type if retention else "",
                "settings_synced_at": timezone.now(),
            },
        )
        return 1 + replace_rows(
            SpendAlert,
            scope={"org": org, "project": None},
            key="openai_id",
            rows=alerts,
            unique=["org", "openai_id"],
        )

    return write


def _sync_project(org: Organization, f: _Fetcher, project_id: str) -> Callable[[], int]:
    project = Project.objects.filter(org=org, openai_id=project_id).first()
    if project is None:
        return lambda: 0  # gone since the projects section ran; the next run drops it
    api = f.api.projects
    keys = [
        project_key_fields(k)
        for k in f.all(lambda: api.api_keys.list(project_id, limit=100, owner_project_access="any"))
    ]
    if project.is_archived:
        # Archived projects have no users or service accounts (the API answers 400), and can't
        # be changed, so their other settings stay as last seen.
        def write_archived() -> int:
            return (
                replace_rows(ProjectUser, scope={"project": project}, key="user_openai_id", rows=[])
                + replace_rows(ServiceAccount, scope={"project": project}, key="openai_id", rows=[])
                + replace_rows(
                    ProjectApiKey,
                    scope={"project": project},
                    key="openai_id",
                    rows=[{**k, "org": org} for k in keys],
                )
            )

        return write_archived

    users = [project_user_fields(u) for u in f.all(lambda: api.users.list(project_id, limit=100))]
    accounts = [
        service_account_fields(s)
        for s in f.all(lambda: api.service_accounts.list(project_id, limit=100))
    ]
    limits = [
        rate_limit_fields(r)
        for r in f.all(lambda: api.rate_limits.list_rate_limits(project_id, limit=100))
    ]
    certificates = [
        certificate_fields(c, key="certificate_openai_id")
        for c in f.all(lambda: api.certificates.list(project_id, limit=100))
    ]
    groups = [
        project_group_fields(g) for g in f.all(lambda: api.groups.list(project_id, limit=100))
    ]
    alerts = [
        spend_alert_fields(a) for a in f.all(lambda: api.spend_alerts.list(project_id, limit=100))
    ]
    limit = f.one(lambda: api.spend_limit.retrieve(project_id), missing_ok=True)
    retention = f.one(lambda: api.data_retention.retrieve(project_id), missing_ok=True)
    models_allowed = f.one(lambda: api.model_permissions.retrieve(project_id), missing_ok=True)
    tools = f.one(lambda: api.hosted_tool_permissions.retrieve(project_id), missing_ok=True)

    def write() -> int:
        scope = {"project": project}
        written = replace_rows(ProjectUser, scope=scope, key="user_openai_id", rows=users)
        written += replace_rows(ServiceAccount, scope=scope, key="openai_id", rows=accounts)
        written += replace_rows(
            ProjectApiKey,
            scope=scope,
            key="openai_id",
            rows=[{**k, "org": org} for k in keys],
        )
        written += replace_rows(RateLimit, scope=scope, key="openai_id", rows=limits)
        written += replace_rows(
            ProjectCertificate, scope=scope, key="certificate_openai_id", rows=certificates
        )
        written += replace_rows(ProjectGroup, scope=scope, key="group_openai_id", rows=groups)
        written += replace_rows(
            SpendAlert,
            scope={"org": org, "project": project},
            key="openai_id",
            rows=alerts,
            unique=["org", "openai_id"],
        )
        settings_fields = {
            **spend_limit_fields(limit),
            **model_permission_fields(models_allowed),
            "data_retention": retention.type if retention else "",
            "settings_synced_at": timezone.now(),
        }
        if tools is not None:
            settings_fields.update(hosted_tool_fields(tools))
        Project.objects.filter(pk=project.pk).update(**settings_fields)
        return written + 1

    return write


_ORG_SECTION_FUNCS: dict[str, Callable[[Organization, _Fetcher], Callable[[], int]]] = {
    "users": _sync_users,
    "invites": _sync_invites,
    "projects": _sync_projects,
    "admin_keys": _sync_admin_keys,
    "certificates": _sync_certificates,
    "roles": _sync_roles,
    "groups": _sync_groups,
    "user_roles": _sync_user_roles,
    "org_settings": _sync_org_settings,
}


def _fetch_section(org: Organization, f: _Fetcher, section: str) -> Callable[[], int]:
    if section.startswith(PROJECT_PREFIX):
        return _sync_project(org, f, section.removeprefix(PROJECT_PREFIX))
    return _ORG_SECTION_FUNCS[section](org, f)


# --- the run ------------------------------------------------------------------------------------


def _resumable_done(org: Organization) -> tuple[list[str], int | None, str | None]:
    """Sections a recent interrupted full sync finished, its id, and when its cycle started."""
    last = (
        SyncRun.objects.filter(org=org, kind=SyncRun.Kind.DIRECTORY)
        .exclude(status=SyncRun.Status.RUNNING)
        .only("status", "params", "started_at")
        .first()
    )
    if last is None or last.status == SyncRun.Status.SUCCEEDED:
        return [], None, None
    params = last.params or {}
    if params.get("sections") != "all":
        return [], None, None
    cycle_started = params.get("cycle_started_at") or last.started_at.isoformat()
    if dt.datetime.fromisoformat(cycle_started) < timezone.now() - RESUME_WINDOW:
        return [], None, None
    return list(params.get("done", [])), last.pk, cycle_started


def _valid_sections(sections: Iterable[str]) -> list[str]:
    wanted = []
    for s in sections:
        if s not in _ORG_SECTION_FUNCS and not s.startswith(PROJECT_PREFIX):
            raise ValueError(f"Unknown directory section: {s!r}")
        if s not in wanted:
            wanted.append(s)
    # Org sections first, in their fixed order, so projects exist before their own sections.
    return sorted(wanted, key=lambda s: ORG_SECTIONS.index(s) if s in ORG_SECTIONS else 99)


def directory_sync(
    *, org: Organization, sections: Iterable[str] | None = None, triggered_by: Any = None
) -> SyncRun:
    """Refresh the directory cache from the API: all of it, or only the named sections.

    Raises SyncBusy when another directory sync of this org holds the lock, OrgAPIError when
    the API refuses the key, and DirectorySyncIncomplete when some sections failed (the others
    are synced). Every outcome is recorded as a SyncRun.
    """
    full = sections is None
    requested = list(ORG_SECTIONS) if full else _valid_sections(sections or [])
    done, resumed_from, cycle_started = _resumable_done(org) if full else ([], None, None)
    params: dict[str, Any] = {
        "sections": "all" if full else requested,
        "done": list(done),
        "cycle_started_at": cycle_started or timezone.now().isoformat(),
    }
    if resumed_from:
        params["resumed_from"] = resumed_from
    failures: list[str] = []
    with sync_run(
        org=org, kind=SyncRun.Kind.DIRECTORY, params=params, triggered_by=triggered_by
    ) as recorder:
        fetcher = _Fetcher(org, recorder)

        def run(section: str) -> None:
            if section in params["done"]:
                return
            error = _run_section(org, fetcher, recorder, params, section)
            if error is None:
                return
            if error.status in (401, 403) or error.status is None:
                raise error  # the key was refused or the API is unreachable: stop here
            failures.append(f"{section}: {error}")

        for section in requested:
            run(section)
        if full:
            # Known only now that the projects section has run: one section per project.
            for project_id in (
                Project.objects.filter(org=org)
                .order_by("openai_id")
                .values_list("openai_id", flat=True)
            ):
                run(project_section(project_id))
        if failures:
            raise DirectorySyncIncomplete(
                f"{len(failures)} part(s) of the directory could not be synced: "
                + "; ".join(failures)
            )
    return recorder.run


def _run_section(
    org: Organization,
    fetcher: _Fetcher,
    recorder: RunRecorder,
    params: dict[str, Any],
    section: str,
) -> OrgAPIError | None:
    """Fetch one section, then write it and mark it done in one transaction."""
    try:
        write = _fetch_section(org, fetcher, section)
    except OrgAPIError as exc:
        log.warning("Directory sync of %s: %s failed: %s", org, section, exc)
        return exc
    with transaction.atomic():
        written = write()
        params["done"].append(section)
        SyncRun.objects.filter(pk=recorder.run.pk).update(params=params)
    recorder.run.params = params
    recorder.page(rows=written, requests=fetcher.pending)
    fetcher.pending = 0
    return None
