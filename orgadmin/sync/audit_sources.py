"""Which sync reads a connection's audit log: each provider's API lists its events its own way.

The task, "Sync now" (which queues the task) and `manage.py sync_audit_logs` all call
`audit_sync`; none of them asks which provider a connection is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from orgadmin.models import Organization, SyncRun
from orgadmin.providers import OPENAI, XAI, Capability, Provider
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.xai_audit import xai_audit_log_sync

AuditSync = Callable[..., SyncRun]

_SYNCS: dict[Provider, AuditSync] = {OPENAI: audit_log_sync, XAI: xai_audit_log_sync}


class NoAuditLog(Exception):
    """The connection's API has no audit log to sync."""


def audit_sync(
    *, org: Organization, since: dt.datetime | None = None, triggered_by: Any = None
) -> SyncRun:
    """Sync the connection's audit log from its watermark, or from `since` (a backfill)."""
    sync = _SYNCS.get(org.provider_info)
    if sync is None or not org.has_capability(Capability.AUDIT_LOG):
        raise NoAuditLog(f"{org.provider_info.label} has no audit log to sync.")
    return sync(org=org, since=since, triggered_by=triggered_by)
