"""Models of the orgadmin app, one module per area, all importable from here."""

from __future__ import annotations

from orgadmin.models.audit import AuditEvent, AuditEventCount, AuditEventResource, AuditName
from orgadmin.models.core import (
    ActionLog,
    KeyUnreadable,
    Organization,
    SyncLock,
    SyncRun,
    SyncWatermark,
    mask_key,
)

__all__ = [
    "ActionLog",
    "AuditEvent",
    "AuditEventCount",
    "AuditEventResource",
    "AuditName",
    "KeyUnreadable",
    "Organization",
    "SyncLock",
    "SyncRun",
    "SyncWatermark",
    "mask_key",
]
