"""Every main page as an Admin of the simulator's organization sees it, synced (directory and
audit log): on a 390 px phone nothing spills sideways (the top bar's menus and Sign out stay on
screen), and axe-core finds nothing serious or critical, in both themes, on a desktop and a phone.
Also: closing the audit event drawer gives the focus back to the row that opened it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import transaction

from orgadmin.access import Role
from orgadmin.models import AuditEvent, Organization, OrgUser, Project
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from orgadmin.views.org_settings import TABS as SETTINGS_TABS
from orgadmin.views.projects import TABS as PROJECT_TABS
from tests.browser.conftest import SERIOUS, SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory


def _project(org) -> str:
    project = (
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .exclude(name="Default project")
        .order_by("name")
        .first()
    )
    return f"/projects/{project.openai_id}/"


def _member(org) -> str:
    return f"/members/{OrgUser.objects.filter(org=org).order_by('email').first().openai_id}/"


def _event(org) -> str:
    event = AuditEvent.objects.filter(org=org).order_by("-effective_at").first()
    return f"/audit-log/?event={event.event_id}"


PAGES = {
    "overview": "/",
    "members": "/members/",
    "invites": "/members/invites/",
    "groups": "/members/groups/",
    "roles": "/members/roles/",
    "member": _member,
    "projects": "/projects/",
    **{
        f"project-{slug}": (
            lambda org, slug=slug: _project(org) + ("" if slug == "members" else f"{slug}/")
        )
        for slug, _label in PROJECT_TABS
    },
    "keys": "/keys/",
    "admin-keys": "/keys/admin/",
    "usage": "/usage/",
    "costs": "/costs/",
    "audit-log": "/audit-log/",
    "audit-event": _event,
    "activity": "/activity/",
    **{
        f"settings-{slug}": "/settings/" if slug == "certificates" else f"/settings/{slug}/"
        for slug, _label in SETTINGS_TABS
    },
    "connections": "/connections/",
}


# The synced rows of the first test, put back as they were for every later one: a sync costs
# seconds, and pages × themes × sizes are over a hundred tests, each on an emptied database.
_SNAPSHOT: dict = {}


def _synced_models():
    for label in ("orgadmin", "dashboard"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model is not Organization:
                yield model


def _restore(org) -> None:
    with transaction.atomic():  # SQLite checks the foreign keys at the commit: any order works
        for model, rows in _SNAPSHOT.items():
            for row in rows:
                for field in model._meta.concrete_fields:
                    target = field.related_model
                    if target is Organization:
                        setattr(row, field.attname, org.pk)
                    elif target is not None and target._meta.app_label == "auth":
                        setattr(row, field.attname, None)
            model.objects.bulk_create(rows)


@pytest.fixture
def synced(org):
    if _SNAPSHOT:
        _restore(org)
        return org
    directory_sync(org=org)
    audit_log_sync(org=org)
    for model in _synced_models():
        _SNAPSHOT[model] = list(model.objects.all())
    return org


def _open(page, login, org, name: str, theme: str, size: str) -> None:
    login(UserFactory(username=f"adm-{name}-{theme}-{size}", role=Role.ADMIN))
    _show(page, org, name, theme, size)


def _show(page, org, name: str, theme: str, size: str) -> None:
    path = PAGES[name]
    page.set_viewport_size(SIZES[size])
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto(path(org) if callable(path) else path)
    settle(page)
    # Charts draw after the page loads; axe looks at them drawn.
    page.wait_for_function("() => !document.querySelector('[data-plotly]:not([data-rendered])')")


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_and_has_no_serious_axe_finding(page, login, synced, name):
    """One sign-in per page, then the page in each theme at each size (a fresh database and a
    sign-in per combination cost more than the page itself); every combination is checked and
    every problem is reported, not only the first."""
    login(UserFactory(username=f"adm-{name}", role=Role.ADMIN))
    problems = []
    for theme in ("light", "dark"):
        for size in SIZES:
            _show(page, synced, name, theme, size)
            screenshot(page, f"every-{name}-{theme}-{size}")
            where = f"{theme}, {size}"
            problems += [f"{where}: script error {e}" for e in page.js_errors]
            page.js_errors.clear()
            if not fits(page, size):
                width = page.evaluate("document.documentElement.scrollWidth")
                problems.append(f"{where}: the page is {width} px wide")
            problems += [f"{where}: {v}" for v in axe_violations(page, impacts=SERIOUS)]
    assert problems == []


def _on_screen(locator, width: int) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_on_a_phone_the_top_bar_fits_with_its_organization_switcher_and_sign_out(
    page, login, synced, theme
):
    OrganizationFactory(name="Globex Research and Development (simulator)")
    _open(page, login, synced, "members", theme, "phone")
    width = SIZES["phone"]["width"]
    assert fits(page, "phone")
    assert _on_screen(page.locator("#org-switcher"), width)
    menu = page.locator(".user-menu summary")
    assert _on_screen(menu, width)
    menu.click()
    assert _on_screen(page.get_by_role("button", name="Sign out"), width)
    screenshot(page, f"every-user-menu-{theme}-phone")


@pytest.mark.parametrize("size", list(SIZES))
def test_a_wide_table_scrolls_in_its_box_with_its_first_column_fixed(page, login, synced, size):
    _open(page, login, synced, "keys", "light", size)
    wrap = page.locator(".table-wrap").first
    if size == "phone":
        assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
        # The box can be reached and scrolled from the keyboard, and says what it holds.
        assert wrap.get_attribute("tabindex") == "0"
        assert wrap.get_attribute("aria-label")
    first = wrap.locator("tbody tr").first.locator("th, td").first
    before = first.bounding_box()["x"]
    wrap.evaluate("e => { e.scrollLeft = 200; }")
    assert first.bounding_box()["x"] == pytest.approx(before, abs=1)
    assert first.evaluate("e => getComputedStyle(e).position") == "sticky"


@pytest.mark.parametrize("size", list(SIZES))
def test_the_audit_filters_fold_away_on_a_phone(page, login, synced, size):
    _open(page, login, synced, "audit-log", "light", size)
    fold = page.locator("#audit-filters-fold")
    toggle = fold.locator(":scope > summary")
    if size == "desktop":
        assert fold.get_attribute("open") is not None
        assert page.locator("#id_q").is_visible()
        return
    assert fold.get_attribute("open") is None
    assert not page.locator("#id_q").is_visible()
    assert toggle.is_visible()
    toggle.click()
    assert page.locator("#id_q").is_visible()
    screenshot(page, "every-audit-filters-open-phone")
    # A filter applied keeps them open, so a second one can follow.
    page.evaluate("document.getElementById('explorer').dataset.old = 'yes'")
    page.locator("#id_project").select_option(index=1)
    page.wait_for_function("() => !document.getElementById('explorer').dataset.old")
    settle(page)
    assert page.locator("#id_q").is_visible()


def test_closing_the_event_drawer_gives_the_focus_back_to_its_row(page, login, synced):
    _open(page, login, synced, "audit-log", "light", "desktop")
    link = page.locator(".audit-table .event-link").nth(2)
    href = link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")
    page.locator("#drawer [data-drawer-close]").wait_for()
    settle(page)
    assert page.evaluate("document.activeElement.id") == "drawer"

    page.locator("#drawer [data-drawer-close]").click()
    assert page.locator("#drawer").inner_html() == ""
    assert page.evaluate("document.activeElement.getAttribute('href')") == href

    # Escape closes it too, and the focus goes back the same way.
    link = page.locator(".audit-table .event-link").nth(4)
    href = link.get_attribute("href")
    link.click()
    page.locator("#drawer [data-drawer-close]").wait_for()
    settle(page)
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.getAttribute('href')") == href


def test_an_event_opened_from_its_address_gives_the_focus_to_its_row_on_close(page, login, synced):
    _open(page, login, synced, "audit-event", "light", "desktop")
    path = _event(synced)
    assert page.locator(f'.audit-table a[href="{path}"]').count() == 1  # the newest event
    page.locator("#drawer [data-drawer-close]").click()
    assert page.evaluate("document.activeElement.getAttribute('href')") == path
