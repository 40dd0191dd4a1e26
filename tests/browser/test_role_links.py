"""Finance meets no link to a forbidden page (issue 16, item 3), in a real browser.

A Finance user goes Overview → Costs (a bar of the chart, the daily totals) → Projects → a project
and each of its tabs, clicking as a person would; on every page each link it offers is asked for
with the browser's own session, and none answers 403. The audit log of a day is not offered, and
member names are plain text.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.views.projects import TABS as PROJECT_TABS
from tests.browser.conftest import screenshot, settle
from tests.conftest import SIM_NOW
from tests.factories import UserFactory

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)

LINKS = """() => [...new Set([...document.querySelectorAll('main a[href], main [hx-get]')]
  .map(a => a.getAttribute('href') || a.getAttribute('hx-get'))
  .filter(u => u && u.startsWith('/') && !u.startsWith('/static/')))]"""


@pytest.fixture
def synced(org, simulator):
    from orgadmin.sync.directory import directory_sync

    directory_sync(org=org)
    usage_sync(org=org, start=NOW - dt.timedelta(days=20))
    return org


def _no_forbidden_link(page) -> int:
    """Every link of the page as it is, asked for with the page's session: none is a 403."""
    assert "Not allowed" not in page.title(), page.url
    links = page.evaluate(LINKS)
    forbidden = [u for u in links if page.request.get(u, max_redirects=0).status == 403]
    assert forbidden == [], f"on {page.url}"
    return len(links)


def test_finance_clicks_through_without_meeting_a_forbidden_page(page, login, synced):
    login(UserFactory(username="fin-links", role=Role.FINANCE))
    page.goto("/")
    checked = _no_forbidden_link(page)

    page.get_by_role("link", name="Costs", exact=True).first.click()
    page.wait_for_url("**/costs/**")
    bar = page.locator("#chart-costs .trace.bars .point path >> visible=true").first
    bar.wait_for()
    checked += _no_forbidden_link(page)
    page.locator("details.daily summary").click()
    assert page.get_by_role("link", name="What changed this day").count() == 0
    assert "Audit log" not in page.inner_text("details.daily")
    # A bar narrows the page at once: no menu offers the audit log of its day.
    bar.click(force=True)
    page.wait_for_selector(".chip")
    settle(page)
    assert page.locator(".drill-menu").count() == 0
    checked += _no_forbidden_link(page)
    screenshot(page, "finance-costs-narrowed")

    page.get_by_role("link", name="Projects", exact=True).first.click()
    page.wait_for_url("**/projects/")
    checked += _no_forbidden_link(page)
    page.locator("table a[href^='/projects/proj_']").first.click()
    page.wait_for_selector(".tab-panel")
    checked += _no_forbidden_link(page)
    names = page.locator(".tab-panel tbody tr td:first-child")
    assert names.count() > 0
    assert page.locator(".tab-panel tbody a[href^='/members/']").count() == 0  # plain text
    screenshot(page, "finance-project-members")
    for _slug, label in PROJECT_TABS[1:]:
        page.locator("nav.tabs").get_by_role("link", name=label).click()
        page.wait_for_selector(f'nav.tabs a[aria-current=page]:has-text("{label}")')
        settle(page)
        checked += _no_forbidden_link(page)
    assert checked > 30  # the walk did meet links
    assert page.js_errors == []
