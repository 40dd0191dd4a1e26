"""Celery tasks: thin wrappers that load their arguments and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError

from orgadmin.access_matrix.history import access_history_record
from orgadmin.client import OrgAPIError
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.models import Organization
from orgadmin.providers import Capability
from orgadmin.services.connections import connection_verify
from orgadmin.sync.audit_sources import NoAuditLog, audit_sync
from orgadmin.sync.directory import DirectorySyncIncomplete, directory_sync
from orgadmin.sync.runs import SyncBusy

log = logging.getLogger(__name__)

# A refresh asked for after a mutation waits this long for a running sync to finish, per try.
BUSY_RETRY_SECONDS = 20


@shared_task
def verify_connections() -> dict[str, str]:
    """Re-verify every connection; returns each one's status."""
    return {org.name: connection_verify(org=org).status for org in Organization.objects.all()}


@shared_task
def sync_directories() -> list[int]:
    """Queue a full directory sync of every connection that has a directory (the beat entry):
    an xAI team has none (no Capability.MEMBERS), its members are managed in the xAI console."""
    ids = [org.pk for org in Organization.objects.all() if org.has_capability(Capability.MEMBERS)]
    for org_id in ids:
        sync_directory.delay(org_id)
    return ids


@shared_task(bind=True, max_retries=15)
def sync_directory(
    self, org_id: int, sections: list[str] | None = None, user_id: int | None = None
) -> str:
    """Refresh one organization's directory cache (all of it, or only `sections`)."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return "gone"  # the connection was removed meanwhile
    if not org.has_capability(Capability.MEMBERS):
        return "no directory"  # its API has none (an xAI team): nothing to sync
    try:
        run = directory_sync(org=org, sections=sections, triggered_by=_user(user_id))
    except SyncBusy:
        if sections is None or self.request.is_eager:
            # A full sync is running already and does this job (and inline, in tests, there
            # is no later to come back at).
            return "busy"
        # A refresh after a change must not be lost: try again once the running sync is done.
        try:
            raise self.retry(countdown=BUSY_RETRY_SECONDS) from None
        except MaxRetriesExceededError:
            log.warning("Gave up refreshing %s of %s: a sync kept running", sections, org)
            return "busy"
    except DirectorySyncIncomplete as exc:
        log.warning("Directory sync of %s incomplete: %s", org, exc)
        return "incomplete"
    except OrgAPIError as exc:
        log.warning("Directory sync of %s failed: %s", org, exc)
        return "failed"
    directory_synced(org)
    return run.status


def directory_synced(org: Organization) -> None:
    """What follows a directory sync, from the task or `manage.py sync_directory`."""
    hygiene_refresh(org=org)  # the findings follow the directory (orgadmin/hygiene/)
    access_history_record(org=org)  # who could reach what, over time (orgadmin/access_matrix/)


def _user(user_id: int | None):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()


@shared_task
def sync_audit_log(org_id: int, user_id: int | None = None) -> str:
    """Sync one organization's audit log from its watermark; returns the run's status."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return "gone"  # the connection was removed meanwhile
    try:
        return audit_sync(org=org, triggered_by=_user(user_id)).status
    except NoAuditLog:
        return "unsupported"  # the connection's API has none
    except SyncBusy:
        return "busy"  # the running sync does this job
    except OrgAPIError as exc:
        # The run is recorded as failed with this message; the next one resumes at the watermark.
        log.warning("Audit log sync of %s failed: %s", org, exc)
        return "failed"


@shared_task
def sync_audit_logs() -> list[int]:
    """Queue an audit log sync of every connection (the 5-minute beat entry)."""
    ids = list(Organization.objects.values_list("pk", flat=True))
    for org_id in ids:
        sync_audit_log.delay(org_id)
    return ids
