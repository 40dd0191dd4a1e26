"""The access history: each directory sync's access against the open grants (add, role change,
remove), idempotent, in bulk, in a fixed number of queries; and the sync task keeps it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgadmin.access_matrix.changes import (
    ENDED,
    ROLE_CHANGED,
    STARTED,
    access_as_of,
    access_changes,
)
from orgadmin.access_matrix.history import access_history_record
from orgadmin.access_matrix.models import AccessGrant, AccessHistory
from orgadmin.access_matrix.selectors import project_access
from orgadmin.sync.directory import directory_sync
from tests.access_matrix.conftest import add_member, outsider, rich_project

pytestmark = pytest.mark.django_db


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_the_first_sync_opens_one_grant_per_path(synced):
    at = dt.datetime.now(dt.UTC)
    outcome = access_history_record(org=synced, at=at)
    today = project_access(org=synced)
    assert outcome.opened == len(today)
    assert outcome.ended == 0
    assert AccessGrant.objects.filter(org=synced, ended_at__isnull=True).count() == len(today)
    assert AccessHistory.objects.get(org=synced).started_at == at
    assert access_as_of(org=synced, at=at) == today


def test_a_second_sync_with_nothing_changed_writes_nothing(synced, recorded):
    directory_sync(org=synced)
    with CaptureQueriesContext(connection) as queries:
        outcome = access_history_record(org=synced)
    assert tuple(outcome) == (0, 0, 0)
    assert _writes(queries.captured_queries) == []


def test_it_follows_an_add_a_role_change_and_a_removal_across_syncs(synced, store, recorded):
    project = rich_project(store)
    newcomer = outsider(store, project)
    promoted = next(uid for uid, m in sorted(project.members.items()) if m.role == "member")
    leaver = next(uid for uid in sorted(project.members) if uid != promoted)
    add_member(store, project, newcomer.id)
    project.members[promoted].role = "owner"
    del project.members[leaver]
    directory_sync(org=synced)
    second = recorded + dt.timedelta(days=3)
    outcome = access_history_record(org=synced, at=second)

    # The removal also ends the leaver's keys' role ("" now), so count only people here.
    def person(subject_id):
        return AccessGrant.objects.filter(
            org=synced, project_id=project.id, kind="user", subject_id=subject_id, path=""
        )

    assert outcome.opened >= 2
    assert outcome.ended >= 2
    (added,) = person(newcomer.id)
    assert (added.role, added.first_seen, added.ended_at) == ("member", second, None)
    was, now = person(promoted).order_by("first_seen")
    assert (was.role, was.ended_at) == ("member", second)
    assert (now.role, now.first_seen, now.ended_at) == ("owner", second, None)
    (gone,) = person(leaver)
    assert gone.ended_at == second

    # The matrix as of before the second sync is the first one's; after, today's.
    assert access_as_of(org=synced, at=second - dt.timedelta(seconds=1)) != project_access(
        org=synced
    )
    assert access_as_of(org=synced, at=second) == project_access(org=synced)

    report = access_changes(
        org=synced, start=second - dt.timedelta(hours=1), end=second + dt.timedelta(hours=1)
    )
    seen = {(c.change, c.access.subject_id, c.access.kind, c.access.via) for c in report.grants}
    assert (STARTED, newcomer.id, "user", "") in seen
    assert (ROLE_CHANGED, promoted, "user", "") in seen
    assert (ENDED, leaver, "user", "") in seen
    change = next(
        c
        for c in report.grants
        if c.access.subject_id == promoted and c.access.kind == "user" and not c.access.via
    )
    assert (change.role_before, change.access.role) == ("member", "owner")
    assert not report.before_history
    assert report.present_at_start == 0

    # Once more with nothing changed: nothing written.
    directory_sync(org=synced)
    assert tuple(access_history_record(org=synced)) == (0, 0, 0)


def test_grants_there_when_the_history_began_are_not_changes(synced, recorded):
    report = access_changes(
        org=synced, start=recorded - dt.timedelta(days=2), end=recorded + dt.timedelta(days=1)
    )
    assert report.grants == []
    assert report.present_at_start == len(project_access(org=synced))
    assert report.before_history  # the range starts before the history


def test_a_renamed_member_keeps_their_grant(synced, store, recorded):
    project = rich_project(store)
    uid = sorted(project.members)[0]
    store.users[uid].name = "Renamed Person"
    directory_sync(org=synced)
    outcome = access_history_record(org=synced)
    assert outcome.opened == outcome.ended == 0
    assert outcome.renamed >= 1
    grant = AccessGrant.objects.get(
        org=synced, project_id=project.id, kind="user", subject_id=uid, path=""
    )
    assert (grant.label, grant.first_seen) == ("Renamed Person", recorded)


def test_it_records_in_a_fixed_number_of_queries(synced, store, recorded):
    def changed_by(n: int) -> int:
        project = rich_project(store)
        for user in [u for uid, u in sorted(store.users.items()) if uid not in project.members][:n]:
            add_member(store, project, user.id)
        directory_sync(org=synced)
        with CaptureQueriesContext(connection) as queries:
            outcome = access_history_record(org=synced)
        assert outcome.opened == n
        return len(queries)

    assert changed_by(1) == changed_by(3)


def test_the_directory_sync_task_keeps_the_history(synced, store):
    from orgadmin.tasks import sync_directory

    assert sync_directory.apply(args=[synced.pk]).get() == "succeeded"
    assert AccessHistory.objects.filter(org=synced).exists()
    project = rich_project(store)
    newcomer = outsider(store, project)
    add_member(store, project, newcomer.id, role="owner")
    assert sync_directory.apply(args=[synced.pk]).get() == "succeeded"
    grant = AccessGrant.objects.get(
        org=synced, project_id=project.id, subject_id=newcomer.id, ended_at__isnull=True
    )
    assert grant.role == "owner"
