"""Organization-level settings: admin API keys, certificates, spend alerts and limits (org and
project), and data retention. Each change goes to the API first, then to the cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from orgadmin.models import (
    CERTIFICATE_TOGGLE_MAX,
    AdminApiKey,
    Certificate,
    Organization,
    OrgSettings,
    Project,
    ProjectCertificate,
    SpendAlert,
)
from orgadmin.services.changes import ChangeRefused, api_change
from orgadmin.sync.directory import project_section
from orgadmin.sync.directory.org_settings import (
    admin_key_fields,
    certificate_fields,
    spend_alert_fields,
    spend_limit_fields,
)


def dollars(cents: int) -> str:
    """Cents as a dollar amount for messages: 123456 → "$1,234.56"."""
    return f"${cents // 100:,}.{cents % 100:02d}"


# --- admin API keys ---------------------------------------------------------------------------


@sensitive_variables("result")
def admin_key_create(
    *, org: Organization, name: str, expires_in_seconds: int | None, actor: Any
) -> Any:
    """Create an admin API key; returns the API's object whose `value` is shown once, never
    stored."""
    result = api_change(
        org=org,
        actor=actor,
        action="admin_api_key.create",
        summary=f"Created the admin API key “{name}”"
        + (f" expiring in {expires_in_seconds // 86400} day(s)" if expires_in_seconds else ""),
        resource_type="admin_api_key",
        resource_id=lambda r: r.id,
        call=lambda api: api.admin_api_keys.create(
            name=name,
            **({"expires_in_seconds": expires_in_seconds} if expires_in_seconds else {}),
        ),
        apply=lambda r: AdminApiKey.objects.update_or_create(
            org=org, openai_id=r.id, defaults=admin_key_fields(r)
        ),
        sections=["admin_keys"],
    )
    return result


def admin_key_delete(*, org: Organization, key: AdminApiKey, actor: Any) -> None:
    """Delete an admin API key."""
    api_change(
        org=org,
        actor=actor,
        action="admin_api_key.delete",
        summary=f"Deleted the admin API key “{key.name or key.redacted_value}”",
        resource_type="admin_api_key",
        resource_id=key.openai_id,
        call=lambda api: api.admin_api_keys.delete(key.openai_id),
        apply=lambda _: AdminApiKey.objects.filter(pk=key.pk).delete(),
        sections=["admin_keys"],
    )


# --- certificates -----------------------------------------------------------------------------


def certificate_upload(*, org: Organization, pem: str, name: str, actor: Any) -> Certificate:
    """Upload a PEM certificate to the organization (it is not activated)."""
    result = api_change(
        org=org,
        actor=actor,
        action="certificate.create",
        summary=f"Uploaded the certificate “{name}”",
        resource_type="certificate",
        resource_id=lambda r: r.id,
        call=lambda api: api.certificates.create(
            certificate=pem, **({"name": name} if name else {})
        ),
        apply=lambda r: Certificate.objects.update_or_create(
            org=org, openai_id=r.id, defaults=certificate_fields(r)
        ),
        sections=["certificates"],
    )
    return Certificate.objects.get(org=org, openai_id=result.id)


def certificate_rename(
    *, org: Organization, certificate: Certificate, name: str, actor: Any
) -> Certificate:
    """Rename a certificate (the only thing that can change)."""
    old = certificate.name

    def apply(result: Any) -> None:
        Certificate.objects.filter(pk=certificate.pk).update(name=result.name or "")
        ProjectCertificate.objects.filter(
            project__org=org, certificate_openai_id=certificate.openai_id
        ).update(name=result.name or "")

    api_change(
        org=org,
        actor=actor,
        action="certificate.update",
        summary=f"Renamed the certificate “{old}” to “{name}”",
        resource_type="certificate",
        resource_id=certificate.openai_id,
        call=lambda api: api.certificates.update(certificate.openai_id, name=name),
        apply=apply,
        sections=["certificates"],
    )
    certificate.refresh_from_db()
    return certificate


def certificates_toggle(
    *, org: Organization, certificate_ids: Sequence[str], active: bool, actor: Any
) -> None:
    """Activate or deactivate up to 10 certificates for the organization, atomically."""
    if len(certificate_ids) > CERTIFICATE_TOGGLE_MAX:
        raise ChangeRefused(
            f"Pick at most {CERTIFICATE_TOGGLE_MAX} certificates at a time; the API changes them "
            "all or none."
        )
    verb = "Activated" if active else "Deactivated"
    names = ", ".join(
        Certificate.objects.filter(org=org, openai_id__in=certificate_ids).values_list(
            "name", flat=True
        )
    )

    def apply(result: Any) -> None:
        for cert in result.data:
            Certificate.objects.filter(org=org, openai_id=cert.id).update(active=bool(cert.active))

    api_change(
        org=org,
        actor=actor,
        action="certificates." + ("activate" if active else "deactivate"),
        summary=f"{verb} {len(certificate_ids)} certificate(s) for the organization: {names}",
        resource_type="certificate",
        resource_id=",".join(certificate_ids)[:200],
        call=lambda api: (api.certificates.activate if active else api.certificates.deactivate)(
            certificate_ids=list(certificate_ids)
        ),
        apply=apply,
        sections=["certificates"],
    )


def certificate_delete(*, org: Organization, certificate: Certificate, actor: Any) -> None:
    """Delete a certificate that is active neither for the organization nor for any project."""
    projects = list(
        ProjectCertificate.objects.filter(
            project__org=org, certificate_openai_id=certificate.openai_id, active=True
        ).values_list("project__name", flat=True)
    )
    if certificate.active or projects:
        where = (["the organization"] if certificate.active else []) + [f"“{p}”" for p in projects]
        raise ChangeRefused(
            f"“{certificate.name or certificate.openai_id}” is still active for "
            f"{', '.join(where)}. Deactivate it everywhere first."
        )

    def apply(_: Any) -> None:
        ProjectCertificate.objects.filter(
            project__org=org, certificate_openai_id=certificate.openai_id
        ).delete()
        certificate.delete()

    api_change(
        org=org,
        actor=actor,
        action="certificate.delete",
        summary=f"Deleted the certificate “{certificate.name or certificate.openai_id}”",
        resource_type="certificate",
        resource_id=certificate.openai_id,
        call=lambda api: api.certificates.delete(certificate.openai_id),
        apply=apply,
        sections=["certificates"],
    )


# --- spend alerts and limits (org or project) ---------------------------------------------------


def _scope(project: Project | None) -> tuple[str, list[str]]:
    if project is None:
        return "the organization", ["org_settings"]
    return f"“{project.name}”", [project_section(project.openai_id)]


def _alerts_api(api: Any, project: Project | None) -> Any:
    return api.spend_alerts if project is None else api.projects.spend_alerts


def _channel(recipients: list[str], subject_prefix: str) -> dict[str, Any]:
    return {"type": "email", "recipients": recipients, "subject_prefix": subject_prefix or None}


def spend_alert_create(
    *,
    org: Organization,
    project: Project | None,
    threshold_cents: int,
    recipients: list[str],
    subject_prefix: str = "",
    actor: Any,
) -> SpendAlert:
    """Create a monthly spend alert (in cents, USD) for the organization or a project."""
    if project is not None and project.is_archived:
        raise ChangeRefused(f"“{project.name}” is archived; archived projects can't be changed.")
    where, sections = _scope(project)
    args = (project.openai_id,) if project is not None else ()
    result = api_change(
        org=org,
        actor=actor,
        action="spend_alert.create",
        summary=f"Added a spend alert at {dollars(threshold_cents)} a month for {where}",
        resource_type="spend_alert",
        resource_id=lambda r: r.id,
        call=lambda api: _alerts_api(api, project).create(
            *args,
            threshold_amount=threshold_cents,
            currency="USD",
            interval="month",
            notification_channel=_channel(recipients, subject_prefix),
        ),
        apply=lambda r: SpendAlert.objects.update_or_create(
            org=org, openai_id=r.id, defaults={**spend_alert_fields(r), "project": project}
        ),
        sections=sections,
    )
    return SpendAlert.objects.get(org=org, openai_id=result.id)


def spend_alert_update(
    *,
    org: Organization,
    alert: SpendAlert,
    threshold_cents: int,
    recipients: list[str],
    subject_prefix: str = "",
    actor: Any,
) -> SpendAlert:
    """Change a spend alert's threshold and recipients."""
    project = alert.project
    where, sections = _scope(project)
    api_change(
        org=org,
        actor=actor,
        action="spend_alert.update",
        summary=f"Changed a spend alert of {where} from {dollars(alert.threshold_cents)} "
        f"to {dollars(threshold_cents)} a month",
        resource_type="spend_alert",
        resource_id=alert.openai_id,
        call=lambda api: _alerts_api(api, project).update(
            alert.openai_id,
            **({"project_id": project.openai_id} if project is not None else {}),
            threshold_amount=threshold_cents,
            currency="USD",
            interval="month",
            notification_channel=_channel(recipients, subject_prefix),
        ),
        apply=lambda r: SpendAlert.objects.filter(pk=alert.pk).update(**spend_alert_fields(r)),
        sections=sections,
    )
    alert.refresh_from_db()
    return alert


def spend_alert_delete(*, org: Organization, alert: SpendAlert, actor: Any) -> None:
    """Delete a spend alert."""
    project = alert.project
    where, sections = _scope(project)
    api_change(
        org=org,
        actor=actor,
        action="spend_alert.delete",
        summary=f"Deleted the {dollars(alert.threshold_cents)} spend alert of {where}",
        resource_type="spend_alert",
        resource_id=alert.openai_id,
        call=lambda api: _alerts_api(api, project).delete(
            alert.openai_id, **({"project_id": project.openai_id} if project is not None else {})
        ),
        apply=lambda _: SpendAlert.objects.filter(pk=alert.pk).delete(),
        sections=sections,
    )


def _save_limit(org: Organization, project: Project | None, fields: dict[str, Any]) -> None:
    fields = {**fields, "settings_synced_at": timezone.now()}
    if project is None:
        OrgSettings.objects.update_or_create(org=org, defaults=fields)
    else:
        Project.objects.filter(pk=project.pk).update(**fields)


def spend_limit_set(
    *, org: Organization, project: Project | None, threshold_cents: int, actor: Any
) -> None:
    """Create or replace the hard monthly spend limit (in cents, USD)."""
    if project is not None and project.is_archived:
        raise ChangeRefused(f"“{project.name}” is archived; archived projects can't be changed.")
    where, sections = _scope(project)
    api_change(
        org=org,
        actor=actor,
        action="spend_limit.update",
        summary=f"Set the hard spend limit of {where} to {dollars(threshold_cents)} a month",
        resource_type="spend_limit",
        resource_id=project.openai_id if project is not None else "",
        call=lambda api: (
            api.spend_limit.update(
                threshold_amount=threshold_cents, currency="USD", interval="month"
            )
            if project is None
            else api.projects.spend_limit.update(
                project.openai_id,
                threshold_amount=threshold_cents,
                currency="USD",
                interval="month",
            )
        ),
        apply=lambda r: _save_limit(org, project, spend_limit_fields(r)),
        sections=sections,
    )


def spend_limit_delete(*, org: Organization, project: Project | None, actor: Any) -> None:
    """Remove the hard spend limit."""
    where, sections = _scope(project)
    api_change(
        org=org,
        actor=actor,
        action="spend_limit.delete",
        summary=f"Removed the hard spend limit of {where}",
        resource_type="spend_limit",
        resource_id=project.openai_id if project is not None else "",
        call=lambda api: (
            api.spend_limit.delete()
            if project is None
            else api.projects.spend_limit.delete(project.openai_id)
        ),
        apply=lambda _: _save_limit(org, project, spend_limit_fields(None)),
        sections=sections,
    )


# --- data retention -------------------------------------------------------------------------------


def org_retention_set(*, org: Organization, retention_type: str, actor: Any) -> None:
    """Set the organization's data retention policy."""
    api_change(
        org=org,
        actor=actor,
        action="data_retention.update",
        summary=f"Set the organization's data retention to {retention_type}",
        resource_type="organization",
        call=lambda api: api.data_retention.update(retention_type=retention_type),
        apply=lambda r: OrgSettings.objects.update_or_create(
            org=org, defaults={"data_retention": r.type}
        ),
        sections=["org_settings"],
    )
