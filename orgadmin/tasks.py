"""Celery tasks: thin wrappers that load their arguments and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from orgadmin import services
from orgadmin.client import OrgAPIError
from orgadmin.models import KeyUnreadable, Organization
from orgadmin.syncing import SyncBusy

logger = logging.getLogger(__name__)


@shared_task
def verify_connections() -> dict[str, str]:
    """Re-verify every connection; returns each one's status."""
    return {
        org.name: services.connection_verify(org=org).status for org in Organization.objects.all()
    }


@shared_task
def sync_audit_log(org_id: int, user_id: int | None = None) -> str:
    """Sync one organization's audit log from its watermark; returns the run's status."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return "gone"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return services.audit_log_sync(org=org, triggered_by=user).status
    except SyncBusy:
        return "busy"
    except (OrgAPIError, KeyUnreadable) as exc:
        # The run is recorded as failed with this message; the next one resumes at the watermark.
        logger.warning("Audit log sync of %s failed: %s", org, exc)
        return "failed"


@shared_task
def sync_audit_logs() -> dict[str, str]:
    """Sync every connection's audit log (the 5-minute beat job)."""
    return {org.name: sync_audit_log(org.pk) for org in Organization.objects.all()}
