"""How every change reaches OpenAI: the API first, then the cache and the action log together.

    result = api_change(
        org=org, actor=actor, action="project.create", summary="Created the project “X”",
        resource_type="project", call=lambda api: api.projects.create(name="X"),
        apply=lambda project: Project.objects.update_or_create(...),
        sections=["projects"],
    )

If the API refuses, nothing is written but the action log line (with the error and its request
id), and the OrgAPIError goes up to the view. A refusal for permissions (the connection's admin
key may only read that area) also marks the area read-only for the connection
(`orgadmin.services.key_areas`): its pages hide their controls from then on.

If it accepts, the API's result is written to the cache and logged in one transaction, and a
refresh of the touched sections is queued for after the commit, so the cache converges even on
what the result didn't say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction

from orgadmin.client import OrgAPIError, admin_client, api_errors, request_id_of
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record
from orgadmin.services.key_areas import key_area_refused
from orgadmin.xai.client import XAIClient, xai_client

if TYPE_CHECKING:
    from openai.resources.admin.organization import Organization as Api

T = TypeVar("T")
log = logging.getLogger(__name__)


class ChangeRefused(Exception):
    """A change we refuse before calling the API, like removing the last owner. Like invalid
    input, it is explained on the page and not logged: nothing was attempted."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def refresh_later(*, org: Organization, sections: Iterable[str], actor: Any = None) -> None:
    """Queue a sync of these directory sections once the current transaction commits."""
    from orgadmin.tasks import sync_directory

    wanted = sorted(set(sections))
    if wanted:
        user_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        sync_directory.delay_on_commit(org.pk, wanted, user_id)


def _refused(
    org: Organization,
    actor: Any,
    action: str,
    summary: str,
    resource_type: str,
    resource_id: str,
    error: OrgAPIError,
    *,
    area: str | None = None,
) -> None:
    """A change the API refused: its action log line (with the request id), and for a refusal
    about permissions, the area marked for the connection (the request's own, else `area`)."""
    action_record(
        actor=actor,
        org=org,
        action=action,
        summary=summary,
        resource_type=resource_type,
        resource_id=resource_id,
        error=error,
    )
    if error.permission_denied:
        key_area_refused(org=org, error=error, area=area)


def api_change(
    *,
    org: Organization,
    actor: Any,
    action: str,
    summary: str,
    resource_type: str,
    call: Callable[[Api], T],
    apply: Callable[[T], Any] | None = None,
    resource_id: str | Callable[[T], str] = "",
    sections: Iterable[str] = (),
) -> T:
    """Send one change to the API; then apply its result to the cache and log it, atomically.

    On refusal, log the failure (with the API's request id) and raise OrgAPIError; the cache is
    left untouched.
    """
    rid = resource_id if isinstance(resource_id, str) else ""
    try:
        api = admin_client(org)
        with api_errors():
            result = call(api)
    except OrgAPIError as exc:
        _refused(org, actor, action, summary, resource_type, rid, exc)
        raise
    if callable(resource_id):
        rid = resource_id(result)
    with transaction.atomic():
        if apply is not None:
            apply(result)
        action_record(
            actor=actor,
            org=org,
            action=action,
            summary=summary,
            resource_type=resource_type,
            resource_id=rid,
            request_id=request_id_of(result),
        )
        refresh_later(org=org, sections=sections, actor=actor)
    return result


def team_change(
    *,
    org: Organization,
    actor: Any,
    action: str,
    summary: str,
    resource_type: str,
    area: str,
    call: Callable[[XAIClient], T],
    resource_id: str | Callable[[T], str] = "",
    summary_done: Callable[[T], str] | None = None,
) -> T:
    """`api_change` for an xAI team: one change through the xAI client, then the action log
    with the change's request id (`summary_done` may word it from the result). On refusal, log
    it and raise the OrgAPIError; a refusal for permissions marks `area` for the connection."""
    rid = resource_id if isinstance(resource_id, str) else ""
    try:
        with xai_client(org) as client:
            result = call(client)
            request_id = client.last_request_id
    except OrgAPIError as exc:
        log.warning("xAI refused %s of %s: %s", action, org.name, exc, extra={"org": org.pk})
        _refused(org, actor, action, summary, resource_type, rid, exc, area=area)
        raise
    action_record(
        actor=actor,
        org=org,
        action=action,
        summary=summary_done(result) if summary_done else summary,
        resource_type=resource_type,
        resource_id=resource_id(result) if callable(resource_id) else rid,
        request_id=request_id,
    )
    return result
