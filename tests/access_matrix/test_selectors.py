"""`project_access`: who reaches which project, read from a directory cache synced from the
simulator's demo organization, checked against the simulator's own state."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgadmin.access_matrix.selectors import KINDS, project_access
from orgadmin.models import GroupMember, OrgGroup, ProjectGroup
from orgadmin.sync.directory import directory_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(org, simulator):
    directory_sync(org=org)
    return org


def _active(store):
    return {p.id: p for p in store.projects.values() if p.archived_at is None}


def test_it_lists_every_direct_member_of_active_projects_with_their_role(synced, simulator):
    store = simulator.store
    rows = project_access(org=synced)
    direct = {(a.project_id, a.subject_id): a.role for a in rows if a.kind == "user" and not a.via}
    expected = {
        (pid, uid): m.role for pid, p in _active(store).items() for uid, m in p.members.items()
    }
    assert direct == expected
    archived = {p.id for p in store.projects.values() if p.archived_at is not None}
    assert archived, "the demo should have an archived project"
    assert not {a.project_id for a in rows} & archived


def test_it_lists_people_reached_through_a_project_group(synced, simulator):
    store = simulator.store
    rows = project_access(org=synced)
    through = {(a.project_id, a.subject_id, a.via) for a in rows if a.via.startswith("group ")}
    expected = {
        (pid, uid, f"group {store.groups[gid].name}")
        for pid, p in _active(store).items()
        for gid in p.groups
        for uid in store.groups[gid].users
    }
    assert expected, "the demo should have a project reached through a group"
    assert through == expected


def test_a_person_direct_and_in_a_group_appears_once_per_path(synced):
    rows = project_access(org=synced)
    paths: dict[tuple[str, str], list[str]] = {}
    for a in rows:
        if a.kind == "user":
            paths.setdefault((a.project_id, a.subject_id), []).append(a.via)
    both = [vias for vias in paths.values() if "" in vias and len(vias) > 1]
    assert both, "the demo should have someone both direct and through a group"
    for vias in paths.values():
        assert len(vias) == len(set(vias))
        assert vias[0] == "" or "" not in vias  # the direct path comes first


def test_it_lists_service_accounts_and_keys_with_their_owner(synced, simulator):
    store = simulator.store
    active = _active(store)
    rows = project_access(org=synced)
    accounts = {(a.project_id, a.subject_id, a.role) for a in rows if a.kind == "service_account"}
    assert accounts == {
        (pid, sa.id, sa.role) for pid, p in active.items() for sa in p.service_accounts.values()
    }
    keys = {a.subject_id: a for a in rows if a.kind == "api_key"}
    expected = {k.id: k for k in store.api_keys.values() if k.project_id in active}
    assert set(keys) == set(expected)
    for key_id, key in expected.items():
        row = keys[key_id]
        assert key.redacted_value in row.label
        project = active[key.project_id]
        if key.owner_type == "user":
            user = store.users[key.owner_id]
            assert row.email == user.email
            assert row.via == f"owned by {user.name or user.email}"
            member = project.members.get(key.owner_id)
            assert row.role == (member.role if member else "")
        else:
            account = project.service_accounts.get(key.owner_id)
            assert row.email == ""
            assert row.role == (account.role if account else "")


def test_it_keeps_to_the_projects_asked_for(synced, simulator):
    some = sorted(_active(simulator.store))[:2]
    rows = project_access(org=synced, project_ids=some)
    assert {a.project_id for a in rows} == set(some)
    assert project_access(org=synced, project_ids=[]) == []


def test_it_is_ordered_by_project_kind_and_label(synced):
    rows = project_access(org=synced)
    keys = [(a.project_name.casefold(), KINDS.index(a.kind), a.label.casefold()) for a in rows]
    assert keys == sorted(keys)


def test_it_reads_in_a_fixed_number_of_queries(synced, simulator):
    with CaptureQueriesContext(connection) as few:
        small = project_access(org=synced, project_ids=sorted(_active(simulator.store))[:1])
    # More members in every group the org has: the number of queries stays the same.
    for group in OrgGroup.objects.filter(org=synced):
        GroupMember.objects.bulk_create(
            GroupMember(group=group, user_openai_id=f"user-extra-{group.pk}-{n}") for n in range(30)
        )
    assert ProjectGroup.objects.filter(project__org=synced).exists()
    with CaptureQueriesContext(connection) as many:
        big = project_access(org=synced)
    assert len(big) > len(small)
    assert len(many) == len(few) == 6
