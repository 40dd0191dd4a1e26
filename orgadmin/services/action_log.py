"""Our own action log: who in the dashboard did what, with the API's request id."""

from __future__ import annotations

from typing import Any

from orgadmin.client import OrgAPIError
from orgadmin.models import ActionLog, Organization


def action_record(
    *,
    actor: Any,
    org: Organization | None,
    action: str,
    summary: str,
    resource_type: str = "",
    resource_id: str = "",
    request_id: str = "",
    error: Exception | None = None,
) -> ActionLog:
    """Append one line to our own action log: who did what, with the API's request id."""
    user = actor if actor is not None and actor.is_authenticated else None
    api_error = error if isinstance(error, OrgAPIError) else None
    return ActionLog.objects.create(
        org=org if org is not None and org.pk else None,
        org_name=org.name if org is not None else "",
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        summary=summary[:500],
        request_id=(api_error.request_id if api_error else request_id) or "",
        outcome=ActionLog.Outcome.ERROR if error else ActionLog.Outcome.OK,
        error=str(error) if error else "",
    )
