"""Fixtures for the directory pages: an organization synced from the simulator."""

from __future__ import annotations

import json

import pytest

from orgadmin.models import ActionLog
from orgadmin.sync.directory import directory_sync

HX = {"HX-Request": "true"}


@pytest.fixture
def synced(org, simulator):
    """The demo organization, its directory cache filled by one full sync."""
    directory_sync(org=org)
    return org


@pytest.fixture
def store(simulator):
    return simulator.store


@pytest.fixture
def as_admin(client_as, admin):
    return client_as(admin)


def changed(response) -> bool:
    """Whether an htmx answer tells the page that the directory changed (so lists reload)."""
    return "directoryChanged" in json.loads(response.get("HX-Trigger") or "{}")


def logged(action: str) -> ActionLog:
    """The newest action-log line, checked to be `action`, successful, with a request id."""
    line = ActionLog.objects.first()
    assert line is not None, "nothing was logged"
    assert (line.action, line.outcome) == (action, "ok"), (line.action, line.outcome, line.error)
    assert line.request_id, "the API's request id was not kept"
    return line


def active_project(store, *, with_members: bool = True):
    """A real (not default, not archived) project of the scenario."""
    return next(
        p
        for p in sorted(store.projects.values(), key=lambda p: p.id)
        if p.archived_at is None and not p.is_default and (p.members or not with_members)
    )
