"""Models of the orgadmin app, one module per area, all importable from here."""

from __future__ import annotations

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
    "KeyUnreadable",
    "Organization",
    "SyncLock",
    "SyncRun",
    "SyncWatermark",
    "mask_key",
]
