"""Celery tasks: thin wrappers that load their arguments and call usage_sync (which syncs an xAI
team's costs, its API having no token usage)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboard.alerts.anomalies import anomalies_check
from dashboard.budgets.services import budgets_check_now
from dashboard.group_forecasts import group_forecasts_refresh
from dashboard.sync.usage import usage_sync
from orgadmin import tasks as orgadmin_tasks
from orgadmin.client import OrgAPIError
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.models import Organization, SyncRun
from orgadmin.providers import Capability
from orgadmin.services.connections import connection_verify
from orgadmin.sync.runs import SyncBusy, SyncLeaseLost

log = logging.getLogger(__name__)


@shared_task
def sync_usage(org_id: int, triggered_by_id: int | None = None) -> str:
    """Incremental usage and cost sync of one connection; returns how it ended."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return "gone"
    user = get_user_model().objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    try:
        run = usage_sync(org=org, triggered_by=user)
    except SyncBusy:
        return "busy"
    except (OrgAPIError, SyncLeaseLost) as exc:
        # Recorded on the run (and shown on the pages); the next hourly run resumes.
        log.warning("usage sync of %s failed: %s", org, exc)
        return "failed"
    if run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
        check_alerts.delay(org.pk)
    return run.status


@shared_task
def check_alerts(org_id: int) -> dict[str, int]:
    """After a usage sync: raise, update or end the budget and anomaly alerts of a connection
    (each is raised once per key, so running again is harmless), then store the Overview's
    month-end forecasts per project and model (last: alerts first); returns how many budget
    alerts were raised, how many anomalies are current and how many forecasts were computed.
    Anomalies are judged on UTC days (the API's buckets), budgets and forecasts in the
    reporting timezone."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return {}
    budgets = budgets_check_now(org=org)
    anomalies = anomalies_check(org=org, today=timezone.now().date())
    forecasts = group_forecasts_refresh(org=org)
    # The hygiene findings show each key's recent spend (orgadmin/hygiene/); no directory, none.
    hygiene = hygiene_refresh(org=org) if org.has_capability(Capability.MEMBERS) else {}
    return {
        "budget_alerts_raised": len(budgets),
        "anomalies_current": len(anomalies),
        "group_forecasts_computed": forecasts["computed"],
        "hygiene_findings": hygiene.get("found", 0),
    }


@shared_task
def sync_usage_all() -> int:
    """Queue an incremental sync for every connection (Celery beat, hourly)."""
    ids = list(Organization.objects.values_list("pk", flat=True))
    for org_id in ids:
        sync_usage.delay(org_id)
    return len(ids)


@shared_task
def sync_never_synced() -> dict[str, list[str]]:
    """Queue a first sync of each kind a connection never completed; returns what was queued.

    A worker calls it when it starts, so a connection added before (the demo's, or one added
    while no worker ran) fills its pages right away instead of at the next beat entry. A
    connection never verified is verified first. The directory goes first: the other pages
    name projects, keys and users from it. A connection whose API has no directory (an xAI
    team: Capability.MEMBERS) gets none queued; its usage sync is its costs.
    """
    first = {
        SyncRun.Kind.DIRECTORY: (orgadmin_tasks.sync_directory, Capability.MEMBERS),
        SyncRun.Kind.AUDIT_LOG: (orgadmin_tasks.sync_audit_log, Capability.AUDIT_LOG),
        SyncRun.Kind.USAGE: (sync_usage, Capability.COSTS),
    }
    queued: dict[str, list[str]] = {}
    for org in Organization.objects.order_by("pk"):
        if org.status == Organization.Status.UNVERIFIED:
            connection_verify(org=org)
        done = SyncRun.objects.filter(
            org=org, status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL]
        )
        ran = set(done.values_list("kind", flat=True).distinct())
        for kind, (task, capability) in first.items():
            if kind not in ran and org.has_capability(capability):
                task.delay(org.pk)
                queued.setdefault(org.name, []).append(kind)
    return queued
