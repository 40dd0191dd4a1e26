"""Pages the security review changed, as a person sees them: the Simulator badge beside the
organization's name and the sign-in page's site-wide limit, in both themes, on a desktop and a
390 px phone, with no axe-core violation and nothing spilling sideways."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from orgadmin.access import Role
from tests.browser.conftest import screenshot, settle
from tests.factories import UserFactory

SIZES = {"desktop": {"width": 1366, "height": 860}, "phone": {"width": 390, "height": 844}}


def _violations(page) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]]


def _fits(page, size: str) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"] + 1


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_simulator_connection_wears_its_badge_on_every_page(page, login, org, theme, size):
    page.set_viewport_size(SIZES[size])
    login(UserFactory(username=f"adm-badge-{theme}-{size}", role=Role.ADMIN))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto("/connections/")
    settle(page)
    screenshot(page, f"security-connections-{theme}-{size}")

    assert page.locator(".topbar").get_by_text("Simulator").first.is_visible()
    assert "Simulator" in page.locator("main").inner_text()
    assert _fits(page, size)
    assert _violations(page) == []


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_sign_in_limit_says_what_happened_and_what_to_do(page, db, settings, theme, size):
    settings.SIGN_IN_ATTEMPTS_PER_MINUTE = 1
    page.set_viewport_size(SIZES[size])
    page.goto("/accounts/login/")
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    for _ in range(2):
        page.goto("/accounts/login/")
        page.fill("#id_username", "someone")
        page.fill("#id_password", "not-the-password")
        page.click("button[type=submit]")
    screenshot(page, f"security-sign-in-limit-{theme}-{size}")

    assert "Too many sign-in attempts" in page.locator("h1").inner_text()
    assert "Wait a minute, then try again." in page.locator("[role=alert]").inner_text()
    assert _fits(page, size)
    assert _violations(page) == []
