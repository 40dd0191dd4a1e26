"""What Finance sees when the live API refuses a grouping or one endpoint fails: in a real
browser, in both themes, on a desktop and a 390 px phone, with no axe-core violation."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from orgadmin.simulator.quirks import Quirks
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.dashboard.test_live_api import Recorder
from tests.factories import UserFactory


@pytest.fixture
def strict(org, clock, settings):
    """Costs by key refused, and the images endpoint down for the last run."""
    from orgadmin.sync.directory import directory_sync

    settings.USAGE_SYNC_MAX_RETRIES = 0
    app = create_app(
        scenario="demo",
        seed=0,
        admin_keys=[SIM_ADMIN_KEY],
        now=clock,
        quirks=Quirks.live(strict_costs=True),
    )
    recorder = Recorder(app)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=recorder)):
        directory_sync(org=org)
        recorder.fail.add("/usage/images")
        usage_sync(org=org, start=clock.datetime() - dt.timedelta(days=10))
        yield org


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_costs_page_says_what_the_api_does_not_offer(page, login, strict, theme, size):
    page.set_viewport_size(SIZES[size])
    login(UserFactory(username=f"fin-live-{theme}-{size}", role=Role.FINANCE))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto("/costs/?preset=7d&group_by=api_key_id")
    settle(page)
    screenshot(page, f"live-api-costs-{theme}-{size}")

    note = page.locator(".notice-unavailable")
    assert note.is_visible()
    assert "Cost by API key isn't offered by this organization's API." in note.inner_text()
    banner = page.locator("#usage-freshness")
    assert "Partly synced" in banner.inner_text()
    assert "Images usage" in banner.inner_text()
    # On a phone nothing spills sideways out of the page.
    assert fits(page, size)
    assert axe_violations(page) == []
    assert page.js_errors == []


def test_the_overview_says_why_there_are_no_top_keys(page, login, strict):
    login(UserFactory(username="fin-live-home", role=Role.FINANCE))
    page.goto("/")
    settle(page)

    keys = page.locator(".top-lists").inner_text()
    assert "Cost by API key isn't offered by this organization's API." in keys
    assert "Not synced: Images usage" in page.locator("body").inner_text()
    screenshot(page, "live-api-overview-light-desktop")
    assert axe_violations(page) == []
