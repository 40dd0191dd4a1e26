"""Issue 16, item 14 (FIRST-RUN's smalls), as a person sees them in Chromium: the Remove button
on Connections is on screen at 1440 px; the Projects counts sit beside their labels; every Usage
family tab is visible at every width; an open event drawer leaves Export reachable."""

from __future__ import annotations

import pytest

from orgadmin.access import Role
from orgadmin.models import AuditEvent
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import fits, screenshot, settle
from tests.factories import UserFactory

WIDTHS = {"1440": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def _inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
    )


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.fixture
def admin_page(page, login, org):
    login(UserFactory(username="ada", role=Role.ADMIN))
    return page


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_remove_button_on_connections_is_on_screen_at_1440(admin_page, theme):
    page = admin_page
    page.set_viewport_size(WIDTHS["1440"])
    page.emulate_media(color_scheme=theme)
    page.goto("/connections/")
    remove = page.locator(".table-wrap table").get_by_role("button", name="Remove")
    wrap = page.locator(".table-wrap").first.bounding_box()
    box = remove.first.bounding_box()
    assert _inside(box, wrap), (box, wrap)
    assert page.evaluate("(() => { const w = document.querySelector('.table-wrap');"
                         " return w.scrollWidth <= w.clientWidth + 1; })()")  # fmt: skip
    screenshot(page, f"connections-1440-{theme}")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_projects_counts_sit_beside_their_labels(admin_page, org, size):
    directory_sync(org=org)
    page = admin_page
    page.set_viewport_size(WIDTHS[size])
    page.goto("/projects/")
    for label in page.locator("fieldset.segmented label").all()[:2]:
        count = label.locator("small").bounding_box()
        text = label.bounding_box()
        assert count["height"] > 0
        assert count["y"] >= text["y"] - 1  # not pulled up over the label
        assert count["y"] + count["height"] <= text["y"] + text["height"] + 1
    if size == "phone":
        assert fits(page, "phone")
    screenshot(page, f"projects-counts-{size}")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_usage_family_tab_is_visible(admin_page, size):
    page = admin_page
    page.set_viewport_size(WIDTHS[size])
    page.goto("/usage/")
    tabs = page.locator("nav.tabs[aria-label='Usage family']")
    bar = tabs.bounding_box()
    links = tabs.locator("a").all()
    assert len(links) >= 8
    for link in links:
        box = link.bounding_box()
        assert _inside(box, bar), (link.inner_text(), box, bar)
        assert box["x"] + box["width"] <= WIDTHS[size]["width"]
    screenshot(page, f"usage-tabs-{size}")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_an_open_event_drawer_leaves_export_reachable(admin_page, org, theme):
    audit_log_sync(org=org)
    event = AuditEvent.objects.filter(org=org).order_by("-effective_at").first()
    page = admin_page
    page.set_viewport_size(WIDTHS["1440"])
    page.emulate_media(color_scheme=theme)
    page.goto(f"/audit-log/?event={event.event_id}")
    settle(page)
    drawer = page.locator("#drawer")
    drawer.locator(".drawer-head").wait_for()
    for name in ("Export CSV", "Export JSONL"):
        link = page.get_by_role("button", name=name)
        link.scroll_into_view_if_needed()
        assert not _overlap(link.bounding_box(), drawer.bounding_box()), name
        box = link.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        on_top = page.evaluate(f"document.elementFromPoint({x}, {y}).textContent.trim()")
        assert on_top == name
    user_menu = page.locator(".user-menu summary").bounding_box()
    assert not _overlap(user_menu, drawer.bounding_box())  # the top bar stays reachable too
    page.screenshot(path=str(screenshot(page, f"audit-drawer-export-{theme}")), full_page=False)
