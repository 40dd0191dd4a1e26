"""Changes to an xAI team's API keys: create, update (field mask), disable, enable, rotate, delete.

Each goes to the Management API first, then to our action log with the answer's request id. A
refusal is logged (here and in the action log, with its request id) and raised as `OrgAPIError`;
a refusal for permissions (the management key may only read keys) also marks the area read-only
for the connection (`key_area_refused`), so the pages hide their controls from then on.

No secret is kept, logged or written to the action log: a new or rotated key's secret is in the
returned `NewApiKey` only, for the page that shows it once. Summaries name a key by its name and
redacted value (`xai-...abcd`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.selectors.team_keys import key_label
from orgadmin.services.changes import team_change
from orgadmin.services.key_areas import key_area_refused
from orgadmin.services.teams import team_id
from orgadmin.xai.client import XAIClient
from orgadmin.xai.types import ApiKey, NewApiKey

logger = logging.getLogger(__name__)
T = TypeVar("T")

RESOURCE = "team_api_key"
# What a change's summary calls each field.
FIELD_NAMES = {
    "name": "name",
    "acls": "ACLs",
    "qps": "qps",
    "qpm": "qpm",
    "tpm": "tpm",
    "expire_time": "expiry",
}


def _change(
    *,
    org: Organization,
    actor: Any,
    action: str,
    summary: str,
    resource_id: str | Callable[[T], str],
    call: Callable[[XAIClient], T],
    summary_done: Callable[[T], str] | None = None,
) -> T:
    """One change to the team's keys (`team_change`, in the keys area)."""
    return team_change(
        org=org,
        actor=actor,
        action=action,
        summary=summary,
        resource_type=RESOURCE,
        area="keys",
        call=call,
        resource_id=resource_id,
        summary_done=summary_done,
    )


def team_key_read_refused(*, org: Organization, error: OrgAPIError) -> None:
    """A read of the keys was refused: when for permissions, the keys area is marked unreadable
    for the connection (its note says so); anything else is only logged."""
    logger.warning("xAI refused a read of the team's keys: %s", error)
    if error.permission_denied:
        key_area_refused(org=org, error=error, area="keys")


def _limits_text(qps: int | None, qpm: int | None, tpm: int | None) -> str:
    parts = [f"{n} {v:,}" for n, v in (("qps", qps), ("qpm", qpm), ("tpm", tpm)) if v]
    return ", ".join(parts)


def team_key_create(
    *,
    org: Organization,
    actor: Any,
    name: str,
    acls: list[str],
    qps: int | None = None,
    qpm: int | None = None,
    tpm: int | None = None,
    expire_time: datetime | None = None,
) -> NewApiKey:
    """Create a key with these ACLs and limits; its secret is in the answer only."""
    team = team_id(org)
    grants = f"{len(acls)} ACL{'s' if len(acls) != 1 else ''}: {', '.join(acls) or 'none'}"
    limits = _limits_text(qps, qpm, tpm)
    rest = f" with {grants}" + (f"; {limits}" if limits else "")
    return _change(
        org=org,
        actor=actor,
        action="team_key.create",
        # The redacted key is known once it exists; the secret never goes in.
        summary=f"Created the API key “{name}”{rest}",
        summary_done=lambda new: f"Created the API key {key_label(new)}{rest}",
        resource_id=lambda new: new.api_key_id,
        call=lambda client: client.create_api_key(
            team, name=name, acls=acls, qps=qps, qpm=qpm, tpm=tpm, expire_time=expire_time
        ),
    )


def _describe(changes: dict[str, Any], key: ApiKey) -> str:
    """What an update changes, in words: "ACLs (+api-key:model:grok-4), qps 10 → 20"."""
    out = []
    for name, value in changes.items():
        if name == "acls":
            added = [a for a in value if a not in key.acl_strings]
            removed = [a for a in key.acl_strings if a not in value]
            moves = [f"+{a}" for a in added] + [f"−{a}" for a in removed]
            out.append(f"ACLs ({', '.join(moves)})" if moves else "ACLs")
        elif name == "expire_time":
            out.append(f"expiry {value:%Y-%m-%d %H:%M} UTC" if value else "expiry removed")
        elif name == "name":
            out.append(f"name “{value}”")
        else:
            before = getattr(key, name, None)
            out.append(f"{name} {before or 'none'} → {value or 'none'}")
    return ", ".join(out)


def team_key_update(
    *, org: Organization, actor: Any, key: ApiKey, changes: dict[str, Any]
) -> ApiKey:
    """Change exactly `changes` (name, acls, qps, qpm, tpm, expire_time; None clears a limit or
    the expiry): the field mask names them and nothing else."""
    if not changes:
        raise ValueError("team_key_update needs at least one change")
    return _change(
        org=org,
        actor=actor,
        action="team_key.update",
        summary=f"Changed the API key {key_label(key)}: {_describe(changes, key)}",
        resource_id=key.api_key_id,
        call=lambda client: client.update_api_key(key.api_key_id, changes),
    )


def team_key_set_disabled(*, org: Organization, actor: Any, key: ApiKey, disabled: bool) -> ApiKey:
    """Disable a key (every request with it is refused) or enable it again."""
    verb = "Disabled" if disabled else "Enabled"
    return _change(
        org=org,
        actor=actor,
        action="team_key.disable" if disabled else "team_key.enable",
        summary=f"{verb} the API key {key_label(key)}",
        resource_id=key.api_key_id,
        call=lambda client: client.set_api_key_disabled(key.api_key_id, disabled),
    )


def team_key_rotate(
    *, org: Organization, actor: Any, key: ApiKey, old_secret_expire_time: datetime
) -> NewApiKey:
    """Give the key a new secret; the old one keeps working until `old_secret_expire_time`."""
    until = f"{old_secret_expire_time:%Y-%m-%d %H:%M} UTC"
    return _change(
        org=org,
        actor=actor,
        action="team_key.rotate",
        summary=f"Rotated the API key {key_label(key)}; the old secret works until {until}",
        resource_id=key.api_key_id,
        call=lambda client: client.rotate_api_key(
            key.api_key_id, old_secret_expire_time=old_secret_expire_time
        ),
    )


def team_key_delete(*, org: Organization, actor: Any, key: ApiKey) -> None:
    """Delete a key for good: anything using it stops working at once."""
    _change(
        org=org,
        actor=actor,
        action="team_key.delete",
        summary=f"Deleted the API key {key_label(key)}",
        resource_id=key.api_key_id,
        call=lambda client: client.delete_api_key(key.api_key_id),
    )
