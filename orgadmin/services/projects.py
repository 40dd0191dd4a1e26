"""Projects and what lives in them: members, service accounts, keys, limits, certificates,
permissions, groups and retention. Each change goes to the API first, then to the cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.views.decorators.debug import sensitive_variables

from orgadmin.client import OrgAPIError
from orgadmin.models import (
    RATE_LIMIT_FIELDS,
    Organization,
    OrgGroup,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectGroup,
    ProjectUser,
    RateLimit,
    ServiceAccount,
)
from orgadmin.services.changes import ChangeRefused, api_change, refresh_later
from orgadmin.services.directory import BulkOutcome
from orgadmin.sync.directory import project_section
from orgadmin.sync.directory.base import ts
from orgadmin.sync.directory.org_settings import certificate_fields
from orgadmin.sync.directory.projects import (
    hosted_tool_fields,
    model_permission_fields,
    project_fields,
    project_group_fields,
    project_user_fields,
    rate_limit_fields,
    service_account_fields,
)


def _refuse_if_archived(project: Project) -> None:
    if project.is_archived:
        raise ChangeRefused(f"“{project.name}” is archived; archived projects can't be changed.")


# --- the project itself ---------------------------------------------------------------------------


def project_create(*, org: Organization, name: str, residency: str = "", actor: Any) -> Project:
    """Create a project."""
    result = api_change(
        org=org,
        actor=actor,
        action="project.create",
        summary=f"Created the project “{name}”",
        resource_type="project",
        resource_id=lambda r: r.id,
        call=lambda api: api.projects.create(
            name=name, **({"residency": residency} if residency else {})
        ),
        apply=lambda r: Project.objects.update_or_create(
            org=org, openai_id=r.id, defaults=project_fields(r)
        ),
        sections=["projects"],
    )
    project = Project.objects.get(org=org, openai_id=result.id)
    # Its members, keys and settings are known only after a first sync of the project.
    refresh_later(org=org, sections=[project_section(project.openai_id)], actor=actor)
    return project


def project_rename(*, org: Organization, project: Project, name: str, actor: Any) -> Project:
    """Rename a project."""
    _refuse_if_archived(project)
    old = project.name
    api_change(
        org=org,
        actor=actor,
        action="project.update",
        summary=f"Renamed the project “{old}” to “{name}”",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.update(project.openai_id, name=name),
        apply=lambda r: Project.objects.filter(pk=project.pk).update(**project_fields(r)),
        sections=["projects"],
    )
    project.refresh_from_db()
    return project


def project_archive(*, org: Organization, project: Project, actor: Any) -> Project:
    """Archive a project: it can't be used or changed any more (projects can't be deleted)."""
    _refuse_if_archived(project)

    def apply(result: Any) -> None:
        Project.objects.filter(pk=project.pk).update(**project_fields(result))
        # Archived projects have no users and no service accounts.
        project.users.all().delete()
        project.service_accounts.all().delete()

    api_change(
        org=org,
        actor=actor,
        action="project.archive",
        summary=f"Archived the project “{project.name}”",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.archive(project.openai_id),
        apply=apply,
        sections=["projects", project_section(project.openai_id)],
    )
    project.refresh_from_db()
    return project


# --- members ------------------------------------------------------------------------------------


def project_user_add(
    *, org: Organization, project: Project, user: OrgUser, role: str, actor: Any
) -> ProjectUser:
    """Add an organization member to a project with a project role."""
    _refuse_if_archived(project)
    if project.users.filter(user_openai_id=user.openai_id).exists():
        raise ChangeRefused(f"{user.label} is already in “{project.name}”.", field="user")
    api_change(
        org=org,
        actor=actor,
        action="project.user.add",
        summary=f"Added {user.label} to “{project.name}” as {role}",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.users.create(
            project.openai_id, user_id=user.openai_id, role=role
        ),
        apply=lambda r: ProjectUser.objects.update_or_create(
            project=project, user_openai_id=r.id, defaults=project_user_fields(r)
        ),
        sections=[project_section(project.openai_id)],
    )
    return project.users.get(user_openai_id=user.openai_id)


def project_user_role_update(
    *, org: Organization, project: Project, membership: ProjectUser, role: str, actor: Any
) -> ProjectUser:
    """Change a member's role in a project."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.user.update",
        summary=f"Changed the role of {membership.label} in “{project.name}” "
        f"from {membership.role} to {role}",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.users.update(
            membership.user_openai_id, project_id=project.openai_id, role=role
        ),
        apply=lambda r: ProjectUser.objects.filter(pk=membership.pk).update(
            **project_user_fields(r)
        ),
        sections=[project_section(project.openai_id)],
    )
    membership.refresh_from_db()
    return membership


def project_user_remove(
    *, org: Organization, project: Project, membership: ProjectUser, actor: Any
) -> None:
    """Remove a member from a project (they stay in the organization)."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.user.remove",
        summary=f"Removed {membership.label} from “{project.name}”",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.users.delete(
            membership.user_openai_id, project_id=project.openai_id
        ),
        apply=lambda _: ProjectUser.objects.filter(pk=membership.pk).delete(),
        sections=[project_section(project.openai_id)],
    )


# --- service accounts and keys -------------------------------------------------------------------


@sensitive_variables("result")
def service_account_create(
    *, org: Organization, project: Project, name: str, with_key: bool = True, actor: Any
) -> tuple[ServiceAccount, Any]:
    """Create a service account; returns it and the API's one-time key object (or None).

    The key's value is handed back to show once; it is never stored or logged.
    """
    _refuse_if_archived(project)
    result = api_change(
        org=org,
        actor=actor,
        action="service_account.create",
        summary=f"Created the service account “{name}” in “{project.name}”"
        + ("" if with_key else " (without an API key)"),
        resource_type="service_account",
        resource_id=lambda r: r.id,
        call=lambda api: api.projects.service_accounts.create(
            project.openai_id,
            name=name,
            **({} if with_key else {"create_service_account_only": True}),
        ),
        apply=lambda r: _cache_new_service_account(org, project, r),
        sections=[project_section(project.openai_id)],
    )
    account = project.service_accounts.get(openai_id=result.id)
    return account, result.api_key


def _cache_new_service_account(org: Organization, project: Project, result: Any) -> None:
    ServiceAccount.objects.update_or_create(
        project=project, openai_id=result.id, defaults=service_account_fields(result)
    )
    key = result.api_key
    if key is not None:
        _cache_new_account_key(org, project, result.id, result.name, key)


def _cache_new_account_key(
    org: Organization, project: Project, account_id: str, account_name: str, key: Any
) -> None:
    """Cache a service account's new key: its id, name and dates, never its value."""
    ProjectApiKey.objects.update_or_create(
        project=project,
        openai_id=key.id,
        defaults={
            "org": org,
            "name": key.name or "",
            "created_at": ts(key.created_at),
            "expires_at": ts(getattr(key, "expires_at", None)),
            "owner_type": ProjectApiKey.OwnerType.SERVICE_ACCOUNT,
            "owner_id": account_id,
            "owner_name": account_name,
            "owner_project_access": "active",
        },
    )


def service_account_update(
    *,
    org: Organization,
    project: Project,
    account: ServiceAccount,
    name: str,
    role: str,
    actor: Any,
) -> ServiceAccount:
    """Rename a service account or change its project role."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="service_account.update",
        summary=f"Updated the service account “{name}” in “{project.name}” (role {role})",
        resource_type="service_account",
        resource_id=account.openai_id,
        call=lambda api: api.projects.service_accounts.update(
            account.openai_id, project_id=project.openai_id, name=name, role=role
        ),
        apply=lambda r: ServiceAccount.objects.filter(pk=account.pk).update(
            **service_account_fields(r)
        ),
        sections=[project_section(project.openai_id)],
    )
    account.refresh_from_db()
    return account


def service_account_delete(
    *, org: Organization, project: Project, account: ServiceAccount, actor: Any
) -> None:
    """Delete a service account and, with it, its API keys."""
    _refuse_if_archived(project)

    def apply(_: Any) -> None:
        ProjectApiKey.objects.filter(
            project=project, owner_type="service_account", owner_id=account.openai_id
        ).delete()
        account.delete()

    api_change(
        org=org,
        actor=actor,
        action="service_account.delete",
        summary=f"Deleted the service account “{account.name}” from “{project.name}”",
        resource_type="service_account",
        resource_id=account.openai_id,
        call=lambda api: api.projects.service_accounts.delete(
            account.openai_id, project_id=project.openai_id
        ),
        apply=apply,
        sections=[project_section(project.openai_id)],
    )


@sensitive_variables("result")
def service_account_key_create(
    *, org: Organization, project: Project, account: ServiceAccount, name: str, actor: Any
) -> Any:
    """Create another API key for a service account; returns the one-time key object."""
    _refuse_if_archived(project)
    return api_change(
        org=org,
        actor=actor,
        action="service_account.key.create",
        summary=f"Created an API key “{name}” for the service account “{account.name}”",
        resource_type="service_account",
        resource_id=account.openai_id,
        call=lambda api: api.projects.service_accounts.api_keys.create(
            account.openai_id, project_id=project.openai_id, **({"name": name} if name else {})
        ),
        apply=lambda key: _cache_new_account_key(
            org, project, account.openai_id, account.name, key
        ),
        sections=[project_section(project.openai_id)],
    )


def project_key_delete(*, org: Organization, key: ProjectApiKey, actor: Any) -> None:
    """Delete a project API key. Keys of service accounts go with their service account."""
    project = key.project
    if key.owner_type == ProjectApiKey.OwnerType.SERVICE_ACCOUNT:
        raise ChangeRefused(
            f"“{key.name or key.redacted_value}” belongs to the service account "
            f"“{key.owner_label}”. Delete the service account instead."
        )
    api_change(
        org=org,
        actor=actor,
        action="api_key.delete",
        summary=f"Deleted the API key “{key.name or key.redacted_value}” of {key.owner_label} "
        f"in “{project.name}”",
        resource_type="api_key",
        resource_id=key.openai_id,
        call=lambda api: api.projects.api_keys.delete(key.openai_id, project_id=project.openai_id),
        apply=lambda _: ProjectApiKey.objects.filter(pk=key.pk).delete(),
        sections=[project_section(project.openai_id)],
    )


# --- rate limits ----------------------------------------------------------------------------------


def rate_limit_update(
    *, org: Organization, limit: RateLimit, values: dict[str, int], actor: Any
) -> RateLimit:
    """Change some of a model's rate limits in a project (only the given fields)."""
    project = limit.project
    _refuse_if_archived(project)
    changes = {k: v for k, v in values.items() if k in RATE_LIMIT_FIELDS}
    described = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in changes.items())
    api_change(
        org=org,
        actor=actor,
        action="rate_limit.update",
        summary=f"Set {limit.model} limits in “{project.name}”: {described}",
        resource_type="rate_limit",
        resource_id=limit.openai_id,
        call=lambda api: api.projects.rate_limits.update_rate_limit(
            limit.openai_id, project_id=project.openai_id, **changes
        ),
        apply=lambda r: RateLimit.objects.filter(pk=limit.pk).update(**rate_limit_fields(r)),
        sections=[project_section(project.openai_id)],
    )
    limit.refresh_from_db()
    return limit


def rate_limits_update_all(
    *, org: Organization, project: Project, field: str, value: int, actor: Any
) -> BulkOutcome:
    """Set one limit to the same value for every model that has it, one call per model."""
    _refuse_if_archived(project)
    outcome = BulkOutcome()
    for limit in project.rate_limits.exclude(**{f"{field}__isnull": True}):
        try:
            outcome.done.append(
                rate_limit_update(org=org, limit=limit, values={field: value}, actor=actor)
            )
        except OrgAPIError as exc:
            outcome.failed.append((limit.model, exc))
    return outcome


# --- certificates, permissions, retention, groups ---------------------------------------------


def project_certificates_toggle(
    *,
    org: Organization,
    project: Project,
    certificate_ids: Sequence[str],
    active: bool,
    actor: Any,
) -> None:
    """Activate or deactivate up to 10 certificates for a project, atomically."""
    _refuse_if_archived(project)
    verb = "Activated" if active else "Deactivated"
    names = ", ".join(
        ProjectCertificate.objects.filter(
            project=project, certificate_openai_id__in=certificate_ids
        ).values_list("name", flat=True)
    )

    def apply(result: Any) -> None:
        for cert in result.data:
            ProjectCertificate.objects.update_or_create(
                project=project,
                certificate_openai_id=cert.id,
                defaults=certificate_fields(cert, key="certificate_openai_id"),
            )

    api_change(
        org=org,
        actor=actor,
        action="project.certificates." + ("activate" if active else "deactivate"),
        summary=f"{verb} {len(certificate_ids)} certificate(s) in “{project.name}”: {names}",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: (
            api.projects.certificates.activate if active else api.projects.certificates.deactivate
        )(project.openai_id, certificate_ids=list(certificate_ids)),
        apply=apply,
        sections=[project_section(project.openai_id)],
    )


def project_model_permissions_set(
    *, org: Organization, project: Project, mode: str, model_ids: list[str], actor: Any
) -> None:
    """Allow only, or deny, a list of models in a project."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.model_permissions.update",
        summary=f"Set the models of “{project.name}” to "
        f"{'allow only' if mode == 'allow_list' else 'deny'}: {', '.join(model_ids)}",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.model_permissions.update(
            project.openai_id, mode=mode, model_ids=model_ids
        ),
        apply=lambda r: Project.objects.filter(pk=project.pk).update(**model_permission_fields(r)),
        sections=[project_section(project.openai_id)],
    )


def project_model_permissions_delete(*, org: Organization, project: Project, actor: Any) -> None:
    """Remove a project's model permissions: every model is allowed again."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.model_permissions.delete",
        summary=f"Removed the model restrictions of “{project.name}”",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.model_permissions.delete(project.openai_id),
        apply=lambda _: Project.objects.filter(pk=project.pk).update(
            **model_permission_fields(None)
        ),
        sections=[project_section(project.openai_id)],
    )


def project_hosted_tools_set(
    *, org: Organization, project: Project, tools: dict[str, bool], actor: Any
) -> None:
    """Turn hosted tools (file search, web search, …) on or off for a project."""
    _refuse_if_archived(project)
    on = [t for t, enabled in tools.items() if enabled]
    api_change(
        org=org,
        actor=actor,
        action="project.hosted_tools.update",
        summary=f"Set the hosted tools of “{project.name}”: "
        + (", ".join(t.replace("_", " ") for t in on) or "none")
        + " enabled",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.hosted_tool_permissions.update(
            project.openai_id, **{t: {"enabled": enabled} for t, enabled in tools.items()}
        ),
        apply=lambda r: Project.objects.filter(pk=project.pk).update(**hosted_tool_fields(r)),
        sections=[project_section(project.openai_id)],
    )


def project_retention_set(
    *, org: Organization, project: Project, retention_type: str, actor: Any
) -> None:
    """Set a project's data retention policy."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.data_retention.update",
        summary=f"Set the data retention of “{project.name}” to {retention_type}",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.data_retention.update(
            project.openai_id, retention_type=retention_type
        ),
        apply=lambda r: Project.objects.filter(pk=project.pk).update(data_retention=r.type),
        sections=[project_section(project.openai_id)],
    )


def project_group_add(
    *, org: Organization, project: Project, group: OrgGroup, role_id: str, actor: Any
) -> None:
    """Give a group access to a project with a project role."""
    _refuse_if_archived(project)
    if project.groups.filter(group_openai_id=group.openai_id).exists():
        raise ChangeRefused(
            f"“{group.name}” has access to “{project.name}” already.", field="group"
        )
    api_change(
        org=org,
        actor=actor,
        action="project.group.add",
        summary=f"Gave the group “{group.name}” access to “{project.name}” (role {role_id})",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.groups.create(
            project.openai_id, group_id=group.openai_id, role=role_id
        ),
        apply=lambda r: ProjectGroup.objects.update_or_create(
            project=project, group_openai_id=r.group_id, defaults=project_group_fields(r)
        ),
        sections=[project_section(project.openai_id)],
    )


def project_group_remove(
    *, org: Organization, project: Project, link: ProjectGroup, actor: Any
) -> None:
    """Revoke a group's access to a project."""
    _refuse_if_archived(project)
    api_change(
        org=org,
        actor=actor,
        action="project.group.remove",
        summary=f"Revoked the access of the group “{link.group_name}” to “{project.name}”",
        resource_type="project",
        resource_id=project.openai_id,
        call=lambda api: api.projects.groups.delete(
            link.group_openai_id, project_id=project.openai_id
        ),
        apply=lambda _: ProjectGroup.objects.filter(pk=link.pk).delete(),
        sections=[project_section(project.openai_id)],
    )
