"""Issue 16's acceptance: who really acted, for a change made through the dashboard, and the
auditor's landing page, in a real browser."""

from __future__ import annotations

import time

import httpx
import pytest

from orgadmin.access import Role
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import SERIOUS, SIZES, axe_violations, fits, screenshot, settle
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, install_transport
from tests.factories import UserFactory
from tests.orgadmin.conftest import active_project


@pytest.fixture
def simulator():
    """The demo simulator on the wall clock, as our action log is: OpenAI's event and our line
    of the same change are a moment apart, as in production."""
    from orgadmin.simulator import create_app

    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=time.time)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


def _owner(simulator) -> str:
    store = simulator.store
    key = next(k for k in store.admin_keys.values() if k.owner_user_id in store.users)
    return store.users[key.owner_user_id].name


def _wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize(("theme", "size"), [("light", "desktop"), ("dark", "phone")])
def test_who_really_acted_for_a_change_made_through_the_dashboard(
    page, login, org, simulator, theme, size
):
    directory_sync(org=org)
    project = active_project(simulator.store)
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=theme)
    login(
        UserFactory(username=f"ana-{theme}", first_name="Ana", last_name="Silva", role=Role.ADMIN)
    )
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")

    # An Admin renames a project in the browser: OpenAI records the admin key's owner.
    page.goto(f"/projects/{project.id}/")
    page.fill("#project-name", f"Renamed by Ana ({theme})")
    page.get_by_role("button", name="Rename").click()
    settle(page)
    _wait_for(lambda: simulator.store.projects[project.id].name.startswith("Renamed by Ana"))
    time.sleep(1.05)  # a sync reads the events before its own second
    audit_log_sync(org=org)

    label = f"Ana Silva via this dashboard (admin key of {_owner(simulator)})"
    page.goto("/audit-log/")
    row = page.locator("tr", has=page.locator(".via-dashboard")).first
    assert row.locator(".via-dashboard").inner_text() == label
    row.locator("a.event-link").click()
    page.locator("#event-via").wait_for()
    settle(page)
    assert page.locator("#event-via").inner_text() == label
    screenshot(page, f"who-acted-audit-log-{theme}-{size}")
    assert axe_violations(page, within="#drawer", impacts=SERIOUS) == []

    # Activity links the action back to its audit event.
    page.goto("/activity/")
    screenshot(page, f"who-acted-activity-{theme}-{size}")
    page.locator("a.audit-event-link").first.click()
    page.wait_for_url(lambda url: "event=" in url)
    page.locator("#event-via").wait_for()
    assert page.locator("#event-via").inner_text() == label
    assert "project.updated" in page.locator("#drawer").inner_text()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_auditors_landing_is_a_security_summary(page, login, org, simulator, theme, size):
    audit_log_sync(org=org)
    page.set_viewport_size(SIZES[size])
    page.emulate_media(color_scheme=theme)
    login(UserFactory(username=f"aud-{theme}-{size}", role=Role.AUDITOR))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto("/")
    settle(page)
    screenshot(page, f"auditor-overview-{theme}-{size}")

    summary = page.locator(".security-summary")
    for heading in ("API key changes", "Sign-in failures", "Admin-key activity"):
        assert heading.lower() in summary.inner_text().lower()
    assert fits(page, size)
    assert axe_violations(page, within=".security-summary", impacts=SERIOUS) == []

    # A count opens the audit log filtered to what it counts.
    card = page.locator("#security-keys")
    shown = int(card.locator(".security-counts a").nth(1).inner_text().split()[0].replace(",", ""))
    card.locator(".security-counts a").nth(1).click()
    page.wait_for_url(lambda url: "type=api_key.*" in url.replace("%2A", "*"))
    settle(page)
    assert f"of {shown:,}" in page.locator("main").inner_text() or shown == 0
