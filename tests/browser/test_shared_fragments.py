"""The fragments every page now shares, as a person sees them: the one sync banner (usage,
audit log, directory) with its "Sync now" button, and the one confirm and rename forms. In both
themes, on a desktop and a 390 px phone, with axe-core, and nothing spilling sideways."""

from __future__ import annotations

import pytest

from orgadmin.access import Role
from orgadmin.models import OrgGroup, Project
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import UserFactory


def _group(org) -> OrgGroup:
    return OrgGroup.objects.filter(org=org).order_by("name").first()


def _project(org) -> Project:
    return (
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .exclude(name="Default project")
        .order_by("name")
        .first()
    )


# (page, what must be on it): the banner's words, or the shared form's button.
PAGES = {
    "costs": ("/costs/", "Sync now"),
    "audit-log": ("/audit-log/", "Sync now"),
    "overview": ("/", "Sync now"),
    "members": ("/members/", "Synced from OpenAI"),
    "groups": ("/members/groups/", "Delete"),
    "roles": ("/members/roles/", "Delete"),
    "group": (lambda org: f"/members/groups/{_group(org).openai_id}/", "Rename"),
    "project": (lambda org: f"/projects/{_project(org).openai_id}/", "Rename"),
    "invites": ("/members/invites/", "Revoke"),
    "keys": ("/keys/", "Delete"),
    "spend": ("/settings/spend/", "Delete"),
}


@pytest.fixture
def synced(org):
    directory_sync(org=org)
    audit_log_sync(org=org)
    return org


@pytest.mark.parametrize("name", list(PAGES))
def test_shared_fragments_read_well(page, login, synced, name):
    """One sync and one sign-in per page, then the page in each theme at each size; every
    combination is checked and every problem reported."""
    path, expected = PAGES[name]
    path = path(synced) if callable(path) else path
    login(UserFactory(username=f"adm-{name}", role=Role.ADMIN))
    problems = []
    for theme in ("light", "dark"):
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto(path)
            settle(page)
            screenshot(page, f"shared-{name}-{theme}-{size}")
            where = f"{theme}, {size}"
            if expected not in page.locator("main").inner_text():
                problems.append(f"{where}: no {expected!r} on the page")
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == []
