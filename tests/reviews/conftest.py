"""Fixtures for access reviews: the demo organization synced from the simulator, its project
owners as dashboard people, and a campaign over two of its projects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orgadmin.access import Role
from orgadmin.models import Project
from orgadmin.reviews import services
from orgadmin.sync.directory import directory_sync
from tests.factories import UserFactory

HX = {"HX-Request": "true"}


@pytest.fixture
def synced(org, simulator):
    directory_sync(org=org)
    return org


@pytest.fixture
def store(simulator):
    return simulator.store


def project_named(store, name: str):
    return next(p for p in store.projects.values() if p.name == name)


def owner_emails(store, project) -> list[str]:
    return sorted(store.users[u].email for u, m in project.members.items() if m.role == "owner")


def dashboard_person(org, email: str, role: Role = Role.FINANCE):
    """Someone who signs in here with `role` on `org`, by this email."""
    return UserFactory(username=email.split("@")[0], email=email, roles_on={org: role})


@pytest.fixture
def reviewers(synced, store):
    """Dashboard people for the owners of Analytics Copilot and of Voice Agent: the first owner
    of each (Finance on this connection)."""
    people = {}
    for name in ("Analytics Copilot", "Voice Agent"):
        project = project_named(store, name)
        people[name] = dashboard_person(synced, owner_emails(store, project)[0])
    return people


def start(org, admin, store, names=("Analytics Copilot", "Voice Agent"), **kwargs):
    ids = [project_named(store, n).id for n in names]
    options = {"by_owner": True, "auto_revoke": False, **kwargs}
    return services.campaign_start(
        org=org,
        actor=admin,
        name="Q4 2026 access review",
        due_on=timezone.localdate() + dt.timedelta(days=14),
        project_ids=ids,
        **options,
    )


def cache_project(org, store, name: str) -> Project:
    return Project.objects.get(org=org, openai_id=project_named(store, name).id)
