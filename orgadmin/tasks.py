"""Celery tasks: thin wrappers that load their arguments and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from orgadmin import services
from orgadmin.models import Organization
from orgadmin.syncing import SyncBusy

log = logging.getLogger(__name__)

# A refresh asked for after a mutation waits this long for a running sync to finish, per try.
BUSY_RETRY_SECONDS = 20


@shared_task
def verify_connections() -> dict[str, str]:
    """Re-verify every connection; returns each one's status."""
    return {
        org.name: services.connection_verify(org=org).status for org in Organization.objects.all()
    }


@shared_task
def sync_directories() -> list[int]:
    """Queue a full directory sync of every connection (the beat entry)."""
    ids = list(Organization.objects.values_list("pk", flat=True))
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
    try:
        run = services.directory_sync(org=org, sections=sections, triggered_by=_user(user_id))
    except SyncBusy:
        if sections is None:
            return "busy"  # a full sync is running already: it does this job
        # A refresh after a mutation must not be lost: try again once the running sync is done.
        raise self.retry(countdown=BUSY_RETRY_SECONDS) from None
    except services.DirectorySyncIncomplete as exc:
        log.warning("Directory sync of %s incomplete: %s", org, exc)
        return "incomplete"
    except services.OrgAPIError as exc:
        log.warning("Directory sync of %s failed: %s", org, exc)
        return "failed"
    return run.status


def _user(user_id: int | None):
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()
