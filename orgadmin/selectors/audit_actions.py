"""Who really acted: audit events made with the dashboard's admin key, paired with the lines of
our own action log that made them, both ways (an event's person for the audit log, an action's
event for Activity). The rule is `orgadmin.audit.actors`; a page of either costs a fixed number
of queries however many rows it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from orgadmin.audit import MalformedEvent, normalize
from orgadmin.audit.actors import (
    MATCH_WINDOW,
    Candidate,
    best_match,
    request_id_of,
    via_dashboard,
)
from orgadmin.models import ActionLog, AuditEvent, AuditEventResource, Organization, OrgUser


@dataclass(frozen=True)
class DashboardActor:
    """The person behind an event made through this dashboard."""

    action_id: int
    person: str  # "Ana Silva"
    owner: str  # the admin key's owner, as OpenAI recorded them
    label: str  # "Ana Silva via this dashboard (admin key of Jamal Haddad)"
    # What finds the action's line on the Activity page: its request id, else its resource.
    activity_q: str = ""


def _resources_of(event: AuditEvent) -> set[str]:
    try:
        ids = set(normalize(event.raw).resource_ids)
    except MalformedEvent:
        ids = set()
    return {i for i in (event.resource_id, *ids) if i}


def _span(moments: Iterable[dt.datetime]) -> tuple[dt.datetime, dt.datetime]:
    times = list(moments)
    return min(times) - MATCH_WINDOW, max(times) + MATCH_WINDOW


def _person(action: ActionLog) -> str:
    full = action.actor.get_full_name().strip() if action.actor else ""
    return full or action.actor_name or "someone"


def audit_dashboard_actors(
    *, org: Organization, events: list[AuditEvent]
) -> dict[int, DashboardActor]:
    """For each event (by pk) made with an API key that our action log explains: who did it
    through this dashboard. At most two queries: the action lines, the owners' names."""
    keyed = [e for e in events if e.actor_type == "api_key"]
    touched = {e.pk: _resources_of(e) for e in keyed}
    wanted = set().union(*touched.values()) if touched else set()
    if not wanted:
        return {}
    lo, hi = _span(e.effective_at for e in keyed)
    lines = {
        a.pk: a
        for a in ActionLog.objects.filter(
            org=org,
            outcome=ActionLog.Outcome.OK,
            resource_id__in=wanted,
            created_at__gte=lo,
            created_at__lte=hi,
        )
        .select_related("actor")
        .order_by()
    }
    candidates = [
        Candidate(a.pk, a.resource_id, a.created_at, a.request_id) for a in lines.values()
    ]
    matched: dict[int, ActionLog] = {}
    for event in keyed:
        found = best_match(
            resource_ids=touched[event.pk],
            at=event.effective_at,
            request_id=request_id_of(event.raw),
            candidates=candidates,
        )
        if found is not None:
            matched[event.pk] = lines[found.key]
    if not matched:
        return {}
    owners = dict(
        OrgUser.objects.filter(
            org=org, openai_id__in={e.actor_id for e in keyed if e.pk in matched and e.actor_id}
        )
        .exclude(name="")
        .values_list("openai_id", "name")
    )
    result = {}
    for event in keyed:
        if event.pk not in matched:
            continue
        action = matched[event.pk]
        owner = owners.get(event.actor_id) or event.actor_email or event.actor_key
        person = _person(action)
        result[event.pk] = DashboardActor(
            action.pk,
            person,
            owner,
            via_dashboard(person, owner),
            activity_q=action.request_id or action.resource_id,
        )
    return result


def action_audit_events(
    *, org: Organization | None, actions: Iterable[ActionLog]
) -> dict[int, AuditEvent]:
    """For each action (by pk) of this organization whose change is in the synced audit log:
    that event (its id, type, time). One query: the events touching the actions' resources
    near their times, made with an API key."""
    lines = [
        a
        for a in actions
        if org is not None
        and a.org_id == org.pk
        and a.outcome == ActionLog.Outcome.OK
        and a.resource_id
    ]
    if not lines:
        return {}
    lo, hi = _span(a.created_at for a in lines)
    rows = (
        AuditEventResource.objects.filter(
            org=org,
            resource_id__in={a.resource_id for a in lines},
            effective_at__gte=lo,
            effective_at__lte=hi,
            event__actor_type="api_key",
        )
        .select_related("event")
        .only(
            "resource_id",
            "event__event_id",
            "event__type",
            "event__effective_at",
            "event__raw",
            "event__actor_type",
        )
        .order_by()
    )
    events: dict[int, tuple[AuditEvent, set[str]]] = {}
    for row in rows:
        events.setdefault(row.event.pk, (row.event, set()))[1].add(row.resource_id)
    candidates = [Candidate(a.pk, a.resource_id, a.created_at, a.request_id) for a in lines]
    found: dict[int, AuditEvent] = {}
    # The same pairing as the audit log's, from the event's side: each event picks its line.
    for event, resources in events.values():
        match = best_match(
            resource_ids=resources,
            at=event.effective_at,
            request_id=request_id_of(event.raw),
            candidates=candidates,
        )
        if match is None:
            continue
        earlier = found.get(match.key)
        if earlier is None or abs(event.effective_at - match.at) < abs(
            earlier.effective_at - match.at
        ):
            found[match.key] = event
    return found
