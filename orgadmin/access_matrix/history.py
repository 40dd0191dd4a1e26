"""Keeping the access history: after each directory sync, today's access against the open grants.

`access_history_record` is run by `orgadmin.tasks.sync_directory` once a sync has written the
cache. It opens a grant for every path the cache shows and the history doesn't, ends the ones the
cache no longer shows, and ends and reopens one whose role changed. A sync that changed nothing
writes nothing. Bulk writes, a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from orgadmin.access_matrix.models import AccessGrant, AccessHistory
from orgadmin.access_matrix.selectors import KIND_USER, Access, project_access
from orgadmin.models import Organization

BATCH = 500
Identity = tuple[str, str, str, str]  # project id, kind, subject id, path
# What may change on an open grant without ending it: names, the key owner's label.
SHOWN_FIELDS = ("project_name", "label", "email", "via")


class Recorded(NamedTuple):
    opened: int
    ended: int
    renamed: int


def identity_of(access: Access) -> Identity:
    """What makes a path one grant over time (its role is what it grants, so it's not in here)."""
    path = access.via if access.kind == KIND_USER else ""
    return (access.project_id, access.kind, access.subject_id, path)


def _grant(org: Organization, access: Access, at: dt.datetime) -> AccessGrant:
    return AccessGrant(
        org=org,
        project_id=access.project_id,
        project_name=access.project_name,
        kind=access.kind,
        subject_id=access.subject_id,
        path=identity_of(access)[3],
        label=access.label,
        email=access.email,
        role=access.role,
        via=access.via,
        first_seen=at,
    )


def access_history_record(*, org: Organization, at: dt.datetime | None = None) -> Recorded:
    """Record the directory cache's access of `org` in its history, as of `at` (now)."""
    at = at or timezone.now()
    current = {identity_of(a): a for a in project_access(org=org)}
    with transaction.atomic():
        history = AccessHistory.objects.select_for_update().filter(org=org).first()
        if history is None:
            AccessHistory.objects.create(org=org, started_at=at)
        open_grants = {
            (g.project_id, g.kind, g.subject_id, g.path): g
            for g in AccessGrant.objects.filter(org=org, ended_at__isnull=True)
        }
        ended = [pk for key, g in open_grants.items() if key not in current for pk in [g.pk]]
        opened: list[AccessGrant] = []
        renamed: list[AccessGrant] = []
        for key, access in current.items():
            grant = open_grants.get(key)
            if grant is not None and grant.role != access.role:
                ended.append(grant.pk)  # a role change: one grant ends, another begins
                grant = None
            if grant is None:
                opened.append(_grant(org, access, at))
            elif _rename(grant, access):
                renamed.append(grant)
        for start in range(0, len(ended), BATCH):
            AccessGrant.objects.filter(pk__in=ended[start : start + BATCH]).update(ended_at=at)
        AccessGrant.objects.bulk_create(opened, batch_size=BATCH)
        AccessGrant.objects.bulk_update(renamed, SHOWN_FIELDS, batch_size=BATCH)
    return Recorded(opened=len(opened), ended=len(ended), renamed=len(renamed))


def _rename(grant: AccessGrant, access: Access) -> bool:
    """Bring an open grant's names up to date; whether any changed."""
    changed = False
    for name in SHOWN_FIELDS:
        value = getattr(access, name)
        if getattr(grant, name) != value:
            setattr(grant, name, value)
            changed = True
    return changed
