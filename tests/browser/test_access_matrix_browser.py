"""The access page and its "What changed" view in Chromium, on the demo organization synced
twice (someone added in between) with its audit log: both themes, a desktop and a 390 px phone,
axe-core clean; the filters narrow the table through htmx."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from orgadmin.access import Role
from orgadmin.access_matrix.history import access_history_record
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.access_matrix.conftest import add_member, outsider, rich_project
from tests.browser.conftest import every_look, settle
from tests.factories import UserFactory


def _history(org, store):
    directory_sync(org=org)
    access_history_record(org=org, at=timezone.now() - dt.timedelta(days=10))
    project = rich_project(store)
    newcomer = outsider(store, project)
    promoted = next(uid for uid, m in sorted(project.members.items()) if m.role == "member")
    project.members[promoted].role = "owner"
    add_member(store, project, newcomer.id)
    directory_sync(org=org)
    access_history_record(org=org)
    audit_log_sync(org=org, since=timezone.now() - dt.timedelta(days=60))
    return project, newcomer


def test_the_access_pages_read_well_in_both_themes_and_on_a_phone(page, login, org, simulator):
    project, newcomer = _history(org, simulator.store)
    login(UserFactory(username="ada-auditor", role=Role.AUDITOR))
    problems = every_look(
        page, "/access/", "i22-access", ("Who has access", "organization owner", "Export CSV")
    )
    problems += every_look(
        page,
        f"/access/?project={project.id}",
        "i22-access-project",
        (project.name, "Group", "Service account", "Owned by"),
    )
    problems += every_look(
        page,
        "/access/changes/",
        "i22-access-changes",
        ("Started", "Role changed", newcomer.name, "Access events in the audit log"),
    )
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []


def test_the_filters_narrow_the_table(page, login, org, simulator):
    directory_sync(org=org)
    login(UserFactory(username="ada-auditor", role=Role.AUDITOR))
    page.goto("/access/")
    page.select_option("#access-kind", "service_account")
    page.wait_for_function("() => location.search.includes('kind=service_account')")
    settle(page)
    kinds = page.locator("#access-table tbody td:nth-child(3)").all_inner_texts()
    assert kinds
    assert set(kinds) == {"Service account"}


def test_the_grid_reads_well_and_scrolls_in_its_own_box(page, login, org, simulator):
    project, newcomer = _history(org, simulator.store)
    login(UserFactory(username="ada-auditor", role=Role.AUDITOR))
    problems = every_look(
        page, "/access/grid/", "i22-access-grid", ("Matrix", "Org owner", "Group", newcomer.name)
    )
    problems += every_look(
        page, f"/access/grid/?project={project.id}", "i22-access-grid-project", (project.name,)
    )
    assert problems == [], "\n".join(problems)
    # On a phone the grid is wider than its box and scrolls there; its header stays on top.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/access/grid/")
    settle(page)
    box = page.locator(".access-grid-wrap")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    header = page.locator("#access-grid thead th").nth(1)
    top = header.bounding_box()["y"]
    box.evaluate("b => { b.scrollTop = 300; b.scrollLeft = 200; }")
    assert header.bounding_box()["y"] == top
    first = page.locator("#access-grid tbody th").first
    assert first.bounding_box()["x"] >= box.bounding_box()["x"]
    assert page.js_errors == []
