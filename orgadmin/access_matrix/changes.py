"""Reads of the access history: the matrix at a past moment, and what changed between two.

The history knows what each directory sync saw, from the first one recorded on (`AccessHistory`);
the audit log knows who changed what and when, as far back as it was synced. The changes view
shows both, side by side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orgadmin.access_matrix.models import AccessGrant, AccessHistory
from orgadmin.access_matrix.selectors import KINDS, Access
from orgadmin.models import AuditEvent, Organization

# The audit log's events about who may reach what: project members, service accounts and keys
# added, changed or removed; organization roles; groups and their members; invitations accepted.
ACCESS_EVENT_TYPES: tuple[str, ...] = (
    "user.added",
    "user.updated",
    "user.deleted",
    "service_account.created",
    "service_account.updated",
    "service_account.deleted",
    "api_key.created",
    "api_key.deleted",
    "invite.accepted",
    "group.deleted",
    "role.assignment.created",
    "role.assignment.deleted",
    "role.bound_to_resource",
    "role.unbound_from_resource",
    "project.archived",
    "project.deleted",
    "tenant.group.member.added",
    "tenant.group.member.removed",
    "tenant.role_assignment.created",
    "tenant.role_assignment.deleted",
    "tenant.resource_role_assignment.created",
    "tenant.resource_role_assignment.deleted",
    "tenant.user.removed",
    "tenant.membership.accepted",
    "tenant.membership.revoked",
)
STARTED = "started"
ENDED = "ended"
ROLE_CHANGED = "role changed"
LIMIT = 500  # rows of each list a page shows; the rest are counted


def history_started(*, org: Organization) -> dt.datetime | None:
    """When the access history of `org` began (its first recorded sync), if it has."""
    return AccessHistory.objects.filter(org=org).values_list("started_at", flat=True).first()


def _access(grant: AccessGrant) -> Access:
    return Access(
        project_id=grant.project_id,
        project_name=grant.project_name or grant.project_id,
        kind=grant.kind,
        subject_id=grant.subject_id,
        label=grant.label,
        email=grant.email,
        role=grant.role,
        via=grant.via,
    )


def access_as_of(
    *, org: Organization, at: dt.datetime, project_ids: list[str] | None = None
) -> list[Access]:
    """The access the history held at `at`, ordered as `project_access` orders today's (one
    query). Empty before the history began."""
    grants = AccessGrant.objects.filter(org=org, first_seen__lte=at).exclude(ended_at__lte=at)
    if project_ids is not None:
        grants = grants.filter(project_id__in=project_ids)
    rows = [_access(g) for g in grants]
    order = {kind: n for n, kind in enumerate(KINDS)}
    rows.sort(
        key=lambda a: (
            a.project_name.casefold(),
            a.project_id,
            order.get(a.kind, len(order)),
            a.label.casefold(),
            a.via,
            a.subject_id,
        )
    )
    return rows


@dataclass(frozen=True)
class GrantChange:
    """A grant that started or ended in the range, or both at once: a role change."""

    when: dt.datetime
    change: str  # STARTED | ENDED | ROLE_CHANGED
    access: Access
    role_before: str = ""


@dataclass
class AccessChanges:
    started_at: dt.datetime | None  # when the history began; None: it hasn't
    grants: list[GrantChange] = field(default_factory=list)  # newest first, at most LIMIT
    grants_total: int = 0
    # Grants first seen by the first recorded sync within the range: they existed already, so
    # they are not changes; only how many there were is told.
    present_at_start: int = 0
    events: list[AuditEvent] = field(default_factory=list)  # newest first, at most LIMIT
    events_total: int = 0
    before_history: bool = False  # part of the range lies before the history began


def access_changes(
    *, org: Organization, start: dt.datetime, end: dt.datetime, limit: int = LIMIT
) -> AccessChanges:
    """What changed in access from `start` (included) to `end` (excluded): the history's
    grants that started or ended, and the audit log's access events. At most six queries."""
    started_at = history_started(org=org)
    report = AccessChanges(
        started_at=started_at, before_history=started_at is None or start < started_at
    )
    if started_at is not None:
        _grant_changes(org, start, end, started_at, report, limit)
    events = AuditEvent.objects.filter(
        org=org, type__in=ACCESS_EVENT_TYPES, effective_at__gte=start, effective_at__lt=end
    )
    report.events = list(events.order_by("-effective_at", "-id")[:limit])
    report.events_total = len(report.events) if len(report.events) < limit else events.count()
    return report


def _grant_changes(
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    started_at: dt.datetime,
    report: AccessChanges,
    limit: int,
) -> None:
    grants = AccessGrant.objects.filter(org=org)
    began = grants.filter(first_seen__gte=start, first_seen__lt=end)
    if start <= started_at < end:
        report.present_at_start = began.filter(first_seen=started_at).count()
    began = list(began.exclude(first_seen=started_at))
    ended = list(grants.filter(ended_at__gte=start, ended_at__lt=end))
    # A grant that ended in the sync that opened another for the same path changed its role.
    ends = {(_key(g), g.ended_at): g for g in ended}
    changes: list[GrantChange] = []
    paired: set[int] = set()
    for grant in began:
        before = ends.get((_key(grant), grant.first_seen))
        if before is not None:
            paired.add(before.pk)
            changes.append(GrantChange(grant.first_seen, ROLE_CHANGED, _access(grant), before.role))
        else:
            changes.append(GrantChange(grant.first_seen, STARTED, _access(grant)))
    for grant in ended:
        if grant.pk not in paired and grant.ended_at is not None:
            changes.append(GrantChange(grant.ended_at, ENDED, _access(grant), grant.role))
    changes.sort(key=lambda c: (-c.when.timestamp(), c.access.project_name, c.access.label))
    report.grants_total = len(changes)
    report.grants = changes[:limit]


def _key(grant: AccessGrant) -> tuple[str, str, str, str]:
    return (grant.project_id, grant.kind, grant.subject_id, grant.path)
