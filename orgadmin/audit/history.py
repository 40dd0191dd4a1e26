"""The change an audit event made, field by field: the "after" is what its payload says; the
"before" comes from the resource's own history.

A payload says what an update *requested* (`changes_requested`) but not what was there before.
The "before" is the earlier events about the same id, folded into a state. Where that history
doesn't reach back far enough, the diff says "unknown". Pure functions, no Django.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from orgadmin.audit.raw import as_list, as_text, payload_of


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()  # a "before" value older than the synced history


@dataclass(frozen=True)
class Change:
    """One field of the diff. `before` is None when the thing didn't exist, UNKNOWN when the
    history doesn't say; `after` is None when it no longer exists."""

    field: str
    before: Any
    after: Any

    @property
    def added(self) -> list:
        if isinstance(self.after, list) and isinstance(self.before, list):
            return [v for v in self.after if v not in self.before]
        return []

    @property
    def removed(self) -> list:
        if isinstance(self.after, list) and isinstance(self.before, list):
            return [v for v in self.before if v not in self.after]
        return []


_CREATING = {"created", "added", "sent", "registered", "upserted", "provisioned", "issued"}
_REMOVING = {"deleted", "removed", "revoked"}
_STATE_BY_VERB = {
    "created": "active",
    "added": "active",
    "registered": "active",
    "sent": "pending",
    "accepted": "accepted",
    "deleted": "deleted",
    "removed": "deleted",
    "revoked": "revoked",
    "archived": "archived",
    "enabled": "enabled",
    "disabled": "disabled",
}
_DIFFABLE = {*_CREATING, *_REMOVING, *_STATE_BY_VERB, "updated", "enabled", "disabled"}
# Fields that are ids, secrets or too long to be a readable diff.
_NOT_DIFFED = {"id", "certificate", "object"}


def _fields_of(raw: dict) -> dict[str, Any]:
    """What an event says about its resource's fields."""
    payload = payload_of(raw)
    fields: dict[str, Any] = {}
    for key, value in payload.items():
        if key in ("data", "changes_requested") and isinstance(value, dict):
            fields.update(value)
        elif key not in _NOT_DIFFED and key not in ("data", "changes_requested"):
            fields[key] = value
    return fields


def apply_event(state: dict[str, Any], raw: dict) -> dict[str, Any]:
    """The resource's state after one event about it."""
    state = copy.deepcopy(state)
    verb = str(raw.get("type") or "").rsplit(".", 1)[-1]
    fields = _fields_of(raw)
    added = as_list(fields.pop("permissions_added", None))
    removed = as_list(fields.pop("permissions_removed", None))
    if added or removed:
        current = state.get("permissions")
        base = list(current) if isinstance(current, list) else []
        state["permissions"] = [p for p in base if p not in removed] + [
            p for p in added if p not in base
        ]
    if verb in _REMOVING:
        state = {key: None for key in state}
    else:
        state.update(fields)
    if verb in _STATE_BY_VERB:
        state["state"] = _STATE_BY_VERB[verb]
    return state


def fold(history: list[dict]) -> dict[str, Any]:
    """The state a resource's earlier events leave it in (oldest first)."""
    state: dict[str, Any] = {}
    for raw in history:
        state = apply_event(state, raw)
    return state


def diff(raw: dict, history: list[dict] | None) -> list[Change]:
    """The event's change, field by field. Without a history (None) befores are unknown; with
    an empty one the resource has no earlier event, so only what its own event says is known."""
    verb = str(raw.get("type") or "").rsplit(".", 1)[-1]
    if not as_text(payload_of(raw).get("id")) or verb not in _DIFFABLE:
        return []  # not a change to one resource (a sign-in, a bulk activation, …)
    before = fold(history) if history else {}
    after = apply_event(before, raw)
    ends = verb in _REMOVING or verb == "archived"
    changes = []
    for key, new in after.items():
        if key in _NOT_DIFFED:
            continue
        if key in before:
            old = before[key]
        elif verb in _CREATING:
            old = None
        elif key == "state" and ends and history is not None:
            old = "active"  # it existed, or it couldn't be deleted
        else:
            old = UNKNOWN
        if old is UNKNOWN and new is None:
            continue
        if old is UNKNOWN or old != new:
            changes.append(Change(key, old, new))
    return changes
