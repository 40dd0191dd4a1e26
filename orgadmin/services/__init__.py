"""Writes: the only code that combines Admin API calls with database changes.

Services are keyword-only and typed, named `<entity>_<action>`. Views, tasks and management
commands call them; import them from this package.
"""

from __future__ import annotations

from orgadmin.services.action_log import action_record
from orgadmin.services.audit import audit_counts_rebuild, audit_events_store, audit_log_sync
from orgadmin.services.connections import (
    connection_create,
    connection_delete,
    connection_register,
    connection_rename,
    connection_set_key,
    connection_verify,
    keys_rotate,
)

__all__ = [
    "action_record",
    "audit_counts_rebuild",
    "audit_events_store",
    "audit_log_sync",
    "connection_create",
    "connection_delete",
    "connection_register",
    "connection_rename",
    "connection_set_key",
    "connection_verify",
    "keys_rotate",
]
