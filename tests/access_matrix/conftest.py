"""An organization synced from the simulator's demo scenario, its access history recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from orgadmin.access_matrix.history import access_history_record
from orgadmin.simulator.store import ProjectMember
from orgadmin.sync.directory import directory_sync


@pytest.fixture
def synced(org, simulator):
    directory_sync(org=org)
    return org


@pytest.fixture
def store(simulator):
    return simulator.store


@pytest.fixture
def recorded(synced):
    """The access history begun by the first sync, a week ago."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    access_history_record(org=synced, at=start)
    return start


def rich_project(store):
    """An active project reached every way: direct members, a group, a service account, keys."""
    keyed = {k.project_id for k in store.api_keys.values()}
    return next(
        p
        for p in sorted(store.projects.values(), key=lambda p: p.name)
        if p.archived_at is None and p.members and p.groups and p.service_accounts
        if p.id in keyed
    )


def outsider(store, project):
    """An organization member who is not a member of `project`."""
    return next(u for uid, u in sorted(store.users.items()) if uid not in project.members)


def add_member(store, project, user_id: str, role: str = "member") -> None:
    project.members[user_id] = ProjectMember(role=role, added_at=int(store.clock()))
